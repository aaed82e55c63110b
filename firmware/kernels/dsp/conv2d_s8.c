/* int8 2-D convolution on cores with the DSP extension (Cortex-M4/M7/M33):
 * tg_conv2d_s8_dsp, the variant of conv2d_s8.c (same arguments, same
 * layout), and tg_conv2d_pairs_s8_dsp, two output pixels per pass from the
 * planner's stream. tinygen/plan/variants.py chooses them per layer. */
#include <string.h>

#include "tg_rows_dot_dsp.h"

__attribute__((noinline)) static void fill_short_dsp(int8_t *d, int32_t value, size_t n)
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

/* n bytes from s to d, either unaligned (LDR/STR handle unaligned
 * addresses on every core with the DSP extension), as whole words in
 * assembly, so the compiler does not turn the loop into a library call,
 * which costs several times more for these short rows. A run that is not
 * whole words ends with the word that ends it (overlapping the one
 * before), so nothing is read or written past the run; runs under a word
 * go byte by byte. */
static void copy_row_dsp(int8_t *d, const int8_t *s, size_t n)
{
    uint32_t t;
    size_t words = n / 4u;
    size_t k;
    if (words == 0u) {
        for (k = 0; k < n; ++k) {
            d[k] = s[k];
        }
        return;
    }
    if (n & 3u) {
        memcpy(&t, s + n - 4u, 4);
        memcpy(d + n - 4u, &t, 4);
    }
    __asm__ volatile("1:\n\t"
                     "ldr    %[t], [%[s]], #4\n\t"
                     "str    %[t], [%[d]], #4\n\t"
                     "subs   %[k], %[k], #1\n\t"
                     "bne    1b\n\t"
                     : [t] "=&r"(t), [s] "+r"(s), [d] "+r"(d), [k] "+r"(words)
                     :
                     : "cc", "memory");
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
            copy_row_dsp(patch, line + (size_t)ix0 * pixel_bytes, row_bytes);
        } else {
            for (kx = 0; kx < p->k_w; ++kx) {
                const int32_t ix = ix0 + kx * p->dil_w;
                if (ix < 0 || ix >= p->in_w) {
                    fill_short_dsp(patch + (size_t)kx * pixel_bytes, p->input_zero_point,
                                   pixel_bytes);
                } else {
                    copy_row_dsp(patch + (size_t)kx * pixel_bytes,
                                 line + (size_t)ix * pixel_bytes, pixel_bytes);
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

/* Each pixel's input (gathered unless pointwise) widened to int16 pairs in
 * scratch, then one tg_rows_pass_dsp over the whole 4-row blocks, whose
 * parameters are set once per layer; a last partial block and the generic
 * requantization go through tg_rows_dot_dsp. scratch: the gathered int8
 * patch (4 * chunks bytes, none when pointwise), then its int16 widening
 * (8 * chunks bytes). Every pixel's input is in scratch before its outputs
 * are written, so the output may overlap the input as
 * tinygen/plan/memory.py allows. */
void tg_conv2d_s8_dsp(const tg_conv_params *p, const int8_t *input, const int8_t *filter,
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

/* Two pixels per pass (tg_conv2d_pairs_s8_dsp): every weight word is
 * loaded and sign-extended once for both pixels, and each block's biases
 * and requantization records once, from a stream the planner lays out
 * block by block (tinygen/plan/ops.py rows_dsp_stream): 4 biases, the
 * block's chunks of 16 weight bytes, then (mult, e, rz) per row. The two
 * pixels' int16 inputs are interleaved per chunk: (x0, x2) of the first,
 * of the second, then (x1, x3) of each. Registers: r0 inputs, r1 stream,
 * r2-r5 and r6-r9 the two pixels' accumulators, r10/r11 the pixels' input
 * halves, r12 and lr two rows' weight words. */
typedef struct {
    const int32_t *x16;        /* 0 */
    const int32_t *x16_end;    /* 4 */
    const int32_t *stream;     /* 8 */
    const int32_t *stream_end; /* 12 */
    int8_t *out;               /* 16: first pixel's outputs */
    int32_t step;              /* 20: second pixel's outputs - first's */
    int32_t clamp;             /* 24 */
    int32_t fix;               /* 28: negative-value fix (tg_rows_pass_dsp) */
    uint32_t lo4;              /* 32 */
    uint32_t hi4;              /* 36 */
    int32_t odd;               /* 40: chunks & 1 */
    int32_t unused;            /* 44 */
} tg_pairs_pass;

/* One chunk is two halves, each of which needs both pixels' input words
 * and four rows' weight words: the first two rows' words are loaded with
 * the inputs as four single LDRs, which the Cortex-M4 pipelines (5 cycles
 * for 4 words, where two LDRD cost 6), the other two with one LDRD (3
 * cycles, as two LDRs would be after a MAC). The second half takes the
 * rows in the other order so that its last load advances the weight
 * pointer, and every input load advances the input pointer. Each weight
 * word is sign-extended in place after the other row's word was read. */
#define TG_PAIRS_ROWS(ROR, A0, B0, A1, B1)                        \
    "sxtb16 r12, r12" ROR "\n\t"                                  \
    "smlad  " A0 ", r12, r10, " A0 "\n\t"                         \
    "smlad  " B0 ", r12, r11, " B0 "\n\t"                         \
    "sxtb16 r12, lr" ROR "\n\t"                                   \
    "smlad  " A1 ", r12, r10, " A1 "\n\t"                         \
    "smlad  " B1 ", r12, r11, " B1 "\n\t"
#define TG_PAIRS_CHUNK                                            \
    "ldr    r11, [r0, #4]\n\t"                                    \
    "ldr    r10, [r0], #8\n\t"                                    \
    "ldr    r12, [r1]\n\t"                                        \
    "ldr    lr, [r1, #4]\n\t"                                     \
    TG_PAIRS_ROWS("", "r2", "r6", "r3", "r7")                     \
    "ldrd   r12, lr, [r1, #8]\n\t"                                \
    TG_PAIRS_ROWS("", "r4", "r8", "r5", "r9")                     \
    "ldr    r11, [r0, #4]\n\t"                                    \
    "ldr    r10, [r0], #8\n\t"                                    \
    "ldr    r12, [r1, #8]\n\t"                                    \
    "ldr    lr, [r1, #12]\n\t"                                    \
    TG_PAIRS_ROWS(", ror #8", "r4", "r8", "r5", "r9")             \
    "ldrd   r12, lr, [r1], #16\n\t"                               \
    TG_PAIRS_ROWS(", ror #8", "r2", "r6", "r3", "r7")
#define TG_PAIRS_OUT(A, FIX)                                      \
    "add    lr, " A ", " A "\n\t"                                 \
    "smmlar lr, lr, r10, r12\n\t"                                 \
    FIX                                                           \
    "asr    lr, lr, r11\n\t"                                      \
    "ssat   " A ", #8, lr\n\t"
#define TG_PAIRS_REQ(A, B, FA, FB)                                \
    "ldm    r1!, {r10, r11, r12}\n\t"                             \
    TG_PAIRS_OUT(A, FA) TG_PAIRS_OUT(B, FB)
#define TG_PAIRS_FIX(A) "add    lr, lr, " A ", asr #31\n\t"
#define TG_PAIRS_CLAMP(P)                                         \
    "ssub8  r12, " P ", r10\n\t"                                  \
    "sel    " P ", " P ", r10\n\t"                                \
    "ssub8  r12, r11, " P "\n\t"                                  \
    "sel    " P ", " P ", r11\n\t"

__attribute__((naked, noinline)) static void tg_pairs_pass_dsp(const tg_pairs_pass *a)
{
    /* The per-block bookkeeping is grouped into runs of single loads,
     * which pipeline; the rarer variants (negative-value fix, clamp) are
     * out of line so that the common path runs straight through. */
    __asm__("push   {r4-r11, lr}\n\t"
            "sub    sp, sp, #48\n\t"
            "ldm    r0, {r1-r12}\n\t"
            "stm    sp, {r1-r12}\n\t"
            "ldr    r1, [sp, #8]\n\t"
            "ldr    r0, [sp, #0]\n\t"
            "ldr    r10, [sp, #40]\n\t"
            "1:\n\t"
            "ldm    r1!, {r2-r5}\n\t"
            "mov    r6, r2\n\t"
            "mov    r7, r3\n\t"
            "mov    r8, r4\n\t"
            "mov    r9, r5\n\t"
            "cmp    r10, #0\n\t"
            "bne    5f\n\t"
            "4:\n\t"
            TG_PAIRS_CHUNK
            "5:\n\t"
            TG_PAIRS_CHUNK
            "ldr    r10, [sp, #4]\n\t"
            "cmp    r0, r10\n\t"
            "bne    4b\n\t"
            "ldr    r0, [sp, #28]\n\t"
            "cmp    r0, #0\n\t"
            "bne    6f\n\t"
            TG_PAIRS_REQ("r2", "r6", "", "") TG_PAIRS_REQ("r3", "r7", "", "")
            TG_PAIRS_REQ("r4", "r8", "", "") TG_PAIRS_REQ("r5", "r9", "", "")
            "7:\n\t"
            "bfi    r2, r3, #8, #8\n\t"
            "bfi    r2, r4, #16, #8\n\t"
            "bfi    r2, r5, #24, #8\n\t"
            "bfi    r6, r7, #8, #8\n\t"
            "bfi    r6, r8, #16, #8\n\t"
            "bfi    r6, r9, #24, #8\n\t"
            "ldr    r0, [sp, #24]\n\t"
            "cbnz   r0, 8f\n\t"
            "3:\n\t"
            "ldr    r12, [sp, #16]\n\t"
            "ldr    r11, [sp, #20]\n\t"
            "ldr    lr, [sp, #12]\n\t"
            "ldr    r10, [sp, #40]\n\t"
            "ldr    r0, [sp, #0]\n\t"
            "str    r6, [r12, r11]\n\t"
            "str    r2, [r12], #4\n\t"
            "str    r12, [sp, #16]\n\t"
            "cmp    r1, lr\n\t"
            "bne    1b\n\t"
            "add    sp, sp, #48\n\t"
            "pop    {r4-r11, pc}\n\t"
            "8:\n\t"
            "ldrd   r10, r11, [sp, #32]\n\t"
            TG_PAIRS_CLAMP("r2") TG_PAIRS_CLAMP("r6")
            "b      3b\n\t"
            "6:\n\t"
            TG_PAIRS_REQ("r2", "r6", TG_PAIRS_FIX("r2"), TG_PAIRS_FIX("r6"))
            TG_PAIRS_REQ("r3", "r7", TG_PAIRS_FIX("r3"), TG_PAIRS_FIX("r7"))
            TG_PAIRS_REQ("r4", "r8", TG_PAIRS_FIX("r4"), TG_PAIRS_FIX("r8"))
            TG_PAIRS_REQ("r5", "r9", TG_PAIRS_FIX("r5"), TG_PAIRS_FIX("r9"))
            "b      7b\n\t");
    (void)a;
}

/* Both pixels' whole chunks, interleaved as tg_pairs_pass_dsp reads them. */
static void widen_pair_dsp(const int8_t *x0, const int8_t *x1, int32_t chunks, int32_t *x16)
{
    uint32_t v0, v1, lo, hi;
    __asm__ volatile("1:\n\t"
                     "ldr    %[v0], [%[x0]], #4\n\t"
                     "ldr    %[v1], [%[x1]], #4\n\t"
                     "sxtb16 %[lo], %[v0]\n\t"
                     "sxtb16 %[hi], %[v1]\n\t"
                     "strd   %[lo], %[hi], [%[o]], #8\n\t"
                     "sxtb16 %[lo], %[v0], ror #8\n\t"
                     "sxtb16 %[hi], %[v1], ror #8\n\t"
                     "strd   %[lo], %[hi], [%[o]], #8\n\t"
                     "subs   %[k], %[k], #1\n\t"
                     "bne    1b\n\t"
                     : [v0] "=&r"(v0), [v1] "=&r"(v1), [lo] "=&r"(lo), [hi] "=&r"(hi),
                       [x0] "+r"(x0), [x1] "+r"(x1), [o] "+r"(x16), [k] "+r"(chunks)
                     :
                     : "cc", "memory");
}

/* Output pixels in NHWC order, walked without divisions: the image
 * and output row and column of the next pixel. */
typedef struct {
    const int8_t *image;
    int32_t oy;
    int32_t ox;
} tg_pixel_walk;

/* The input of the walk's pixel (a pointer into the image when pointwise,
 * else gathered into patch); then the walk moves to the next pixel. */
static const int8_t *next_input_dsp(const tg_conv_params *p, int direct, tg_pixel_walk *w,
                                    int8_t *patch)
{
    const int32_t iy0 = w->oy * p->stride_h - p->pad_h;
    const int32_t ix0 = w->ox * p->stride_w - p->pad_w;
    const int8_t *x;
    if (direct) {
        x = w->image + ((size_t)iy0 * (size_t)p->in_w + (size_t)ix0) * (size_t)p->in_c;
    } else {
        gather_patch_dsp(p, w->image, iy0, ix0, patch);
        x = patch;
    }
    if (++w->ox == p->out_w) {
        w->ox = 0;
        if (++w->oy == p->out_h) {
            w->oy = 0;
            w->image += (size_t)p->in_h * (size_t)p->in_w * (size_t)p->in_c;
        }
    }
    return x;
}

void tg_conv2d_pairs_s8_dsp(const tg_conv_params *p, const int8_t *input,
                            const int32_t *stream, int8_t *output, int8_t *scratch)
{
    const int32_t chunks = (p->k_h * p->k_w * p->in_c + 3) / 4;
    const int direct = p->k_h == 1 && p->k_w == 1 && p->pad_h == 0 && p->pad_w == 0;
    const int32_t pixels = p->batches * p->out_h * p->out_w;
    int32_t *x16 = (int32_t *)(void *)(scratch + (direct ? 0 : 8 * chunks));
    tg_pixel_walk walk;
    tg_pairs_pass a;
    int32_t i;
    walk.image = input;
    walk.oy = 0;
    walk.ox = 0;
    a.x16 = x16;
    a.x16_end = x16 + 4 * chunks;
    a.stream = stream;
    a.stream_end = stream + (p->out_c / 4) * (16 + 4 * chunks);
    a.clamp = p->act_min > -128 || p->act_max < 127;
    a.fix = p->act_min < p->output_zero_point;
    a.lo4 = tg_splat_s8(p->act_min);
    a.hi4 = tg_splat_s8(p->act_max);
    a.odd = chunks & 1;
    a.unused = 0;
    a.out = output;
    for (i = 0; i < pixels; i += 2) {
        const int8_t *x0 = next_input_dsp(p, direct, &walk, scratch);
        /* An odd last pixel pairs with itself. */
        const int8_t *x1 = x0;
        a.step = 0;
        if (i + 1 < pixels) {
            x1 = next_input_dsp(p, direct, &walk, scratch + 4 * chunks);
            a.step = p->out_c;
        }
        widen_pair_dsp(x0, x1, chunks, x16);
        tg_pairs_pass_dsp(&a);
        a.out += 2 * p->out_c;
    }
}
