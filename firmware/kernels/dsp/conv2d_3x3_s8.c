/*
 * 3x3 convolution at stride 1 of a 16-, 32- or 64-channel input, or at
 * stride 2 of a 16- or 32-channel one, on cores with the DSP extension
 * (tg_conv2d_3x3pair_s8_dsp, tg_kernels.h; tinygen/plan/ops.py
 * conv_3x3pair_eligible offers it): ic01's layers 1 and 2 (16 -> 16
 * channels on 32 x 32), 5 (32 on 16 x 16) and 9 (64 on 8 x 8) at stride 1,
 * 4 and 8 at stride 2.
 *
 * Why a kernel of its own: the three-pixel kernel needs 1,296 bytes of
 * scratch to widen its patches, and where ic01's arena peaks (these two
 * layers) only the portable kernel's 432 are free, so they took the
 * int8-patch form: patches gathered byte-wise per pixel triple and
 * re-widened for every pair of output channels (1.79 est. cycles/MAC).
 * Here two horizontally adjacent output pixels share the 3 x 4 input pixels
 * under them, widened once per pair into scratch (24 * C bytes for C input
 * channels, 384 for 16: 3 rows of 4 pixels of C int16 values in SXTB16
 * order, (x0, x2), (x1, x3) per 4 channels); pixel 1's values are pixel
 * 0's one input pixel (2 * C bytes) on. At stride 2 the rows hold 5
 * pixels (30 * C bytes) and pixel 1's values are two pixels on. The deeper layers took the
 * widened three-pixel kernel (1.32 and 1.25 est. cycles/MAC), which reads
 * each input pair once per pair of output channels where this reads it
 * once per 4. The weights are int16 pairs in the same order in the stream
 * (tinygen/plan/ops.py c3x3_stream), read from flash, so a depth position
 * (two MACs) of 4 channels and 2 pixels is 2 input loads, 4 weight loads
 * and 8 SMLAD, as in the first-layer kernel's pass (dsp/conv2d_rgb_s8.c):
 * registers r0 the pair's widened rows, r1 the stream, r2-r9 the
 * accumulators (channel k's pixels 0 and 1 in r(2+2k), r(3+2k)), r10/r11
 * the pixels' input pairs, r12/lr two channels' weights.
 *
 * Stream, per block of 4 output channels: the 4 biases, per kernel row and
 * depth position (3 * C / 2 a row: 3 pixels of C channels) one weight pair
 * per channel, then (mult, e, rz) per channel; weights and biases doubled,
 * as SMMLAR takes the accumulator.
 *
 * The output may overlap the input as for the portable kernel: a pair's
 * inputs are all widened before either of its outputs is written, and the
 * portable kernel reads the second pixel's window no earlier.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tg_rows_dot_dsp.h"

/* Words per block of 4 channels in the stream. */
#define TG_C3_BLOCK_WORDS(C) (4 + 3 * 3 * (C) / 2 * 4 + 12)

typedef struct {
    const int32_t *stream;     /* 0: the first block */
    const int32_t *stream_end; /* 4 */
    int8_t *out;               /* 8: pixel 0's outputs of the next block */
    int32_t step1;             /* 12: pixel 1's outputs - pixel 0's (0: one pixel) */
    const int32_t *x;          /* 16: the pair's widened rows */
} tg_c3_pass;

/* Depth position K of a segment of 24 whose inputs start IO bytes from r0
 * and weights WO bytes from r1: both pixels' input pairs (pixel 1's PX1
 * bytes on), then the 4 channels' weight pairs in two pipelined pairs of
 * loads, 8 SMLAD. */
#define TG_C3_POS(K, PX1, IO, WO)                                 \
    "ldr    r10, [r0, #" IO " + 4 * " #K "]\n\t"                  \
    "ldr    r11, [r0, #" IO " + 4 * " #K " + " #PX1 "]\n\t"       \
    "ldr    r12, [r1, #" WO " + 16 * " #K "]\n\t"                 \
    "ldr    lr, [r1, #" WO " + 16 * " #K " + 4]\n\t"              \
    "smlad  r2, r10, r12, r2\n\t"                                 \
    "smlad  r3, r11, r12, r3\n\t"                                 \
    "smlad  r4, r10, lr, r4\n\t"                                  \
    "smlad  r5, r11, lr, r5\n\t"                                  \
    "ldr    r12, [r1, #" WO " + 16 * " #K " + 8]\n\t"             \
    "ldr    lr, [r1, #" WO " + 16 * " #K " + 12]\n\t"             \
    "smlad  r6, r10, r12, r6\n\t"                                 \
    "smlad  r7, r11, r12, r7\n\t"                                 \
    "smlad  r8, r10, lr, r8\n\t"                                  \
    "smlad  r9, r11, lr, r9\n\t"
