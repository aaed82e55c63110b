/*
 * STM32H7A3/B3 family (RM0455): clock tree, USART console pins and kernel
 * clock (the USART itself: common/tg_stm32_usart.c), energy timestamp GPIO. Register level, no
 * vendor HAL; board specifics come from the generated tg_board.h.
 *
 * COMPILED, NEVER RUN: no NUCLEO-H7A3ZI-Q was at hand and QEMU has no
 * STM32H7 machine. Every fact below is from the reference manual; a
 * first run on hardware should check the clock (SysTick vs a stopwatch
 * over `timestamp`) before trusting latencies.
 *
 * Power: the -Q parts (NUCLEO-H7A3ZI-Q) ship wired for "direct SMPS"
 * supply: PWR_CR3 = SMPSEN, LDOEN cleared, written once after reset, then
 * ACTVOSRDY is awaited. Voltage scale VOS0 (PWR_SRDCR.VOS = 3) allows the
 * maximum 280 MHz.
 *
 * Clock: HSI 64 MHz at reset. clock_hz 64 MHz stays on HSI; otherwise PLL1
 * from HSI, M = 16 (4 MHz reference, range 2-4 MHz, wide VCO), N = clock
 * in MHz / 2, P = 2, so SYSCLK = 2 MHz * N. The CPU and AXI/AHB run at
 * SYSCLK (the H7A3 allows 280 MHz on both); the APB buses at SYSCLK / 2
 * above 140 MHz, their maximum. Flash wait states at VOS0: one per 42 MHz.
 * Every ready-flag poll is bounded; on a timeout the firmware stays on HSI
 * and the timestamp follows the clock it really runs at.
 *
 * Console kernel clock: HSI (hsi_ker_ck, 64 MHz) for every U(S)ART, so the
 * baud divisor does not depend on SYSCLK.
 */
#include <stdint.h>

#include "tg_board.h"
#include "tg_cortexm.h"
#include "tg_platform.h"
#include "tg_stm32_gpio.h"
#include "tg_stm32_usart.h"

/* RCC (0x58024400) */
#define RCC_BASE 0x58024400u
#define RCC_CR TG_REG32(RCC_BASE + 0x000u)
#define RCC_CFGR TG_REG32(RCC_BASE + 0x010u)
#define RCC_CDCFGR1 TG_REG32(RCC_BASE + 0x018u)
#define RCC_CDCFGR2 TG_REG32(RCC_BASE + 0x01Cu)
#define RCC_SRDCFGR TG_REG32(RCC_BASE + 0x020u)
#define RCC_PLLCKSELR TG_REG32(RCC_BASE + 0x028u)
#define RCC_PLLCFGR TG_REG32(RCC_BASE + 0x02Cu)
#define RCC_PLL1DIVR TG_REG32(RCC_BASE + 0x030u)
#define RCC_CDCCIP2R TG_REG32(RCC_BASE + 0x054u)
#define RCC_AHB4ENR TG_REG32(RCC_BASE + 0x0E0u)
#define RCC_CR_HSION (1u << 0)
#define RCC_CR_HSIRDY (1u << 2)
#define RCC_CR_PLL1ON (1u << 24)
#define RCC_CR_PLL1RDY (1u << 25)
#define RCC_CFGR_SW_MASK 0x7u
#define RCC_CFGR_SW_HSI 0x0u
#define RCC_CFGR_SW_PLL1 0x3u
#define RCC_CFGR_SWS_SHIFT 3u
#define RCC_PLLCKSELR_SRC_HSI 0x0u
#define RCC_PLLCKSELR_DIVM1_SHIFT 4u
#define RCC_PLLCFGR_PLL1RGE_2_4MHZ (0x1u << 2)
#define RCC_PLLCFGR_DIVP1EN (1u << 16)
#define RCC_KER_HSI 0x3u /* U(S)ART kernel clock selector value: hsi_ker_ck */

/* PWR (0x58024800) */
#define PWR_BASE 0x58024800u
#define PWR_CSR1 TG_REG32(PWR_BASE + 0x004u)
#define PWR_CR3 TG_REG32(PWR_BASE + 0x00Cu)
#define PWR_SRDCR TG_REG32(PWR_BASE + 0x018u)
#define PWR_CSR1_ACTVOSRDY (1u << 13)
#define PWR_CR3_BYPASS (1u << 0)
#define PWR_CR3_LDOEN (1u << 1)
#define PWR_CR3_SMPSEN (1u << 2)
#define PWR_SRDCR_VOS_MASK (0x3u << 14)
#define PWR_SRDCR_VOS0 (0x3u << 14)
#define PWR_SRDCR_VOSRDY (1u << 13)

/* FLASH interface (0x52002000) */
#define FLASH_ACR TG_REG32(0x52002000u)
#define FLASH_ACR_LATENCY_MASK 0xFu


#define HSI_HZ 64000000u
#define TG_POLL_LIMIT 1000000u

#define tg_poll(reg, mask, want) tg_stm32_poll((reg), (mask), (want), TG_POLL_LIMIT)

