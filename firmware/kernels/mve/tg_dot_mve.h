/*
 * The int8 dot product of the Helium variants of the grouped and transposed
 * convolutions (mve/conv2d_grouped_s8.c, mve/transpose_conv_s8.c): 16 bytes
 * of each operand per VLDRB, one VMLADAVA.S8 (16 MACs), the last partial
 * vector predicated by VCTP (lanes past n load and add nothing). VLDRB
 * needs no alignment.
 */
#ifndef TG_DOT_MVE_H
#define TG_DOT_MVE_H

#include "tg_fixedpoint.h"

#if !defined(__ARM_FEATURE_MVE) || !__ARM_FEATURE_MVE
#error "firmware/kernels/mve/ needs a compiler targeting Helium (-mcpu=cortex-m55 without +nomve)"
#endif
#include <arm_mve.h>

static inline int32_t tg_dot_s8_mve(const int8_t *a, const int8_t *b, int32_t n, int32_t acc)
{
    for (; n >= 16; n -= 16, a += 16, b += 16) {
        acc = vmladavaq_s8(acc, vldrbq_s8(a), vldrbq_s8(b));
    }
    if (n > 0) {
        const mve_pred16_t lanes = vctp8q((uint32_t)n);
        acc = vmladavaq_p_s8(acc, vldrbq_z_s8(a, lanes), vldrbq_z_s8(b, lanes), lanes);
    }
    return acc;
}

#endif
