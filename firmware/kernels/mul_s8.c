/* int8 elementwise multiplication with TFLite broadcasting (up to 4 dimensions). */
#include "tg_fixedpoint.h"
#include "tg_kernels.h"

static int8_t mul_one(const tg_mul_params *p, int32_t x1, int32_t x2)
{
    const int32_t product = (x1 + p->in1_offset) * (x2 + p->in2_offset);
    return tg_clamp_s8(tg_requantize(product, p->out_mult, p->out_shift) + p->out_offset,
                       p->act_min, p->act_max);
}

void tg_mul_s8(const tg_mul_params *p, const int8_t *in1, const int8_t *in2,
               int8_t *output)
{
    int32_t i0;
    int32_t i1;
    int32_t i2;
    int32_t i3;
    if (!p->broadcast) {
        int32_t i;
        for (i = 0; i < p->size; ++i) {
            output[i] = mul_one(p, in1[i], in2[i]);
        }
        return;
    }
    for (i0 = 0; i0 < p->out_shape[0]; ++i0) {
        for (i1 = 0; i1 < p->out_shape[1]; ++i1) {
            for (i2 = 0; i2 < p->out_shape[2]; ++i2) {
                const int8_t *a = in1 + i0 * p->in1_strides[0] + i1 * p->in1_strides[1] + i2 * p->in1_strides[2];
                const int8_t *b = in2 + i0 * p->in2_strides[0] + i1 * p->in2_strides[1] + i2 * p->in2_strides[2];
                for (i3 = 0; i3 < p->out_shape[3]; ++i3) {
                    *output++ = mul_one(p, a[i3 * p->in1_strides[3]], b[i3 * p->in2_strides[3]]);
                }
            }
        }
    }
}
