/*
 * int8 average and max pooling on the Cortex-M55 (Helium, see tg_mve.h), the
 * variants of pool2d_s8.c with the same arguments, bit-exact with it: the
 * window is clipped to the image the same way (tg_pool.h), the average
 * divides the sum of the values inside it by their count and rounds half
 * away from zero.
 *
 * Channels run 16 at a time for the maximum (VMAX.S8) and 4 at a time in
 * int32 lanes for the average; the last group is predicated, so any channel
 * count works and nothing is read or written past the tensor.
 *
 * The division: for a window of c <= 509 values, |sum| + c/2 < 2^16, and
 * with m = ceil(2^32 / c) the high word of (|sum| + c/2) * m (VMULH.U32) is
 * exactly floor((|sum| + c/2) / c): m*c - 2^32 < c, so the error term stays
 * under 1/c (exact division by invariant integers, Granlund and
 * Montgomery). The sign is put back after, as C's truncating division does.
 * Larger windows divide lane by lane.
 */
#include "tg_fixedpoint.h"
#include "tg_kernels.h"
#include "tg_mve.h"
#include "tg_pool.h"

#define TG_POOL_MVE_EXACT_COUNT 509

/* (|s| + c/2) / c with the sign of s, lane by lane; m = ceil(2^32 / c). */
static inline int32x4_t pool_average4(int32x4_t s, int32_t count, uint32_t m)
{
    const mve_pred16_t negative = vcmpltq_n_s32(s, 0);
    const uint32x4_t a = vreinterpretq_u32_s32(vaddq_n_s32(vabsq_s32(s), count / 2));
    const int32x4_t q = vreinterpretq_s32_u32(vmulhq_u32(a, vdupq_n_u32(m)));
    return vpselq_s32(vnegq_s32(q), q, negative);
}

static inline void avg_pixel_mve(const tg_pool_params *p, const pool_window *w, int8_t *out)
{
    const int32_t ch = p->channels;
    const int32_t count = w->count;
    /* ceil(2^32 / count); count 1 needs no division (m unused). */
    const uint32_t m = count > 1 ? (uint32_t)(0xFFFFFFFFu / (uint32_t)count) + 1u : 0u;
    int32_t c;
    for (c = 0; c < ch; c += 4) {
        const mve_pred16_t pr = vctp32q((uint32_t)(ch - c));
        int32x4_t sum = vdupq_n_s32(0);
        int32_t y;
        int32_t x;
        for (y = 0; y < w->rows; ++y) {
            const int8_t *px = w->first + (size_t)y * w->row_step + (size_t)c;
            for (x = 0; x < w->cols; ++x, px += ch) {
                sum = vaddq_s32(sum, vldrbq_z_s32(px, pr));
            }
        }
        if (count > 1 && count <= TG_POOL_MVE_EXACT_COUNT) {
            sum = pool_average4(sum, count, m);
        } else if (count > 1) {
            int32_t lanes[4];
            int32_t k;
            vstrwq_s32(lanes, sum);
            for (k = 0; k < 4; ++k) {
                lanes[k] = window_average(lanes[k], count);
            }
            sum = vldrwq_s32(lanes);
        }
        sum = vmaxq_s32(sum, vdupq_n_s32(p->act_min));
        sum = vminq_s32(sum, vdupq_n_s32(p->act_max));
        vstrbq_p_s32(out + c, sum, pr);
    }
}

void tg_avg_pool2d_s8_mve(const tg_pool_params *p, const int8_t *input, int8_t *output)
{
    tg_pool_walk(p, input, output, avg_pixel_mve);
}

static inline void max_pixel_mve(const tg_pool_params *p, const pool_window *w, int8_t *out)
{
    const int32_t ch = p->channels;
    const int8x16_t lo = vdupq_n_s8((int8_t)p->act_min);
    const int8x16_t hi = vdupq_n_s8((int8_t)p->act_max);
    int32_t c;
    for (c = 0; c < ch; c += 16) {
        const mve_pred16_t pr = vctp8q((uint32_t)(ch - c));
        int8x16_t best = vdupq_n_s8(-128);
        int32_t y;
        int32_t x;
        for (y = 0; y < w->rows; ++y) {
            const int8_t *px = w->first + (size_t)y * w->row_step + (size_t)c;
            for (x = 0; x < w->cols; ++x, px += ch) {
                best = vmaxq_s8(best, vldrbq_z_s8(px, pr));
            }
        }
        vstrbq_p_s8(out + c, vminq_s8(vmaxq_s8(best, lo), hi), pr);
    }
}

void tg_max_pool2d_s8_mve(const tg_pool_params *p, const int8_t *input, int8_t *output)
{
    tg_pool_walk(p, input, output, max_pixel_mve);
}
