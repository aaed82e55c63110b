/*
 * libFuzzer target: the real benchmark harness, a real generated port
 * (submitter_implemented.c, model.c) and the real kernels, behind a fuzzing
 * platform layer of its own instead of firmware/platform/<family>/.
 *
 * Each input is one session as a host would type it: the target boots the
 * harness (ee_benchmark_initialize), feeds the input byte by byte to
 * ee_serial_callback, exactly as tg_main.c feeds received characters, and
 * checks what the firmware printed. Besides the sanitizers (AddressSanitizer,
 * UndefinedBehaviorSanitizer) it traps on a broken protocol promise:
 *   - every line ends in CR LF and is printable ASCII;
 *   - every '%' is answered by exactly one m-ready;
 *   - a command prints at most one e-[...] line, and it ends in ']'.
 *
 * The fuzzing platform has no I/O: console output goes into a line checker,
 * there is never input to poll (the input is pushed in), the timestamp is a
 * counter (so a run is a pure function of its input, as libFuzzer needs).
 *
 * Bounded by design: `infer 1000000000 0` is a valid command that runs for
 * days on a board, and one real inference of vww01 under the sanitizers
 * takes longer than a thousand harness commands. A fuzz input must end in
 * well under a millisecond, so the platform bounds both:
 *   - the model: it is a pure function of its input tensor (proven bit-exact
 *     with TFLM by the compiler tests); what fuzzing adds is sanitizer
 *     coverage of the kernels on odd tensors, for which a sample suffices.
 *     After each th_load_tensor the platform hashes the tensor the port made;
 *     the real model runs on the tensors whose hash falls in a 1-in-S sample,
 *     S = TG_MODEL_MACS / TG_FUZZ_MACS_PER_INFER + 1, so a fuzzed inference
 *     costs about that many MACs on average whatever the model, and at most
 *     once per input (an input that repeats `infer` on one tensor would run
 *     the same inference again, and a long one hit the 10 s hang limit). The
 *     choice depends only on the input, so runs repeat. Other inferences skip
 *     the model; the harness loop and th_results still run, on the output of
 *     the last real run. (benchmarks/fuzz.py compiles the kernels and model.c
 *     with the sanitizers but without coverage feedback: their paths follow
 *     the shapes, not the data the fuzzer controls, and comparison tracing in
 *     their inner loops made one kws01 inference take seconds.)
 *   - the loop: past TG_FUZZ_INFER_BUDGET th_infer calls in one input the
 *     platform ends the input there, as a watchdog would, with longjmp back
 *     to the entry point. What a long run adds over a short one is only the
 *     loop counter, whose range the count parser bounds (EE_MAX_COUNT), so
 *     nothing the budget cuts off is left unchecked.
 * Inputs cut short and real inferences are counted and printed at exit
 * (environment TG_FUZZ_STATS set); with TG_FUZZ_STATS set, a line every
 * TG_FUZZ_PROGRESS_EVERY inputs lets benchmarks/fuzz.py show progress
 * (libFuzzer itself reports only at powers of two and on new coverage).
 *
 * The harness source is included, not linked, so that every input starts
 * from the state a fresh boot has (its state is static, and a fuzz input
 * must not depend on the ones before it).
 */
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../harness/internally_implemented.c"
#include "model.h"
#include "tg_platform.h"

#ifndef TG_FUZZ_INFER_BUDGET
#define TG_FUZZ_INFER_BUDGET 256u
#endif
#ifndef TG_FUZZ_MACS_PER_INFER
#define TG_FUZZ_MACS_PER_INFER 16384u
#endif
#define TG_FUZZ_MODEL_SAMPLE ((uint32_t)(TG_MODEL_MACS / TG_FUZZ_MACS_PER_INFER) + 1u)
#define TG_FUZZ_TENSOR_BYTES \
    ((size_t)TG_MODEL_INPUT_ELEMENTS * (TG_MODEL_INPUT_IS_FLOAT ? sizeof(float) : 1u))
#define TG_FUZZ_LINE_BYTES 8192u
#ifndef TG_FUZZ_PROGRESS_EVERY
#define TG_FUZZ_PROGRESS_EVERY 100000u
#endif

/* Declared by the linker's --wrap=tg_model_invoke --wrap=th_load_tensor. */
void __real_tg_model_invoke(void);
void __wrap_tg_model_invoke(void);
void __real_th_load_tensor(void);
void __wrap_th_load_tensor(void);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct tg_fuzz {
    char line[TG_FUZZ_LINE_BYTES];
    size_t line_len;
    unsigned long readies;       /* m-ready lines printed this input */
    unsigned long errors;        /* e- lines since the last m-ready */
    unsigned long inferences;    /* th_infer calls this input */
    int run_model;               /* the loaded tensor is in the sample */
    int model_ran;               /* the real model ran in this input */
    unsigned long long clock_us;
    int booted;
    jmp_buf watchdog;
};

static struct tg_fuzz fz;

struct tg_fuzz_stats {
    unsigned long long inputs;
    unsigned long long bounded;  /* inputs ended by the inference budget */
    unsigned long long real_inferences;
    int report;                  /* TG_FUZZ_STATS is set */
};

