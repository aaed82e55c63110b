/* int8 fully connected layer: rows in the blocked layout of tg_rows_dot.h.
 * scratch (DSP path): the int16 widening of one input row. */
#include "tg_rows_dot.h"
#include "tg_conv_mve.h"

void tg_fully_connected_s8(const tg_fc_params *p, const int8_t *input, const int8_t *filter,
                           const tg_chan_quant *quant, int8_t *output, int8_t *scratch)
{
#if TG_MVE
    tg_fully_connected_s8_mve(p, input, filter, quant, output);
    return;
#endif
    const int32_t depth = p->in_depth;
    int32_t b;
#if TG_DSP
    int32_t *x16 = (int32_t *)(void *)scratch;
#else
    (void)scratch;
#endif
    for (b = 0; b < p->batches; ++b) {
        const int8_t *x = input + (size_t)b * (size_t)depth;
#if TG_DSP
        tg_widen_s8(x, depth, x16);
        tg_rows_dot_dsp(x16, (depth + 3) / 4, filter, p->out_depth, quant, p->fast,
                        p->output_zero_point, p->act_min, p->act_max, output);
#else
        tg_rows_dot_c(x, depth, filter, p->out_depth, quant, p->fast,
                      p->output_zero_point, p->act_min, p->act_max, output);
#endif
        output += p->out_depth;
    }
}
