/* int16 softmax (output scale 1/32768, zero point 0), TFLM's 16-bit form:
 * exp() of the scaled difference to the row maximum and 1 / (1 + x) from
 * two 513-entry tables with linear interpolation (built at build time),
 * the reciprocal of the sum normalised by its leading zeros. */
#include "tg_fixedpoint.h"
#include "tg_kernels_s16.h"

/* TFLM's interpolated lookup: 9 bits of index, 7 of interpolation. */
static int16_t lookup513(int32_t value, const int16_t *lut)
{
    const int32_t index = 256 + (value >> 7);
    const int32_t offset = value & 0x7f;
    const int32_t base = lut[index];
    const int32_t slope = lut[index + 1] - base;
    return (int16_t)(base + ((slope * offset + 64) >> 7));
}

static int32_t clamp_i16_range(int32_t v)
{
    return v < -32768 ? -32768 : v > 32767 ? 32767 : v;
}

static int32_t leading_zeros(uint32_t v)
{
    int32_t n = 0;
    if (v == 0u) {
        return 32;
    }
    while (!(v & 0x80000000u)) {
        v <<= 1;
        ++n;
    }
    return n;
}

void tg_softmax_s16(const tg_softmax_s16_params *p, const int16_t *input,
                    const int16_t *exp_lut, const int16_t *recip_lut, int16_t *output)
{
    int32_t r;
    int32_t c;
    for (r = 0; r < p->rows; ++r) {
        const int16_t *x = input + (size_t)r * (size_t)p->depth;
        int16_t *y = output + (size_t)r * (size_t)p->depth;
        int32_t max = INT16_MIN;
        int32_t sum = 0;
        int32_t headroom;
        int32_t shifted;
        int32_t recip;
        int32_t right;
        for (c = 0; c < p->depth; ++c) {
            max = x[c] > max ? x[c] : max;
        }
        /* The output row holds the exps until they are rescaled. */
        for (c = 0; c < p->depth; ++c) {
            const int32_t scaled = tg_requantize(x[c] - max, p->input_mult, p->input_shift);
            y[c] = lookup513(clamp_i16_range(scaled + 32767), exp_lut);
            sum += y[c];
        }
        headroom = leading_zeros((uint32_t)sum);
        shifted = (int32_t)((((int64_t)sum << (headroom - 1)) + (1 << 13)) >> 14);
        recip = lookup513(clamp_i16_range(shifted - ((1 << 15) + (1 << 16))), recip_lut);
        right = 31 - headroom;
        for (c = 0; c < p->depth; ++c) {
            const int32_t v = (int32_t)(((int64_t)y[c] * (int64_t)recip + ((int64_t)1 << (right - 1))) >> right);
            y[c] = (int16_t)(v < 0 ? 0 : v > 32767 ? 32767 : v);
        }
    }
}
