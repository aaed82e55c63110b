/*
 * Console U(S)ART shared by the STM32 families (see tg_stm32_usart.h):
 * tg_console_write / tg_console_getchar of tg_platform.h and the receive
 * interrupt. Compiled with common/ for every MCU board, empty unless the
 * board is one of tinygen's STM32 families.
 *
 * Receive ring: the interrupt writes head, the main loop reads tail.
 * Entries are bytes, or a lost mark where bytes were dropped because the
 * ring was full: the last free slot is kept for that mark, so the harness
 * learns where input went missing (it answers the damaged command with an
 * e- line) instead of losing it silently. A host that waits for m-ready
 * before the next command (the protocol; DutSession does) sends at most 81
 * bytes at a time, so only a misbehaving host can fill the ring. The marks
 * are one bit per slot beside the byte ring (288 bytes of RAM, where 16-bit
 * entries took 512); only the interrupt writes ring and bits, the main loop
 * reads slots it owns (tail to head).
 */
#include "tg_board.h"

#if defined(TG_BOARD_FAMILY_STM32L4) || defined(TG_BOARD_FAMILY_STM32H7) || \
    defined(TG_BOARD_FAMILY_STM32U5) || defined(TG_BOARD_FAMILY_STM32F4)

#include <stddef.h>
#include <stdint.h>

#include "tg_cortexm.h"
#include "tg_platform.h"
#include "tg_stm32_usart.h"

#define TG_UART_CR1_RE (1u << 2)
#define TG_UART_CR1_TE (1u << 3)
#define TG_UART_CR1_RXNEIE (1u << 5)
#define TG_UART_ISR_RXNE (1u << 5)
#define TG_UART_ISR_TXE (1u << 7)
#define TG_UART_ISR_ERRORS 0xFu    /* parity, framing, noise, overrun */

#define TG_RX_RING_BYTES 256u
static volatile uint8_t tg_rx_ring[TG_RX_RING_BYTES];
static volatile uint32_t tg_rx_lost[TG_RX_RING_BYTES / 32u];
static volatile uint32_t tg_rx_head;
static volatile uint32_t tg_rx_tail;

static int tg_rx_is_mark(uint32_t slot)
{
    return (tg_rx_lost[slot / 32u] >> (slot % 32u)) & 1u;
}

/* Interrupt context only. */
static void tg_rx_put(uint32_t head, uint8_t byte, int mark)
{
    uint32_t slot = head % TG_RX_RING_BYTES;
    uint32_t bit = 1u << (slot % 32u);
    tg_rx_ring[slot] = byte;
    tg_rx_lost[slot / 32u] = mark ? (tg_rx_lost[slot / 32u] | bit)
                                  : (tg_rx_lost[slot / 32u] & ~bit);
    tg_rx_head = head + 1u;    /* published after the slot is written */
}

void tg_usart_start(uint32_t brr)
{
    TG_UART_CR1 = 0u;
    TG_UART_BRR = brr;
    tg_rx_head = 0u;
    tg_rx_tail = 0u;
    tg_uart_clear_errors();
    TG_UART_CR1 = TG_UART_CR1_UE | TG_UART_CR1_RE | TG_UART_CR1_TE | TG_UART_CR1_RXNEIE;
    TG_NVIC_IPR_BYTE(TG_CONSOLE_IRQ) = 0x80u;
    tg_nvic_enable(TG_CONSOLE_IRQ);
}

void tg_usart_irq(void)
{
    uint32_t isr = TG_UART_ISR;
    while (isr & TG_UART_ISR_RXNE) {
        uint8_t byte = (uint8_t)TG_UART_RDR;
        uint32_t head = tg_rx_head;
        uint32_t used = head - tg_rx_tail;
        if (used < TG_RX_RING_BYTES - 1u) {
            tg_rx_put(head, byte, 0);
        } else if (used == TG_RX_RING_BYTES - 1u &&
                   !tg_rx_is_mark((head - 1u) % TG_RX_RING_BYTES)) {
            /* The byte is dropped; the mark in the last slot says so. */
            tg_rx_put(head, 0u, 1);
        }
        /* else: dropped, and a mark already stands at the end of the ring */
        isr = TG_UART_ISR;
    }
    /* Overrun or line errors keep the interrupt asserted until cleared. */
    if (isr & TG_UART_ISR_ERRORS) {
        tg_uart_clear_errors();
    }
}

void tg_console_write(const char *s, size_t n)
{
    for (size_t i = 0; i < n; ++i) {
        while (!(TG_UART_ISR & TG_UART_ISR_TXE)) {
        }
        TG_UART_TDR = (uint8_t)s[i];
    }
}

int tg_console_getchar(void)
{
    uint32_t tail = tg_rx_tail;
    if (tail == tg_rx_head) {
        return -1;
    }
    uint32_t slot = tail % TG_RX_RING_BYTES;
    int entry = tg_rx_is_mark(slot) ? TG_CONSOLE_LOST : (int)tg_rx_ring[slot];
    tg_rx_tail = tail + 1u;
    return entry;
}

#endif
