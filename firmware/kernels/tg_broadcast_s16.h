/* The output walk of the int16 elementwise kernels with two inputs
 * (tg_broadcast.h's for int16 values). */
#ifndef TG_BROADCAST_S16_H
#define TG_BROADCAST_S16_H

#include <stdint.h>

#include "tg_kernels.h"

typedef int16_t (*tg_binary_s16_fn)(const void *params, int32_t x1, int32_t x2);

static inline void tg_broadcast_binary_s16(const tg_broadcast4 *s, tg_binary_s16_fn fn,
                                           const void *params, const int16_t *in1,
                                           const int16_t *in2, int16_t *output)
{
    int32_t i0;
    int32_t i1;
    int32_t i2;
    int32_t i3;
    if (!s->broadcast) {
        int32_t i;
        for (i = 0; i < s->size; ++i) {
            output[i] = fn(params, in1[i], in2[i]);
        }
        return;
    }
    for (i0 = 0; i0 < s->out_shape[0]; ++i0) {
        for (i1 = 0; i1 < s->out_shape[1]; ++i1) {
            for (i2 = 0; i2 < s->out_shape[2]; ++i2) {
                const int16_t *a = in1 + i0 * s->in1_strides[0] + i1 * s->in1_strides[1] + i2 * s->in1_strides[2];
                const int16_t *b = in2 + i0 * s->in2_strides[0] + i1 * s->in2_strides[1] + i2 * s->in2_strides[2];
                for (i3 = 0; i3 < s->out_shape[3]; ++i3) {
                    *output++ = fn(params, a[i3 * s->in1_strides[3]], b[i3 * s->in2_strides[3]]);
                }
            }
        }
    }
}

#endif
