/*
 * Integer requantization arithmetic, bit-exact with TensorFlow Lite Micro:
 * a rounding, saturating doubling high multiply followed by a rounding
 * shift right. Shared by the kernels; static inline so each kernel file
 * stays self-contained.
 */
#ifndef TG_FIXEDPOINT_H
#define TG_FIXEDPOINT_H

#include <stddef.h>
#include <stdint.h>

static inline int32_t tg_srdhm(int32_t a, int32_t b)
{
    int64_t ab;
    int64_t nudge;
    int64_t v;
    if (a == INT32_MIN && b == INT32_MIN) {
        return INT32_MAX;
    }
    ab = (int64_t)a * (int64_t)b;
    nudge = ab >= 0 ? (int64_t)(1 << 30) : (int64_t)(1 - (1 << 30));
    v = ab + nudge;
    /* Division by 2^31 truncating toward zero, without a library call. */
    if (v < 0) {
        v += (((int64_t)1) << 31) - 1;
    }
    return (int32_t)(v >> 31);
}

static inline int32_t tg_rounding_shift_right(int32_t x, int32_t exponent)
{
    const int32_t mask = (int32_t)((((uint32_t)1) << exponent) - 1u);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* x * mult * 2^(shift - 31) with TFLM's two roundings. mult is never
 * negative (the planner builds it from a positive scale), so the doubling
 * high multiply cannot saturate, and its nudge-then-truncate rounding is
 * the same as adding 2^30 and shifting right arithmetically: one 64-bit
 * multiply-accumulate instead of a branchy sequence. */
static inline int32_t tg_requantize(int32_t x, int32_t mult, int32_t shift)
{
    const int32_t left = shift > 0 ? shift : 0;
    const int32_t right = shift > 0 ? 0 : -shift;
    const int64_t ab = (int64_t)(int32_t)((uint32_t)x << left) * (int64_t)mult;
    const int32_t high = (int32_t)((ab + (int64_t)(1 << 30)) >> 31);
    return tg_rounding_shift_right(high, right);
}

static inline int8_t tg_clamp_s8(int32_t v, int32_t lo, int32_t hi)
{
    if (v < lo) {
        v = lo;
    }
    if (v > hi) {
        v = hi;
    }
    return (int8_t)v;
}

/* One int8 vector x[len] against n weight rows (rows[n][len]), each with its
 * bias, multiplier and shift: the core that a convolution runs per output
 * pixel (x is the patch) and a fully connected layer per batch. Four rows
 * share every load of x. Inline so each kernel keeps its loop tight. */
static inline void tg_rows_dot_s8(const int8_t *x, int32_t len, const int8_t *rows, int32_t n,
                                  const int32_t *bias, const int32_t *mult, const int32_t *shift,
                                  int32_t out_zp, int32_t act_min, int32_t act_max, int8_t *out)
{
    int32_t o = 0;
    for (; o + 4 <= n; o += 4) {
        const int8_t *w0 = rows + (size_t)o * (size_t)len;
        const int8_t *w1 = w0 + len;
        const int8_t *w2 = w1 + len;
        const int8_t *w3 = w2 + len;
        int32_t a0 = bias[o];
        int32_t a1 = bias[o + 1];
        int32_t a2 = bias[o + 2];
        int32_t a3 = bias[o + 3];
        int32_t k;
        for (k = 0; k < len; ++k) {
            const int32_t v = x[k];
            a0 += v * w0[k];
            a1 += v * w1[k];
            a2 += v * w2[k];
            a3 += v * w3[k];
        }
        out[o] = tg_clamp_s8(tg_requantize(a0, mult[o], shift[o]) + out_zp, act_min, act_max);
        out[o + 1] = tg_clamp_s8(tg_requantize(a1, mult[o + 1], shift[o + 1]) + out_zp, act_min, act_max);
        out[o + 2] = tg_clamp_s8(tg_requantize(a2, mult[o + 2], shift[o + 2]) + out_zp, act_min, act_max);
        out[o + 3] = tg_clamp_s8(tg_requantize(a3, mult[o + 3], shift[o + 3]) + out_zp, act_min, act_max);
    }
    for (; o < n; ++o) {
        const int8_t *w0 = rows + (size_t)o * (size_t)len;
        int32_t a0 = bias[o];
        int32_t k;
        for (k = 0; k < len; ++k) {
            a0 += x[k] * w0[k];
        }
        out[o] = tg_clamp_s8(tg_requantize(a0, mult[o], shift[o]) + out_zp, act_min, act_max);
    }
}

#endif
