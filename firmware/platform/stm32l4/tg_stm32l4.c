/*
 * STM32L4 / STM32L4+ family: clock tree, console (USART or LPUART) pins
 * and kernel clock (the U(S)ART itself: common/tg_stm32_usart.c), energy
 * timestamp GPIO.
 * Register level, no vendor HAL: offsets and bits from the STM32L4 and
 * STM32L4+ reference manuals (RM0351, RM0432). Board specifics come from
 * the generated tg_board.h.
 *
 * Clock: PLL fed by HSI16, M = 1, R = 2, so SYSCLK = 8 MHz * N
 * (80 MHz: N = 10, 4 flash wait states, voltage range 1; 120 MHz on the
 * L4+: N = 15, 5 wait states, range 1 boost, entered through AHB / 2 for
 * 1 us as RM0432 requires). Every ready-flag poll is bounded: QEMU's
 * b-l475e-iot01a models RCC (its ready flags follow the enable bits and SWS
 * follows SW) but not the FLASH or PWR registers, which read as zero.
 * If the PLL never locks or the switch is not acknowledged, the firmware
 * stays on HSI16 and the timestamp follows the clock it really runs at.
 *
 * Console kernel clock: HSI16 for every U(S)ART, so the baud divisor does
 * not depend on SYSCLK (LPUART BRR = 256 * 16 MHz / baud stays inside its
 * 20 bits at 9600 baud, which 256 * 120 MHz / 9600 would not).
 */
#include <stdint.h>

#include "tg_board.h"
#include "tg_cortexm.h"
#include "tg_platform.h"
#include "tg_stm32_gpio.h"
#include "tg_stm32_usart.h"

/* RCC (0x40021000) */
#define RCC_BASE 0x40021000u
#define RCC_CR TG_REG32(RCC_BASE + 0x00u)
#define RCC_CFGR TG_REG32(RCC_BASE + 0x08u)
#define RCC_PLLCFGR TG_REG32(RCC_BASE + 0x0Cu)
#define RCC_AHB2ENR TG_REG32(RCC_BASE + 0x4Cu)
#define RCC_APB1ENR1 TG_REG32(RCC_BASE + 0x58u)
#define RCC_CCIPR TG_REG32(RCC_BASE + 0x88u)
#define RCC_CR_HSION (1u << 8)
#define RCC_CR_HSIRDY (1u << 10)
#define RCC_CR_PLLON (1u << 24)
#define RCC_CR_PLLRDY (1u << 25)
#define RCC_CFGR_SW_MASK 0x3u
#define RCC_CFGR_SW_HSI16 0x1u
#define RCC_CFGR_SW_PLL 0x3u
#define RCC_CFGR_SWS_SHIFT 2u
#define RCC_CFGR_HPRE_MASK (0xFu << 4)
#define RCC_CFGR_HPRE_DIV2 (0x8u << 4)
#define RCC_PLLCFGR_SRC_HSI16 0x2u
#define RCC_PLLCFGR_N_SHIFT 8u
#define RCC_PLLCFGR_REN (1u << 24)
#define RCC_APB1ENR1_PWREN (1u << 28)
#define RCC_CCIPR_HSI16 0x2u

/* FLASH interface (0x40022000) */
#define FLASH_ACR TG_REG32(0x40022000u)
#define FLASH_ACR_LATENCY_MASK 0xFu
#define FLASH_ACR_PRFTEN (1u << 8)
#define FLASH_ACR_ICEN (1u << 9)
#define FLASH_ACR_DCEN (1u << 10)

/* PWR (0x40007000) */
#define PWR_BASE 0x40007000u
#define PWR_CR1 TG_REG32(PWR_BASE + 0x00u)
#define PWR_CR2 TG_REG32(PWR_BASE + 0x04u)
#define PWR_SR2 TG_REG32(PWR_BASE + 0x14u)
#define PWR_CR5 TG_REG32(PWR_BASE + 0x80u)
#define PWR_CR1_VOS_MASK (0x3u << 9)
#define PWR_CR1_VOS_RANGE1 (0x1u << 9)
#define PWR_CR2_IOSV (1u << 9)
#define PWR_SR2_VOSF (1u << 10)
#define PWR_CR5_R1MODE (1u << 8)


#define HSI16_HZ 16000000u
#define TG_POLL_LIMIT 200000u

#define tg_poll(reg, mask, want) tg_stm32_poll((reg), (mask), (want), TG_POLL_LIMIT)

#if TG_CLOCK_BOOST
static void tg_spin(uint32_t iterations)
{
    for (volatile uint32_t i = 0; i < iterations; ++i) {
    }
}
#endif

