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
    const int32_t k_len = p->k_h * p->k_w * p->in_c;
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
                if (direct) {
                    memcpy(scratch, image + ((size_t)iy0 * (size_t)p->in_w + (size_t)ix0)
                           * (size_t)p->in_c, (size_t)k_len);
                } else {
                    gather_patch(p, image, iy0, ix0, scratch);
                }
                tg_rows_dot_simd(scratch, k_len, filter, p->out_c, quant, p->fast,
                                 p->output_zero_point, p->act_min, p->act_max, output);
                output += p->out_c;
            }
        }
    }
}
