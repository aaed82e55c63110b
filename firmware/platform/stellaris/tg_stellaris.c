/*
 * TI Stellaris LM3S (Cortex-M3): UART0 (a PL011-style UART) on PA0/PA1 as
 * the console and the common SysTick timestamp. Offsets from the LM3S6965
 * datasheet (System Control, GPIO and UART chapters).
 *
 * The console is polled: with its FIFOs off the UART holds one received
 * byte, and QEMU's model takes no more from the host while it is full, so
 * nothing is lost and no interrupt runs inside a timed window.
 */
#include <stdint.h>

#include "tg_board.h"
#include "tg_cortexm.h"
#include "tg_platform.h"
#include "tg_polled_console.h"

#define SYSCTL_RCGC1 TG_REG32(0x400FE104u)
#define SYSCTL_RCGC2 TG_REG32(0x400FE108u)
#define GPIOA_AFSEL TG_REG32(0x40004420u)
#define GPIOA_DEN TG_REG32(0x4000451Cu)

#define UART_DR TG_REG32(TG_CONSOLE_BASE + 0x000u)
#define UART_FR TG_REG32(TG_CONSOLE_BASE + 0x018u)
#define UART_IBRD TG_REG32(TG_CONSOLE_BASE + 0x024u)
#define UART_FBRD TG_REG32(TG_CONSOLE_BASE + 0x028u)
#define UART_LCRH TG_REG32(TG_CONSOLE_BASE + 0x02Cu)
#define UART_CTL TG_REG32(TG_CONSOLE_BASE + 0x030u)
#define UART_FR_RXFE (1u << 4)
#define UART_FR_TXFF (1u << 5)
#define UART_LCRH_WLEN8 (0x3u << 5)
#define UART_CTL_UARTEN (1u << 0)
#define UART_CTL_TXE (1u << 8)
#define UART_CTL_RXE (1u << 9)

void tg_family_init(void)
{
    tg_systick_start(TG_BOARD_CLOCK_HZ);
    /* Clocks for UART0 and GPIO port A; PA0/PA1 to the UART. */
    SYSCTL_RCGC1 |= 1u << 0;
    SYSCTL_RCGC2 |= 1u << 0;
    (void)SYSCTL_RCGC2;
    GPIOA_AFSEL |= 0x3u;
    GPIOA_DEN |= 0x3u;
    /* Divisor = clock / (16 * baud): integer part and 1/64ths. */
    uint32_t div64 = (uint32_t)(((uint64_t)TG_BOARD_CLOCK_HZ * 4u + TG_CONSOLE_BAUD / 2u) /
                                TG_CONSOLE_BAUD);
    UART_CTL = 0u;
    UART_IBRD = div64 / 64u;
    UART_FBRD = div64 % 64u;
    UART_LCRH = UART_LCRH_WLEN8;
    UART_CTL = UART_CTL_UARTEN | UART_CTL_TXE | UART_CTL_RXE;
    tg_emulated_clock_check();
}

void tg_polled_putc(uint8_t c)
{
    while (UART_FR & UART_FR_TXFF) {
    }
    UART_DR = c;
}

int tg_polled_getc(void)
{
    if (UART_FR & UART_FR_RXFE) {
        return -1;
    }
    return (int)(UART_DR & 0xFFu);
}

/* No energy timestamp pin: energy mode is for boards that have one. */
void tg_energy_timestamp(void)
{
}
