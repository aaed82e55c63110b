/* int8 elementwise addition with TFLite broadcasting (up to 4 dimensions):
 * both inputs are rescaled to a common scale with 20 bits of headroom,
 * summed, then requantized to the output scale. */
#include "tg_broadcast.h"
#include "tg_fixedpoint.h"
#include "tg_kernels.h"

static int8_t add_one(const void *params, int32_t x1, int32_t x2)
{
    const tg_add_params *p = (const tg_add_params *)params;
    return tg_clamp_s8(tg_add_value(p, x1, x2), p->act_min, p->act_max);
}

void tg_add_s8(const tg_add_params *p, const int8_t *in1, const int8_t *in2,
               int8_t *output)
{
    tg_broadcast_binary_s8(&p->shape, add_one, p, in1, in2, output);
}
