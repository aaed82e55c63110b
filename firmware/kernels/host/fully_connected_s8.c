/* int8 fully connected layer on hosts with vector units (tg_host_simd.h),
 * the variant of fully_connected_s8.c with the same arguments. No scratch. */
#include "tg_host_simd.h"

void tg_fully_connected_s8_host(const tg_fc_params *p, const int8_t *input,
                                const int8_t *filter, const tg_chan_quant *quant,
                                int8_t *output, int8_t *scratch)
{
    int32_t b;
    (void)scratch;
    for (b = 0; b < p->batches; ++b) {
        tg_rows_dot_simd(input + (size_t)b * (size_t)p->in_depth, p->in_depth, filter,
                         p->out_depth, quant, p->fast, p->output_zero_point, p->act_min,
                         p->act_max, output);
        output += p->out_depth;
    }
}
