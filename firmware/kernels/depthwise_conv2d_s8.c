/* int8 depthwise 2-D convolution, per-channel requantization.
 *
 * filter: int16, channels in groups of 4 (out_c rounded up), for each group
 * every tap's 4 weights as (c0, c2, c1, c3): the order in which SXTB16
 * splits 4 input bytes, so on the DSP path one word of input and two words
 * of weights feed 4 halfword multiply-accumulates. In fast requantization
 * mode the planner stores weights and biases doubled, which hands the
 * SMMULR of tg_requantize_fast its 2 * acc for free.
 *
 * scratch: k_h*k_w tap pointers (8 bytes reserved each), then one row of
 * in_c bytes holding the input zero point, read by taps that fall outside
 * the image. */
#include <string.h>

#include "tg_rows_dot.h"
#include "tg_depthwise_mve.h"

#if TG_DSP
/* One tap of 4 channels: the tap's pixel pointer, 4 input bytes, the 4
 * weights (2 words), 4 halfword multiply-accumulates. */
#define TG_DW_TAP_ASM                                   \
    "ldr    %[x], [%[tp]], #4\n\t"                      \
    "ldr    %[v], [%[x], %[c]]\n\t"                     \
    "ldrd   %[wa], %[wb], [%[w]], #8\n\t"               \
    "sxtb16 %[xa], %[v]\n\t"                            \
    "sxtb16 %[v], %[v], ror #8\n\t"                     \
    "smlabb %[a0], %[xa], %[wa], %[a0]\n\t"             \
    "smlatt %[a2], %[xa], %[wa], %[a2]\n\t"             \
    "smlabb %[a1], %[v], %[wb], %[a1]\n\t"              \
    "smlatt %[a3], %[v], %[wb], %[a3]\n\t"
#endif

static inline int32_t dw_weight(const int16_t *filter, int32_t taps_n, int32_t t, int32_t oc)
{
    static const uint8_t order[4] = {0, 2, 1, 3};
    return filter[((oc >> 2) * taps_n + t) * 4 + order[oc & 3]];
}

