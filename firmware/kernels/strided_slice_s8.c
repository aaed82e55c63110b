/* int8 STRIDED_SLICE of a run-time tensor (a crop, a sub-sampling): begin,
 * end and strides are known at build time, so the planner resolves masks,
 * negative indices and clamping into a start offset and one input step per
 * output dimension. A copy: the slice keeps the quantization. */
#include "tg_kernels.h"

void tg_strided_slice_s8(const tg_slice_params *p, const int8_t *input, int8_t *output)
{
    const int32_t last = TG_SLICE_MAX_RANK - 1;
    int32_t index[TG_SLICE_MAX_RANK - 1] = {0};
    int32_t rows = 1;
    int32_t d;
    int32_t r;
    for (d = 0; d < last; ++d) {
        rows *= p->out_shape[d];
    }
    for (r = 0; r < rows; ++r) {
        const int8_t *src = input + p->start;
        int32_t i;
        for (d = 0; d < last; ++d) {
            src += index[d] * p->steps[d];
        }
        for (i = 0; i < p->out_shape[last]; ++i) {
            *output++ = *src;
            src += p->steps[last];
        }
        for (d = last - 1; d >= 0; --d) {
            if (++index[d] < p->out_shape[d]) {
                break;
            }
            index[d] = 0;
        }
    }
}
