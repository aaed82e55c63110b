/*
 * The int8 dot product of the DSP variants of the grouped and transposed
 * convolutions (dsp/conv2d_grouped_s8.c, dsp/transpose_conv_s8.c): 4 bytes
 * of each operand per load, SXTB16 of the even and (rotated) odd bytes,
 * two SMLAD: 4 MACs in 8 instructions. Loads go through memcpy (one LDR,
 * unaligned as the rows of a layer whose window is not a multiple of 4
 * bytes are).
 */
#ifndef TG_DOT_DSP_H
#define TG_DOT_DSP_H

#include <string.h>

#include "tg_fixedpoint.h"

#if !TG_DSP
#error "firmware/kernels/dsp/ needs a compiler targeting the DSP extension (-mcpu=cortex-m4, m7, m33)"
#endif

static inline int32_t tg_dot_sxtb16_ror8(int32_t v)
{
    int32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(v));
    return r;
}

static inline int32_t tg_dot_s8_dsp(const int8_t *a, const int8_t *b, int32_t n, int32_t acc)
{
    int32_t i = 0;
    for (; i + 4 <= n; i += 4) {
        int32_t va;
        int32_t vb;
        memcpy(&va, a + i, 4);
        memcpy(&vb, b + i, 4);
        acc = __smlad(__sxtb16(va), __sxtb16(vb), acc);
        acc = __smlad(tg_dot_sxtb16_ror8(va), tg_dot_sxtb16_ror8(vb), acc);
    }
    for (; i < n; ++i) {
        acc += (int32_t)a[i] * b[i];
    }
    return acc;
}

#endif
