/*
 * Convolution three output pixels by two output channels per pass, for
 * cores with the DSP extension (tg_conv2d_triples_s8_dsp and
 * tg_conv2d_triples8_s8_dsp, tg_kernels.h; tinygen/plan/variants.py offers
 * them per layer).
 *
 * Why this blocking: an SMLAD needs an int16 weight pair and an int16
 * input pair in registers. The inputs are widened once per pixel triple
 * (into scratch), the weights in the loop. The planner packs one weight
 * word per two channels and two depth positions (tinygen/plan/ops.py
 * triples_stream): bytes (c0 d, c1 d, c0 d', c1 d'), so SXTB16 gives
 * channel 0's pair and SXTB16 ROR 8 channel 1's. Per two depth positions
 * the loop then loads 3 input words and 1 weight word (four single loads,
 * which the Cortex-M4 pipelines: 5 cycles), widens twice and runs 6 SMLAD:
 * 13 cycles for 12 MACs, where the two-pixel kernel needs 20 for 16.
 * Registers: r0 inputs, r1 stream, r2-r4 channel 0's three accumulators,
 * r5-r7 channel 1's, r8-r10 the pixels' input pairs, r11 the weight word,
 * r12 its widened half, lr the end of the inputs.
 *
 * Inputs: k_len = k_h * k_w * in_c depth positions, zero-padded to whole
 * octs (8 positions, 2 chunks): the weights past k_len are zero, so any
 * input bytes there multiply to nothing. Per chunk (4 positions) the
 * widened inputs are 6 words: (x0, x2) of pixels 0, 1, 2, then (x1, x3)
 * of each.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tg_fixedpoint.h"
#include "tg_kernels.h"

#if !TG_DSP
#error "firmware/kernels/dsp/ needs a compiler targeting the DSP extension (-mcpu=cortex-m4, m7, m33)"
#endif

typedef struct {
    const int32_t *x16;        /* 0 */
    const int32_t *x16_end;    /* 4 */
    const int32_t *stream;     /* 8 */
    const int32_t *stream_end; /* 12 */
    int8_t *out;               /* 16: pixel 0's outputs of the next block */
    int32_t step1;             /* 20: pixel 1's outputs - pixel 0's */
    int32_t step2;             /* 24: pixel 2's outputs - pixel 0's */
    int32_t odd;               /* 28: octs & 1 */
} tg_triples_pass;

/* Two depth positions of both channels and all three pixels. */
#define TG_TRIPLES_HALF                                           \
    "ldr    r9, [r0, #4]\n\t"                                     \
    "ldr    r10, [r0, #8]\n\t"                                    \
    "ldr    r8, [r0], #12\n\t"                                    \
    "ldr    r11, [r1], #4\n\t"                                    \
    "sxtb16 r12, r11\n\t"                                         \
    "sxtb16 r11, r11, ror #8\n\t"                                 \
    "smlad  r2, r12, r8, r2\n\t"                                  \
    "smlad  r3, r12, r9, r3\n\t"                                  \
    "smlad  r4, r12, r10, r4\n\t"                                 \
    "smlad  r5, r11, r8, r5\n\t"                                  \
    "smlad  r6, r11, r9, r6\n\t"                                  \
    "smlad  r7, r11, r10, r7\n\t"
#define TG_TRIPLES_OCT TG_TRIPLES_HALF TG_TRIPLES_HALF TG_TRIPLES_HALF TG_TRIPLES_HALF

/* The same from int8 inputs, one word per pixel and chunk, widened here:
 * the chunk's first half takes bytes 0 and 2 of each pixel's word, the
 * second half reloads the words for bytes 1 and 3 (no register is left to
 * keep them): 16 cycles for 12 MACs, for layers whose scratch has no room
 * for the widened inputs. */
#define TG_TRIPLES8_MACS                                          \
    "sxtb16 r12, r11\n\t"                                         \
    "sxtb16 r11, r11, ror #8\n\t"                                 \
    "smlad  r2, r12, r8, r2\n\t"                                  \
    "smlad  r3, r12, r9, r3\n\t"                                  \
    "smlad  r4, r12, r10, r4\n\t"                                 \
    "smlad  r5, r11, r8, r5\n\t"                                  \
    "smlad  r6, r11, r9, r6\n\t"                                  \
    "smlad  r7, r11, r10, r7\n\t"
#define TG_TRIPLES8_CHUNK                                         \
    "ldr    r8, [r0]\n\t"                                         \
    "ldr    r9, [r0, #4]\n\t"                                     \
    "ldr    r10, [r0, #8]\n\t"                                    \
    "ldr    r11, [r1], #4\n\t"                                    \
    "sxtb16 r8, r8\n\t"                                           \
    "sxtb16 r9, r9\n\t"                                           \
    "sxtb16 r10, r10\n\t"                                         \
    TG_TRIPLES8_MACS                                              \
    "ldr    r9, [r0, #4]\n\t"                                     \
    "ldr    r10, [r0, #8]\n\t"                                    \
    "ldr    r8, [r0], #12\n\t"                                    \
    "ldr    r11, [r1], #4\n\t"                                    \
    "sxtb16 r8, r8, ror #8\n\t"                                   \
    "sxtb16 r9, r9, ror #8\n\t"                                   \
    "sxtb16 r10, r10, ror #8\n\t"                                 \
    TG_TRIPLES8_MACS
#define TG_TRIPLES8_OCT TG_TRIPLES8_CHUNK TG_TRIPLES8_CHUNK

/* tg_requantize_fast of one accumulator A, saturated to int8 in place:
 * (2 * A * mult + 2^31 + rz * 2^32) >> 32 by SMMLAR, the round-half-away
 * fix for negative values taken from A's sign (where the product is
 * negative A is; where it is 0 the fix changes nothing, as e >= 1), the
 * shift by e, SSAT. (Leaving the fix out where act_min >= the output zero
 * point would save 6 cycles a block for a second copy of this code, which
 * kws01's code-size budget does not have.) */
#define TG_TRIPLES_OUT(A, M, E, RZ)                               \
    "add    r0, " A ", " A "\n\t"                                 \
    "smmlar r0, r0, " M ", " RZ "\n\t"                            \
    "add    r0, r0, " A ", asr #31\n\t"                           \
    "asr    r0, r0, " E "\n\t"                                    \
    "ssat   " A ", #8, r0\n\t"
/* The same without the fix, for layers whose activation clamps every
 * negative value's output to act_min >= the output zero point anyway
 * (the fix moves an output that is at most the zero point by at most one
 * down): 5 cycles a pass of six outputs. */
#define TG_TRIPLES_OUT_NOFIX(A, M, E, RZ)                         \
    "add    r0, " A ", " A "\n\t"                                 \
    "smmlar r0, r0, " M ", " RZ "\n\t"                            \
    "asr    r0, r0, " E "\n\t"                                    \
    "ssat   " A ", #8, r0\n\t"
/* The end of a 2-channel block, shared by the passes (each loads the
 * block's requantization records into r8-r12 and lr its own way): the six
 * accumulators requantized by OUT, the two channels' bytes of each pixel
 * packed into one halfword and stored (pixel 0's output pointer moved on),
 * then the next block while the stream (r1) has not reached its end. */
