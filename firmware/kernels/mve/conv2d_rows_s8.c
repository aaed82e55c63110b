/*
 * Helium convolution (the planner picks it for mve layouts,
 * tinygen/plan/layout_mve.py), bit-exact with conv2d_s8.c, in two phases
 * per output pixel:
 *
 * 1. the dot products: for each block of 4 rows of the MVE blocked layout
 *    (tg_mve.h: per chunk of 16 depth positions, the 4 rows' 16 bytes), a
 *    low-overhead loop loads the chunk of input once and each row's bytes
 *    once into a VMLADAVA.S8 (10 instructions per 64 MACs), the 4 sums
 *    stored to an int32 array in scratch (11 more per block); the last
 *    partial chunk runs under a tail predicate, so nothing past the input
 *    is read;
 * 2. the requantization of the whole array, 4 channels per step (VLD4 of
 *    the records, tg_mve_requant_records), with the requantization form
 *    fixed outside the loop.
 *
 * The pixel (1x1 kernels without padding) or its gathered receptive field
 * (tg_mve_gather_patch, tg_conv_mve.h) is read completely in phase 1
 * before phase 2 writes the pixel's outputs, which is what the planner's
 * overlap of output and input allows (tinygen/plan/memory.py), so 1x1
 * layers read the input in place, without a copy.
 *
 * scratch (layout_mve.py conv_rows_scratch): the int32 sums (out_c rounded
 * up to 4), then the receptive field (unless 1x1 without padding).
 */
#include "tg_conv_mve.h"
#include "tg_kernels.h"
#include "tg_mve.h"

#if TG_MVE

/* acc[4 * i + j] = row j of block i's dot product with x, for the blocks
 * of n rows (n > 0): body whole chunks, then a predicated tail of tail_len
 * bytes when tail_len > 0. One assembly loop over blocks and chunks: GCC's
 * schedule of the C form reloads the loop state from the stack per block. */
static inline void conv_rows_dot(const int8_t *x, const int8_t *w, int32_t n, int32_t body,
                                 int32_t tail_len, int32_t *acc)
{
    int32_t a0, a1, a2, a3;
    int32_t blocks = (n + 3) >> 2;
    const int8_t *xp;
    int8x16_t xv, w0, w1;
    /* VMLADAVA takes an even register (constraint Te); volatile: the sums
     * leave through memory, not the outputs. */
    __asm__ volatile("1:\n\t"
            "movs   %[a0], #0\n\t"
            "movs   %[a1], #0\n\t"
            "movs   %[a2], #0\n\t"
            "movs   %[a3], #0\n\t"
            "mov    %[xp], %[x]\n\t"
            "wls    lr, %[body], 3f\n\t"
            "2:\n\t"
            "vldrb.u8     %q[xv], [%[xp]], #16\n\t"
            "vldrb.u8     %q[w0], [%[w]], #16\n\t"
            "vldrb.u8     %q[w1], [%[w]], #16\n\t"
            "vmladava.s8  %[a0], %q[xv], %q[w0]\n\t"
            "vldrb.u8     %q[w0], [%[w]], #16\n\t"
            "vmladava.s8  %[a1], %q[xv], %q[w1]\n\t"
            "vldrb.u8     %q[w1], [%[w]], #16\n\t"
            "vmladava.s8  %[a2], %q[xv], %q[w0]\n\t"
            "vmladava.s8  %[a3], %q[xv], %q[w1]\n\t"
            "le     lr, 2b\n\t"
            "3:\n\t"
            "cmp    %[tail], #0\n\t"
            "beq    4f\n\t"
            /* the padded weights are zero: only the input needs the predicate */
            "vctp.8       %[tail]\n\t"
            "vpst\n\t"
            "vldrbt.u8    %q[xv], [%[xp]]\n\t"
            "vldrb.u8     %q[w0], [%[w]], #16\n\t"
            "vldrb.u8     %q[w1], [%[w]], #16\n\t"
            "vmladava.s8  %[a0], %q[xv], %q[w0]\n\t"
            "vldrb.u8     %q[w0], [%[w]], #16\n\t"
            "vmladava.s8  %[a1], %q[xv], %q[w1]\n\t"
            "vldrb.u8     %q[w1], [%[w]], #16\n\t"
            "vmladava.s8  %[a2], %q[xv], %q[w0]\n\t"
            "vmladava.s8  %[a3], %q[xv], %q[w1]\n\t"
            "4:\n\t"
            "strd   %[a0], %[a1], [%[acc]], #8\n\t"
            "strd   %[a2], %[a3], [%[acc]], #8\n\t"
            "subs   %[blocks], %[blocks], #1\n\t"
            "bne    1b\n\t"
            : [a0] "=&Te"(a0), [a1] "=&Te"(a1), [a2] "=&Te"(a2), [a3] "=&Te"(a3),
              [xp] "=&r"(xp), [w] "+r"(w), [acc] "+r"(acc), [blocks] "+r"(blocks),
              [xv] "=&w"(xv), [w0] "=&w"(w0), [w1] "=&w"(w1)
            : [x] "r"(x), [body] "r"(body), [tail] "r"(tail_len)
            : "lr", "memory", "cc");
}

