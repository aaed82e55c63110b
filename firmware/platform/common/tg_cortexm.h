/*
 * The few Cortex-M core registers the platforms use (ARMv7-M architecture
 * reference manual, System Control Space at 0xE000E000). Defined here by
 * hand: tinygen uses no CMSIS headers.
 */
#ifndef TG_CORTEXM_H
#define TG_CORTEXM_H

#include <stdint.h>

#define TG_REG32(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

/* SysTick */
#define TG_SYST_CSR TG_REG32(0xE000E010u)
#define TG_SYST_RVR TG_REG32(0xE000E014u)
#define TG_SYST_CVR TG_REG32(0xE000E018u)
#define TG_SYST_CSR_ENABLE (1u << 0)
#define TG_SYST_CSR_TICKINT (1u << 1)
#define TG_SYST_CSR_CLKSOURCE_CPU (1u << 2)

/* DWT cycle counter (debug unit; TRCENA in DEMCR powers it) */
#define TG_DEMCR TG_REG32(0xE000EDFCu)
#define TG_DEMCR_TRCENA (1u << 24)
#define TG_DWT_CTRL TG_REG32(0xE0001000u)
#define TG_DWT_CYCCNT TG_REG32(0xE0001004u)
#define TG_DWT_LAR TG_REG32(0xE0001FB0u)
#define TG_DWT_CTRL_CYCCNTENA (1u << 0)

/* System control block */
#define TG_SCB_ICSR TG_REG32(0xE000ED04u)
#define TG_SCB_VTOR TG_REG32(0xE000ED08u)
#define TG_SCB_SHPR3 TG_REG32(0xE000ED20u)
#define TG_SCB_CPACR TG_REG32(0xE000ED88u)
#define TG_SCB_ICSR_PENDSTSET (1u << 26)

/* NVIC: set-enable and priority registers for external interrupts */
#define TG_NVIC_ISER(n) TG_REG32(0xE000E100u + 4u * (uint32_t)(n))
#define TG_NVIC_IPR_BYTE(irq) (*(volatile uint8_t *)(uintptr_t)(0xE000E400u + (uint32_t)(irq)))

static inline void tg_nvic_enable(unsigned irq)
{
    TG_NVIC_ISER(irq / 32u) = 1u << (irq % 32u);
}

static inline uint32_t tg_irq_save(void)
{
    uint32_t primask;
    __asm__ volatile("mrs %0, primask\n\tcpsid i" : "=r"(primask) : : "memory");
    return primask;
}

static inline void tg_irq_restore(uint32_t primask)
{
    __asm__ volatile("msr primask, %0" : : "r"(primask) : "memory");
}

static inline void tg_dsb_isb(void)
{
    __asm__ volatile("dsb\n\tisb" : : : "memory");
}

static inline void tg_wfi(void)
{
    __asm__ volatile("wfi" : : : "memory");
}

/* Family code: board clock tree, console and pins (firmware/platform/<family>). */
void tg_family_init(void);

/* Family code: external interrupt number irq (0 = first after SysTick). */
void tg_family_irq(unsigned irq);

/* Common SysTick timestamp (tg_systick.c): 1 ms interrupts at the CPU clock. */
void tg_systick_start(uint32_t cpu_hz);

/* Emulated-only boards: compare SysTick with QEMU's virtual time once
 * (tg_clock_check.c); call after the console works. No-op elsewhere. */
void tg_emulated_clock_check(void);

/* Busy-wait at least us microseconds using the timestamp. */
void tg_delay_us(uint32_t us);

#endif /* TG_CORTEXM_H */
