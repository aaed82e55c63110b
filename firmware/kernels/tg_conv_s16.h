/* Building blocks shared by the int16x8 convolution (conv2d_s16.c) and its
 * variants (dsp/conv2d_s16.c): the gathered input patch of one output pixel,
 * the chunked four-row dot product and the requantization of one output
 * channel. */
#ifndef TG_CONV_S16_H
#define TG_CONV_S16_H

#include <string.h>

#include "tg_fixedpoint.h"
#include "tg_kernels_s16.h"

/* Products are below 2^22 in magnitude: 256 of them fit an int32 sum. */
#define TG_S16_CHUNK 256

static inline int16_t tg_conv_s16_finish(const tg_conv_s16_params *p, int64_t acc, int32_t o,
                                         const int64_t *bias, const int32_t *mult,
                                         const int32_t *shift)
{
    int32_t v;
    acc += bias[o];
    v = p->acc32 ? tg_requantize((int32_t)acc, mult[o], shift[o])
                 : tg_rescale64(acc, mult[o], shift[o]);
    return tg_clamp_s16(v, p->conv.act_min, p->conv.act_max);
}

/* Output pixel (oy, ox)'s patch in filter order, zeros outside the image. */
static inline void tg_conv_s16_gather(const tg_conv_params *c, const int16_t *image, int32_t oy,
                                      int32_t ox, int16_t *patch)
{
    const size_t in_c = (size_t)c->in_c;
    const int32_t iy0 = oy * c->stride_h - c->pad_h;
    const int32_t ix0 = ox * c->stride_w - c->pad_w;
    int32_t ky;
    int32_t kx;
    for (ky = 0; ky < c->k_h; ++ky) {
        const int32_t iy = iy0 + ky * c->dil_h;
        for (kx = 0; kx < c->k_w; ++kx) {
            const int32_t ix = ix0 + kx * c->dil_w;
            if (iy < 0 || iy >= c->in_h || ix < 0 || ix >= c->in_w) {
                memset(patch, 0, in_c * sizeof *patch);
            } else {
                memcpy(patch, image + ((size_t)iy * (size_t)c->in_w + (size_t)ix) * in_c,
                       in_c * sizeof *patch);
            }
            patch += in_c;
        }
    }
}

static inline int64_t tg_conv_s16_dot1(const int16_t *x, const int8_t *w, int32_t n)
{
    int64_t acc = 0;
    while (n > 0) {
        const int32_t m = n < TG_S16_CHUNK ? n : TG_S16_CHUNK;
        int32_t s = 0;
        int32_t i;
        for (i = 0; i < m; ++i) {
            s += x[i] * w[i];
        }
        acc += s;
        x += m;
        w += m;
        n -= m;
    }
    return acc;
}

/* The first values of a chunk of m that a variant sums by its own
 * instructions into s[0..3] (filter rows w0..w3); returns how many. */
typedef int32_t (*tg_conv_s16_head_fn)(const int16_t *x, const int8_t *w0, const int8_t *w1,
                                       const int8_t *w2, const int8_t *w3, int32_t m,
                                       int32_t *s);

/* n patch values against four filter rows `stride` bytes apart, added into
 * acc[0..3] in chunks of at most TG_S16_CHUNK products (int32 sums that
 * cannot overflow): head (NULL: none) sums a chunk's first values, the
 * rest are summed one by one. Inlined into each variant's dot4. */
static inline __attribute__((always_inline)) void
tg_conv_s16_dot4_chunks(const int16_t *x, const int8_t *w, size_t stride, int32_t n,
                        int64_t *acc, tg_conv_s16_head_fn head)
{
    const int8_t *w0 = w;
    const int8_t *w1 = w + stride;
    const int8_t *w2 = w + 2 * stride;
    const int8_t *w3 = w + 3 * stride;
    while (n > 0) {
        const int32_t m = n < TG_S16_CHUNK ? n : TG_S16_CHUNK;
        int32_t s[4] = {0, 0, 0, 0};
        int32_t i = head ? head(x, w0, w1, w2, w3, m, s) : 0;
        for (; i < m; ++i) {
            const int32_t v = x[i];
            s[0] += v * w0[i];
            s[1] += v * w1[i];
            s[2] += v * w2[i];
            s[3] += v * w3[i];
        }
        acc[0] += s[0];
        acc[1] += s[1];
        acc[2] += s[2];
        acc[3] += s[3];
        x += m;
        w0 += m;
        w1 += m;
        w2 += m;
        w3 += m;
        n -= m;
    }
}

/* n patch values against four filter rows `stride` bytes apart, added into acc[0..3]. */
typedef void (*tg_conv_s16_dot4_fn)(const int16_t *x, const int8_t *w, size_t stride, int32_t n,
                                    int64_t *acc);

/* The convolution's walk: per output pixel its patch (gathered, or the
 * pixel itself for a pointwise layer), four output channels per dot4 call,
 * the remainder one at a time. Inline, so each kernel's dot4 is inlined. */
static inline void tg_conv_s16_run(const tg_conv_s16_params *p, const int16_t *input,
                                   const int8_t *filter, const int64_t *bias, const int32_t *mult,
                                   const int32_t *shift, int16_t *output, void *scratch,
                                   tg_conv_s16_dot4_fn dot4)
{
    const tg_conv_params *c = &p->conv;
    const size_t in_c = (size_t)c->in_c;
    const int32_t len = c->k_h * c->k_w * c->in_c;
    const int pointwise = c->k_h == 1 && c->k_w == 1 && c->pad_h == 0 && c->pad_w == 0;
    int32_t b;
    int32_t oy;
    int32_t ox;
    int32_t o;
    for (b = 0; b < c->batches; ++b) {
        const int16_t *image = input + (size_t)b * (size_t)c->in_h * (size_t)c->in_w * in_c;
        for (oy = 0; oy < c->out_h; ++oy) {
            for (ox = 0; ox < c->out_w; ++ox) {
                const int16_t *x;
                if (pointwise) {
                    x = image + ((size_t)(oy * c->stride_h) * (size_t)c->in_w
                                 + (size_t)(ox * c->stride_w)) * in_c;
                } else {
                    tg_conv_s16_gather(c, image, oy, ox, (int16_t *)scratch);
                    x = (const int16_t *)scratch;
                }
                for (o = 0; o + 4 <= c->out_c; o += 4) {
                    int64_t acc[4] = {0, 0, 0, 0};
                    int32_t k;
                    dot4(x, filter + (size_t)o * (size_t)len, (size_t)len, len, acc);
                    for (k = 0; k < 4; ++k) {
                        output[o + k] = tg_conv_s16_finish(p, acc[k], o + k, bias, mult, shift);
                    }
                }
                for (; o < c->out_c; ++o) {
                    const int64_t acc = tg_conv_s16_dot1(x, filter + (size_t)o * (size_t)len, len);
                    output[o] = tg_conv_s16_finish(p, acc, o, bias, mult, shift);
                }
                output += c->out_c;
            }
        }
    }
}

#endif
