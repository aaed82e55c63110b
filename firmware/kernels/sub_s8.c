/* int8 elementwise subtraction with TFLite broadcasting (up to 4 dimensions):
 * ADD's arithmetic (both inputs rescaled to a common scale with 20 bits of
 * headroom, then requantized) with the second input subtracted. */
#include "tg_broadcast.h"
#include "tg_fixedpoint.h"
#include "tg_kernels.h"

static int8_t sub_one(const void *params, int32_t x1, int32_t x2)
{
    const tg_add_params *p = (const tg_add_params *)params;
    const int32_t s1 = tg_add_rescale(p, x1, p->in1_offset, p->in1_mult, p->in1_shift);
    const int32_t s2 = tg_add_rescale(p, x2, p->in2_offset, p->in2_mult, p->in2_shift);
    const int32_t diff = tg_requantize(s1 - s2, p->out_mult, p->out_shift) + p->out_offset;
    return tg_clamp_s8(diff, p->act_min, p->act_max);
}

void tg_sub_s8(const tg_add_params *p, const int8_t *in1, const int8_t *in2, int8_t *output)
{
    tg_broadcast_binary_s8(&p->shape, sub_one, p, in1, in2, output);
}
