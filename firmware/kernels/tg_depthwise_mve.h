/*
 * Helium depthwise convolution (TG_MVE, see tg_mve.h). filter: int16
 * [tap][out_c] (doubled in fast mode, like the bias), so the 4-lane
 * widening loads VLDRB.S32 / VLDRH.S32 take 4 consecutive channels of a tap
 * and each output pixel's channels run 16 at a time in 4 accumulators. The
 * last partial group of 4 is predicated. Channels are written group by
 * group, which tinygen/plan/memory.py allows for depthwise (strict gap).
 *
 * scratch: k_h*k_w tap pointers (8 bytes reserved each), then one row of
 * in_c bytes holding the input zero point, read by taps outside the image.
 */
#ifndef TG_DEPTHWISE_MVE_H
#define TG_DEPTHWISE_MVE_H

#include "tg_mve.h"

#if TG_MVE

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
                        int32x4_t a0 = vdupq_n_s32(0);
                        int32x4_t a1 = a0;
                        int32x4_t a2 = a0;
                        int32x4_t a3 = a0;
                        const int16_t *w = filter + c;
                        for (t = 0; t < taps_n; ++t, w += oc) {
                            const int8_t *x = taps[t] + c;
                            a0 = vaddq_s32(a0, vmulq_s32(vldrbq_s32(x), vldrhq_s32(w)));
                            a1 = vaddq_s32(a1, vmulq_s32(vldrbq_s32(x + 4), vldrhq_s32(w + 4)));
                            a2 = vaddq_s32(a2, vmulq_s32(vldrbq_s32(x + 8), vldrhq_s32(w + 8)));
                            a3 = vaddq_s32(a3, vmulq_s32(vldrbq_s32(x + 12), vldrhq_s32(w + 12)));
                        }
                        vstrbq_s32(output + c, tg_mve_requant(a0, quant + c, &o, 1));
                        vstrbq_s32(output + c + 4, tg_mve_requant(a1, quant + c + 4, &o, 1));
                        vstrbq_s32(output + c + 8, tg_mve_requant(a2, quant + c + 8, &o, 1));
                        vstrbq_s32(output + c + 12, tg_mve_requant(a3, quant + c + 12, &o, 1));
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
