/*
 * GPIO of the STM32 families (L4/L4+, H7, U5, F4): the same register block
 * on all four (RM0351/RM0432, RM0455, RM0456, RM0090/RM0390), each at its family's address
 * with its port clocks in one of its family's RCC registers. On top of it
 * the parts of a family file that do not differ: the console pins, the
 * energy timestamp pin, bounded register polls. Implemented in
 * tg_stm32_gpio.c; the family file keeps its clock tree and the console's
 * kernel clock.
 */
#ifndef TG_STM32_GPIO_H
#define TG_STM32_GPIO_H

#include <stdint.h>

#include "tg_board.h"
#include "tg_cortexm.h"

#if defined(TG_BOARD_FAMILY_STM32L4)
#define TG_GPIO_BASE 0x48000000u
#define TG_GPIO_CLOCK_ENR TG_REG32(0x40021000u + 0x4Cu) /* RCC_AHB2ENR */
#elif defined(TG_BOARD_FAMILY_STM32H7)
#define TG_GPIO_BASE 0x58020000u
#define TG_GPIO_CLOCK_ENR TG_REG32(0x58024400u + 0x0E0u) /* RCC_AHB4ENR */
#elif defined(TG_BOARD_FAMILY_STM32U5)
#define TG_GPIO_BASE 0x42020000u
#define TG_GPIO_CLOCK_ENR TG_REG32(0x46020C00u + 0x08Cu) /* RCC_AHB2ENR1 */
#elif defined(TG_BOARD_FAMILY_STM32F4)
#define TG_GPIO_BASE 0x40020000u
#define TG_GPIO_CLOCK_ENR TG_REG32(0x40023800u + 0x30u) /* RCC_AHB1ENR */
#endif

/* Ports A.. 0x400 apart. */
#define TG_GPIO_PORT(port) (TG_GPIO_BASE + 0x400u * (uint32_t)(port))
#define TG_GPIO_MODER(port) TG_REG32(TG_GPIO_PORT(port) + 0x00u)
#define TG_GPIO_OSPEEDR(port) TG_REG32(TG_GPIO_PORT(port) + 0x08u)
#define TG_GPIO_PUPDR(port) TG_REG32(TG_GPIO_PORT(port) + 0x0Cu)
#define TG_GPIO_BSRR(port) TG_REG32(TG_GPIO_PORT(port) + 0x18u)
#define TG_GPIO_AFR(port, pin) TG_REG32(TG_GPIO_PORT(port) + 0x20u + 4u * ((uint32_t)(pin) / 8u))
#define TG_GPIO_MODE_OUTPUT 0x1u
#define TG_GPIO_MODE_AF 0x2u

/* Clocks the port, then sets the pin's alternate function, high speed and mode. */
void tg_stm32_gpio_mode(uint32_t port, uint32_t pin, uint32_t mode, uint32_t af);

/* The console's TX and RX pins to their alternate function, with a pull-up
 * on RX so that an unplugged line reads idle. */
void tg_stm32_console_pins(void);

/* The energy timestamp pin as an output idling high (boards that have one). */
void tg_stm32_energy_gpio_init(void);

/* Waits until (*reg & mask) == want, at most `limit` reads: 1 if it did.
 * Every ready flag is polled this way; QEMU models some of them only. */
int tg_stm32_poll(volatile uint32_t *reg, uint32_t mask, uint32_t want, uint32_t limit);

#endif /* TG_STM32_GPIO_H */
