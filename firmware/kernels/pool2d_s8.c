/* int8 average and max pooling over the part of each window inside the image. */
#include "tg_fixedpoint.h"
#include "tg_kernels.h"

static int32_t max_i32(int32_t a, int32_t b) { return a > b ? a : b; }
static int32_t min_i32(int32_t a, int32_t b) { return a < b ? a : b; }

void tg_avg_pool2d_s8(const tg_pool_params *p, const int8_t *input, int8_t *output)
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