static void tg_power_init(void)
{
    /* Direct SMPS supply, as the -Q boards are wired; write-once. */
    PWR_CR3 = (PWR_CR3 & ~(PWR_CR3_LDOEN | PWR_CR3_BYPASS)) | PWR_CR3_SMPSEN;
    (void)tg_poll(&PWR_CSR1, PWR_CSR1_ACTVOSRDY, PWR_CSR1_ACTVOSRDY);
    PWR_SRDCR = (PWR_SRDCR & ~PWR_SRDCR_VOS_MASK) | PWR_SRDCR_VOS0;
    (void)tg_poll(&PWR_SRDCR, PWR_SRDCR_VOSRDY, PWR_SRDCR_VOSRDY);
}

/* Returns the SYSCLK actually reached. */
static uint32_t tg_clock_init(void)
{
    tg_power_init();
    RCC_CR |= RCC_CR_HSION;
    if (!tg_poll(&RCC_CR, RCC_CR_HSIRDY, RCC_CR_HSIRDY)) {
        return HSI_HZ;
    }
    if (TG_BOARD_CLOCK_HZ == HSI_HZ) {
        return HSI_HZ;
    }
    /* Slower buses and more wait states before the clock goes up. */
#if TG_APB_DIV2
    RCC_CDCFGR1 = (RCC_CDCFGR1 & ~(0x7u << 4)) | (0x4u << 4);                   /* APB3 / 2 */
    RCC_CDCFGR2 = (RCC_CDCFGR2 & ~((0x7u << 4) | (0x7u << 8))) | (0x4u << 4) | (0x4u << 8);
    RCC_SRDCFGR = (RCC_SRDCFGR & ~(0x7u << 4)) | (0x4u << 4);                   /* APB4 / 2 */
#endif
    FLASH_ACR = (FLASH_ACR & ~FLASH_ACR_LATENCY_MASK) | TG_FLASH_LATENCY;
    (void)tg_poll(&FLASH_ACR, FLASH_ACR_LATENCY_MASK, TG_FLASH_LATENCY);

    RCC_CR &= ~RCC_CR_PLL1ON;
    (void)tg_poll(&RCC_CR, RCC_CR_PLL1RDY, 0u);
    RCC_PLLCKSELR = (RCC_PLLCKSELR & ~(0x3u | (0x3Fu << RCC_PLLCKSELR_DIVM1_SHIFT))) |
                    RCC_PLLCKSELR_SRC_HSI | (16u << RCC_PLLCKSELR_DIVM1_SHIFT);
    /* Range 2-4 MHz, wide VCO (VCOSEL = 0), integer mode, P output on. */
    RCC_PLLCFGR = (RCC_PLLCFGR & ~0xFu & ~RCC_PLLCFGR_DIVP1EN) | RCC_PLLCFGR_PLL1RGE_2_4MHZ |
                  RCC_PLLCFGR_DIVP1EN;
    /* DIVN1 = N - 1, DIVP1 = P - 1 = 1, Q and R left at /2. */
    RCC_PLL1DIVR = ((TG_PLL_N - 1u) << 0) | (1u << 9) | (1u << 16) | (1u << 24);
    RCC_CR |= RCC_CR_PLL1ON;
    if (!tg_poll(&RCC_CR, RCC_CR_PLL1RDY, RCC_CR_PLL1RDY)) {
        return HSI_HZ;
    }
    RCC_CFGR = (RCC_CFGR & ~RCC_CFGR_SW_MASK) | RCC_CFGR_SW_PLL1;
    if (!tg_poll(&RCC_CFGR, RCC_CFGR_SW_MASK << RCC_CFGR_SWS_SHIFT,
                 RCC_CFGR_SW_PLL1 << RCC_CFGR_SWS_SHIFT)) {
        RCC_CFGR = (RCC_CFGR & ~RCC_CFGR_SW_MASK) | RCC_CFGR_SW_HSI;
        return HSI_HZ;
    }
    return TG_BOARD_CLOCK_HZ;
}

static void tg_console_init(void)
{
    tg_stm32_console_pins();
    RCC_CDCCIP2R = (RCC_CDCCIP2R & ~(0x7u << TG_CONSOLE_CLOCK_SEL_SHIFT)) |
                   (RCC_KER_HSI << TG_CONSOLE_CLOCK_SEL_SHIFT);
    TG_REG32(RCC_BASE + TG_CONSOLE_RCC_ENR_OFFSET) |= 1u << TG_CONSOLE_RCC_ENR_BIT;
    (void)TG_REG32(RCC_BASE + TG_CONSOLE_RCC_ENR_OFFSET);

    tg_usart_start((HSI_HZ + TG_CONSOLE_BAUD / 2u) / TG_CONSOLE_BAUD);
}

void tg_family_init(void)
{
    uint32_t hz = tg_clock_init();
    tg_systick_start(hz);
    tg_console_init();
    tg_stm32_energy_gpio_init();
}
