/*
 * Window gathers shared by the grouped and transposed convolutions
 * (conv2d_grouped_s8.c, transpose_conv_s8.c and their dsp/ variants): one
 * output pixel's input taps copied into scratch in the filter rows' order,
 * taps outside the input set to the input zero point. The planner folds
 * input_offset * sum(filter) into the biases, so a zero-point tap adds
 * (zp + input_offset) * w = 0, as TFLM's skipped taps do: every output is
 * then one dot product of scratch with a filter row.
 */
#ifndef TG_GATHER_H
#define TG_GATHER_H

#include <string.h>

#include "tg_kernels.h"

/* depth bytes from src, or zero_point when the tap is outside the input.
 * Whole words by memcpy of 4 (one LDR/STR where the core allows unaligned
 * words, byte moves where it does not). */
static inline void tg_gather_taps(const int8_t *src, int32_t inside, int32_t depth,
                                  int8_t zero_point, int8_t *dst)
{
    int32_t c = 0;
    if (inside) {
        for (; c + 4 <= depth; c += 4) {
            memcpy(dst + c, src + c, 4);
        }
        for (; c < depth; ++c) {
            dst[c] = src[c];
        }
    } else {
        for (; c < depth; ++c) {
            dst[c] = zero_point;
        }
    }
}

/* Grouped CONV_2D: the k_h x k_w window at (y0, x0) (dilated), channels
 * first .. first + depth - 1. */
static inline void tg_gather_group_window(const tg_generic_conv_params *p, const int8_t *image,
                                          int32_t y0, int32_t x0, int32_t first, int32_t depth,
                                          int8_t *dst)
{
    const int8_t zero_point = (int8_t)(-p->input_offset);
    int32_t ky;
    for (ky = 0; ky < p->k_h; ++ky) {
        const int32_t iy = y0 + ky * p->dil_h;
        int32_t kx;
        for (kx = 0; kx < p->k_w; ++kx) {
            const int32_t ix = x0 + kx * p->dil_w;
            const int32_t inside = iy >= 0 && iy < p->in_h && ix >= 0 && ix < p->in_w;
            tg_gather_taps(image + (inside ? (iy * p->in_w + ix) * p->in_c + first : 0), inside,
                           depth, zero_point, dst);
            dst += depth;
        }
    }
}

/* TRANSPOSE_CONV: the taps of output pixel (y, x), whose phase
 * (phases[3 * phase] = filter offset, tap rows, tap columns) it returns.
 * Tap row ty is filter row ry + ty * stride_h, read from input row
 * (y + pad_h - ry) / stride_h - ty; columns alike. */
static inline const int32_t *tg_gather_phase_taps(const tg_generic_conv_params *p,
                                                  const int8_t *image, const int32_t *phases,
                                                  int32_t y, int32_t x, int8_t *dst)
{
    const int8_t zero_point = (int8_t)(-p->input_offset);
    const int32_t ry = (y + p->pad_h) % p->stride_h;
    const int32_t rx = (x + p->pad_w) % p->stride_w;
    const int32_t *ph = phases + 3 * (ry * p->stride_w + rx);
    const int32_t iy0 = (y + p->pad_h - ry) / p->stride_h;
    const int32_t ix0 = (x + p->pad_w - rx) / p->stride_w;
    int32_t ty;
    for (ty = 0; ty < ph[1]; ++ty) {
        const int32_t iy = iy0 - ty;
        int32_t tx;
        for (tx = 0; tx < ph[2]; ++tx) {
            const int32_t ix = ix0 - tx;
            const int32_t inside = iy >= 0 && iy < p->in_h && ix >= 0 && ix < p->in_w;
            tg_gather_taps(image + (inside ? (iy * p->in_w + ix) * p->in_c : 0), inside, p->in_c,
                           zero_point, dst);
            dst += p->in_c;
        }
    }
    return ph;
}

/* int8 dot product plus acc, the portable loop. */
static inline int32_t tg_dot_s8(const int8_t *a, const int8_t *b, int32_t n, int32_t acc)
{
    int32_t i = 0;
    for (; i + 4 <= n; i += 4) {
        acc += (int32_t)a[i] * b[i] + (int32_t)a[i + 1] * b[i + 1]
               + (int32_t)a[i + 2] * b[i + 2] + (int32_t)a[i + 3] * b[i + 3];
    }
    for (; i < n; ++i) {
        acc += (int32_t)a[i] * b[i];
    }
    return acc;
}

#endif
