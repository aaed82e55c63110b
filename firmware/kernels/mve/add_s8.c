/*
 * int8 elementwise addition on the Cortex-M55 (Helium, see tg_mve.h), the
 * variant of add_s8.c with the same arguments, for inputs of the output's
 * shape (tinygen/plan/variants.py keeps broadcasts on the portable kernel):
 * 4 elements per step in int32 lanes, bit-exact with the scalar add_one of
 * add_s8.c: each input is offset, shifted left by
 * left_shift and requantized to the common scale, the sum requantized to
 * the output. The requantization is tg_requantize lane by lane: VSHL for
 * the left shift, VQRDMULH, and VRSHL for the rounding right shift after
 * negative values lose 1 (half away from zero, as TFLM's
 * RoundingDivideByPOT). Reading 4 elements before writing them allows the
 * in-place operation tinygen/plan/memory.py plans for elementwise ops.
 */
#include "tg_mve.h"

/* tg_requantize(x, mult, shift) of each lane; right = -max(-shift, 0) as a
 * vector, left = max(shift, 0). */
static inline int32x4_t tg_mve_requant_n(int32x4_t x, int32_t mult, int32_t left,
                                         int32x4_t right)
{
    x = vqrdmulhq_n_s32(vshlq_r_s32(x, left), mult);
    x = vqaddq_s32(x, vshrq_n_s32(vandq_s32(x, right), 31));
    return vrshlq_s32(x, right);
}

static inline int32x4_t tg_add4_mve(const tg_add_params *p, int32x4_t x1, int32x4_t x2,
                                    int32x4_t r1, int32x4_t r2, int32x4_t ro)
{
    const int32_t l1 = p->in1_shift > 0 ? p->in1_shift : 0;
    const int32_t l2 = p->in2_shift > 0 ? p->in2_shift : 0;
    const int32_t lo = p->out_shift > 0 ? p->out_shift : 0;
    const int32x4_t s1 = tg_mve_requant_n(
        vshlq_r_s32(vaddq_n_s32(x1, p->in1_offset), p->left_shift), p->in1_mult, l1, r1);
    const int32x4_t s2 = tg_mve_requant_n(
        vshlq_r_s32(vaddq_n_s32(x2, p->in2_offset), p->left_shift), p->in2_mult, l2, r2);
    int32x4_t v = vaddq_n_s32(tg_mve_requant_n(vaddq_s32(s1, s2), p->out_mult, lo, ro),
                              p->out_offset);
    v = vmaxq_s32(v, vdupq_n_s32(p->act_min));
    return vminq_s32(v, vdupq_n_s32(p->act_max));
}

void tg_add_s8_mve(const tg_add_params *p, const int8_t *in1, const int8_t *in2,
                   int8_t *output)
{
    const int32_t n = p->shape.size;
    const int32x4_t r1 = vdupq_n_s32(p->in1_shift < 0 ? p->in1_shift : 0);
    const int32x4_t r2 = vdupq_n_s32(p->in2_shift < 0 ? p->in2_shift : 0);
    const int32x4_t ro = vdupq_n_s32(p->out_shift < 0 ? p->out_shift : 0);
    int32_t i = 0;
    for (; i + 4 <= n; i += 4) {
        vstrbq_s32(output + i, tg_add4_mve(p, vldrbq_s32(in1 + i), vldrbq_s32(in2 + i),
                                           r1, r2, ro));
    }
    if (i < n) {
        const mve_pred16_t pr = vctp32q((uint32_t)(n - i));
        vstrbq_p_s32(output + i, tg_add4_mve(p, vldrbq_z_s32(in1 + i, pr),
                                             vldrbq_z_s32(in2 + i, pr), r1, r2, ro), pr);
    }
}
