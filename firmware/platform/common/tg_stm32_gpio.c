/*
 * What the STM32 families' platform files share (see tg_stm32_gpio.h):
 * GPIO setup, the console pins, the energy timestamp, the console
 * interrupt's dispatch and the platform entry points of tg_platform.h.
 * Compiled with common/ for every MCU board, empty unless the board is one
 * of tinygen's STM32 families; each family file provides tg_family_init.
 */
#include "tg_board.h"

#if defined(TG_BOARD_FAMILY_STM32L4) || defined(TG_BOARD_FAMILY_STM32H7) || \
    defined(TG_BOARD_FAMILY_STM32U5) || defined(TG_BOARD_FAMILY_STM32F4)

#include <stdint.h>

#include "tg_cortexm.h"
#include "tg_platform.h"
#include "tg_stm32_gpio.h"
#include "tg_stm32_usart.h"

void tg_stm32_gpio_mode(uint32_t port, uint32_t pin, uint32_t mode, uint32_t af)
{
    TG_GPIO_CLOCK_ENR |= 1u << port;
    (void)TG_GPIO_CLOCK_ENR;
    TG_GPIO_AFR(port, pin) = (TG_GPIO_AFR(port, pin) & ~(0xFu << (4u * (pin % 8u)))) |
                             (af << (4u * (pin % 8u)));
    TG_GPIO_OSPEEDR(port) |= 0x2u << (2u * pin);
    TG_GPIO_MODER(port) = (TG_GPIO_MODER(port) & ~(0x3u << (2u * pin))) | (mode << (2u * pin));
}

void tg_stm32_console_pins(void)
{
    tg_stm32_gpio_mode(TG_CONSOLE_TX_PORT, TG_CONSOLE_TX_PIN, TG_GPIO_MODE_AF, TG_CONSOLE_TX_AF);
    tg_stm32_gpio_mode(TG_CONSOLE_RX_PORT, TG_CONSOLE_RX_PIN, TG_GPIO_MODE_AF, TG_CONSOLE_RX_AF);
    TG_GPIO_PUPDR(TG_CONSOLE_RX_PORT) = (TG_GPIO_PUPDR(TG_CONSOLE_RX_PORT) &
                                         ~(0x3u << (2u * TG_CONSOLE_RX_PIN))) |
                                        (0x1u << (2u * TG_CONSOLE_RX_PIN));
}

void tg_stm32_energy_gpio_init(void)
{
#if TG_HAS_ENERGY_GPIO
    /* Idles high; tg_energy_timestamp pulls it low. */
    TG_GPIO_BSRR(TG_ENERGY_GPIO_PORT) = 1u << TG_ENERGY_GPIO_PIN;
    tg_stm32_gpio_mode(TG_ENERGY_GPIO_PORT, TG_ENERGY_GPIO_PIN, TG_GPIO_MODE_OUTPUT, 0u);
#endif
}

int tg_stm32_poll(volatile uint32_t *reg, uint32_t mask, uint32_t want, uint32_t limit)
{
    for (uint32_t i = 0; i < limit; ++i) {
        if ((*reg & mask) == want) {
            return 1;
        }
    }
    return 0;
}

void tg_family_irq(unsigned irq)
{
    if (irq != TG_CONSOLE_IRQ) {
        return;
    }
    tg_usart_irq();
}

/*
 * Faulty timestamps, built only on purpose by the energy tests (they add
 * the define to the generated tg_board.h) so that 'tinygen verify --mode
 * energy' is seen to catch them: 1 = the pulse is far shorter than 1 us,
 * 2 = every second timestamp is missing, 3 = 3 ms of other work follows
 * each pulse (so the timed window holds more than the N inferences).
 */
#ifndef TG_ENERGY_FAULT
#define TG_ENERGY_FAULT 0
#endif

void tg_energy_timestamp(void)
{
#if TG_HAS_ENERGY_GPIO
#if TG_ENERGY_FAULT == 2
    static uint32_t calls;
    if ((calls++ & 1u) != 0u) {
        return;
    }
#endif
    TG_GPIO_BSRR(TG_ENERGY_GPIO_PORT) = 1u << (TG_ENERGY_GPIO_PIN + 16u);
#if TG_ENERGY_FAULT != 1
    tg_delay_us(1u);
#endif
    TG_GPIO_BSRR(TG_ENERGY_GPIO_PORT) = 1u << TG_ENERGY_GPIO_PIN;
#if TG_ENERGY_FAULT == 3
    tg_delay_us(3000u);
#endif
#endif
}

void tg_platform_init(void)
{
    tg_family_init();
}

void tg_platform_wait(void)
{
    tg_wfi();
}

#endif
