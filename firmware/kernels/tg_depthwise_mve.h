/*
 * Helium depthwise convolution (TG_MVE, see tg_mve.h). filter: int16
 * [tap][out_c] (doubled in fast mode, like the bias). Channels run 16 (then
 * 8) at a time: VLDRB.S16 / VLDRH.S16 take 8 channels of a tap, VMULLB and
 * VMULLT multiply their even and odd lanes into int32 accumulators. With
 * depth multiplier 1, each whole group of 8 channels has its tg_chan_quant
 * records in the order (0, 2, 4, 6, 1, 3, 5, 7) to match (layout_mve.py);
 * the remaining channels, in order, run 4 at a time under a predicate. Channels are written group by
 * group, which tinygen/plan/memory.py allows for depthwise (strict gap).
 *
 * scratch: k_h*k_w tap pointers (8 bytes reserved each), then one row of
 * in_c bytes holding the input zero point, read by taps outside the image.
 */
#ifndef TG_DEPTHWISE_MVE_H
#define TG_DEPTHWISE_MVE_H

#include "tg_mve.h"

#if TG_MVE

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

static inline void tg_depthwise_conv2d_s8_mve(const tg_conv_params *p, const int8_t *input,
                                              const int16_t *filter,
                                              const tg_chan_quant *quant, int8_t *output,
                                              int8_t *scratch)
{
    const int32_t taps_n = p->k_h * p->k_w;
    const int8_t **taps = (const int8_t **)(void *)scratch;
    int8_t *pad_row = scratch + (size_t)taps_n * 8u;
    const int32_t oc = p->out_c;
    const int32_t dm = p->depth_multiplier;
    const size_t image_bytes = (size_t)p->in_h * (size_t)p->in_w * (size_t)p->in_c;
    const tg_mve_out o = {p->fast, p->output_zero_point, p->act_min, p->act_max};
    int32_t b;
    int32_t oy;
    int32_t ox;
    tg_mve_fill(pad_row, p->input_zero_point, p->in_c);
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
                for (ky = 0; ky < p->k_h; ++ky) {
                    const int32_t iy = iy0 + ky * p->dil_h;
                    for (kx = 0; kx < p->k_w; ++kx, ++t) {
                        const int32_t ix = ix0 + kx * p->dil_w;
                        taps[t] = (iy < 0 || iy >= p->in_h || ix < 0 || ix >= p->in_w)
                                      ? pad_row
                                      : image + ((size_t)iy * (size_t)p->in_w + (size_t)ix)
                                                    * (size_t)p->in_c;
                    }
                }
                if (dm == 1) {
                    for (; c + 16 <= oc; c += 16) {
                        int32x4_t e0 = vdupq_n_s32(0);
                        int32x4_t o0 = e0;
                        int32x4_t e1 = e0;
                        int32x4_t o1 = e0;
                        const int16_t *w = filter + c;
                        const int8_t *const *tp = taps;
                        const int8_t *x;
                        int16x8_t xv, wv;
                        int32x4_t pr;
                        /* Assembly: GCC's schedule of the C form needs 9 Q
                         * registers and spills two accumulators. */
                        __asm__("dls    lr, %[n]\n\t"
                                "1:\n\t"
                                "ldr    %[x], [%[tp]], #4\n\t"
                                "add    %[x], %[x], %[c]\n\t"
                                "vldrb.s16  %q[xv], [%[x]]\n\t"
                                "vldrh.u16  %q[wv], [%[w]]\n\t"
                                "vmullb.s16 %q[pr], %q[xv], %q[wv]\n\t"
                                "vadd.i32   %q[e0], %q[e0], %q[pr]\n\t"
                                "vmullt.s16 %q[pr], %q[xv], %q[wv]\n\t"
                                "vadd.i32   %q[o0], %q[o0], %q[pr]\n\t"
                                "vldrb.s16  %q[xv], [%[x], #8]\n\t"
                                "vldrh.u16  %q[wv], [%[w], #16]\n\t"
                                "vmullb.s16 %q[pr], %q[xv], %q[wv]\n\t"
                                "vadd.i32   %q[e1], %q[e1], %q[pr]\n\t"
                                "vmullt.s16 %q[pr], %q[xv], %q[wv]\n\t"
                                "vadd.i32   %q[o1], %q[o1], %q[pr]\n\t"
                                "add    %[w], %[w], %[stride]\n\t"
                                "le     lr, 1b\n\t"
                                : [e0] "+w"(e0), [o0] "+w"(o0), [e1] "+w"(e1), [o1] "+w"(o1),
                                  [xv] "=&w"(xv), [wv] "=&w"(wv), [pr] "=&w"(pr),
                                  [x] "=&l"(x), [tp] "+r"(tp), [w] "+r"(w)
                                : [n] "r"(taps_n), [c] "r"(c), [stride] "r"(2 * oc)
                                : "lr", "memory");
                        tg_dw_mve_store8(output + c, e0, o0, quant + c, &o);
                        tg_dw_mve_store8(output + c + 8, e1, o1, quant + c + 8, &o);
                    }
                    for (; c + 8 <= oc; c += 8) {
                        int32x4_t e0 = vdupq_n_s32(0);
                        int32x4_t o0 = e0;
                        const int16_t *w = filter + c;
                        for (t = 0; t < taps_n; ++t, w += oc) {
                            const int16x8_t x0 = vldrbq_s16(taps[t] + c);
                            const int16x8_t w0 = vldrhq_s16(w);
                            e0 = vaddq_s32(e0, vmullbq_int_s16(x0, w0));
                            o0 = vaddq_s32(o0, vmulltq_int_s16(x0, w0));
                        }
                        tg_dw_mve_store8(output + c, e0, o0, quant + c, &o);
                    }
                    for (; c < oc; c += 4) {
                        const mve_pred16_t pr = vctp32q((uint32_t)(oc - c));
                        int32x4_t a0 = vdupq_n_s32(0);
                        const int16_t *w = filter + c;
                        for (t = 0; t < taps_n; ++t, w += oc) {
                            a0 = vaddq_s32(a0, vmulq_s32(vldrbq_z_s32(taps[t] + c, pr),
                                                         vldrhq_z_s32(w, pr)));
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
                                a[j] += taps[t][ic] * filter[t * oc + c + j];
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

#endif
#endif
