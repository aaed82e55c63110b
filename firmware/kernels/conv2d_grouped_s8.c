/* int8 grouped CONV_2D (input depth a multiple k of the filter depth), bit-
 * exact with TFLM's reference kernel: output channel o of a layer with
 * out_c / k filters per group reads the in_c / k input channels of group
 * o / (out_c / k).
 *
 * Per output pixel and group, the group's window is gathered into scratch
 * (k_h * k_w * depth bytes, the filter rows' order), taps outside the input
 * set to the input zero point; each filter of the group is then one dot
 * product with it. TFLM skips those taps instead; the planner's bias adds
 * input_offset * sum(filter), so a zero-point tap adds (zp + input_offset)
 * * w = 0 and the sums agree exactly (int32 wraps alike). */
#include "tg_fixedpoint.h"
#include "tg_kernels.h"

static int32_t tg_dot_s8(const int8_t *a, const int8_t *b, int32_t n, int32_t acc)
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

void tg_conv2d_grouped_s8(const tg_generic_conv_params *p, const int8_t *input,
                          const int8_t *filter, const int32_t *quant, int8_t *output,
                          int8_t *scratch)
{
    const int32_t depth = p->in_c / p->groups;
    const int32_t per_group = p->out_c / p->groups;
    const int32_t patch = p->k_h * p->k_w * depth;
    const int8_t zero_point = (int8_t)(-p->input_offset);
    int32_t b;
    int32_t y;
    int32_t x;
    int32_t g;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *image = input + b * p->in_h * p->in_w * p->in_c;
        for (y = 0; y < p->out_h; ++y) {
            for (x = 0; x < p->out_w; ++x) {
                const int32_t y0 = y * p->stride_h - p->pad_h;
                const int32_t x0 = x * p->stride_w - p->pad_w;
                for (g = 0; g < p->groups; ++g) {
                    int8_t *dst = scratch;
                    int32_t ky;
                    int32_t j;
                    for (ky = 0; ky < p->k_h; ++ky) {
                        const int32_t iy = y0 + ky * p->dil_h;
                        int32_t kx;
                        for (kx = 0; kx < p->k_w; ++kx) {
                            const int32_t ix = x0 + kx * p->dil_w;
                            int32_t c;
                            if (iy < 0 || iy >= p->in_h || ix < 0 || ix >= p->in_w) {
                                for (c = 0; c < depth; ++c) {
                                    dst[c] = zero_point;
                                }
                            } else {
                                const int8_t *src = image + (iy * p->in_w + ix) * p->in_c
                                                    + g * depth;
                                for (c = 0; c < depth; ++c) {
                                    dst[c] = src[c];
                                }
                            }
                            dst += depth;
                        }
                    }
                    for (j = 0; j < per_group; ++j) {
                        const int32_t oc = g * per_group + j;
                        const int32_t *q = quant + 3 * oc;
                        int32_t acc = tg_dot_s8(scratch, filter + oc * patch, patch, q[0]);
                        acc = tg_requantize(acc, q[1], q[2]) + p->output_zero_point;
                        output[oc] = tg_clamp_s8(acc, p->act_min, p->act_max);
                    }
                }
                output += p->out_c;
            }
        }
    }
}
