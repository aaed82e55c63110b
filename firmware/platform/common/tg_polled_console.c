/*
 * tg_platform.h for the families with a polled console (see
 * tg_polled_console.h). Compiled with common/ for every MCU board, empty
 * unless the board is one of those families.
 */
#include "tg_board.h"

#if defined(TG_BOARD_FAMILY_MPS2) || defined(TG_BOARD_FAMILY_STELLARIS) || \
    defined(TG_BOARD_FAMILY_NRF51)

#include <stddef.h>
#include <stdint.h>

#include "tg_cortexm.h"
#include "tg_platform.h"
#include "tg_polled_console.h"

/* No interrupt is enabled besides SysTick. */
void tg_family_irq(unsigned irq)
{
    (void)irq;
}

void tg_platform_init(void)
{
    tg_family_init();
}

void tg_console_write(const char *s, size_t n)
{
    for (size_t i = 0; i < n; ++i) {
        tg_polled_putc((uint8_t)s[i]);
    }
}

int tg_console_getchar(void)
{
    return tg_polled_getc();
}

/* Sleeps until the next SysTick (1 ms); input is polled after it. */
void tg_platform_wait(void)
{
    tg_wfi();
}

#endif
