/*
 * int8 depthwise 2-D convolution on the Cortex-M55 (Helium, see tg_mve.h),
 * the variant of depthwise_conv2d_s8.c with the same arguments. filter:
 * int16 [tap][out_c] (doubled in fast mode, like the bias). Channels run 16 (then
 * 8) at a time: VLDRB.S16 / VLDRH.S16 take 8 channels of a tap, VMULLB and
 * VMULLT multiply their even and odd lanes into int32 accumulators. With
 * depth multiplier 1, each whole group of 8 channels has its tg_chan_quant
 * records in the order (0, 2, 4, 6, 1, 3, 5, 7) to match (layout_mve.py);
 * the remaining channels, in order, run 4 at a time under a predicate.
 * Channels are written group by group, which tinygen/plan/memory.py allows for depthwise (strict gap).
 *
 * scratch: k_h*k_w tap pointers (8 bytes reserved each, the upper 4 holding
 * the interior pixels' tap offsets from the window's corner), then one row
 * of in_c bytes holding the input zero point, read by taps outside the
 * image. Every tap's input address is word[t] + base + c: pointers (base 0)
 * at the borders, offsets from the corner (base the corner) inside.
 */
#include "tg_mve.h"

/* Eight channels from their even (0, 2, 4, 6) and odd accumulators, whose
 * records the planner stores in that order; VMOVNB/VMOVNT interleave the
 * results back into channel order for one narrowing store. */
static inline void tg_dw_mve_store8(int8_t *out, int32x4_t even, int32x4_t odd,
                                    const tg_chan_quant *q, const tg_mve_out *o)
{
    const int32x4_t ve = tg_mve_requant(even, q, o, 1);
    const int32x4_t vo = tg_mve_requant(odd, q + 4, o, 1);
    vstrbq_s16(out, vmovntq_s32(vmovnbq_s32(vreinterpretq_s16_s32(ve), ve), vo));
}

/* 8 channels of one tap: the tap's address, VLDRB.S16 / VLDRH.S16 of inputs
 * and weights, VMULLB / VMULLT into the even and odd accumulators. */
#define TG_DW_MVE_HALF_ASM(E, O, XOFF, WOFF)                       \
    "vldrb.s16  %q[xv], [%[x], #" XOFF "]\n\t"                   \
    "vldrh.u16  %q[wv], [%[w], #" WOFF "]\n\t"                   \
    "vmullb.s16 %q[pr], %q[xv], %q[wv]\n\t"                      \
    "vadd.i32   %q[" E "], %q[" E "], %q[pr]\n\t"                \
    "vmullt.s16 %q[pr], %q[xv], %q[wv]\n\t"                      \
    "vadd.i32   %q[" O "], %q[" O "], %q[pr]\n\t"

/* Loop over the taps (low-overhead loop): x = word + at, then the halves.
 * Assembly because GCC's schedule of the C form needs 9 Q registers and
 * spills accumulators. */
#define TG_DW_MVE_TAPS_ASM(HALVES)                                 \
    "dls    lr, %[n]\n\t"                                          \
    "1:\n\t"                                                       \
    "ldr    %[x], [%[tp]], #4\n\t"                                 \
    "add    %[x], %[x], %[at]\n\t"                                 \
    HALVES                                                         \
    "add    %[w], %[w], %[stride]\n\t"                             \
    "le     lr, 1b\n\t"

