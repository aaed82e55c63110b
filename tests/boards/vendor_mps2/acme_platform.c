/*
 * tinygen's platform contract (tg_platform.h) for the emulated Arm MPS2
 * boards, written the way a vendor would: on top of their own SDK's UART
 * driver (acme_uart.c), with tinygen's common startup and SysTick.
 */
#include "acme_uart.h"
#include "tg_board.h"
#include "tg_cortexm.h"
#include "tg_platform.h"

void tg_family_init(void)
{
    tg_systick_start(TG_BOARD_CLOCK_HZ);
    acme_uart_init(ACME_UART0, TG_BOARD_CLOCK_HZ, TG_CONSOLE_BAUD);
}

void tg_family_irq(unsigned irq)
{
    (void)irq; /* polled console: no interrupts */
}

void tg_platform_init(void)
{
    tg_family_init();
    tg_emulated_clock_check();
}

void tg_console_write(const char *s, size_t n)
{
    for (size_t i = 0; i < n; ++i) {
        acme_uart_putc(ACME_UART0, (uint8_t)s[i]);
    }
}

int tg_console_getchar(void)
{
    return acme_uart_getc(ACME_UART0);
}

void tg_energy_timestamp(void)
{
}

void tg_platform_wait(void)
{
    tg_wfi();
}
