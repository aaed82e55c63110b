/*
 * The first layer of an image network on cores with the DSP extension:
 * a 3x3 convolution at stride 2 over a 3-channel input
 * (tg_conv2d_rgb3x3s2_s8_dsp, tg_kernels.h; tinygen/plan/ops.py
 * conv_rgb_eligible offers it, tinygen/plan/variants.py takes it).
 *
 * Why a kernel of its own: the general kernels gather each pixel's 27-byte
 * receptive field (3 runs of 9 bytes, not whole words) and widen it per
 * pixel, which cost vww01's first layer more than its multiplies. Here the
 * three input rows under an output row are widened once into a ring of
 * int16 rows in natural order (value 3 * x + channel), so that output pixel
 * ox's 9 values of a kernel row start at halfword 6 * ox, always word
 * aligned: 5 words per kernel row, the last one's upper half multiplied by
 * a zero weight. 15 SMLAD per output then do 27 multiply-accumulates.
 *
 * The pass: two adjacent output pixels by 4 output channels, fully
 * unrolled over the 15 positions: per position one or two input words,
 * four weight words (one int16 pair per channel), 8 SMLAD. Registers: r0 the pixel
 * pair's row pointer, r1 the weights, r2-r9 the accumulators (channel k's
 * pixels 0 and 1 in r(2+2k), r(3+2k)), r10/r11 the two pixels' input
 * words, r12/lr two channels' weights.
 *
 * The weights, biases and requantization records (tinygen/plan/ops.py
 * rgb_stream, per block of 4 channels: 4 biases, 15 x 4 weight words, then
 * (mult, rz) per channel) are copied once into scratch, so flash is read
 * once per layer, not per pixel pair. Weights and biases are doubled (the
 * accumulator is 2 * acc) and scaled per channel so that the shift is
 * fixed (12): each output takes SMMLA and SSAT with ASR #12, not SMMLAR,
 * ASR by its channel's e and SSAT.
 *
 * scratch (tinygen/plan/ops.py conv_rgb_scratch): the stream, then the ring
 * of 3 rows of 12 * ceil(out_w / 2) + 4 halfwords each.
 *
 * Not inlined (here and in the other kernels added for issue 22): with
 * link-time optimization a kernel called once is otherwise merged into
 * tg_model_invoke, whose frame then holds its locals under every later
 * layer and deepens the stack path the reserved stack was measured on.
 *
 * The planner may let the output overlap the input as for the portable
 * kernel: input rows are widened into the ring before any output of their
 * output row is written, which is no later than the portable kernel reads
 * them.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tg_rows_dot_dsp.h"

/* The words of one block of 4 channels in the stream: biases, weights,
 * (mult, rz) per channel (TG_RGB_REQ2_SH). */
#define TG_RGB_BLOCK_WORDS (4 + 15 * 4 + 8)

typedef struct {
    int32_t d1;                /* 0: ring row 1 - row 0, bytes */
    int32_t d2;                /* 4: row 2 - row 1 */
    int32_t back;              /* 8: row 2 back to row 0: -(d1 + d2) */
    const int32_t *stream;     /* 12: the first block */
    const int16_t *x_end;      /* 16: ring row 0 after the last pair (with
                                * stream: one LDRD a pair) */
    int8_t *out;               /* 20: pixel 0 of the pair, channel 0 */
    int32_t step1;             /* 24: pixel 1's outputs - pixel 0's (0: one pixel) */
    const int32_t *stream_end; /* 28 */
    const int16_t *x;          /* 32: ring row 0 at the first pair */
    int32_t nd2;               /* 36: -d2 */
    int32_t nd1;               /* 40: -d1 */
} tg_rgb_pass;

/* The 4 channels' weights of position P (kernel row * 5 + word) against
 * pixel 0's input word X0 and pixel 1's X1: two pipelined pairs of loads
 * (immediate offsets from the block's weights, no write-back, so each
 * pair's second load takes 1 cycle), 8 SMLAD. */