void tg_depthwise_conv2d_s8_mve(const tg_conv_params *p, const int8_t *input,
                                const int16_t *filter, const tg_chan_quant *quant,
                                int8_t *output, int8_t *scratch)
{
    const int32_t taps_n = p->k_h * p->k_w;
    uint32_t *pointers = (uint32_t *)(void *)scratch;
    uint32_t *offsets = pointers + taps_n;
    int8_t *pad_row = scratch + (size_t)taps_n * 8u;
    const int32_t oc = p->out_c;
    const int32_t dm = p->depth_multiplier;
    const int32_t reach_h = (p->k_h - 1) * p->dil_h;
    const int32_t reach_w = (p->k_w - 1) * p->dil_w;
    const size_t image_bytes = (size_t)p->in_h * (size_t)p->in_w * (size_t)p->in_c;
    const tg_mve_out o = {p->fast, p->output_zero_point, p->act_min, p->act_max};
    const int32_t stride = 2 * oc;
    int32_t b;
    int32_t oy;
    int32_t ox;
    int32_t ky;
    int32_t kx;
    for (ky = 0; ky < p->k_h; ++ky) {
        for (kx = 0; kx < p->k_w; ++kx) {
            offsets[ky * p->k_w + kx] =
                (uint32_t)((ky * p->dil_h * p->in_w + kx * p->dil_w) * p->in_c);
        }
    }
    tg_mve_fill(pad_row, p->input_zero_point, p->in_c);
    for (b = 0; b < p->batches; ++b) {
        const int8_t *image = input + (size_t)b * image_bytes;
        for (oy = 0; oy < p->out_h; ++oy) {
            const int32_t iy0 = oy * p->stride_h - p->pad_h;
            for (ox = 0; ox < p->out_w; ++ox) {
                const int32_t ix0 = ox * p->stride_w - p->pad_w;
                const uint32_t *words = offsets;
                uint32_t base;
                int32_t t = 0;
                int32_t c = 0;
                if (iy0 >= 0 && ix0 >= 0 && iy0 + reach_h < p->in_h && ix0 + reach_w < p->in_w) {
                    base = (uint32_t)(uintptr_t)(image + ((size_t)iy0 * (size_t)p->in_w
                                                          + (size_t)ix0) * (size_t)p->in_c);
                } else {
                    words = pointers;
                    base = 0;
                    for (ky = 0; ky < p->k_h; ++ky) {
                        const int32_t iy = iy0 + ky * p->dil_h;
                        for (kx = 0; kx < p->k_w; ++kx, ++t) {
                            const int32_t ix = ix0 + kx * p->dil_w;
                            pointers[t] = (uint32_t)(uintptr_t)(
                                (iy < 0 || iy >= p->in_h || ix < 0 || ix >= p->in_w)
                                    ? pad_row
                                    : image + ((size_t)iy * (size_t)p->in_w + (size_t)ix)
                                                  * (size_t)p->in_c);
                        }
                    }
                }
                if (dm == 1) {
                    for (; c + 16 <= oc; c += 16) {
                        int32x4_t e0 = vdupq_n_s32(0);
                        int32x4_t o0 = e0;
                        int32x4_t e1 = e0;
                        int32x4_t o1 = e0;
                        const int16_t *w = filter + c;
                        const uint32_t *tp = words;
                        uint32_t x;
                        int16x8_t xv, wv;
                        int32x4_t pr;
                        __asm__(TG_DW_MVE_TAPS_ASM(TG_DW_MVE_HALF_ASM("e0", "o0", "0", "0")
                                                   TG_DW_MVE_HALF_ASM("e1", "o1", "8", "16"))
                                : [e0] "+w"(e0), [o0] "+w"(o0), [e1] "+w"(e1), [o1] "+w"(o1),
                                  [xv] "=&w"(xv), [wv] "=&w"(wv), [pr] "=&w"(pr),
                                  [x] "=&l"(x), [tp] "+r"(tp), [w] "+r"(w)
                                : [n] "r"(taps_n), [at] "r"(base + (uint32_t)c),
                                  [stride] "r"(stride)
                                : "lr", "memory");
                        tg_dw_mve_store8(output + c, e0, o0, quant + c, &o);
                        tg_dw_mve_store8(output + c + 8, e1, o1, quant + c + 8, &o);
                    }
                    for (; c + 8 <= oc; c += 8) {
                        int32x4_t e0 = vdupq_n_s32(0);
                        int32x4_t o0 = e0;
                        const int16_t *w = filter + c;
                        const uint32_t *tp = words;
                        uint32_t x;
                        int16x8_t xv, wv;
                        int32x4_t pr;
                        __asm__(TG_DW_MVE_TAPS_ASM(TG_DW_MVE_HALF_ASM("e0", "o0", "0", "0"))
                                : [e0] "+w"(e0), [o0] "+w"(o0),
                                  [xv] "=&w"(xv), [wv] "=&w"(wv), [pr] "=&w"(pr),
                                  [x] "=&l"(x), [tp] "+r"(tp), [w] "+r"(w)
                                : [n] "r"(taps_n), [at] "r"(base + (uint32_t)c),
                                  [stride] "r"(stride)
                                : "lr", "memory");
                        tg_dw_mve_store8(output + c, e0, o0, quant + c, &o);
                    }
                    for (; c < oc; c += 4) {
                        const mve_pred16_t pr = vctp32q((uint32_t)(oc - c));
                        int32x4_t a0 = vdupq_n_s32(0);
                        const int16_t *w = filter + c;
                        for (t = 0; t < taps_n; ++t, w += oc) {
                            const int8_t *x = (const int8_t *)(uintptr_t)(words[t] + base + (uint32_t)c);
                            a0 = vaddq_s32(a0, vmulq_s32(vldrbq_z_s32(x, pr), vldrhq_z_s32(w, pr)));
                        }
                        tg_mve_store(output + c, tg_mve_requant(a0, quant + c, &o, 1), oc - c);
                    }
                } else {
                    /* Depth multiplier > 1: channel c reads input channel c / dm. */
                    for (; c < oc; c += 4) {
                        int32_t a[4] = {0, 0, 0, 0};
                        int32_t j;
                        for (j = 0; j < 4 && c + j < oc; ++j) {
                            const int32_t ic = (c + j) / dm;
                            for (t = 0; t < taps_n; ++t) {
                                const int8_t *x = (const int8_t *)(uintptr_t)(words[t] + base);
                                a[j] += x[ic] * filter[t * oc + c + j];
                            }
                        }
                        tg_mve_store(output + c, tg_mve_requant(vldrwq_s32(a), quant + c, &o, 1),
                                     oc - c);
                    }
                }
                output += oc;
            }
        }
    }
}

#undef TG_DW_MVE_TAPS_ASM
#undef TG_DW_MVE_HALF_ASM
