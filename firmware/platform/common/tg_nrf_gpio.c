/*
 * The energy timestamp of the Nordic families (nrf51, nrf52): the pin low
 * for about 1 us, then high again. Compiled with common/ for every MCU
 * board, empty unless the board is one of those families.
 */
#include "tg_board.h"

#if defined(TG_BOARD_FAMILY_NRF51) || defined(TG_BOARD_FAMILY_NRF52)

#include "tg_nrf_gpio.h"
#include "tg_platform.h"

void tg_energy_timestamp(void)
{
#if TG_HAS_ENERGY_GPIO
    TG_NRF_GPIO_OUTCLR(TG_ENERGY_GPIO_PORT) = 1u << TG_ENERGY_GPIO_PIN;
    tg_delay_us(1u);
    TG_NRF_GPIO_OUTSET(TG_ENERGY_GPIO_PORT) = 1u << TG_ENERGY_GPIO_PIN;
#endif
}

#endif
