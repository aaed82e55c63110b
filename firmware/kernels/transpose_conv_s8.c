/* int8 TRANSPOSE_CONV, bit-exact with TFLM's reference kernel: the sum of
 * (input + input_offset) * filter over every input pixel whose scattered
 * filter window covers the output pixel, plus the bias, requantized per
 * output channel.
 *
 * Output row y takes filter row ky from input row (y + pad_h - ky) /
 * stride_h when that division is exact, so the rows ky of one phase
 * (y + pad_h) mod stride_h all contribute, each from its own input row; the
 * same holds for columns. The planner splits the filter by phase (phases:
 * per phase its offset into filter and its tap rows and columns) into
 * ordinary [out_c][taps][in_c] rows, and folds input_offset * sum(those
 * rows) into each phase's biases (quant: per phase and output channel,
 * bias, multiplier, shift). A pixel gathers its phase's input taps into
 * scratch, reading taps outside the input as the input zero point, which
 * then add (zp + input_offset) * w = 0 as TFLM's skipped ones: each output
 * is one dot product. */
#include "tg_fixedpoint.h"
#include "tg_kernels.h"

static int32_t tg_tconv_dot(const int8_t *a, const int8_t *b, int32_t n, int32_t acc)
{
    int32_t i = 0;
    for (; i + 4 <= n; i += 4) {
        acc += (int32_t)a[i] * b[i] + (int32_t)a[i + 1] * b[i + 1]
               + (int32_t)a[i + 2] * b[i + 2] + (int32_t)a[i + 3] * b[i + 3];
    }
    for (; i < n; ++i) {
        acc += (int32_t)a[i] * b[i];
    }
    return acc;
}

void tg_transpose_conv_s8(const tg_generic_conv_params *p, const int8_t *input,
                          const int8_t *filter, const int32_t *quant, const int32_t *phases,
                          int8_t *output, int8_t *scratch)
{
    const int32_t in_c = p->in_c;
    const int8_t zero_point = (int8_t)(-p->input_offset);
    int32_t b;
    int32_t y;
    int32_t x;
    int32_t oc;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *image = input + b * p->in_h * p->in_w * in_c;
        for (y = 0; y < p->out_h; ++y) {
            const int32_t ry = (y + p->pad_h) % p->stride_h;
            for (x = 0; x < p->out_w; ++x) {
                const int32_t rx = (x + p->pad_w) % p->stride_w;
                const int32_t phase = ry * p->stride_w + rx;
                const int32_t *ph = phases + 3 * phase;
                const int32_t rows = ph[1];
                const int32_t cols = ph[2];
                const int32_t taps = rows * cols * in_c;
                const int32_t *q = quant + 3 * phase * p->out_c;
                int8_t *dst = scratch;
                int32_t ty;
                /* Tap ty is filter row ry + ty * stride_h: input row
                 * (y + pad_h - ry) / stride_h - ty. */
                const int32_t iy0 = (y + p->pad_h - ry) / p->stride_h;
                const int32_t ix0 = (x + p->pad_w - rx) / p->stride_w;
                for (ty = 0; ty < rows; ++ty) {
                    const int32_t iy = iy0 - ty;
                    int32_t tx;
                    for (tx = 0; tx < cols; ++tx) {
                        const int32_t ix = ix0 - tx;
                        int32_t c;
                        if (iy < 0 || iy >= p->in_h || ix < 0 || ix >= p->in_w) {
                            for (c = 0; c < in_c; ++c) {
                                dst[c] = zero_point;
                            }
                        } else {
                            const int8_t *src = image + (iy * p->in_w + ix) * in_c;
                            for (c = 0; c < in_c; ++c) {
                                dst[c] = src[c];
                            }
                        }
                        dst += in_c;
                    }
                }
                for (oc = 0; oc < p->out_c; ++oc) {
                    const int32_t *r = q + 3 * oc;
                    int32_t acc = tg_tconv_dot(scratch, filter + ph[0] + oc * taps, taps, r[0]);
                    acc = tg_requantize(acc, r[1], r[2]) + p->output_zero_point;
                    *output++ = tg_clamp_s8(acc, p->act_min, p->act_max);
                }
            }
        }
    }
}