#define TG_RGB_MACS(X0, X1, P)                                    \
    "ldr    r12, [r1, #(" P ") * 16]\n\t"                         \
    "ldr    lr, [r1, #(" P ") * 16 + 4]\n\t"                      \
    "smlad  r2, " X0 ", r12, r2\n\t"                              \
    "smlad  r3, " X1 ", r12, r3\n\t"                              \
    "smlad  r4, " X0 ", lr, r4\n\t"                               \
    "smlad  r5, " X1 ", lr, r5\n\t"                               \
    "ldr    r12, [r1, #(" P ") * 16 + 8]\n\t"                     \
    "ldr    lr, [r1, #(" P ") * 16 + 12]\n\t"                     \
    "smlad  r6, " X0 ", r12, r6\n\t"                              \
    "smlad  r7, " X1 ", r12, r7\n\t"                              \
    "smlad  r8, " X0 ", lr, r8\n\t"                               \
    "smlad  r9, " X1 ", lr, r9\n\t"
/* As TG_RGB_MACS for a block's first position, where the accumulators
 * of pixel 1 (r3, r5, r7, r9) are not loaded yet: each starts from its
 * channel's bias in pixel 0's register, read before that is updated (this
 * saves the 4 MOVs that would copy the biases). */
#define TG_RGB_MACS_FIRST(X0, X1, P)                              \
    "ldr    r12, [r1, #(" P ") * 16]\n\t"                         \
    "ldr    lr, [r1, #(" P ") * 16 + 4]\n\t"                      \
    "smlad  r3, " X1 ", r12, r2\n\t"                              \
    "smlad  r2, " X0 ", r12, r2\n\t"                              \
    "smlad  r5, " X1 ", lr, r4\n\t"                               \
    "smlad  r4, " X0 ", lr, r4\n\t"                               \
    "ldr    r12, [r1, #(" P ") * 16 + 8]\n\t"                     \
    "ldr    lr, [r1, #(" P ") * 16 + 12]\n\t"                     \
    "smlad  r7, " X1 ", r12, r6\n\t"                              \
    "smlad  r6, " X0 ", r12, r6\n\t"                              \
    "smlad  r9, " X1 ", lr, r8\n\t"                               \
    "smlad  r8, " X0 ", lr, r8\n\t"
/* Kernel row R at r0: pixel 1's words 0 and 1 are pixel 0's words 3 and 4
 * (6 halfwords on), so the words go 0, 3, 1, 4, 2 and a row loads 8 input
 * words for the two pixels' 10. M0 multiplies position 0 (TG_RGB_MACS, or
 * TG_RGB_MACS_FIRST in kernel row 0). */
#define TG_RGB_ROW_M(R, M0)                                       \
    "ldr    r10, [r0, #0]\n\t"                                    \
    "ldr    r11, [r0, #12]\n\t"                                   \
    M0("r10", "r11", R " * 5 + 0")                                \
    "ldr    r10, [r0, #24]\n\t"                                   \
    TG_RGB_MACS("r11", "r10", R " * 5 + 3")                       \
    "ldr    r10, [r0, #4]\n\t"                                    \
    "ldr    r11, [r0, #16]\n\t"                                   \
    TG_RGB_MACS("r10", "r11", R " * 5 + 1")                       \
    "ldr    r10, [r0, #28]\n\t"                                   \
    TG_RGB_MACS("r11", "r10", R " * 5 + 4")                       \
    "ldr    r10, [r0, #8]\n\t"                                    \
    "ldr    r11, [r0, #20]\n\t"                                   \
    TG_RGB_MACS("r10", "r11", R " * 5 + 2")
#define TG_RGB_ROW(R) TG_RGB_ROW_M(R, TG_RGB_MACS)
#define TG_RGB_ROW0(R) TG_RGB_ROW_M(R, TG_RGB_MACS_FIRST)
/* Both pixels of two channels (A, B and C, D), in place, with the shift
 * fixed at 12 (RGB_SHIFT, tinygen/plan/ops.py rgb_stream): (mult, rz) per
 * channel, both channels' loaded together, SMMLA without rounding (rz
 * holds the rounding half) and SSAT ..., ASR #12, bit-exact by
 * dw3x3_shifted's argument. The round-half-away fix for negative
 * accumulators is left out: conv_rgb_eligible asks act_min >= the output
 * zero point, where every output of a negative accumulator clamps to
 * act_min either way. */
