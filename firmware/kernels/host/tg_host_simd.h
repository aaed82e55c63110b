/*
 * Building blocks of the host-vector kernels (firmware/kernels/host/),
 * written with GCC vector extensions (generic vector types,
 * __builtin_convertvector, __builtin_shufflevector; no vendor intrinsics).
 * The compiler maps them onto the host's SIMD unit.
 *
 * The plan uses them (the "host" kernel target) only when the host compiler
 * targets AVX2 (__AVX2__: the host build's -march=native on x86-64 CPUs
 * since about 2013; tinygen/port/flags.py host_vector_kernels). Without
 * AVX2 these 32-byte vectors are lowered piecewise and run several times
 * slower than the scalar C (measured with SSE2 and x86-64-v2), so those
 * hosts and AArch64 hosts (NEON lowering not measured) keep the portable C
 * (tests/compiler/test_host_simd.py compares both with TFLM).
 *
 * Same weight layouts and the same integer arithmetic as the portable C:
 * products and sums in int32 lanes, wrapping exactly as the scalar int32
 * accumulators do, so results are bit-exact with TFLM like the rest.
 */
#ifndef TG_HOST_SIMD_H
#define TG_HOST_SIMD_H

#include <stdint.h>
#include <string.h>

#include "tg_fixedpoint.h"
#include "tg_kernels.h"
#include "tg_rows_dot.h"

#if !(defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 12))
#error "firmware/kernels/host/ needs clang or GCC 12 or later (__builtin_shufflevector)"
#endif

typedef int16_t tg_v8hi __attribute__((vector_size(16)));
typedef int64_t tg_v2di __attribute__((vector_size(16)));
typedef int32_t tg_v4si __attribute__((vector_size(16)));
typedef int32_t tg_v8si __attribute__((vector_size(32)));

/* 8 int8 at p, sign-extended to int32 lanes. Written as an initialiser of
 * scalars, which GCC turns into one sign-extending load (vpmovsxbd);
 * __builtin_convertvector from an 8-byte vector is split lane by lane. */
static inline tg_v8si tg_v8si_from_s8(const int8_t *p)
{
    const tg_v8si v = {p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]};
    return v;
}

/* The 4 bytes at p twice (x0..x3, x0..x3), sign-extended: one chunk of the
 * input against two rows of a block. */
static inline tg_v8si tg_v8si_x4_twice(const int8_t *p)
{
    const tg_v4si v = {p[0], p[1], p[2], p[3]};
    return __builtin_shufflevector(v, v, 0, 1, 2, 3, 0, 1, 2, 3);
}

/* The 8 row sums of two blocks: lanes 0-3 of r01 are row 0's partial
 * sums, lanes 4-7 row 1's, and so on up to r67. */
static inline tg_v8si tg_v8si_row_sums8(tg_v8si r01, tg_v8si r23, tg_v8si r45, tg_v8si r67)
{
    const tg_v8si p03 = __builtin_shufflevector(r01, r23, 0, 2, 4, 6, 8, 10, 12, 14)
                      + __builtin_shufflevector(r01, r23, 1, 3, 5, 7, 9, 11, 13, 15);
    const tg_v8si p47 = __builtin_shufflevector(r45, r67, 0, 2, 4, 6, 8, 10, 12, 14)
                      + __builtin_shufflevector(r45, r67, 1, 3, 5, 7, 9, 11, 13, 15);
    return __builtin_shufflevector(p03, p47, 0, 2, 4, 6, 8, 10, 12, 14)
         + __builtin_shufflevector(p03, p47, 1, 3, 5, 7, 9, 11, 13, 15);
}

/* The rows_dot of tg_rows_dot.h (same layout, same results), two blocks
 * (5-8 rows) per pass over x so each input chunk is widened once for up
 * to 8 rows, then a last block of 1-4 rows. Each chunk of a block is 16 bytes:
 * 2 rows per 8-lane vector, x's 4 bytes repeated against them. */
