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
#include "tg_fixedpoint.h"
#include "tg_gather.h"

void tg_transpose_conv_s8(const tg_generic_conv_params *p, const int8_t *input,
                          const int8_t *filter, const int32_t *quant, const int32_t *phases,
                          int8_t *output, int8_t *scratch)
{
    int32_t b;
    int32_t y;
    int32_t x;
    int32_t oc;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *image = input + b * p->in_h * p->in_w * p->in_c;
        for (y = 0; y < p->out_h; ++y) {
            for (x = 0; x < p->out_w; ++x) {
                const int32_t *ph = tg_gather_phase_taps(p, image, phases, y, x, scratch);
                const int32_t taps = ph[1] * ph[2] * p->in_c;
                const int32_t *q = quant + 3 * ((ph - phases) / 3) * p->out_c;
                for (oc = 0; oc < p->out_c; ++oc) {
                    int32_t acc = tg_dot_s8(scratch, filter + ph[0] + oc * taps, taps, q[0]);
                    acc = tg_requantize(acc, q[1], q[2]) + p->output_zero_point;
                    *output++ = tg_clamp_s8(acc, p->act_min, p->act_max);
                    q += 3;
                }
            }
        }
    }
}
