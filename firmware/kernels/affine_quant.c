/* float <-> int8 conversions at the edges of models that keep float I/O. */
#include "tg_affine.h"
#include "tg_fixedpoint.h"
#include "tg_kernels.h"

void tg_quantize_f32_s8(const tg_affine_params *p, const float *input, int8_t *output)
{
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        const int32_t r = tg_quantize_round(input[i], p->scale, 1.0e6f);
        output[i] = tg_clamp_s8(r + p->zero_point, -128, 127);
    }
}

void tg_dequantize_s8_f32(const tg_affine_params *p, const int8_t *input, float *output)
{
    int32_t i;
    /* scale * (x - zp) is exact before the final rounding to float, so
     * float arithmetic matches TFLM's double computation bit for bit. */
    for (i = 0; i < p->size; ++i) {
        output[i] = p->scale * (float)((int32_t)input[i] - p->zero_point);
    }
}