#define TG_RGB_REQ2_SH(A, B, C, D)                                \
    "ldm    r1!, {r10, r11, r12, lr}\n\t"                         \
    "smmla  " A ", " A ", r10, r11\n\t"                           \
    "smmla  " B ", " B ", r10, r11\n\t"                           \
    "smmla  " C ", " C ", r12, lr\n\t"                            \
    "smmla  " D ", " D ", r12, lr\n\t"                            \
    "ssat   " A ", #8, " A ", asr #12\n\t"                        \
    "ssat   " B ", #8, " B ", asr #12\n\t"                        \
    "ssat   " C ", #8, " C ", asr #12\n\t"                        \
    "ssat   " D ", #8, " D ", asr #12\n\t"
#define TG_RGB_REQ_ALL_SH                                         \
    TG_RGB_REQ2_SH("r2", "r3", "r4", "r5")                        \
    TG_RGB_REQ2_SH("r6", "r7", "r8", "r9")

/* Block end: the 8 outputs packed into one word per pixel and stored,
 * the output pointer moved on 4 channels; leaves out in lr, step1 in r10,
 * stream_end in r11. */
#define TG_RGB_STORE                                              \
    "bfi    r2, r4, #8, #8\n\t"                                   \
    "bfi    r3, r5, #8, #8\n\t"                                   \
    "bfi    r2, r6, #16, #8\n\t"                                  \
    "bfi    r3, r7, #16, #8\n\t"                                  \
    "bfi    r2, r8, #24, #8\n\t"                                  \
    "bfi    r3, r9, #24, #8\n\t"                                  \
    "ldrd   lr, r10, [sp, #20]\n\t"                               \
    "ldr    r11, [sp, #28]\n\t"                                   \
    /* Pixel 1 first: with step1 0 (a single pixel) pixel 0's     \
     * outputs are the ones left. */                              \
    "str    r3, [lr, r10]\n\t"                                    \
    "str    r2, [lr], #4\n\t"                                     \
    "str    lr, [sp, #20]\n\t"

/* The pass over a row of pixel pairs (tg_rgb_pass), ROW(R) kernel row R's
 * 5 positions against the pair at r0 (ROW0 for the block's first kernel
 * row, which starts pixel 1's accumulators from the biases). Blocks of 4
 * channels go in pairs: the first walks the kernel rows down (r0 moving by
 * d1, d2), the second back up from row 2 (by -d2, -d1), so that no block
 * pays for a move back to row 0; only a pair with an odd last block
 * moves back (by back). The next pair is 24 bytes on, up to x_end. */
#define TG_RGB_PASS_ASM(ROW0, ROW, REQ)                           \
    __asm__("push   {r4-r11, lr}\n\t"                                      \
            "sub    sp, sp, #48\n\t"                                       \
            "ldm    r0, {r1-r11}\n\t"                                      \
            "stm    sp, {r1-r11}\n\t"                                      \
            "mov    r0, r9\n\t"                                            \
            "ldr    r1, [sp, #12]\n\t"                                     \
            "2:\n\t"                                                       \
            "ldm    r1!, {r2, r4, r6, r8}\n\t"                             \
            ROW0("0")                                                      \
            "ldr    r10, [sp, #0]\n\t"                                     \
            "add    r0, r0, r10\n\t"                                       \
            ROW("1")                                                       \
            "ldr    r10, [sp, #4]\n\t"                                     \
            "add    r0, r0, r10\n\t"                                       \
            ROW("2")                                                       \
            "add    r1, r1, #240\n\t"                                      \
            REQ                                                            \
            TG_RGB_STORE                                                   \
            "cmp    r1, r11\n\t"                                           \
            "beq    3f\n\t"                                                \
            "ldm    r1!, {r2, r4, r6, r8}\n\t"                             \
            ROW0("2")                                                      \
            "ldr    r10, [sp, #36]\n\t"                                    \
            "add    r0, r0, r10\n\t"                                       \
            ROW("1")                                                       \
            "ldr    r10, [sp, #40]\n\t"                                    \
            "add    r0, r0, r10\n\t"                                       \
            ROW("0")                                                       \
            "add    r1, r1, #240\n\t"                                      \
            REQ                                                            \
            TG_RGB_STORE                                                   \
            "cmp    r1, r11\n\t"                                           \
            "bne    2b\n\t"                                                \
            /* The next pair: pixel 0's outputs after pixel 1's, inputs 12 \
             * halfwords on. */                                            \
            "4:\n\t"                                                       \
            "add    lr, lr, r10\n\t"                                       \
            "str    lr, [sp, #20]\n\t"                                     \
            "add    r0, r0, #24\n\t"                                       \
            "ldrd   r1, r11, [sp, #12]\n\t"                                \
            "cmp    r0, r11\n\t"                                           \
            "bne    2b\n\t"                                                \
            "add    sp, sp, #48\n\t"                                       \
            "pop    {r4-r11, pc}\n\t"                                      \
            /* An odd last block: from row 2 back to row 0. */             \
            "3:\n\t"                                                       \
            "ldr    r12, [sp, #8]\n\t"                                     \
            "add    r0, r0, r12\n\t"                                       \
            "b      4b\n\t");