void tg_depthwise_conv2d_s8(const tg_conv_params *p, const int8_t *input,
                            const int16_t *filter, const tg_chan_quant *quant,
                            int8_t *output, int8_t *scratch)
{
#if TG_MVE
    tg_depthwise_conv2d_s8_mve(p, input, filter, quant, output, scratch);
    return;
#endif
    const int32_t taps_n = p->k_h * p->k_w;
    const int8_t **taps = (const int8_t **)(void *)scratch;
    int8_t *pad_row = scratch + (size_t)taps_n * 8u;
    const int32_t out_c = p->out_c;
    const int32_t dm = p->depth_multiplier;
    const int32_t fast = p->fast;
    const int32_t zp = p->output_zero_point;
    const int32_t lo = p->act_min;
    const int32_t hi = p->act_max;
    const size_t image_bytes = (size_t)p->in_h * (size_t)p->in_w * (size_t)p->in_c;
#if TG_DSP
    const int clamp = lo > -128 || hi < 127;
    const uint32_t lo4 = tg_splat_s8(lo);
    const uint32_t hi4 = tg_splat_s8(hi);
#endif
    int32_t b;
    int32_t oy;
    int32_t ox;
#if TG_DSP
    /* Interior pixels skip the tap pointers: one table of tap offsets from
     * the window's corner, in the upper half of the 8 bytes reserved per
     * tap (pointers take 4 on these cores). */
    uint32_t *offsets = (uint32_t *)(void *)(scratch + (size_t)taps_n * 4u);
    const int by_offset = dm == 1 && out_c % 4 == 0;
    const int32_t reach_h = (p->k_h - 1) * p->dil_h;
    const int32_t reach_w = (p->k_w - 1) * p->dil_w;
    {
        int32_t ky;
        int32_t kx;
        for (ky = 0; ky < p->k_h; ++ky) {
            for (kx = 0; kx < p->k_w; ++kx) {
                offsets[ky * p->k_w + kx] =
                    (uint32_t)((ky * p->dil_h * p->in_w + kx * p->dil_w) * p->in_c);
            }
        }
    }
#endif
    memset(pad_row, p->input_zero_point, (size_t)p->in_c);
    for (b = 0; b < p->batches; ++b) {
        const int8_t *image = input + (size_t)b * image_bytes;
        for (oy = 0; oy < p->out_h; ++oy) {
            const int32_t iy0 = oy * p->stride_h - p->pad_h;
            for (ox = 0; ox < p->out_w; ++ox) {
                const int32_t ix0 = ox * p->stride_w - p->pad_w;
                int32_t ky;
                int32_t kx;
                int32_t t = 0;
                int32_t c = 0;
#if TG_DSP
                /* Each tap's input address is word + base + c: tap pointers
                 * (base 0) at the borders, offsets from the corner inside. */
                const uint32_t *words = (const uint32_t *)(const void *)taps;
                uintptr_t base = 0;
                if (by_offset && iy0 >= 0 && ix0 >= 0 && iy0 + reach_h < p->in_h
                    && ix0 + reach_w < p->in_w) {
                    words = offsets;
                    base = (uintptr_t)(image + ((size_t)iy0 * (size_t)p->in_w + (size_t)ix0) * (size_t)p->in_c);
                    goto channels;
                }
#endif
                for (ky = 0; ky < p->k_h; ++ky) {
                    const int32_t iy = iy0 + ky * p->dil_h;
                    for (kx = 0; kx < p->k_w; ++kx) {
                        const int32_t ix = ix0 + kx * p->dil_w;
                        if (iy < 0 || iy >= p->in_h || ix < 0 || ix >= p->in_w) {
                            taps[t] = pad_row;
                        } else {
                            taps[t] = image + ((size_t)iy * (size_t)p->in_w + (size_t)ix) * (size_t)p->in_c;
                        }
                        ++t;
                    }
                }
#if TG_DSP
channels:
#endif
                if (dm == 1) {
#if TG_HOST_SIMD
                    c = tg_dw_channels_simd(taps, taps_n, filter, quant, out_c, fast, zp, lo, hi,
                                            output);
#endif
                    for (; c + 4 <= out_c; c += 4) {
                        const tg_chan_quant *q = quant + c;
                        int32_t a0 = q[0].bias;
                        int32_t a1 = q[1].bias;
                        int32_t a2 = q[2].bias;
                        int32_t a3 = q[3].bias;
#if TG_DSP
                        const int32_t *w = (const int32_t *)(const void *)(filter + c * taps_n);
                        const uint32_t *tp = words;
                        const uint32_t *tend = words + taps_n;
                        const uintptr_t at = base + (uintptr_t)c;
                        uint32_t x;
                        int32_t v, xa, wa, wb;
                        if (taps_n % 3 == 0) {
                            __asm__("1:\n\t"
                                    TG_DW_TAP_ASM TG_DW_TAP_ASM TG_DW_TAP_ASM
                                    "cmp    %[tp], %[tend]\n\t"
                                    "bne    1b\n\t"
                                    : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3),
                                      [tp] "+r"(tp), [w] "+r"(w), [x] "=&r"(x), [v] "=&r"(v),
                                      [xa] "=&r"(xa), [wa] "=&r"(wa), [wb] "=&r"(wb)
                                    : [tend] "r"(tend), [c] "r"(at)
                                    : "cc", "memory");
                        } else {
                            __asm__("1:\n\t"
                                    TG_DW_TAP_ASM
                                    "cmp    %[tp], %[tend]\n\t"
                                    "bne    1b\n\t"
                                    : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3),
                                      [tp] "+r"(tp), [w] "+r"(w), [x] "=&r"(x), [v] "=&r"(v),
                                      [xa] "=&r"(xa), [wa] "=&r"(wa), [wb] "=&r"(wb)
                                    : [tend] "r"(tend), [c] "r"(at)
                                    : "cc", "memory");
                        }
                        if (fast) {
                            tg_store4_fast_dsp(output + c, q, clamp, lo4, hi4, a0, a1, a2, a3);
                            continue;
                        }
#else
                        const int16_t *w = filter + c * taps_n;
                        for (t = 0; t < taps_n; ++t) {
                            const int8_t *x = taps[t] + c;
                            a0 += x[0] * w[0];
                            a2 += x[2] * w[1];
                            a1 += x[1] * w[2];
                            a3 += x[3] * w[3];
                            w += 4;
                        }
#endif
                        tg_store_block(output + c, 4, q, fast, 1, zp, lo, hi, a0, a1, a2, a3);
                    }
                }
                for (; c < out_c; ++c) {
                    const int32_t ic = c / dm;
                    int32_t a0 = quant[c].bias;
                    for (t = 0; t < taps_n; ++t) {
                        a0 += taps[t][ic] * dw_weight(filter, taps_n, t, c);
                    }
                    output[c] = tg_output_s8(a0, quant + c, fast, 1, zp, lo, hi);
                }
                output += out_c;
            }
        }
    }
}

