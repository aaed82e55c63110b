/*
 * Helium (MVE, integer) building blocks for the Cortex-M55 kernels in
 * firmware/kernels/mve/, which tinygen/plan/variants.py chooses for boards
 * with mve: true (and compiles only there).
 *
 * The MVE kernels read their constants in the layout of
 * tinygen/plan/layout_mve.py: convolution and fully connected rows (TFLite
 * order, [out][k_h][k_w][in]) in blocks of 4 rows x 16 depth positions, so
 * one VMLADAVA.S8 takes 16 depth positions of one row and 4 rows share each
 * input load; depthwise taps as int16 [tap][out_c] (doubled in fast
 * requantization mode, as on the other paths), their tg_chan_quant records
 * reordered within groups of 8 channels (mve/depthwise_conv2d_s8.c). The records'
 * values are those of the other paths. Kernels: mve/conv2d_s8.c,
 * mve/depthwise_conv2d_s8.c, mve/fully_connected_s8.c, mve/add_s8.c, each
 * with the arguments of the portable kernel of the same file name.
 */
#ifndef TG_MVE_H
#define TG_MVE_H

#include <string.h>

#include "tg_fixedpoint.h"
#include "tg_kernels.h"

#if !defined(__ARM_FEATURE_MVE) || !__ARM_FEATURE_MVE
#error "firmware/kernels/mve/ needs a compiler targeting Helium (-mcpu=cortex-m55 without +nomve)"
#endif
#include <arm_mve.h>

/* Output stage of a layer: requantization form and clamp. */
typedef struct {
    int32_t fast;
    int32_t zp;
    int32_t lo;
    int32_t hi;
} tg_mve_out;

/* tg_requantize(x, mult, shift) of each lane; right = -max(-shift, 0) as a
 * vector, left = max(shift, 0). */
static inline int32x4_t tg_mve_requant_n(int32x4_t x, int32_t mult, int32_t left,
                                         int32x4_t right)
{
    x = vqrdmulhq_n_s32(vshlq_r_s32(x, left), mult);
    x = vqaddq_s32(x, vshrq_n_s32(vandq_s32(x, right), 31));
    return vrshlq_s32(x, right);
}

/* Four channels' accumulators (bias not yet added) to clamped outputs,
 * bit-exact with tg_output_s8. One VLD4 splits the 4 records into bias,
 * mult, shift and rz vectors. Fast mode (acc2 = 2 * acc, see
 * tg_requantize_fast): VRMULH is SMMULR lane by lane, the right shift by e a
 * VSHL by -e. Generic mode: the left shift, then VQRDMULH (TFLM's
 * saturating rounding doubling high multiply), then the rounding shift:
 * VRSHL rounds half up, so negative values first lose 1 (half away from
 * zero, as TFLM's RoundingDivideByPOT). doubled: the depthwise planner
 * already doubled weights and bias. */
static inline int32x4_t tg_mve_requant_records(int32x4_t acc, int32x4x4_t r,
                                               const tg_mve_out *o, int doubled)
{
    int32x4_t v = vaddq_s32(acc, r.val[0]);
    if (o->fast) {
        /* VQRDMULH of acc is VRMULH of 2 * acc: no saturation, |acc| < 2^30. */
        int32x4_t h = doubled ? vrmulhq_s32(v, r.val[1]) : vqrdmulhq_s32(v, r.val[1]);
        h = vaddq_s32(h, vshrq_n_s32(h, 31));
        h = vaddq_s32(h, r.val[3]);
        v = vshlq_s32(h, vnegq_s32(r.val[2]));
    } else {
        const int32x4_t zero = vdupq_n_s32(0);
        const int32x4_t right = vminq_s32(r.val[2], zero);
        v = vshlq_s32(v, vmaxq_s32(r.val[2], zero));
        v = vqrdmulhq_s32(v, r.val[1]);
        v = vqaddq_s32(v, vshrq_n_s32(vandq_s32(v, right), 31));
        v = vrshlq_s32(v, right);
        v = vaddq_n_s32(v, o->zp);
    }
    v = vmaxq_s32(v, vdupq_n_s32(o->lo));
    return vminq_s32(v, vdupq_n_s32(o->hi));
}

/* tg_mve_requant_records with the 4 channels' records loaded here; the
 * records form (VLD4 split) lets several pixels share one load. */
static inline int32x4_t tg_mve_requant(int32x4_t acc, const tg_chan_quant *q,
                                       const tg_mve_out *o, int doubled)
{
    return tg_mve_requant_records(acc, vld4q_s32((const int32_t *)(const void *)q), o, doubled);
}

/* Stores the first n (1..4) lanes as bytes. */
static inline void tg_mve_store(int8_t *out, int32x4_t v, int32_t n)
{
    if (n >= 4) {
        vstrbq_s32(out, v);
    } else {
        vstrbq_p_s32(out, v, vctp32q((uint32_t)n));
    }
}

