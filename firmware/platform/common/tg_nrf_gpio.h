/*
 * Nordic GPIO, shared by the nrf51 and nrf52 families: the nRF51's one port
 * has the register layout of the nRF52840's P0, and P1 follows 0x300 after
 * it (nRF51 Series Reference Manual and nRF52840 Product Specification,
 * GPIO chapters). A pin is (port, number); tg_board.h gives the console's
 * and the energy pin's.
 */
#ifndef TG_NRF_GPIO_H
#define TG_NRF_GPIO_H

#include <stdint.h>

#include "tg_cortexm.h"

#define TG_NRF_GPIO_PORT(p) (0x50000000u + 0x300u * (uint32_t)(p))
#define TG_NRF_GPIO_OUTSET(p) TG_REG32(TG_NRF_GPIO_PORT(p) + 0x508u)
#define TG_NRF_GPIO_OUTCLR(p) TG_REG32(TG_NRF_GPIO_PORT(p) + 0x50Cu)
#define TG_NRF_GPIO_PIN_CNF(p, n) TG_REG32(TG_NRF_GPIO_PORT(p) + 0x700u + 4u * (uint32_t)(n))
#define TG_NRF_GPIO_CNF_OUTPUT 1u

/* The pin an output, driven high (a UART's idle level, the energy pin's
 * resting level) before it is switched to output, so it never glitches low. */
static inline void tg_nrf_gpio_output_high(uint32_t port, uint32_t pin)
{
    TG_NRF_GPIO_OUTSET(port) = 1u << pin;
    TG_NRF_GPIO_PIN_CNF(port, pin) = TG_NRF_GPIO_CNF_OUTPUT;
}

#endif