#include "tg_dsp.h"

#if TG_DW3X3_DSP
/* tg_depthwise3x3s{1,2}_s8_dsp: two horizontally adjacent output pixels per pass,
 * so each input column word is loaded and sign-extended once for both
 * pixels (stride 1: 4 columns per kernel row instead of 6) and every weight
 * pair and requantization record is loaded once for two outputs. All eight
 * accumulators, the weights, the column word and both pointers live in the
 * 14 usable registers, which is why the pass is an assembly function. The
 * input comes from a row buffer of the 3 zero-point padded input rows, so
 * border pixels take the same path; the stream (tinygen/plan/ops.py
 * dw3x3_dsp_stream) holds, per group of 4 channels, the biases, each
 * column's offset in the row buffer followed by the weights for that
 * column, then (mult, e, rz) per channel.
 *
 * Registers in a pass: r0 the pair's window corner plus 4 * group, r1 the
 * stream, r2-r5 first pixel's accumulators (channels 0-3), r6-r9 the
 * second's, r10/r11 a tap's weights as (c0, c2) and (c1, c3) halfwords,
 * r12 the column offset and then the column's (c0, c2) halfwords, lr the
 * column word and then its (c1, c3) halfwords. */
typedef struct {
    const int8_t *in;          /* 0: window corner of the pass's first pixel */
    const int32_t *stream;     /* 4 */
    const int32_t *stream_end; /* 8 */
    int32_t clamp;             /* 12: act range narrower than int8 */
    int32_t d0;                /* 16: first pixel's output - in */
    int32_t d1;                /* 20: second pixel's output - in */
    uint32_t lo4;              /* 24: act_min in every byte */
    uint32_t hi4;              /* 28 */
} tg_dw_pass;

/* Keeps &a->stream_end at [sp] for the tail's LDM of (end, clamp, d0, d1). */
#define TG_DW_ENTRY                                 \
    "ldr    r1, [r0, #4]\n\t"                       \
    "ldr    r2, [r0, #0]\n\t"                       \
    "adds   r0, r0, #8\n\t"                         \
    "push   {r0, r4-r11, lr}\n\t"                   \
    "mov    r0, r2\n\t"                             \
    "2:\n\t"                                        \
    "ldm    r1!, {r6-r9}\n\t"
#define TG_DW_EXIT "pop    {r0, r4-r11, pc}\n\t"
#define TG_DW_COL                                   \
    "ldr    r12, [r1], #4\n\t"                      \
    "ldr    lr, [r0, r12]\n\t"                      \
    "sxtb16 r12, lr\n\t"                            \
    "sxtb16 lr, lr, ror #8\n\t"
#define TG_DW_W "ldrd   r10, r11, [r1], #8\n\t"
#define TG_DW_MAC0                                  \
    "smlabb r2, r12, r10, r2\n\t"                   \
    "smlatt r4, r12, r10, r4\n\t"                   \
    "smlabb r3, lr, r11, r3\n\t"                    \
    "smlatt r5, lr, r11, r5\n\t"
/* The first product of the first pixel starts from the biases, which the
 * second pixel's accumulators hold at that point. */
#define TG_DW_MAC0_FIRST                            \
    "smlabb r2, r12, r10, r6\n\t"                   \
    "smlatt r4, r12, r10, r8\n\t"                   \
    "smlabb r3, lr, r11, r7\n\t"                    \
    "smlatt r5, lr, r11, r9\n\t"
#define TG_DW_MAC1                                  \
    "smlabb r6, r12, r10, r6\n\t"                   \
    "smlatt r8, r12, r10, r8\n\t"                   \
    "smlabb r7, lr, r11, r7\n\t"                    \
    "smlatt r9, lr, r11, r9\n\t"
/* Stride 1: column j feeds tap j of the first pixel and tap j - 1 of the
 * second. */
#define TG_DW_ROW_S1(MAC0_AT_COL0)                                           \
    TG_DW_COL TG_DW_W MAC0_AT_COL0                                           \
    TG_DW_COL TG_DW_MAC1 TG_DW_W TG_DW_MAC0                                  \
    TG_DW_COL TG_DW_MAC1 TG_DW_W TG_DW_MAC0                                  \
    TG_DW_COL TG_DW_MAC1