__attribute__((naked, noinline)) static void tg_rgb_pass_dsp(const tg_rgb_pass *a)
{
    TG_RGB_PASS_ASM(TG_RGB_ROW0, TG_RGB_ROW, TG_RGB_REQ_ALL_SH)
    (void)a;
}

/* Stride 1 (tg_conv2d_rgb3x3s1_s8_dsp): the pair's pixels are 3
 * halfwords apart, so the ring rows hold each natural word (halfwords 2w,
 * 2w + 1) and the word one halfword earlier (2w - 1, 2w) interleaved:
 * pixel 0 of the pair at r0 starts at natural word 3j (bytes 8k on),
 * pixel 1 at the earlier-by-one word 3j + 2 (bytes 20 + 8k on); the next
 * pair is 24 bytes on, as at stride 2. 10 input loads a kernel row. */
#define TG_RGB1_ROW_M(R, M0)                                      \
    "ldr    r10, [r0, #0]\n\t"                                    \
    "ldr    r11, [r0, #20]\n\t"                                   \
    M0("r10", "r11", R " * 5 + 0")                                \
    "ldr    r10, [r0, #8]\n\t"                                    \
    "ldr    r11, [r0, #28]\n\t"                                   \
    TG_RGB_MACS("r10", "r11", R " * 5 + 1")                       \
    "ldr    r10, [r0, #16]\n\t"                                   \
    "ldr    r11, [r0, #36]\n\t"                                   \
    TG_RGB_MACS("r10", "r11", R " * 5 + 2")                       \
    "ldr    r10, [r0, #24]\n\t"                                   \
    "ldr    r11, [r0, #44]\n\t"                                   \
    TG_RGB_MACS("r10", "r11", R " * 5 + 3")                       \
    "ldr    r10, [r0, #32]\n\t"                                   \
    "ldr    r11, [r0, #52]\n\t"                                   \
    TG_RGB_MACS("r10", "r11", R " * 5 + 4")
#define TG_RGB1_ROW(R) TG_RGB1_ROW_M(R, TG_RGB_MACS)
#define TG_RGB1_ROW0(R) TG_RGB1_ROW_M(R, TG_RGB_MACS_FIRST)

__attribute__((naked, noinline)) static void tg_rgb1_pass_dsp(const tg_rgb_pass *a)
{
    TG_RGB_PASS_ASM(TG_RGB1_ROW0, TG_RGB1_ROW, TG_RGB_REQ_ALL_SH)
    (void)a;
}

/* 8 input bytes at src widened to int16 at dst: 2 LDR, 4 SXTB16, 4 PKH,
 * 4 STR (LDR/STR take unaligned addresses on every core with the DSP
 * extension). */
static inline void tg_rgb_widen8(int16_t *dst, const int8_t *src)
{
    uint32_t v0, v1, lo0, hi0, lo1, hi1, w0, w1, w2, w3;
    memcpy(&v0, src, 4);
    memcpy(&v1, src + 4, 4);
    __asm__("sxtb16 %[lo0], %[v0]\n\t"
            "sxtb16 %[hi0], %[v0], ror #8\n\t"
            "sxtb16 %[lo1], %[v1]\n\t"
            "sxtb16 %[hi1], %[v1], ror #8\n\t"
            "pkhbt  %[w0], %[lo0], %[hi0], lsl #16\n\t"
            "pkhtb  %[w1], %[hi0], %[lo0], asr #16\n\t"
            "pkhbt  %[w2], %[lo1], %[hi1], lsl #16\n\t"
            "pkhtb  %[w3], %[hi1], %[lo1], asr #16\n\t"
            : [lo0] "=&r"(lo0), [hi0] "=&r"(hi0), [lo1] "=&r"(lo1), [hi1] "=&r"(hi1),
              [w0] "=&r"(w0), [w1] "=&r"(w1), [w2] "=&r"(w2), [w3] "=&r"(w3)
            : [v0] "r"(v0), [v1] "r"(v1));
    memcpy(dst, &w0, 4);
    memcpy(dst + 2, &w1, 4);
    memcpy(dst + 4, &w2, 4);
    memcpy(dst + 6, &w3, 4);
}

