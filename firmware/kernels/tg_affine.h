/* The rounding of float -> int conversions at the edges of models that keep
 * float I/O (affine_quant.c, affine_quant_s16.c). */
#ifndef TG_AFFINE_H
#define TG_AFFINE_H

#include <stdint.h>

/* x / scale rounded half away from zero, as TFLM's quantize does, held to
 * +-limit first (NaN gives 0): out-of-range values saturate anyway, and the
 * float -> int cast stays defined. limit is below 2^23, where q - (float)r
 * is exact. */
static inline int32_t tg_quantize_round(float x, float scale, float limit)
{
    float q = x / scale;
    float frac;
    int32_t r;
    if (!(q < limit)) {
        q = q != q ? 0.0f : limit;
    }
    if (q < -limit) {
        q = -limit;
    }
    r = (int32_t)q;
    frac = q - (float)r;
    if (frac >= 0.5f) {
        r += 1;
    } else if (frac <= -0.5f) {
        r -= 1;
    }
    return r;
}

#endif
