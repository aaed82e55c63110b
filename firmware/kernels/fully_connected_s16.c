/* int16x8 fully connected (TFLM's 16x8 FullyConnected, per tensor or per
 * channel): filter [out][in], 64-bit accumulator (32-bit for an int32 bias). */
#include "tg_fixedpoint.h"
#include "tg_kernels_s16.h"

#define TG_S16_CHUNK 256

void tg_fully_connected_s16(const tg_fc_s16_params *p, const int16_t *input,
                            const int8_t *filter, const int64_t *bias, const int32_t *mult,
                            const int32_t *shift, int16_t *output)
{
    int32_t b;
    int32_t o;
    for (b = 0; b < p->batches; ++b) {
        const int16_t *x = input + (size_t)b * (size_t)p->in_depth;
        for (o = 0; o < p->out_depth; ++o) {
            const int8_t *w = filter + (size_t)o * (size_t)p->in_depth;
            int64_t acc = bias[o];
            int32_t done = 0;
            int32_t acc_out;
            while (done < p->in_depth) {
                /* Products are below 2^22: 256 of them fit an int32 sum. */
                const int32_t end = p->in_depth - done < TG_S16_CHUNK ? p->in_depth : done + TG_S16_CHUNK;
                int32_t part = 0;
                int32_t i;
                for (i = done; i < end; ++i) {
                    part += (int32_t)x[i] * (int32_t)w[i];
                }
                acc += part;
                done = end;
            }
            acc_out = p->acc32 ? tg_requantize((int32_t)acc, mult[o], shift[o])
                               : tg_rescale64(acc, mult[o], shift[o]);
            *output++ = tg_clamp_s16(acc_out, p->act_min, p->act_max);
        }
    }
}
