/* Standalone int8 RELU/RELU6 (not fused into the previous operator). */
#include "tg_fixedpoint.h"
#include "tg_kernels.h"

void tg_relu_s8(const tg_clamp_params *p, const int8_t *input, int8_t *output)
{
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        const int32_t v = tg_requantize((int32_t)input[i] - p->input_zero_point, p->mult, p->shift);
        output[i] = tg_clamp_s8(v + p->output_zero_point, p->act_min, p->act_max);
    }
}
