/* The output walk shared by elementwise kernels with two inputs, one per
 * element type: tg_broadcast_binary_s8 (int8) and tg_broadcast_binary_s16
 * (int16), and the input rescaling of ADD and SUB. */
#ifndef TG_BROADCAST_H
#define TG_BROADCAST_H

#include <stdint.h>

#include "tg_fixedpoint.h"
#include "tg_kernels.h"

/* Defines tg_binary_<sfx>_fn, one output element of type T from one element
 * of each input, and tg_broadcast_binary_<sfx>, which applies fn over the
 * output in row-major order, reading each input through its strides (0 on a
 * broadcast dimension). Inline, so each kernel's fn is a direct call the
 * compiler can inline in turn. */
#define TG_BROADCAST_BINARY(sfx, T)                                                            \
    typedef T (*tg_binary_##sfx##_fn)(const void *params, int32_t x1, int32_t x2);             \
                                                                                               \
    static inline void tg_broadcast_binary_##sfx(const tg_broadcast4 *s, tg_binary_##sfx##_fn fn, \
                                                 const void *params, const T *in1,             \
                                                 const T *in2, T *output)                      \
    {                                                                                          \
        int32_t i0;                                                                            \
        int32_t i1;                                                                            \
        int32_t i2;                                                                            \
        int32_t i3;                                                                            \
        if (!s->broadcast) {                                                                   \
            int32_t i;                                                                         \
            for (i = 0; i < s->size; ++i) {                                                    \
                output[i] = fn(params, in1[i], in2[i]);                                        \
            }                                                                                  \
            return;                                                                            \
        }                                                                                      \
        for (i0 = 0; i0 < s->out_shape[0]; ++i0) {                                             \
            for (i1 = 0; i1 < s->out_shape[1]; ++i1) {                                         \
                for (i2 = 0; i2 < s->out_shape[2]; ++i2) {                                     \
                    const T *a = in1 + i0 * s->in1_strides[0] + i1 * s->in1_strides[1]         \
                                 + i2 * s->in1_strides[2];                                     \
                    const T *b = in2 + i0 * s->in2_strides[0] + i1 * s->in2_strides[1]         \
                                 + i2 * s->in2_strides[2];                                     \
                    for (i3 = 0; i3 < s->out_shape[3]; ++i3) {                                 \
                        *output++ = fn(params, a[i3 * s->in1_strides[3]],                      \
                                       b[i3 * s->in2_strides[3]]);                             \
                    }                                                                          \
                }                                                                              \
            }                                                                                  \
        }                                                                                      \
    }

TG_BROADCAST_BINARY(s8, int8_t)
TG_BROADCAST_BINARY(s16, int16_t)

/* An ADD or SUB input x (offset: its zero point negated) on the common
 * scale: shifted left by left_shift (20 bits of headroom for int8, 15 for
 * int16), then requantized. */
static inline int32_t tg_add_rescale(const tg_add_params *p, int32_t x, int32_t offset,
                                     int32_t mult, int32_t shift)
{
    return tg_requantize((int32_t)((uint32_t)(x + offset) << p->left_shift), mult, shift);
}

/* ADD's output before its clamp: the rescaled inputs summed, requantized
 * to the output scale. */
static inline int32_t tg_add_value(const tg_add_params *p, int32_t x1, int32_t x2)
{
    const int32_t s1 = tg_add_rescale(p, x1, p->in1_offset, p->in1_mult, p->in1_shift);
    const int32_t s2 = tg_add_rescale(p, x2, p->in2_offset, p->in2_mult, p->in2_shift);
    return tg_requantize(s1 + s2, p->out_mult, p->out_shift) + p->out_offset;
}

#endif