/* Returns the SYSCLK actually reached. */
static uint32_t tg_clock_init(void)
{
    RCC_APB1ENR1 |= RCC_APB1ENR1_PWREN;
    (void)RCC_APB1ENR1;
    PWR_CR1 = (PWR_CR1 & ~PWR_CR1_VOS_MASK) | PWR_CR1_VOS_RANGE1;
    (void)tg_poll(&PWR_SR2, PWR_SR2_VOSF, 0u);
#if TG_CLOCK_BOOST
    PWR_CR5 &= ~PWR_CR5_R1MODE;
#endif

    RCC_CR |= RCC_CR_HSION;
    if (!tg_poll(&RCC_CR, RCC_CR_HSIRDY, RCC_CR_HSIRDY)) {
        return 4000000u; /* still on the reset MSI clock */
    }
    /* More wait states before the clock goes up; QEMU reads ACR as 0. */
    FLASH_ACR = (FLASH_ACR & ~FLASH_ACR_LATENCY_MASK) | TG_FLASH_LATENCY | FLASH_ACR_PRFTEN |
                FLASH_ACR_ICEN | FLASH_ACR_DCEN;
    (void)tg_poll(&FLASH_ACR, FLASH_ACR_LATENCY_MASK, TG_FLASH_LATENCY);

    RCC_CFGR = (RCC_CFGR & ~RCC_CFGR_SW_MASK) | RCC_CFGR_SW_HSI16;
    (void)tg_poll(&RCC_CFGR, RCC_CFGR_SW_MASK << RCC_CFGR_SWS_SHIFT,
                  RCC_CFGR_SW_HSI16 << RCC_CFGR_SWS_SHIFT);
    RCC_CR &= ~RCC_CR_PLLON;
    (void)tg_poll(&RCC_CR, RCC_CR_PLLRDY, 0u);
    /* M = 1 (field 0), R = 2 (field 0), source HSI16. */
    RCC_PLLCFGR = RCC_PLLCFGR_SRC_HSI16 | ((uint32_t)TG_PLL_N << RCC_PLLCFGR_N_SHIFT) |
                  RCC_PLLCFGR_REN;
    RCC_CR |= RCC_CR_PLLON;
    if (!tg_poll(&RCC_CR, RCC_CR_PLLRDY, RCC_CR_PLLRDY)) {
        return HSI16_HZ;
    }
#if TG_CLOCK_BOOST
    RCC_CFGR = (RCC_CFGR & ~RCC_CFGR_HPRE_MASK) | RCC_CFGR_HPRE_DIV2;
#endif
    RCC_CFGR = (RCC_CFGR & ~RCC_CFGR_SW_MASK) | RCC_CFGR_SW_PLL;
    if (!tg_poll(&RCC_CFGR, RCC_CFGR_SW_MASK << RCC_CFGR_SWS_SHIFT,
                 RCC_CFGR_SW_PLL << RCC_CFGR_SWS_SHIFT)) {
        RCC_CFGR = (RCC_CFGR & ~(RCC_CFGR_SW_MASK | RCC_CFGR_HPRE_MASK)) | RCC_CFGR_SW_HSI16;
        return HSI16_HZ;
    }
#if TG_CLOCK_BOOST
    tg_spin(TG_BOARD_CLOCK_HZ / 2u / 1000000u); /* >= 1 us at HCLK / 2 */
    RCC_CFGR &= ~RCC_CFGR_HPRE_MASK;
#endif
    return TG_BOARD_CLOCK_HZ;
}

static void tg_console_init(void)
{
#if TG_CONSOLE_NEEDS_VDDIO2
    PWR_CR2 |= PWR_CR2_IOSV;
#endif
    tg_stm32_console_pins();

    RCC_CCIPR = (RCC_CCIPR & ~(0x3u << TG_CONSOLE_CCIPR_SHIFT)) |
                (RCC_CCIPR_HSI16 << TG_CONSOLE_CCIPR_SHIFT);
    TG_REG32(RCC_BASE + TG_CONSOLE_RCC_ENR_OFFSET) |= 1u << TG_CONSOLE_RCC_ENR_BIT;
    (void)TG_REG32(RCC_BASE + TG_CONSOLE_RCC_ENR_OFFSET);

    tg_usart_start(TG_CONSOLE_IS_LPUART
                       ? (uint32_t)(((uint64_t)HSI16_HZ * 256u + TG_CONSOLE_BAUD / 2u) / TG_CONSOLE_BAUD)
                       : (HSI16_HZ + TG_CONSOLE_BAUD / 2u) / TG_CONSOLE_BAUD);
}

void tg_family_init(void)
{
    uint32_t hz = tg_clock_init();
    tg_systick_start(hz);
    tg_console_init();
    tg_stm32_energy_gpio_init();
}
