/* int8 fully connected layer: rows in the blocked layout of tg_rows_dot.h.
 * scratch: none here (the DSP variant's, dsp/fully_connected_s8.c). */
#include "tg_rows_dot.h"

void tg_fully_connected_s8(const tg_fc_params *p, const int8_t *input, const int8_t *filter,
                           const tg_chan_quant *quant, int8_t *output, int8_t *scratch)
{
    const int32_t depth = p->in_depth;
    int32_t b;
    (void)scratch;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *x = input + (size_t)b * (size_t)depth;
        tg_rows_dot_c(x, depth, filter, p->out_depth, quant, p->fast,
                      p->output_zero_point, p->act_min, p->act_max, output);
        output += p->out_depth;
    }
}
