/*
 * Microsecond timestamp from SysTick, shared by every Cortex-M family.
 *
 * SysTick counts down at the CPU clock and interrupts once per millisecond;
 * the interrupt adds one to a 64-bit millisecond count and the current
 * counter value gives the time within the millisecond. The interrupt
 * becomes pending when the counter goes from 1 to 0, and the counter
 * reloads on the next tick, so a millisecond starts at the value 0:
 * position = 0 when the counter reads 0, else ticks_per_ms - counter.
 * (Measured under QEMU: the pending bit is already set while the counter
 * still reads 0.) Reading the pair is made race-free by masking interrupts
 * and looking at the SysTick pending bit: if the millisecond ended and the
 * interrupt has not run yet, the millisecond it owes is added here and the
 * counter is read again (it is now certainly in the new millisecond).
 * Interrupts are masked for a few instructions only.
 *
 * With timestamp: dwt (TG_TIMESTAMP_DWT, real boards only: QEMU does not
 * model it) the time comes from the DWT cycle counter instead, one count
 * per CPU cycle: finer than SysTick's position arithmetic and free of its
 * reload race. CYCCNT is 32 bits (35 s at 120 MHz); the 1 ms SysTick
 * interrupt still runs (it wakes WFI) and extends it to 64 bits, seeing
 * every wrap since it runs far more often than the counter wraps.
 *
 * Under QEMU, SysTick's "CPU clock" is the emulated clock tree's HCLK (the
 * STM32L4 RCC model) or the machine's fixed 25 MHz (MPS2), ticking in
 * virtual time; with -icount shift=0 one instruction is one virtual
 * nanosecond, so a timestamp difference of T us means T*1000 instructions.
 */
#include <stdint.h>

#include "tg_board.h"
#include "tg_cortexm.h"

/* Where the millisecond count starts: 0, except in tests that start the
 * clock just before 2^32 us or 2^32 ms to prove nothing wraps there. */
#ifndef TG_TIMESTAMP_START_MS
#define TG_TIMESTAMP_START_MS 0u
#endif

static volatile uint64_t tg_ms_count;
static uint32_t tg_ticks_per_ms = 1u;

#if TG_TIMESTAMP_DWT
static volatile uint32_t tg_cycles_last;
static volatile uint32_t tg_cycles_high;
static uint32_t tg_cycles_per_us = 1u;

/* Extends CYCCNT to 64 bits; called with interrupts masked or from the
 * SysTick handler (which nothing else of this file preempts). */
static uint64_t tg_dwt_cycles(void)
{
    uint32_t now = TG_DWT_CYCCNT;
    if (now < tg_cycles_last) {
        tg_cycles_high = tg_cycles_high + 1u;
    }
    tg_cycles_last = now;
    return ((uint64_t)tg_cycles_high << 32) | now;
}

static void tg_dwt_start(uint32_t cpu_hz)
{
    tg_cycles_per_us = cpu_hz / 1000000u;
    TG_DEMCR |= TG_DEMCR_TRCENA;
#if defined(TG_CPU_CORTEX_M7)
    /* The M7's DWT is locked against software writes until unlocked. */
    TG_DWT_LAR = 0xC5ACCE55u;
#endif
    TG_DWT_CYCCNT = 0u;
    tg_cycles_last = 0u;
    /* Start where the millisecond count starts (tests near 2^32 us). */
    tg_cycles_high = (uint32_t)(((uint64_t)TG_TIMESTAMP_START_MS * 1000u * tg_cycles_per_us) >> 32);
    TG_DWT_CTRL |= TG_DWT_CTRL_CYCCNTENA;
}
#endif

void tg_systick_handler(void);

void tg_systick_handler(void)
{
    tg_ms_count = tg_ms_count + 1u;
#if TG_TIMESTAMP_DWT
    (void)tg_dwt_cycles();
#endif
}

void tg_systick_start(uint32_t cpu_hz)
{
    tg_ticks_per_ms = cpu_hz / 1000u;
    TG_SYST_CSR = 0u;
    TG_SYST_RVR = tg_ticks_per_ms - 1u;
    TG_SYST_CVR = 0u;
    tg_ms_count = (uint64_t)TG_TIMESTAMP_START_MS;
    /* Lowest priority: the console receive interrupt may preempt it. */
    TG_SCB_SHPR3 = (TG_SCB_SHPR3 & 0x00FFFFFFu) | (0xF0u << 24);
    TG_SYST_CSR = TG_SYST_CSR_ENABLE | TG_SYST_CSR_TICKINT | TG_SYST_CSR_CLKSOURCE_CPU;
#if TG_TIMESTAMP_DWT
    tg_dwt_start(cpu_hz);
#endif
}

uint64_t tg_timestamp_us(void)
{
#if TG_TIMESTAMP_DWT
    uint32_t masked = tg_irq_save();
    uint64_t cycles = tg_dwt_cycles();
    tg_irq_restore(masked);
    return cycles / tg_cycles_per_us;
#else
    uint32_t primask = tg_irq_save();
    uint64_t ms = tg_ms_count;
    uint32_t current = TG_SYST_CVR;
    if (TG_SCB_ICSR & TG_SCB_ICSR_PENDSTSET) {
        current = TG_SYST_CVR;
        ms += 1u;
    }
    tg_irq_restore(primask);
    uint32_t position = current == 0u ? 0u : tg_ticks_per_ms - current;
    return ms * 1000u + (uint64_t)(position * 1000u / tg_ticks_per_ms);
#endif
}

void tg_delay_us(uint32_t us)
{
    uint64_t start = tg_timestamp_us();
    /* +1: the first microsecond may already be partly over. */
    while (tg_timestamp_us() - start < (uint64_t)us + 1u) {
    }
}
