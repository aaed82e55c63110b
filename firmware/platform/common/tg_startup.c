/*
 * Reset and the vector table, common to every Cortex-M board.
 *
 * Reset points VTOR at this table, turns the FPU on when the code was
 * compiled to use it, copies .data from flash, zeroes .bss and the NOLOAD
 * sections the harness expects zeroed (arena, db buffer), then calls main.
 * Every external interrupt goes through one dispatcher that reads the
 * active exception number and hands it to the family code, so the vector
 * table does not depend on the chip.
 */
#include <stdint.h>

#include "tg_board.h"
#include "tg_cortexm.h"

/* Vector slots for external interrupts. tinygen's STM32 families enable
 * exactly one, the console's, so the table ends there (disco: 38 slots,
 * 232 bytes of flash less); other boards get enough for the STM32L4+ (95).
 * Every slot goes to the dispatcher. */
#if defined(TG_CONSOLE_IRQ) && (defined(TG_BOARD_FAMILY_STM32L4) || \
                                defined(TG_BOARD_FAMILY_STM32H7) || defined(TG_BOARD_FAMILY_STM32U5))
#define TG_EXTERNAL_IRQS (TG_CONSOLE_IRQ + 1)
#else
#define TG_EXTERNAL_IRQS 96
#endif

/* Symbols from the linker script (templates/port/arm_linker.ld.j2). */
extern uint32_t _sidata[], _sdata[], _edata[];
extern uint32_t _sbss[], _ebss[];
extern uint32_t _stg_arena[], _etg_arena[];
extern uint32_t _stg_buffer[], _etg_buffer[];
extern uint32_t _sstack[], _estack[];

int main(void);
void tg_reset_handler(void);
void tg_fault_handler(void);
void tg_irq_dispatch(void);
void tg_systick_handler(void);

static void tg_zero_words(uint32_t *start, const uint32_t *end)
{
    while (start < end) {
        *start++ = 0u;
    }
}

extern const struct tg_vector_table tg_vectors;

/* Stack painting: reset fills the unused stack with this word, so the
 * deepest point the stack ever reached is the first word that changed
 * (tg_stack_high_water_bytes, reported by profiling builds). */
#define TG_STACK_PAINT 0x5AA5F00Du

uint32_t tg_stack_high_water_bytes(void);

uint32_t tg_stack_high_water_bytes(void)
{
    const uint32_t *w = _sstack;
    while (w < _estack && *w == TG_STACK_PAINT) {
        ++w;
    }
    return (uint32_t)((uintptr_t)_estack - (uintptr_t)w);
}

void tg_reset_handler(void)
{
    {
        /* Below the reset handler's own frame (64 bytes of slack). */
        uint32_t *w = _sstack;
        uint32_t *sp;
        __asm__ volatile("mov %0, sp" : "=r"(sp));
        while (w < sp - 16) {
            *w++ = TG_STACK_PAINT;
        }
    }
#if !defined(__ARM_ARCH_6M__)
    /* A bootloader may have moved VTOR; the table is ours from here on.
     * (Armv6-M has no VTOR, or only optionally: its table stays at 0.) */
    TG_SCB_VTOR = (uint32_t)(uintptr_t)&tg_vectors;
#endif
#if defined(__ARM_FP)
    /* Full access to coprocessors 10 and 11 (the FPU) first: the compiler
     * may turn the loops below into library calls. */
    TG_SCB_CPACR |= 0xFu << 20;
    tg_dsb_isb();
#endif
    const uint32_t *src = _sidata;
    uint32_t *dst = _sdata;
    while (dst < _edata) {
        *dst++ = *src++;
    }
    tg_zero_words(_sbss, _ebss);
    tg_zero_words(_stg_arena, _etg_arena);
    tg_zero_words(_stg_buffer, _etg_buffer);
    (void)main();
    for (;;) {
        tg_wfi();
    }
}

/* A fault stops here; a debugger shows the stacked frame. Under QEMU the
 * DUT then falls silent, which the host reports as a timeout. */
void tg_fault_handler(void)
{
    for (;;) {
    }
}

void tg_irq_dispatch(void)
{
    uint32_t ipsr;
    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
    tg_family_irq((unsigned)(ipsr & 0x1FFu) - 16u);
}

typedef void (*tg_vector)(void);

struct tg_vector_table {
    uint32_t *initial_sp;
    tg_vector core[15];
    tg_vector external[TG_EXTERNAL_IRQS];
};


__attribute__((section(".isr_vector"), used))
const struct tg_vector_table tg_vectors = {
    _estack,
    {
        tg_reset_handler,   /* 1 reset */
        tg_fault_handler,   /* 2 NMI */
        tg_fault_handler,   /* 3 hard fault */
        tg_fault_handler,   /* 4 memory management */
        tg_fault_handler,   /* 5 bus fault */
        tg_fault_handler,   /* 6 usage fault */
        0, 0, 0, 0,         /* 7-10 reserved */
        tg_fault_handler,   /* 11 SVCall (unused) */
        tg_fault_handler,   /* 12 debug monitor (unused) */
        0,                  /* 13 reserved */
        tg_fault_handler,   /* 14 PendSV (unused) */
        tg_systick_handler, /* 15 SysTick */
    },
    {[0 ... TG_EXTERNAL_IRQS - 1] = tg_irq_dispatch},   /* GNU C range initializer */
};