/* out[o] for o < n from the sums acc[o]; o->fast fixed by the caller. */
static inline void conv_rows_requant(const int32_t *acc, int32_t n, const tg_chan_quant *q,
                                     const tg_mve_out *o, int8_t *out)
{
    int32_t r = 0;
    for (; r + 4 <= n; r += 4) {
        vstrbq_s32(out + r, tg_mve_requant_records(
            vldrwq_s32(acc + r), vld4q_s32((const int32_t *)(const void *)(q + r)), o, 0));
    }
    if (r < n) {
        tg_mve_store(out + r, tg_mve_requant_records(
            vldrwq_s32(acc + r), vld4q_s32((const int32_t *)(const void *)(q + r)), o, 0), n - r);
    }
}

void tg_conv2d_s8_mve_rows(const tg_conv_params *p, const int8_t *input, const int8_t *filter,
                           const tg_chan_quant *quant, int8_t *output, int8_t *scratch)
{
    const int32_t k_len = p->k_h * p->k_w * p->in_c;
    const int32_t body = k_len >> 4;
    const int32_t tail_len = k_len & 15;
    const int direct = p->k_h == 1 && p->k_w == 1 && p->pad_h == 0 && p->pad_w == 0;
    const int32_t n = p->out_c;
    const size_t image_bytes = (size_t)p->in_h * (size_t)p->in_w * (size_t)p->in_c;
    const tg_mve_out o_fast = {1, p->output_zero_point, p->act_min, p->act_max};
    const tg_mve_out o_generic = {0, p->output_zero_point, p->act_min, p->act_max};
    int32_t *acc = (int32_t *)(void *)scratch;
    int8_t *patch = scratch + 4 * (size_t)((n + 3) & ~3);
    int32_t b;
    int32_t oy;
    int32_t ox;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *image = input + (size_t)b * image_bytes;
        for (oy = 0; oy < p->out_h; ++oy) {
            const int32_t iy0 = oy * p->stride_h - p->pad_h;
            for (ox = 0; ox < p->out_w; ++ox) {
                const int32_t ix0 = ox * p->stride_w - p->pad_w;
                const int8_t *x = patch;
                if (direct) {
                    x = image + ((size_t)iy0 * (size_t)p->in_w + (size_t)ix0) * (size_t)p->in_c;
                } else {
                    tg_mve_gather_patch(p, image, iy0, ix0, patch);
                }
                conv_rows_dot(x, filter, n, body, tail_len, acc);
                if (p->fast) {
                    conv_rows_requant(acc, n, quant, &o_fast, output);
                } else {
                    conv_rows_requant(acc, n, quant, &o_generic, output);
                }
                output += n;
            }
        }
    }
}

#endif
