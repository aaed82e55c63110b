/* int8 maximum over any set of dimensions of a tensor of up to 4. Input and
 * output share their quantization (TFLM requires it), so no requantization. */
#include "tg_kernels.h"

void tg_reduce_max_s8(const tg_reduce_params *p, const int8_t *input, int8_t *output)
{
    int32_t i;
    int32_t d0;
    int32_t d1;
    int32_t d2;
    int32_t d3;
    for (i = 0; i < p->out_size; ++i) {
        output[i] = -128;
    }
    for (d0 = 0; d0 < p->in_shape[0]; ++d0) {
        for (d1 = 0; d1 < p->in_shape[1]; ++d1) {
            for (d2 = 0; d2 < p->in_shape[2]; ++d2) {
                int8_t *row = output + d0 * p->out_strides[0] + d1 * p->out_strides[1]
                              + d2 * p->out_strides[2];
                for (d3 = 0; d3 < p->in_shape[3]; ++d3) {
                    const int8_t v = *input++;
                    int8_t *o = row + d3 * p->out_strides[3];
                    if (v > *o) {
                        *o = v;
                    }
                }
            }
        }
    }
}
