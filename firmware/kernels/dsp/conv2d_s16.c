/* int16x8 convolution on cores with the DSP extension (Cortex-M4/M7/M33),
 * the variant of conv2d_s16.c with the same arguments and constants.
 *
 * Four patch values are two words of int16 pairs (x0, x1), (x2, x3); four
 * weights of a filter row one word whose SXTB16 gives (w0, w2) and, rotated
 * by 8, (w1, w3). Repacking the inputs once to (x0, x2) and (x1, x3)
 * (PKHBT/PKHTB) lets two SMLAD do the row's 4 MACs; four filter rows share
 * the input words and their repacking. */
#include "tg_conv_s16.h"

#if !TG_DSP
#error "firmware/kernels/dsp/ needs a compiler targeting the DSP extension (-mcpu=cortex-m4, m7, m33)"
#endif

static inline int32_t sxtb16_ror8(int32_t v)
{
    int32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(v));
    return r;
}

static inline int32_t load32(const void *p)
{
    int32_t v;
    memcpy(&v, p, 4);   /* one LDR: unaligned words are allowed on these cores */
    return v;
}

/* One filter row's 4 weights against the repacked inputs. */
static inline int32_t mac4(int32_t acc, const int8_t *w, int32_t x02, int32_t x13)
{
    const int32_t word = load32(w);
    acc = __smlad(__sxtb16(word), x02, acc);
    return __smlad(sxtb16_ror8(word), x13, acc);
}

/* A chunk's whole groups of 4 values: four filter rows share the input
 * words and their repacking. */
static inline int32_t head_dsp(const int16_t *x, const int8_t *w0, const int8_t *w1,
                               const int8_t *w2, const int8_t *w3, int32_t m, int32_t *s)
{
    int32_t i;
    for (i = 0; i + 4 <= m; i += 4) {
        const uint32_t x01 = (uint32_t)load32(x + i);
        const uint32_t x23 = (uint32_t)load32(x + i + 2);
        const int32_t x02 = (int32_t)((x01 & 0xFFFFu) | (x23 << 16));
        const int32_t x13 = (int32_t)((x01 >> 16) | (x23 & 0xFFFF0000u));
        s[0] = mac4(s[0], w0 + i, x02, x13);
        s[1] = mac4(s[1], w1 + i, x02, x13);
        s[2] = mac4(s[2], w2 + i, x02, x13);
        s[3] = mac4(s[3], w3 + i, x02, x13);
    }
    return i;
}

static void dot4_dsp(const int16_t *x, const int8_t *w, size_t stride, int32_t n, int64_t *acc)
{
    tg_conv_s16_dot4_chunks(x, w, stride, n, acc, head_dsp);
}

void tg_conv2d_s16_dsp(const tg_conv_s16_params *p, const int16_t *input, const int8_t *filter,
                       const int64_t *bias, const int32_t *mult, const int32_t *shift,
                       int16_t *output, void *scratch)
{
    tg_conv_s16_run(p, input, filter, bias, mult, shift, output, scratch, dot4_dsp);
}
