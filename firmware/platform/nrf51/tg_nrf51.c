/*
 * Nordic nRF51 (Cortex-M0): the legacy UART peripheral as the console and
 * the common SysTick timestamp. Register offsets from the nRF51 Series
 * Reference Manual (UART chapter, GPIO chapter).
 *
 * The console is polled: the UART keeps a small receive FIFO, and QEMU's
 * model takes no more bytes from the host while it is full, so nothing is
 * lost without an interrupt; and no interrupt runs inside a timed window.
 * Reading: clear EVENTS_RXDRDY first, then read RXD (the model raises the
 * event again when more bytes wait). Writing: one byte in TXD, then wait
 * for EVENTS_TXDRDY.
 */
#include <stdint.h>

#include "tg_board.h"
#include "tg_cortexm.h"
#include "tg_nrf_gpio.h"
#include "tg_platform.h"
#include "tg_polled_console.h"

#define UART_STARTRX TG_REG32(TG_CONSOLE_BASE + 0x000u)
#define UART_STARTTX TG_REG32(TG_CONSOLE_BASE + 0x008u)
#define UART_RXDRDY TG_REG32(TG_CONSOLE_BASE + 0x108u)
#define UART_TXDRDY TG_REG32(TG_CONSOLE_BASE + 0x11Cu)
#define UART_ENABLE TG_REG32(TG_CONSOLE_BASE + 0x500u)
#define UART_PSELTXD TG_REG32(TG_CONSOLE_BASE + 0x50Cu)
#define UART_PSELRXD TG_REG32(TG_CONSOLE_BASE + 0x514u)
#define UART_RXD TG_REG32(TG_CONSOLE_BASE + 0x518u)
#define UART_TXD TG_REG32(TG_CONSOLE_BASE + 0x51Cu)
#define UART_BAUDRATE TG_REG32(TG_CONSOLE_BASE + 0x524u)
#define UART_ENABLE_ON 4u

/* BAUDRATE register values for the rates tinygen uses (reference manual
 * table; other rates fall back to 115200). */
static uint32_t tg_nrf_baud(uint32_t baud)
{
    switch (baud) {
    case 9600u:
        return 0x00275000u;
    case 19200u:
        return 0x004EA000u;
    case 38400u:
        return 0x009D5000u;
    case 57600u:
        return 0x00EBF000u;
    default:
        return 0x01D7E000u;
    }
}

void tg_family_init(void)
{
    tg_systick_start(TG_BOARD_CLOCK_HZ);
#if defined(TG_CONSOLE_TX_PIN)
    tg_nrf_gpio_output_high(TG_CONSOLE_TX_PORT, TG_CONSOLE_TX_PIN);
    UART_PSELTXD = TG_CONSOLE_TX_PIN;
#endif
#if defined(TG_CONSOLE_RX_PIN)
    UART_PSELRXD = TG_CONSOLE_RX_PIN;
#endif
    UART_BAUDRATE = tg_nrf_baud(TG_CONSOLE_BAUD);
    UART_ENABLE = UART_ENABLE_ON;
    UART_STARTTX = 1u;
    UART_STARTRX = 1u;
#if TG_HAS_ENERGY_GPIO
    tg_nrf_gpio_output_high(TG_ENERGY_GPIO_PORT, TG_ENERGY_GPIO_PIN);
#endif
    tg_emulated_clock_check();
}

void tg_polled_putc(uint8_t c)
{
    UART_TXD = c;
    while (UART_TXDRDY == 0u) {
    }
    UART_TXDRDY = 0u;
}

int tg_polled_getc(void)
{
    if (UART_RXDRDY == 0u) {
        return -1;
    }
    UART_RXDRDY = 0u;
    return (int)(UART_RXD & 0xFFu);
}
