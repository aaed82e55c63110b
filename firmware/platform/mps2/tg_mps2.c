/*
 * Arm MPS2/MPS3 under QEMU (mps2-an386 M4, mps2-an500 M7, mps2-an505 M33,
 * mps3-an547 M55): CMSDK APB UART console and the common SysTick timestamp.
 * The machines differ only in facts from the board file: UART base (AN505
 * and AN547 at their secure aliases: the guest boots Secure) and memory.
 *
 * The console is polled, not interrupt driven, on purpose: QEMU's CMSDK
 * UART refuses new input while its one-byte receive register is full, so
 * bytes wait in the host socket and none is lost without a ring buffer;
 * and with no receive interrupt, nothing runs inside a timed inference
 * window, which keeps -icount instruction counts exact and repeatable.
 * (Real MPS2 FPGA boards would need the receive interrupt; tinygen only
 * targets the emulated one.)
 */
#include <stdint.h>

#include "tg_board.h"
#include "tg_cortexm.h"
#include "tg_platform.h"
#include "tg_polled_console.h"

#define UART_DATA TG_REG32(TG_CONSOLE_BASE + 0x00u)
#define UART_STATE TG_REG32(TG_CONSOLE_BASE + 0x04u)
#define UART_CTRL TG_REG32(TG_CONSOLE_BASE + 0x08u)
#define UART_BAUDDIV TG_REG32(TG_CONSOLE_BASE + 0x10u)
#define UART_STATE_TX_FULL (1u << 0)
#define UART_STATE_RX_FULL (1u << 1)
#define UART_CTRL_TX_EN (1u << 0)
#define UART_CTRL_RX_EN (1u << 1)

void tg_family_init(void)
{
    tg_systick_start(TG_BOARD_CLOCK_HZ);
    /* The divisor must be >= 16; QEMU ignores the rate itself. */
    uint32_t div = TG_BOARD_CLOCK_HZ / TG_CONSOLE_BAUD;
    UART_BAUDDIV = div < 16u ? 16u : div;
    UART_CTRL = UART_CTRL_TX_EN | UART_CTRL_RX_EN;
    /* The machine's clock is fixed: say so if the board file disagrees. */
    tg_emulated_clock_check();
}

void tg_polled_putc(uint8_t c)
{
    while (UART_STATE & UART_STATE_TX_FULL) {
    }
    UART_DATA = c;
}

int tg_polled_getc(void)
{
    if (!(UART_STATE & UART_STATE_RX_FULL)) {
        return -1;
    }
    return (int)(UART_DATA & 0xFFu);
}

/* MPS2 has no energy timestamp pin: energy mode is for real boards. */
void tg_energy_timestamp(void)
{
}