/* Stride 2: columns 0-2 feed the first pixel, 2-4 the second. */
#define TG_DW_ROW_S2(MAC0_AT_COL0)                                           \
    TG_DW_COL TG_DW_W MAC0_AT_COL0                                           \
    TG_DW_COL TG_DW_W TG_DW_MAC0                                             \
    TG_DW_COL TG_DW_W TG_DW_MAC0 TG_DW_W TG_DW_MAC1                          \
    TG_DW_COL TG_DW_W TG_DW_MAC1                                             \
    TG_DW_COL TG_DW_W TG_DW_MAC1
/* One pixel (the last of an odd row) from the same stream: the first
 * pixel's columns, skipping the words only the second pixel reads. */
#define TG_DW_ROW_ONE(MAC0_AT_COL0, SKIP)                                    \
    TG_DW_COL TG_DW_W MAC0_AT_COL0                                           \
    TG_DW_COL TG_DW_W TG_DW_MAC0                                             \
    TG_DW_COL TG_DW_W TG_DW_MAC0                                             \
    "adds   r1, r1, #" SKIP "\n\t"
/* (acc2 * mult + 2^31 + rz * 2^32) >> 32 >> e: tg_requantize_fast without
 * the negative-value fix, then saturated to int8. */
#define TG_DW_REQ1(P)                               \
    "smmlar " P ", " P ", r10, r12\n\t"             \
    "asr    " P ", " P ", r11\n\t"                  \
    "ssat   " P ", #8, " P "\n\t"
#define TG_DW_Q "ldm    r1!, {r10, r11, r12}\n\t"
#define TG_DW_CLAMP(P)                              \
    "ssub8  r9, " P ", r10\n\t"                     \
    "sel    " P ", " P ", r10\n\t"                  \
    "ssub8  r9, r11, " P "\n\t"                     \
    "sel    " P ", " P ", r11\n\t"
/* The first pixel's 4 bytes packed into r2: requantized, clamped bytewise
 * when asked (r4 = clamp after the LDM), stored. */
#define TG_DW_PACK0                                 \
    "bfi    r2, r3, #8, #8\n\t"                     \
    "bfi    r2, r4, #16, #8\n\t"                    \
    "bfi    r2, r5, #24, #8\n\t"
#define TG_DW_PACK1                                 \
    "bfi    r6, r7, #8, #8\n\t"                     \
    "bfi    r6, r8, #16, #8\n\t"                    \
    "bfi    r6, r9, #24, #8\n\t"
#define TG_DW_FIELDS                                \
    "ldr    r12, [sp]\n\t"                          \
    "ldm    r12, {r3, r4, r5, r8}\n\t"
#define TG_DW_NEXT                                  \
    "adds   r0, r0, #4\n\t"                         \
    "cmp    r1, r3\n\t"                             \
    "bne    2b\n\t"
#define TG_DW_TAIL2                                                          \
    TG_DW_Q TG_DW_REQ1("r2") TG_DW_REQ1("r6")                                \
    TG_DW_Q TG_DW_REQ1("r3") TG_DW_REQ1("r7")                                \
    TG_DW_Q TG_DW_REQ1("r4") TG_DW_REQ1("r8")                                \
    TG_DW_Q TG_DW_REQ1("r5") TG_DW_REQ1("r9")                                \
    TG_DW_PACK0 TG_DW_PACK1 TG_DW_FIELDS                                     \
    "cbz    r4, 3f\n\t"                                                      \
    "ldrd   r10, r11, [r12, #16]\n\t"                                        \
    TG_DW_CLAMP("r2") TG_DW_CLAMP("r6")                                      \
    "3:\n\t"                                                                 \
    "str    r2, [r0, r5]\n\t"                                                \
    "str    r6, [r0, r8]\n\t"                                                \
    TG_DW_NEXT
#define TG_DW_TAIL1                                                          \
    TG_DW_Q TG_DW_REQ1("r2") TG_DW_Q TG_DW_REQ1("r3")                        \
    TG_DW_Q TG_DW_REQ1("r4") TG_DW_Q TG_DW_REQ1("r5")                        \
    TG_DW_PACK0 TG_DW_FIELDS                                                 \
    "cbz    r4, 3f\n\t"                                                      \
    "ldrd   r10, r11, [r12, #16]\n\t"                                        \
    TG_DW_CLAMP("r2")                                                        \
    "3:\n\t"                                                                 \
    "str    r2, [r0, r5]\n\t"                                                \
    TG_DW_NEXT