#define TG_C3_POS4(K0, K1, K2, K3, PX1, IO, WO)                              \
    TG_C3_POS(K0, PX1, IO, WO) TG_C3_POS(K1, PX1, IO, WO)                    \
    TG_C3_POS(K2, PX1, IO, WO) TG_C3_POS(K3, PX1, IO, WO)
#define TG_C3_SEGMENT(PX1, IO, WO)                                           \
    TG_C3_POS4(0, 1, 2, 3, PX1, IO, WO) TG_C3_POS4(4, 5, 6, 7, PX1, IO, WO)  \
    TG_C3_POS4(8, 9, 10, 11, PX1, IO, WO)                                    \
    TG_C3_POS4(12, 13, 14, 15, PX1, IO, WO)                                  \
    TG_C3_POS4(16, 17, 18, 19, PX1, IO, WO)                                  \
    TG_C3_POS4(20, 21, 22, 23, PX1, IO, WO)

/* Both pixels of one channel (mult, e, rz in r10-r12), in place:
 * tg_requantize_fast of the doubled accumulator (SMMLAR, the
 * round-half-away fix from its sign, the shift by e), SSAT. */
#define TG_C3_REQ(A, B)                                           \
    "ldm    r1!, {r10-r12}\n\t"                                   \
    "smmlar lr, " A ", r10, r12\n\t"                              \
    "add    lr, lr, " A ", asr #31\n\t"                           \
    "asr    " A ", lr, r11\n\t"                                   \
    "ssat   " A ", #8, " A "\n\t"                                 \
    "smmlar lr, " B ", r10, r12\n\t"                              \
    "add    lr, lr, " B ", asr #31\n\t"                           \
    "asr    " B ", lr, r11\n\t"                                   \
    "ssat   " B ", #8, " B "\n\t"

/* Every block of 4 channels of one pixel pair: the accumulators from the
 * biases, the kernel rows (MIDDLE), the requantization and the stores. */
#define TG_C3_PASS_ASM(MIDDLE)                                    \
    __asm__("push   {r4-r11, lr}\n\t"                             \
            "sub    sp, sp, #12\n\t"                              \
            "str    r0, [sp, #0]\n\t"                             \
            "ldr    r1, [r0, #0]\n\t"                             \
            "1:\n\t"                                              \
            "ldr    r0, [sp, #0]\n\t"                             \
            "ldr    r0, [r0, #16]\n\t"                            \
            "ldm    r1!, {r2, r4, r6, r8}\n\t"                    \
            "mov    r3, r2\n\t"                                   \
            "mov    r5, r4\n\t"                                   \
            "mov    r7, r6\n\t"                                   \
            "mov    r9, r8\n\t"                                   \
            MIDDLE                                                \
            TG_C3_REQ("r2", "r3") TG_C3_REQ("r4", "r5")           \
            TG_C3_REQ("r6", "r7") TG_C3_REQ("r8", "r9")           \
            "bfi    r2, r4, #8, #8\n\t"                           \
            "bfi    r3, r5, #8, #8\n\t"                           \
            "bfi    r2, r6, #16, #8\n\t"                          \
            "bfi    r3, r7, #16, #8\n\t"                          \
            "bfi    r2, r8, #24, #8\n\t"                          \
            "bfi    r3, r9, #24, #8\n\t"                          \
            "ldr    r10, [sp, #0]\n\t"                            \
            "ldrd   lr, r11, [r10, #8]\n\t"                       \
            "ldr    r12, [r10, #4]\n\t"                           \
            /* Pixel 1 first: with step1 0 (a single pixel)       \
             * pixel 0's outputs are the ones left. */            \
            "str    r3, [lr, r11]\n\t"                            \
            "str    r2, [lr], #4\n\t"                             \
            "str    lr, [r10, #8]\n\t"                            \
            "cmp    r1, r12\n\t"                                  \
            "bne    1b\n\t"                                       \
            "add    sp, sp, #12\n\t"                              \
            "pop    {r4-r11, pc}\n\t")

