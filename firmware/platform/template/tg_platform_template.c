/*
 * Template: a vendor's own platform code for tinygen (family: external).
 *
 * Copy this file next to your board YAML, fill in the five marked places
 * with calls into your HAL or SDK, and name it in the board file:
 *
 *   family: external
 *   console: {driver: external, instance: <your UART>, baud: {...}}
 *   platform:
 *     sources: [my_platform.c, sdk/drivers/uart.c]   # relative to the YAML
 *     include_dirs: [sdk/include]
 *     defines: [MY_SDK_PART=1234]
 *     linker_script: my_part.ld    # optional: else tinygen generates one
 *     common: true                 # tinygen's reset handler, vectors, SysTick
 *
 * The contract (tg_platform.h) the harness relies on:
 *   tg_platform_init()     once, first: clocks, console, timestamp, energy pin.
 *   tg_console_write(s,n)  blocking; returns when every byte is with the UART.
 *   tg_console_getchar()   non-blocking; a byte 0..255 or -1. Bytes that
 *                          arrive while a command runs must wait in a queue
 *                          (receive interrupt into a ring) or in the UART.
 *   tg_timestamp_us()      monotonic 64-bit microseconds since init.
 *   tg_energy_timestamp()  energy mode: falling edge on the timestamp pin,
 *                          low >= 1 us, then high again.
 *   tg_platform_wait()     nothing to do until the next interrupt (WFI).
 *
 * With common: true (the default) tinygen also compiles
 * firmware/platform/common/: the reset handler and vector table
 * (tg_startup.c), the SysTick timestamp (tg_systick.c: it defines
 * tg_timestamp_us and tg_delay_us; start it with tg_systick_start(hz)),
 * and the boot clock check for emulated boards. Then you also provide
 * tg_family_irq(irq), which the common vector table calls for every
 * external interrupt (irq 0 = the first after SysTick). With common: false
 * bring your own startup, vectors and tg_timestamp_us, and a linker script
 * that keeps the sections .tg_arena and .tg_buffer (zeroed at reset) and
 * places .data/.bss.
 *
 * tg_board.h (generated) gives the board file's facts: TG_BOARD_CLOCK_HZ,
 * TG_CONSOLE_BAUD (for the build's mode), TG_ENERGY_MODE, TG_HAS_ENERGY_GPIO,
 * TG_EMULATED_ONLY.
 *
 * This template compiles as is (tests/boards build it) and does nothing:
 * a firmware built from it unchanged stays silent.
 */
#include <stddef.h>
#include <stdint.h>

#include "tg_board.h"
#include "tg_cortexm.h"
#include "tg_platform.h"

void tg_family_init(void)
{
    /* 1. Clocks: bring the core to TG_BOARD_CLOCK_HZ (your SDK's clock setup). */
    tg_systick_start(TG_BOARD_CLOCK_HZ);
    /* 2. Console at TG_CONSOLE_BAUD, with its receive interrupt enabled. */
    /* 3. Energy pin: output, idle high (if TG_HAS_ENERGY_GPIO). */
}

void tg_family_irq(unsigned irq)
{
    /* 4. Your console's receive interrupt: move bytes into a ring buffer. */
    (void)irq;
}

void tg_platform_init(void)
{
    tg_family_init();
    tg_emulated_clock_check();
}

void tg_console_write(const char *s, size_t n)
{
    /* 5. Blocking transmit of n bytes. */
    (void)s;
    (void)n;
}

int tg_console_getchar(void)
{
    /* The next byte from the receive ring, or -1. */
    return -1;
}

void tg_energy_timestamp(void)
{
    /* Energy pin low for >= 1 us (tg_delay_us(1)), then high. */
}

void tg_platform_wait(void)
{
    tg_wfi();
}
