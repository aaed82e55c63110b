/*
 * int8 softmax on the Cortex-M55 (Helium, see tg_mve.h), the variant of
 * softmax_s8.c with the same arguments, bit-exact with it: the row maximum by VMAXV, exp() of each difference by a
 * gathered load from the planner's table (VLDRW gather, 4 lanes), the sum of
 * the table values rounded down to 12 integer bits, the reciprocal of the
 * sum in scalar code (tg_one_over_one_plus_x of tg_fixedpoint.h, once per
 * row), then each output by VQRDMULH and a rounding shift. Every table value
 * and the reciprocal are non-negative, so VQRDMULH equals gemmlowp's
 * saturating rounding doubling high multiply and VRSHL's round-half-up
 * equals its round-half-away-from-zero.
 */
#include "tg_fixedpoint.h"
#include "tg_kernels.h"
#include "tg_mve.h"

#define TG_SOFTMAX_MVE_INTEGER_BITS 12

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
        scale = tg_one_over_one_plus_x((int32_t)(((uint32_t)sum << headroom) - (((uint32_t)1) << 31)));
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
