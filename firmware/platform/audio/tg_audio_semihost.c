/*
 * Emulated audio source for QEMU boards: the samples come from a host file
 * through ARM semihosting (QEMU -semihosting-config enable=on,target=native,
 * arg=<file>; tinygen.device.sww_audio writes the file: raw little-endian int16,
 * the WAV's left channel) and are delivered as a DMA would: chunk n becomes
 * available (n + 1) x 32 ms of virtual time after tg_audio_start, checked
 * against the SysTick timestamp (1 ms resolution: the main loop sleeps in
 * WFI between SysTick interrupts). The host file is read only when a chunk
 * is due, so a stream of any length needs no guest memory. After the last
 * complete chunk the source runs dry, as an I2S line goes quiet when the
 * interface board stops playing.
 */
#include <stdint.h>

#include "tg_platform.h"

#define SYS_OPEN 0x01u
#define SYS_READ 0x06u
#define SYS_SEEK 0x0Au
#define SYS_GET_CMDLINE 0x15u
#define CHUNK_US 32000u  /* 512 samples at 16 kHz */

static int16_t tg_chunk[TG_AUDIO_CHUNK];
static int32_t tg_handle = -1;
static int tg_running;
static uint64_t tg_start_us;
static uint32_t tg_taken;

static int32_t tg_semihost(uint32_t op, void *arg)
{
    register uint32_t r0 __asm__("r0") = op;
    register void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return (int32_t)r0;
}

static int32_t tg_open_audio(void)
{
    static char name[256];
    uint32_t cmd[2] = {(uint32_t)(uintptr_t)name, sizeof(name) - 1u};
    if (tg_semihost(SYS_GET_CMDLINE, cmd) != 0 || cmd[1] == 0u) {
        return -1;
    }
    /* The command line is the one argument: the file's path. */
    uint32_t len = cmd[1];
    while (len > 0u && (name[len - 1u] == ' ' || name[len - 1u] == '\0')) {
        --len;
    }
    name[len] = '\0';
    uint32_t open_args[3] = {(uint32_t)(uintptr_t)name, 1u /* "rb" */, len};
    return tg_semihost(SYS_OPEN, open_args);
}

int tg_audio_start(void)
{
    if (tg_handle < 0) {
        tg_handle = tg_open_audio();
        if (tg_handle < 0) {
            return -1;
        }
    }
    uint32_t seek[2] = {(uint32_t)tg_handle, 0u};
    if (tg_semihost(SYS_SEEK, seek) != 0) {
        return -2;
    }
    tg_taken = 0u;
    tg_start_us = tg_timestamp_us();
    tg_running = 1;
    return 0;
}

void tg_audio_stop(void)
{
    tg_running = 0;
}

const int16_t *tg_audio_take(uint32_t *late)
{
    *late = 0u;
    if (!tg_running) {
        return 0;
    }
    uint64_t now = tg_timestamp_us();
    uint64_t due = tg_start_us + (uint64_t)(tg_taken + 1u) * CHUNK_US;
    if (now < due) {
        return 0;
    }
    uint32_t args[3] = {(uint32_t)tg_handle, (uint32_t)(uintptr_t)tg_chunk, sizeof(tg_chunk)};
    if (tg_semihost(SYS_READ, args) != 0) {
        tg_running = 0;  /* the stream ended: no complete chunk is left */
        return 0;
    }
    tg_taken += 1u;
    /* Chunks already due beyond this one arrived during the last hop. */
    *late = (uint32_t)((now - due) / CHUNK_US);
    return tg_chunk;
}
