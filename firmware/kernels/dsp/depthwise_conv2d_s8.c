/* int8 depthwise 2-D convolution on cores with the DSP extension
 * (Cortex-M4/M7/M33): tg_depthwise_conv2d_s8_dsp, the variant of
 * depthwise_conv2d_s8.c (same arguments, same filter layout: channels in
 * groups of 4, each tap's 4 weights as (c0, c2, c1, c3), the order in
 * which SXTB16 splits 4 input bytes, so one word of input and two words of
 * weights feed 4 halfword multiply-accumulates), and
 * tg_depthwise3x3s{1,2}_s8_dsp, 3x3 layers from a ring of int16 input rows.
 * tinygen/plan/variants.py chooses them per layer.
 *
 * scratch of tg_depthwise_conv2d_s8_dsp: k_h*k_w tap pointers (8 bytes
 * reserved each), then one row of in_c bytes holding the input zero point,
 * read by taps that fall outside the image. */
#include <stddef.h>
#include <string.h>

#include "tg_rows_dot_dsp.h"

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

/* The weight of tap t for output channel oc in the layout above. */
static inline int32_t dw_weight(const int16_t *filter, int32_t taps_n, int32_t t, int32_t oc)
{
    static const uint8_t order[4] = {0, 2, 1, 3};
    return filter[((oc >> 2) * taps_n + t) * 4 + order[oc & 3]];
}