static struct tg_fuzz_stats stats;

static void tg_fuzz_fail(const char *why)
{
    fprintf(stderr, "fuzz_harness: protocol violation: %s (line '%.*s')\n", why,
            (int)(fz.line_len > 200u ? 200u : fz.line_len), fz.line);
    abort();
}

static void tg_fuzz_check_line(void)
{
    size_t i;
    const char *s = fz.line;
    size_t n = fz.line_len;
    if (n == 0u || s[n - 1u] != '\r') {
        tg_fuzz_fail("line not ended by CR LF");
    }
    n--;
    for (i = 0; i < n; i++) {
        if (s[i] < ' ' || s[i] > '~') {
            tg_fuzz_fail("non-printable character in a line");
        }
    }
    if (n == 7u && memcmp(s, "m-ready", 7u) == 0) {
        fz.readies++;
        fz.errors = 0;
    } else if (n >= 2u && s[0] == 'e' && s[1] == '-') {
        fz.errors++;
        if (fz.errors > 1u) {
            tg_fuzz_fail("two e- lines for one command");
        }
        if (n < 4u || s[2] != '[' || s[n - 1u] != ']') {
            tg_fuzz_fail("e- line is not e-[...]");
        }
    }
}

/* ---- the fuzzing platform (tg_platform.h) ---- */

void tg_platform_init(void)
{
}

void tg_console_write(const char *s, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        if (s[i] == '\n') {
            tg_fuzz_check_line();
            fz.line_len = 0;
        } else if (fz.line_len < TG_FUZZ_LINE_BYTES) {
            fz.line[fz.line_len++] = s[i];
        } else {
            tg_fuzz_fail("line longer than the checker's buffer");
        }
    }
}

int tg_console_getchar(void)
{
    return -1;   /* input is pushed by the fuzzer, never polled */
}

uint64_t tg_timestamp_us(void)
{
    fz.clock_us += 7u;
    return fz.clock_us;
}

void tg_energy_timestamp(void)
{
}

void tg_platform_wait(void)
{
}

/* ---- the model sample and the inference budget ---- */

/* FNV-1a with a final mix, so that the low bits used for sampling are good. */
static uint32_t tg_fuzz_hash(const uint8_t *p, size_t n)
{
    uint32_t h = 2166136261u;
    size_t i;
    for (i = 0; i < n; i++) {
        h = (h ^ p[i]) * 16777619u;
    }
    h ^= h >> 16;
    h *= 0x7feb352du;
    h ^= h >> 15;
    return h;
}

void __wrap_th_load_tensor(void)
{
    __real_th_load_tensor();
    fz.run_model = tg_fuzz_hash((const uint8_t *)tg_model_input(), TG_FUZZ_TENSOR_BYTES) %
                       TG_FUZZ_MODEL_SAMPLE == 0u;
}

void __wrap_tg_model_invoke(void)
{
    fz.inferences++;
    if (fz.inferences > TG_FUZZ_INFER_BUDGET) {
        longjmp(fz.watchdog, 1);
    }
    if (fz.run_model && !fz.model_ran) {
        fz.model_ran = 1;
        stats.real_inferences++;
        __real_tg_model_invoke();
    }
}

static void tg_fuzz_print_stats(void)
{
    if (stats.report) {
        fprintf(stderr, "fuzz_harness: inputs %llu, bounded by the inference budget %llu, "
                        "real inferences %llu\n",
                stats.inputs, stats.bounded, stats.real_inferences);
    }
}

/* ---- the entry point ---- */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t i;
    unsigned long percents = 0;
    if (!fz.booted) {
        fz.booted = 1;
        stats.report = getenv("TG_FUZZ_STATS") != NULL;
        atexit(tg_fuzz_print_stats);
    }
    /* A fresh boot: harness state, download buffer, platform, checker. */
    memset(&ee, 0, sizeof ee);
    memset(ee_get_buffer_pointer(), 0, MAX_DB_INPUT_SIZE);
    fz.line_len = 0;
    fz.readies = 0;
    fz.errors = 0;
    fz.inferences = 0;
    fz.run_model = 0;
    fz.model_ran = 0;
    fz.clock_us = 0;
    stats.inputs++;
    if (stats.report && stats.inputs % TG_FUZZ_PROGRESS_EVERY == 0u) {
        fprintf(stderr, "fuzz_harness: progress %llu inputs\n", stats.inputs);
    }

    ee_benchmark_initialize();
    if (fz.readies != 1u || fz.line_len != 0u) {
        tg_fuzz_fail("boot banner did not end in one m-ready");
    }
    fz.readies = 0;

    if (setjmp(fz.watchdog) != 0) {
        stats.bounded++;
        return 0;
    }
    for (i = 0; i < size; i++) {
        if (data[i] == '%') {
            percents++;
        }
        ee_serial_callback((char)data[i]);
        if (fz.readies != percents) {
            tg_fuzz_fail("a '%' was not answered by exactly one m-ready");
        }
    }
    if (fz.line_len != 0u) {
        tg_fuzz_fail("output ends in the middle of a line");
    }
    return 0;
}