#define TG_TRIPLES_BLOCK_STORE(OUT)                               \
    OUT("r2", "r8", "r9", "r10")                              \
    OUT("r3", "r8", "r9", "r10")                              \
    OUT("r4", "r8", "r9", "r10")                              \
    OUT("r5", "r11", "r12", "lr")                             \
    OUT("r6", "r11", "r12", "lr")                             \
    OUT("r7", "r11", "r12", "lr")                             \
    "bfi    r2, r5, #8, #8\n\t"                               \
    "bfi    r3, r6, #8, #8\n\t"                               \
    "bfi    r4, r7, #8, #8\n\t"                               \
    "ldr    r8, [sp, #16]\n\t"                                \
    "ldr    r9, [sp, #20]\n\t"                                \
    "ldr    r10, [sp, #24]\n\t"                               \
    "ldr    r11, [sp, #12]\n\t"                               \
    "strh   r3, [r8, r9]\n\t"                                 \
    "strh   r4, [r8, r10]\n\t"                                \
    "strh   r2, [r8], #2\n\t"                                 \
    "str    r8, [sp, #16]\n\t"                                \
    "cmp    r1, r11\n\t"                                      \
    "bne    1b\n\t"
/* The same with the records read from the stream (after the weights) and
 * the end of a 32-byte frame. */
#define TG_TRIPLES_BLOCK_END(OUT)                                 \
    "ldm    r1!, {r8-r12, lr}\n\t"                            \
    TG_TRIPLES_BLOCK_STORE(OUT)                               \
    "add    sp, sp, #32\n\t"                                  \
    "pop    {r4-r11, pc}\n\t"

/* Every 2-channel block of the stream against one pixel triple's widened
 * inputs. Per block the stream holds the two biases, one weight word per
 * two depth positions, then (mult, e, rz) of each channel; the block's
 * six outputs are stored as one halfword per pixel. An activation narrower
 * than int8 is clamped after the layer (clamp_layer_dsp), not per block. */
#define TG_TRIPLES_PASS(OCT, OUT)                                 \
    "push   {r4-r11, lr}\n\t" \
    "sub    sp, sp, #32\n\t" \
    "ldm    r0, {r1-r8}\n\t" \
    "stm    sp, {r1-r8}\n\t" \
    "ldr    r1, [sp, #8]\n\t" \
    "1:\n\t" \
    "ldrd   r2, r5, [r1], #8\n\t" \
    "ldr    r0, [sp, #0]\n\t" \
    "ldr    lr, [sp, #4]\n\t" \
    "ldr    r12, [sp, #28]\n\t" \
    "mov    r3, r2\n\t" \
    "mov    r4, r2\n\t" \
    "mov    r6, r5\n\t" \
    "mov    r7, r5\n\t" \
    "cmp    r12, #0\n\t" \
    "bne    5f\n\t" \
    "4:\n\t" \
    OCT \
    "5:\n\t" \
    OCT \
    "cmp    r0, lr\n\t" \
    "bne    4b\n\t" \
    TG_TRIPLES_BLOCK_END(OUT)

__attribute__((naked, noinline)) static void tg_triples_pass_dsp(const tg_triples_pass *a)
{
    __asm__(TG_TRIPLES_PASS(TG_TRIPLES_OCT, TG_TRIPLES_OUT));
    (void)a;
}

/* tg_triples_pass_dsp without the negative-value fix (TG_TRIPLES_OUT_NOFIX). */
__attribute__((naked, noinline)) static void tg_triples_nofix_pass_dsp(const tg_triples_pass *a)
{
    __asm__(TG_TRIPLES_PASS(TG_TRIPLES_OCT, TG_TRIPLES_OUT_NOFIX));
    (void)a;
}

/* tg_triples_pass_dsp over int8 inputs (TG_TRIPLES8_OCT). */
__attribute__((naked, noinline)) static void tg_triples8_pass_dsp(const tg_triples_pass *a)
{
    __asm__(TG_TRIPLES_PASS(TG_TRIPLES8_OCT, TG_TRIPLES_OUT));
    (void)a;
}

/* Three pixels' inputs (4 * chunks bytes each) widened to int16 pairs in
 * the order tg_triples_pass_dsp reads them: per chunk one STM of six
 * registers, whose order in memory is their numbers' order. */
__attribute__((noinline)) static void widen_triple_dsp(const int8_t *x0, const int8_t *x1,
                                                       const int8_t *x2, int32_t chunks,
                                                       int32_t *x16)
{
    register uint32_t t0 __asm__("r4");
    register uint32_t t1 __asm__("r5");
    register uint32_t t2 __asm__("r6");
    register uint32_t v0 __asm__("r7");
    register uint32_t v1 __asm__("r8");
    register uint32_t v2 __asm__("r9");
    __asm__ volatile("1:\n\t"
                     "ldr    %[v0], [%[x0]], #4\n\t"
                     "ldr    %[v1], [%[x1]], #4\n\t"
                     "ldr    %[v2], [%[x2]], #4\n\t"
                     "sxtb16 %[t0], %[v0]\n\t"
                     "sxtb16 %[t1], %[v1]\n\t"
                     "sxtb16 %[t2], %[v2]\n\t"
                     "sxtb16 %[v0], %[v0], ror #8\n\t"
                     "sxtb16 %[v1], %[v1], ror #8\n\t"
                     "sxtb16 %[v2], %[v2], ror #8\n\t"
                     "stmia  %[o]!, {r4-r9}\n\t"
                     "subs   %[k], %[k], #1\n\t"
                     "bne    1b\n\t"
                     : [v0] "=&r"(v0), [v1] "=&r"(v1), [v2] "=&r"(v2), [t0] "=&r"(t0),
                       [t1] "=&r"(t1), [t2] "=&r"(t2), [x0] "+r"(x0), [x1] "+r"(x1),
                       [x2] "+r"(x2), [o] "+r"(x16), [k] "+r"(chunks)
                     :
                     : "cc", "memory");
}

/* widen_triple_dsp with every input doubled (SADD16), for
 * tg_triples16_pass_dsp: its accumulators are then 2 * acc, as SMMLAR takes
 * them, which saves an ADD per output (six a block) for six SADD16 a chunk
 * of the pixel triple. */
