/*
 * STM32U575/585 family (RM0456): clock tree, USART console pins and kernel
 * clock (the USART itself: common/tg_stm32_usart.c), energy timestamp GPIO. Register level, no
 * vendor HAL; board specifics come from the generated tg_board.h.
 *
 * COMPILED, NEVER RUN: no NUCLEO-U575ZI-Q was at hand and QEMU has no
 * STM32U5 machine. Every fact below is from the reference manual; a first
 * run on hardware should check the clock (SysTick vs a stopwatch over
 * `timestamp`) before trusting latencies.
 *
 * TrustZone is off (option byte TZEN = 0, as boards ship), so the
 * non-secure peripheral addresses apply and the core runs non-secure.
 * Power stays on the LDO (the SMPS is optional); voltage range 1 and the
 * EPOD booster (needed above 55 MHz) are enabled before the clock goes up.
 *
 * Clock: PLL1 from HSI16, M = 1 (16 MHz input, range 8-16 MHz, EPOD boost
 * prescaler 1), R = 2, so SYSCLK = 8 MHz * N (VCO 16 MHz * N). Flash wait
 * states in range 1: one per 32 MHz. Every ready-flag poll is bounded; on a
 * timeout the firmware stays on HSI16 and the timestamp follows the clock
 * it really runs at.
 *
 * Console kernel clock: HSI16 for every U(S)ART (RCC_CCIPR1 selector 2),
 * so the baud divisor does not depend on SYSCLK.
 */
#include <stdint.h>

#include "tg_board.h"
#include "tg_cortexm.h"
#include "tg_platform.h"
#include "tg_stm32_gpio.h"
#include "tg_stm32_usart.h"

/* RCC (non-secure 0x46020C00) */
#define RCC_BASE 0x46020C00u
#define RCC_CR TG_REG32(RCC_BASE + 0x000u)
#define RCC_CFGR1 TG_REG32(RCC_BASE + 0x01Cu)
#define RCC_PLL1CFGR TG_REG32(RCC_BASE + 0x028u)
#define RCC_PLL1DIVR TG_REG32(RCC_BASE + 0x034u)
#define RCC_AHB2ENR1 TG_REG32(RCC_BASE + 0x08Cu)
#define RCC_AHB3ENR TG_REG32(RCC_BASE + 0x094u)
#define RCC_CCIPR1 TG_REG32(RCC_BASE + 0x0E0u)
#define RCC_CR_HSION (1u << 8)
#define RCC_CR_HSIRDY (1u << 10)
#define RCC_CR_PLL1ON (1u << 24)
#define RCC_CR_PLL1RDY (1u << 25)
#define RCC_CFGR1_SW_MASK 0x3u
#define RCC_CFGR1_SW_HSI16 0x1u
#define RCC_CFGR1_SW_PLL 0x3u
#define RCC_CFGR1_SWS_SHIFT 2u
#define RCC_PLL1CFGR_SRC_HSI16 0x2u
#define RCC_PLL1CFGR_RGE_8_16MHZ (0x3u << 2)
#define RCC_PLL1CFGR_REN (1u << 18)
#define RCC_AHB3ENR_PWREN (1u << 2)
#define RCC_KER_HSI16 0x2u

/* PWR (non-secure 0x46020800) */
#define PWR_BASE 0x46020800u
#define PWR_VOSR TG_REG32(PWR_BASE + 0x00Cu)
#define PWR_SVMCR TG_REG32(PWR_BASE + 0x010u)
#define PWR_VOSR_BOOSTRDY (1u << 14)
#define PWR_VOSR_VOSRDY (1u << 15)
#define PWR_VOSR_VOS_MASK (0x3u << 16)
#define PWR_VOSR_VOS_RANGE1 (0x3u << 16)
#define PWR_VOSR_BOOSTEN (1u << 18)
#define PWR_SVMCR_IO2SV (1u << 29)

/* FLASH interface (non-secure 0x40022000) */
#define FLASH_ACR TG_REG32(0x40022000u)
#define FLASH_ACR_LATENCY_MASK 0xFu
#define FLASH_ACR_PRFTEN (1u << 8)


#define HSI16_HZ 16000000u
#define TG_POLL_LIMIT 400000u

#define tg_poll(reg, mask, want) tg_stm32_poll((reg), (mask), (want), TG_POLL_LIMIT)

