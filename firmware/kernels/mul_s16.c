/* int16 elementwise multiplication with TFLite broadcasting: the product of
 * two int16 values (zero points 0) fits int32 and is requantized once. */
#include "tg_broadcast.h"
#include "tg_fixedpoint.h"
#include "tg_kernels_s16.h"

static int16_t mul_one(const void *params, int32_t x1, int32_t x2)
{
    const tg_mul_params *p = (const tg_mul_params *)params;
    const int32_t product = (x1 + p->in1_offset) * (x2 + p->in2_offset);
    return tg_clamp_s16(tg_requantize(product, p->out_mult, p->out_shift) + p->out_offset,
                        p->act_min, p->act_max);
}

void tg_mul_s16(const tg_mul_params *p, const int16_t *in1, const int16_t *in2,
                int16_t *output)
{
    tg_broadcast_binary_s16(&p->shape, mul_one, p, in1, in2, output);
}
