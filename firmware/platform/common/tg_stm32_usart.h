/*
 * The console U(S)ART of the STM32 families (L4/L4+, H7, U5; the F4's
 * older layout by its own offsets): the same register block on all three (RM0351/RM0432, RM0455, RM0456; FIFO off, so
 * RXFNE/TXFNF act as RXNE/TXE), interrupt-driven receive into a ring
 * buffer, blocking transmit. Implemented in tg_stm32_usart.c; the family
 * file sets up pins and the kernel clock, then calls tg_usart_start with
 * the baud divisor and hands its console interrupt to tg_usart_irq.
 */
#ifndef TG_STM32_USART_H
#define TG_STM32_USART_H

#include <stdint.h>

#include "tg_board.h"
#include "tg_cortexm.h"

#if defined(TG_BOARD_FAMILY_STM32F4)
/* The F4's older USART (RM0090, RM0390): status and data in SR and DR,
 * the same status bits; an error is cleared by reading SR, then DR. */
#define TG_UART_ISR TG_REG32(TG_CONSOLE_BASE + 0x00u)
#define TG_UART_RDR TG_REG32(TG_CONSOLE_BASE + 0x04u)
#define TG_UART_TDR TG_REG32(TG_CONSOLE_BASE + 0x04u)
#define TG_UART_BRR TG_REG32(TG_CONSOLE_BASE + 0x08u)
#define TG_UART_CR1 TG_REG32(TG_CONSOLE_BASE + 0x0Cu)
#define TG_UART_CR1_UE (1u << 13)
#define tg_uart_clear_errors() ((void)TG_UART_RDR)
#else
#define TG_UART_CR1 TG_REG32(TG_CONSOLE_BASE + 0x00u)
#define TG_UART_BRR TG_REG32(TG_CONSOLE_BASE + 0x0Cu)
#define TG_UART_ISR TG_REG32(TG_CONSOLE_BASE + 0x1Cu)
#define TG_UART_ICR TG_REG32(TG_CONSOLE_BASE + 0x20u)
#define TG_UART_RDR TG_REG32(TG_CONSOLE_BASE + 0x24u)
#define TG_UART_TDR TG_REG32(TG_CONSOLE_BASE + 0x28u)
#define TG_UART_CR1_UE (1u << 0)
/* Parity, framing, noise, overrun and idle flags, cleared in ICR. */
#define tg_uart_clear_errors() (TG_UART_ICR = 0x1Fu)
#endif

/* Resets the receive ring, enables receiver, transmitter and the receive
 * interrupt (NVIC priority 0x80, above SysTick) with BRR = brr. */
void tg_usart_start(uint32_t brr);

/* The console interrupt: drains the receiver into the ring. */
void tg_usart_irq(void);

#endif /* TG_STM32_USART_H */
