/* int16x8 convolution (TFLM's 16x8 ConvPerChannel): int16 input with zero
 * point 0, so padding taps contribute nothing and are skipped; a 64-bit
 * accumulator (or TFLM's 32-bit one for an int32 bias), then per-channel
 * requantization and the activation clamp. */
#include "tg_fixedpoint.h"
#include "tg_kernels_s16.h"

/* Products are below 2^22 in magnitude: 256 of them fit an int32 sum. */
#define TG_S16_CHUNK 256

static int64_t dot_s16_s8(const int16_t *x, const int8_t *w, int32_t n)
{
    int64_t acc = 0;
    while (n > 0) {
        const int32_t m = n < TG_S16_CHUNK ? n : TG_S16_CHUNK;
        int32_t part = 0;
        int32_t i;
        for (i = 0; i < m; ++i) {
            part += (int32_t)x[i] * (int32_t)w[i];
        }
        acc += part;
        x += m;
        w += m;
        n -= m;
    }
    return acc;
}

void tg_conv2d_s16(const tg_conv_s16_params *p, const int16_t *input, const int8_t *filter,
                   const int64_t *bias, const int32_t *mult, const int32_t *shift,
                   int16_t *output)
{
    const tg_conv_params *c = &p->conv;
    const size_t patch = (size_t)c->k_h * (size_t)c->k_w * (size_t)c->in_c;
    int32_t b;
    int32_t oy;
    int32_t ox;
    int32_t o;
    for (b = 0; b < c->batches; ++b) {
        const int16_t *image = input + (size_t)b * (size_t)c->in_h * (size_t)c->in_w * (size_t)c->in_c;
        for (oy = 0; oy < c->out_h; ++oy) {
            const int32_t iy0 = oy * c->stride_h - c->pad_h;
            for (ox = 0; ox < c->out_w; ++ox) {
                const int32_t ix0 = ox * c->stride_w - c->pad_w;
                for (o = 0; o < c->out_c; ++o) {
                    const int8_t *w = filter + (size_t)o * patch;
                    int64_t acc = 0;
                    int32_t acc_out;
                    int32_t ky;
                    int32_t kx;
                    for (ky = 0; ky < c->k_h; ++ky) {
                        const int32_t iy = iy0 + ky * c->dil_h;
                        if (iy < 0 || iy >= c->in_h) {
                            continue;
                        }
                        for (kx = 0; kx < c->k_w; ++kx) {
                            const int32_t ix = ix0 + kx * c->dil_w;
                            if (ix < 0 || ix >= c->in_w) {
                                continue;
                            }
                            acc += dot_s16_s8(image + ((size_t)iy * (size_t)c->in_w + (size_t)ix) * (size_t)c->in_c,
                                              w + ((size_t)ky * (size_t)c->k_w + (size_t)kx) * (size_t)c->in_c,
                                              c->in_c);
                        }
                    }
                    acc += bias[o];
                    acc_out = p->acc32 ? tg_requantize((int32_t)acc, mult[o], shift[o])
                                       : tg_requantize64(acc, mult[o], shift[o]);
                    *output++ = tg_clamp_s16(acc_out, c->act_min, c->act_max);
                }
            }
        }
    }
}
