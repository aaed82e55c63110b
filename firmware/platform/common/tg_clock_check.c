/*
 * Boot-time clock check for boards that only ever run under QEMU.
 *
 * Under -icount shift=S every instruction advances virtual time by 2^S ns,
 * and SysTick counts the machine's own CPU clock in that virtual time. The
 * firmware computes microseconds from the board file's clock_hz, so if the
 * board file and the machine disagree every timestamp is off by their
 * ratio, silently. This runs a loop of a known number of instructions,
 * compares the timestamps with the instruction count and, when they differ
 * by more than 1 %, prints one line the host turns into an error naming
 * the board file's clock_hz:
 *
 *   e-[tinygen clock check: clock_hz 25000000, machine 20000000]
 *
 * On boards that also run on real hardware (TG_EMULATED_ONLY 0) it does
 * nothing: there an instruction takes a data-dependent number of cycles.
 */
#include <stdint.h>

#include "tg_board.h"
#include "tg_cortexm.h"
#include "tg_platform.h"

#if TG_EMULATED_ONLY

/* 2 instructions per iteration (subs, bne); 1e6 iterations = 2 ms of
 * virtual time at shift 0: a few SysTick interrupts, negligible. */
#define TG_CHECK_ITERATIONS 1000000u
#define TG_CHECK_INSTRUCTIONS (2u * TG_CHECK_ITERATIONS)

static void tg_spin_exact(uint32_t iterations)
{
    /* Armv6-M inline asm is in GCC's divided syntax, where the flag-setting
     * Thumb-1 subtract is written "sub". */
    __asm__ volatile(
        "1:\n\t"
#if defined(__ARM_ARCH_6M__)
        "sub %0, #1\n\t"
#else
        "subs %0, %0, #1\n\t"
#endif
        "bne 1b\n"
        : "+r"(iterations)
        :
        : "cc");
}

static size_t tg_put_u32(char *out, uint32_t v)
{
    char digits[10];
    size_t n = 0;
    do {
        digits[n++] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0u);
    for (size_t i = 0; i < n; ++i) {
        out[i] = digits[n - 1u - i];
    }
    return n;
}

static size_t tg_put_str(char *out, const char *s)
{
    size_t n = 0;
    while (s[n] != '\0') {
        out[n] = s[n];
        ++n;
    }
    return n;
}

void tg_emulated_clock_check(void)
{
    uint64_t start = tg_timestamp_us();
    tg_spin_exact(TG_CHECK_ITERATIONS);
    uint64_t measured_us = tg_timestamp_us() - start;
    /* Virtual time the loop took, in ns; the timestamps saw measured_us. */
    uint64_t virtual_ns = (uint64_t)TG_CHECK_INSTRUCTIONS * TG_EMULATOR_NS_PER_INSN;
    /* The machine's SysTick rate, rounded to 10 kHz. */
    uint64_t machine_hz = measured_us * 1000u * (uint64_t)TG_BOARD_CLOCK_HZ / virtual_ns;
    machine_hz = (machine_hz + 5000u) / 10000u * 10000u;
    uint64_t board_hz = TG_BOARD_CLOCK_HZ;
    uint64_t diff = machine_hz > board_hz ? machine_hz - board_hz : board_hz - machine_hz;
    if (diff * 100u <= board_hz) {
        return;
    }
    char line[80];
    size_t n = tg_put_str(line, "e-[tinygen clock check: clock_hz ");
    n += tg_put_u32(line + n, (uint32_t)board_hz);
    n += tg_put_str(line + n, ", machine ");
    n += tg_put_u32(line + n, (uint32_t)machine_hz);
    n += tg_put_str(line + n, "]\r\n");
    tg_console_write(line, n);
}

#else

void tg_emulated_clock_check(void)
{
}

#endif
