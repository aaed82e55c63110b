/* int8 TILE: the input repeated along each dimension (a copy; TILE keeps the
 * quantization). The output is written in order; each output row of the
 * innermost dimension reads one input row, wrapping around it. */
#include "tg_kernels.h"

void tg_tile_s8(const tg_tile_params *p, const int8_t *input, int8_t *output)
{
    const int32_t last = TG_TILE_MAX_RANK - 1;
    const int32_t row = p->in_shape[last];
    int32_t index[TG_TILE_MAX_RANK - 1] = {0};
    int32_t in_strides[TG_TILE_MAX_RANK];
    int32_t rows = 1;
    int32_t d;
    int32_t r;
    in_strides[last] = 1;
    for (d = last - 1; d >= 0; --d) {
        in_strides[d] = in_strides[d + 1] * p->in_shape[d + 1];
        rows *= p->out_shape[d];
    }
    for (r = 0; r < rows; ++r) {
        const int8_t *src = input;
        int32_t k = 0;
        int32_t i;
        for (d = 0; d < last; ++d) {
            src += (index[d] % p->in_shape[d]) * in_strides[d];
        }
        for (i = 0; i < p->out_shape[last]; ++i) {
            *output++ = src[k];
            if (++k == row) {
                k = 0;
            }
        }
        for (d = last - 1; d >= 0; --d) {
            if (++index[d] < p->out_shape[d]) {
                break;
            }
            index[d] = 0;
        }
    }
}
