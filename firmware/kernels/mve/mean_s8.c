/*
 * int8 mean over the spatial axes on the Cortex-M55 (Helium, see tg_mve.h),
 * the variant of mean_s8.c with the same arguments, bit-exact with it: each channel's int32 sum minus the input zero
 * point times the count, requantized (tg_requantize, lane by lane: tg_mve_requant_n of
 * tg_mve.h) and offset to the output zero point. Channels run 4 at a
 * time in int32 lanes, the last group predicated; the sums of up to 16
 * channels are kept in registers, so each pixel's bytes are read once per
 * 16 channels.
 */
#include "tg_fixedpoint.h"
#include "tg_kernels.h"
#include "tg_mve.h"

static inline void mean_store4(const tg_mean_params *p, int32x4_t sum, int32x4_t right,
                               int32_t left, int8_t *out, mve_pred16_t pr)
{
    int32x4_t v = tg_mve_requant_n(vsubq_n_s32(sum, p->input_offset_sum), p->mult, left, right);
    v = vaddq_n_s32(v, p->output_zero_point);
    v = vmaxq_s32(v, vdupq_n_s32(-128));
    vstrbq_p_s32(out, vminq_s32(v, vdupq_n_s32(127)), pr);
}

void tg_mean_hw_s8_mve(const tg_mean_params *p, const int8_t *input, int8_t *output)
{
    const int32_t ch = p->channels;
    const int32_t left = p->shift > 0 ? p->shift : 0;
    const int32x4_t right = vdupq_n_s32(p->shift < 0 ? p->shift : 0);
    int32_t b;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *image = input + (size_t)b * (size_t)p->hw * (size_t)ch;
        int32_t c;
        for (c = 0; c < ch; c += 16) {
            const mve_pred16_t p0 = vctp32q((uint32_t)(ch - c));
            const mve_pred16_t p1 = vctp32q((uint32_t)(ch - c > 4 ? ch - c - 4 : 0));
            const mve_pred16_t p2 = vctp32q((uint32_t)(ch - c > 8 ? ch - c - 8 : 0));
            const mve_pred16_t p3 = vctp32q((uint32_t)(ch - c > 12 ? ch - c - 12 : 0));
            int32x4_t s0 = vdupq_n_s32(0);
            int32x4_t s1 = s0;
            int32x4_t s2 = s0;
            int32x4_t s3 = s0;
            const int8_t *px = image + c;
            int32_t i;
            for (i = 0; i < p->hw; ++i, px += ch) {
                s0 = vaddq_s32(s0, vldrbq_z_s32(px, p0));
                s1 = vaddq_s32(s1, vldrbq_z_s32(px + 4, p1));
                s2 = vaddq_s32(s2, vldrbq_z_s32(px + 8, p2));
                s3 = vaddq_s32(s3, vldrbq_z_s32(px + 12, p3));
            }
            mean_store4(p, s0, right, left, output + c, p0);
            mean_store4(p, s1, right, left, output + c + 4, p1);
            mean_store4(p, s2, right, left, output + c + 8, p2);
            mean_store4(p, s3, right, left, output + c + 12, p3);
        }
        output += ch;
    }
}