static inline void tg_rows_dot_simd(const int8_t *x, int32_t len, const int8_t *rows, int32_t n,
                                    const tg_chan_quant *q, int32_t fast, int32_t zp,
                                    int32_t lo, int32_t hi, int8_t *out)
{
    const int32_t whole = len & ~3;
    const size_t block_bytes = 16u * (size_t)((len + 3) / 4);
    int8_t tail[4] = {0, 0, 0, 0};
    const int8_t *w = rows;
    int32_t o = 0;
    int32_t k;
    memcpy(tail, x + whole, (size_t)(len - whole));
    for (; o + 4 < n; o += 8, w += 2 * block_bytes) {
        /* Two blocks, the second with 1-4 rows. */
        const int32_t left = n - o < 8 ? n - o : 8;
        const int8_t *w0 = w;
        const int8_t *w1 = w + block_bytes;
        tg_v8si r01 = {0, 0, 0, 0, 0, 0, 0, 0};
        tg_v8si r23 = r01;
        tg_v8si r45 = r01;
        tg_v8si r67 = r01;
        tg_v8si s;
        int32_t i;
        for (k = 0; k < whole; k += 4, w0 += 16, w1 += 16) {
            const tg_v8si xv = tg_v8si_x4_twice(x + k);
            r01 += xv * tg_v8si_from_s8(w0);
            r23 += xv * tg_v8si_from_s8(w0 + 8);
            r45 += xv * tg_v8si_from_s8(w1);
            r67 += xv * tg_v8si_from_s8(w1 + 8);
        }
        if (whole < len) {
            const tg_v8si xv = tg_v8si_x4_twice(tail);
            r01 += xv * tg_v8si_from_s8(w0);
            r23 += xv * tg_v8si_from_s8(w0 + 8);
            r45 += xv * tg_v8si_from_s8(w1);
            r67 += xv * tg_v8si_from_s8(w1 + 8);
        }
        s = tg_v8si_row_sums8(r01, r23, r45, r67);
        for (i = 0; i < left; ++i) {
            out[o + i] = tg_output_s8(q[o + i].bias + s[i], q + o + i, fast, 0, zp, lo, hi);
        }
    }
    if (o < n) {
        tg_v8si r01 = {0, 0, 0, 0, 0, 0, 0, 0};
        tg_v8si r23 = r01;
        tg_v8si s;
        for (k = 0; k < whole; k += 4, w += 16) {
            const tg_v8si xv = tg_v8si_x4_twice(x + k);
            r01 += xv * tg_v8si_from_s8(w);
            r23 += xv * tg_v8si_from_s8(w + 8);
        }
        if (whole < len) {
            const tg_v8si xv = tg_v8si_x4_twice(tail);
            r01 += xv * tg_v8si_from_s8(w);
            r23 += xv * tg_v8si_from_s8(w + 8);
        }
        s = tg_v8si_row_sums8(r01, r23, r01, r23);
        tg_store_block(out + o, n - o, q + o, fast, 0, zp, lo, hi, q[o].bias + s[0],
                       q[o + 1].bias + s[1], q[o + 2].bias + s[2], q[o + 3].bias + s[3]);
    }
}

/* Depthwise, depth multiplier 1: channels [0, 8 * (out_c / 8)) of one
 * output pixel, 8 per vector, from the tap pointers and the int16 weights
 * in groups of 4 channels as tg_depthwise_conv2d_s8 reads them, each
 * group's taps as (c0, c2, c1, c3). The lanes follow that order, the input
 * is loaded into it, and the sums are put back in channel order at the
 * end. Returns the number of channels done. */
static inline int32_t tg_dw_channels_simd(const int8_t *const *taps, int32_t taps_n,
                                          const int16_t *filter, const tg_chan_quant *quant,
                                          int32_t out_c, int32_t fast, int32_t zp,
                                          int32_t lo, int32_t hi, int8_t *output)
{
    const size_t group = 4u * (size_t)taps_n;   /* int16 weights per 4 channels */
    int32_t c = 0;
    for (; c + 8 <= out_c; c += 8) {
        const int16_t *w0 = filter + (size_t)c * (size_t)taps_n;
        const int16_t *w1 = w0 + group;
        tg_v8si acc = {0, 0, 0, 0, 0, 0, 0, 0};
        tg_v8si s;
        int32_t t;
        int32_t i;
        for (t = 0; t < taps_n; ++t, w0 += 4, w1 += 4) {
            const int8_t *x = taps[t] + c;
            const tg_v8si xv = {x[0], x[2], x[1], x[3], x[4], x[6], x[5], x[7]};
            int64_t h0;
            int64_t h1;
            tg_v2di wd;
            memcpy(&h0, w0, sizeof h0);
            memcpy(&h1, w1, sizeof h1);
            wd = (tg_v2di){h0, h1};
            acc += xv * __builtin_convertvector((tg_v8hi)wd, tg_v8si);
        }
        s = __builtin_shufflevector(acc, acc, 0, 2, 1, 3, 4, 6, 5, 7);
        for (i = 0; i < 8; ++i) {
            output[c + i] = tg_output_s8(quant[c + i].bias + s[i], quant + c + i, fast, 1, zp,
                                         lo, hi);
        }
    }
    return c;
}

#endif
