/* int8 average and max pooling over the part of each window inside the image. */
#include <string.h>

#include "tg_fixedpoint.h"
#include "tg_kernels.h"
#include "tg_pool.h"

void tg_avg_pool2d_s8(const tg_pool_params *p, const int8_t *input, int8_t *output)
{
    tg_pool_walk(p, input, output, tg_avg_pool_pixel);
}

static inline void max_pixel(const tg_pool_params *p, const pool_window *w, int8_t *out)
{
    const int32_t ch = p->channels;
    int32_t c;
    for (c = 0; c < ch; ++c) {
        int32_t best = -128;
        int32_t y;
        int32_t x;
        for (y = 0; y < w->rows; ++y) {
            const int8_t *row = w->first + (size_t)y * w->row_step + (size_t)c;
            for (x = 0; x < w->cols; ++x) {
                best = max_i32(best, row[(size_t)x * (size_t)ch]);
            }
        }
        out[c] = tg_clamp_s8(best, p->act_min, p->act_max);
    }
}

void tg_max_pool2d_s8(const tg_pool_params *p, const int8_t *input, int8_t *output)
{
    tg_pool_walk(p, input, output, max_pixel);
}
