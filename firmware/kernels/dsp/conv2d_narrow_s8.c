/*
 * Pointwise convolution of an 8- or 16-channel input on cores with the DSP
 * extension (tg_conv2d_pw8_s8_dsp and tg_conv2d_pw16_s8_dsp, tg_kernels.h;
 * tinygen/plan/ops.py conv_pw8_eligible and conv_pw16_eligible offer them,
 * tinygen/plan/variants.py takes them): vww01's 8 -> 16 layer on its 48x48
 * map and 16 -> 32 on 24x24.
 *
 * Why a kernel of its own: with 8 multiply-accumulates per output the
 * general kernels' per-block bookkeeping (pointer reloads, widened-input
 * scratch, requantization records loaded per three pixels) cost more than
 * the multiplies. Here two pixels' whole inputs stay widened in registers
 * (r2-r5 pixel 0, r6-r9 pixel 1: (x0, x2), (x1, x3), (x4, x6), (x5, x7),
 * the order SXTB16 splits a word in) for every output channel, so a
 * channel costs its record (bias, 4 weight pairs, mult, rz, e: one LDM of
 * 3, two of 2 and a load), 8 SMLAD, the requantization of both pixels and
 * two byte stores.
 *
 * The stream (tinygen/plan/ops.py pw8_stream; weights and bias doubled so
 * the accumulator is 2 * acc as SMMLAR takes it) is copied once into
 * scratch (ops.py conv_pw8_scratch), so flash is read once per layer, not
 * per pixel pair.
 *
 * Both pixels' inputs are in registers before any of their outputs is
 * written, so the output may overlap the input as the planner allows for
 * the portable kernel.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tg_rows_dot_dsp.h"

/* The activation's clamp where it is narrower than int8 (the passes
 * saturate to int8 only), four outputs a word: out_c % 4 == 0. */
static void clamp_outputs_dsp(const tg_conv_params *p, int8_t *output, int32_t pixels)
{
    if (p->act_min > -128 || p->act_max < 127) {
        const uint32_t lo4 = tg_splat_s8(p->act_min);
        const uint32_t hi4 = tg_splat_s8(p->act_max);
        uint32_t *w = (uint32_t *)(void *)output;
        uint32_t *wend = w + (size_t)pixels * (size_t)p->out_c / 4u;
        for (; w < wend; ++w) {
            *w = tg_clamp4_dsp(*w, lo4, hi4);
        }
    }
}

/* Words per output channel in the stream. */
#define TG_PW8_CHANNEL_WORDS 8

typedef struct {
    int32_t step1;             /* 0: pixel 1's outputs - pixel 0's (0: one pixel) */
    const int32_t *stream;     /* 4 */
    const int32_t *stream_end; /* 8 */
    const int8_t *x;           /* 12: pixel 0's input */
    int32_t xstep;             /* 16: pixel 1's input - pixel 0's (8, or 0: one pixel) */
    int32_t pairs;             /* 20: pixel pairs left */
    int8_t *out;               /* 24: pixel 0's outputs */
} tg_pw8_pass;

/* One output channel of both pixels (r0 at its record, r1 at pixel 0's
 * output byte). The round-half-away fix for negative accumulators is left
 * out: conv_pw8_eligible asks act_min >= the output zero point, where every
 * output of a negative accumulator clamps to act_min either way. */
#define TG_PW8_CHANNEL                                            \
    "ldm    r0!, {r10, r12, lr}\n\t"                              \
    "smlad  r11, r6, r12, r10\n\t"                                \
    "smlad  r10, r2, r12, r10\n\t"                                \
    "smlad  r10, r3, lr, r10\n\t"                                 \
    "smlad  r11, r7, lr, r11\n\t"                                 \
    "ldm    r0!, {r12, lr}\n\t"                                   \
    "smlad  r10, r4, r12, r10\n\t"                                \
    "smlad  r11, r8, r12, r11\n\t"                                \
    "smlad  r10, r5, lr, r10\n\t"                                 \
    "smlad  r11, r9, lr, r11\n\t"                                 \
    "ldm    r0!, {r12, lr}\n\t"                                   \
    "smmlar r10, r10, r12, lr\n\t"                                \
    "smmlar r11, r11, r12, lr\n\t"                                \
    "ldr    r12, [r0], #4\n\t"                                    \
    "ldr    lr, [sp, #0]\n\t"                                     \
    "asr    r10, r10, r12\n\t"                                    \
    "asr    r11, r11, r12\n\t"                                    \
    "ssat   r10, #8, r10\n\t"                                     \
    "ssat   r11, #8, r11\n\t"                                     \
    "strb   r11, [r1, lr]\n\t"                                    \
    "strb   r10, [r1], #1\n\t"

