/* Operators that only move int8 bytes: concatenation and constant padding. */
#include <string.h>

#include "tg_kernels.h"

void tg_concat_s8(const tg_concat_params *p, const int8_t *const *inputs, int8_t *output)
{
    int32_t o;
    int32_t i;
    for (o = 0; o < p->outer; ++o) {
        int8_t *dst = output + (size_t)o * (size_t)p->out_inner;
        for (i = 0; i < p->count; ++i) {
            const size_t n = (size_t)p->in_inner[i];
            memcpy(dst, inputs[i] + (size_t)o * n, n);
            dst += n;
        }
    }
}

void tg_pad_s8(const tg_pad_params *p, const int8_t *input, int8_t *output)
{
    const size_t out_total = (size_t)p->out_shape[0] * (size_t)p->out_shape[1] *
                             (size_t)p->out_shape[2] * (size_t)p->out_shape[3];
    const size_t row = (size_t)p->in_shape[3];
    int32_t a;
    int32_t b;
    int32_t c;
    memset(output, p->value, out_total);
    for (a = 0; a < p->in_shape[0]; ++a) {
        for (b = 0; b < p->in_shape[1]; ++b) {
            for (c = 0; c < p->in_shape[2]; ++c) {
                const size_t dst = ((((size_t)(a + p->before[0]) * (size_t)p->out_shape[1] +
                                      (size_t)(b + p->before[1])) * (size_t)p->out_shape[2] +
                                     (size_t)(c + p->before[2])) * (size_t)p->out_shape[3]) +
                                   (size_t)p->before[3];
                memcpy(output + dst, input, row);
                input += row;
            }
        }
    }
}
