/* int8 depthwise 2-D convolution, per-channel requantization. */
#include <string.h>

#include "tg_fixedpoint.h"
#include "tg_kernels.h"

/* scratch layout: k_h*k_w tap pointers (8 bytes reserved each), then one
 * row of in_c bytes holding the input zero point, read by taps that fall
 * outside the image. */
void tg_depthwise_conv2d_s8(const tg_conv_params *p, const int8_t *input,
                            const int8_t *filter, const int32_t *bias,
                            const int32_t *mult, const int32_t *shift,
                            int8_t *output, int8_t *scratch)
{
    const int32_t taps_n = p->k_h * p->k_w;
    const int8_t **taps = (const int8_t **)(void *)scratch;
    int8_t *pad_row = scratch + (size_t)taps_n * 8u;
    const int32_t out_c = p->out_c;
    const int32_t dm = p->depth_multiplier;
    const size_t image_bytes = (size_t)p->in_h * (size_t)p->in_w * (size_t)p->in_c;
    int32_t b;
    int32_t oy;
    int32_t ox;
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
                if (dm == 1) {
                    int32_t c = 0;
                    for (; c + 4 <= out_c; c += 4) {
                        const int8_t *w = filter + c;
                        int32_t a0 = bias[c];
                        int32_t a1 = bias[c + 1];
                        int32_t a2 = bias[c + 2];
                        int32_t a3 = bias[c + 3];
                        for (t = 0; t < taps_n; ++t) {
                            const int8_t *x = taps[t] + c;
                            a0 += x[0] * w[0];
                            a1 += x[1] * w[1];
                            a2 += x[2] * w[2];
                            a3 += x[3] * w[3];
                            w += out_c;
                        }
                        output[c] = tg_clamp_s8(tg_requantize(a0, mult[c], shift[c]) + p->output_zero_point,
                                                p->act_min, p->act_max);
                        output[c + 1] = tg_clamp_s8(tg_requantize(a1, mult[c + 1], shift[c + 1]) + p->output_zero_point,
                                                    p->act_min, p->act_max);
                        output[c + 2] = tg_clamp_s8(tg_requantize(a2, mult[c + 2], shift[c + 2]) + p->output_zero_point,
                                                    p->act_min, p->act_max);
                        output[c + 3] = tg_clamp_s8(tg_requantize(a3, mult[c + 3], shift[c + 3]) + p->output_zero_point,
                                                    p->act_min, p->act_max);
                    }
                    for (; c < out_c; ++c) {
                        int32_t a0 = bias[c];
                        for (t = 0; t < taps_n; ++t) {
                            a0 += taps[t][c] * filter[(size_t)t * (size_t)out_c + (size_t)c];
                        }
                        output[c] = tg_clamp_s8(tg_requantize(a0, mult[c], shift[c]) + p->output_zero_point,
                                                p->act_min, p->act_max);
                    }
                } else {
                    int32_t ic;
                    int32_t m;
                    for (ic = 0; ic < p->in_c; ++ic) {
                        for (m = 0; m < dm; ++m) {
                            const int32_t oc = ic * dm + m;
                            int32_t a0 = bias[oc];
                            for (t = 0; t < taps_n; ++t) {
                                a0 += taps[t][ic] * filter[(size_t)t * (size_t)out_c + (size_t)oc];
                            }
                            output[oc] = tg_clamp_s8(tg_requantize(a0, mult[oc], shift[oc]) + p->output_zero_point,
                                                     p->act_min, p->act_max);
                        }
                    }
                }
                output += out_c;
            }
        }
    }
}