__attribute__((naked, noinline)) static void tg_pw8_pass_dsp(const tg_pw8_pass *a)
{
    __asm__("push   {r4-r11, lr}\n\t"
            "sub    sp, sp, #32\n\t"
            "ldm    r0, {r1-r7}\n\t"
            "stm    sp, {r1-r7}\n\t"
            "1:\n\t"
            "ldr    r12, [sp, #12]\n\t"
            "ldr    lr, [sp, #16]\n\t"
            "ldr    r2, [r12]\n\t"
            "ldr    r4, [r12, #4]\n\t"
            "ldr    r6, [r12, lr]\n\t"
            "add    r12, r12, lr\n\t"
            "ldr    r8, [r12, #4]\n\t"
            "add    r12, r12, #8\n\t"
            "str    r12, [sp, #12]\n\t"
            "sxtb16 r3, r2, ror #8\n\t"
            "sxtb16 r2, r2\n\t"
            "sxtb16 r5, r4, ror #8\n\t"
            "sxtb16 r4, r4\n\t"
            "sxtb16 r7, r6, ror #8\n\t"
            "sxtb16 r6, r6\n\t"
            "sxtb16 r9, r8, ror #8\n\t"
            "sxtb16 r8, r8\n\t"
            "ldr    r0, [sp, #4]\n\t"
            "ldr    r1, [sp, #24]\n\t"
            "2:\n\t"
            TG_PW8_CHANNEL TG_PW8_CHANNEL TG_PW8_CHANNEL TG_PW8_CHANNEL
            "ldr    r12, [sp, #8]\n\t"
            "cmp    r0, r12\n\t"
            "bne    2b\n\t"
            /* The next pair's outputs: after pixel 1's. */
            "ldr    r12, [sp, #0]\n\t"
            "add    r1, r1, r12\n\t"
            "str    r1, [sp, #24]\n\t"
            "ldr    r12, [sp, #20]\n\t"
            "subs   r12, r12, #1\n\t"
            "str    r12, [sp, #20]\n\t"
            "bne    1b\n\t"
            "add    sp, sp, #32\n\t"
            "pop    {r4-r11, pc}\n\t");
    (void)a;
}

/* TG_PW8_CHANNEL for 16 output channels: pixel 1's output byte is 16
 * bytes on, an immediate offset, so the step is not reloaded (2 cycles a
 * channel less). */
#define TG_PW8X16_CHANNEL                                         \
    "ldm    r0!, {r10, r12, lr}\n\t"                              \
    "smlad  r11, r6, r12, r10\n\t"                                \
    "smlad  r10, r2, r12, r10\n\t"                                \
    "smlad  r10, r3, lr, r10\n\t"                                 \
    "smlad  r11, r7, lr, r11\n\t"                                 \
    "ldm    r0!, {r12, lr}\n\t"                                   \
    "smlad  r10, r4, r12, r10\n\t"                                \
    "smlad  r11, r8, r12, r11\n\t"                                \
    "smlad  r10, r5, lr, r10\n\t"                                 \
    "smlad  r11, r9, lr, r11\n\t"                                 \
    "ldm    r0!, {r12, lr}\n\t"                                   \
    "smmlar r10, r10, r12, lr\n\t"                                \
    "smmlar r11, r11, r12, lr\n\t"                                \
    "ldr    r12, [r0], #4\n\t"                                    \
    "asr    r10, r10, r12\n\t"                                    \
    "asr    r11, r11, r12\n\t"                                    \
    "ssat   r10, #8, r10\n\t"                                     \
    "ssat   r11, #8, r11\n\t"                                     \
    "strb   r11, [r1, #16]\n\t"                                   \
    "strb   r10, [r1], #1\n\t"
