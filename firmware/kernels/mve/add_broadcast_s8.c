/*
 * Helium addition with TFLite broadcasting (the planner picks it for mve
 * layouts when the inputs' shapes differ; equal shapes keep tg_add_s8's own
 * Helium path), bit-exact with add_s8.c: the output is walked in row-major
 * order as tg_broadcast.h does, the innermost dimension 4 elements at a
 * time in int32 lanes through tg_add4_mve (tg_add_mve.h). An input with a
 * unit stride there is loaded contiguously; one broadcast along it (stride
 * 0) or with another stride is gathered (VLDRB gather, offsets i * stride).
 * The last step of a row is predicated.
 */
#include "tg_add_mve.h"
#include "tg_kernels.h"

#if TG_MVE

static inline int32x4_t add_bcast_load(const int8_t *base, int32_t stride, uint32x4_t offsets,
                                       mve_pred16_t pr)
{
    if (stride == 1) {
        return vldrbq_z_s32(base, pr);
    }
    return vldrbq_gather_offset_z_s32(base, offsets, pr);
}

void tg_add_bcast_s8_mve(const tg_add_params *p, const int8_t *in1, const int8_t *in2,
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
    if (!s->broadcast) {
        tg_add_s8_mve(p, in1, in2, output);
        return;
    }
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

#endif
