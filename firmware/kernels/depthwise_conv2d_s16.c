/* int16x8 depthwise convolution (TFLM's 16x8 DepthwiseConvPerChannel):
 * filter [kh][kw][out_c], output channel o reads input channel
 * o / depth_multiplier; padding taps (zero point 0) are skipped: the
 * window's in-image rows and columns are found once per output pixel. */
#include "tg_fixedpoint.h"
#include "tg_kernels_s16.h"

void tg_depthwise_conv2d_s16(const tg_conv_s16_params *p, const int16_t *input,
                             const int8_t *filter, const int64_t *bias, const int32_t *mult,
                             const int32_t *shift, int16_t *output)
{
    const tg_conv_params *c = &p->conv;
    const size_t in_c = (size_t)c->in_c;
    const size_t out_c = (size_t)c->out_c;
    const size_t x_step = (size_t)c->dil_w * in_c;
    const size_t y_step = (size_t)c->dil_h * (size_t)c->in_w * in_c;
    int32_t b;
    int32_t oy;
    int32_t ox;
    int32_t o;
    for (b = 0; b < c->batches; ++b) {
        const int16_t *image = input + (size_t)b * (size_t)c->in_h * (size_t)c->in_w * in_c;
        for (oy = 0; oy < c->out_h; ++oy) {
            const int32_t iy0 = oy * c->stride_h - c->pad_h;
            int32_t ky0 = 0;
            int32_t ky1 = c->k_h;
            while (ky0 < ky1 && iy0 + ky0 * c->dil_h < 0) {
                ++ky0;
            }
            while (ky1 > ky0 && iy0 + (ky1 - 1) * c->dil_h >= c->in_h) {
                --ky1;
            }
            for (ox = 0; ox < c->out_w; ++ox) {
                const int32_t ix0 = ox * c->stride_w - c->pad_w;
                int32_t kx0 = 0;
                int32_t kx1 = c->k_w;
                const int16_t *corner;
                while (kx0 < kx1 && ix0 + kx0 * c->dil_w < 0) {
                    ++kx0;
                }
                while (kx1 > kx0 && ix0 + (kx1 - 1) * c->dil_w >= c->in_w) {
                    --kx1;
                }
                corner = ky0 < ky1 && kx0 < kx1
                    ? image + ((size_t)(iy0 + ky0 * c->dil_h) * (size_t)c->in_w
                               + (size_t)(ix0 + kx0 * c->dil_w)) * in_c
                    : image;
                for (o = 0; o < c->out_c; ++o) {
                    const int16_t *row = corner + (size_t)(o / c->depth_multiplier);
                    const int8_t *wrow = filter + ((size_t)ky0 * (size_t)c->k_w + (size_t)kx0) * out_c + (size_t)o;
                    int64_t acc = 0;
                    int32_t ky;
                    int32_t v;
                    for (ky = ky0; ky < ky1; ++ky) {
                        const int16_t *px = row;
                        const int8_t *pw = wrow;
                        int32_t part = 0;   /* at most k_w products of < 2^22 */
                        int32_t kx;
                        for (kx = kx0; kx < kx1; ++kx) {
                            part += (int32_t)*px * (int32_t)*pw;
                            px += x_step;
                            pw += out_c;
                        }
                        acc += part;
                        row += y_step;
                        wrow += (size_t)c->k_w * out_c;
                    }
                    acc += bias[o];
                    v = p->acc32 ? tg_requantize((int32_t)acc, mult[o], shift[o])
                                 : tg_requantize64(acc, mult[o], shift[o]);
                    *output++ = tg_clamp_s16(v, c->act_min, c->act_max);
                }
            }
        }
    }
}
