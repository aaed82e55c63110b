/*
 * int8 elementwise addition on the Cortex-M55 (Helium, see tg_mve.h), the
 * variant of add_s8.c with the same arguments, with or without broadcasting:
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

static inline int32x4_t add_bcast_load(const int8_t *base, int32_t stride, uint32x4_t offsets,
                                       mve_pred16_t pr)
{
    if (stride == 1) {
        return vldrbq_z_s32(base, pr);
    }
    return vldrbq_gather_offset_z_s32(base, offsets, pr);
}

static void add_same_shape(const tg_add_params *p, const int8_t *in1, const int8_t *in2,
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

/* Broadcasting: the output in row-major order as tg_broadcast.h walks it,
 * the innermost dimension 4 elements at a time; an input with a unit
 * stride there is loaded contiguously, one broadcast along it (stride 0) or
 * with another stride is gathered (VLDRB gather, offsets i * stride); the
 * last step of a row is predicated. */
static void add_broadcast(const tg_add_params *p, const int8_t *in1, const int8_t *in2,
                          int8_t *output)
{
    const tg_broadcast4 *s = &p->shape;
    const int32x4_t r1 = vdupq_n_s32(p->in1_shift < 0 ? p->in1_shift : 0);
    const int32x4_t r2 = vdupq_n_s32(p->in2_shift < 0 ? p->in2_shift : 0);
    const int32x4_t ro = vdupq_n_s32(p->out_shift < 0 ? p->out_shift : 0);
    const int32_t n = s->out_shape[3];
    const int32_t st1 = s->in1_strides[3];
    const int32_t st2 = s->in2_strides[3];
    const uint32x4_t lanes = vidupq_n_u32(0, 1);
    const uint32x4_t off1 = vmulq_n_u32(lanes, (uint32_t)st1);
    const uint32x4_t off2 = vmulq_n_u32(lanes, (uint32_t)st2);
    int32_t i0;
    int32_t i1;
    int32_t i2;
    int32_t i3;
    for (i0 = 0; i0 < s->out_shape[0]; ++i0) {
        for (i1 = 0; i1 < s->out_shape[1]; ++i1) {
            for (i2 = 0; i2 < s->out_shape[2]; ++i2) {
                const int8_t *a = in1 + i0 * s->in1_strides[0] + i1 * s->in1_strides[1]
                                  + i2 * s->in1_strides[2];
                const int8_t *b = in2 + i0 * s->in2_strides[0] + i1 * s->in2_strides[1]
                                  + i2 * s->in2_strides[2];
                for (i3 = 0; i3 < n; i3 += 4) {
                    const mve_pred16_t pr = vctp32q((uint32_t)(n - i3));
                    const int32x4_t x1 = add_bcast_load(a + i3 * st1, st1, off1, pr);
                    const int32x4_t x2 = add_bcast_load(b + i3 * st2, st2, off2, pr);
                    vstrbq_p_s32(output + i3, tg_add4_mve(p, x1, x2, r1, r2, ro), pr);
                }
                output += n;
            }
        }
    }
}

void tg_add_s8_mve(const tg_add_params *p, const int8_t *in1, const int8_t *in2,
                   int8_t *output)
{
    if (p->shape.broadcast) {
        add_broadcast(p, in1, in2, output);
    } else {
        add_same_shape(p, in1, in2, output);
    }
}
