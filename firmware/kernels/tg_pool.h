/*
 * The pooling window of an output pixel, shared by pool2d_s8.c and its DSP
 * and Helium variants (dsp/pool2d_s8.c, mve/pool2d_s8.c).
 */
#ifndef TG_POOL_H
#define TG_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "tg_kernels.h"

static int32_t max_i32(int32_t a, int32_t b) { return a > b ? a : b; }
static int32_t min_i32(int32_t a, int32_t b) { return a < b ? a : b; }

/* The part of output pixel (oy, ox)'s window inside the image: `rows` rows
 * of `cols` pixels from `first` (channel 0), each row `row_step` bytes
 * after the previous one; count = rows * cols (the average's divisor). */
typedef struct {
    const int8_t *first;
    size_t row_step;
    int32_t rows;
    int32_t cols;
    int32_t count;
} pool_window;

static inline pool_window window_at(const tg_pool_params *p, const int8_t *image, int32_t oy,
                                    int32_t ox)
{
    const int32_t iy0 = oy * p->stride_h - p->pad_h;
    const int32_t fy0 = max_i32(0, -iy0);
    const int32_t fy1 = min_i32(p->k_h, p->in_h - iy0);
    const int32_t ix0 = ox * p->stride_w - p->pad_w;
    const int32_t fx0 = max_i32(0, -ix0);
    const int32_t fx1 = min_i32(p->k_w, p->in_w - ix0);
    pool_window w;
    w.row_step = (size_t)p->in_w * (size_t)p->channels;
    w.rows = fy1 - fy0;
    w.cols = fx1 - fx0;
    w.count = w.rows * w.cols;
    /* A window wholly in the padding reads nothing: no pointer outside the image. */
    w.first = w.rows > 0 && w.cols > 0
        ? image + (size_t)(iy0 + fy0) * w.row_step + (size_t)(ix0 + fx0) * (size_t)p->channels
        : image;
    return w;
}

/* sum / count, rounded half away from zero as TFLM does; 0 windows give 0. */
static inline int32_t window_average(int32_t sum, int32_t count)
{
    if (count <= 0) {
        return sum;
    }
    return sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
}

/* One output pixel's channels, from its window. */
typedef void (*tg_pool_pixel_fn)(const tg_pool_params *p, const pool_window *w, int8_t *out);

/* Every output pixel in order, each computed by `pixel` from its window.
 * Always inlined, so each kernel's pixel function is a direct call the
 * compiler inlines in turn, and a kernel that has two paths (the DSP
 * average) keeps both in its own function: as a call, the portable path
 * cost kws01 on disco_l475vg_iot01a 400 more instructions per inference. */
static inline __attribute__((always_inline)) void
tg_pool_walk(const tg_pool_params *p, const int8_t *input, int8_t *output, tg_pool_pixel_fn pixel)
{
    const int32_t ch = p->channels;
    int32_t b;
    int32_t oy;
    int32_t ox;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *image = input + (size_t)b * (size_t)p->in_h * (size_t)p->in_w * (size_t)ch;
        for (oy = 0; oy < p->out_h; ++oy) {
            for (ox = 0; ox < p->out_w; ++ox) {
                const pool_window w = window_at(p, image, oy, ox);
                pixel(p, &w, output);
                output += ch;
            }
        }
    }
}

/* The average of each channel over the window, one channel at a time. */
static inline __attribute__((always_inline)) void
tg_avg_pool_pixel(const tg_pool_params *p, const pool_window *w, int8_t *out)
{
    const int32_t ch = p->channels;
    int32_t c;
    for (c = 0; c < ch; ++c) {
        int32_t acc = 0;
        int32_t y;
        int32_t x;
        for (y = 0; y < w->rows; ++y) {
            const int8_t *row = w->first + (size_t)y * w->row_step + (size_t)c;
            for (x = 0; x < w->cols; ++x) {
                acc += row[(size_t)x * (size_t)ch];
            }
        }
        out[c] = tg_clamp_s8(window_average(acc, w->count), p->act_min, p->act_max);
    }
}

#endif
