/* int8 grouped CONV_2D on cores with the DSP extension (Cortex-M4/M7/M33),
 * the variant of conv2d_grouped_s8.c with the same arguments and
 * constants: the same window gather (tg_gather.h), dot products by SMLAD
 * (tg_dot_dsp.h). */
#include "tg_dot_dsp.h"
#include "tg_conv_walk.h"

void tg_conv2d_grouped_s8_dsp(const tg_generic_conv_params *p, const int8_t *input,
                              const int8_t *filter, const int32_t *quant, int8_t *output,
                              int8_t *scratch)
{
    tg_conv2d_grouped_walk(p, input, filter, quant, output, scratch, tg_dot_s8_dsp);
}
