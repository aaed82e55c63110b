/*
 * The polled console of the families whose emulated UART holds received
 * bytes in the host socket while its own register or FIFO is full (mps2,
 * stellaris, nrf51): nothing is lost without a receive interrupt, and no
 * interrupt runs inside a timed window. tg_polled_console.c implements
 * tg_platform.h's console, init and wait functions for them; the family
 * provides tg_family_init (tg_cortexm.h) and these two.
 */
#ifndef TG_POLLED_CONSOLE_H
#define TG_POLLED_CONSOLE_H

#include <stdint.h>

/* Sends c, waiting while the UART cannot take it. */
void tg_polled_putc(uint8_t c);

/* The next received byte, or -1 when none waits. */
int tg_polled_getc(void);

#endif
