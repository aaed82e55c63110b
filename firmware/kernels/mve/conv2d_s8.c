/*
 * int8 2-D convolution on the Cortex-M55 (Helium, see tg_mve.h), the
 * variant of conv2d_s8.c with the same arguments: the receptive field of
 * each output pixel is gathered into scratch with vector copies, then tg_mve_rows_dot runs it against the contiguous rows.
 * Pointwise pixels are copied too: the planner may overlap the output with
 * the input (tinygen/plan/memory.py), so every pixel is read completely
 * before its outputs are written.
 */
#include "tg_mve.h"

static inline void tg_mve_gather_patch(const tg_conv_params *p, const int8_t *image,
                                       int32_t iy0, int32_t ix0, int8_t *patch)
{
    const int32_t row = p->in_c;
    const int32_t span = row * p->k_w;
    int32_t ky;
    int32_t kx;
    for (ky = 0; ky < p->k_h; ++ky, patch += span) {
        const int32_t iy = iy0 + ky * p->dil_h;
        const int8_t *line = image + (size_t)iy * (size_t)p->in_w * (size_t)row;
        if (iy < 0 || iy >= p->in_h) {
            tg_mve_fill(patch, p->input_zero_point, span);
        } else if (p->dil_w == 1 && ix0 >= 0 && ix0 + p->k_w <= p->in_w) {
            tg_mve_copy(patch, line + (size_t)ix0 * (size_t)row, span);
        } else {
            for (kx = 0; kx < p->k_w; ++kx) {
                const int32_t ix = ix0 + kx * p->dil_w;
                if (ix < 0 || ix >= p->in_w) {
                    tg_mve_fill(patch + kx * row, p->input_zero_point, row);
                } else {
                    tg_mve_copy(patch + kx * row, line + (size_t)ix * (size_t)row, row);
                }
            }
        }
    }
}

void tg_conv2d_s8_mve(const tg_conv_params *p, const int8_t *input, const int8_t *filter,
                      const tg_chan_quant *quant, int8_t *output, int8_t *scratch)
{
    const int32_t k_len = p->k_h * p->k_w * p->in_c;
    const int direct = p->k_h == 1 && p->k_w == 1 && p->pad_h == 0 && p->pad_w == 0;
    const size_t image_bytes = (size_t)p->in_h * (size_t)p->in_w * (size_t)p->in_c;
    const tg_mve_out o = {p->fast, p->output_zero_point, p->act_min, p->act_max};
    int32_t b;
    int32_t oy;
    int32_t ox;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *image = input + (size_t)b * image_bytes;
        for (oy = 0; oy < p->out_h; ++oy) {
            const int32_t iy0 = oy * p->stride_h - p->pad_h;
            for (ox = 0; ox < p->out_w; ++ox) {
                const int32_t ix0 = ox * p->stride_w - p->pad_w;
                if (direct) {
                    tg_mve_copy(scratch, image + ((size_t)iy0 * (size_t)p->in_w + (size_t)ix0)
                                * (size_t)p->in_c, k_len);
                } else {
                    tg_mve_gather_patch(p, image, iy0, ix0, scratch);
                }
                tg_mve_rows_dot(scratch, k_len, filter, p->out_c, quant, &o, output);
                output += p->out_c;
            }
        }
    }
}
