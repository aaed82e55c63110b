/* The stand-in vendor SDK's UART driver (polled). */
#include "acme_uart.h"

void acme_uart_init(acme_uart_t *uart, uint32_t clock_hz, uint32_t baud)
{
    uint32_t div = clock_hz / baud;
    uart->bauddiv = div < 16u ? 16u : div;
    uart->ctrl = 0x3u;
}

void acme_uart_putc(acme_uart_t *uart, uint8_t byte)
{
    while (uart->state & 0x1u) {
    }
    uart->data = byte;
}

int acme_uart_getc(acme_uart_t *uart)
{
    if (!(uart->state & 0x2u)) {
        return -1;
    }
    return (int)(uart->data & 0xFFu);
}
