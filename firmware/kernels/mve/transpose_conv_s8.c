/* int8 TRANSPOSE_CONV on Helium cores (Cortex-M55),
 * the variant of transpose_conv_s8.c with the same arguments and
 * constants: the same phase gather (tg_gather.h), dot products by VMLADAVA
 * (tg_dot_mve.h). */
#include "tg_dot_mve.h"
#include "tg_conv_walk.h"

void tg_transpose_conv_s8_mve(const tg_generic_conv_params *p, const int8_t *input,
                              const int8_t *filter, const int32_t *quant, const int32_t *phases,
                              int8_t *output, int8_t *scratch)
{
    tg_transpose_conv_walk(p, input, filter, quant, phases, output, scratch, tg_dot_s8_mve);
}
