/* int8 2-D convolution, per-channel requantization. See tg_kernels.h. */
#include <string.h>

#include "tg_rows_dot.h"

/* Copies the receptive field of one output pixel into patch (HWC order),
 * writing the input zero point where the window leaves the image. */
static void gather_patch(const tg_conv_params *p, const int8_t *image,
                         int32_t iy0, int32_t ix0, int8_t *patch)
{
    const size_t row_bytes = (size_t)p->in_c;
    int32_t ky;
    int32_t kx;
    for (ky = 0; ky < p->k_h; ++ky) {
        const int32_t iy = iy0 + ky * p->dil_h;
        if (iy < 0 || iy >= p->in_h) {
            memset(patch, p->input_zero_point, row_bytes * (size_t)p->k_w);
            patch += row_bytes * (size_t)p->k_w;
            continue;
        }
        if (p->dil_w == 1 && ix0 >= 0 && ix0 + p->k_w <= p->in_w) {
            memcpy(patch, image + ((size_t)iy * (size_t)p->in_w + (size_t)ix0) * row_bytes,
                   row_bytes * (size_t)p->k_w);
            patch += row_bytes * (size_t)p->k_w;
            continue;
        }
        for (kx = 0; kx < p->k_w; ++kx) {
            const int32_t ix = ix0 + kx * p->dil_w;
            if (ix < 0 || ix >= p->in_w) {
                memset(patch, p->input_zero_point, row_bytes);
            } else {
                memcpy(patch, image + ((size_t)iy * (size_t)p->in_w + (size_t)ix) * row_bytes,
                       row_bytes);
            }
            patch += row_bytes;
        }
    }
}

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
