/* int8 2-D convolution, per-channel requantization. See tg_kernels.h. */
#include <string.h>

#include "tg_rows_dot.h"
#include "tg_conv_patch.h"

/* scratch: the gathered int8 patch (4 * chunks bytes, none when the
 * convolution is pointwise, which copies each pixel to the start of
 * scratch instead). Every pixel's input is in scratch before its outputs
 * are written, so the output may overlap the input as
 * tinygen/plan/memory.py allows. (The planner's scratch also covers the
 * DSP variant's int16 widening, dsp/conv2d_s8.c.) */
void tg_conv2d_s8(const tg_conv_params *p, const int8_t *input, const int8_t *filter,
                  const tg_chan_quant *quant, int8_t *output, int8_t *scratch)
{
    tg_conv2d_pixels_walk(p, input, filter, quant, output, scratch, tg_rows_dot_c);
}
