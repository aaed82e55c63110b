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
 * channel costs its record (bias, 4 weight pairs, mult, rz: one LDM of 3
 * and two of 2), 8 SMLAD, the requantization of both pixels and two byte
 * stores.
 *
 * The requantization is SMMLA, then SSAT with a fixed ASR #TG_PW_SHIFT: the
 * stream (tinygen/plan/ops.py pw8_stream) holds weights and bias doubled
 * and scaled per channel, and a rounding term rz that includes the
 * rounding half, so that this equals TFLM's rounding multiply and shift by
 * the channel's own exponent (ops.py dw3x3_shifted; the planner keeps
 * another kernel for a layer whose shifts cannot take it). It is copied once into
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
        tg_clamp_span_dsp(output, (size_t)pixels * (size_t)p->out_c,
                          tg_splat_s8(p->act_min), tg_splat_s8(p->act_max));
    }
}

/* Words per output channel in the stream. */
#define TG_PW8_CHANNEL_WORDS 7
/* The requantization's fixed right shift (ops.py PW_SHIFT). */
#define TG_PW_SHIFT "12"

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
    "smmla  r10, r10, r12, lr\n\t"                                \
    "smmla  r11, r11, r12, lr\n\t"                                \
    "ldr    lr, [sp, #0]\n\t"                                     \
    "ssat   r10, #8, r10, asr #" TG_PW_SHIFT "\n\t"               \
    "ssat   r11, #8, r11, asr #" TG_PW_SHIFT "\n\t"               \
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
    "smmla  r10, r10, r12, lr\n\t"                                \
    "smmla  r11, r11, r12, lr\n\t"                                \
    "ssat   r10, #8, r10, asr #" TG_PW_SHIFT "\n\t"               \
    "ssat   r11, #8, r11, asr #" TG_PW_SHIFT "\n\t"               \
    "strb   r11, [r1, #16]\n\t"                                   \
    "strb   r10, [r1], #1\n\t"
#define TG_PW8X16_FOUR TG_PW8X16_CHANNEL TG_PW8X16_CHANNEL TG_PW8X16_CHANNEL TG_PW8X16_CHANNEL

/* tg_pw8_pass_dsp for layers of 16 output channels and whole pixel pairs
 * (step1 16, xstep 8): all 16 channels unrolled (no channel loop), both
 * pixels' inputs by one LDM. The pair loop ends on the input pointer (the
 * frame's word 5 turned into x's end), compared as the pair's inputs are
 * loaded: no instruction of the channels sets the flags. Each pair's
 * channels start the stream's 16 records (448 bytes) back from where the
 * last pair's ended. */
