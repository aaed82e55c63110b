/* int8 2-D convolution on hosts with vector units (tg_host_simd.h), the
 * variant of conv2d_s8.c with the same arguments and scratch: each pixel's
 * input (gathered, or copied when pointwise, so the output may overlap the
 * input as tinygen/plan/memory.py allows) against the rows in vector lanes. */
#include <string.h>

#include "tg_conv_patch.h"
#include "tg_host_simd.h"

void tg_conv2d_s8_host(const tg_conv_params *p, const int8_t *input, const int8_t *filter,
                       const tg_chan_quant *quant, int8_t *output, int8_t *scratch)
{
    tg_conv2d_pixels_walk(p, input, filter, quant, output, scratch, tg_rows_dot_simd);
}
