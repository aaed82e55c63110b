/* int16 elementwise addition with TFLite broadcasting (TFLM's general-scale
 * 16-bit path): both inputs rescaled to a common scale with 15 bits of
 * headroom, summed, requantized to the output scale. */
#include "tg_broadcast.h"
#include "tg_fixedpoint.h"
#include "tg_kernels_s16.h"

static int16_t add_one(const void *params, int32_t x1, int32_t x2)
{
    const tg_add_params *p = (const tg_add_params *)params;
    return tg_clamp_s16(tg_add_value(p, x1, x2), p->act_min, p->act_max);
}

void tg_add_s16(const tg_add_params *p, const int16_t *in1, const int16_t *in2,
                int16_t *output)
{
    tg_broadcast_binary_s16(&p->shape, add_one, p, in1, in2, output);
}