__attribute__((naked, noinline)) static void tg_dw3x3_pair_s1(const tg_dw_pass *a)
{
    __asm__(TG_DW_ENTRY
            TG_DW_ROW_S1(TG_DW_MAC0_FIRST) TG_DW_ROW_S1(TG_DW_MAC0) TG_DW_ROW_S1(TG_DW_MAC0)
            TG_DW_TAIL2 TG_DW_EXIT);
    (void)a;
}

__attribute__((naked, noinline)) static void tg_dw3x3_one_s1(const tg_dw_pass *a)
{
    __asm__(TG_DW_ENTRY
            TG_DW_ROW_ONE(TG_DW_MAC0_FIRST, "4") TG_DW_ROW_ONE(TG_DW_MAC0, "4")
            TG_DW_ROW_ONE(TG_DW_MAC0, "4")
            TG_DW_TAIL1 TG_DW_EXIT);
    (void)a;
}

__attribute__((naked, noinline)) static void tg_dw3x3_pair_s2(const tg_dw_pass *a)
{
    __asm__(TG_DW_ENTRY
            TG_DW_ROW_S2(TG_DW_MAC0_FIRST) TG_DW_ROW_S2(TG_DW_MAC0) TG_DW_ROW_S2(TG_DW_MAC0)
            TG_DW_TAIL2 TG_DW_EXIT);
    (void)a;
}

__attribute__((naked, noinline)) static void tg_dw3x3_one_s2(const tg_dw_pass *a)
{
    __asm__(TG_DW_ENTRY
            TG_DW_ROW_ONE(TG_DW_MAC0_FIRST, "32") TG_DW_ROW_ONE(TG_DW_MAC0, "32")
            TG_DW_ROW_ONE(TG_DW_MAC0, "32")
            TG_DW_TAIL1 TG_DW_EXIT);
    (void)a;
}

/* Word copy and fill, 8 words per LDM/STM pair: the row buffer is refilled
 * for every output row, and library memcpy/memset cost several times more
 * instructions per byte. n is a whole number of words; both pointers are
 * word aligned (channels come in groups of 4, tensors are 8-byte aligned). */
static void tg_copy_words(int8_t *dst, const int8_t *src, size_t n)
{
    register uint32_t r2 __asm__("r2");
    register uint32_t r3 __asm__("r3");
    register uint32_t r4 __asm__("r4");
    register uint32_t r5 __asm__("r5");
    register uint32_t r6 __asm__("r6");
    register uint32_t r8 __asm__("r8");
    register uint32_t r9 __asm__("r9");
    register uint32_t r10 __asm__("r10");
    size_t blocks = n / 32u;
    if (blocks) {
        __asm__ volatile("1:\n\t"
                         "ldm    %[s]!, {%[a], %[b], %[c], %[d], %[e], %[f], %[g], %[h]}\n\t"
                         "stm    %[o]!, {%[a], %[b], %[c], %[d], %[e], %[f], %[g], %[h]}\n\t"
                         "subs   %[k], %[k], #1\n\t"
                         "bne    1b\n\t"
                         : [s] "+r"(src), [o] "+r"(dst), [k] "+r"(blocks), [a] "=r"(r2),
                           [b] "=r"(r3), [c] "=r"(r4), [d] "=r"(r5), [e] "=r"(r6), [f] "=r"(r8),
                           [g] "=r"(r9), [h] "=r"(r10)
                         :
                         : "cc", "memory");
    }
    for (n %= 32u; n; n -= 4u, src += 4, dst += 4) {
        memcpy(dst, src, 4);
    }
}

static void tg_fill_words(int8_t *dst, int32_t value, size_t n)
{
    const uint32_t v = tg_splat_s8(value);
    register uint32_t r2 __asm__("r2") = v;
    register uint32_t r3 __asm__("r3") = v;
    register uint32_t r4 __asm__("r4") = v;
    register uint32_t r5 __asm__("r5") = v;
    size_t blocks = n / 16u;
    if (blocks) {
        __asm__ volatile("1:\n\t"
                         "stm    %[o]!, {%[a], %[b], %[c], %[d]}\n\t"
                         "subs   %[k], %[k], #1\n\t"
                         "bne    1b\n\t"
                         : [o] "+r"(dst), [k] "+r"(blocks)
                         : [a] "r"(r2), [b] "r"(r3), [c] "r"(r4), [d] "r"(r5)
                         : "cc", "memory");
    }
    for (n %= 16u; n; n -= 4u, dst += 4) {
        memcpy(dst, &v, 4);
    }
}

