/* int8 elementwise multiplication with TFLite broadcasting (up to 4 dimensions). */
#include "tg_broadcast.h"
#include "tg_fixedpoint.h"
#include "tg_kernels.h"

static int8_t mul_one(const void *params, int32_t x1, int32_t x2)
{
    const tg_mul_params *p = (const tg_mul_params *)params;
    const int32_t product = (x1 + p->in1_offset) * (x2 + p->in2_offset);
    return tg_clamp_s8(tg_requantize(product, p->out_mult, p->out_shift) + p->out_offset,
                       p->act_min, p->act_max);
}

void tg_mul_s8(const tg_mul_params *p, const int8_t *in1, const int8_t *in2,
               int8_t *output)
{
    tg_broadcast_binary_s8(&p->shape, mul_one, p, in1, in2, output);
}
