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
        tg_rows_dot_s8(x, depth, filter, p->out_depth, bias, mult, shift,
                       p->output_zero_point, p->act_min, p->act_max, output);
        output += p->out_depth;
    }
}
