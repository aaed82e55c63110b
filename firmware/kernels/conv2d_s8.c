/* int8 2-D convolution, per-channel requantization. See tg_kernels.h. */
#include <string.h>

#include "tg_fixedpoint.h"
#include "tg_kernels.h"

/* Copies the receptive field of one output pixel into patch (HWC order),
 * writing the input zero point where the window leaves the image. */
static void gather_patch(const tg_conv_params *p, const int8_t *image,
                         int32_t iy0, int32_t ix0, int8_t *patch)
{
    const size_t row_bytes = (size_t)p->in_c;
    int32_t ky;
    int32_t kx;
    for (ky = 0; ky < p->k_h; ++ky) {
        const int32_t iy = iy0 + ky * p->dil_h;
        if (iy < 0 || iy >= p->in_h) {
            memset(patch, p->input_zero_point, row_bytes * (size_t)p->k_w);
            patch += row_bytes * (size_t)p->k_w;
            continue;
        }
        if (p->dil_w == 1 && ix0 >= 0 && ix0 + p->k_w <= p->in_w) {
            memcpy(patch, image + ((size_t)iy * (size_t)p->in_w + (size_t)ix0) * row_bytes,
                   row_bytes * (size_t)p->k_w);
            patch += row_bytes * (size_t)p->k_w;
            continue;
        }
        for (kx = 0; kx < p->k_w; ++kx) {
            const int32_t ix = ix0 + kx * p->dil_w;
            if (ix < 0 || ix >= p->in_w) {
                memset(patch, p->input_zero_point, row_bytes);
            } else {
                memcpy(patch, image + ((size_t)iy * (size_t)p->in_w + (size_t)ix) * row_bytes,
                       row_bytes);
            }
            patch += row_bytes;
        }
    }
}

void tg_conv2d_s8(const tg_conv_params *p, const int8_t *input,
                  const int8_t *filter, const int32_t *bias,
                  const int32_t *mult, const int32_t *shift,
                  int8_t *output, int8_t *scratch)
{
    const int32_t k_len = p->k_h * p->k_w * p->in_c;
    const int32_t out_c = p->out_c;
    const int direct = p->k_h == 1 && p->k_w == 1 && p->pad_h == 0 && p->pad_w == 0;
    const size_t image_bytes = (size_t)p->in_h * (size_t)p->in_w * (size_t)p->in_c;
    int32_t b;
    int32_t oy;
    int32_t ox;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *image = input + (size_t)b * image_bytes;
        for (oy = 0; oy < p->out_h; ++oy) {
            const int32_t iy0 = oy * p->stride_h - p->pad_h;
            for (ox = 0; ox < p->out_w; ++ox) {
                const int32_t ix0 = ox * p->stride_w - p->pad_w;
                const int8_t *patch;
                int32_t oc = 0;
                if (direct) {
                    patch = image + ((size_t)iy0 * (size_t)p->in_w + (size_t)ix0) * (size_t)p->in_c;
                } else {
                    gather_patch(p, image, iy0, ix0, scratch);
                    patch = scratch;
                }
                /* Four output channels share each patch load. */
                for (; oc + 4 <= out_c; oc += 4) {
                    const int8_t *w0 = filter + (size_t)oc * (size_t)k_len;
                    const int8_t *w1 = w0 + k_len;
                    const int8_t *w2 = w1 + k_len;
                    const int8_t *w3 = w2 + k_len;
                    int32_t a0 = bias[oc];
                    int32_t a1 = bias[oc + 1];
                    int32_t a2 = bias[oc + 2];
                    int32_t a3 = bias[oc + 3];
                    int32_t k;
                    for (k = 0; k < k_len; ++k) {
                        const int32_t x = patch[k];
                        a0 += x * w0[k];
                        a1 += x * w1[k];
                        a2 += x * w2[k];
                        a3 += x * w3[k];
                    }
                    output[oc] = tg_clamp_s8(tg_requantize(a0, mult[oc], shift[oc]) + p->output_zero_point,
                                             p->act_min, p->act_max);
                    output[oc + 1] = tg_clamp_s8(tg_requantize(a1, mult[oc + 1], shift[oc + 1]) + p->output_zero_point,
                                                 p->act_min, p->act_max);
                    output[oc + 2] = tg_clamp_s8(tg_requantize(a2, mult[oc + 2], shift[oc + 2]) + p->output_zero_point,
                                                 p->act_min, p->act_max);
                    output[oc + 3] = tg_clamp_s8(tg_requantize(a3, mult[oc + 3], shift[oc + 3]) + p->output_zero_point,
                                                 p->act_min, p->act_max);
                }
                for (; oc < out_c; ++oc) {
                    const int8_t *w0 = filter + (size_t)oc * (size_t)k_len;
                    int32_t a0 = bias[oc];
                    int32_t k;
                    for (k = 0; k < k_len; ++k) {
                        a0 += patch[k] * w0[k];
                    }
                    output[oc] = tg_clamp_s8(tg_requantize(a0, mult[oc], shift[oc]) + p->output_zero_point,
                                             p->act_min, p->act_max);
                }
                output += out_c;
            }
        }
    }
}
