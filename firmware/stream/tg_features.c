/*
 * sww01's features on the DUT, float32, exactly as the reference DUT
 * defines them (MLPerf Tiny sww_ref_l4r5zi; shared facts section 11):
 *
 *   int16 / 32768 -> pre-emphasis y[i] = x[i] - 0.96875 x[i-1] -> periodic
 *   Hamming -> 1024-point real FFT -> sqrt(re^2 + im^2)^2 / 1024 -> 40 mel
 *   filters summed in order -> max 1e-30 -> 10 log10 (double) -> +52 -> /64
 *   -> clip [0, 1].
 *
 * The real FFT is our own: the 1024 real samples packed as 512 complex
 * (even + i odd), an in-order radix-2 decimation-in-time FFT, then the
 * split into the 513 bins of the real spectrum. tinygen/plan/sww_features.py
 * does the same float32 operations in the same order (one rounding each;
 * the build never contracts a*b+c into a fused multiply-add: -std=c99 keeps
 * GCC's FP_CONTRACT off), so the two agree bit for bit.
 */
#include "tg_features.h"

#include <math.h>

static float tg_re[TG_FEAT_FFT];
static float tg_im[TG_FEAT_FFT];
static float tg_power[TG_FEAT_BINS];

static void tg_fft512(void)
{
    for (uint32_t half = 1u; half < TG_FEAT_FFT; half *= 2u) {
        uint32_t stride = TG_FEAT_FFT / (2u * half);
        for (uint32_t g = 0u; g < TG_FEAT_FFT; g += 2u * half) {
            for (uint32_t j = 0u; j < half; ++j) {
                float wr = tg_fft_cos[j * stride];
                float wi = tg_fft_nsin[j * stride];
                uint32_t a = g + j;
                uint32_t b = a + half;
                float br = tg_re[b];
                float bi = tg_im[b];
                float tr = br * wr - bi * wi;
                float ti = br * wi + bi * wr;
                float ar = tg_re[a];
                float ai = tg_im[a];
                tg_re[a] = ar + tr;
                tg_im[a] = ai + ti;
                tg_re[b] = ar - tr;
                tg_im[b] = ai - ti;
            }
        }
    }
}

void tg_features_compute(const int16_t *window, int16_t *state, float *out)
{
    /* Pre-emphasis and window, written straight into bit-reversed order. */
    float prev = 0.96875f * ((float)*state / 32768.0f);
    for (uint32_t n = 0u; n < TG_FEAT_WINDOW; ++n) {
        float x = (float)window[n] / 32768.0f;
        float y = (x - prev) * tg_hamming[n];
        prev = 0.96875f * x;
        uint32_t pos = tg_bitrev[n >> 1];
        if (n & 1u) {
            tg_im[pos] = y;
        } else {
            tg_re[pos] = y;
        }
    }
    *state = window[TG_FEAT_WINDOW - 1u];
    tg_fft512();

    for (uint32_t k = 0u; k < TG_FEAT_BINS; ++k) {
        uint32_t ka = k & (TG_FEAT_FFT - 1u);
        uint32_t kb = (TG_FEAT_FFT - k) & (TG_FEAT_FFT - 1u);
        float ar = tg_re[ka];
        float ai = tg_im[ka];
        float br = tg_re[kb];
        float bi = tg_im[kb];
        float er = 0.5f * (ar + br);
        float ei = 0.5f * (ai - bi);
        float orr = 0.5f * (ar - br);
        float oi = 0.5f * (ai + bi);
        float c = tg_split_cos[k];
        float s = tg_split_sin[k];
        float xr = er + (c * oi - s * orr);
        float xi = ei - (c * orr + s * oi);
        float mag = sqrtf(xr * xr + xi * xi);
        tg_power[k] = (mag * mag) * (1.0f / 1024.0f);
    }

    uint32_t offset = 0u;
    for (uint32_t f = 0u; f < TG_FEAT_MELS; ++f) {
        const float *p = &tg_power[tg_mel_start[f]];
        const float *w = &tg_mel_weight[offset];
        uint32_t len = tg_mel_length[f];
        float acc = 0.0f;
        for (uint32_t j = 0u; j < len; ++j) {
            acc = acc + p[j] * w[j];
        }
        offset += len;
        acc = acc > 1e-30f ? acc : 1e-30f;
        float db = (float)(10.0 * log10((double)acc));
        float x = (db + 52.0f) * (1.0f / 64.0f);
        out[f] = x < 0.0f ? 0.0f : (x > 1.0f ? 1.0f : x);
    }
}

int8_t tg_features_quantize(float x, float scale)
{
    float v = x / scale - 128.0f;
    /* The reference's (int8_t) cast: truncation, then the low 8 bits. */
    return (int8_t)(uint8_t)(uint32_t)(int32_t)v;
}