/* Returns the SYSCLK actually reached. */
static uint32_t tg_clock_init(void)
{
    RCC_AHB3ENR |= RCC_AHB3ENR_PWREN;
    (void)RCC_AHB3ENR;
    RCC_CR |= RCC_CR_HSION;
    if (!tg_poll(&RCC_CR, RCC_CR_HSIRDY, RCC_CR_HSIRDY)) {
        return 4000000u; /* still on the reset MSIS clock */
    }
    PWR_VOSR = (PWR_VOSR & ~PWR_VOSR_VOS_MASK) | PWR_VOSR_VOS_RANGE1;
    (void)tg_poll(&PWR_VOSR, PWR_VOSR_VOSRDY, PWR_VOSR_VOSRDY);
    /* EPOD booster (above 55 MHz): clocked by the PLL1 input, 16 MHz. */
    RCC_PLL1CFGR = RCC_PLL1CFGR_SRC_HSI16 | RCC_PLL1CFGR_RGE_8_16MHZ;
    PWR_VOSR |= PWR_VOSR_BOOSTEN;
    (void)tg_poll(&PWR_VOSR, PWR_VOSR_BOOSTRDY, PWR_VOSR_BOOSTRDY);
    FLASH_ACR = (FLASH_ACR & ~FLASH_ACR_LATENCY_MASK) | TG_FLASH_LATENCY | FLASH_ACR_PRFTEN;
    (void)tg_poll(&FLASH_ACR, FLASH_ACR_LATENCY_MASK, TG_FLASH_LATENCY);

    RCC_CR &= ~RCC_CR_PLL1ON;
    (void)tg_poll(&RCC_CR, RCC_CR_PLL1RDY, 0u);
    /* M = 1 (field 0), MBOOST = 1 (field 0), R output on. */
    RCC_PLL1CFGR = RCC_PLL1CFGR_SRC_HSI16 | RCC_PLL1CFGR_RGE_8_16MHZ | RCC_PLL1CFGR_REN;
    /* N - 1, P and Q /2 (unused), R - 1 = 1. */
    RCC_PLL1DIVR = ((TG_PLL_N - 1u) << 0) | (1u << 9) | (1u << 16) | (1u << 24);
    RCC_CR |= RCC_CR_PLL1ON;
    if (!tg_poll(&RCC_CR, RCC_CR_PLL1RDY, RCC_CR_PLL1RDY)) {
        return HSI16_HZ;
    }
    RCC_CFGR1 = (RCC_CFGR1 & ~RCC_CFGR1_SW_MASK) | RCC_CFGR1_SW_PLL;
    if (!tg_poll(&RCC_CFGR1, RCC_CFGR1_SW_MASK << RCC_CFGR1_SWS_SHIFT,
                 RCC_CFGR1_SW_PLL << RCC_CFGR1_SWS_SHIFT)) {
        RCC_CFGR1 = (RCC_CFGR1 & ~RCC_CFGR1_SW_MASK) | RCC_CFGR1_SW_HSI16;
        return HSI16_HZ;
    }
    return TG_BOARD_CLOCK_HZ;
}

static void tg_console_init(void)
{
#if TG_CONSOLE_NEEDS_VDDIO2
    PWR_SVMCR |= PWR_SVMCR_IO2SV;
#endif
    tg_stm32_console_pins();
    RCC_CCIPR1 = (RCC_CCIPR1 & ~(0x3u << TG_CONSOLE_CLOCK_SEL_SHIFT)) |
                 (RCC_KER_HSI16 << TG_CONSOLE_CLOCK_SEL_SHIFT);
    TG_REG32(RCC_BASE + TG_CONSOLE_RCC_ENR_OFFSET) |= 1u << TG_CONSOLE_RCC_ENR_BIT;
    (void)TG_REG32(RCC_BASE + TG_CONSOLE_RCC_ENR_OFFSET);

    tg_usart_start((HSI16_HZ + TG_CONSOLE_BAUD / 2u) / TG_CONSOLE_BAUD);
}

void tg_family_init(void)
{
    uint32_t hz = tg_clock_init();
    tg_systick_start(hz);
    tg_console_init();
#if TG_HAS_ENERGY_GPIO && TG_ENERGY_GPIO_PORT == 6u
    PWR_SVMCR |= PWR_SVMCR_IO2SV; /* port G runs from VDDIO2 */
#endif
    tg_stm32_energy_gpio_init();
}
