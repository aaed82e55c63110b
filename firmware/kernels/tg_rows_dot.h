/*
 * The core a convolution runs per output pixel and a fully connected layer
 * per batch: one int8 vector x[len] against n weight rows, each with its
 * tg_chan_quant. Rows arrive in the planner's blocked layout: for each
 * block of 4 rows and each chunk of 4 depth positions, 16 bytes (row 0's 4
 * bytes, then rows 1, 2, 3), zero-padded to whole blocks and chunks, so
 * the 4 rows of a block stream from one pointer. The DSP-extension form is
 * dsp/tg_rows_dot_dsp.h, the Helium one mve/tg_mve.h, the host-vector one
 * host/tg_host_simd.h.
 */
#ifndef TG_ROWS_DOT_H
#define TG_ROWS_DOT_H

#include <string.h>

#include "tg_fixedpoint.h"
#include "tg_kernels.h"

/* One output channel. doubled: acc already holds 2 * the accumulator in
 * fast mode (the depthwise planner doubles weights and bias for that). */
static inline int8_t tg_output_s8(int32_t acc, const tg_chan_quant *q, int32_t fast,
                                  int doubled, int32_t zp, int32_t lo, int32_t hi)
{
    const int32_t v = fast ? tg_requantize_fast(doubled ? acc : acc * 2, q->mult, q->shift, q->rz)
                           : tg_requantize(acc, q->mult, q->shift) + zp;
    return tg_clamp_s8(v, lo, hi);
}

/* Stores the first `left` (1..4) of a block's four outputs. */
static inline void tg_store_block(int8_t *out, int32_t left, const tg_chan_quant *q,
                                  int32_t fast, int doubled, int32_t zp, int32_t lo, int32_t hi,
                                  int32_t a0, int32_t a1, int32_t a2, int32_t a3)
{
    out[0] = tg_output_s8(a0, q, fast, doubled, zp, lo, hi);
    if (left > 1) {
        out[1] = tg_output_s8(a1, q + 1, fast, doubled, zp, lo, hi);
    }
    if (left > 2) {
        out[2] = tg_output_s8(a2, q + 2, fast, doubled, zp, lo, hi);
    }
    if (left > 3) {
        out[3] = tg_output_s8(a3, q + 3, fast, doubled, zp, lo, hi);
    }
}

static inline void tg_rows_dot_c(const int8_t *x, int32_t len, const int8_t *rows, int32_t n,
                                 const tg_chan_quant *q, int32_t fast, int32_t zp,
                                 int32_t lo, int32_t hi, int8_t *out)
{
    const int8_t *w = rows;
    int32_t o;
    for (o = 0; o < n; o += 4) {
        int32_t a0 = q[o].bias;
        int32_t a1 = q[o + 1].bias;
        int32_t a2 = q[o + 2].bias;
        int32_t a3 = q[o + 3].bias;
        int32_t k = 0;
        for (; k + 4 <= len; k += 4, w += 16) {
            const int32_t x0 = x[k];
            const int32_t x1 = x[k + 1];
            const int32_t x2 = x[k + 2];
            const int32_t x3 = x[k + 3];
            a0 += x0 * w[0] + x1 * w[1] + x2 * w[2] + x3 * w[3];
            a1 += x0 * w[4] + x1 * w[5] + x2 * w[6] + x3 * w[7];
            a2 += x0 * w[8] + x1 * w[9] + x2 * w[10] + x3 * w[11];
            a3 += x0 * w[12] + x1 * w[13] + x2 * w[14] + x3 * w[15];
        }
        if (k < len) {
            int32_t j;
            for (j = 0; k + j < len; ++j) {
                const int32_t v = x[k + j];
                a0 += v * w[j];
                a1 += v * w[4 + j];
                a2 += v * w[8 + j];
                a3 += v * w[12 + j];
            }
            w += 16;
        }
        tg_store_block(out + o, n - o, q + o, fast, 0, zp, lo, hi, a0, a1, a2, a3);
    }
}

#endif
