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

/* Audio source (streaming benchmarks, sww01): 16 kHz, 16-bit mono chunks
 * of TG_AUDIO_CHUNK samples (32 ms), the left channel of the I2S stream.
 * One contract, two kinds of implementation in platform/audio/: a real
 * receiver (SAI as I2S slave with DMA ping-pong, tg_audio_sai_stm32l4.c)
 * and the emulated one (tg_audio_semihost.c: a host file read in virtual
 * time). Only streaming builds link one. */
#define TG_AUDIO_CHUNK 512u

/* Arms the source: the first chunk is the first TG_AUDIO_CHUNK samples
 * that arrive from now on. 0 on success, else a negative error (no
 * audio source). */
int tg_audio_start(void);

/* Stops receiving; chunks not taken are dropped. */
void tg_audio_stop(void);

/* The next complete chunk (valid until the next call), or NULL if none
 * has arrived yet. *late is set to the number of chunks that arrived
 * while the previous one was still being processed (overruns). */
const int16_t *tg_audio_take(uint32_t *late);

/* The streaming pins: wakeword detected (idles high, pulsed low) and
 * processing (high while a chunk is processed). Implemented with the
 * audio source (platform/audio/tg_stream_pins.c). */
void tg_stream_pins_init(void);
void tg_pin_detected(int level);
void tg_pin_processing(int level);

#ifdef __cplusplus
}
#endif

#endif /* TG_PLATFORM_H */
