/*
 * Nordic nRF52 (nRF52840, Cortex-M4F): UARTE console, HFXO, energy GPIO.
 * Register offsets from the nRF52840 Product Specification (CLOCK, GPIO,
 * UARTE chapters). Not run by tinygen's tests (no emulator models the
 * nRF52840): compiled and size-checked only.
 *
 * The UARTE moves bytes by EasyDMA only. Receive: one byte per DMA
 * transfer into a ring, ENDRX restarting the receiver by a short, and the
 * UARTE interrupt pointing RXD.PTR (double-buffered: taken at the next
 * start) at the slot after the one just started, so the receiver never
 * waits on the main loop. Transmit: one buffer in RAM per write, waiting
 * for ENDTX.
 */
#include <stddef.h>
#include <stdint.h>

#include "tg_board.h"
#include "tg_cortexm.h"
#include "tg_nrf_gpio.h"
#include "tg_platform.h"

#define CLOCK_HFCLKSTART TG_REG32(0x40000000u)
#define CLOCK_HFCLKSTARTED TG_REG32(0x40000100u)

#define UARTE_STARTRX TG_REG32(TG_CONSOLE_BASE + 0x000u)
#define UARTE_STARTTX TG_REG32(TG_CONSOLE_BASE + 0x008u)
#define UARTE_ENDRX TG_REG32(TG_CONSOLE_BASE + 0x110u)
#define UARTE_ENDTX TG_REG32(TG_CONSOLE_BASE + 0x120u)
#define UARTE_RXSTARTED TG_REG32(TG_CONSOLE_BASE + 0x14Cu)
#define UARTE_SHORTS TG_REG32(TG_CONSOLE_BASE + 0x200u)
#define UARTE_INTENSET TG_REG32(TG_CONSOLE_BASE + 0x304u)
#define UARTE_ENABLE TG_REG32(TG_CONSOLE_BASE + 0x500u)
#define UARTE_PSEL_TXD TG_REG32(TG_CONSOLE_BASE + 0x50Cu)
#define UARTE_PSEL_RXD TG_REG32(TG_CONSOLE_BASE + 0x514u)
#define UARTE_BAUDRATE TG_REG32(TG_CONSOLE_BASE + 0x524u)
#define UARTE_RXD_PTR TG_REG32(TG_CONSOLE_BASE + 0x534u)
#define UARTE_RXD_MAXCNT TG_REG32(TG_CONSOLE_BASE + 0x538u)
#define UARTE_TXD_PTR TG_REG32(TG_CONSOLE_BASE + 0x544u)
#define UARTE_TXD_MAXCNT TG_REG32(TG_CONSOLE_BASE + 0x548u)
#define UARTE_ENABLE_ON 8u
#define UARTE_SHORTS_ENDRX_STARTRX (1u << 5)
#define UARTE_INT_ENDRX (1u << 4)
#define UARTE_INT_RXSTARTED (1u << 19)

#define PSEL(port, pin) (((uint32_t)(port) << 5) | (uint32_t)(pin))

/* The UARTE's interrupt number: its instance's peripheral ID. */
#define TG_UARTE_IRQ ((TG_CONSOLE_BASE >> 12) & 0x3Fu)

#define TG_RX_SLOTS 256u
static volatile uint8_t tg_rx_ring[TG_RX_SLOTS];
static volatile uint32_t tg_rx_head;    /* slots filled by DMA */
static volatile uint32_t tg_rx_next;    /* slot RXD.PTR points at */
static uint32_t tg_rx_tail;

static uint32_t tg_nrf_baud(uint32_t baud)
{
    switch (baud) {
    case 9600u:
        return 0x00275000u;
    case 57600u:
        return 0x00EB0000u;
    case 230400u:
        return 0x03B00000u;
    default:
        return 0x01D7E000u; /* 115200 */
    }
}

void tg_family_init(void)
{
    CLOCK_HFCLKSTARTED = 0u;
    CLOCK_HFCLKSTART = 1u;
    for (uint32_t i = 0; i < 1000000u && CLOCK_HFCLKSTARTED == 0u; ++i) {
    }
    tg_systick_start(TG_BOARD_CLOCK_HZ);
    tg_nrf_gpio_output_high(TG_CONSOLE_TX_PORT, TG_CONSOLE_TX_PIN);
    UARTE_PSEL_TXD = PSEL(TG_CONSOLE_TX_PORT, TG_CONSOLE_TX_PIN);
    UARTE_PSEL_RXD = PSEL(TG_CONSOLE_RX_PORT, TG_CONSOLE_RX_PIN);
    UARTE_BAUDRATE = tg_nrf_baud(TG_CONSOLE_BAUD);
    UARTE_ENABLE = UARTE_ENABLE_ON;
    UARTE_RXD_MAXCNT = 1u;
    UARTE_RXD_PTR = (uint32_t)(uintptr_t)&tg_rx_ring[0];
    tg_rx_next = 0u;
    UARTE_SHORTS = UARTE_SHORTS_ENDRX_STARTRX;
    UARTE_INTENSET = UARTE_INT_ENDRX | UARTE_INT_RXSTARTED;
    tg_nvic_enable(TG_UARTE_IRQ);
    UARTE_STARTRX = 1u;
#if TG_HAS_ENERGY_GPIO
    tg_nrf_gpio_output_high(TG_ENERGY_GPIO_PORT, TG_ENERGY_GPIO_PIN);
#endif
}

void tg_family_irq(unsigned irq)
{
    if (irq != TG_UARTE_IRQ) {
        return;
    }
    if (UARTE_RXSTARTED != 0u) {
        UARTE_RXSTARTED = 0u;
        /* The transfer into slot tg_rx_next started; the next one goes on. */
        tg_rx_next = tg_rx_next + 1u;
        UARTE_RXD_PTR = (uint32_t)(uintptr_t)&tg_rx_ring[tg_rx_next % TG_RX_SLOTS];
    }
    if (UARTE_ENDRX != 0u) {
        UARTE_ENDRX = 0u;
        tg_rx_head = tg_rx_head + 1u;
    }
}

void tg_platform_init(void)
{
    tg_family_init();
}

void tg_console_write(const char *s, size_t n)
{
    static uint8_t buffer[64];
    while (n > 0u) {
        size_t chunk = n < sizeof buffer ? n : sizeof buffer;
        for (size_t i = 0; i < chunk; ++i) {
            buffer[i] = (uint8_t)s[i];  /* EasyDMA reads RAM only, not flash */
        }
        UARTE_ENDTX = 0u;
        UARTE_TXD_PTR = (uint32_t)(uintptr_t)buffer;
        UARTE_TXD_MAXCNT = (uint32_t)chunk;
        UARTE_STARTTX = 1u;
        while (UARTE_ENDTX == 0u) {
        }
        s += chunk;
        n -= chunk;
    }
}

int tg_console_getchar(void)
{
    if (tg_rx_tail == tg_rx_head) {
        return -1;
    }
    int byte = (int)tg_rx_ring[tg_rx_tail % TG_RX_SLOTS];
    tg_rx_tail = tg_rx_tail + 1u;
    return byte;
}

void tg_platform_wait(void)
{
    tg_wfi();
}
