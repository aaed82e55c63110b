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
#include "tg_platform.h"

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

#define GPIO_OUTSET TG_REG32(0x50000508u)
#define GPIO_OUTCLR TG_REG32(0x5000050Cu)
#define GPIO_PIN_CNF(n) TG_REG32(0x50000700u + 4u * (uint32_t)(n))
#define GPIO_CNF_OUTPUT 1u

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
    GPIO_OUTSET = 1u << TG_CONSOLE_TX_PIN;
    GPIO_PIN_CNF(TG_CONSOLE_TX_PIN) = GPIO_CNF_OUTPUT;
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
    GPIO_OUTSET = 1u << TG_ENERGY_GPIO_PIN;
    GPIO_PIN_CNF(TG_ENERGY_GPIO_PIN) = GPIO_CNF_OUTPUT;
#endif
    tg_emulated_clock_check();
}

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
        UART_TXD = (uint8_t)s[i];
        while (UART_TXDRDY == 0u) {
        }
        UART_TXDRDY = 0u;
    }
}

int tg_console_getchar(void)
{
    if (UART_RXDRDY == 0u) {
        return -1;
    }
    UART_RXDRDY = 0u;
    return (int)(UART_RXD & 0xFFu);
}

/* The energy timestamp: the pin low for about 1 us, then high again. */
void tg_energy_timestamp(void)
{
#if TG_HAS_ENERGY_GPIO
    GPIO_OUTCLR = 1u << TG_ENERGY_GPIO_PIN;
    tg_delay_us(1u);
    GPIO_OUTSET = 1u << TG_ENERGY_GPIO_PIN;
#endif
}

/* Sleeps until the next SysTick (1 ms); input is polled after it. */
void tg_platform_wait(void)
{
    tg_wfi();
}
