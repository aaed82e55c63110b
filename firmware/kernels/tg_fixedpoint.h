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

static inline int32_t tg_shift_left_saturating(int32_t x, int32_t exponent)
{
    const int32_t threshold = (int32_t)((((uint32_t)1) << (31 - exponent)) - 1u);
    if (x > threshold) {
        return INT32_MAX;
    }
    if (x < -threshold) {
        return INT32_MIN;
    }
    return (int32_t)((uint32_t)x << exponent);
}

/* 1 / (1 + x) for x in [0, 1) given in Q0.31; result in Q0.31 (gemmlowp's
 * Newton-Raphson steps, as TFLM's softmax; softmax_s8.c and its variants). */
static inline int32_t tg_one_over_one_plus_x(int32_t a)
{
    const int64_t sum = (int64_t)a + (int64_t)INT32_MAX;
    const int32_t half_denominator = (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
    const int32_t c48_17 = 1515870810;     /* 48/17 in Q2.29 */
    const int32_t cneg32_17 = -1010580540; /* -32/17 in Q2.29 */
    const int32_t one_q2 = 1 << 29;
    int32_t x = c48_17 + tg_srdhm(half_denominator, cneg32_17);
    int i;
    for (i = 0; i < 3; ++i) {
        const int32_t hd_x = tg_srdhm(half_denominator, x);
        const int32_t one_minus = one_q2 - hd_x;
        x = x + tg_shift_left_saturating(tg_srdhm(x, one_minus), 2);
    }
    return tg_shift_left_saturating(x, 1);
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

/* The compiler targets the DSP extension (Cortex-M4/M7/M33 with dsp: true
 * in the board file, whose flags say +nodsp otherwise): shared helpers such
 * as tg_requantize_fast use its instructions. Which kernel variant a layer
 * runs is never decided here but by the plan (tinygen/plan/variants.py),
 * which compiles firmware/kernels/dsp/ only for such cores. */
#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
#define TG_DSP 1
#include <arm_acle.h>
#else
#define TG_DSP 0
#endif

/* TFLM's requantization when the planner proved |acc| < 2^30 and e >= 1
 * (tg_chan_quant.fast), given acc2 = 2 * acc: the doubling high multiply
 * cannot saturate and is floor((acc2 * mult + 2^31) / 2^32), one SMMULR;
 * the rounding shift (half away from zero) is (h + 2^(e-1) - (h < 0)) >> e,
 * which cannot overflow because |h| < 2^30; rz adds 2^(e-1) and the zero
 * point at once. */
static inline int32_t tg_requantize_fast(int32_t acc2, int32_t mult, int32_t e, int32_t rz)
{
    int32_t h;
#if TG_DSP
    __asm__("smmulr %0, %1, %2" : "=r"(h) : "r"(acc2), "r"(mult));
#else
    h = (int32_t)(((int64_t)acc2 * (int64_t)mult + ((int64_t)1 << 31)) >> 32);
#endif
    return (h + (h >> 31) + rz) >> e;
}

#endif
