/* int8 fully connected layer on cores with the DSP extension
 * (Cortex-M4/M7/M33), the variant of fully_connected_s8.c with the same
 * arguments: rows in the blocked layout of tg_rows_dot.h. scratch: the
 * int16 widening of one input row. */
#include "tg_rows_dot_dsp.h"

void tg_fully_connected_s8_dsp(const tg_fc_params *p, const int8_t *input,
                               const int8_t *filter, const tg_chan_quant *quant,
                               int8_t *output, int8_t *scratch)
{
    const int32_t depth = p->in_depth;
    int32_t b;
    int32_t *x16 = (int32_t *)(void *)scratch;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *x = input + (size_t)b * (size_t)depth;
        tg_widen_s8(x, depth, x16);
        tg_rows_dot_dsp(x16, (depth + 3) / 4, filter, p->out_depth, quant, p->fast,
                        p->output_zero_point, p->act_min, p->act_max, output);
        output += p->out_depth;
    }
}
