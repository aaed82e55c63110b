/*
 * STM32F4 family (F405/407 by RM0090, F446 by RM0390): clock tree and
 * console pins and clock; the U(S)ART itself is common/tg_stm32_usart.c
 * (the F4's older register layout), GPIO and the energy timestamp
 * common/tg_stm32_gpio.c. Register level, no vendor HAL.
 *
 * Clock: PLL from HSI (16 MHz), M = 8, P = 2, so SYSCLK = N MHz, with the
 * bus dividers and flash wait states of tg_family.h.j2; above 168 MHz the
 * F446's over-drive mode first. Every ready-flag poll is bounded; if the
 * PLL never locks the firmware stays on HSI and the timestamp follows the
 * clock it really runs at.
 *
 * Under QEMU (netduinoplus2, olimex-stm32-h405: an STM32F405) the CPU runs
 * at the machine's fixed 168 MHz whatever RCC says, so a board that only
 * ever runs emulated leaves the clock tree alone (the boot clock check
 * compares the board file's clock_hz with the machine).
 */
#include <stdint.h>

#include "tg_board.h"
#include "tg_cortexm.h"
#include "tg_platform.h"
#include "tg_stm32_gpio.h"
#include "tg_stm32_usart.h"

#define RCC_BASE 0x40023800u
#define RCC_CR TG_REG32(RCC_BASE + 0x00u)
#define RCC_PLLCFGR TG_REG32(RCC_BASE + 0x04u)
#define RCC_CFGR TG_REG32(RCC_BASE + 0x08u)
#define RCC_APB1ENR TG_REG32(RCC_BASE + 0x40u)
#define RCC_CR_HSION (1u << 0)
#define RCC_CR_HSIRDY (1u << 1)
#define RCC_CR_PLLON (1u << 24)
#define RCC_CR_PLLRDY (1u << 25)
#define RCC_CFGR_SW_MASK 0x3u
#define RCC_CFGR_SW_HSI 0x0u
#define RCC_CFGR_SW_PLL 0x2u
#define RCC_CFGR_SWS_SHIFT 2u
#define RCC_CFGR_PPRE1_SHIFT 10u
#define RCC_CFGR_PPRE2_SHIFT 13u
#define RCC_PLLCFGR_M 8u
#define RCC_PLLCFGR_N_SHIFT 6u
#define RCC_PLLCFGR_Q_SHIFT 24u
#define RCC_APB1ENR_PWREN (1u << 28)

#define PWR_CR TG_REG32(0x40007000u)
#define PWR_CSR TG_REG32(0x40007004u)
#define PWR_CR_VOS_SCALE1 (0x3u << 14) /* F446: 11; the F405's one bit 14 */
#define PWR_CR_ODEN (1u << 16)
#define PWR_CR_ODSWEN (1u << 17)
#define PWR_CSR_ODRDY (1u << 16)
#define PWR_CSR_ODSWRDY (1u << 17)

#define FLASH_ACR TG_REG32(0x40023C00u)
#define FLASH_ACR_LATENCY_MASK 0xFu
#define FLASH_ACR_PRFTEN (1u << 8)
#define FLASH_ACR_ICEN (1u << 9)
#define FLASH_ACR_DCEN (1u << 10)

#define HSI_HZ 16000000u
#define TG_POLL_LIMIT 200000u

#define tg_poll(reg, mask, want) tg_stm32_poll((reg), (mask), (want), TG_POLL_LIMIT)

#if !TG_EMULATED_ONLY && TG_CLOCK_FROM_PLL
/* Returns the SYSCLK actually reached. */
static uint32_t tg_clock_init(void)
{
    RCC_APB1ENR |= RCC_APB1ENR_PWREN;
    (void)RCC_APB1ENR;
    PWR_CR |= PWR_CR_VOS_SCALE1;
    RCC_CR |= RCC_CR_HSION;
    if (!tg_poll(&RCC_CR, RCC_CR_HSIRDY, RCC_CR_HSIRDY)) {
        return HSI_HZ;
    }
    RCC_CR &= ~RCC_CR_PLLON;
    (void)tg_poll(&RCC_CR, RCC_CR_PLLRDY, 0u);
    /* Source HSI (bit 22 clear), P = 2 (field 0). */
    RCC_PLLCFGR = RCC_PLLCFGR_M | ((uint32_t)TG_PLL_N << RCC_PLLCFGR_N_SHIFT) |
                  ((uint32_t)TG_PLL_Q << RCC_PLLCFGR_Q_SHIFT);
    RCC_CR |= RCC_CR_PLLON;
    if (!tg_poll(&RCC_CR, RCC_CR_PLLRDY, RCC_CR_PLLRDY)) {
        return HSI_HZ;
    }
#if TG_OVERDRIVE
    PWR_CR |= PWR_CR_ODEN;
    (void)tg_poll(&PWR_CSR, PWR_CSR_ODRDY, PWR_CSR_ODRDY);
    PWR_CR |= PWR_CR_ODSWEN;
    (void)tg_poll(&PWR_CSR, PWR_CSR_ODSWRDY, PWR_CSR_ODSWRDY);
#endif
    /* Wait states and bus dividers before the clock goes up. */
    FLASH_ACR = TG_FLASH_LATENCY | FLASH_ACR_PRFTEN | FLASH_ACR_ICEN | FLASH_ACR_DCEN;
    (void)tg_poll(&FLASH_ACR, FLASH_ACR_LATENCY_MASK, TG_FLASH_LATENCY);
    RCC_CFGR = (RCC_CFGR & ~((0x7u << RCC_CFGR_PPRE1_SHIFT) | (0x7u << RCC_CFGR_PPRE2_SHIFT))) |
               ((uint32_t)TG_PPRE1 << RCC_CFGR_PPRE1_SHIFT) |
               ((uint32_t)TG_PPRE2 << RCC_CFGR_PPRE2_SHIFT);
    RCC_CFGR = (RCC_CFGR & ~RCC_CFGR_SW_MASK) | RCC_CFGR_SW_PLL;
    if (!tg_poll(&RCC_CFGR, RCC_CFGR_SW_MASK << RCC_CFGR_SWS_SHIFT,
                 RCC_CFGR_SW_PLL << RCC_CFGR_SWS_SHIFT)) {
        RCC_CFGR = (RCC_CFGR & ~RCC_CFGR_SW_MASK) | RCC_CFGR_SW_HSI;
        return HSI_HZ;
    }
    return TG_BOARD_CLOCK_HZ;
}
#endif

void tg_family_init(void)
{
#if TG_EMULATED_ONLY || !TG_CLOCK_FROM_PLL
    uint32_t hz = TG_BOARD_CLOCK_HZ;
#else
    uint32_t hz = tg_clock_init();
#endif
    tg_systick_start(hz);
    tg_stm32_console_pins();
    TG_REG32(RCC_BASE + TG_CONSOLE_RCC_ENR_OFFSET) |= 1u << TG_CONSOLE_RCC_ENR_BIT;
    (void)TG_REG32(RCC_BASE + TG_CONSOLE_RCC_ENR_OFFSET);
    /* Oversampling by 16: BRR = f_pclk / baud (mantissa and fraction). On
     * HSI (no PLL lock) the bus runs undivided at 16 MHz. */
    uint32_t pclk = hz == TG_BOARD_CLOCK_HZ ? TG_CONSOLE_PCLK_HZ : HSI_HZ;
    tg_usart_start((pclk + TG_CONSOLE_BAUD / 2u) / TG_CONSOLE_BAUD);
    tg_stm32_energy_gpio_init();
    tg_emulated_clock_check();
}
