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
    const int32_t k_len = p->k_h * p->k_w * p->in_c;
    const int32_t out_c = p->out_c;
    const int direct = p->k_h == 1 && p->k_w == 1 && p->pad_h == 0 && p->pad_w == 0;
    const size_t image_bytes = (size_t)p->in_h * (size_t)p->in_w * (size_t)p->in_c;
    int32_t b;
    int32_t oy;
    int32_t ox;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *image = input + (size_t)b * image_bytes;
        for (oy = 0; oy < p->out_h; ++oy) {
            const int32_t iy0 = oy * p->stride_h - p->pad_h;
            for (ox = 0; ox < p->out_w; ++ox) {
                const int32_t ix0 = ox * p->stride_w - p->pad_w;
                const int8_t *patch;
                if (direct) {
                    patch = image + ((size_t)iy0 * (size_t)p->in_w + (size_t)ix0) * (size_t)p->in_c;
                    /* Read the pixel before writing its outputs: the planner may
                     * overlap the output with this input (tinygen/plan/memory.py). */
                    memcpy(scratch, patch, (size_t)k_len);
                    patch = scratch;
                } else {
                    gather_patch(p, image, iy0, ix0, scratch);
                    patch = scratch;
                }
                tg_rows_dot_c(patch, k_len, filter, out_c, quant, p->fast,
                              p->output_zero_point, p->act_min, p->act_max, output);
                output += out_c;
            }
        }
    }
}
