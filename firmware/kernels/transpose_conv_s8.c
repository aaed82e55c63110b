/* int8 TRANSPOSE_CONV, bit-exact with TFLM's reference kernel: the sum of
 * (input + input_offset) * filter over every input pixel whose scattered
 * filter window covers the output pixel, plus the bias, requantized per
 * output channel.
 *
 * Output row y takes filter row ky from input row (y + pad_h - ky) /
 * stride_h when that division is exact, so the rows ky of one phase
 * (y + pad_h) mod stride_h all contribute, each from its own input row; the
 * same holds for columns. The planner splits the filter by phase into
 * ordinary [out_c][taps][in_c] rows (phases: per phase its offset into
 * filter and its tap rows and columns) with biases per phase (quant: per
 * phase and output channel, folded bias, multiplier, shift). A pixel
 * gathers its phase's taps into scratch (tg_gather.h): each output is one
 * dot product. */
#include "tg_conv_walk.h"

void tg_transpose_conv_s8(const tg_generic_conv_params *p, const int8_t *input,
                          const int8_t *filter, const int32_t *quant, const int32_t *phases,
                          int8_t *output, int8_t *scratch)
{
    tg_transpose_conv_walk(p, input, filter, quant, phases, output, scratch, tg_dot_s8);
}
