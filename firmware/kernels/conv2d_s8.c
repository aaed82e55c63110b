/* int8 2-D convolution, per-channel requantization. See tg_kernels.h. */
#include <string.h>

#include "tg_rows_dot.h"

/* Copies the receptive field of one output pixel into patch (HWC order),
 * writing the input zero point where the window leaves the image. */
static void gather_patch(const tg_conv_params *p, const int8_t *image,
                         int32_t iy0, int32_t ix0, int8_t *patch)
{
    const size_t row_bytes = (size_t)p->in_c;
    int32_t ky;
    int32_t kx;
    for (ky = 0; ky < p->k_h; ++ky) {
        const int32_t iy = iy0 + ky * p->dil_h;
        if (iy < 0 || iy >= p->in_h) {
            memset(patch, p->input_zero_point, row_bytes * (size_t)p->k_w);
            patch += row_bytes * (size_t)p->k_w;
            continue;
        }
        if (p->dil_w == 1 && ix0 >= 0 && ix0 + p->k_w <= p->in_w) {
            memcpy(patch, image + ((size_t)iy * (size_t)p->in_w + (size_t)ix0) * row_bytes,
                   row_bytes * (size_t)p->k_w);
            patch += row_bytes * (size_t)p->k_w;
            continue;
        }
        for (kx = 0; kx < p->k_w; ++kx) {
            const int32_t ix = ix0 + kx * p->dil_w;
            if (ix < 0 || ix >= p->in_w) {
                memset(patch, p->input_zero_point, row_bytes);
            } else {
                memcpy(patch, image + ((size_t)iy * (size_t)p->in_w + (size_t)ix) * row_bytes,
                       row_bytes);
            }
            patch += row_bytes;
        }
    }
}

/* scratch: the gathered int8 patch (4 * chunks bytes, none when the
 * convolution is pointwise and reads the image directly), then on the DSP
 * path its int16 widening (8 * chunks bytes); the portable pointwise path
 * copies each pixel to the start of scratch. Every pixel's input is in
 * scratch before its outputs are written, so the output may overlap the
 * input as tinygen/plan/memory.py allows. */
#if TG_DSP
static void conv2d_dsp(const tg_conv_params *p, const int8_t *input, const int8_t *filter,
                       const tg_chan_quant *quant, int8_t *output, int8_t *scratch);
#endif

void tg_conv2d_s8(const tg_conv_params *p, const int8_t *input, const int8_t *filter,
                  const tg_chan_quant *quant, int8_t *output, int8_t *scratch)
{
#if TG_DSP
    conv2d_dsp(p, input, filter, quant, output, scratch);
    return;
#endif
    const int32_t k_len = p->k_h * p->k_w * p->in_c;
    const int32_t chunks = (k_len + 3) / 4;
    const int32_t out_c = p->out_c;
    const int direct = p->k_h == 1 && p->k_w == 1 && p->pad_h == 0 && p->pad_w == 0;
    const size_t image_bytes = (size_t)p->in_h * (size_t)p->in_w * (size_t)p->in_c;
#if TG_DSP
    int32_t *x16 = (int32_t *)(void *)(scratch + (direct ? 0 : 4 * chunks));
#else
    (void)chunks;
#endif
    int32_t b;
    int32_t oy;
    int32_t ox;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *image = input + (size_t)b * image_bytes;
        for (oy = 0; oy < p->out_h; ++oy) {
            const int32_t iy0 = oy * p->stride_h - p->pad_h;
            for (ox = 0; ox < p->out_w; ++ox) {
                const int32_t ix0 = ox * p->stride_w - p->pad_w;
                const int8_t *patch;
                if (direct) {
                    patch = image + ((size_t)iy0 * (size_t)p->in_w + (size_t)ix0) * (size_t)p->in_c;
#if !TG_DSP
                    /* Read the pixel before writing its outputs: the planner may
                     * overlap the output with this input (tinygen/plan/memory.py). */
                    memcpy(scratch, patch, (size_t)k_len);
                    patch = scratch;
#endif
                } else {
                    gather_patch(p, image, iy0, ix0, scratch);
                    patch = scratch;
                }
#if TG_DSP
                tg_widen_s8(patch, k_len, x16);
                tg_rows_dot_dsp(x16, chunks, filter, out_c, quant, p->fast,
                                p->output_zero_point, p->act_min, p->act_max, output);
#else
                tg_rows_dot_c(patch, k_len, filter, out_c, quant, p->fast,
                              p->output_zero_point, p->act_min, p->act_max, output);
#endif
                output += out_c;
            }
        }
    }
}

#if TG_DSP
/* n bytes from s to d, either unaligned: words while they last (LDR/STR
 * handle unaligned addresses on every core with the DSP extension), then
 * bytes. Assembly, so the compiler does not turn the loop back into a
 * library call, which costs several times more for these short rows. */
static void copy_short_dsp(int8_t *d, const int8_t *s, size_t n)
{
    uint32_t t;
    size_t words = n / 4u;
    if (words) {
        __asm__ volatile("1:\n\t"
                         "ldr    %[t], [%[s]], #4\n\t"
                         "str    %[t], [%[d]], #4\n\t"
                         "subs   %[k], %[k], #1\n\t"
                         "bne    1b\n\t"
                         : [t] "=&r"(t), [s] "+r"(s), [d] "+r"(d), [k] "+r"(words)
                         :
                         : "cc", "memory");
    }
    switch (n & 3u) {
    case 3:
        d[2] = s[2];
        /* fall through */
    case 2:
        d[1] = s[1];
        /* fall through */
    case 1:
        d[0] = s[0];
        break;
    default:
        break;
    }
}

