/* int8 depthwise 2-D convolution on hosts with vector units
 * (tg_host_simd.h), the variant of depthwise_conv2d_s8.c with the same
 * arguments, filter layout and scratch (k_h*k_w tap pointers, 8 bytes
 * reserved each, then a row of in_c input zero points for the taps outside
 * the image). With depth multiplier 1, 8 channels per vector; the
 * remaining channels, and every channel of other depth multipliers, one at
 * a time. */
#include <string.h>

#include "tg_conv_patch.h"
#include "tg_host_simd.h"

void tg_depthwise_conv2d_s8_host(const tg_conv_params *p, const int8_t *input,
                                 const int16_t *filter, const tg_chan_quant *quant,
                                 int8_t *output, int8_t *scratch)
{
    const int32_t taps_n = p->k_h * p->k_w;
    const int8_t **taps = (const int8_t **)(void *)scratch;
    int8_t *pad_row = scratch + (size_t)taps_n * 8u;
    const int32_t out_c = p->out_c;
    const int32_t dm = p->depth_multiplier;
    const size_t image_bytes = (size_t)p->in_h * (size_t)p->in_w * (size_t)p->in_c;
    int32_t b;
    int32_t oy;
    int32_t ox;
    memset(pad_row, p->input_zero_point, (size_t)p->in_c);
    for (b = 0; b < p->batches; ++b) {
        const int8_t *image = input + (size_t)b * image_bytes;
        for (oy = 0; oy < p->out_h; ++oy) {
            const int32_t iy0 = oy * p->stride_h - p->pad_h;
            for (ox = 0; ox < p->out_w; ++ox) {
                const int32_t ix0 = ox * p->stride_w - p->pad_w;
                int32_t t;
                int32_t c = 0;
                tg_dw_window_taps(p, image, iy0, ix0, pad_row, taps);
                if (dm == 1) {
                    c = tg_dw_channels_simd(taps, taps_n, filter, quant, out_c, p->fast,
                                            p->output_zero_point, p->act_min, p->act_max,
                                            output);
                }
                for (; c < out_c; ++c) {
                    const int32_t ic = c / dm;
                    int32_t acc = quant[c].bias;
                    for (t = 0; t < taps_n; ++t) {
                        acc += taps[t][ic] * tg_dw_weight(filter, taps_n, t, c);
                    }
                    output[c] = tg_output_s8(acc, quant + c, p->fast, 1, p->output_zero_point,
                                             p->act_min, p->act_max);
                }
                output += out_c;
            }
        }
    }
}
