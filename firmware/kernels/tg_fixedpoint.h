/*
 * Integer requantization arithmetic, bit-exact with TensorFlow Lite Micro:
 * a rounding, saturating doubling high multiply followed by a rounding
 * shift right. Shared by the kernels; static inline so each kernel file
 * stays self-contained.
 */
#ifndef TG_FIXEDPOINT_H
#define TG_FIXEDPOINT_H

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

#endif