/* 16 bytes of src widened to 16 halfwords at dst, both pointers moved on:
 * one step of tg_rgb_widen's loop (operands %[s] and %[d]). */
#define TG_RGB_WIDEN16                                            \
    "ldm    %[s]!, {r2, r4, r6, r9}\n\t"                      \
    "sxtb16 r12, r2\n\t"                                      \
    "sxtb16 r3, r2, ror #8\n\t"                               \
    "pkhbt  r2, r12, r3, lsl #16\n\t"                         \
    "pkhtb  r3, r3, r12, asr #16\n\t"                         \
    "sxtb16 r12, r4\n\t"                                      \
    "sxtb16 r5, r4, ror #8\n\t"                               \
    "pkhbt  r4, r12, r5, lsl #16\n\t"                         \
    "pkhtb  r5, r5, r12, asr #16\n\t"                         \
    "sxtb16 r12, r6\n\t"                                      \
    "sxtb16 r8, r6, ror #8\n\t"                               \
    "pkhbt  r6, r12, r8, lsl #16\n\t"                         \
    "pkhtb  r8, r8, r12, asr #16\n\t"                         \
    "sxtb16 r12, r9\n\t"                                      \
    "sxtb16 r10, r9, ror #8\n\t"                              \
    "pkhbt  r9, r12, r10, lsl #16\n\t"                        \
    "pkhtb  r10, r10, r12, asr #16\n\t"                       \
    "stm    %[d]!, {r2-r6, r8-r10}\n\t"

/* n input bytes widened to int16 at dst (any halfword alignment). Where
 * both are word aligned (vww01's first layer), 32 bytes a step, each 16 by
 * LDM, 8 SXTB16 and PKH, STM (each widened word written over its source
 * word's register so that the 8 results are in STM's order; r7, the
 * frame pointer where one is kept, left alone). Then, or
 * otherwise, 16 per step in C; then 4 (LDR, 2 SXTB16, 2 PKH, 2 STR), the rest one by one. */
static void tg_rgb_widen(int16_t *dst, const int8_t *src, size_t n)
{
    size_t k = 0;
    if ((((uintptr_t)dst | (uintptr_t)src) & 3u) == 0 && n >= 32u) {
        const int8_t *s = src;
        const int8_t *end = src + (n & ~(size_t)31);
        int16_t *d = dst;
        __asm__ volatile("1:\n\t"
                         TG_RGB_WIDEN16
                         TG_RGB_WIDEN16
                         "cmp    %[s], %[e]\n\t"
                         "bne    1b\n\t"
                         : [s] "+r"(s), [d] "+r"(d)
                         : [e] "r"(end)
                         : "r2", "r3", "r4", "r5", "r6", "r8", "r9", "r10", "r12", "cc", "memory");
        k = n & ~(size_t)31;
    }
    for (; k + 16u <= n; k += 16u) {
        tg_rgb_widen8(dst + k, src + k);
        tg_rgb_widen8(dst + k + 8u, src + k + 8u);
    }
    for (; k + 4u <= n; k += 4u) {
        uint32_t v, lo, hi, w0, w1;
        memcpy(&v, src + k, 4);
        __asm__("sxtb16 %[lo], %[v]\n\t"
                "sxtb16 %[hi], %[v], ror #8\n\t"
                "pkhbt  %[w0], %[lo], %[hi], lsl #16\n\t"
                "pkhtb  %[w1], %[hi], %[lo], asr #16\n\t"
                : [lo] "=&r"(lo), [hi] "=&r"(hi), [w0] "=&r"(w0), [w1] "=&r"(w1)
                : [v] "r"(v));
        memcpy(dst + k, &w0, 4);
        memcpy(dst + k + 2u, &w1, 4);
    }
    for (; k < n; ++k) {
        dst[k] = src[k];
    }
}

static void tg_rgb_fill_zp(int16_t *dst, int16_t zp, size_t n)
{
    size_t k;
    for (k = 0; k < n; ++k) {
        dst[k] = zp;
    }
}

