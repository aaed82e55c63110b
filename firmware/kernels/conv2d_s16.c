/* int16x8 convolution (TFLM's 16x8 ConvPerChannel): a 64-bit accumulator
 * (or TFLM's 32-bit one for an int32 bias), per-channel requantization and
 * the activation clamp.
 *
 * Per output pixel the input patch (k_h x k_w x in_c int16 values, in the
 * filter's order) is gathered once into scratch, with zeros for padding
 * taps (the input zero point is 0, so they add nothing, as TFLM skipping
 * them); a pointwise layer reads its pixel in place. Every output channel
 * is then one dot product over the patch, four channels per pass so each
 * input value is loaded once for four filters. */
#include "tg_conv_s16.h"

static void dot4(const int16_t *x, const int8_t *w, size_t stride, int32_t n, int64_t *acc)
{
    const int8_t *w0 = w;
    const int8_t *w1 = w + stride;
    const int8_t *w2 = w + 2 * stride;
    const int8_t *w3 = w + 3 * stride;
    while (n > 0) {
        const int32_t m = n < TG_S16_CHUNK ? n : TG_S16_CHUNK;
        int32_t s0 = 0;
        int32_t s1 = 0;
        int32_t s2 = 0;
        int32_t s3 = 0;
        int32_t i;
        for (i = 0; i < m; ++i) {
            const int32_t v = x[i];
            s0 += v * w0[i];
            s1 += v * w1[i];
            s2 += v * w2[i];
            s3 += v * w3[i];
        }
        acc[0] += s0;
        acc[1] += s1;
        acc[2] += s2;
        acc[3] += s3;
        x += m;
        w0 += m;
        w1 += m;
        w2 += m;
        w3 += m;
        n -= m;
    }
}

void tg_conv2d_s16(const tg_conv_s16_params *p, const int16_t *input, const int8_t *filter,
                   const int64_t *bias, const int32_t *mult, const int32_t *shift,
                   int16_t *output, void *scratch)
{
    tg_conv_s16_run(p, input, filter, bias, mult, shift, output, scratch, dot4);
}
