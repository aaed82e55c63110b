/* int8 average and max pooling over the part of each window inside the image. */
#include <string.h>

#include "tg_fixedpoint.h"
#include "tg_kernels.h"

static int32_t max_i32(int32_t a, int32_t b) { return a > b ? a : b; }
static int32_t min_i32(int32_t a, int32_t b) { return a < b ? a : b; }

#if TG_DSP
/* Channels in groups of 4, windows of at most 255 values: each input word
 * is added into two words of int16 sums (SXTAB16, bytes 0/2 and 1/3),
 * which cannot overflow as |sum| <= 255 * 128 < 2^15. */
static void avg_pool_dsp(const tg_pool_params *p, const int8_t *input, int8_t *output)
{
    const int32_t ch = p->channels;
    int32_t b;
    int32_t oy;
    int32_t ox;
    int32_t c;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *image = input + (size_t)b * (size_t)p->in_h * (size_t)p->in_w * (size_t)ch;
        for (oy = 0; oy < p->out_h; ++oy) {
            const int32_t iy0 = oy * p->stride_h - p->pad_h;
            const int32_t fy0 = max_i32(0, -iy0);
            const int32_t fy1 = min_i32(p->k_h, p->in_h - iy0);
            for (ox = 0; ox < p->out_w; ++ox) {
                const int32_t ix0 = ox * p->stride_w - p->pad_w;
                const int32_t fx0 = max_i32(0, -ix0);
                const int32_t fx1 = min_i32(p->k_w, p->in_w - ix0);
                const int32_t count = (fy1 - fy0) * (fx1 - fx0);
                for (c = 0; c < ch; c += 4) {
                    uint32_t s02 = 0;
                    uint32_t s13 = 0;
                    int32_t sums[4];
                    int32_t fy;
                    int32_t fx;
                    int32_t k;
                    for (fy = fy0; fy < fy1; ++fy) {
                        const int8_t *row = image + ((size_t)(iy0 + fy) * (size_t)p->in_w
                                                     + (size_t)ix0) * (size_t)ch + (size_t)c;
                        for (fx = fx0; fx < fx1; ++fx) {
                            uint32_t v;
                            memcpy(&v, row + (size_t)fx * (size_t)ch, 4);
                            __asm__("sxtab16 %0, %0, %2\n\t"
                                    "sxtab16 %1, %1, %2, ror #8"
                                    : "+r"(s02), "+r"(s13)
                                    : "r"(v));
                        }
                    }
                    sums[0] = (int16_t)(s02 & 0xFFFFu);
                    sums[1] = (int16_t)(s13 & 0xFFFFu);
                    sums[2] = (int16_t)(s02 >> 16);
                    sums[3] = (int16_t)(s13 >> 16);
                    for (k = 0; k < 4; ++k) {
                        int32_t acc = sums[k];
                        if (count > 0) {
                            acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
                        }
                        output[c + k] = tg_clamp_s8(acc, p->act_min, p->act_max);
                    }
                }
                output += ch;
            }
        }
    }
}
#endif

void tg_avg_pool2d_s8(const tg_pool_params *p, const int8_t *input, int8_t *output)
{
#if TG_DSP
    if (p->channels % 4 == 0 && p->k_h * p->k_w <= 255) {
        avg_pool_dsp(p, input, output);
        return;
    }
#endif
    const int32_t ch = p->channels;
    int32_t b;
    int32_t oy;
    int32_t ox;
    int32_t c;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *image = input + (size_t)b * (size_t)p->in_h * (size_t)p->in_w * (size_t)ch;
        for (oy = 0; oy < p->out_h; ++oy) {
            const int32_t iy0 = oy * p->stride_h - p->pad_h;
            const int32_t fy0 = max_i32(0, -iy0);
            const int32_t fy1 = min_i32(p->k_h, p->in_h - iy0);
            for (ox = 0; ox < p->out_w; ++ox) {
                const int32_t ix0 = ox * p->stride_w - p->pad_w;
                const int32_t fx0 = max_i32(0, -ix0);
                const int32_t fx1 = min_i32(p->k_w, p->in_w - ix0);
                const int32_t count = (fy1 - fy0) * (fx1 - fx0);
                for (c = 0; c < ch; ++c) {
                    int32_t acc = 0;
                    int32_t fy;
                    int32_t fx;
                    for (fy = fy0; fy < fy1; ++fy) {
                        const int8_t *row = image + ((size_t)(iy0 + fy) * (size_t)p->in_w + (size_t)ix0) * (size_t)ch + (size_t)c;
                        for (fx = fx0; fx < fx1; ++fx) {
                            acc += row[(size_t)fx * (size_t)ch];
                        }
                    }
                    if (count > 0) {
                        /* Round half away from zero, as TFLM does. */
                        acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
                    }
                    output[c] = tg_clamp_s8(acc, p->act_min, p->act_max);
                }
                output += ch;
            }
        }
    }
}

void tg_max_pool2d_s8(const tg_pool_params *p, const int8_t *input, int8_t *output)
{
    const int32_t ch = p->channels;
    int32_t b;
    int32_t oy;
    int32_t ox;
    int32_t c;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *image = input + (size_t)b * (size_t)p->in_h * (size_t)p->in_w * (size_t)ch;
        for (oy = 0; oy < p->out_h; ++oy) {
            const int32_t iy0 = oy * p->stride_h - p->pad_h;
            const int32_t fy0 = max_i32(0, -iy0);
            const int32_t fy1 = min_i32(p->k_h, p->in_h - iy0);
            for (ox = 0; ox < p->out_w; ++ox) {
                const int32_t ix0 = ox * p->stride_w - p->pad_w;
                const int32_t fx0 = max_i32(0, -ix0);
                const int32_t fx1 = min_i32(p->k_w, p->in_w - ix0);
                for (c = 0; c < ch; ++c) {
                    int32_t best = -128;
                    int32_t fy;
                    int32_t fx;
                    for (fy = fy0; fy < fy1; ++fy) {
                        const int8_t *row = image + ((size_t)(iy0 + fy) * (size_t)p->in_w + (size_t)ix0) * (size_t)ch + (size_t)c;
                        for (fx = fx0; fx < fx1; ++fx) {
                            best = max_i32(best, row[(size_t)fx * (size_t)ch]);
                        }
                    }
                    output[c] = tg_clamp_s8(best, p->act_min, p->act_max);
                }
                output += ch;
            }
        }
    }
}
