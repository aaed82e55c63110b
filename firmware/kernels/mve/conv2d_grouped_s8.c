/* int8 grouped CONV_2D on Helium cores (Cortex-M55),
 * the variant of conv2d_grouped_s8.c with the same arguments and
 * constants: the same window gather (tg_gather.h), dot products by VMLADAVA
 * (tg_dot_mve.h). */
#include "tg_dot_mve.h"
#include "tg_conv_walk.h"

void tg_conv2d_grouped_s8_mve(const tg_generic_conv_params *p, const int8_t *input,
                              const int8_t *filter, const int32_t *quant, int8_t *output,
                              int8_t *scratch)
{
    tg_conv2d_grouped_walk(p, input, filter, quant, output, scratch, tg_dot_s8_mve);
}