#define TG_PW8X16_FOUR TG_PW8X16_CHANNEL TG_PW8X16_CHANNEL TG_PW8X16_CHANNEL TG_PW8X16_CHANNEL

/* tg_pw8_pass_dsp for layers of 16 output channels and whole pixel pairs
 * (step1 16, xstep 8): all 16 channels unrolled (no channel loop), both
 * pixels' inputs by one LDM. */
__attribute__((naked, noinline)) static void tg_pw8x16_pass_dsp(const tg_pw8_pass *a)
{
    __asm__("push   {r4-r11, lr}\n\t"
            "sub    sp, sp, #32\n\t"
            "ldm    r0, {r1-r7}\n\t"
            "stm    sp, {r1-r7}\n\t"
            "mov    r1, r7\n\t"
            "1:\n\t"
            "ldr    r12, [sp, #12]\n\t"
            "ldm    r12!, {r2, r4, r6, r8}\n\t"
            "str    r12, [sp, #12]\n\t"
            "sxtb16 r3, r2, ror #8\n\t"
            "sxtb16 r2, r2\n\t"
            "sxtb16 r5, r4, ror #8\n\t"
            "sxtb16 r4, r4\n\t"
            "sxtb16 r7, r6, ror #8\n\t"
            "sxtb16 r6, r6\n\t"
            "sxtb16 r9, r8, ror #8\n\t"
            "sxtb16 r8, r8\n\t"
            "ldr    r0, [sp, #4]\n\t"
            TG_PW8X16_FOUR TG_PW8X16_FOUR TG_PW8X16_FOUR TG_PW8X16_FOUR
            /* The next pair's outputs: after pixel 1's. */
            "add    r1, r1, #16\n\t"
            "ldr    r12, [sp, #20]\n\t"
            "subs   r12, r12, #1\n\t"
            "str    r12, [sp, #20]\n\t"
            "bne    1b\n\t"
            "add    sp, sp, #32\n\t"
            "pop    {r4-r11, pc}\n\t");
    (void)a;
}

__attribute__((noinline)) void tg_conv2d_pw8_s8_dsp(const tg_conv_params *p, const int8_t *input,
                          const int32_t *stream, int8_t *output, int8_t *scratch)
{
    const size_t words = (size_t)p->out_c * TG_PW8_CHANNEL_WORDS;
    const int32_t pixels = p->batches * p->out_h * p->out_w;
    int32_t *copy = (int32_t *)(void *)scratch;
    tg_pw8_pass a;
    memcpy(copy, stream, 4u * words);
    a.stream = copy;
    a.stream_end = copy + words;
    a.x = input;
    a.out = output;
    a.step1 = p->out_c;
    a.xstep = 8;
    a.pairs = pixels / 2;
    if (a.pairs > 0) {
        (p->out_c == 16 ? tg_pw8x16_pass_dsp : tg_pw8_pass_dsp)(&a);
    }
    if (pixels & 1) {
        a.x = input + 8 * (size_t)(pixels - 1);
        a.out = output + (size_t)(pixels - 1) * (size_t)p->out_c;
        a.step1 = 0;
        a.xstep = 0;
        a.pairs = 1;
        tg_pw8_pass_dsp(&a);
    }
    clamp_outputs_dsp(p, output, pixels);
}

/* 16 input channels: one pixel's widened inputs fill r2-r9, so one pixel
 * per pass; a channel costs its record (bias, 8 weight pairs, mult, rz, e:
 * LDM of 4, 3, 3 and 2), 8 SMLAD, the requantization and one byte store.
 * Frame: stream, stream_end, x, pixels left; r1 the output. */
