/*
 * The receptive field of a convolution's output pixel, gathered by
 * conv2d_s8.c and its host-vector variant (host/conv2d_s8.c), the pixel
 * walk both run, and the tap pointers of a depthwise window
 * (depthwise_conv2d_s8.c and host/depthwise_conv2d_s8.c).
 */
#ifndef TG_CONV_PATCH_H
#define TG_CONV_PATCH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tg_kernels.h"

/* Copies the receptive field of one output pixel into patch (HWC order),
 * writing the input zero point where the window leaves the image. */
static inline void gather_patch(const tg_conv_params *p, const int8_t *image,
                                int32_t iy0, int32_t ix0, int8_t *patch)
{
    const size_t row_bytes = (size_t)p->in_c;
    int32_t ky;
    int32_t kx;
    for (ky = 0; ky < p->k_h; ++ky) {
        const int32_t iy = iy0 + ky * p->dil_h;
        if (iy < 0 || iy >= p->in_h) {
            memset(patch, p->input_zero_point, row_bytes * (size_t)p->k_w);
            patch += row_bytes * (size_t)p->k_w;
            continue;
        }
        if (p->dil_w == 1 && ix0 >= 0 && ix0 + p->k_w <= p->in_w) {
            memcpy(patch, image + ((size_t)iy * (size_t)p->in_w + (size_t)ix0) * row_bytes,
                   row_bytes * (size_t)p->k_w);
            patch += row_bytes * (size_t)p->k_w;
            continue;
        }
        for (kx = 0; kx < p->k_w; ++kx) {
            const int32_t ix = ix0 + kx * p->dil_w;
            if (ix < 0 || ix >= p->in_w) {
                memset(patch, p->input_zero_point, row_bytes);
            } else {
                memcpy(patch, image + ((size_t)iy * (size_t)p->in_w + (size_t)ix) * row_bytes,
                       row_bytes);
            }
            patch += row_bytes;
        }
    }
}

/* Every output of one pixel: its n rows of weights against the len-byte
 * patch x, requantized into out (tg_rows_dot_c or a vector variant). */
typedef void (*tg_rows_dot_fn)(const int8_t *x, int32_t len, const int8_t *rows, int32_t n,
                               const tg_chan_quant *q, int32_t fast, int32_t zp,
                               int32_t lo, int32_t hi, int8_t *out);

/* CONV_2D pixel by pixel: each pixel's input gathered into scratch (or,
 * pointwise, copied there: every pixel's input is in scratch before its
 * outputs are written, so the output may overlap the input as
 * tinygen/plan/memory.py allows), then rows_dot. Always inlined, so each
 * kernel calls its own rows_dot directly. */
static inline __attribute__((always_inline)) void
tg_conv2d_pixels_walk(const tg_conv_params *p, const int8_t *input, const int8_t *filter,
                      const tg_chan_quant *quant, int8_t *output, int8_t *scratch,
                      tg_rows_dot_fn rows_dot)
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
                rows_dot(scratch, k_len, filter, p->out_c, quant, p->fast,
                         p->output_zero_point, p->act_min, p->act_max, output);
                output += p->out_c;
            }
        }
    }
}

/* The k_h * k_w tap pointers of the depthwise window at (iy0, ix0): each
 * tap's input pixel, or pad_row (in_c input zero points) outside the image. */
static inline void tg_dw_window_taps(const tg_conv_params *p, const int8_t *image,
                                     int32_t iy0, int32_t ix0, const int8_t *pad_row,
                                     const int8_t **taps)
{
    int32_t ky;
    int32_t kx;
    for (ky = 0; ky < p->k_h; ++ky) {
        const int32_t iy = iy0 + ky * p->dil_h;
        for (kx = 0; kx < p->k_w; ++kx) {
            const int32_t ix = ix0 + kx * p->dil_w;
            *taps++ = iy < 0 || iy >= p->in_h || ix < 0 || ix >= p->in_w
                ? pad_row
                : image + ((size_t)iy * (size_t)p->in_w + (size_t)ix) * (size_t)p->in_c;
        }
    }
}

/* The int16 weight of tap t for output channel oc: channels in groups of 4,
 * each tap's 4 weights as (c0, c2, c1, c3), the order SXTB16 splits 4 input
 * bytes in (depthwise_conv2d_s8.c's filter layout). */
static inline int32_t tg_dw_weight(const int16_t *filter, int32_t taps_n, int32_t t, int32_t oc)
{
    static const uint8_t order[4] = {0, 2, 1, 3};
    return filter[((oc >> 2) * taps_n + t) * 4 + order[oc & 3]];
}

#endif
