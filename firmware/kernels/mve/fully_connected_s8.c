/* int8 fully connected layer on the Cortex-M55 (Helium, see tg_mve.h), the
 * variant of fully_connected_s8.c with the same arguments: each batch's
 * input row against the rows in the MVE blocked layout. No scratch. */
#include "tg_mve.h"

void tg_fully_connected_s8_mve(const tg_fc_params *p, const int8_t *input, const int8_t *filter,
                               const tg_chan_quant *quant, int8_t *output, int8_t *scratch)
{
    const tg_mve_out o = {p->fast, p->output_zero_point, p->act_min, p->act_max};
    int32_t b;
    (void)scratch;
    for (b = 0; b < p->batches; ++b) {
        tg_mve_rows_dot(input + (size_t)b * (size_t)p->in_depth, p->in_depth, filter,
                        p->out_depth, quant, &o, output);
        output += p->out_depth;
    }
}
