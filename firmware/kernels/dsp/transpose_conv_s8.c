/* int8 TRANSPOSE_CONV on cores with the DSP extension (Cortex-M4/M7/M33),
 * the variant of transpose_conv_s8.c with the same arguments and
 * constants: the same phase gather (tg_gather.h), dot products by SMLAD
 * (tg_dot_dsp.h). */
#include "tg_dot_dsp.h"
#include "tg_conv_walk.h"

void tg_transpose_conv_s8_dsp(const tg_generic_conv_params *p, const int8_t *input,
                              const int8_t *filter, const int32_t *quant, const int32_t *phases,
                              int8_t *output, int8_t *scratch)
{
    tg_transpose_conv_walk(p, input, filter, quant, phases, output, scratch, tg_dot_s8_dsp);
}
