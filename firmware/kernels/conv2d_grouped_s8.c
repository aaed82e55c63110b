/* int8 grouped CONV_2D (input depth a multiple k of the filter depth), bit-
 * exact with TFLM's reference kernel: output channel o of a layer with
 * out_c / k filters per group reads the in_c / k input channels of group
 * o / (out_c / k). Taps outside the input contribute nothing (TFLM skips
 * them), so the bias is TFLM's, unfolded. */
#include "tg_fixedpoint.h"
#include "tg_kernels.h"

void tg_conv2d_grouped_s8(const tg_generic_conv_params *p, const int8_t *input,
                          const int8_t *filter, const int32_t *quant, int8_t *output)
{
    const int32_t depth = p->in_c / p->groups;
    const int32_t per_group = p->out_c / p->groups;
    int32_t b;
    int32_t y;
    int32_t x;
    int32_t oc;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *image = input + b * p->in_h * p->in_w * p->in_c;
        for (y = 0; y < p->out_h; ++y) {
            for (x = 0; x < p->out_w; ++x) {
                const int32_t y0 = y * p->stride_h - p->pad_h;
                const int32_t x0 = x * p->stride_w - p->pad_w;
                for (oc = 0; oc < p->out_c; ++oc) {
                    const int32_t *q = quant + 3 * oc;
                    const int8_t *w = filter + oc * p->k_h * p->k_w * depth;
                    const int32_t first = (oc / per_group) * depth;
                    int32_t acc = 0;
                    int32_t ky;
                    for (ky = 0; ky < p->k_h; ++ky) {
                        const int32_t iy = y0 + ky * p->dil_h;
                        int32_t kx;
                        if (iy < 0 || iy >= p->in_h) {
                            continue;
                        }
                        for (kx = 0; kx < p->k_w; ++kx) {
                            const int32_t ix = x0 + kx * p->dil_w;
                            const int8_t *src;
                            const int8_t *wt;
                            int32_t c;
                            if (ix < 0 || ix >= p->in_w) {
                                continue;
                            }
                            src = image + (iy * p->in_w + ix) * p->in_c + first;
                            wt = w + (ky * p->k_w + kx) * depth;
                            for (c = 0; c < depth; ++c) {
                                acc += ((int32_t)src[c] + p->input_offset) * (int32_t)wt[c];
                            }
                        }
                    }
                    acc = tg_requantize(acc + q[0], q[1], q[2]) + p->output_zero_point;
                    *output++ = tg_clamp_s8(acc, p->act_min, p->act_max);
                }
            }
        }
    }
}
