/* float <-> int16 conversions at the edges of 16x8 models (which keep
 * float32 input and output by default). */
#include "tg_affine.h"
#include "tg_kernels_s16.h"

void tg_quantize_f32_s16(const tg_affine_params *p, const float *input, int16_t *output)
{
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        const int32_t r = tg_quantize_round(input[i], p->scale, 1.0e7f);
        output[i] = tg_clamp_s16(r + p->zero_point, -32768, 32767);
    }
}

void tg_dequantize_s16_f32(const tg_affine_params *p, const int16_t *input, float *output)
{
    int32_t i;
    /* scale * (x - zp) needs at most 41 bits: exact in double, so one
     * rounding to float, as TFLM's double computation. */
    for (i = 0; i < p->size; ++i) {
        output[i] = p->scale * (float)((int32_t)input[i] - p->zero_point);
    }
}