/* 16 channels: a kernel row is one segment of 24 positions; pixel 1's
 * inputs PX1 bytes on, the widened rows ROW bytes apart; all three rows
 * unrolled at immediate offsets (no loop: 2 % of the pass). */
#define TG_C3_ROWS16(PX1, ROW)                                    \
    TG_C3_SEGMENT(PX1, "0", "0")                                  \
    TG_C3_SEGMENT(PX1, #ROW, "384")                               \
    TG_C3_SEGMENT(PX1, "2 * " #ROW, "768")                        \
    "add    r1, r1, #1152\n\t"

/* C = 32 or 64 channels: a kernel row is C / 16 segments of 24 positions
 * (96 bytes of widened inputs each), then PAD bytes to the next row. */
#define TG_C3_ROWS(PX1, SEGS, PAD)                                \
    "movs   r10, #3\n\t"                                          \
    "str    r10, [sp, #4]\n\t"                                    \
    "2:\n\t"                                                      \
    "movs   r10, #" #SEGS "\n\t"                                  \
    "str    r10, [sp, #8]\n\t"                                    \
    "3:\n\t"                                                      \
    TG_C3_SEGMENT(PX1, "0", "0")                                  \
    "add    r0, r0, #96\n\t"                                      \
    "add    r1, r1, #384\n\t"                                     \
    "ldr    r10, [sp, #8]\n\t"                                    \
    "subs   r10, r10, #1\n\t"                                     \
    "str    r10, [sp, #8]\n\t"                                    \
    "bne    3b\n\t"                                               \
    "add    r0, r0, #" #PAD "\n\t"                                \
    "ldr    r10, [sp, #4]\n\t"                                    \
    "subs   r10, r10, #1\n\t"                                     \
    "str    r10, [sp, #4]\n\t"                                    \
    "bne    2b\n\t"

/* One pass per depth and stride: at stride s a widened row holds the
 * s + 3 input pixels under the pair (2 * C bytes each), pixel 1's inputs
 * s pixels on. */
__attribute__((naked, noinline)) static void tg_c3_pass16_dsp(tg_c3_pass *a)
{
    TG_C3_PASS_ASM(TG_C3_ROWS16(32, 128));
    (void)a;
}

__attribute__((naked, noinline)) static void tg_c3_pass32_dsp(tg_c3_pass *a)
{
    TG_C3_PASS_ASM(TG_C3_ROWS(64, 2, 64));
    (void)a;
}

__attribute__((naked, noinline)) static void tg_c3_pass64_dsp(tg_c3_pass *a)
{
    TG_C3_PASS_ASM(TG_C3_ROWS(128, 4, 128));
    (void)a;
}

__attribute__((naked, noinline)) static void tg_c3_pass16s2_dsp(tg_c3_pass *a)
{
    TG_C3_PASS_ASM(TG_C3_ROWS16(64, 160));
    (void)a;
}

__attribute__((naked, noinline)) static void tg_c3_pass32s2_dsp(tg_c3_pass *a)
{
    TG_C3_PASS_ASM(TG_C3_ROWS(128, 2, 128));
    (void)a;
}

/* 4 input bytes widened to 2 words in SXTB16 order. */
static inline __attribute__((always_inline)) void tg_c3_widen4(int32_t *dst, const int8_t *src)
{
    uint32_t v, lo, hi;
    memcpy(&v, src, 4);
    __asm__("sxtb16 %[lo], %[v]\n\t"
            "sxtb16 %[hi], %[v], ror #8\n\t"
            : [lo] "=&r"(lo), [hi] "=r"(hi)
            : [v] "r"(v));
    dst[0] = (int32_t)lo;
    dst[1] = (int32_t)hi;
}

/* n input words (a multiple of 4) widened to 2 words each: per 4, LDM,
 * 8 SXTB16, STM of 8 (register order is memory order). */
static void tg_c3_widen(int32_t *dst, const int8_t *src, int32_t n)
{
    if (((uintptr_t)src & 3u) != 0) {
        for (; n > 0; n -= 4) {
            tg_c3_widen4(dst, src);
            tg_c3_widen4(dst + 2, src + 4);
            tg_c3_widen4(dst + 4, src + 8);
            tg_c3_widen4(dst + 6, src + 12);
            dst += 8;
            src += 16;
        }
        return;
    }
    __asm__ volatile("1:\n\t"
                     "ldm    %[s]!, {r4, r6, r9, r11}\n\t"
                     "sxtb16 r5, r4, ror #8\n\t"
                     "sxtb16 r4, r4\n\t"
                     "sxtb16 r8, r6, ror #8\n\t"
                     "sxtb16 r6, r6\n\t"
                     "sxtb16 r10, r9, ror #8\n\t"
                     "sxtb16 r9, r9\n\t"
                     "sxtb16 r12, r11, ror #8\n\t"
                     "sxtb16 r11, r11\n\t"
                     "stm    %[d]!, {r4, r5, r6, r8, r9, r10, r11, r12}\n\t"
                     "subs   %[n], %[n], #4\n\t"
                     "bgt    1b\n\t"
                     : [s] "+r"(src), [d] "+r"(dst), [n] "+r"(n)
                     :
                     : "r4", "r5", "r6", "r8", "r9", "r10", "r11", "r12", "cc", "memory");
}

static void tg_c3_fill(int32_t *dst, uint32_t zz, int32_t words)
{
    for (; words > 0; --words) {
        *dst++ = (int32_t)zz;
    }
}

__attribute__((noinline)) void tg_conv2d_3x3pair_s8_dsp(const tg_conv_params *p, const int8_t *input,
                                                     const int32_t *stream, int8_t *output,
                                                     int8_t *scratch)
{
    const int32_t c = p->in_c;
    const int32_t px = c / 2;                  /* words of a widened pixel */
    const size_t stream_words = (size_t)(p->out_c / 4) * (size_t)TG_C3_BLOCK_WORDS(c);
    const size_t image_bytes = (size_t)p->in_h * (size_t)p->in_w * (size_t)c;
    const size_t out_row = (size_t)p->out_w * (size_t)p->out_c;
    const uint32_t zz = (uint32_t)(uint16_t)(int16_t)p->input_zero_point * 0x10001u;
    const int clamp = p->act_min > -128 || p->act_max < 127;
    const uint32_t lo4 = tg_splat_s8(p->act_min);
    const uint32_t hi4 = tg_splat_s8(p->act_max);
    const int32_t s = p->stride_w;
    const int32_t span = s + 3;               /* input pixels under a pair */
    void (*pass)(tg_c3_pass *) = s == 2 ? (c == 16 ? tg_c3_pass16s2_dsp : tg_c3_pass32s2_dsp)
                                 : c == 16 ? tg_c3_pass16_dsp
                                 : c == 32 ? tg_c3_pass32_dsp : tg_c3_pass64_dsp;
    int32_t *x = (int32_t *)(void *)scratch;
    tg_c3_pass a;
    int32_t b, oy, ox;
    a.stream = stream;
    a.stream_end = stream + stream_words;
    a.x = x;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *image = input + (size_t)b * image_bytes;
        int8_t *out = output + (size_t)b * (size_t)p->out_h * out_row;
        for (oy = 0; oy < p->out_h; ++oy) {
            for (ox = 0; ox < p->out_w; ox += 2) {
                int32_t r;
                /* Rows of the input pixels under the pair: those inside
                 * the image widened, the rest the widened zero point. */
                const int32_t ix0 = ox * s - p->pad_w;
                const int32_t j0 = ix0 < 0 ? -ix0 : 0;
                const int32_t j1 = p->in_w - ix0 < span ? p->in_w - ix0 : span;
                for (r = 0; r < 3; ++r) {
                    const int32_t iy = oy * s + r - p->pad_h;
                    int32_t *dst = x + span * px * r;
                    if (iy < 0 || iy >= p->in_h || j1 <= j0) {
                        tg_c3_fill(dst, zz, span * px);
                        continue;
                    }
                    tg_c3_fill(dst, zz, px * j0);
                    tg_c3_widen(dst + px * j0, image + ((size_t)iy * (size_t)p->in_w
                                                        + (size_t)(ix0 + j0)) * (size_t)c,
                                (j1 - j0) * (c / 4));
                    tg_c3_fill(dst + px * j1, zz, px * (span - j1));
                }
                a.out = out + (size_t)ox * (size_t)p->out_c;
                a.step1 = ox + 1 < p->out_w ? p->out_c : 0;
                pass(&a);
            }
            if (clamp) {
                tg_clamp_span_dsp(out, out_row, lo4, hi4);
            }
            out += out_row;
        }
    }
}