__attribute__((noinline)) void tg_conv2d_rgb3x3s2_s8_dsp(const tg_conv_params *p, const int8_t *input,
                               const int32_t *stream, int8_t *output, int8_t *scratch)
{
    const int32_t blocks = p->out_c / 4;
    const size_t stream_words = (size_t)blocks * TG_RGB_BLOCK_WORDS;
    const int32_t pairs = (p->out_w + 1) / 2;
    /* Halfwords per ring row: the last pair's second pixel's 10 values
     * (ending one past its window, multiplied by a zero weight). */
    const size_t row_halves = 12u * (size_t)pairs + 4u;
    const size_t lead = 3u * (size_t)p->pad_w < row_halves ? 3u * (size_t)p->pad_w : row_halves;
    const size_t span = 3u * (size_t)p->in_w < row_halves - lead ? 3u * (size_t)p->in_w
                                                                 : row_halves - lead;
    const size_t in_row = 3u * (size_t)p->in_w;
    const size_t image_bytes = (size_t)p->in_h * in_row;
    const size_t out_row = (size_t)p->out_w * (size_t)p->out_c;
    const int16_t zp = (int16_t)p->input_zero_point;
    const int clamp = p->act_min > -128 || p->act_max < 127;
    const uint32_t lo4 = tg_splat_s8(p->act_min);
    const uint32_t hi4 = tg_splat_s8(p->act_max);
    int32_t *weights = (int32_t *)(void *)scratch;
    int16_t *ring = (int16_t *)(void *)(scratch + 4u * stream_words);
    int16_t *rows[3];
    tg_rgb_pass a;
    int32_t b;
    int32_t oy;
    memcpy(weights, stream, 4u * stream_words);
    rows[0] = ring;
    rows[1] = ring + row_halves;
    rows[2] = ring + 2u * row_halves;
    a.stream = weights;
    a.stream_end = weights + stream_words;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *image = input + (size_t)b * image_bytes;
        int8_t *out = output + (size_t)b * (size_t)p->out_h * out_row;
        int32_t held = INT32_MIN;      /* the input row rows[2] holds (INT32_MIN: none) */
        for (oy = 0; oy < p->out_h; ++oy) {
            const int32_t iy0 = oy * 2 - p->pad_h;
            int32_t k;
            /* Stride 2: the last row of the previous output row is this
             * one's first; swap it in rather than widen it again. */
            if (held == iy0) {
                int16_t *t = rows[0];
                rows[0] = rows[2];
                rows[2] = t;
            }
            for (k = (held == iy0); k < 3; ++k) {
                const int32_t iy = iy0 + k;
                int16_t *r = rows[k];
                if (iy < 0 || iy >= p->in_h) {
                    tg_rgb_fill_zp(r, zp, row_halves);
                    continue;
                }
                tg_rgb_fill_zp(r, zp, lead);
                tg_rgb_widen(r + lead, image + (size_t)iy * in_row, span);
                tg_rgb_fill_zp(r + lead + span, zp, row_halves - lead - span);
            }
            held = iy0 + 2;
            a.d1 = (int32_t)((const int8_t *)rows[1] - (const int8_t *)rows[0]);
            a.d2 = (int32_t)((const int8_t *)rows[2] - (const int8_t *)rows[1]);
            a.back = -(a.d1 + a.d2);
            a.nd1 = -a.d1;
            a.nd2 = -a.d2;
            a.x = rows[0];
            a.x_end = rows[0] + 12 * (p->out_w / 2);
            a.out = out;
            a.step1 = p->out_c;
            if (p->out_w / 2 > 0) {
                tg_rgb_pass_dsp(&a);
            }
            if (p->out_w & 1) {
                a.x = a.x_end;
                a.x_end = a.x + 12;
                a.out = out + (size_t)(p->out_w - 1) * (size_t)p->out_c;
                a.step1 = 0;
                tg_rgb_pass_dsp(&a);
            }
            if (clamp) {
                tg_clamp_span_dsp(out, out_row, lo4, hi4);
            }
            out += out_row;
        }
    }
}

/* A ring row of tg_conv2d_rgb3x3s1_s8_dsp from the natural widened row nat
 * (nat[-1] readable): natural word w, then the word one halfword before it,
 * for w < words / 2. */
static void tg_rgb1_interleave(int32_t *dst, const int16_t *nat, size_t words)
{
    size_t w;
    for (w = 0; w < words; w += 2u) {
        memcpy(dst + w, nat + w, 4);
        memcpy(dst + w + 1u, nat + w - 1, 4);
    }
}

