/*
 * The receptive field of a convolution's output pixel, gathered by
 * conv2d_s8.c and its host-vector variant (host/conv2d_s8.c).
 */
#ifndef TG_CONV_PATCH_H
#define TG_CONV_PATCH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tg_kernels.h"

/* Copies the receptive field of one output pixel into patch (HWC order),
 * writing the input zero point where the window leaves the image. */
static void gather_patch(const tg_conv_params *p, const int8_t *image,
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

#endif
