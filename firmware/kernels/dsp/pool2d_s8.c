/* int8 average pooling on cores with the DSP extension (Cortex-M4/M7/M33),
 * the variant of pool2d_s8.c's tg_avg_pool2d_s8 with the same arguments. */
#include <string.h>

#include "tg_fixedpoint.h"
#include "tg_kernels.h"
#include "tg_pool.h"

#if !TG_DSP
#error "firmware/kernels/dsp/ needs a compiler targeting the DSP extension (-mcpu=cortex-m4, m7, m33)"
#endif

/* Channels in groups of 4, windows of at most 255 values: each input word
 * is added into two words of int16 sums (SXTAB16, bytes 0/2 and 1/3),
 * which cannot overflow as |sum| <= 255 * 128 < 2^15. */
static inline void avg_pixel_dsp(const tg_pool_params *p, const pool_window *w, int8_t *out)
{
    const int32_t ch = p->channels;
    int32_t c;
    for (c = 0; c < ch; c += 4) {
        uint32_t s02 = 0;
        uint32_t s13 = 0;
        int32_t sums[4];
        int32_t y;
        int32_t x;
        int32_t k;
        for (y = 0; y < w->rows; ++y) {
            const int8_t *row = w->first + (size_t)y * w->row_step + (size_t)c;
            for (x = 0; x < w->cols; ++x) {
                uint32_t v;
                memcpy(&v, row + (size_t)x * (size_t)ch, 4);
                __asm__("sxtab16 %0, %0, %2\n\t"
                        "sxtab16 %1, %1, %2, ror #8"
                        : "+r"(s02), "+r"(s13)
                        : "r"(v));
            }
        }
        sums[0] = (int16_t)(s02 & 0xFFFFu);
        sums[1] = (int16_t)(s13 & 0xFFFFu);
        sums[2] = (int16_t)(s02 >> 16);
        sums[3] = (int16_t)(s13 >> 16);
        for (k = 0; k < 4; ++k) {
            out[c + k] = tg_clamp_s8(window_average(sums[k], w->count), p->act_min, p->act_max);
        }
    }
}

static void avg_pool_dsp(const tg_pool_params *p, const int8_t *input, int8_t *output)
{
    tg_pool_walk(p, input, output, avg_pixel_dsp);
}

/* Other layers take pool2d_s8.c's loop (tg_pool.h). */
void tg_avg_pool2d_s8_dsp(const tg_pool_params *p, const int8_t *input, int8_t *output)
{
    if (p->channels % 4 == 0 && p->k_h * p->k_w <= 255) {
        avg_pool_dsp(p, input, output);
        return;
    }
    tg_pool_walk(p, input, output, tg_avg_pool_pixel);
}