typedef void tg_dw_pass_fn(const tg_dw_pass *a);

static void tg_dw3x3_rows(const tg_conv_params *p, const int8_t *input, const int32_t *stream,
                          int8_t *output, int8_t *scratch, int32_t words,
                          tg_dw_pass_fn *pair, tg_dw_pass_fn *one)
{
    const int32_t c = p->in_c;
    const int32_t s = p->stride_w;
    /* Output pixels per row-buffer fill, the stream's first word: the
     * planner narrows the buffer where it would grow the arena. */
    const int32_t seg = stream[0];
    const int32_t cols = (seg - 1) * s + 3;      /* dw3x3_dsp_cols in ops.py */
    const size_t row_bytes = (size_t)cols * (size_t)c;
    const size_t image_bytes = (size_t)p->in_h * (size_t)p->in_w * (size_t)c;
    const size_t pixel_step = 2u * (size_t)s * (size_t)c;
    tg_dw_pass a;
    int32_t b;
    int32_t oy;
    a.stream = stream + 1;
    a.stream_end = a.stream + (p->out_c / 4) * words;
    a.clamp = p->act_min > -128 || p->act_max < 127;
    a.lo4 = tg_splat_s8(p->act_min);
    a.hi4 = tg_splat_s8(p->act_max);
    for (b = 0; b < p->batches; ++b) {
        const int8_t *image = input + (size_t)b * image_bytes;
        for (oy = 0; oy < p->out_h; ++oy) {
            const int32_t iy0 = oy * p->stride_h - p->pad_h;
            int8_t *out = output + ((size_t)b * (size_t)p->out_h + (size_t)oy)
                                   * (size_t)p->out_w * (size_t)p->out_c;
            int32_t ox0;
            for (ox0 = 0; ox0 < p->out_w; ox0 += seg) {
                const int32_t n = p->out_w - ox0 < seg ? p->out_w - ox0 : seg;
                const int32_t ix0 = ox0 * s - p->pad_w;
                const int32_t first = ix0 < 0 ? 0 : ix0;
                const int32_t last = ix0 + cols < p->in_w ? ix0 + cols : p->in_w;
                const size_t lead = (size_t)(first - ix0) * (size_t)c;
                const size_t copy = last > first ? (size_t)(last - first) * (size_t)c : 0u;
                int32_t r;
                int32_t ox;
                for (r = 0; r < 3; ++r) {
                    int8_t *dst = scratch + (size_t)r * row_bytes;
                    const int32_t iy = iy0 + r;
                    if (iy < 0 || iy >= p->in_h) {
                        tg_fill_words(dst, p->input_zero_point, row_bytes);
                        continue;
                    }
                    tg_fill_words(dst, p->input_zero_point, lead);
                    tg_copy_words(dst + lead, image + ((size_t)iy * (size_t)p->in_w
                                                       + (size_t)first) * (size_t)c, copy);
                    tg_fill_words(dst + lead + copy, p->input_zero_point,
                                  row_bytes - lead - copy);
                }
                a.in = scratch;
                for (ox = 0; ox < n; ox += 2) {
                    a.d0 = (int32_t)((uintptr_t)out - (uintptr_t)a.in);
                    a.d1 = a.d0 + p->out_c;
                    if (ox + 1 < n) {
                        pair(&a);
                    } else {
                        one(&a);
                    }
                    out += 2 * p->out_c;
                    a.in += pixel_step;
                }
                out -= (2 * ((n + 1) / 2) - n) * p->out_c;
            }
        }
    }
}

/* The direct form (stream word 0 is 0): windows inside the image read the
 * input tensor itself, with no row buffer, for layers whose buffer would
 * grow the arena; a pixel whose window leaves the image goes through the
 * portable kernel as a one-pixel layer (scratch: its tap pointers). Pixel
 * pairs only where the stream's first word is -1, which the planner sets
 * when input and output do not overlap: tinygen/plan/memory.py allows an
 * overlap for kernels that finish a pixel's window before the next
 * pixel's outputs, and a pair's second output could land on the first
 * pixel's window. */
