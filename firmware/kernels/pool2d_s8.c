/* int8 average and max pooling over the part of each window inside the image. */
#include <string.h>

#include "tg_fixedpoint.h"
#include "tg_kernels.h"
#include "tg_pool.h"

void tg_avg_pool2d_s8(const tg_pool_params *p, const int8_t *input, int8_t *output)
{
    tg_avg_pool2d_loop(p, input, output);
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
            for (ox = 0; ox < p->out_w; ++ox) {
                const pool_window w = window_at(p, image, oy, ox);
                for (c = 0; c < ch; ++c) {
                    int32_t best = -128;
                    int32_t y;
                    int32_t x;
                    for (y = 0; y < w.rows; ++y) {
                        const int8_t *row = w.first + (size_t)y * w.row_step + (size_t)c;
                        for (x = 0; x < w.cols; ++x) {
                            best = max_i32(best, row[(size_t)x * (size_t)ch]);
                        }
                    }
                    output[c] = tg_clamp_s8(best, p->act_min, p->act_max);
                }
                output += ch;
            }
        }
    }
}