static inline __attribute__((always_inline)) void widen_triple2_dsp(
    const int8_t *x0, const int8_t *x1, const int8_t *x2, int32_t chunks, int32_t *x16)
{
    register uint32_t t0 __asm__("r4");
    register uint32_t t1 __asm__("r5");
    register uint32_t t2 __asm__("r6");
    register uint32_t v0 __asm__("r7");
    register uint32_t v1 __asm__("r8");
    register uint32_t v2 __asm__("r9");
    chunks /= 2;                     /* two chunks a turn: chunks = 2 * octs */
    __asm__ volatile("1:\n\t"
                     "ldr    %[v0], [%[x0]], #4\n\t"
                     "ldr    %[v1], [%[x1]], #4\n\t"
                     "ldr    %[v2], [%[x2]], #4\n\t"
                     "sxtb16 %[t0], %[v0]\n\t"
                     "sxtb16 %[t1], %[v1]\n\t"
                     "sxtb16 %[t2], %[v2]\n\t"
                     "sxtb16 %[v0], %[v0], ror #8\n\t"
                     "sxtb16 %[v1], %[v1], ror #8\n\t"
                     "sxtb16 %[v2], %[v2], ror #8\n\t"
                     "sadd16 %[t0], %[t0], %[t0]\n\t"
                     "sadd16 %[t1], %[t1], %[t1]\n\t"
                     "sadd16 %[t2], %[t2], %[t2]\n\t"
                     "sadd16 %[v0], %[v0], %[v0]\n\t"
                     "sadd16 %[v1], %[v1], %[v1]\n\t"
                     "sadd16 %[v2], %[v2], %[v2]\n\t"
                     "stmia  %[o]!, {r4-r9}\n\t"
                     "ldr    %[v0], [%[x0]], #4\n\t"
                     "ldr    %[v1], [%[x1]], #4\n\t"
                     "ldr    %[v2], [%[x2]], #4\n\t"
                     "sxtb16 %[t0], %[v0]\n\t"
                     "sxtb16 %[t1], %[v1]\n\t"
                     "sxtb16 %[t2], %[v2]\n\t"
                     "sxtb16 %[v0], %[v0], ror #8\n\t"
                     "sxtb16 %[v1], %[v1], ror #8\n\t"
                     "sxtb16 %[v2], %[v2], ror #8\n\t"
                     "sadd16 %[t0], %[t0], %[t0]\n\t"
                     "sadd16 %[t1], %[t1], %[t1]\n\t"
                     "sadd16 %[t2], %[t2], %[t2]\n\t"
                     "sadd16 %[v0], %[v0], %[v0]\n\t"
                     "sadd16 %[v1], %[v1], %[v1]\n\t"
                     "sadd16 %[v2], %[v2], %[v2]\n\t"
                     "stmia  %[o]!, {r4-r9}\n\t"
                     "subs   %[k], %[k], #1\n\t"
                     "bne    1b\n\t"
                     : [v0] "=&r"(v0), [v1] "=&r"(v1), [v2] "=&r"(v2), [t0] "=&r"(t0),
                       [t1] "=&r"(t1), [t2] "=&r"(t2), [x0] "+r"(x0), [x1] "+r"(x1),
                       [x2] "+r"(x2), [o] "+r"(x16), [k] "+r"(chunks)
                     :
                     : "cc", "memory");
}

/* n bytes from s to d: whole words (LDR/STR take unaligned addresses on
 * every core with the DSP extension), then single bytes, so nothing is
 * read or written past either run. */
__attribute__((noinline)) static void copy_bytes_dsp(int8_t *d, const int8_t *s, size_t n)
{
    uint32_t w;
    for (; n >= 4u; n -= 4u, s += 4, d += 4) {
        memcpy(&w, s, 4);
        memcpy(d, &w, 4);
    }
    for (; n > 0u; --n) {
        *d++ = *s++;
    }
}

/* The receptive field of one output pixel in HWC order, the input zero
 * point where the window leaves the image: a kernel row inside the image
 * is one copy, else tap by tap. */
__attribute__((noinline)) static void gather_dsp(const tg_conv_params *p, const int8_t *image, int32_t iy0, int32_t ix0,
                       int8_t *patch)
{
    const size_t pixel_bytes = (size_t)p->in_c;
    const int whole = p->dil_w == 1 && ix0 >= 0 && ix0 + p->k_w <= p->in_w;
    int32_t ky;
    int32_t kx;
    for (ky = 0; ky < p->k_h; ++ky) {
        const int32_t iy = iy0 + ky * p->dil_h;
        const int8_t *line = image + (size_t)iy * (size_t)p->in_w * pixel_bytes;
        const int inside = iy >= 0 && iy < p->in_h;
        if (inside && whole) {
            copy_bytes_dsp(patch, line + (size_t)ix0 * pixel_bytes, pixel_bytes * (size_t)p->k_w);
            patch += pixel_bytes * (size_t)p->k_w;
            continue;
        }
        for (kx = 0; kx < p->k_w; ++kx, patch += pixel_bytes) {
            const int32_t ix = ix0 + kx * p->dil_w;
            if (inside && ix >= 0 && ix < p->in_w) {
                copy_bytes_dsp(patch, line + (size_t)ix * pixel_bytes, pixel_bytes);
            } else {
                memset(patch, p->input_zero_point, pixel_bytes);
            }
        }
    }
}

/* *s into *d by LDM/STM (copy_words_dsp: a multiple of 4 words), then
 * the last field. */
__attribute__((noinline)) static void copy_words_dsp(int32_t *d, const int32_t *s, int32_t n);
static void copy_params_dsp(tg_conv_params *d, const tg_conv_params *s)
{
    _Static_assert(sizeof(tg_conv_params) == 21 * 4, "tg_conv_params: 20 words, then fast");
    copy_words_dsp((int32_t *)(void *)d, (const int32_t *)(const void *)s, 20);
    d->fast = s->fast;
}

/* Output pixels in NHWC order, walked without divisions. */
typedef struct {
    const int8_t *image;
    int32_t oy;
    int32_t ox;
} tg_triples_walk;

