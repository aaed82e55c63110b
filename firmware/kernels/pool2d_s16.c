/* int16 average and max pooling over the part of each window inside the
 * image (TFLM's 16-bit AveragePool / MaxPool). */
#include "tg_kernels_s16.h"

static int32_t max_i32(int32_t a, int32_t b) { return a > b ? a : b; }
static int32_t min_i32(int32_t a, int32_t b) { return a < b ? a : b; }

static void pool_s16(const tg_pool_params *p, const int16_t *input, int16_t *output, int average)
{
    const size_t row = (size_t)p->in_w * (size_t)p->channels;
    int32_t b;
    int32_t oy;
    int32_t ox;
    int32_t c;
    for (b = 0; b < p->batches; ++b) {
        const int16_t *image = input + (size_t)b * (size_t)p->in_h * row;
        for (oy = 0; oy < p->out_h; ++oy) {
            const int32_t iy0 = oy * p->stride_h - p->pad_h;
            const int32_t fy0 = max_i32(0, -iy0);
            const int32_t fy1 = min_i32(p->k_h, p->in_h - iy0);
            for (ox = 0; ox < p->out_w; ++ox) {
                const int32_t ix0 = ox * p->stride_w - p->pad_w;
                const int32_t fx0 = max_i32(0, -ix0);
                const int32_t fx1 = min_i32(p->k_w, p->in_w - ix0);
                const int32_t count = (fy1 - fy0) * (fx1 - fx0);
                for (c = 0; c < p->channels; ++c) {
                    int32_t acc = average ? 0 : INT16_MIN;
                    int32_t fy;
                    int32_t fx;
                    for (fy = fy0; fy < fy1; ++fy) {
                        const int16_t *r = image + (size_t)(iy0 + fy) * row + (size_t)c;
                        for (fx = fx0; fx < fx1; ++fx) {
                            const int32_t v = r[(size_t)(ix0 + fx) * (size_t)p->channels];
                            if (average) {
                                acc += v;
                            } else if (v > acc) {
                                acc = v;
                            }
                        }
                    }
                    if (average && count > 0) {
                        /* Rounded half away from zero, as TFLM divides. */
                        acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
                    }
                    *output++ = tg_clamp_s16(acc, p->act_min, p->act_max);
                }
            }
        }
    }
}

void tg_avg_pool2d_s16(const tg_pool_params *p, const int16_t *input, int16_t *output)
{
    pool_s16(p, input, output, 1);
}

void tg_max_pool2d_s16(const tg_pool_params *p, const int16_t *input, int16_t *output)
{
    pool_s16(p, input, output, 0);
}
