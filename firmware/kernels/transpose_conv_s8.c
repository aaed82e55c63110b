/* int8 TRANSPOSE_CONV, bit-exact with TFLM's reference kernel: the sum of
 * (input + input_offset) * filter over every input pixel whose scattered
 * filter window covers the output pixel, plus the bias, requantized per
 * output channel. Each output pixel gathers those taps: output row y takes
 * filter row ky from input row (y + pad_h - ky) / stride_h when that
 * division is exact and lands inside the input. */
#include "tg_fixedpoint.h"
#include "tg_kernels.h"

void tg_transpose_conv_s8(const tg_generic_conv_params *p, const int8_t *input,
                          const int8_t *filter, const int32_t *quant, int8_t *output)
{
    const int32_t in_c = p->in_c;
    int32_t b;
    int32_t y;
    int32_t x;
    int32_t oc;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *image = input + b * p->in_h * p->in_w * in_c;
        for (y = 0; y < p->out_h; ++y) {
            for (x = 0; x < p->out_w; ++x) {
                for (oc = 0; oc < p->out_c; ++oc) {
                    const int32_t *q = quant + 3 * oc;
                    int32_t acc = 0;
                    int32_t ky;
                    for (ky = 0; ky < p->k_h; ++ky) {
                        const int32_t ty = y + p->pad_h - ky;
                        int32_t iy;
                        int32_t kx;
                        if (ty < 0 || ty % p->stride_h != 0) {
                            continue;
                        }
                        iy = ty / p->stride_h;
                        if (iy >= p->in_h) {
                            continue;
                        }
                        for (kx = 0; kx < p->k_w; ++kx) {
                            const int32_t tx = x + p->pad_w - kx;
                            const int8_t *src;
                            const int8_t *w;
                            int32_t ix;
                            int32_t c;
                            if (tx < 0 || tx % p->stride_w != 0) {
                                continue;
                            }
                            ix = tx / p->stride_w;
                            if (ix >= p->in_w) {
                                continue;
                            }
                            src = image + (iy * p->in_w + ix) * in_c;
                            w = filter + ((oc * p->k_h + ky) * p->k_w + kx) * in_c;
                            for (c = 0; c < in_c; ++c) {
                                acc += ((int32_t)src[c] + p->input_offset) * (int32_t)w[c];
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
