/*
 * Streaming wakeword firmware (sww01): audio chunks in, features and an
 * inference every 32 ms hop, the detected pin pulsed when class 0 > 115.
 *
 * Console (`%`-terminated, every command answered and ended by m-ready):
 *   name, profile      as the other benchmarks (model id sww01)
 *   start              zeroes the window and the model input (int8 0, as the
 *                      reference does), arms the audio source
 *   stop               stops (or says it was idle) and prints the activation
 *                      summary of the last stream
 *   log                builds with a hop log only: features and outputs of
 *                      the first TG_SWW_LOG_HOPS hops
 * Per hop: processing pin high; shift the 1024-sample window by the new 512
 * (left channel); features; shift the 30x40 model input by one row; the
 * model; a ~1 us low pulse on the detected pin if out[0] > 115 and on the
 * first hop (sync); processing pin low. Hops run in thread context, between
 * commands; the pre-emphasis state is never reset (the reference's static).
 */
#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include "model.h"
#include "submitter_implemented.h"
#include "tg_board.h"
#include "tg_features.h"
#include "tg_platform.h"
#include "tg_print.h"
#include "tg_stream_config.h"

#define FRAMES 30u
#define MELS TG_FEAT_MELS
#define INPUT_BYTES (FRAMES * MELS)
#define CMD_MAX 80u

void tg_delay_us(uint32_t us);
#if TG_SWW_INCREMENTAL
/* Compiled into model.c from the plan (tinygen.plan.streaming,
 * templates/model/stream.c.j2): the newest row of each layer per hop,
 * bit-exact with the full window. */
void tg_model_stream_reset(void);
void tg_model_stream_step(const int8_t *window, int8_t *out);
static int8_t tg_out[TG_MODEL_OUTPUT_ELEMENTS];
#endif

static int16_t tg_window[TG_FEAT_WINDOW];
static int16_t tg_state;                 /* pre-emphasis: never reset */
static int8_t tg_input[INPUT_BYTES];
static float tg_feat[MELS];
static int tg_streaming;
static int tg_first;
static uint32_t tg_hops, tg_detections, tg_overruns;
static uint64_t tg_max_hop_us, tg_sum_hop_us;
#if TG_SWW_LOG_HOPS > 0
static int8_t tg_log[TG_SWW_LOG_HOPS][MELS + TG_MODEL_OUTPUT_ELEMENTS];
#endif

static void say(const char *fmt, ...)
{
    char line[200];
    va_list ap;
    va_start(ap, fmt);
    size_t n = tg_vformat(line, sizeof(line), fmt, ap);
    va_end(ap);
    tg_console_write(line, n);
}

#if TG_SWW_LOG_HOPS > 0
static size_t tg_format(char *out, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t n = tg_vformat(out, cap, fmt, ap);
    va_end(ap);
    return n;
}
#endif

static void process_hop(const int16_t *chunk)
{
    uint64_t t0 = tg_timestamp_us();
    tg_pin_processing(1);
    memmove(tg_window, tg_window + TG_FEAT_HOP, (TG_FEAT_WINDOW - TG_FEAT_HOP) * sizeof(int16_t));
    memcpy(tg_window + (TG_FEAT_WINDOW - TG_FEAT_HOP), chunk, TG_FEAT_HOP * sizeof(int16_t));
    tg_features_compute(tg_window, &tg_state, tg_feat);
    memmove(tg_input, tg_input + MELS, INPUT_BYTES - MELS);
    for (uint32_t i = 0u; i < MELS; ++i) {
        tg_input[INPUT_BYTES - MELS + i] = tg_features_quantize(tg_feat[i], TG_MODEL_INPUT_SCALE);
    }
#if TG_SWW_INCREMENTAL
#if !TG_SWW_FEATURES_ONLY   /* measurement builds that time the features alone */
    tg_model_stream_step(tg_input, tg_out);
#endif
    const int8_t *out = tg_out;
#else
    memcpy(tg_model_input(), tg_input, INPUT_BYTES);
#if !TG_SWW_FEATURES_ONLY
    tg_model_invoke();
#endif
    const int8_t *out = (const int8_t *)tg_model_output();
#endif
    int detected = out[0] > TG_SWW_THRESHOLD;
    if (detected || tg_first) {
        tg_pin_detected(0);
        tg_delay_us(1u);
        tg_pin_detected(1);
        tg_detections += detected ? 1u : 0u;
        tg_first = 0;
    }
#if TG_SWW_LOG_HOPS > 0
    if (tg_hops < TG_SWW_LOG_HOPS) {
        memcpy(tg_log[tg_hops], tg_input + INPUT_BYTES - MELS, MELS);
        memcpy(tg_log[tg_hops] + MELS, out, TG_MODEL_OUTPUT_ELEMENTS);
    }
#endif
    tg_hops += 1u;
    tg_pin_processing(0);
    uint64_t took = tg_timestamp_us() - t0;
    tg_sum_hop_us += took;
    if (took > tg_max_hop_us) {
        tg_max_hop_us = took;
    }
}

