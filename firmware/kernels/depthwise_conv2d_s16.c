/* int16x8 depthwise convolution (TFLM's 16x8 DepthwiseConvPerChannel):
 * filter [kh][kw][out_c], output channel o = ic x depth_multiplier + m reads
 * input channel ic. Per output pixel, the in-image taps are walked once
 * and each adds into an int32 accumulator per channel (scratch; a window of
 * at most 256 taps of products below 2^22 cannot overflow it); padding taps
 * (zero point 0) add nothing and are skipped, as in TFLM. With one output
 * per input channel in whole groups of 4, four channels' sums stay in
 * registers over the whole window instead. */
#include <stddef.h>

#include "tg_fixedpoint.h"
#include "tg_kernels_s16.h"

/* The input pixel of tap (ky, kx) of the window at (iy0, ix0), or NULL
 * where it lies outside the image (padding: zero point 0, adds nothing). */
static inline const int16_t *tap(const tg_conv_params *c, const int16_t *image, int32_t iy0,
                                 int32_t ix0, int32_t ky, int32_t kx)
{
    const int32_t iy = iy0 + ky * c->dil_h;
    const int32_t ix = ix0 + kx * c->dil_w;
    if (iy < 0 || iy >= c->in_h || ix < 0 || ix >= c->in_w) {
        return NULL;
    }
    return image + ((size_t)iy * (size_t)c->in_w + (size_t)ix) * (size_t)c->in_c;
}

/* One output pixel's channels from their int32 sums. */
static void finish(const tg_conv_s16_params *p, const int32_t *acc, const int64_t *bias,
                   const int32_t *mult, const int32_t *shift, int16_t *output)
{
    int32_t o;
    for (o = 0; o < p->conv.out_c; ++o) {
        const int64_t total = (int64_t)acc[o] + bias[o];
        const int32_t v = p->acc32 ? tg_requantize((int32_t)total, mult[o], shift[o])
                                   : tg_rescale64(total, mult[o], shift[o]);
        output[o] = tg_clamp_s16(v, p->conv.act_min, p->conv.act_max);
    }
}

void tg_depthwise_conv2d_s16(const tg_conv_s16_params *p, const int16_t *input,
                             const int8_t *filter, const int64_t *bias, const int32_t *mult,
                             const int32_t *shift, int16_t *output, void *scratch)
{
    const tg_conv_params *c = &p->conv;
    const size_t out_c = (size_t)c->out_c;
    const int32_t dm = c->depth_multiplier;
    int32_t *acc = (int32_t *)scratch;
    int32_t b;
    int32_t oy;
    int32_t ox;
    int32_t o;
    for (b = 0; b < c->batches; ++b) {
        const int16_t *image = input + (size_t)b * (size_t)c->in_h * (size_t)c->in_w
                               * (size_t)c->in_c;
        for (oy = 0; oy < c->out_h; ++oy) {
            const int32_t iy0 = oy * c->stride_h - c->pad_h;
            for (ox = 0; ox < c->out_w; ++ox) {
                const int32_t ix0 = ox * c->stride_w - c->pad_w;
                int32_t ky;
                int32_t kx;
                if (dm == 1 && c->out_c % 4 == 0) {
                    /* Four channels at a time, their sums in registers. */
                    for (o = 0; o < c->out_c; o += 4) {
                        int32_t s0 = 0;
                        int32_t s1 = 0;
                        int32_t s2 = 0;
                        int32_t s3 = 0;
                        for (ky = 0; ky < c->k_h; ++ky) {
                            for (kx = 0; kx < c->k_w; ++kx) {
                                const int16_t *x = tap(c, image, iy0, ix0, ky, kx);
                                const int8_t *w = filter + ((size_t)ky * (size_t)c->k_w
                                                            + (size_t)kx) * out_c + (size_t)o;
                                if (x == NULL) {
                                    continue;
                                }
                                x += o;
                                s0 += (int32_t)x[0] * (int32_t)w[0];
                                s1 += (int32_t)x[1] * (int32_t)w[1];
                                s2 += (int32_t)x[2] * (int32_t)w[2];
                                s3 += (int32_t)x[3] * (int32_t)w[3];
                            }
                        }
                        acc[o] = s0;
                        acc[o + 1] = s1;
                        acc[o + 2] = s2;
                        acc[o + 3] = s3;
                    }
                    finish(p, acc, bias, mult, shift, output);
                    output += c->out_c;
                    continue;
                }
                for (o = 0; o < c->out_c; ++o) {
                    acc[o] = 0;
                }
                for (ky = 0; ky < c->k_h; ++ky) {
                    for (kx = 0; kx < c->k_w; ++kx) {
                        const int16_t *x = tap(c, image, iy0, ix0, ky, kx);
                        const int8_t *w = filter + ((size_t)ky * (size_t)c->k_w + (size_t)kx) * out_c;
                        if (x == NULL) {
                            continue;
                        }
                        if (dm == 1) {
                            for (o = 0; o < c->out_c; ++o) {
                                acc[o] += (int32_t)x[o] * (int32_t)w[o];
                            }
                        } else {
                            int32_t ic;
                            int32_t m;
                            for (ic = 0, o = 0; ic < c->in_c; ++ic) {
                                const int32_t v = x[ic];
                                for (m = 0; m < dm; ++m, ++o) {
                                    acc[o] += v * (int32_t)w[o];
                                }
                            }
                        }
                    }
                }
                finish(p, acc, bias, mult, shift, output);
                output += c->out_c;
            }
        }
    }
}