void tg_depthwise_conv2d_s8_dsp(const tg_conv_params *p, const int8_t *input,
                                const int16_t *filter, const tg_chan_quant *quant,
                                int8_t *output, int8_t *scratch)
{
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
    const int clamp = lo > -128 || hi < 127;
    const uint32_t lo4 = tg_splat_s8(lo);
    const uint32_t hi4 = tg_splat_s8(hi);
    int32_t b;
    int32_t oy;
    int32_t ox;
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
channels:
                if (dm == 1) {
                    for (; c + 4 <= out_c; c += 4) {
                        const tg_chan_quant *q = quant + c;
                        int32_t a0 = q[0].bias;
                        int32_t a1 = q[1].bias;
                        int32_t a2 = q[2].bias;
                        int32_t a3 = q[3].bias;
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

/* tg_depthwise3x3s{1,2}_s8_dsp: a ring of the 3 input rows under an output
 * row, each converted once to int16 and laid out channel-planar ([slot]
 * [channel][column], columns zero-point padded as the layer's padding asks),
 * so that one word holds two horizontally adjacent taps of one channel and
 * SMLAD does two multiply-accumulates. For channel words W0 = (x0, x1),
 * W2 = (x2, x3), W4 = (x4, x5) and a kernel row's weights held as
 * k01 = (w0, w1), k12 = (w1, w2):
 *   stride 1: p0 = SMLAD(W0, k01) + x2 w2    p1 = x1 w0 + SMLAD(W2, k12)
 *             p2 = SMLAD(W2, k01) + x4 w2    p3 = x3 w0 + SMLAD(W4, k12)
 *   stride 2: pixel p = SMLAD(W_2p, k01) + (bottom of W_2p+2) w2
 * where the single products take a halfword of a word already loaded
 * (SMLABT, SMLATB), so 4 output pixels of one channel cost per kernel row
 * 2 weight words, 3 (stride 1) or 5 (stride 2) data words, all single LDRs
 * that pipeline, and 8 MAC instructions for 12 multiply-accumulates; the
 * requantization takes SMMLA and SSAT per pixel (the shift folded into the
 * stream). Channels outer, 4 pixels inner, then a 2- and a 1-pixel block
 * for the rest of the row (a 5-pixel block in place of the last 4 and the
 * 1); rows of 4k, 3, 5 and (stride 1) 6 pixels take passes of their own
 * blocks, without the tail's dispatch. The ring is refilled one input row at a
 * time, so every input row is converted once per image. An activation
 * range narrower than int8 is applied to each output row afterwards. The
 * planner's in-place rule for the portable kernel (tinygen/plan/memory.py,
 * strict window gap) holds: every input row is read into the ring no later
 * than the portable kernel would read it, and output row oy is written only
 * after its three input rows are in the ring.
 *
 * stream (tinygen/plan/ops.py dw3x3_dsp_stream), per channel: bias, mult,
 * e, rz (tg_chan_quant in fast mode, bias and weights doubled, then bias,
 * weights and rz rescaled by dw3x3_shifted; e is not read) then k01 and
 * k12 for kernel rows 0, 1, 2: DW3X3_STREAM_WORDS words.
 *
 * The row pass, registers: r0-r2 the channel's columns in the slots of
 * kernel rows 0-2, r3 the channel's stream record, r4-r7 four pixels'
 * accumulators, r8-r10 data words, r11/r12 weights, lr the output. After
 * the MACs r8-r12 take the requantization record and the output strides. */
typedef struct {
    /* Copied to the pass's stack frame (the pass has no free register
     * for a pointer to them). */
    int32_t c;                 /* 0: output pixel stride (channels) */
    int32_t c2;                /* 4 */
    int32_t c3;                /* 8 */
    int32_t gend;              /* 12: the pass's: r0 after the channel's 4-pixel blocks */
    int32_t gbytes;            /* 16: data bytes the 4-pixel blocks advance per channel */
    int32_t tail;              /* 20: the tail's mode: out_w % 4, or 4 for a 5-pixel block */
    int32_t skip;              /* 24: data pointers, end of a channel to the next one */
    int32_t oskip;             /* 28: output pointer likewise */
    const int32_t *stream_end; /* 32 */
    int32_t last;              /* 36: the 1-pixel block's output offset from the 2-pixel one's */
    /* Loaded into r0-r3, lr. */
    const int16_t *row[3];     /* 40: kernel row k's slot, channel 0, column 0 */
    const int32_t *stream;     /* 52 */
    int8_t *out;               /* 56: the output row, channel 0 */
} tg_dw_row;

#define TG_DWR_W(K) "ldrd   r11, r12, [r3, #" K "]\n\t"
/* Single loads rather than LDRD: the M4 pipelines back-to-back LDRs (one
 * cycle each after the first) where LDRD takes 3 cycles and stalls its
 * neighbours, so a kernel row's 3 data words and 2 weights (TG_DWR_LOAD)
 * take 6 cycles instead of 8. The data pointer's writeback comes last, so
 * that no load waits on it (the weights load from r3). STEP: the bytes the
 * first words advance the pointer. */
#define TG_DWR_LOAD(P, K, STEP)                     \
    "ldr    r9, [" P ", #4]\n\t"                    \
    "ldr    r10, [" P ", #8]\n\t"                   \
    "ldr    r8, [" P "], #" STEP "\n\t"             \
    "ldr    r11, [r3, #" K "]\n\t"                  \
    "ldr    r12, [r3, #" K "+4]\n\t"
/* Stride 1, 4 pixels, one kernel row (pointer P, weights at K); B0-B3 the
 * addends: the accumulators, or the bias in r7 for the first row. */
#define TG_DWR_S1_4(P, K, B0, B1, B2, B3)           \
    TG_DWR_LOAD(P, K, "8")                          \
    "smlad  r4, r8, r11, " B0 "\n\t"                \
    "smlatb r5, r8, r11, " B1 "\n\t"                \
    "smlad  r6, r9, r11, " B2 "\n\t"                \
    "smlatb r7, r9, r11, " B3 "\n\t"                \
    "smlabt r4, r9, r12, r4\n\t"                    \
    "smlad  r5, r9, r12, r5\n\t"                    \
    "smlabt r6, r10, r12, r6\n\t"                   \
    "smlad  r7, r10, r12, r7\n\t"
/* Stride 2, 4 pixels: words W0-W8, W6 and W8 loaded into r8/r9 once W0 and
 * W2 are used (the pointer advances 12, then 4). */
#define TG_DWR_S2_4(P, K, B0, B1, B2, B3)           \
    TG_DWR_LOAD(P, K, "12")                         \
    "smlad  r4, r8, r11, " B0 "\n\t"                \
    "smlad  r5, r9, r11, " B1 "\n\t"                \
    "smlad  r6, r10, r11, " B2 "\n\t"               \
    "smlabt r4, r9, r12, r4\n\t"                    \
    "smlabt r5, r10, r12, r5\n\t"                   \
    "ldr    r9, [" P ", #4]\n\t"                    \
    "ldr    r8, [" P "], #4\n\t"                    \
    "smlabt r6, r8, r12, r6\n\t"                    \
    "smlad  r7, r8, r11, " B3 "\n\t"                \
    "smlabt r7, r9, r12, r7\n\t"
/* 5 pixels (a row of 4k + 1, the last 4-pixel block and the single pixel
 * at once): the fifth accumulator is lr, the output pointer waits on the
 * stack; W6 (and at stride 2 W10) is loaded after W0 (W6) has been used. */
#define TG_DWR_S1_5(P, K, B0, B1, B2, B3, B4)       \
    TG_DWR_LOAD(P, K, "8")                          \
    "smlad  r4, r8, r11, " B0 "\n\t"                \
    "smlatb r5, r8, r11, " B1 "\n\t"                \
    "smlad  r6, r9, r11, " B2 "\n\t"                \
    "smlad  lr, r10, r11, " B4 "\n\t"               \
    "smlatb r7, r9, r11, " B3 "\n\t"                \
    "smlabt r4, r9, r12, r4\n\t"                    \
    "smlad  r5, r9, r12, r5\n\t"                    \
    "smlabt r6, r10, r12, r6\n\t"                   \
    "smlad  r7, r10, r12, r7\n\t"                   \
    "ldr    r8, [" P ", #4]\n\t"                    \
    "smlabt lr, r8, r12, lr\n\t"
#define TG_DWR_S2_5(P, K, B0, B1, B2, B3, B4)       \
    TG_DWR_LOAD(P, K, "12")                         \
    "smlad  r4, r8, r11, " B0 "\n\t"                \
    "smlad  r5, r9, r11, " B1 "\n\t"                \
    "smlad  r6, r10, r11, " B2 "\n\t"               \
    "smlabt r4, r9, r12, r4\n\t"                    \
    "smlabt r5, r10, r12, r5\n\t"                   \
    "ldr    r9, [" P ", #4]\n\t"                    \
    "ldr    r8, [" P "], #4\n\t"                    \
    "smlabt r6, r8, r12, r6\n\t"                    \
    "smlad  lr, r9, r11, " B4 "\n\t"                \
    "smlad  r7, r8, r11, " B3 "\n\t"                \
    "smlabt r7, r9, r12, r7\n\t"                    \
    "ldr    r10, [" P ", #4]\n\t"                   \
    "smlabt lr, r10, r12, lr\n\t"
#define TG_DWR_S1_2(P, K)                           \
    TG_DWR_W(K)                                     \
    "ldrd   r8, r9, [" P "], #4\n\t"                \
    "smlad  r4, r8, r11, r4\n\t"                    \
    "smlabt r4, r9, r12, r4\n\t"                    \
    "smlatb r5, r8, r11, r5\n\t"                    \
    "smlad  r5, r9, r12, r5\n\t"
#define TG_DWR_S2_2(P, K)                           \
    TG_DWR_W(K)                                     \
    "ldrd   r8, r9, [" P "], #8\n\t"                \
    "ldr    r10, [" P "]\n\t"                       \
    "smlad  r4, r8, r11, r4\n\t"                    \
    "smlabt r4, r9, r12, r4\n\t"                    \
    "smlad  r5, r9, r11, r5\n\t"                    \
    "smlabt r5, r10, r12, r5\n\t"
/* One pixel, either stride: reads x0-x3 (x3 unused), no pointer step. */
#define TG_DWR_1(P, K)                              \
    TG_DWR_W(K)                                     \
    "ldrd   r8, r9, [" P "]\n\t"                    \
    "smlad  r4, r8, r11, r4\n\t"                    \
    "smlabt r4, r9, r12, r4\n\t"
/* (acc * mult + rz * 2^32) >> 32 >> TG_DWR_SHIFT, saturated: the fast
 * requantization without the negative-value fix (dw3x3_dsp_eligible) and
 * with the channel's shift e folded into its weights, bias and rz
 * (tinygen/plan/ops.py dw3x3_shifted, times 2^(TG_DWR_SHIFT - e)), so that
 * one SSAT with an immediate shift does the rounding shift and the
 * saturation. TG_DWR_Q loads the channel's mult and rz into r8, r10. */
#define TG_DWR_SHIFT "10"
#define TG_DWR_Q                                    \
    "ldr    r8, [r3, #4]\n\t"                       \
    "ldr    r10, [r3, #12]\n\t"
#define TG_DWR_REQ(A)                               \
    "smmla  " A ", " A ", r8, r10\n\t"              \
    "ssat   " A ", #8, " A ", asr #" TG_DWR_SHIFT "\n\t"
#define TG_DWR_ROWS4(M)                                                     \
    "ldr    r7, [r3]\n\t"                                                   \
    M("r0", "16", "r7", "r7", "r7", "r7")                                   \
    M("r1", "24", "r4", "r5", "r6", "r7")                                   \
    M("r2", "32", "r4", "r5", "r6", "r7")
/* Every pass: the first 10 words of tg_dw_row to the stack frame (and a
 * word for the output pointer when lr is busy), the rest into r0-r3, lr. */
#define TG_DWR_ENTER                                                        \
    "push   {r4-r11, lr}\n\t"                                               \
    "sub    sp, sp, #44\n\t"                                                \
    "ldm    r0!, {r3-r12}\n\t"                                              \
    "stm    sp, {r3-r12}\n\t"                                               \
    "ldm    r0, {r0-r3, lr}\n\t"
/* Every pass: the step to the next channel (its columns, its output byte,
 * its record), back to label 1 until the stream ends, then return. The
 * loads (skip, oskip, stream end into A, B, C) may come before a pass's
 * last store, which then follows a load. */
#define TG_DWR_NEXT_LOAD(A, B, C)                                           \
    "ldr    " A ", [sp, #24]\n\t"                                            \
    "ldr    " B ", [sp, #28]\n\t"                                            \
    "ldr    " C ", [sp, #32]\n\t"
#define TG_DWR_NEXT_STEP(A, B, C)                                           \
    "add    r0, r0, " A "\n\t"                                               \
    "add    r1, r1, " A "\n\t"                                               \
    "add    r2, r2, " A "\n\t"                                               \
    "add    lr, lr, " B "\n\t"                                               \
    "adds   r3, r3, #40\n\t"                                                \
    "cmp    r3, " C "\n\t"                                                   \
    "bne    1b\n\t"                                                         \
    "add    sp, sp, #44\n\t"                                                \
    "pop    {r4-r11, pc}\n\t"
#define TG_DWR_NEXT TG_DWR_NEXT_LOAD("r8", "r9", "r10") TG_DWR_NEXT_STEP("r8", "r9", "r10")
/* The 5-pixel block but its last store: the output pointer on the stack
 * while lr is the fifth accumulator. */
#define TG_DWR_BLOCK5(M5)                                                   \
    "str    lr, [sp, #40]\n\t"                                              \
    "ldr    r7, [r3]\n\t"                                                   \
    M5("r0", "16", "r7", "r7", "r7", "r7", "r7")                            \
    M5("r1", "24", "r4", "r5", "r6", "r7", "lr")                            \
    M5("r2", "32", "r4", "r5", "r6", "r7", "lr")                            \
    TG_DWR_Q                                                                \
    "ldr    r11, [sp, #40]\n\t"                                             \
    "ldr    r12, [sp]\n\t"                                                  \
    TG_DWR_REQ("r4") TG_DWR_REQ("r5") TG_DWR_REQ("r6") TG_DWR_REQ("r7")     \
    TG_DWR_REQ("lr")                                                        \
    "ldr    r8, [sp, #8]\n\t"                                               \
    "strb   r5, [r11, r12]\n\t"                                             \
    "strb   r4, [r11]\n\t"                                                  \
    "strb   r6, [r11, r12, lsl #1]\n\t"                                     \
    "strb   r7, [r11, r8]\n\t"
/* ... its last store, leaving lr at the fifth pixel as the 4-pixel blocks
 * would. */
#define TG_DWR_BLOCK5_END                                                   \
    "strb   lr, [r11, r12, lsl #2]\n\t"                                     \
    "add    lr, r11, r12, lsl #2\n\t"
/* The 4-pixel blocks of a channel, from label 2 until r0 reaches the end
 * the caller left at sp + 12. The pixel stride c and 3c load with the
 * record into r11/r12 for the stores, and the loop's end after the
 * requantization, where a register-offset store right after it costs one
 * cycle. */
#define TG_DWR_BLOCK4_MACS(M4)                                              \
    TG_DWR_ROWS4(M4)                                                        \
    TG_DWR_Q                                                                \
    "ldr    r11, [sp]\n\t"                                                  \
    "ldr    r12, [sp, #8]\n\t"                                              \
    TG_DWR_REQ("r4") TG_DWR_REQ("r5") TG_DWR_REQ("r6") TG_DWR_REQ("r7")
#define TG_DWR_BLOCKS4(M4)                                                  \
    "2:\n\t"                                                                \
    TG_DWR_BLOCK4_MACS(M4)                                                  \
    TG_DWR_BLOCK4_END
#define TG_DWR_BLOCK4_END                                                   \
    "ldr    r8, [sp, #12]\n\t"                                              \
    "strb   r5, [lr, r11]\n\t"                                              \
    "strb   r4, [lr]\n\t"                                                   \
    "strb   r6, [lr, r11, lsl #1]\n\t"                                      \
    "strb   r7, [lr, r12]\n\t"                                              \
    "add    lr, lr, r11, lsl #2\n\t"                                        \
    "cmp    r0, r8\n\t"                                                     \
    "bne    2b\n\t"
/* The tail: TBH on the mode (tg_dw_row.tail) to the 5-pixel block (4),
 * the 2-pixel block (2, and 3 which goes on to the 1-pixel block) or the
 * 1-pixel block (1). Frame: the struct's first 10 words, then the output
 * pointer while the 5-pixel block uses lr. */
#define TG_DWR_PASS(M4, M5, M2)                                             \
    TG_DWR_ENTER                                                            \
    "1:\n\t"                                                                \
    "ldr    r4, [sp, #16]\n\t"                                              \
    "cmp    r4, #0\n\t"                                                     \
    "beq    3f\n\t"                                                         \
    "add    r4, r0, r4\n\t"                                                 \
    "str    r4, [sp, #12]\n\t"                                              \
    TG_DWR_BLOCKS4(M4)                                                      \
    "3:\n\t"                                                                \
    "ldr    r4, [sp, #20]\n\t"                                              \
    "tbh    [pc, r4, lsl #1]\n\t"                                           \
    "6:\n\t"                                                                \
    ".hword (5f - 6b) / 2, (8f - 6b) / 2, (7f - 6b) / 2, (7f - 6b) / 2\n\t" \
    ".hword (9f - 6b) / 2\n\t"                                              \
    ".align 1\n\t"                                                          \
    "9:\n\t"                                                                \
    TG_DWR_BLOCK5(M5)                                                       \
    TG_DWR_BLOCK5_END                                                       \
    "b      5f\n\t"                                                         \
    "7:\n\t"                                                                \
    "ldr    r4, [r3]\n\t"                                                   \
    "mov    r5, r4\n\t"                                                     \
    M2("r0", "16") M2("r1", "24") M2("r2", "32")                            \
    TG_DWR_Q TG_DWR_REQ("r4") TG_DWR_REQ("r5")                              \
    "ldr    r8, [sp]\n\t"                                                   \
    "strb   r4, [lr]\n\t"                                                   \
    "strb   r5, [lr, r8]\n\t"                                               \
    "ldr    r4, [sp, #20]\n\t"                                              \
    "cmp    r4, #3\n\t"                                                     \
    "bne    5f\n\t"                                                         \
    "8:\n\t"                                                                \
    "ldr    r4, [r3]\n\t"                                                   \
    TG_DWR_1("r0", "16") TG_DWR_1("r1", "24") TG_DWR_1("r2", "32")          \
    TG_DWR_Q TG_DWR_REQ("r4")                                               \
    "ldr    r8, [sp, #36]\n\t"                                              \
    "strb   r4, [lr, r8]\n\t"                                               \
    "5:\n\t"                                                                \
    TG_DWR_NEXT

__attribute__((naked, noinline)) static void tg_dw3x3_row_s1(const tg_dw_row *a)
{
    __asm__(TG_DWR_PASS(TG_DWR_S1_4, TG_DWR_S1_5, TG_DWR_S1_2));
    (void)a;
}

__attribute__((naked, noinline)) static void tg_dw3x3_row_s2(const tg_dw_row *a)
{
    __asm__(TG_DWR_PASS(TG_DWR_S2_4, TG_DWR_S2_5, TG_DWR_S2_2));
    (void)a;
}

/* Output rows of 4k pixels: the 4-pixel blocks alone, without the test for
 * none and the tail's dispatch. */
#define TG_DWR_PASS4(M4)                                                    \
    TG_DWR_ENTER                                                            \
    "1:\n\t"                                                                \
    "ldr    r4, [sp, #16]\n\t"                                              \
    "add    r4, r0, r4\n\t"                                                 \
    "str    r4, [sp, #12]\n\t"                                              \
    TG_DWR_BLOCKS4(M4)                                                      \
    TG_DWR_NEXT

/* Output rows of 8k pixels: two 4-pixel blocks per loop step, the first
 * without the loop's end test. */
#define TG_DWR_PASS8(M4)                                                    \
    TG_DWR_ENTER                                                            \
    "1:\n\t"                                                                \
    "ldr    r4, [sp, #16]\n\t"                                              \
    "add    r4, r0, r4\n\t"                                                 \
    "str    r4, [sp, #12]\n\t"                                              \
    "2:\n\t"                                                                \
    TG_DWR_BLOCK4_MACS(M4)                                                  \
    "strb   r4, [lr]\n\t"                                                   \
    "strb   r5, [lr, r11]\n\t"                                              \
    "strb   r6, [lr, r11, lsl #1]\n\t"                                      \
    "strb   r7, [lr, r12]\n\t"                                              \
    "add    lr, lr, r11, lsl #2\n\t"                                        \
    TG_DWR_BLOCK4_MACS(M4)                                                  \
    TG_DWR_BLOCK4_END                                                       \
    TG_DWR_NEXT

__attribute__((naked, noinline)) static void tg_dw3x3_row_s1x8(const tg_dw_row *a)
{
    __asm__(TG_DWR_PASS8(TG_DWR_S1_4));
    (void)a;
}

__attribute__((naked, noinline)) static void tg_dw3x3_row_s2x8(const tg_dw_row *a)
{
    __asm__(TG_DWR_PASS8(TG_DWR_S2_4));
    (void)a;
}

__attribute__((naked, noinline)) static void tg_dw3x3_row_s1x4(const tg_dw_row *a)
{
    __asm__(TG_DWR_PASS4(TG_DWR_S1_4));
    (void)a;
}

__attribute__((naked, noinline)) static void tg_dw3x3_row_s2x4(const tg_dw_row *a)
{
    __asm__(TG_DWR_PASS4(TG_DWR_S2_4));
    (void)a;
}

/* Output rows of exactly 5 pixels (kws01's 25x5 maps): one 5-pixel block
 * per channel, without the 4-pixel loop's test and the tail's dispatch. */
__attribute__((naked, noinline)) static void tg_dw3x3_row_s1w5(const tg_dw_row *a)
{
    __asm__(TG_DWR_ENTER "1:\n\t" TG_DWR_BLOCK5(TG_DWR_S1_5) TG_DWR_NEXT_LOAD("r4", "r5", "r6")
            TG_DWR_BLOCK5_END TG_DWR_NEXT_STEP("r4", "r5", "r6"));
    (void)a;
}

__attribute__((naked, noinline)) static void tg_dw3x3_row_s2w5(const tg_dw_row *a)
{
    __asm__(TG_DWR_ENTER "1:\n\t" TG_DWR_BLOCK5(TG_DWR_S2_5) TG_DWR_NEXT_LOAD("r4", "r5", "r6")
            TG_DWR_BLOCK5_END TG_DWR_NEXT_STEP("r4", "r5", "r6"));
    (void)a;
}

/* Zero-point halfwords over n int16 (n even, dst word aligned), 16 per STM. */
static void tg_dw3x3_fill_zp(int16_t *dst, int32_t zp, size_t n)
{
    const uint32_t v = (uint32_t)(uint16_t)(int16_t)zp * 0x00010001u;
    /* Eight distinct registers: STM stores each register once. */
    register uint32_t r2 __asm__("r2") = v;
    register uint32_t r3 __asm__("r3") = v;
    register uint32_t r4 __asm__("r4") = v;
    register uint32_t r5 __asm__("r5") = v;
    register uint32_t r6 __asm__("r6") = v;
    register uint32_t r8 __asm__("r8") = v;
    register uint32_t r9 __asm__("r9") = v;
    register uint32_t r10 __asm__("r10") = v;
    uint32_t *w = (uint32_t *)(void *)dst;
    size_t blocks = n / 16u;
    size_t k;
    if (blocks) {
        __asm__ volatile("1:\n\t"
                         "stm    %[o]!, {%[a], %[b], %[c], %[d], %[e], %[f], %[g], %[h]}\n\t"
                         "subs   %[k], %[k], #1\n\t"
                         "bne    1b\n\t"
                         : [o] "+r"(w), [k] "+r"(blocks)
                         : [a] "r"(r2), [b] "r"(r3), [c] "r"(r4), [d] "r"(r5), [e] "r"(r6),
                           [f] "r"(r8), [g] "r"(r9), [h] "r"(r10)
                         : "cc", "memory");
    }
    for (k = 0; k < (n % 16u) / 2u; ++k) {
        w[k] = v;
    }
}

/* Input row `row` (pixels c bytes apart) into a ring slot holding its first
 * n channels (the group's, at `row`): channel ch's columns lead .. lead +
 * span of `cols`, from `first`, the slot's column lead of channel 0 (the
 * padding columns around them hold the zero point from the slot's
 * zero-point fill and are never written here). Two input pixels at a
 * time, 4 channels per step: 2 LDR, then 2 PKH pair the pixels' bytes of
 * channels 0/1 and 2/3 ((a0 a1 b0 b1), (a2 a3 b2 b3)) so that 4 SXTB16
 * give the 4 channels' (a, b) halfword pairs, 4 STR. Rows of 8
 * pixels or more take their first 4k pixels with the channel groups outer
 * and 4 pixels per step, stored through one pointer per channel with an
 * immediate post-increment (one cycle a store, where a register offset
 * takes two); narrower rows keep the channel groups inner, so that the
 * loop setup is paid per pixel pair, not per group. */
/* quads: rows of 8 pixels or more may come (tg_dw3x3_fill_narrow leaves
 * their code out, for the rows of 5-pixel passes at stride 1: span <= 7). */
static inline __attribute__((always_inline)) void tg_dw3x3_fill_rows(
    int16_t *first, const int8_t *row, int32_t c, int32_t n, int32_t cols, int32_t span,
    int quads)
{
    const size_t w2 = (size_t)cols * 2u;
    const size_t w3 = 3u * w2;
    int32_t k = 0;
    if (quads && span >= 8) {
        const size_t quad_bytes = (size_t)(span / 4) * 4u * (size_t)c;
        int32_t g;
        for (g = 0; g < n; g += 4) {
            const int8_t *s = row + g;
            const int8_t *send = s + quad_bytes;
            int16_t *d0 = first + (size_t)g * (size_t)cols;
            int16_t *d1 = d0 + cols;
            int16_t *d2 = d1 + cols;
            int16_t *d3 = d2 + cols;
            uint32_t a, b, ao, t;
            __asm__ volatile("1:\n\t"
                             "ldr    %[a], [%[s]]\n\t"
                             "ldr    %[b], [%[s], %[c]]\n\t"
                             "add    %[s], %[s], %[c], lsl #1\n\t"
                             "pkhbt  %[t], %[a], %[b], lsl #16\n\t"
                             "pkhtb  %[b], %[b], %[a], asr #16\n\t"
                             "sxtb16 %[a], %[t]\n\t"
                             "sxtb16 %[t], %[t], ror #8\n\t"
                             "sxtb16 %[ao], %[b]\n\t"
                             "sxtb16 %[b], %[b], ror #8\n\t"
                             "str    %[a], [%[d0]], #4\n\t"
                             "str    %[t], [%[d1]], #4\n\t"
                             "str    %[ao], [%[d2]], #4\n\t"
                             "str    %[b], [%[d3]], #4\n\t"
                             "ldr    %[a], [%[s]]\n\t"
                             "ldr    %[b], [%[s], %[c]]\n\t"
                             "add    %[s], %[s], %[c], lsl #1\n\t"
                             "pkhbt  %[t], %[a], %[b], lsl #16\n\t"
                             "pkhtb  %[b], %[b], %[a], asr #16\n\t"
                             "sxtb16 %[a], %[t]\n\t"
                             "sxtb16 %[t], %[t], ror #8\n\t"
                             "sxtb16 %[ao], %[b]\n\t"
                             "sxtb16 %[b], %[b], ror #8\n\t"
                             "str    %[a], [%[d0]], #4\n\t"
                             "str    %[t], [%[d1]], #4\n\t"
                             "str    %[ao], [%[d2]], #4\n\t"
                             "str    %[b], [%[d3]], #4\n\t"
                             "cmp    %[s], %[send]\n\t"
                             "bne    1b\n\t"
                             : [s] "+r"(s), [d0] "+r"(d0), [d1] "+r"(d1), [d2] "+r"(d2),
                               [d3] "+r"(d3), [a] "=&r"(a), [b] "=&r"(b), [ao] "=&r"(ao),
                               [t] "=&r"(t)
                             : [c] "r"(c), [send] "r"(send)
                             : "cc", "memory");
        }
        k = span / 4 * 4;
    }
    for (; k + 2 <= span; k += 2) {
        const int8_t *s = row + (size_t)k * (size_t)c;
        const int8_t *send = s + n;
        int8_t *d = (int8_t *)(first + k);
        uint32_t v0, v1, o0, t;
        __asm__ volatile("1:\n\t"
                         "ldr    %[v1], [%[s], %[c]]\n\t"
                         "ldr    %[v0], [%[s]], #4\n\t"
                         "pkhbt  %[t], %[v0], %[v1], lsl #16\n\t"
                         "pkhtb  %[v1], %[v1], %[v0], asr #16\n\t"
                         "sxtb16 %[v0], %[t]\n\t"
                         "sxtb16 %[t], %[t], ror #8\n\t"
                         "sxtb16 %[o0], %[v1]\n\t"
                         "sxtb16 %[v1], %[v1], ror #8\n\t"
                         "str    %[v0], [%[d]]\n\t"
                         "str    %[t], [%[d], %[w2]]\n\t"
                         "str    %[o0], [%[d], %[w2], lsl #1]\n\t"
                         "str    %[v1], [%[d], %[w3]]\n\t"
                         "add    %[d], %[d], %[w2], lsl #2\n\t"
                         "cmp    %[s], %[send]\n\t"
                         "bne    1b\n\t"
                         : [s] "+r"(s), [d] "+r"(d), [v0] "=&r"(v0), [v1] "=&r"(v1),
                           [o0] "=&r"(o0), [t] "=&r"(t)
                         : [c] "r"(c), [w2] "r"(w2), [w3] "r"(w3), [send] "r"(send)
                         : "cc", "memory");
    }
    if (span & 1) {
        const int8_t *s = row + (size_t)k * (size_t)c;
        const int8_t *send = s + n;
        int8_t *d = (int8_t *)(first + k);
        uint32_t v0, o0;
        __asm__ volatile("1:\n\t"
                         "ldr    %[v0], [%[s]], #4\n\t"
                         "sxtb16 %[o0], %[v0], ror #8\n\t"
                         "sxtb16 %[v0], %[v0]\n\t"
                         "strh   %[v0], [%[d]]\n\t"
                         "strh   %[o0], [%[d], %[w2]]\n\t"
                         "lsr    %[v0], %[v0], #16\n\t"
                         "lsr    %[o0], %[o0], #16\n\t"
                         "strh   %[v0], [%[d], %[w2], lsl #1]\n\t"
                         "strh   %[o0], [%[d], %[w3]]\n\t"
                         "add    %[d], %[d], %[w2], lsl #2\n\t"
                         "cmp    %[s], %[send]\n\t"
                         "bne    1b\n\t"
                         : [s] "+r"(s), [d] "+r"(d), [v0] "=&r"(v0), [o0] "=&r"(o0)
                         : [w2] "r"(w2), [w3] "r"(w3), [send] "r"(send)
                         : "cc", "memory");
    }
}

/* Not inlined: their loops' registers would make the ring's frame (on the
 * deepest stack path, under the row pass) larger. */
__attribute__((noinline)) static void tg_dw3x3_fill(int16_t *first, const int8_t *row, int32_t c,
                                                  int32_t n, int32_t cols, int32_t span)
{
    tg_dw3x3_fill_rows(first, row, c, n, cols, span, 1);
}

__attribute__((noinline)) static void tg_dw3x3_fill_narrow(int16_t *first, const int8_t *row,
                                                         int32_t c, int32_t n, int32_t cols,
                                                         int32_t span)
{
    tg_dw3x3_fill_rows(first, row, c, n, cols, span, 0);
}

/* n words from src to dst, 8 per LDM/STM pair (n a multiple of 8; 0.7
 * cycles a byte where memcpy takes 0.85). Returns src + n. */
__attribute__((noinline)) static const int32_t *tg_dw3x3_copy(int32_t *dst, const int32_t *src,
                                                          size_t n)
{
    register uint32_t r2 __asm__("r2");
    register uint32_t r3 __asm__("r3");
    register uint32_t r4 __asm__("r4");
    register uint32_t r5 __asm__("r5");
    register uint32_t r6 __asm__("r6");
    register uint32_t r8 __asm__("r8");
    register uint32_t r9 __asm__("r9");
    register uint32_t r10 __asm__("r10");
    int32_t *o = dst;
    size_t blocks = n / 8u;
    __asm__ volatile("1:\n\t"
                     "ldm    %[s]!, {%[a], %[b], %[c], %[d], %[e], %[f], %[g], %[h]}\n\t"
                     "stm    %[o]!, {%[a], %[b], %[c], %[d], %[e], %[f], %[g], %[h]}\n\t"
                     "subs   %[k], %[k], #1\n\t"
                     "bne    1b\n\t"
                     : [s] "+r"(src), [o] "+r"(o), [k] "+r"(blocks), [a] "=&r"(r2),
                       [b] "=&r"(r3), [c] "=&r"(r4), [d] "=&r"(r5), [e] "=&r"(r6),
                       [f] "=&r"(r8), [g] "=&r"(r9), [h] "=&r"(r10)
                     :
                     : "cc", "memory");
    return src;
}

/* The ring for g of the layer's c channels (g = c: all of them; the
 * caller offsets input, stream and output to the group's first channel).
 * With copy set or g < c the group's stream is copied into scratch after
 * the ring first, so that each stream word is read from flash once per
 * layer: the whole stream in dw3x3_ram_scratch (tinygen/plan/ops.py), or
 * half of it beside the ring of half the channels in dw3x3_dsp_scratch,
 * which has room for both where (c / 2) (6 cols + 40) <= 6 c cols, i.e.
 * cols >= 8. Otherwise, for one image whose output overlaps its input (the
 * planner's in-place rule: the input dies here and the output lies below
 * it; an output that does not overlap ends at or below the input, 8-byte
 * aligned, or above its end), the input's bytes above the output's end are
 * free once their rows are in the ring: the stream, read in place until
 * then, moves there as soon as they can hold it (vww01's stride-2 layer on
 * its 48x48 map after 13 of 48 rows), for all c channels. Where g < c and
 * the stream does not move, the second half follows the first. */
static void tg_dw3x3_ring(const tg_conv_params *p, const int8_t *input, const int32_t *stream,
                          int8_t *output, int8_t *scratch, void (*pass)(const tg_dw_row *),
                          int32_t g, int copy)
{
    int second = 0;
    /* Every group in this one frame (a caller looping over the halves would
     * add its own to the deepest stack path, under the row pass). */
    for (;; second = 1, input += g, output += g) {
        /* A slot's tag while it holds only the zero point. */
        enum { PAD = INT32_MIN, STALE = INT32_MIN + 1 };
        const int32_t c = p->in_c;
        const int32_t s = p->stride_w;
        /* Columns per channel in a slot, even (dw3x3_dsp_cols in ops.py): the
         * last 1-pixel block reads one column past the window. */
        const int32_t cols = ((p->out_w - 1) * s + 3 + 1) & ~1;
        const int32_t lead = p->pad_w < cols ? p->pad_w : cols;
        const int32_t span = p->in_w < cols - lead ? p->in_w : cols - lead;
        const size_t image_bytes = (size_t)p->in_h * (size_t)p->in_w * (size_t)c;
        const size_t out_row = (size_t)p->out_w * (size_t)c;
        /* Where the stream moves (NULL: it does not). */
        int8_t *spare = (int8_t *)(((uintptr_t)(output + (size_t)p->out_h * out_row) + 3u)
                                   & ~(uintptr_t)3u);
        if (copy || p->batches != 1 || input >= spare || spare + 40 * c > input + image_bytes) {
            spare = NULL;
        }
        const size_t slot_halves = (size_t)(g = spare ? c : g) * (size_t)cols;
        /* Clamped (an activation range narrower than int8) unless these
         * splat -128 and 127. */
        const uint32_t lo4 = tg_splat_s8(p->act_min);
        const uint32_t hi4 = tg_splat_s8(p->act_max);
        const int32_t quads = (int32_t)((uint32_t)p->out_w / 4u);
        int16_t *ring = (int16_t *)(void *)scratch;
        int32_t held[3] = {PAD, PAD, PAD};
        tg_dw_row a;
        int32_t b;
        int32_t oy;
        a.c = c;
        a.c2 = 2 * c;
        a.c3 = 3 * c;
        a.tail = (int32_t)((uint32_t)p->out_w % 4u);
        /* 4k + 1 pixels: k - 1 blocks of 4, then one of 5 (same pointer steps). */
        a.gbytes = (quads - (a.tail == 1 && quads)) * 8 * s;
        a.skip = cols * 2 - quads * 8 * s - (a.tail & 2 ? 4 * s : 0);
        /* The tail blocks store at offsets from lr and leave it where the
         * 4-pixel blocks did. */
        a.last = a.tail & 2 ? 2 * c : 0;
        a.oskip = 1 - quads * 4 * c;
        if (a.tail == 1 && quads) {
            a.tail = 4;
        }
        a.stream = stream;
        if (copy || g < c) {
            /* stream moves on to the second half's. */
            a.stream = (const int32_t *)(void *)(ring + 3u * slot_halves);
            stream = tg_dw3x3_copy((int32_t *)(void *)(ring + 3u * slot_halves), stream,
                                   10u * (size_t)g);
        }
        a.stream_end = a.stream + 10 * g;
        tg_dw3x3_fill_zp(ring, p->input_zero_point, 3u * slot_halves);
        for (b = 0; b < p->batches; ++b) {
            const int8_t *image = input + (size_t)b * image_bytes;
            int32_t j;
            for (j = 0; j < 3; ++j) {
                held[j] = held[j] == PAD ? PAD : STALE;
            }
            /* The slot of input row iy is iy mod 3: j0 follows it for iy0
             * (-pad_h, pad_h 0 or 1 for 3x3 windows). */
            int32_t j0 = p->pad_h ? 3 - p->pad_h : 0;
            int8_t *out = output + (size_t)b * (size_t)p->out_h * out_row;
            /* iy0: the top row under output row oy, from -pad_h. */
            int32_t iy0 = -p->pad_h;
            for (oy = p->out_h; oy > 0; --oy) {
                /* Read once a row (p is in flash; the calls below may
                 * alias it, so each use would read it again). */
                const int32_t sh = p->stride_h;
                const int32_t in_h = p->in_h;
                int32_t iy = iy0;
                int32_t k;
                for (k = 0, j = j0; k < 3; ++k, ++iy, j = j == 2 ? 0 : j + 1) {
                    const int inside = iy >= 0 && iy < in_h;
                    int16_t *slot = ring + (size_t)j * slot_halves;
                    if (held[j] != (inside ? iy : PAD)) {
                        if (inside) {
                            (pass == tg_dw3x3_row_s1w5 ? tg_dw3x3_fill_narrow : tg_dw3x3_fill)(
                                slot + lead, image + (size_t)iy * (size_t)p->in_w * (size_t)c, c,
                                g, cols, span);
                            held[j] = iy;
                        } else {
                            tg_dw3x3_fill_zp(slot, p->input_zero_point, slot_halves);
                            held[j] = PAD;
                        }
                    }
                    a.row[k] = slot;
                }
                iy0 += sh;
                j0 += sh;
                j0 -= j0 >= 3 ? 3 : 0;
                /* iy - 1: the last row read (rows are read in order). */
                if (spare && image + (size_t)iy * (size_t)p->in_w * (size_t)c >= spare + 40 * c) {
                    tg_dw3x3_copy((int32_t *)(void *)spare, a.stream, 10u * (size_t)c);
                    a.stream = (const int32_t *)(void *)spare;
                    a.stream_end = a.stream + 10 * c;
                    spare = NULL;
                }
                a.out = out;
                out += out_row;
                pass(&a);
                if (lo4 != 0x80808080u || hi4 != 0x7f7f7f7fu) {
                    /* Bytewise clamp of the row just written (SSUB8 + SEL; with
                     * g = c only, ops.py dw3x3_halves_eligible). */
                    uint32_t *w = (uint32_t *)(void *)a.out;
                    uint32_t *wend = w + out_row / 4u;
                    for (; w < wend; ++w) {
                        *w = tg_clamp4_dsp(*w, lo4, hi4);
                    }
                }
            }
        }
        if (second || g == c) {
            return;
        }
    }
}

/* The pass for a row width: 8k pixels, 4k, or any (tail blocks). */
static void (*tg_dw3x3_row_by_width(const tg_conv_params *p, void (*any)(const tg_dw_row *),
                                    void (*x4)(const tg_dw_row *),
                                    void (*x8)(const tg_dw_row *)))(const tg_dw_row *)
{
    return p->out_w % 4 ? any : p->out_w % 8 ? x4 : x8;
}

void tg_depthwise3x3s1_s8_dsp(const tg_conv_params *p, const int8_t *input,
                              const int32_t *stream, int8_t *output, int8_t *scratch)
{
    tg_dw3x3_ring(p, input, stream, output, scratch,
                  tg_dw3x3_row_by_width(p, tg_dw3x3_row_s1, tg_dw3x3_row_s1x4,
                                         tg_dw3x3_row_s1x8), p->in_c, 0);
}

void tg_depthwise3x3s2_s8_dsp(const tg_conv_params *p, const int8_t *input,
                              const int32_t *stream, int8_t *output, int8_t *scratch)
{
    tg_dw3x3_ring(p, input, stream, output, scratch,
                  tg_dw3x3_row_by_width(p, tg_dw3x3_row_s2, tg_dw3x3_row_s2x4,
                                         tg_dw3x3_row_s2x8), p->in_c, 0);
}

/* tg_depthwise3x3s{1,2}_ram_s8_dsp: the same in one group, with the whole
 * stream copied into scratch after the whole ring (tinygen/plan/ops.py
 * dw3x3_ram_scratch). The planner takes them where the larger scratch
 * leaves the arena as it is (ops.py take_dsp_upgrades); elsewhere the
 * kernels above copy the stream in groups within the ring's scratch. */
void tg_depthwise3x3s1_ram_s8_dsp(const tg_conv_params *p, const int8_t *input,
                                  const int32_t *stream, int8_t *output, int8_t *scratch)
{
    tg_dw3x3_ring(p, input, stream, output, scratch,
                  tg_dw3x3_row_by_width(p, tg_dw3x3_row_s1, tg_dw3x3_row_s1x4,
                                         tg_dw3x3_row_s1x8), p->in_c, 1);
}

void tg_depthwise3x3s2_ram_s8_dsp(const tg_conv_params *p, const int8_t *input,
                                  const int32_t *stream, int8_t *output, int8_t *scratch)
{
    tg_dw3x3_ring(p, input, stream, output, scratch,
                  tg_dw3x3_row_by_width(p, tg_dw3x3_row_s2, tg_dw3x3_row_s2x4,
                                         tg_dw3x3_row_s2x8), p->in_c, 1);
}

/* Stride 1, output rows of exactly 6 pixels (MobileNet's late 6x6 maps),
 * one 6-pixel block per channel in place of a 4- and a 2-pixel block: one
 * requantization record, one output pointer reload and one channel step
 * per 6 outputs. Per kernel row: the weights (LDRD), words W0, W2 (LDRD),
 * then W4, W6 into the same registers (LDRD), 12 MAC instructions for 18
 * multiply-accumulates:
 *   p0 = SMLAD(W0, k01) + x2 w2    p1 = x1 w0 + SMLAD(W2, k12)
 *   p2 = SMLAD(W2, k01) + x4 w2    p3 = x3 w0 + SMLAD(W4, k12)
 *   p4 = SMLAD(W4, k01) + x6 w2    p5 = x5 w0 + SMLAD(W6, k12)
 * Registers: r0-r2 the rows, r3 the channel's record, r4-r9 the
 * accumulators, r10/r11 data, r12/lr weights; the output pointer waits on
 * the stack. The row pointers advance 12 bytes a row, which with
 * tg_dw_row.skip (cols * 2 - 12 for 6 pixels at stride 1) steps a channel.
 * B: the first row's addend (the bias, in r9, whose first write is the
 * row's last first write). */
#define TG_DWR_S1_6(P, K, B4, B5, B6, B7, B8, B9)   \
    "ldr    r11, [" P ", #4]\n\t"                  \
    "ldr    r10, [" P "], #8\n\t"                  \
    "ldr    r12, [r3, #" K "]\n\t"                 \
    "ldr    lr, [r3, #" K "+4]\n\t"                \
    "smlad  r4, r10, r12, " B4 "\n\t"              \
    "smlatb r5, r10, r12, " B5 "\n\t"              \
    "smlad  r6, r11, r12, " B6 "\n\t"              \
    "smlatb r7, r11, r12, " B7 "\n\t"              \
    "smlabt r4, r11, lr, r4\n\t"                   \
    "smlad  r5, r11, lr, r5\n\t"                   \
    "ldr    r11, [" P ", #4]\n\t"                  \
    "ldr    r10, [" P "], #4\n\t"                  \
    "smlabt r6, r10, lr, r6\n\t"                   \
    "smlad  r7, r10, lr, r7\n\t"                   \
    "smlad  r8, r10, r12, " B8 "\n\t"              \
    "smlatb r9, r10, r12, " B9 "\n\t"              \
    "smlabt r8, r11, lr, r8\n\t"                   \
    "smlad  r9, r11, lr, r9\n\t"
#define TG_DWR6_REQ(A)                              \
    "smmla  " A ", " A ", r10, r12\n\t"            \
    "ssat   " A ", #8, " A ", asr #" TG_DWR_SHIFT "\n\t"

__attribute__((naked, noinline)) static void tg_dw3x3_row_s1w6(const tg_dw_row *a)
{
    __asm__(TG_DWR_ENTER
            "1:\n\t"
            "str    lr, [sp, #40]\n\t"
            "ldr    r9, [r3]\n\t"
            TG_DWR_S1_6("r0", "16", "r9", "r9", "r9", "r9", "r9", "r9")
            TG_DWR_S1_6("r1", "24", "r4", "r5", "r6", "r7", "r8", "r9")
            TG_DWR_S1_6("r2", "32", "r4", "r5", "r6", "r7", "r8", "r9")
            "ldr    r10, [r3, #4]\n\t"
            "ldr    r12, [r3, #12]\n\t"
            TG_DWR6_REQ("r4") TG_DWR6_REQ("r5") TG_DWR6_REQ("r6")
            TG_DWR6_REQ("r7") TG_DWR6_REQ("r8") TG_DWR6_REQ("r9")
            "ldr    lr, [sp, #40]\n\t"
            "ldr    r10, [sp]\n\t"
            "ldr    r11, [sp, #8]\n\t"
            "strb   r5, [lr, r10]\n\t"
            "strb   r4, [lr]\n\t"
            "strb   r6, [lr, r10, lsl #1]\n\t"
            "strb   r7, [lr, r11]\n\t"
            "strb   r8, [lr, r10, lsl #2]\n\t"
            "add    lr, lr, r10, lsl #2\n\t"
            TG_DWR_NEXT_LOAD("r4", "r5", "r6")
            "strb   r9, [lr, r10]\n\t"
            TG_DWR_NEXT_STEP("r4", "r5", "r6"));
    (void)a;
}

/* tg_depthwise3x3s1_ram_s8_dsp for output rows of 6 pixels (the planner
 * checks out_w == 6). */
void tg_depthwise3x3s1w6_ram_s8_dsp(const tg_conv_params *p, const int8_t *input,
                                    const int32_t *stream, int8_t *output, int8_t *scratch)
{
    tg_dw3x3_ring(p, input, stream, output, scratch, tg_dw3x3_row_s1w6, p->in_c, 1);
}

/* Output rows of exactly 3 pixels (3x3 maps) at stride 1 or 2: one 3-pixel
 * block per channel in place of a 2- and a 1-pixel block. Per kernel row
 * the weights, then words W0, W2, W4 (and W6 at stride 2), 6 MAC
 * instructions for 9 multiply-accumulates:
 *   stride 1: p0 = SMLAD(W0, k01) + x2 w2   p1 = x1 w0 + SMLAD(W2, k12)
 *             p2 = SMLAD(W2, k01) + x4 w2
 *   stride 2: p = SMLAD(W_2p, k01) + (bottom of W_2p+2) w2
 * Registers: r0-r2 rows, r3 the record, r4-r6 accumulators (the bias in
 * r6 for the first row), r7-r10 data, r11/r12 weights, lr the output. The
 * row pointers advance 4 * stride bytes a row, which with tg_dw_row.skip
 * steps a channel. */
#define TG_DWR_S1_3(P, K, B4, B5, B6)               \
    TG_DWR_LOAD(P, K, "4")                          \
    "smlad  r4, r8, r11, " B4 "\n\t"               \
    "smlatb r5, r8, r11, " B5 "\n\t"               \
    "smlabt r4, r9, r12, r4\n\t"                   \
    "smlad  r5, r9, r12, r5\n\t"                   \
    "smlad  r6, r9, r11, " B6 "\n\t"               \
    "smlabt r6, r10, r12, r6\n\t"
#define TG_DWR_S2_3(P, K, B4, B5, B6)               \
    "ldr    r7, [" P ", #12]\n\t"                  \
    TG_DWR_LOAD(P, K, "8")                          \
    "smlad  r4, r8, r11, " B4 "\n\t"               \
    "smlabt r4, r9, r12, r4\n\t"                   \
    "smlad  r5, r9, r11, " B5 "\n\t"               \
    "smlabt r5, r10, r12, r5\n\t"                  \
    "smlad  r6, r10, r11, " B6 "\n\t"              \
    "smlabt r6, r7, r12, r6\n\t"
/* The pixel stride c loads with the record into r11 (free once the MACs
 * are done). */
#define TG_DWR_PASS3(M3)                                                    \
    TG_DWR_ENTER                                                            \
    "1:\n\t"                                                                \
    "ldr    r6, [r3]\n\t"                                                   \
    M3("r0", "16", "r6", "r6", "r6")                                        \
    M3("r1", "24", "r4", "r5", "r6")                                        \
    M3("r2", "32", "r4", "r5", "r6")                                        \
    TG_DWR_Q                                                                \
    "ldr    r11, [sp]\n\t"                                                  \
    TG_DWR_REQ("r4") TG_DWR_REQ("r5") TG_DWR_REQ("r6")                      \
    TG_DWR_NEXT_LOAD("r7", "r8", "r9")                                      \
    "strb   r5, [lr, r11]\n\t"                                              \
    "strb   r4, [lr]\n\t"                                                   \
    "strb   r6, [lr, r11, lsl #1]\n\t"                                      \
    TG_DWR_NEXT_STEP("r7", "r8", "r9")

__attribute__((naked, noinline)) static void tg_dw3x3_row_s1w3(const tg_dw_row *a)
{
    __asm__(TG_DWR_PASS3(TG_DWR_S1_3));
    (void)a;
}

__attribute__((naked, noinline)) static void tg_dw3x3_row_s2w3(const tg_dw_row *a)
{
    __asm__(TG_DWR_PASS3(TG_DWR_S2_3));
    (void)a;
}

/* tg_depthwise3x3s{1,2}_ram_s8_dsp for output rows of 3 pixels (the
 * planner checks out_w == 3). */
void tg_depthwise3x3s1w3_ram_s8_dsp(const tg_conv_params *p, const int8_t *input,
                                    const int32_t *stream, int8_t *output, int8_t *scratch)
{
    tg_dw3x3_ring(p, input, stream, output, scratch, tg_dw3x3_row_s1w3, p->in_c, 1);
}

void tg_depthwise3x3s2w3_ram_s8_dsp(const tg_conv_params *p, const int8_t *input,
                                    const int32_t *stream, int8_t *output, int8_t *scratch)
{
    tg_dw3x3_ring(p, input, stream, output, scratch, tg_dw3x3_row_s2w3, p->in_c, 1);
}

/* tg_depthwise3x3s{1,2}_s8_dsp and their _ram forms for output rows of 5
 * pixels (the planner checks out_w == 5). */
void tg_depthwise3x3s1w5_s8_dsp(const tg_conv_params *p, const int8_t *input,
                                const int32_t *stream, int8_t *output, int8_t *scratch)
{
    tg_dw3x3_ring(p, input, stream, output, scratch, tg_dw3x3_row_s1w5, p->in_c, 0);
}

void tg_depthwise3x3s2w5_s8_dsp(const tg_conv_params *p, const int8_t *input,
                                const int32_t *stream, int8_t *output, int8_t *scratch)
{
    tg_dw3x3_ring(p, input, stream, output, scratch, tg_dw3x3_row_s2w5, p->in_c, 0);
}

void tg_depthwise3x3s1w5_ram_s8_dsp(const tg_conv_params *p, const int8_t *input,
                                    const int32_t *stream, int8_t *output, int8_t *scratch)
{
    tg_dw3x3_ring(p, input, stream, output, scratch, tg_dw3x3_row_s1w5, p->in_c, 1);
}

void tg_depthwise3x3s2w5_ram_s8_dsp(const tg_conv_params *p, const int8_t *input,
                                    const int32_t *stream, int8_t *output, int8_t *scratch)
{
    tg_dw3x3_ring(p, input, stream, output, scratch, tg_dw3x3_row_s2w5, p->in_c, 1);
}

/* tg_depthwise3x3s{1,2}[w5]_halves_s8_dsp: the same as the kernels reading
 * the stream in place, in the same scratch (the planner checks cols >= 8,
 * channels in groups of 8 and no clamp), with the stream read from flash
 * about once per layer: moved into the input's spent bytes where they can
 * hold it (tg_dw3x3_ring), else copied for half the channels at a time:
 * every row of the image for the first half, then for the second, each
 * half's stream after its ring. The planner's in-place rule
 * (tinygen/plan/memory.py) holds per channel where the output lies whole
 * pixels from the input: each half writes only bytes of its own channels,
 * in pixels whose rows it has read. Elsewhere (another half's input bytes
 * would be overwritten) one group reads the stream in place. */
static int32_t tg_dw3x3_half(const tg_conv_params *p, const int8_t *input, const int8_t *output)
{
    return (input - output) % p->in_c ? p->in_c : p->in_c / 2;
}

void tg_depthwise3x3s1_halves_s8_dsp(const tg_conv_params *p, const int8_t *input,
                                     const int32_t *stream, int8_t *output, int8_t *scratch)
{
    tg_dw3x3_ring(p, input, stream, output, scratch,
                  tg_dw3x3_row_by_width(p, tg_dw3x3_row_s1, tg_dw3x3_row_s1x4,
                                         tg_dw3x3_row_s1x8),
                  tg_dw3x3_half(p, input, output), 0);
}

void tg_depthwise3x3s2_halves_s8_dsp(const tg_conv_params *p, const int8_t *input,
                                     const int32_t *stream, int8_t *output, int8_t *scratch)
{
    tg_dw3x3_ring(p, input, stream, output, scratch,
                  tg_dw3x3_row_by_width(p, tg_dw3x3_row_s2, tg_dw3x3_row_s2x4,
                                         tg_dw3x3_row_s2x8),
                  tg_dw3x3_half(p, input, output), 0);
}

void tg_depthwise3x3s1w5_halves_s8_dsp(const tg_conv_params *p, const int8_t *input,
                                       const int32_t *stream, int8_t *output, int8_t *scratch)
{
    tg_dw3x3_ring(p, input, stream, output, scratch, tg_dw3x3_row_s1w5,
                  tg_dw3x3_half(p, input, output), 0);
}

void tg_depthwise3x3s2w5_halves_s8_dsp(const tg_conv_params *p, const int8_t *input,
                                       const int32_t *stream, int8_t *output, int8_t *scratch)
{
    tg_dw3x3_ring(p, input, stream, output, scratch, tg_dw3x3_row_s2w5,
                  tg_dw3x3_half(p, input, output), 0);
}