static void cmd_start(void)
{
    if (tg_streaming) {
        say("e-[already streaming; send stop first]\r\n");
        return;
    }
    memset(tg_window, 0, sizeof(tg_window));
    memset(tg_input, 0, sizeof(tg_input));
    tg_hops = tg_detections = tg_overruns = 0u;
    tg_max_hop_us = tg_sum_hop_us = 0u;
    tg_first = 1;
#if TG_SWW_INCREMENTAL
    tg_model_stream_reset();   /* the rings as the full window of zeros gives them */
#endif
    int err = tg_audio_start();
    if (err != 0) {
        say("e-[no audio source (error %d): start the emulator with an audio file "
            "(tinygen.device.sww_audio) or wire the I2S input]\r\n", err);
        return;
    }
    tg_streaming = 1;
#if TG_ENERGY_MODE
    tg_energy_timestamp();
#endif
    say("m-start-[streaming]\r\n");
}

static void cmd_stop(void)
{
    if (tg_streaming) {
        tg_audio_stop();
        tg_streaming = 0;
#if TG_ENERGY_MODE
        tg_energy_timestamp();
#endif
        say("m-stop-[streaming]\r\n");
    } else {
        say("m-stop-[idle]\r\n");
    }
    say("m-activations-[hops=%u,detections=%u,overruns=%u,max_hop_us=%u,mean_hop_us=%u]\r\n",
        (unsigned)tg_hops, (unsigned)tg_detections, (unsigned)tg_overruns,
        (unsigned)tg_max_hop_us, (unsigned)(tg_hops ? tg_sum_hop_us / tg_hops : 0u));
}

#if TG_SWW_LOG_HOPS > 0
static void cmd_log(void)
{
    uint32_t n = tg_hops < TG_SWW_LOG_HOPS ? tg_hops : TG_SWW_LOG_HOPS;
    for (uint32_t k = 0u; k < n; ++k) {
        char line[400];
        size_t len = 0u;
        for (uint32_t i = 0u; i < MELS + TG_MODEL_OUTPUT_ELEMENTS; ++i) {
            const char *fmt = i == 0u ? "m-hop-%u-[%d" : (i == MELS ? "]-[%d" : ",%d");
            len += i == 0u ? tg_format(line + len, sizeof(line) - len, fmt, (unsigned)k, tg_log[k][i])
                           : tg_format(line + len, sizeof(line) - len, fmt, tg_log[k][i]);
        }
        len += tg_format(line + len, sizeof(line) - len, "]\r\n");
        tg_console_write(line, len);
    }
}
#endif

static void run_command(char *cmd)
{
    if (strcmp(cmd, "name") == 0) {
        say("m-name-dut-[%s]\r\n", TH_VENDOR_NAME_STRING);
    } else if (strcmp(cmd, "profile") == 0) {
        say("m-profile-[%s]\r\n", TG_PROFILE_STRING);
        say("m-model-[%s]\r\n", TH_MODEL_VERSION);
    } else if (strcmp(cmd, "start") == 0) {
        cmd_start();
    } else if (strcmp(cmd, "stop") == 0) {
        cmd_stop();
#if TG_SWW_LOG_HOPS > 0
    } else if (strcmp(cmd, "log") == 0) {
        cmd_log();
#endif
    } else if (cmd[0] != '\0') {
        say("e-[Unknown command: %s]\r\n", cmd);
    }
    say("m-ready\r\n");
}

int main(void)
{
    static char cmd[CMD_MAX + 1u];
    uint32_t len = 0u;
    int too_long = 0;
    tg_platform_init();
    tg_stream_pins_init();
    tg_model_init();
    say("m-init-done\r\n");
    say("m-ready\r\n");
    for (;;) {
        if (tg_streaming) {
            uint32_t late = 0u;
            const int16_t *chunk = tg_audio_take(&late);
            if (chunk != 0) {
                tg_overruns += late;
                process_hop(chunk);
                continue;
            }
        }
        int c = tg_console_getchar();
        if (c == TG_CONSOLE_LOST) {
            too_long = 1;
        } else if (c < 0) {
            tg_platform_wait();
        } else if (c == '%') {
            cmd[len] = '\0';
            if (too_long) {
                say("e-[Command too long or input lost; ignored]\r\nm-ready\r\n");
            } else {
                /* Commands arrive with stray line ends from some hosts. */
                char *p = cmd;
                while (*p == '\r' || *p == '\n' || *p == ' ') {
                    ++p;
                }
                run_command(p);
            }
            len = 0u;
            too_long = 0;
        } else if (len < CMD_MAX) {
            cmd[len++] = (char)c;
        } else {
            too_long = 1;
        }
    }
}