__attribute__((noinline)) void tg_conv2d_rgb3x3s1_s8_dsp(const tg_conv_params *p, const int8_t *input,
                               const int32_t *stream, int8_t *output, int8_t *scratch)
{
    const int32_t blocks = p->out_c / 4;
    const size_t stream_words = (size_t)blocks * TG_RGB_BLOCK_WORDS;
    const int32_t pairs = (p->out_w + 1) / 2;
    /* Words per ring row: the last pair's pixel 1 reads up to word
     * 6 * pairs + 7; its natural row is as many halfwords. */
    const size_t row_words = 6u * (size_t)pairs + 8u;
    const size_t row_halves = row_words;
    const size_t lead = 3u * (size_t)p->pad_w < row_halves ? 3u * (size_t)p->pad_w : row_halves;
    const size_t span = 3u * (size_t)p->in_w < row_halves - lead ? 3u * (size_t)p->in_w
                                                                 : row_halves - lead;
    const size_t in_row = 3u * (size_t)p->in_w;
    const size_t image_bytes = (size_t)p->in_h * in_row;
    const size_t out_row = (size_t)p->out_w * (size_t)p->out_c;
    const int16_t zp = (int16_t)p->input_zero_point;
    const int clamp = p->act_min > -128 || p->act_max < 127;
    const uint32_t lo4 = tg_splat_s8(p->act_min);
    const uint32_t hi4 = tg_splat_s8(p->act_max);
    int32_t *weights = (int32_t *)(void *)scratch;
    int32_t *ring = weights + stream_words;
    /* The natural row, after one leading halfword (nat[-1], read by the
     * earlier-by-one word 0, which no pixel uses). */
    int16_t *nat = (int16_t *)(void *)(ring + 3u * row_words) + 2;
    int32_t *rows[3];
    tg_rgb_pass a;
    int32_t b;
    int32_t oy;
    memcpy(weights, stream, 4u * stream_words);
    nat[-1] = zp;
    a.stream = weights;
    a.stream_end = weights + stream_words;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *image = input + (size_t)b * image_bytes;
        int8_t *out = output + (size_t)b * (size_t)p->out_h * out_row;
        rows[0] = ring;
        rows[1] = ring + row_words;
        rows[2] = ring + 2u * row_words;
        for (oy = 0; oy < p->out_h; ++oy) {
            const int32_t iy0 = oy - p->pad_h;
            int32_t k;
            /* Stride 1: the rows move up by one; only the last is new. */
            if (oy > 0) {
                int32_t *t = rows[0];
                rows[0] = rows[1];
                rows[1] = rows[2];
                rows[2] = t;
            }
            for (k = oy > 0 ? 2 : 0; k < 3; ++k) {
                const int32_t iy = iy0 + k;
                if (iy < 0 || iy >= p->in_h) {
                    tg_rgb_fill_zp(nat, zp, row_halves);
                } else {
                    tg_rgb_fill_zp(nat, zp, lead);
                    tg_rgb_widen(nat + lead, image + (size_t)iy * in_row, span);
                    tg_rgb_fill_zp(nat + lead + span, zp, row_halves - lead - span);
                }
                tg_rgb1_interleave(rows[k], nat, row_words);
            }
            a.d1 = (int32_t)((const int8_t *)rows[1] - (const int8_t *)rows[0]);
            a.d2 = (int32_t)((const int8_t *)rows[2] - (const int8_t *)rows[1]);
            a.back = -(a.d1 + a.d2);
            a.nd1 = -a.d1;
            a.nd2 = -a.d2;
            a.x = (const int16_t *)(const void *)rows[0];
            a.x_end = a.x + 12 * (p->out_w / 2);
            a.out = out;
            a.step1 = p->out_c;
            if (p->out_w / 2 > 0) {
                tg_rgb1_pass_dsp(&a);
            }
            if (p->out_w & 1) {
                a.x = a.x_end;
                a.x_end = a.x + 12;
                a.out = out + (size_t)(p->out_w - 1) * (size_t)p->out_c;
                a.step1 = 0;
                tg_rgb1_pass_dsp(&a);
            }
            if (clamp) {
                tg_clamp_span_dsp(out, out_row, lo4, hi4);
            }
            out += out_row;
        }
    }
}
