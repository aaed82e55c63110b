/*
 * int8 softmax on the Cortex-M55 (Helium, see tg_mve.h), the variant of
 * softmax_s8.c with the same arguments, bit-exact with it: the row maximum by VMAXV, exp() of each difference by a
 * gathered load from the planner's table (VLDRW gather, 4 lanes), the sum of
 * the table values rounded down to 12 integer bits, the reciprocal of the
 * sum in scalar code (the Newton-Raphson steps of softmax_s8.c, once per
 * row), then each output by VQRDMULH and a rounding shift. Every table value
 * and the reciprocal are non-negative, so VQRDMULH equals gemmlowp's
 * saturating rounding doubling high multiply and VRSHL's round-half-up
 * equals its round-half-away-from-zero.
 */
#include "tg_fixedpoint.h"
#include "tg_kernels.h"
#include "tg_mve.h"

#define TG_SOFTMAX_MVE_INTEGER_BITS 12

static int32_t softmax_shift_left_saturating(int32_t x, int32_t exponent)
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

/* 1 / (1 + a) for a in [0, 1) in Q0.31 (gemmlowp's one_over_one_plus_x_for_x_in_0_1). */
static int32_t softmax_reciprocal(int32_t a)
{
    const int64_t sum = (int64_t)a + (int64_t)INT32_MAX;
    const int32_t half_denominator = (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
    const int32_t one_q2 = 1 << 29;
    int32_t x = 1515870810 + tg_srdhm(half_denominator, -1010580540);   /* 48/17 - 32/17 d */
    int i;
    for (i = 0; i < 3; ++i) {
        const int32_t one_minus = one_q2 - tg_srdhm(half_denominator, x);
        x = x + softmax_shift_left_saturating(tg_srdhm(x, one_minus), 2);
    }
    return softmax_shift_left_saturating(x, 1);
}

void tg_softmax_s8_mve(const tg_softmax_params *p, const int8_t *input,
                       const int32_t *exp_table, int8_t *output)
{
    const int32_t depth = p->depth;
    int32_t r;
    for (r = 0; r < p->rows; ++r) {
        int8_t max_v = -128;
        int32_t sum = 0;
        int32_t headroom;
        int32_t shift;
        int32_t scale;
        int32_t c;
        for (c = 0; c < depth; c += 16) {
            const mve_pred16_t pr = vctp8q((uint32_t)(depth - c));
            max_v = vmaxvq_p_s8(max_v, vldrbq_z_s8(input + c, pr), pr);
        }
        for (c = 0; c < depth; c += 4) {
            const mve_pred16_t pr = vctp32q((uint32_t)(depth - c));
            const uint32x4_t d = vreinterpretq_u32_s32(
                vsubq_s32(vdupq_n_s32(max_v), vldrbq_z_s32(input + c, pr)));
            const int32x4_t e = vldrwq_gather_shifted_offset_z_s32(exp_table, d, pr);
            sum = vaddvaq_p_s32(sum, vrshrq_n_s32(e, TG_SOFTMAX_MVE_INTEGER_BITS), pr);
        }
        headroom = (int32_t)__builtin_clz((uint32_t)sum);
        shift = TG_SOFTMAX_MVE_INTEGER_BITS - headroom + 31 - 8;
        scale = softmax_reciprocal((int32_t)(((uint32_t)sum << headroom) - (((uint32_t)1) << 31)));
        for (c = 0; c < depth; c += 4) {
            const mve_pred16_t pr = vctp32q((uint32_t)(depth - c));
            const uint32x4_t d = vreinterpretq_u32_s32(
                vsubq_s32(vdupq_n_s32(max_v), vldrbq_z_s32(input + c, pr)));
            const int32x4_t e = vldrwq_gather_shifted_offset_z_s32(exp_table, d, pr);
            int32x4_t v = vrshlq_s32(vqrdmulhq_n_s32(e, scale), vdupq_n_s32(-shift));
            v = vminq_s32(vsubq_n_s32(v, 128), vdupq_n_s32(127));
            vstrbq_p_s32(output + c, vmaxq_s32(v, vdupq_n_s32(-128)), pr);
        }
        input += depth;
        output += depth;
    }
}
