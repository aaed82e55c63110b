/* int8 mean over the spatial axes, as TFLM's quantized MEAN computes it:
 * the raw sum minus the input zero point times the count, requantized with
 * a multiplier that already includes the division by the count. */
#include "tg_fixedpoint.h"
#include "tg_kernels.h"

void tg_mean_hw_s8(const tg_mean_params *p, const int8_t *input, int8_t *output)
{
    int32_t b;
    int32_t c;
    int32_t i;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *image = input + (size_t)b * (size_t)p->hw * (size_t)p->channels;
        for (c = 0; c < p->channels; ++c) {
            int32_t sum = 0;
            for (i = 0; i < p->hw; ++i) {
                sum += image[(size_t)i * (size_t)p->channels + (size_t)c];
            }
            output[c] = tg_clamp_s8(tg_requantize(sum - p->input_offset_sum, p->mult, p->shift)
                                    + p->output_zero_point, -128, 127);
        }
        output += p->channels;
    }
}