#define TG_PW16_CHANNEL_WORDS 12
#define TG_PW16_CHANNEL                                           \
    "ldm    r0!, {r10, r11, r12, lr}\n\t"                         \
    "smlad  r10, r2, r11, r10\n\t"                                \
    "smlad  r10, r3, r12, r10\n\t"                                \
    "smlad  r10, r4, lr, r10\n\t"                                 \
    "ldm    r0!, {r11, r12, lr}\n\t"                              \
    "smlad  r10, r5, r11, r10\n\t"                                \
    "smlad  r10, r6, r12, r10\n\t"                                \
    "smlad  r10, r7, lr, r10\n\t"                                 \
    "ldm    r0!, {r11, r12, lr}\n\t"                              \
    "smlad  r10, r8, r11, r10\n\t"                                \
    "smlad  r10, r9, r12, r10\n\t"                                \
    "ldm    r0!, {r11, r12}\n\t"                                  \
    "smmlar r10, r10, lr, r11\n\t"                                \
    "asr    r10, r10, r12\n\t"                                    \
    "ssat   r10, #8, r10\n\t"                                     \
    "strb   r10, [r1], #1\n\t"

typedef struct {
    const int32_t *stream;     /* 0 */
    const int32_t *stream_end; /* 4 */
    const int8_t *x;           /* 8 */
    int32_t pixels;            /* 12 */
    int8_t *out;               /* 16 */
} tg_pw16_pass;

__attribute__((naked, noinline)) static void tg_pw16_pass_dsp(const tg_pw16_pass *a)
{
    __asm__("push   {r4-r11, lr}\n\t"
            "sub    sp, sp, #16\n\t"
            "ldm    r0, {r1-r5}\n\t"
            "stm    sp, {r1-r4}\n\t"
            "mov    r1, r5\n\t"
            "1:\n\t"
            "ldr    r12, [sp, #8]\n\t"
            "ldr    r0, [sp, #0]\n\t"
            "ldr    r2, [r12]\n\t"
            "ldr    r4, [r12, #4]\n\t"
            "ldr    r6, [r12, #8]\n\t"
            "ldr    r8, [r12, #12]\n\t"
            "add    r12, r12, #16\n\t"
            "str    r12, [sp, #8]\n\t"
            "sxtb16 r3, r2, ror #8\n\t"
            "sxtb16 r2, r2\n\t"
            "sxtb16 r5, r4, ror #8\n\t"
            "sxtb16 r4, r4\n\t"
            "sxtb16 r7, r6, ror #8\n\t"
            "sxtb16 r6, r6\n\t"
            "sxtb16 r9, r8, ror #8\n\t"
            "sxtb16 r8, r8\n\t"
            "2:\n\t"
            TG_PW16_CHANNEL TG_PW16_CHANNEL TG_PW16_CHANNEL TG_PW16_CHANNEL
            "ldr    r12, [sp, #4]\n\t"
            "cmp    r0, r12\n\t"
            "bne    2b\n\t"
            "ldr    r12, [sp, #12]\n\t"
            "subs   r12, r12, #1\n\t"
            "str    r12, [sp, #12]\n\t"
            "bne    1b\n\t"
            "add    sp, sp, #16\n\t"
            "pop    {r4-r11, pc}\n\t");
    (void)a;
}

__attribute__((noinline)) void tg_conv2d_pw16_s8_dsp(const tg_conv_params *p, const int8_t *input,
                           const int32_t *stream, int8_t *output, int8_t *scratch)
{
    const size_t words = (size_t)p->out_c * TG_PW16_CHANNEL_WORDS;
    const int32_t pixels = p->batches * p->out_h * p->out_w;
    int32_t *copy = (int32_t *)(void *)scratch;
    tg_pw16_pass a;
    memcpy(copy, stream, 4u * words);
    a.stream = copy;
    a.stream_end = copy + words;
    a.x = input;
    a.pixels = pixels;
    a.out = output;
    if (pixels > 0) {
        tg_pw16_pass_dsp(&a);
    }
    clamp_outputs_dsp(p, output, pixels);
}
