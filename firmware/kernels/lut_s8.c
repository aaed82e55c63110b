/* int8 elementwise functions by table: LOGISTIC, TANH, HARD_SWISH, LEAKY_RELU.
 * The planner (tinygen/plan/lut.py) runs TFLM's integer arithmetic for all
 * 256 input bytes at build time; table[x + 128] is the output for input x. */
#include "tg_kernels.h"

void tg_lut_s8(const tg_lut_params *p, const int8_t *input, const int8_t *table,
               int8_t *output)
{
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        output[i] = table[(int32_t)input[i] + 128];
    }
}
