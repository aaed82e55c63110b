/* int8 depthwise 2-D convolution, per-channel requantization.
 *
 * filter: int16, channels in groups of 4 (out_c rounded up), for each group
 * every tap's 4 weights as (c0, c2, c1, c3): the order in which SXTB16
 * splits 4 input bytes, so on the DSP variant (dsp/depthwise_conv2d_s8.c)
 * one word of input and two words of weights feed 4 halfword
 * multiply-accumulates. In fast requantization
 * mode the planner stores weights and biases doubled, which hands the
 * SMMULR of tg_requantize_fast its 2 * acc for free.
 *
 * scratch: k_h*k_w tap pointers (8 bytes reserved each), then one row of
 * in_c bytes holding the input zero point, read by taps that fall outside
 * the image. */
#include <string.h>

#include "tg_conv_patch.h"
#include "tg_rows_dot.h"

void tg_depthwise_conv2d_s8(const tg_conv_params *p, const int8_t *input,
                            const int16_t *filter, const tg_chan_quant *quant,
                            int8_t *output, int8_t *scratch)
{
    const int32_t taps_n = p->k_h * p->k_w;
    const int8_t **taps = (const int8_t **)(void *)scratch;
    int8_t *pad_row = scratch + (size_t)taps_n * 8u;
    const int32_t out_c = p->out_c;
    const int32_t dm = p->depth_multiplier;
    const int32_t fast = p->fast;
    const int32_t zp = p->output_zero_point;
    const int32_t lo = p->act_min;
    const int32_t hi = p->act_max;
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
                    for (; c + 4 <= out_c; c += 4) {
                        const tg_chan_quant *q = quant + c;
                        int32_t a0 = q[0].bias;
                        int32_t a1 = q[1].bias;
                        int32_t a2 = q[2].bias;
                        int32_t a3 = q[3].bias;
                        const int16_t *w = filter + c * taps_n;
                        for (t = 0; t < taps_n; ++t) {
                            const int8_t *x = taps[t] + c;
                            a0 += x[0] * w[0];
                            a2 += x[2] * w[1];
                            a1 += x[1] * w[2];
                            a3 += x[3] * w[3];
                            w += 4;
                        }
                        tg_store_block(output + c, 4, q, fast, 1, zp, lo, hi, a0, a1, a2, a3);
                    }
                }
                for (; c < out_c; ++c) {
                    const int32_t ic = c / dm;
                    int32_t a0 = quant[c].bias;
                    for (t = 0; t < taps_n; ++t) {
                        a0 += taps[t][ic] * tg_dw_weight(filter, taps_n, t, c);
                    }
                    output[c] = tg_output_s8(a0, quant + c, fast, 1, zp, lo, hi);
                }
                output += out_c;
            }
        }
    }
}
