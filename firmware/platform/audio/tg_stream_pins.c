/*
 * The streaming pins (detected, processing) from the build's
 * tg_stream_config.h (tinygen.port.sww_pins decides them per board):
 * STM32 GPIO through BSRR (the reference board's PB8 and PE9), or bits of
 * a plain register on boards without GPIO (MPS2/MPS3: the FPGAIO LED
 * register), or nothing on the host.
 */
#include <stdint.h>

#include "tg_board.h"
#include "tg_platform.h"
#include "tg_stream_config.h"

#if TG_SWW_PINS_STM32
#include "tg_stm32_gpio.h"

void tg_stream_pins_init(void)
{
    TG_GPIO_BSRR(TG_SWW_DETECTED_PORT) = 1u << TG_SWW_DETECTED_PIN;
    tg_stm32_gpio_mode(TG_SWW_DETECTED_PORT, TG_SWW_DETECTED_PIN, TG_GPIO_MODE_OUTPUT, 0u);
    TG_GPIO_BSRR(TG_SWW_PROCESSING_PORT) = 1u << (TG_SWW_PROCESSING_PIN + 16u);
    tg_stm32_gpio_mode(TG_SWW_PROCESSING_PORT, TG_SWW_PROCESSING_PIN, TG_GPIO_MODE_OUTPUT, 0u);
}

void tg_pin_detected(int level)
{
    TG_GPIO_BSRR(TG_SWW_DETECTED_PORT) = 1u << (TG_SWW_DETECTED_PIN + (level ? 0u : 16u));
}

void tg_pin_processing(int level)
{
    TG_GPIO_BSRR(TG_SWW_PROCESSING_PORT) = 1u << (TG_SWW_PROCESSING_PIN + (level ? 0u : 16u));
}

#elif TG_SWW_PINS_REGISTER
#define TG_SWW_REG (*(volatile uint32_t *)TG_SWW_PIN_REGISTER)

static void tg_pin_bit(uint32_t bit, int level)
{
    uint32_t v = TG_SWW_REG;
    TG_SWW_REG = level ? (v | (1u << bit)) : (v & ~(1u << bit));
}

void tg_stream_pins_init(void)
{
    TG_SWW_REG = 1u << TG_SWW_DETECTED_BIT;
}

void tg_pin_detected(int level)
{
    tg_pin_bit(TG_SWW_DETECTED_BIT, level);
}

void tg_pin_processing(int level)
{
    tg_pin_bit(TG_SWW_PROCESSING_BIT, level);
}

#else
void tg_stream_pins_init(void)
{
}

void tg_pin_detected(int level)
{
    (void)level;
}

void tg_pin_processing(int level)
{
    (void)level;
}
#endif
