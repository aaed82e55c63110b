/* int8 softmax (output scale 1/256, zero point -128), bit-exact with the
 * gemmlowp fixed-point path TFLM uses. exp() of every possible difference
 * to the row maximum is tabulated at build time; the reciprocal of the sum
 * is computed here with the same Newton-Raphson steps as TFLM. */
#include "tg_fixedpoint.h"
#include "tg_kernels.h"

#define TG_ACCUM_INTEGER_BITS 12

void tg_softmax_s8(const tg_softmax_params *p, const int8_t *input,
                   const int32_t *exp_table, int8_t *output)
{
    int32_t r;
    int32_t c;
    for (r = 0; r < p->rows; ++r) {
        int32_t max_v = -128;
        int32_t sum = 0;
        int32_t headroom;
        int32_t bits_over_unit;
        int32_t scale;
        for (c = 0; c < p->depth; ++c) {
            if (input[c] > max_v) {
                max_v = input[c];
            }
        }
        for (c = 0; c < p->depth; ++c) {
            sum += tg_rounding_shift_right(exp_table[max_v - input[c]], TG_ACCUM_INTEGER_BITS);
        }
        headroom = (int32_t)__builtin_clz((uint32_t)sum);
        bits_over_unit = TG_ACCUM_INTEGER_BITS - headroom;
        scale = tg_one_over_one_plus_x((int32_t)(((uint32_t)sum << headroom) - (((uint32_t)1) << 31)));
        for (c = 0; c < p->depth; ++c) {
            const int32_t e = exp_table[max_v - input[c]];
            const int32_t v = tg_rounding_shift_right(tg_srdhm(scale, e), bits_over_unit + 31 - 8) - 128;
            output[c] = tg_clamp_s8(v, -128, 127);
        }
        input += p->depth;
        output += p->depth;
    }
}
