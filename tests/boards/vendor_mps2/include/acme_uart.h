/*
 * A stand-in for a vendor SDK header: the register map of the Arm CMSDK
 * APB UART, as a vendor would publish it (written for this test from the
 * CMSDK technical reference facts; not copied from any SDK).
 */
#ifndef ACME_UART_H
#define ACME_UART_H

#include <stdint.h>

typedef struct {
    volatile uint32_t data;     /* 0x00 */
    volatile uint32_t state;    /* 0x04: bit 0 TX full, bit 1 RX full */
    volatile uint32_t ctrl;     /* 0x08: bit 0 TX enable, bit 1 RX enable */
    volatile uint32_t intstatus;
    volatile uint32_t bauddiv;  /* 0x10: >= 16 */
} acme_uart_t;

#ifndef ACME_UART0_BASE
#error "the board file's platform.defines set ACME_UART0_BASE"
#endif
#define ACME_UART0 ((acme_uart_t *)(uintptr_t)(ACME_UART0_BASE))

void acme_uart_init(acme_uart_t *uart, uint32_t clock_hz, uint32_t baud);
void acme_uart_putc(acme_uart_t *uart, uint8_t byte);
int acme_uart_getc(acme_uart_t *uart);

#endif