static const int8_t *next_pixel_dsp(const tg_conv_params *p, int direct, tg_triples_walk *w,
                                    int8_t *patch)
{
    const int32_t iy0 = w->oy * p->stride_h - p->pad_h;
    const int32_t ix0 = w->ox * p->stride_w - p->pad_w;
    const int8_t *x;
    if (direct) {
        x = w->image + ((size_t)iy0 * (size_t)p->in_w + (size_t)ix0) * (size_t)p->in_c;
    } else {
        gather_dsp(p, w->image, iy0, ix0, patch);
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

/* triples_run_dsp for pointwise layers at stride 1 without padding, whose
 * input channels are whole octs (every image's pixels follow each other, so
 * output pixel i reads input pixel i in place): the pixel triples' inputs
 * by a multiply, without the walk (next_pixel_dsp: about a tenth of a
 * 32-deep layer's cycles went to it). */
static inline __attribute__((always_inline)) void triples_pointwise_dsp(
    const tg_conv_params *p, const int8_t *input, const int32_t *stream,
    const int32_t *stream_end, int8_t *output, int8_t *scratch,
    void (*pass)(const tg_triples_pass *),
    void (*widen)(const int8_t *, const int8_t *, const int8_t *, int32_t, int32_t *))
{
    const int32_t octs = p->in_c / 8;
    const int32_t pixels = p->batches * p->out_h * p->out_w;
    const size_t in_c = (size_t)p->in_c;
    const size_t out_step = 3u * (size_t)p->out_c;
    int32_t *x16 = (int32_t *)(void *)scratch;
    tg_triples_pass a;
    int32_t i;
    a.x16 = x16;
    a.x16_end = x16 + 12 * octs;
    a.stream = stream;
    a.stream_end = stream_end;
    a.odd = octs & 1;
    for (i = 0; i < pixels; i += 3, input += 3u * in_c, output += out_step) {
        /* A last one or two pixels: the last repeated, its outputs written twice. */
        const int32_t left = pixels - i;
        const int8_t *x1 = left > 1 ? input + in_c : input;
        const int8_t *x2 = left > 2 ? input + 2u * in_c : x1;
        a.step1 = left > 1 ? p->out_c : 0;
        a.step2 = left > 2 ? 2 * p->out_c : a.step1;
        widen(input, x1, x2, 2 * octs, x16);
        a.out = output;
        pass(&a);
    }
}

/* Every pixel against the blocks of stream up to stream_end, whose first
 * channel's outputs are at output (the pixels' outputs p->out_c apart).
 * scratch (tinygen/plan/ops.py conv_triples_scratch): three gathered
 * patches of 8 * octs bytes unless the layer is pointwise with whole
 * octs of input channels (then read in place), then the widened inputs,
 * 12 * octs words. All three pixels' inputs are widened before any of
 * their outputs is written, so the output may overlap the input. */
static void triples_run_dsp(const tg_conv_params *p, const int8_t *input, const int32_t *stream,
                            const int32_t *stream_end, int8_t *output, int8_t *scratch,
                            void (*pass)(const tg_triples_pass *),
                            void (*widen)(const int8_t *, const int8_t *, const int8_t *,
                                          int32_t, int32_t *))
{
    const int32_t octs = (p->k_h * p->k_w * p->in_c + 7) / 8;
    const int direct = p->k_h == 1 && p->k_w == 1 && p->pad_h == 0 && p->pad_w == 0
                       && p->in_c % 8 == 0;
    const int32_t pixels = p->batches * p->out_h * p->out_w;
    const size_t patch_bytes = 8u * (size_t)octs;
    int32_t *x16 = (int32_t *)(void *)(scratch + (direct ? 0u : 3u * patch_bytes));
    tg_triples_walk walk;
    tg_triples_pass a;
    int32_t i;
    if (direct && p->stride_h == 1 && p->stride_w == 1) {
        triples_pointwise_dsp(p, input, stream, stream_end, output, scratch, pass, widen);
        return;
    }
    walk.image = input;
    walk.oy = 0;
    walk.ox = 0;
    a.x16 = x16;
    a.x16_end = x16 + 12 * octs;
    a.stream = stream;
    a.stream_end = stream_end;
    a.odd = octs & 1;
    for (i = 0; i < pixels; i += 3) {
        /* A last group of one or two pixels repeats its last pixel, whose
         * outputs are then written twice with the same values. */
        const int32_t left = pixels - i;
        const int8_t *x0 = next_pixel_dsp(p, direct, &walk, scratch);
        const int8_t *x1 = x0;
        const int8_t *x2;
        a.step1 = 0;
        if (left > 1) {
            x1 = next_pixel_dsp(p, direct, &walk, scratch + patch_bytes);
            a.step1 = p->out_c;
        }
        x2 = x1;
        a.step2 = a.step1;
        if (left > 2) {
            x2 = next_pixel_dsp(p, direct, &walk, scratch + 2u * patch_bytes);
            a.step2 = 2 * p->out_c;
        }
        a.out = output;
        widen(x0, x1, x2, 2 * octs, x16);
        pass(&a);
        output += 3 * p->out_c;
    }
}

/* The activation's clamp where it is narrower than int8, over the whole
 * output once the layer is done (the passes saturate to int8 only): no
 * layer of the benchmarks' models has one, so it costs them nothing, where
 * a test per block cost every layer 4 cycles a block. */
__attribute__((noinline)) static void clamp_layer_dsp(const tg_conv_params *p, int8_t *output)
{
    if (p->act_min > -128 || p->act_max < 127) {
        const size_t n = (size_t)(p->batches * p->out_h * p->out_w) * (size_t)p->out_c;
        size_t i;
        for (i = 0; i < n; ++i) {
            output[i] = tg_clamp_s8(output[i], p->act_min, p->act_max);
        }
    }
}

void tg_conv2d_triples_s8_dsp(const tg_conv_params *params, const int8_t *input,
                              const int32_t *stream, int8_t *output, int8_t *scratch)
{
    /* The gather and the walk read the parameters per pixel: from a copy
     * in RAM, not from flash (kws01's first layer read 55 KB of them),
     * copied without memcpy, which kws01 does not link otherwise. */
    tg_conv_params q;
    const tg_conv_params *p = &q;
    copy_params_dsp(&q, params);
    const int32_t octs = (p->k_h * p->k_w * p->in_c + 7) / 8;
    triples_run_dsp(p, input, stream, stream + (p->out_c / 2) * (8 + 4 * octs), output, scratch,
                    tg_triples_pass_dsp, widen_triple_dsp);
    clamp_layer_dsp(p, output);
}

/* n words (a multiple of 4) from s to d, eight or four per LDM/STM. */
__attribute__((noinline)) static void copy_words_dsp(int32_t *d, const int32_t *s, int32_t n)
{
    __asm__ volatile("tst    %[n], #4\n\t"
                     "beq    2f\n\t"
                     "ldm    %[s]!, {r3-r6}\n\t"
                     "stm    %[d]!, {r3-r6}\n\t"
                     "2:\n\t"
                     "lsrs   %[n], %[n], #3\n\t"
                     "beq    3f\n\t"
                     "1:\n\t"
                     "ldm    %[s]!, {r3-r6, r8-r11}\n\t"
                     "stm    %[d]!, {r3-r6, r8-r11}\n\t"
                     "subs   %[n], %[n], #1\n\t"
                     "bne    1b\n\t"
                     "3:\n\t"
                     : [d] "+r"(d), [s] "+r"(s), [n] "+r"(n)
                     :
                     : "r3", "r4", "r5", "r6", "r8", "r9", "r10", "r11", "cc", "memory");
}

/* tg_conv2d_triples_s8_dsp with its weights read from flash once per
 * layer rather than once per pixel triple: the stream (after its first
 * word, the number of 2-channel blocks per part) is copied part by part
 * into the start of scratch, and every pixel runs against each part
 * (0 blocks: read in place, as tg_conv2d_triples_s8_dsp does).
 * With one part the order of reads and writes is tg_conv2d_triples_s8_dsp's;
 * with several, each part writes its channels of every pixel before the
 * next part reads the input again, so the planner keeps the output apart
 * from the input (tinygen/plan/memory.py input_gaps). Layers whose
 * activation clamps at or above the output zero point leave out the
 * negative-value fix (tg_triples_nofix_pass_dsp), which pays for the copy;
 * tg_conv2d_triples_s8_dsp keeps one pass, for kws01's code size. scratch:
 * the part, then tg_conv2d_triples_s8_dsp's scratch. */
void tg_conv2d_triples_ram_s8_dsp(const tg_conv_params *params, const int8_t *input,
                                  const int32_t *stream, int8_t *output, int8_t *scratch)
{
    /* The parameters too are read per pixel (the gather, the walk): from a
     * copy in RAM, not from flash. */
    const tg_conv_params q = *params;
    const tg_conv_params *p = &q;
    const int32_t block_words = 8 + 4 * ((p->k_h * p->k_w * p->in_c + 7) / 8);
    const int32_t part = stream[0];
    const int32_t blocks = p->out_c / 2;
    int32_t *ram = (int32_t *)(void *)scratch;
    int8_t *rest = scratch + 4 * part * block_words;
    void (*pass)(const tg_triples_pass *) =
        p->act_min < p->output_zero_point ? tg_triples_pass_dsp : tg_triples_nofix_pass_dsp;
    int32_t b;
    if (part == 0) {                  /* read in place, for the pass */
        triples_run_dsp(p, input, stream + 1, stream + 1 + blocks * block_words, output, scratch,
                        pass, widen_triple_dsp);
    }
    for (b = 0; part > 0 && b < blocks; b += part) {
        const int32_t n = blocks - b < part ? blocks - b : part;
        copy_words_dsp(ram, stream + 1 + b * block_words, n * block_words);
        triples_run_dsp(p, input, ram, ram + n * block_words, output + 2 * b, rest, pass,
                        widen_triple_dsp);
    }
    clamp_layer_dsp(p, output);
}

/* Two depth positions of both channels and all three pixels from int16
 * weights (the copy tg_conv2d_triples16_ram_s8_dsp widens): channel 0's
 * pair, then channel 1's. Five single loads pipeline (6 cycles) and six
 * SMLAD: 12 cycles for 12 MACs, where TG_TRIPLES_HALF's two SXTB16 make 13. */
#define TG_TRIPLES16_HALF                                         \
    "ldr    r9, [r0, #4]\n\t"                                     \
    "ldr    r10, [r0, #8]\n\t"                                    \
    "ldr    r8, [r0], #12\n\t"                                    \
    "ldr    r11, [r1, #4]\n\t"                                    \
    "ldr    r12, [r1], #8\n\t"                                    \
    "smlad  r2, r12, r8, r2\n\t"                                  \
    "smlad  r3, r12, r9, r3\n\t"                                  \
    "smlad  r4, r12, r10, r4\n\t"                                 \
    "smlad  r5, r11, r8, r5\n\t"                                  \
    "smlad  r6, r11, r9, r6\n\t"                                  \
    "smlad  r7, r11, r10, r7\n\t"
#define TG_TRIPLES16_OCT TG_TRIPLES16_HALF TG_TRIPLES16_HALF TG_TRIPLES16_HALF TG_TRIPLES16_HALF
/* TG_TRIPLES_OUT_NOFIX of an accumulator that is already 2 * acc (the
 * inputs and biases doubled): SMMLAR, the shift by e, SSAT. */
#define TG_TRIPLES16_OUT(A, M, E, RZ)                             \
    "smmlar " A ", " A ", " M ", " RZ "\n\t"                       \
    "asr    " A ", " A ", " E "\n\t"                              \
    "ssat   " A ", #8, " A "\n\t"

/* Every 2-channel block of an int16 stream (per block the two biases, two
 * weight words per two depth positions, then (mult, e, rz) of each
 * channel) against one pixel triple's widened inputs, for layers of whole
 * quads of octs (32 depth positions) with neither the negative-value fix nor a clamp (triples16_eligible in
 * tinygen/plan/ops.py). Inputs and biases come doubled (widen_triple2_dsp,
 * widen_blocks_dsp), so the accumulators are 2 * acc (TG_TRIPLES16_OUT).
 * The frame is tg_triples_pass's first 28 bytes. DEPTH runs r0 from x16 to
 * x16_end: a loop (LOADEND reloads r0 and lr = x16_end a block) or, for the
 * unrolled depths, straight, then back by its constant length (SUB: the
 * requantization works in place and leaves r0 alone); four passes differ
 * in it (triples16_pass_for). */
#define TG_TRIPLES16_PASS(LOADEND, INIT, DEPTH)                   \
    "push   {r4-r11, lr}\n\t"                                     \
    "sub    sp, sp, #32\n\t"                                      \
    "ldm    r0, {r1-r7}\n\t"                                      \
    "stm    sp, {r1-r7}\n\t"                                      \
    "ldr    r1, [sp, #8]\n\t"                                     \
    "ldr    r0, [sp, #0]\n\t"                                     \
    "1:\n\t"                                                      \
    "ldrd   r2, r5, [r1], #8\n\t"                                 \
    LOADEND                                                       \
    INIT                                                          \
    DEPTH                                                         \
    TG_TRIPLES_BLOCK_END(TG_TRIPLES16_OUT)
#define TG_TRIPLES16_QUAD TG_TRIPLES16_OCT TG_TRIPLES16_OCT TG_TRIPLES16_OCT TG_TRIPLES16_OCT
#define TG_TRIPLES16_LOADEND "ldr    r0, [sp, #0]\n\tldr    lr, [sp, #4]\n\t"
/* Every pixel's accumulators start at its channel's bias (r2, r5). */
#define TG_TRIPLES16_INIT                                         \
    "mov    r3, r2\n\t"                                           \
    "mov    r4, r2\n\t"                                           \
    "mov    r6, r5\n\t"                                           \
    "mov    r7, r5\n\t"
/* A block's first two depth positions, the biases (r2, r5) as the SMLADs'
 * addends: TG_TRIPLES16_INIT's moves left out, where no loop comes back. */
#define TG_TRIPLES16_HALF_FIRST                                   \
    "ldr    r9, [r0, #4]\n\t"                                     \
    "ldr    r10, [r0, #8]\n\t"                                    \
    "ldr    r8, [r0], #12\n\t"                                    \
    "ldr    r11, [r1, #4]\n\t"                                    \
    "ldr    r12, [r1], #8\n\t"                                    \
    "smlad  r3, r12, r9, r2\n\t"                                  \
    "smlad  r4, r12, r10, r2\n\t"                                 \
    "smlad  r2, r12, r8, r2\n\t"                                  \
    "smlad  r6, r11, r9, r5\n\t"                                  \
    "smlad  r7, r11, r10, r5\n\t"                                 \
    "smlad  r5, r11, r8, r5\n\t"

/* Depths of whole quads of octs: one quad a loop turn. */
__attribute__((naked, noinline)) static void tg_triples16_pass_dsp(const tg_triples_pass *a)
{
    __asm__(TG_TRIPLES16_PASS(TG_TRIPLES16_LOADEND, TG_TRIPLES16_INIT,
                              "4:\n\t" TG_TRIPLES16_QUAD "cmp    r0, lr\n\tbne    4b\n\t"));
    (void)a;
}

/* A depth of one quad (32 positions): no loop, the biases as the first
 * SMLADs' addends. */
#define TG_TRIPLES16_OCT_FIRST                                    \
    TG_TRIPLES16_HALF_FIRST TG_TRIPLES16_HALF TG_TRIPLES16_HALF TG_TRIPLES16_HALF
__attribute__((naked, noinline)) static void tg_triples16x4_pass_dsp(const tg_triples_pass *a)
{
    __asm__(TG_TRIPLES16_PASS("", "", TG_TRIPLES16_OCT_FIRST TG_TRIPLES16_OCT TG_TRIPLES16_OCT
                                      TG_TRIPLES16_OCT "sub    r0, r0, #192\n\t"));
    (void)a;
}

/* Two quads (64 positions), unrolled the same way. */
__attribute__((naked, noinline)) static void tg_triples16x8_pass_dsp(const tg_triples_pass *a)
{
    __asm__(TG_TRIPLES16_PASS("", "", TG_TRIPLES16_OCT_FIRST TG_TRIPLES16_OCT TG_TRIPLES16_OCT
                                      TG_TRIPLES16_OCT TG_TRIPLES16_QUAD
                                      "sub    r0, r0, #384\n\t"));
    (void)a;
}

/* A depth of four quads (128 positions, vww01's 6x6 layers), unrolled
 * like tg_triples16x4_pass_dsp: 15 cycles a block fewer than four turns of
 * tg_triples16_pass_dsp. */
__attribute__((naked, noinline)) static void tg_triples16x16_pass_dsp(const tg_triples_pass *a)
{
    __asm__(TG_TRIPLES16_PASS("", "", TG_TRIPLES16_OCT_FIRST TG_TRIPLES16_OCT TG_TRIPLES16_OCT
                                      TG_TRIPLES16_OCT TG_TRIPLES16_QUAD TG_TRIPLES16_QUAD
                                      TG_TRIPLES16_QUAD "sub    r0, r0, #768\n\t"));
    (void)a;
}

/* The pass for a depth of octs (a multiple of 4). */
static void (*triples16_pass_for(int32_t octs))(const tg_triples_pass *)
{
    if (octs == 4) {
        return tg_triples16x4_pass_dsp;
    }
    if (octs == 8) {
        return tg_triples16x8_pass_dsp;
    }
    return octs == 16 ? tg_triples16x16_pass_dsp : tg_triples16_pass_dsp;
}

/* n 2-channel blocks of the int8 stream s into their int16 form at d:
 * biases doubled, requantization records as they are, each weight word
 * (c0 d, c1 d, c0 d', c1 d') as channel 0's pair, then channel 1's
 * (SXTB16, SXTB16 ROR 8), eight words a loop (octs is even here). */
__attribute__((noinline)) static void widen_blocks_dsp(int32_t *d, const int32_t *s, int32_t n,
                                                       int32_t octs)
{
    int32_t b;
    for (b = 0; b < n; ++b) {
        int32_t quads = octs / 2;      /* 4 weight words per oct, two octs a turn */
        d[0] = 2 * s[0];
        d[1] = 2 * s[1];
        d += 2;
        s += 2;
        __asm__ volatile("1:\n\t"
                         "ldm    %[s]!, {r3, r5, r7, r9}\n\t"
                         "sxtb16 r4, r3, ror #8\n\t"
                         "sxtb16 r3, r3\n\t"
                         "sxtb16 r6, r5, ror #8\n\t"
                         "sxtb16 r5, r5\n\t"
                         "sxtb16 r8, r7, ror #8\n\t"
                         "sxtb16 r7, r7\n\t"
                         "sxtb16 r10, r9, ror #8\n\t"
                         "sxtb16 r9, r9\n\t"
                         "stm    %[d]!, {r3-r10}\n\t"
                         "ldm    %[s]!, {r3, r5, r7, r9}\n\t"
                         "sxtb16 r4, r3, ror #8\n\t"
                         "sxtb16 r3, r3\n\t"
                         "sxtb16 r6, r5, ror #8\n\t"
                         "sxtb16 r5, r5\n\t"
                         "sxtb16 r8, r7, ror #8\n\t"
                         "sxtb16 r7, r7\n\t"
                         "sxtb16 r10, r9, ror #8\n\t"
                         "sxtb16 r9, r9\n\t"
                         "stm    %[d]!, {r3-r10}\n\t"
                         "subs   %[k], %[k], #1\n\t"
                         "bne    1b\n\t"
                         : [d] "+r"(d), [s] "+r"(s), [k] "+r"(quads)
                         :
                         : "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "cc", "memory");
        memcpy(d, s, 24);
        d += 6;
        s += 6;
    }
}

/* tg_conv2d_triples_ram_s8_dsp with the weights widened to int16 pairs as
 * they are copied (tinygen/plan/ops.py widen_stream_copies takes it where
 * the arena has room for the twice larger weights and triples16_eligible
 * holds): every pixel triple then runs tg_triples16_pass_dsp, which loads
 * a second weight word instead of widening one, 1 cycle less per 12 MACs;
 * the widening costs about 1.5 cycles per weight byte, once per layer.
 * Its inputs are widened doubled, for a requantization one ADD shorter. The
 * stream is tg_conv2d_triples_ram_s8_dsp's (more than 0 blocks per part);
 * scratch: the widened part, then tg_conv2d_triples_s8_dsp's scratch. */
void tg_conv2d_triples16_ram_s8_dsp(const tg_conv_params *params, const int8_t *input,
                                    const int32_t *stream, int8_t *output, int8_t *scratch)
{
    const tg_conv_params q = *params;
    const tg_conv_params *p = &q;
    const int32_t octs = (p->k_h * p->k_w * p->in_c + 7) / 8;
    const int32_t block_words = 8 + 4 * octs;
    const int32_t wide_words = 8 + 8 * octs;
    const int32_t part = stream[0];
    const int32_t blocks = p->out_c / 2;
    int32_t *ram = (int32_t *)(void *)scratch;
    int8_t *rest = scratch + 4 * part * wide_words;
    const int pointwise = p->k_h == 1 && p->k_w == 1 && p->stride_h == 1 && p->stride_w == 1
                          && p->pad_h == 0 && p->pad_w == 0 && p->in_c % 8 == 0;
    void (*pass)(const tg_triples_pass *) = triples16_pass_for(octs);
    int32_t b;
    for (b = 0; b < blocks; b += part) {
        const int32_t n = blocks - b < part ? blocks - b : part;
        widen_blocks_dsp(ram, stream + 1 + b * block_words, n, octs);
        if (pointwise) {       /* the widening inlined (vww01's layers) */
            triples_pointwise_dsp(p, input, ram, ram + n * wide_words, output + 2 * b, rest,
                                  pass, widen_triple2_dsp);
        } else {
            triples_run_dsp(p, input, ram, ram + n * wide_words, output + 2 * b, rest, pass,
                            widen_triple2_dsp);
        }
    }
}

/* The receptive field of one output pixel, int8, as one of three
 * interleaved patches: word k of the patch (depth positions 4k..4k+3) at
 * dst[3 * k]. Input channels come in whole words (in_c % 4 == 0), so every
 * tap starts a word; the input zero point fills taps outside the image. */
static void gather_words_dsp(const tg_conv_params *p, const int8_t *image, int32_t iy0,
                             int32_t ix0, uint32_t *dst)
{
    const int32_t words = p->in_c / 4;
    const uint32_t zp4 = (uint32_t)(uint8_t)(int8_t)p->input_zero_point * 0x01010101u;
    int32_t ky;
    int32_t kx;
    int32_t k;
    for (ky = 0; ky < p->k_h; ++ky) {
        const int32_t iy = iy0 + ky * p->dil_h;
        const int inside = iy >= 0 && iy < p->in_h;
        for (kx = 0; kx < p->k_w; ++kx, dst += 3 * words) {
            const int32_t ix = ix0 + kx * p->dil_w;
            if (inside && ix >= 0 && ix < p->in_w) {
                const int8_t *s = image + ((size_t)iy * (size_t)p->in_w + (size_t)ix)
                                  * (size_t)p->in_c;
                for (k = 0; k < words; ++k) {
                    memcpy(&dst[3 * k], s + 4 * k, 4);
                }
            } else {
                for (k = 0; k < words; ++k) {
                    dst[3 * k] = zp4;
                }
            }
        }
    }
}

/* Gathered convolutions with input channels in whole words, three pixels
 * by two channels per pass from int8 patches (tg_triples8_pass_dsp).
 * scratch (tinygen/plan/ops.py conv_triples8_scratch): the three patches
 * interleaved word by word, 24 * octs bytes, no more than the portable
 * kernel's scratch where the depth is whole octs. */
void tg_conv2d_triples8_s8_dsp(const tg_conv_params *p, const int8_t *input,
                               const int32_t *stream, int8_t *output, int8_t *scratch)
{
    const int32_t octs = (p->k_h * p->k_w * p->in_c + 7) / 8;
    const int32_t pixels = p->batches * p->out_h * p->out_w;
    const size_t image_bytes = (size_t)p->in_h * (size_t)p->in_w * (size_t)p->in_c;
    uint32_t *x8 = (uint32_t *)(void *)scratch;
    int8_t *const out0 = output;
    const int8_t *image = input;
    int32_t oy = 0;
    int32_t ox = 0;
    tg_triples_pass a;
    int32_t i;
    int32_t j;
    a.x16 = (const int32_t *)x8;
    a.x16_end = (const int32_t *)x8 + 6 * octs;
    a.stream = stream;
    a.stream_end = stream + (p->out_c / 2) * (8 + 4 * octs);
    a.odd = octs & 1;
    for (i = 0; i < pixels; i += 3) {
        /* A last group of one or two pixels repeats its last pixel. */
        const int32_t left = pixels - i;
        for (j = 0; j < 3; ++j) {
            if (j < left) {
                gather_words_dsp(p, image, oy * p->stride_h - p->pad_h,
                                 ox * p->stride_w - p->pad_w, x8 + j);
                if (++ox == p->out_w) {
                    ox = 0;
                    if (++oy == p->out_h) {
                        oy = 0;
                        image += image_bytes;
                    }
                }
            } else {
                int32_t k;
                for (k = 0; k < 2 * octs; ++k) {
                    x8[3 * k + j] = x8[3 * k + j - 1];
                }
            }
        }
        a.step1 = left > 1 ? p->out_c : 0;
        a.step2 = left > 2 ? 2 * p->out_c : a.step1;
        a.out = output;
        tg_triples8_pass_dsp(&a);
        output += 3 * p->out_c;
    }
    clamp_layer_dsp(p, out0);
}


/* tg_conv2d_triples_s8_dsp with its stream copied whole into scratch first,
 * so that it is read from flash once per layer, for models whose code
 * budget has no room for tg_conv2d_triples_ram_s8_dsp's own pass
 * (tinygen/plan/ops.py fit_stream_copies: ic01's strided 1x1 layers). The same
 * pass and the same order of reads and writes as tg_conv2d_triples_s8_dsp.
 * scratch: the stream, then tg_conv2d_triples_s8_dsp's scratch. */
void tg_conv2d_triples_copy_s8_dsp(const tg_conv_params *p, const int8_t *input,
                                   const int32_t *stream, int8_t *output, int8_t *scratch)
{
    const int32_t words = (p->out_c / 2) * (8 + 4 * ((p->k_h * p->k_w * p->in_c + 7) / 8));
    int32_t *ram = (int32_t *)(void *)scratch;
    copy_words_dsp(ram, stream, words);
    tg_conv2d_triples_s8_dsp(p, input, ram, output, scratch + 4 * words);
}

/* The frame of tg_triples8r_pass_dsp: tg_triples_pass's fields for the int8
 * inputs and the weights, then the compact records and 2 * zero point + 1. */
typedef struct {
    const uint32_t *x8;        /* 0: the pixel triple's inputs, interleaved */
    const uint32_t *x8_end;    /* 4 */
    const int32_t *weights;    /* 8 */
    const int32_t *weights_end; /* 12 */
    int8_t *out;               /* 16 */
    int32_t step1;             /* 20 */
    int32_t step2;             /* 24 */
    int32_t odd;               /* 28: octs & 1 */
    const uint8_t *records;    /* 32: 14 bytes per 2-channel block */
    int32_t k;                 /* 36: 2 * output zero point + 1 */
} tg_triples8r_pass;

/* One chunk (4 depth positions) of both channels and all three pixels from
 * int8 inputs, widened here: both weight words of the chunk are widened in
 * place (channel 1's pair, then channel 0's), each pixel's input word
 * through lr, which the pass frees by keeping the inputs' end in its frame:
 * 29 cycles for 24 MACs (TG_TRIPLES8_CHUNK reloads the inputs: 32). */
#define TG_TRIPLES8R_SIDE(ROR)                                    \
    "ldr    r11, [r1], #4\n\t"                                    \
    "sxtb16 r12, r11, ror #8\n\t"                                 \
    "sxtb16 r11, r11\n\t"                                         \
    "sxtb16 lr, r8" ROR "\n\t"                                    \
    "smlad  r2, r11, lr, r2\n\t"                                  \
    "smlad  r5, r12, lr, r5\n\t"                                  \
    "sxtb16 lr, r9" ROR "\n\t"                                    \
    "smlad  r3, r11, lr, r3\n\t"                                  \
    "smlad  r6, r12, lr, r6\n\t"                                  \
    "sxtb16 lr, r10" ROR "\n\t"                                   \
    "smlad  r4, r11, lr, r4\n\t"                                  \
    "smlad  r7, r12, lr, r7\n\t"
#define TG_TRIPLES8R_CHUNK                                        \
    "ldr    r9, [r0, #4]\n\t"                                     \
    "ldr    r10, [r0, #8]\n\t"                                    \
    "ldr    r8, [r0], #12\n\t"                                    \
    TG_TRIPLES8R_SIDE("") TG_TRIPLES8R_SIDE(", ror #8")
#define TG_TRIPLES8R_OCT TG_TRIPLES8R_CHUNK TG_TRIPLES8R_CHUNK

/* Every 2-channel block of the weights (16 * octs bytes each) against one
 * pixel triple's int8 inputs. A block's record (14 bytes, any alignment:
 * LDR takes unaligned addresses on these cores) is (bias << 5 | e) of
 * channel 0 and of channel 1 in 3 bytes each, then mult of channel 0 and
 * of channel 1; rz = 2^(e-1) + zero point * 2^e = (k << e) >> 1. Without
 * the negative-value fix (TG_TRIPLES_OUT_NOFIX: the planner takes this pass
 * only where act_min >= the output zero point). */
__attribute__((naked, noinline)) static void tg_triples8r_pass_dsp(const tg_triples8r_pass *a)
{
    __asm__("push   {r4-r11, lr}\n\t"
            "sub    sp, sp, #40\n\t"
            "ldm    r0, {r1-r10}\n\t"
            "stm    sp, {r1-r10}\n\t"
            "ldr    r1, [sp, #8]\n\t"
            "1:\n\t"
            "ldr    lr, [sp, #32]\n\t"
            "ldr    r0, [sp, #0]\n\t"
            "ldr    r2, [lr]\n\t"
            "ldr    r5, [lr, #3]\n\t"
            "ldr    r12, [sp, #28]\n\t"
            "sbfx   r2, r2, #5, #19\n\t"
            "sbfx   r5, r5, #5, #19\n\t"
            "mov    r3, r2\n\t"
            "mov    r4, r2\n\t"
            "mov    r6, r5\n\t"
            "mov    r7, r5\n\t"
            "cmp    r12, #0\n\t"
            "bne    5f\n\t"
            "4:\n\t"
            TG_TRIPLES8R_OCT
            "5:\n\t"
            TG_TRIPLES8R_OCT
            "ldr    r11, [sp, #4]\n\t"
            "cmp    r0, r11\n\t"
            "bne    4b\n\t"
            "ldr    lr, [sp, #32]\n\t"
            "ldr    r9, [lr]\n\t"
            "ldr    r12, [lr, #3]\n\t"
            "ldr    r8, [lr, #6]\n\t"
            "ldr    r11, [lr, #10]\n\t"
            "ldr    r0, [sp, #36]\n\t"
            "add    lr, lr, #14\n\t"
            "str    lr, [sp, #32]\n\t"
            "and    r9, r9, #31\n\t"
            "and    r12, r12, #31\n\t"
            "lsl    r10, r0, r9\n\t"
            "asr    r10, r10, #1\n\t"
            "lsl    lr, r0, r12\n\t"
            "asr    lr, lr, #1\n\t"
            TG_TRIPLES_BLOCK_STORE(TG_TRIPLES_OUT_NOFIX)
            "add    sp, sp, #40\n\t"
            "pop    {r4-r11, pc}\n\t");
    (void)a;
}

/* Word k of one pixel's inputs (words of them, an even number; x word
 * aligned: a pixel of whole octs in the arena, or a gathered patch) to
 * dst[3 * k], the pixel's column of the interleaved triple: four words per
 * LDM. */
__attribute__((noinline)) static void interleave_dsp(uint32_t *dst, const int8_t *x,
                                                     int32_t words)
{
    __asm__ volatile("tst    %[n], #2\n\t"
                     "beq    2f\n\t"
                     "ldm    %[x]!, {r3, r4}\n\t"
                     "str    r3, [%[d]]\n\t"
                     "str    r4, [%[d], #12]\n\t"
                     "add    %[d], %[d], #24\n\t"
                     "2:\n\t"
                     "lsrs   %[n], %[n], #2\n\t"
                     "beq    3f\n\t"
                     "1:\n\t"
                     "ldm    %[x]!, {r3, r4, r5, r6}\n\t"
                     "str    r3, [%[d]]\n\t"
                     "str    r4, [%[d], #12]\n\t"
                     "str    r5, [%[d], #24]\n\t"
                     "str    r6, [%[d], #36]\n\t"
                     "add    %[d], %[d], #48\n\t"
                     "subs   %[n], %[n], #1\n\t"
                     "bne    1b\n\t"
                     "3:\n\t"
                     : [d] "+r"(dst), [x] "+r"(x), [n] "+r"(words)
                     :
                     : "r3", "r4", "r5", "r6", "cc", "memory");
}

/* Convolutions with their whole stream copied into scratch where the
 * widened form does not fit (tinygen/plan/ops.py fit_compact_copies:
 * kws01, whose RAM has room for 4 KB of weights beside its activations but
 * not for tg_conv2d_triples_s8_dsp's stream and widened inputs). stream
 * (triples8_ram_stream): the weight words of tg_conv2d_triples_s8_dsp's
 * blocks, then the 14-byte records of tg_triples8r_pass_dsp, padded to 16
 * bytes. Every pixel triple's int8 inputs (in place, or gathered) are
 * interleaved word by word before any of its outputs is written, so the
 * output may overlap the input as tg_conv2d_triples_s8_dsp's. scratch: the
 * stream, the interleaved inputs (24 * octs bytes), a gathered patch
 * (8 * octs bytes, unless pointwise with whole octs of input channels). */
void tg_conv2d_triples8_ram_s8_dsp(const tg_conv_params *params, const int8_t *input,
                                   const int32_t *stream, int8_t *output, int8_t *scratch)
{
    tg_conv_params q;
    const tg_conv_params *p = &q;
    int32_t octs;
    int32_t weight_words;
    int32_t words;
    int32_t pixels;
    int direct;
    uint32_t *x8;
    int8_t *patch;
    int8_t *out0 = output;
    const int8_t *x = input;
    tg_triples_walk walk;
    tg_triples8r_pass a;
    int32_t i;
    int32_t j;
    copy_params_dsp(&q, params);
    octs = (p->k_h * p->k_w * p->in_c + 7) / 8;
    weight_words = (p->out_c / 2) * 4 * octs;
    words = weight_words + (14 * (p->out_c / 2) + 15) / 16 * 4;
    pixels = p->batches * p->out_h * p->out_w;
    direct = p->k_h == 1 && p->k_w == 1 && p->pad_h == 0 && p->pad_w == 0 && p->in_c % 8 == 0;
    x8 = (uint32_t *)(void *)(scratch + 4 * words);
    patch = (int8_t *)(x8 + 6 * octs);
    copy_words_dsp((int32_t *)(void *)scratch, stream, words);
    walk.image = input;
    walk.oy = 0;
    walk.ox = 0;
    a.x8 = x8;
    a.x8_end = x8 + 6 * octs;
    a.weights = (const int32_t *)(const void *)scratch;
    a.weights_end = a.weights + weight_words;
    a.odd = octs & 1;
    a.k = 2 * p->output_zero_point + 1;
    for (i = 0; i < pixels; i += 3, output += 3 * p->out_c) {
        /* A last one or two pixels: the last repeated, its outputs written twice. */
        const int32_t left = pixels - i;
        for (j = 0; j < 3; ++j) {
            if (j < left) {
                x = next_pixel_dsp(p, direct, &walk, patch);
            }
            interleave_dsp(x8 + j, x, 2 * octs);
        }
        a.step1 = left > 1 ? p->out_c : 0;
        a.step2 = left > 2 ? 2 * p->out_c : a.step1;
        a.out = output;
        a.records = (const uint8_t *)(const void *)a.weights_end;
        tg_triples8r_pass_dsp(&a);
    }
    clamp_layer_dsp(p, out0);
}