/* n bytes from src to dst, 16 at a time. */
static inline void tg_mve_copy(int8_t *dst, const int8_t *src, int32_t n)
{
    int32_t k = 0;
    for (; k + 16 <= n; k += 16) {
        vstrbq_s8(dst + k, vldrbq_s8(src + k));
    }
    if (k < n) {
        const mve_pred16_t p = vctp8q((uint32_t)(n - k));
        vstrbq_p_s8(dst + k, vldrbq_z_s8(src + k, p), p);
    }
}

/* n bytes of value v. */
static inline void tg_mve_fill(int8_t *dst, int32_t v, int32_t n)
{
    const int8x16_t x = vdupq_n_s8((int8_t)v);
    int32_t k = 0;
    for (; k + 16 <= n; k += 16) {
        vstrbq_s8(dst + k, x);
    }
    if (k < n) {
        vstrbq_p_s8(dst + k, x, vctp8q((uint32_t)(n - k)));
    }
}

/* out[o] for o < n: x[len] against rows in the MVE blocked layout (see
 * tinygen/plan/layout_mve.py): for each block of 4 rows and each chunk of
 * 16 depth positions, 64 bytes (row 0's 16, then rows 1, 2, 3), zero-padded
 * to whole blocks and chunks. One pointer streams a block: per chunk one
 * input load shared by 4 VLDRB + VMLADAVA.S8. The input's last partial
 * chunk is loaded under a tail predicate, so x is never over-read. */
static inline void tg_mve_rows_dot(const int8_t *x, int32_t len, const int8_t *rows, int32_t n,
                                   const tg_chan_quant *q, const tg_mve_out *o, int8_t *out)
{
    const int32_t body = len & ~15;
    const mve_pred16_t tail = vctp8q((uint32_t)(len - body));
    const int8_t *w = rows;
    int32_t r;
    if (len <= 32) {
        /* Up to 2 chunks (first layers, narrow pointwise): the input stays
         * in registers for all rows. */
        const int8x16_t v0 = vldrbq_z_s8(x, vctp8q((uint32_t)len));
        const int8x16_t v1 = vldrbq_z_s8(x + 16, vctp8q((uint32_t)(len > 16 ? len - 16 : 0)));
        for (r = 0; r < n; r += 4, w += len > 16 ? 128 : 64) {
            int32_t a0 = vmladavq_s8(v0, vldrbq_s8(w));
            int32_t a1 = vmladavq_s8(v0, vldrbq_s8(w + 16));
            int32_t a2 = vmladavq_s8(v0, vldrbq_s8(w + 32));
            int32_t a3 = vmladavq_s8(v0, vldrbq_s8(w + 48));
            int32x4_t acc;
            if (len > 16) {
                a0 = vmladavaq_s8(a0, v1, vldrbq_s8(w + 64));
                a1 = vmladavaq_s8(a1, v1, vldrbq_s8(w + 80));
                a2 = vmladavaq_s8(a2, v1, vldrbq_s8(w + 96));
                a3 = vmladavaq_s8(a3, v1, vldrbq_s8(w + 112));
            }
            acc = vdupq_n_s32(a0);
            acc = vsetq_lane_s32(a1, acc, 1);
            acc = vsetq_lane_s32(a2, acc, 2);
            acc = vsetq_lane_s32(a3, acc, 3);
            tg_mve_store(out + r, tg_mve_requant(acc, q + r, o, 0), n - r);
        }
        return;
    }
    for (r = 0; r < n; r += 4) {
        int32_t a0 = 0;
        int32_t a1 = 0;
        int32_t a2 = 0;
        int32_t a3 = 0;
        int32_t k;
        int32x4_t acc;
        for (k = 0; k < body; k += 16, w += 64) {
            const int8x16_t v = vldrbq_s8(x + k);
            a0 = vmladavaq_s8(a0, v, vldrbq_s8(w));
            a1 = vmladavaq_s8(a1, v, vldrbq_s8(w + 16));
            a2 = vmladavaq_s8(a2, v, vldrbq_s8(w + 32));
            a3 = vmladavaq_s8(a3, v, vldrbq_s8(w + 48));
        }
        if (body < len) {
            /* The padded weights are zero: only the input needs the predicate. */
            const int8x16_t v = vldrbq_z_s8(x + body, tail);
            a0 = vmladavaq_s8(a0, v, vldrbq_s8(w));
            a1 = vmladavaq_s8(a1, v, vldrbq_s8(w + 16));
            a2 = vmladavaq_s8(a2, v, vldrbq_s8(w + 32));
            a3 = vmladavaq_s8(a3, v, vldrbq_s8(w + 48));
            w += 64;
        }
        acc = vdupq_n_s32(a0);
        acc = vsetq_lane_s32(a1, acc, 1);
        acc = vsetq_lane_s32(a2, acc, 2);
        acc = vsetq_lane_s32(a3, acc, 3);
        tg_mve_store(out + r, tg_mve_requant(acc, q + r, o, 0), n - r);
    }
}

#endif
