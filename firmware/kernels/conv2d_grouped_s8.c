/* int8 grouped CONV_2D (input depth a multiple k of the filter depth), bit-
 * exact with TFLM's reference kernel: output channel o of a layer with
 * out_c / k filters per group reads the in_c / k input channels of group
 * o / (out_c / k). Per output pixel and group the group's window is
 * gathered into scratch (tg_gather.h); each filter of the group is then one
 * dot product with it. */
#include "tg_conv_walk.h"

void tg_conv2d_grouped_s8(const tg_generic_conv_params *p, const int8_t *input,
                          const int8_t *filter, const int32_t *quant, int8_t *output,
                          int8_t *scratch)
{
    tg_conv2d_grouped_walk(p, input, filter, quant, output, scratch, tg_dot_s8);
}
