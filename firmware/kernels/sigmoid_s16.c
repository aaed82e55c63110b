/* int16 LOGISTIC and TANH (TFLM's 16-bit forms): the input rescaled to
 * 1/(3 x 4096) per step, then sigmoid(|x|) interpolated in a 256-entry
 * Q0.16 table of sigmoid(i / 24) (built at build time), mirrored for
 * negative inputs; tanh(x) = 2 sigmoid(2x) - 1 reads the same table. */
#include "tg_kernels_s16.h"

static int32_t rescaled(const tg_sigmoid_s16_params *p, int32_t x)
{
    int32_t mult = p->input_mult;
    int32_t shift = p->input_left_shift;
    if (mult == 0) {           /* a power-of-two input scale */
        mult = 3 << shift;
        shift = 0;
    }
    return (x * mult + (shift > 0 ? 1 << (shift - 1) : 0)) >> shift;
}

void tg_logistic_s16(const tg_sigmoid_s16_params *p, const int16_t *input,
                     const uint16_t *table, int16_t *output)
{
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        const int32_t x = rescaled(p, input[i]);
        const uint32_t ax = (uint32_t)(x < 0 ? -x : x);
        const uint32_t step = ax >> 9;
        uint32_t y;
        if (step >= 255u) {
            y = 0x7FFFu << 10;
        } else {
            const uint32_t a = table[step];
            const uint32_t b = table[step + 1u];
            y = (a << 9) + (ax & 0x1ffu) * (b - a);
        }
        y = x >= 0 ? y + (1u << 9) : (1u << 25) - y + (1u << 9) - 1u;
        output[i] = (int16_t)(y >> 10);
    }
}

void tg_tanh_s16(const tg_sigmoid_s16_params *p, const int16_t *input,
                 const uint16_t *table, int16_t *output)
{
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        const int32_t x = rescaled(p, input[i]);
        const uint32_t ax = (uint32_t)(x < 0 ? -x : x);
        const uint32_t step = ax >> 8;
        int32_t y;
        if (step >= 255u) {
            y = 0xFFFF << 8;
        } else {
            const uint32_t a = table[step];
            const uint32_t b = table[step + 1u];
            y = (int32_t)((a << 8) + (ax & 0xffu) * (b - a));
        }
        y = x >= 0 ? y - (1 << 23) + (1 << 7) : -y + (1 << 23) + (1 << 7) - 1;
        output[i] = (int16_t)(y >> 8);
    }
}