__attribute__((naked, noinline)) static void tg_pw8x16_pass_dsp(const tg_pw8_pass *a)
{
    __asm__("push   {r4-r11, lr}\n\t"
            "sub    sp, sp, #32\n\t"
            "ldm    r0, {r1-r7}\n\t"
            "add    r6, r4, r6, lsl #4\n\t"
            "stm    sp, {r1-r7}\n\t"
            "mov    r1, r7\n\t"
            "mov    r0, r3\n\t"
            "1:\n\t"
            "ldr    r12, [sp, #12]\n\t"
            "ldm    r12!, {r2, r4, r6, r8}\n\t"
            "ldr    lr, [sp, #20]\n\t"
            "str    r12, [sp, #12]\n\t"
            "sub    r0, r0, #448\n\t"
            "cmp    r12, lr\n\t"
            "sxtb16 r3, r2, ror #8\n\t"
            "sxtb16 r2, r2\n\t"
            "sxtb16 r5, r4, ror #8\n\t"
            "sxtb16 r4, r4\n\t"
            "sxtb16 r7, r6, ror #8\n\t"
            "sxtb16 r6, r6\n\t"
            "sxtb16 r9, r8, ror #8\n\t"
            "sxtb16 r8, r8\n\t"
            TG_PW8X16_FOUR TG_PW8X16_FOUR TG_PW8X16_FOUR TG_PW8X16_FOUR
            /* The next pair's outputs: after pixel 1's. */
            "add    r1, r1, #16\n\t"
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

/* 16 input channels: two pixels' whole inputs would need 16 registers, so
 * the pass runs both pixels' first 8 input channels against every output
 * channel (r2-r9 as in tg_pw8_pass_dsp), parks the two partial sums in the
 * channel's record, then runs the last 8 channels, whose record loads the
 * partial sums as its accumulators. A channel's record (tinygen/plan/ops.py
 * pw16_stream) is 13 words: bias, 4 weight pairs (channels 0-7); the two
 * partial sums; 4 weight pairs (channels 8-15), mult, rz (the fixed shift
 * of tg_conv2d_pw8_s8_dsp's). Per channel and pixel pair (32 MACs): LDM 3,
 * 2, 4, 2, 2 and one STRD, 16 SMLAD, two requantizations and two byte
 * stores, where one pixel at a time took
 * its whole record per 16 MACs. The record's sums are written as it is
 * read, so the stream is copied into scratch (once per layer). */
#define TG_PW16_CHANNEL_WORDS 13

/* The first 8 input channels of one output channel (r0 at its record):
 * the partial sums go to the record's words 5 and 6, r0 to the next record. */
#define TG_PW16_FIRST                                             \
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
    "strd   r10, r11, [r0], #32\n\t"

/* The last 8 (r0 at the record's word 5), requantized; STORE1 stores pixel
 * 1's byte r11, then pixel 0's goes to r1, and r0 to the next record's word 5. */
#define TG_PW16_LAST(STORE1)                                      \
    "ldm    r0!, {r10, r11, r12, lr}\n\t"                         \
    "smlad  r10, r2, r12, r10\n\t"                                \
    "smlad  r11, r6, r12, r11\n\t"                                \
    "smlad  r10, r3, lr, r10\n\t"                                 \
    "smlad  r11, r7, lr, r11\n\t"                                 \
    "ldm    r0!, {r12, lr}\n\t"                                   \
    "smlad  r10, r4, r12, r10\n\t"                                \
    "smlad  r11, r8, r12, r11\n\t"                                \
    "smlad  r10, r5, lr, r10\n\t"                                 \
    "smlad  r11, r9, lr, r11\n\t"                                 \
    "ldm    r0!, {r12, lr}\n\t"                                   \
    "smmla  r10, r10, r12, lr\n\t"                                \
    "smmla  r11, r11, r12, lr\n\t"                                \
    "add    r0, r0, #20\n\t"                                      \
    STORE1                                                        \
    "strb   r10, [r1], #1\n\t"
/* Pixel 1's byte step1 bytes on (the frame's word 0), or 32 on. */
#define TG_PW16_STORE_STEP                                        \
    "ldr    lr, [sp, #0]\n\t"                                     \
    "ssat   r10, #8, r10, asr #" TG_PW_SHIFT "\n\t"               \
    "ssat   r11, #8, r11, asr #" TG_PW_SHIFT "\n\t"               \
    "strb   r11, [r1, lr]\n\t"
#define TG_PW16_STORE_32                                          \
    "ssat   r10, #8, r10, asr #" TG_PW_SHIFT "\n\t"               \
    "ssat   r11, #8, r11, asr #" TG_PW_SHIFT "\n\t"               \
    "strb   r11, [r1, #32]\n\t"

/* Pixel i's input words A and B (byte offsets) widened into r2-r5 (pixel
 * 0) and r6-r9 (pixel 1, xstep bytes on); the frame's x moves to the next
 * pair when NEXT. */
#define TG_PW16_INPUTS(A, B)                                      \
    "ldr    r12, [sp, #12]\n\t"                                   \
    "ldr    lr, [sp, #16]\n\t"                                    \
    "ldr    r2, [r12, #" A "]\n\t"                                \
    "ldr    r4, [r12, #" B "]\n\t"                                \
    "add    r12, r12, lr\n\t"                                     \
    "ldr    r6, [r12, #" A "]\n\t"                                \
    "ldr    r8, [r12, #" B "]\n\t"                                \
    "sxtb16 r3, r2, ror #8\n\t"                                   \
    "sxtb16 r2, r2\n\t"                                           \
    "sxtb16 r5, r4, ror #8\n\t"                                   \
    "sxtb16 r4, r4\n\t"                                           \
    "sxtb16 r7, r6, ror #8\n\t"                                   \
    "sxtb16 r6, r6\n\t"                                           \
    "sxtb16 r9, r8, ror #8\n\t"                                   \
    "sxtb16 r8, r8\n\t"

/* Frame (tg_pw16_pass): step1, stream, the first half's end (stream_end),
 * x, xstep (16, or 0 for one pixel), pairs left, out, the last half's end
 * (stream_end + 5 words). Channels 4 (step1 in the frame) or 8 (step 32)
 * a loop turn. */
#define TG_PW16_PASS(UNROLL_FIRST, UNROLL_LAST)                   \
    "push   {r4-r11, lr}\n\t"                                     \
    "sub    sp, sp, #32\n\t"                                      \
    "ldm    r0, {r1-r8}\n\t"                                      \
    "stm    sp, {r1-r8}\n\t"                                      \
    "mov    r1, r7\n\t"                                           \
    "1:\n\t"                                                      \
    TG_PW16_INPUTS("0", "4")                                      \
    "ldr    r0, [sp, #4]\n\t"                                     \
    "2:\n\t"                                                      \
    UNROLL_FIRST                                                  \
    "ldr    r12, [sp, #8]\n\t"                                    \
    "cmp    r0, r12\n\t"                                          \
    "bne    2b\n\t"                                               \
    TG_PW16_INPUTS("8", "12")                                     \
    "add    r12, r12, lr\n\t"                                     \
    "str    r12, [sp, #12]\n\t"                                   \
    "ldr    r0, [sp, #4]\n\t"                                     \
    "add    r0, r0, #20\n\t"                                      \
    "3:\n\t"                                                      \
    UNROLL_LAST                                                   \
    "ldr    r12, [sp, #28]\n\t"                                   \
    "cmp    r0, r12\n\t"                                          \
    "bne    3b\n\t"                                               \
    /* The next pair's outputs: after pixel 1's. */               \
    "ldr    r12, [sp, #0]\n\t"                                    \
    "add    r1, r1, r12\n\t"                                      \
    "ldr    r12, [sp, #20]\n\t"                                   \
    "subs   r12, r12, #1\n\t"                                     \
    "str    r12, [sp, #20]\n\t"                                   \
    "bne    1b\n\t"                                               \
    "add    sp, sp, #32\n\t"                                      \
    "pop    {r4-r11, pc}\n\t"

typedef struct {
    int32_t step1;             /* 0: pixel 1's outputs - pixel 0's (0: one pixel) */
    const int32_t *stream;     /* 4 */
    const int32_t *end1;       /* 8: stream_end */
    const int8_t *x;           /* 12: pixel 0's input */
    int32_t xstep;             /* 16: pixel 1's input - pixel 0's (16, or 0: one pixel) */
    int32_t pairs;             /* 20: pixel pairs left */
    int8_t *out;               /* 24: pixel 0's outputs */
    const int32_t *end2;       /* 28: stream_end + 5 */
} tg_pw16_pass;

#define TG_PW16_FIRST4 TG_PW16_FIRST TG_PW16_FIRST TG_PW16_FIRST TG_PW16_FIRST
#define TG_PW16_LAST4(S) TG_PW16_LAST(S) TG_PW16_LAST(S) TG_PW16_LAST(S) TG_PW16_LAST(S)

__attribute__((naked, noinline)) static void tg_pw16_pass_dsp(const tg_pw16_pass *a)
{
    __asm__(TG_PW16_PASS(TG_PW16_FIRST4, TG_PW16_LAST4(TG_PW16_STORE_STEP)));
    (void)a;
}

/* tg_pw16_pass_dsp for 32 output channels and whole pairs (step1 32,
 * xstep 16): pixel 1's byte at an immediate offset, all 32 channels of
 * each half unrolled (no channel loops), and the pair loop ending on the
 * input pointer (the frame's word 5 turned into x's end), compared before
 * the last half: no instruction of its channels sets the flags. */
#define TG_PW16_FIRST16 TG_PW16_FIRST4 TG_PW16_FIRST4 TG_PW16_FIRST4 TG_PW16_FIRST4
#define TG_PW16_LAST16_32                                         \
    TG_PW16_LAST4(TG_PW16_STORE_32) TG_PW16_LAST4(TG_PW16_STORE_32) \
    TG_PW16_LAST4(TG_PW16_STORE_32) TG_PW16_LAST4(TG_PW16_STORE_32)

__attribute__((naked, noinline)) static void tg_pw16x32_pass_dsp(const tg_pw16_pass *a)
{
    __asm__("push   {r4-r11, lr}\n\t"
            "sub    sp, sp, #32\n\t"
            "ldm    r0, {r1-r8}\n\t"
            "add    r6, r4, r6, lsl #5\n\t"
            "stm    sp, {r1-r8}\n\t"
            "mov    r1, r7\n\t"
            "1:\n\t"
            TG_PW16_INPUTS("0", "4")
            "ldr    r0, [sp, #4]\n\t"
            TG_PW16_FIRST16 TG_PW16_FIRST16
            TG_PW16_INPUTS("8", "12")
            "add    r12, r12, lr\n\t"
            "ldr    lr, [sp, #20]\n\t"
            "str    r12, [sp, #12]\n\t"
            "cmp    r12, lr\n\t"
            "ldr    r0, [sp, #4]\n\t"
            "add    r0, r0, #20\n\t"
            TG_PW16_LAST16_32 TG_PW16_LAST16_32
            /* The next pair's outputs: after pixel 1's. */
            "add    r1, r1, #32\n\t"
            "bne    1b\n\t"
            "add    sp, sp, #32\n\t"
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
    a.end1 = copy + words;
    a.end2 = copy + words + 5;
    a.x = input;
    a.out = output;
    a.step1 = p->out_c;
    a.xstep = 16;
    a.pairs = pixels / 2;
    if (a.pairs > 0) {
        (p->out_c == 32 ? tg_pw16x32_pass_dsp : tg_pw16_pass_dsp)(&a);
    }
    if (pixels & 1) {
        a.x = input + 16 * (size_t)(pixels - 1);
        a.out = output + (size_t)(pixels - 1) * (size_t)p->out_c;
        a.step1 = 0;
        a.xstep = 0;
        a.pairs = 1;
        tg_pw16_pass_dsp(&a);
    }
    clamp_outputs_dsp(p, output, pixels);
}