static void tg_dw3x3_direct(const tg_conv_params *p, const int8_t *input, const int32_t *stream,
                            const int16_t *filter, const tg_chan_quant *quant, int8_t *output,
                            int8_t *scratch, int32_t words, tg_dw_pass_fn *pair,
                            tg_dw_pass_fn *one)
{
    const int32_t c = p->in_c;
    const int32_t s = p->stride_w;
    const size_t image_bytes = (size_t)p->in_h * (size_t)p->in_w * (size_t)c;
    const int pairs = stream[0] < 0;
    tg_dw_pass a;
    int32_t b;
    int32_t oy;
    a.stream = stream + 1;
    a.stream_end = a.stream + (p->out_c / 4) * words;
    a.clamp = p->act_min > -128 || p->act_max < 127;
    a.lo4 = tg_splat_s8(p->act_min);
    a.hi4 = tg_splat_s8(p->act_max);
    for (b = 0; b < p->batches; ++b) {
        const int8_t *image = input + (size_t)b * image_bytes;
        for (oy = 0; oy < p->out_h; ++oy) {
            const int32_t iy0 = oy * p->stride_h - p->pad_h;
            const int rows_inside = iy0 >= 0 && iy0 + 2 < p->in_h;
            int8_t *out = output + ((size_t)b * (size_t)p->out_h + (size_t)oy)
                                   * (size_t)p->out_w * (size_t)p->out_c;
            int32_t ox = 0;
            while (ox < p->out_w) {
                const int32_t ix0 = ox * s - p->pad_w;
                if (rows_inside && ix0 >= 0 && ix0 + 2 < p->in_w) {
                    const int both = pairs && ox + 1 < p->out_w && ix0 + s + 2 < p->in_w;
                    a.in = image + ((size_t)iy0 * (size_t)p->in_w + (size_t)ix0) * (size_t)c;
                    a.d0 = (int32_t)((uintptr_t)out - (uintptr_t)a.in);
                    a.d1 = a.d0 + p->out_c;
                    if (both) {
                        pair(&a);
                    } else {
                        one(&a);
                    }
                    ox += 1 + both;
                    out += (1 + both) * p->out_c;
                } else {
                    tg_conv_params q = *p;
                    q.batches = 1;
                    q.out_h = 1;
                    q.out_w = 1;
                    q.pad_h = p->pad_h - oy * p->stride_h;
                    q.pad_w = p->pad_w - ox * s;
                    tg_depthwise_conv2d_s8(&q, image, filter, quant, out, scratch);
                    ++ox;
                    out += p->out_c;
                }
            }
        }
    }
}

void tg_depthwise3x3s1_direct_s8_dsp(const tg_conv_params *p, const int8_t *input,
                                     const int32_t *stream, const int16_t *filter,
                                     const tg_chan_quant *quant, int8_t *output, int8_t *scratch)
{
    tg_dw3x3_direct(p, input, stream, filter, quant, output, scratch, 46, tg_dw3x3_pair_s1,
                    tg_dw3x3_one_s1);
}

void tg_depthwise3x3s2_direct_s8_dsp(const tg_conv_params *p, const int8_t *input,
                                     const int32_t *stream, const int16_t *filter,
                                     const tg_chan_quant *quant, int8_t *output, int8_t *scratch)
{
    tg_dw3x3_direct(p, input, stream, filter, quant, output, scratch, 67, tg_dw3x3_pair_s2,
                    tg_dw3x3_one_s2);
}

/* DW3X3_STREAM_WORDS in tinygen/plan/ops.py: 46 words per group at stride
 * 1, 67 at stride 2. */
void tg_depthwise3x3s1_s8_dsp(const tg_conv_params *p, const int8_t *input,
                              const int32_t *stream, int8_t *output, int8_t *scratch)
{
    tg_dw3x3_rows(p, input, stream, output, scratch, 46, tg_dw3x3_pair_s1, tg_dw3x3_one_s1);
}

void tg_depthwise3x3s2_s8_dsp(const tg_conv_params *p, const int8_t *input,
                              const int32_t *stream, int8_t *output, int8_t *scratch)
{
    tg_dw3x3_rows(p, input, stream, output, scratch, 67, tg_dw3x3_pair_s2, tg_dw3x3_one_s2);
}
#endif