static void fill_short_dsp(int8_t *d, int32_t value, size_t n)
{
    const uint32_t v = tg_splat_s8(value);
    size_t k;
    for (k = 0; k + 4u <= n; k += 4u) {
        __asm__ volatile("str    %[v], [%[d]], #4" : [d] "+r"(d) : [v] "r"(v) : "memory");
    }
    for (; k < n; ++k) {
        __asm__ volatile("strb   %[v], [%[d]], #1" : [d] "+r"(d) : [v] "r"(v) : "memory");
    }
}

/* gather_patch with the short copies above. The patch's last chunk may
 * hold stale bytes past k_len: their weights are zero. */
static void gather_patch_dsp(const tg_conv_params *p, const int8_t *image,
                             int32_t iy0, int32_t ix0, int8_t *patch)
{
    const size_t pixel_bytes = (size_t)p->in_c;
    const size_t row_bytes = pixel_bytes * (size_t)p->k_w;
    int32_t ky;
    int32_t kx;
    for (ky = 0; ky < p->k_h; ++ky) {
        const int32_t iy = iy0 + ky * p->dil_h;
        const int8_t *line = image + (size_t)iy * (size_t)p->in_w * pixel_bytes;
        if (iy < 0 || iy >= p->in_h) {
            fill_short_dsp(patch, p->input_zero_point, row_bytes);
        } else if (p->dil_w == 1 && ix0 >= 0 && ix0 + p->k_w <= p->in_w) {
            copy_short_dsp(patch, line + (size_t)ix0 * pixel_bytes, row_bytes);
        } else {
            for (kx = 0; kx < p->k_w; ++kx) {
                const int32_t ix = ix0 + kx * p->dil_w;
                if (ix < 0 || ix >= p->in_w) {
                    fill_short_dsp(patch + (size_t)kx * pixel_bytes, p->input_zero_point,
                                   pixel_bytes);
                } else {
                    copy_short_dsp(patch + (size_t)kx * pixel_bytes, line + (size_t)ix * pixel_bytes,
                                   pixel_bytes);
                }
            }
        }
        patch += row_bytes;
    }
}

/* x16[2 * chunks] from whole chunks of x (tg_widen_s8 without the tail). */
static void widen_chunks_dsp(const int8_t *x, int32_t chunks, int32_t *x16)
{
    uint32_t v, lo, hi;
    __asm__ volatile("1:\n\t"
                     "ldr    %[v], [%[x]], #4\n\t"
                     "sxtb16 %[lo], %[v]\n\t"
                     "sxtb16 %[hi], %[v], ror #8\n\t"
                     "strd   %[lo], %[hi], [%[o]], #8\n\t"
                     "subs   %[k], %[k], #1\n\t"
                     "bne    1b\n\t"
                     : [v] "=&r"(v), [lo] "=&r"(lo), [hi] "=&r"(hi), [x] "+r"(x), [o] "+r"(x16),
                       [k] "+r"(chunks)
                     :
                     : "cc", "memory");
}

/* The DSP path: each pixel's input (gathered unless pointwise) widened to
 * int16 pairs in scratch, then one tg_rows_pass_dsp over the whole 4-row
 * blocks, whose parameters are set once per layer; a last partial block
 * and the generic requantization go through tg_rows_dot_dsp. */
static void conv2d_dsp(const tg_conv_params *p, const int8_t *input, const int8_t *filter,
                       const tg_chan_quant *quant, int8_t *output, int8_t *scratch)
{
    const int32_t k_len = p->k_h * p->k_w * p->in_c;
    const int32_t chunks = (k_len + 3) / 4;
    const int32_t out_c = p->out_c;
    const int direct = p->k_h == 1 && p->k_w == 1 && p->pad_h == 0 && p->pad_w == 0;
    const size_t image_bytes = (size_t)p->in_h * (size_t)p->in_w * (size_t)p->in_c;
    int32_t *x16 = (int32_t *)(void *)(scratch + (direct ? 0 : 4 * chunks));
    const int32_t whole = p->fast ? out_c & ~3 : 0;
    const int8_t *tail_rows = filter + (size_t)whole * (size_t)chunks * 4u;
    tg_rows_pass a;
    int32_t b;
    int32_t oy;
    int32_t ox;
    a.x16 = x16;
    a.odd = chunks & 1;
    a.x16_end = x16 + 2 * chunks;
    a.q = quant;
    a.q_end = quant + whole;
    a.clamp = p->act_min > -128 || p->act_max < 127;
    a.fix = p->act_min < p->output_zero_point;
    a.lo4 = tg_splat_s8(p->act_min);
    a.hi4 = tg_splat_s8(p->act_max);
    a.rows = filter;
    a.unused = 0;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *image = input + (size_t)b * image_bytes;
        for (oy = 0; oy < p->out_h; ++oy) {
            const int32_t iy0 = oy * p->stride_h - p->pad_h;
            for (ox = 0; ox < p->out_w; ++ox) {
                const int32_t ix0 = ox * p->stride_w - p->pad_w;
                if (direct) {
                    tg_widen_s8(image + ((size_t)iy0 * (size_t)p->in_w + (size_t)ix0)
                                * (size_t)p->in_c, k_len, x16);
                } else {
                    gather_patch_dsp(p, image, iy0, ix0, scratch);
                    widen_chunks_dsp(scratch, chunks, x16);
                }
                if (whole) {
                    a.out = output;
                    tg_rows_pass_dsp(&a);
                }
                if (whole < out_c) {
                    tg_rows_dot_dsp(x16, chunks, tail_rows, out_c - whole, quant + whole, p->fast,
                                    p->output_zero_point, p->act_min, p->act_max, output + whole);
                }
                output += out_c;
            }
        }
    }
}
#endif
