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
    tg_conv_s16_dot4_chunks(x, w, stride, n, acc, NULL);
}

void tg_conv2d_s16(const tg_conv_s16_params *p, const int16_t *input, const int8_t *filter,
                   const int64_t *bias, const int32_t *mult, const int32_t *shift,
                   int16_t *output, void *scratch)
{
    tg_conv_s16_run(p, input, filter, bias, mult, shift, output, scratch, dot4);
}
