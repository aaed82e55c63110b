/*
 * The platform API: everything the benchmark harness needs from a board.
 *
 * One implementation per chip family in firmware/platform/<family>/
 * (stm32l4, mps2, host). Board specifics (clock, console UART, pins, baud)
 * come from the generated tg_board.h, never from this file.
 */
#ifndef TG_PLATFORM_H
#define TG_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Clocks, console UART (receive into a ring buffer), timestamp timer,
 * energy GPIO. Call once, first thing in main. */
void tg_platform_init(void);

/* Blocking: returns once every byte is handed to the UART. */
void tg_console_write(const char *s, size_t n);

/* Returned by tg_console_getchar where received bytes were lost. */
#define TG_CONSOLE_LOST (-2)

/* Next received byte 0..255, or -1 if none has arrived yet, or
 * TG_CONSOLE_LOST once at the place in the stream where bytes were dropped
 * (a receive queue that overflowed while the DUT was busy). */
int tg_console_getchar(void);

/* Monotonic microseconds since tg_platform_init; 64 bits, so it does not
 * wrap in any benchmark session. */
uint64_t tg_timestamp_us(void);

/* Energy mode: a falling edge on the timestamp GPIO, held low >= 1 us. */
void tg_energy_timestamp(void);

/* Nothing to do until the next interrupt (WFI on MCUs). */
void tg_platform_wait(void);

#ifdef __cplusplus
}
#endif

#endif /* TG_PLATFORM_H */
