/* int8 fully connected layer: filter is [out_depth][in_depth]. */
#include "tg_fixedpoint.h"
#include "tg_kernels.h"

void tg_fully_connected_s8(const tg_fc_params *p, const int8_t *input,
                           const int8_t *filter, const int32_t *bias,
                           const int32_t *mult, const int32_t *shift,
                           int8_t *output)
{
    const int32_t depth = p->in_depth;
    int32_t b;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *x = input + (size_t)b * (size_t)depth;
        int32_t o = 0;
        for (; o + 4 <= p->out_depth; o += 4) {
            const int8_t *w0 = filter + (size_t)o * (size_t)depth;
            const int8_t *w1 = w0 + depth;
            const int8_t *w2 = w1 + depth;
            const int8_t *w3 = w2 + depth;
            int32_t a0 = bias[o];
            int32_t a1 = bias[o + 1];
            int32_t a2 = bias[o + 2];
            int32_t a3 = bias[o + 3];
            int32_t d;
            for (d = 0; d < depth; ++d) {
                const int32_t v = x[d];
                a0 += v * w0[d];
                a1 += v * w1[d];
                a2 += v * w2[d];
                a3 += v * w3[d];
            }
            output[o] = tg_clamp_s8(tg_requantize(a0, mult[o], shift[o]) + p->output_zero_point,
                                    p->act_min, p->act_max);
            output[o + 1] = tg_clamp_s8(tg_requantize(a1, mult[o + 1], shift[o + 1]) + p->output_zero_point,
                                        p->act_min, p->act_max);
            output[o + 2] = tg_clamp_s8(tg_requantize(a2, mult[o + 2], shift[o + 2]) + p->output_zero_point,
                                        p->act_min, p->act_max);
            output[o + 3] = tg_clamp_s8(tg_requantize(a3, mult[o + 3], shift[o + 3]) + p->output_zero_point,
                                        p->act_min, p->act_max);
        }
        for (; o < p->out_depth; ++o) {
            const int8_t *w0 = filter + (size_t)o * (size_t)depth;
            int32_t a0 = bias[o];
            int32_t d;
            for (d = 0; d < depth; ++d) {
                a0 += x[d] * w0[d];
            }
            output[o] = tg_clamp_s8(tg_requantize(a0, mult[o], shift[o]) + p->output_zero_point,
                                    p->act_min, p->act_max);
        }
        output += p->out_depth;
    }
}
