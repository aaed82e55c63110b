/* int8 RESIZE_NEAREST_NEIGHBOR and RESIZE_BILINEAR over height and width.
 * Input and output share their quantization, so neither requantizes; the
 * planner computes TFLM's source rows, columns and (bilinear) fixed-point
 * distances at build time, including the align-corners and half-pixel
 * rules. */
#include "tg_kernels.h"

void tg_resize_nearest_s8(const tg_resize_params *p, const int8_t *input,
                          const int32_t *rows, const int32_t *cols, int8_t *output)
{
    const int32_t c = p->channels;
    int32_t b;
    int32_t y;
    int32_t x;
    int32_t k;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *image = input + b * p->in_h * p->in_w * c;
        for (y = 0; y < p->out_h; ++y) {
            const int8_t *row = image + rows[y] * p->in_w * c;
            for (x = 0; x < p->out_w; ++x) {
                const int8_t *src = row + cols[x] * c;
                for (k = 0; k < c; ++k) {
                    *output++ = src[k];
                }
            }
        }
    }
}

/* Weights are (1024 - d) and d per axis, d the distance in 1/1024 from the
 * first source row (column); half-pixel centres make d negative at the top
 * and left edges, where both source rows (columns) are the same. The four
 * products stay within int32: |weights| sum to at most 2046^2 per output
 * and |input| <= 128. TFLM rounds the 2^20-scaled sum half away from zero. */
void tg_resize_bilinear_s8(const tg_resize_params *p, const int8_t *input,
                           const int32_t *rows, const int32_t *cols, int8_t *output)
{
    const int32_t c = p->channels;
    const int32_t row_bytes = p->in_w * c;
    int32_t b;
    int32_t y;
    int32_t x;
    int32_t k;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *image = input + b * p->in_h * row_bytes;
        for (y = 0; y < p->out_h; ++y) {
            const int8_t *top = image + rows[3 * y] * row_bytes;
            const int8_t *bottom = image + rows[3 * y + 1] * row_bytes;
            const int32_t dy = rows[3 * y + 2];
            for (x = 0; x < p->out_w; ++x) {
                const int32_t left = cols[3 * x] * c;
                const int32_t right = cols[3 * x + 1] * c;
                const int32_t dx = cols[3 * x + 2];
                const int32_t w_tl = (1024 - dy) * (1024 - dx);
                const int32_t w_bl = dy * (1024 - dx);
                const int32_t w_tr = (1024 - dy) * dx;
                const int32_t w_br = dy * dx;
                for (k = 0; k < c; ++k) {
                    const int32_t v = top[left + k] * w_tl + bottom[left + k] * w_bl
                                      + top[right + k] * w_tr + bottom[right + k] * w_br;
                    const int32_t r = (v + (v > 0 ? (1 << 19) : -(1 << 19))) / (1 << 20);
                    *output++ = (int8_t)r;
                }
            }
        }
    }
}
