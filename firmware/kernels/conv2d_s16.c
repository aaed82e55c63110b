/* int16x8 convolution (TFLM's 16x8 ConvPerChannel): int16 input with zero
 * point 0, so padding taps contribute nothing and are skipped; a 64-bit
 * accumulator (or TFLM's 32-bit one for an int32 bias), then per-channel
 * requantization and the activation clamp.
 *
 * Per output pixel the window's rows inside the image are found once; with
 * no horizontal dilation each row's taps are one contiguous run of
 * in-image pixels x in_c values in both the input and the filter, so the
 * work is a few long dot products, two output channels at a time (each
 * input value is loaded once for both). */
#include "tg_fixedpoint.h"
#include "tg_kernels_s16.h"

/* Products are below 2^22 in magnitude: 256 of them fit an int32 sum. */
#define TG_S16_CHUNK 256

static void dot2_s16_s8(const int16_t *x, const int8_t *w0, const int8_t *w1, int32_t n,
                        int64_t *acc0, int64_t *acc1)
{
    while (n > 0) {
        const int32_t m = n < TG_S16_CHUNK ? n : TG_S16_CHUNK;
        int32_t s0 = 0;
        int32_t s1 = 0;
        int32_t i;
        for (i = 0; i + 1 < m; i += 2) {
            const int32_t a = x[i];
            const int32_t b = x[i + 1];
            s0 += a * w0[i] + b * w0[i + 1];
            s1 += a * w1[i] + b * w1[i + 1];
        }
        if (i < m) {
            s0 += x[i] * w0[i];
            s1 += x[i] * w1[i];
        }
        *acc0 += s0;
        *acc1 += s1;
        x += m;
        w0 += m;
        w1 += m;
        n -= m;
    }
}

static int16_t finish(const tg_conv_s16_params *p, int64_t acc, int32_t o, const int64_t *bias,
                      const int32_t *mult, const int32_t *shift)
{
    int32_t v;
    acc += bias[o];
    v = p->acc32 ? tg_requantize((int32_t)acc, mult[o], shift[o])
                 : tg_requantize64(acc, mult[o], shift[o]);
    return tg_clamp_s16(v, p->conv.act_min, p->conv.act_max);
}

void tg_conv2d_s16(const tg_conv_s16_params *p, const int16_t *input, const int8_t *filter,
                   const int64_t *bias, const int32_t *mult, const int32_t *shift,
                   int16_t *output)
{
    const tg_conv_params *c = &p->conv;
    const size_t in_c = (size_t)c->in_c;
    const size_t patch = (size_t)c->k_h * (size_t)c->k_w * in_c;
    const size_t filter_row = (size_t)c->k_w * in_c;
    int32_t b;
    int32_t oy;
    int32_t ox;
    int32_t o;
    for (b = 0; b < c->batches; ++b) {
        const int16_t *image = input + (size_t)b * (size_t)c->in_h * (size_t)c->in_w * in_c;
        for (oy = 0; oy < c->out_h; ++oy) {
            const int32_t iy0 = oy * c->stride_h - c->pad_h;
            for (ox = 0; ox < c->out_w; ++ox) {
                const int32_t ix0 = ox * c->stride_w - c->pad_w;
                /* In-image taps of the window along x: kx0 <= kx < kx1. */
                int32_t kx0 = 0;
                int32_t kx1 = c->k_w;
                while (kx0 < kx1 && ix0 + kx0 * c->dil_w < 0) {
                    ++kx0;
                }
                while (kx1 > kx0 && ix0 + (kx1 - 1) * c->dil_w >= c->in_w) {
                    --kx1;
                }
                for (o = 0; o < c->out_c; o += 2) {
                    const int32_t o1 = o + 1 < c->out_c ? o + 1 : o;
                    const int8_t *w0 = filter + (size_t)o * patch;
                    const int8_t *w1 = filter + (size_t)o1 * patch;
                    int64_t acc0 = 0;
                    int64_t acc1 = 0;
                    int32_t ky;
                    for (ky = 0; ky < c->k_h; ++ky) {
                        const int32_t iy = iy0 + ky * c->dil_h;
                        const size_t wrow = (size_t)ky * filter_row;
                        int32_t kx;
                        if (iy < 0 || iy >= c->in_h || kx0 >= kx1) {
                            continue;
                        }
                        if (c->dil_w == 1) {
                            const size_t first = wrow + (size_t)kx0 * in_c;
                            dot2_s16_s8(image + ((size_t)iy * (size_t)c->in_w + (size_t)(ix0 + kx0)) * in_c,
                                        w0 + first, w1 + first, (kx1 - kx0) * c->in_c, &acc0, &acc1);
                            continue;
                        }
                        for (kx = kx0; kx < kx1; ++kx) {
                            const size_t at = wrow + (size_t)kx * in_c;
                            dot2_s16_s8(image + ((size_t)iy * (size_t)c->in_w + (size_t)(ix0 + kx * c->dil_w)) * in_c,
                                        w0 + at, w1 + at, c->in_c, &acc0, &acc1);
                        }
                    }
                    output[o] = finish(p, acc0, o, bias, mult, shift);
                    if (o1 != o) {
                        output[o1] = finish(p, acc1, o1, bias, mult, shift);
                    }
                }
                output += c->out_c;
            }
        }
    }
}
