/*
 * int8 2-D convolution on the Cortex-M55 (Helium, see tg_mve.h), the
 * variant of conv2d_s8.c with the same arguments, bit-exact with it, in two
 * phases per output pixel:
 *
 * 1. the dot products: for each block of 4 rows of the MVE blocked layout
 *    (tg_mve.h: per chunk of 16 depth positions, the 4 rows' 16 bytes), a
 *    low-overhead loop loads the chunk of input once and each row's bytes
 *    once into a VMLADAVA.S8 (10 instructions per 64 MACs), the 4 sums
 *    stored to an int32 array in scratch (11 more per block); the last
 *    partial chunk runs under a tail predicate, so nothing past the input
 *    is read;
 * 2. the requantization of the whole array, 4 channels per step, with the
 *    form fixed outside the loop: in fast mode in assembly on planar
 *    records (per 4 channels bias, mult, -e, rz: layout_mve.py
 *    planar_records), else tg_mve_requant_records on the VLD4 split.
 *
 * Inputs of up to 32 depth positions are loaded once for all rows; 1x1
 * layers of up to 16 take two pixels at a time, sharing the weight loads.
 *
 * The pixel (1x1 kernels without padding) or its gathered receptive field
 * (tg_mve_gather_patch, below) is read completely in phase 1
 * before phase 2 writes the pixel's outputs, which is what the planner's
 * overlap of output and input allows (tinygen/plan/memory.py), so 1x1
 * layers read the input in place, without a copy.
 *
 * scratch (layout_mve.py conv_rows_scratch): the int32 sums (out_c rounded
 * up to 4; twice, for two pixels, in 1x1 layers of up to 16), then unless the layer is 1x1 without padding the receptive
 * field (whole chunks) and, for small ones, the gather plan (48 bytes per
 * 8 depth positions).
 */
#include "tg_kernels.h"
#include "tg_mve.h"

static inline void tg_mve_gather_patch(const tg_conv_params *p, const int8_t *image,
                                       int32_t iy0, int32_t ix0, int8_t *patch)
{
    const int32_t row = p->in_c;
    const int32_t span = row * p->k_w;
    int32_t ky;
    int32_t kx;
    for (ky = 0; ky < p->k_h; ++ky, patch += span) {
        const int32_t iy = iy0 + ky * p->dil_h;
        const int8_t *line = image + (size_t)iy * (size_t)p->in_w * (size_t)row;
        if (iy < 0 || iy >= p->in_h) {
            tg_mve_fill(patch, p->input_zero_point, span);
        } else if (p->dil_w == 1 && ix0 >= 0 && ix0 + p->k_w <= p->in_w) {
            tg_mve_copy(patch, line + (size_t)ix0 * (size_t)row, span);
        } else {
            for (kx = 0; kx < p->k_w; ++kx) {
                const int32_t ix = ix0 + kx * p->dil_w;
                if (ix < 0 || ix >= p->in_w) {
                    tg_mve_fill(patch + kx * row, p->input_zero_point, row);
                } else {
                    tg_mve_copy(patch + kx * row, line + (size_t)ix * (size_t)row, row);
                }
            }
        }
    }
}

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

/* conv_rows_dot for k_len <= 16: the input is loaded once (predicated),
 * each block is 4 weight loads, 4 VMLADAV and 2 stores. */
static inline void conv_rows_dot1(const int8_t *x, const int8_t *w, int32_t n, int32_t k_len,
                                  int32_t *acc)
{
    int32_t a0, a1, a2, a3;
    int8x16_t w0, w1;
    const int8x16_t xv = vldrbq_z_s8(x, vctp8q((uint32_t)k_len));
    __asm__ volatile(
        "wls    lr, %[blocks], 2f\n\t"
        "1:\n\t"
        "vldrb.u8     %q[w0], [%[w]], #16\n\t"
        "vldrb.u8     %q[w1], [%[w]], #16\n\t"
        "vmladav.s8   %[a0], %q[xv], %q[w0]\n\t"
        "vldrb.u8     %q[w0], [%[w]], #16\n\t"
        "vmladav.s8   %[a1], %q[xv], %q[w1]\n\t"
        "vldrb.u8     %q[w1], [%[w]], #16\n\t"
        "vmladav.s8   %[a2], %q[xv], %q[w0]\n\t"
        "vmladav.s8   %[a3], %q[xv], %q[w1]\n\t"
        "strd   %[a0], %[a1], [%[acc]], #8\n\t"
        "strd   %[a2], %[a3], [%[acc]], #8\n\t"
        "le     lr, 1b\n\t"
        "2:\n\t"
        : [a0] "=&Te"(a0), [a1] "=&Te"(a1), [a2] "=&Te"(a2), [a3] "=&Te"(a3), [w] "+r"(w),
          [acc] "+r"(acc), [w0] "=&w"(w0), [w1] "=&w"(w1)
        : [xv] "w"(xv), [blocks] "r"((n + 3) >> 2)
        : "lr", "memory");
}

/* conv_rows_dot1 for two pixels: each block's 4 weight vectors are loaded
 * once for both (the sums of xa to acc, of xb to acc_b). */
static inline void conv_rows_dot1_pair(const int8_t *xa, const int8_t *xb, const int8_t *w,
                                       int32_t n, int32_t k_len, int32_t *acc, int32_t *acc_b)
{
    int32_t a0, a1, a2, a3;
    int8x16_t w0, w1, w2, w3;
    const mve_pred16_t tail = vctp8q((uint32_t)k_len);
    const int8x16_t va = vldrbq_z_s8(xa, tail);
    const int8x16_t vb = vldrbq_z_s8(xb, tail);
    __asm__ volatile(
        "wls    lr, %[blocks], 2f\n\t"
        "1:\n\t"
        "vldrb.u8     %q[w0], [%[w]], #16\n\t"
        "vldrb.u8     %q[w1], [%[w]], #16\n\t"
        "vmladav.s8   %[a0], %q[va], %q[w0]\n\t"
        "vldrb.u8     %q[w2], [%[w]], #16\n\t"
        "vmladav.s8   %[a1], %q[va], %q[w1]\n\t"
        "vldrb.u8     %q[w3], [%[w]], #16\n\t"
        "vmladav.s8   %[a2], %q[va], %q[w2]\n\t"
        "vmladav.s8   %[a3], %q[va], %q[w3]\n\t"
        "strd   %[a0], %[a1], [%[acc]], #8\n\t"
        "strd   %[a2], %[a3], [%[acc]], #8\n\t"
        "vmladav.s8   %[a0], %q[vb], %q[w0]\n\t"
        "vmladav.s8   %[a1], %q[vb], %q[w1]\n\t"
        "vmladav.s8   %[a2], %q[vb], %q[w2]\n\t"
        "vmladav.s8   %[a3], %q[vb], %q[w3]\n\t"
        "strd   %[a0], %[a1], [%[accb]], #8\n\t"
        "strd   %[a2], %[a3], [%[accb]], #8\n\t"
        "le     lr, 1b\n\t"
        "2:\n\t"
        : [a0] "=&Te"(a0), [a1] "=&Te"(a1), [a2] "=&Te"(a2), [a3] "=&Te"(a3), [w] "+r"(w),
          [acc] "+r"(acc), [accb] "+r"(acc_b), [w0] "=&w"(w0), [w1] "=&w"(w1), [w2] "=&w"(w2),
          [w3] "=&w"(w3)
        : [va] "w"(va), [vb] "w"(vb), [blocks] "r"((n + 3) >> 2)
        : "lr", "memory");
}

/* conv_rows_dot for 16 < k_len <= 32: both chunks of the input loaded once
 * (the second predicated), each block 8 weight loads and 8 VMLADAV(A). */
static inline void conv_rows_dot2(const int8_t *x, const int8_t *w, int32_t n, int32_t k_len,
                                  int32_t *acc)
{
    int32_t a0, a1, a2, a3;
    int8x16_t w0, w1;
    const int8x16_t x0 = vldrbq_s8(x);
    const int8x16_t x1 = vldrbq_z_s8(x + 16, vctp8q((uint32_t)(k_len - 16)));
    __asm__ volatile(
        "wls    lr, %[blocks], 2f\n\t"
        "1:\n\t"
        "vldrb.u8     %q[w0], [%[w]], #16\n\t"
        "vldrb.u8     %q[w1], [%[w]], #16\n\t"
        "vmladav.s8   %[a0], %q[x0], %q[w0]\n\t"
        "vldrb.u8     %q[w0], [%[w]], #16\n\t"
        "vmladav.s8   %[a1], %q[x0], %q[w1]\n\t"
        "vldrb.u8     %q[w1], [%[w]], #16\n\t"
        "vmladav.s8   %[a2], %q[x0], %q[w0]\n\t"
        "vldrb.u8     %q[w0], [%[w]], #16\n\t"
        "vmladav.s8   %[a3], %q[x0], %q[w1]\n\t"
        "vldrb.u8     %q[w1], [%[w]], #16\n\t"
        "vmladava.s8  %[a0], %q[x1], %q[w0]\n\t"
        "vldrb.u8     %q[w0], [%[w]], #16\n\t"
        "vmladava.s8  %[a1], %q[x1], %q[w1]\n\t"
        "vldrb.u8     %q[w1], [%[w]], #16\n\t"
        "vmladava.s8  %[a2], %q[x1], %q[w0]\n\t"
        "vmladava.s8  %[a3], %q[x1], %q[w1]\n\t"
        "strd   %[a0], %[a1], [%[acc]], #8\n\t"
        "strd   %[a2], %[a3], [%[acc]], #8\n\t"
        "le     lr, 1b\n\t"
        "2:\n\t"
        : [a0] "=&Te"(a0), [a1] "=&Te"(a1), [a2] "=&Te"(a2), [a3] "=&Te"(a3), [w] "+r"(w),
          [acc] "+r"(acc), [w0] "=&w"(w0), [w1] "=&w"(w1)
        : [x0] "w"(x0), [x1] "w"(x1), [blocks] "r"((n + 3) >> 2)
        : "lr", "memory");
}

/* One group of 4 channels in fast mode (tg_mve_requant_records' fast form
 * on planar records, layout_mve.py planar_records: bias, mult, -e, rz). */
static inline void conv_rows_requant_fast(const int32_t *acc, int32_t n, const int32_t *g,
                                          int32_t act_min, int32_t act_max, int8_t *out)
{
    const int32x4_t lo = vdupq_n_s32(act_min);
    const int32x4_t hi = vdupq_n_s32(act_max);
    const int32_t whole = n >> 2;
    int32x4_t a, t;
    /* assembly: GCC's schedule of the C form spills the records */
    __asm__ volatile(
        "wls        lr, %[whole], 2f\n\t"
        "1:\n\t"
        "vldrw.u32  %q[a], [%[acc]], #16\n\t"
        "vldrw.u32  %q[t], [%[g]], #16\n\t"
        "vadd.i32   %q[a], %q[a], %q[t]\n\t"
        "vldrw.u32  %q[t], [%[g]], #16\n\t"
        "vqrdmulh.s32 %q[a], %q[a], %q[t]\n\t"
        "vshr.s32   %q[t], %q[a], #31\n\t"
        "vadd.i32   %q[a], %q[a], %q[t]\n\t"
        "vldrw.u32  %q[t], [%[g], #16]\n\t"
        "vadd.i32   %q[a], %q[a], %q[t]\n\t"
        "vldrw.u32  %q[t], [%[g]], #32\n\t"
        "vshl.s32   %q[a], %q[a], %q[t]\n\t"
        "vmax.s32   %q[a], %q[a], %q[lo]\n\t"
        "vmin.s32   %q[a], %q[a], %q[hi]\n\t"
        "vstrb.32   %q[a], [%[out]], #4\n\t"
        "le         lr, 1b\n\t"
        "2:\n\t"
        : [a] "=&w"(a), [t] "=&w"(t), [acc] "+r"(acc), [g] "+r"(g), [out] "+r"(out)
        : [whole] "r"(whole), [lo] "w"(lo), [hi] "w"(hi)
        : "lr", "memory");
    if (n & 3) {
        int32x4_t h = vqrdmulhq_s32(vaddq_s32(vldrwq_s32(acc), vldrwq_s32(g)), vldrwq_s32(g + 4));
        h = vaddq_s32(h, vshrq_n_s32(h, 31));
        h = vshlq_s32(vaddq_s32(h, vldrwq_s32(g + 12)), vldrwq_s32(g + 8));
        tg_mve_store(out, vminq_s32(vmaxq_s32(h, lo), hi), n & 3);
    }
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

/* The receptive field of small convolutions (k_len <= 16 * TG_CONV_ROWS_GATHER
 * chunks) by gathered loads: for each 8 depth positions (a half chunk),
 * their byte offsets from the window's corner and their kernel row and
 * column (times the dilation), as int16 lanes, worked out once per layer.
 * A pixel's patch is then 2 instructions per 8 bytes inside the image
 * (VLDRB.S16 gather, narrowing store), and at the borders 4 predicated
 * compares build the lanes inside the image, the others taking the input
 * zero point (VPSEL). Lanes past k_len gather offset 0; their weights are 0. */
#define TG_CONV_ROWS_GATHER 4

typedef struct {
    uint16_t offset[8];
    int16_t row[8];
    int16_t col[8];
} conv_rows_half;

static int conv_rows_gather_plan(const tg_conv_params *p, int32_t k_len, conv_rows_half *plan)
{
    const int32_t halves = 2 * ((k_len + 15) >> 4);
    const int32_t reach = (((p->k_h - 1) * p->dil_h * p->in_w) + (p->k_w - 1) * p->dil_w + 1)
                          * p->in_c;
    int32_t i;
    if (k_len > 16 * TG_CONV_ROWS_GATHER || reach > 65535) {
        return 0;
    }
    for (i = 0; i < 8 * halves; ++i) {
        const int32_t k = i < k_len ? i : 0;
        const int32_t ky = k / (p->k_w * p->in_c);
        const int32_t kx = (k / p->in_c) % p->k_w;
        conv_rows_half *h = plan + (i >> 3);
        h->offset[i & 7] = (uint16_t)((ky * p->dil_h * p->in_w + kx * p->dil_w) * p->in_c
                                      + k % p->in_c);
        h->row[i & 7] = (int16_t)(ky * p->dil_h);
        h->col[i & 7] = (int16_t)(kx * p->dil_w);
    }
    return halves;
}

static inline void conv_rows_gather(const tg_conv_params *p, const conv_rows_half *plan,
                                    int32_t halves, const int8_t *image, int32_t iy0,
                                    int32_t ix0, int8_t *patch)
{
    /* the window's corner; outside the image at the borders, where only the
     * lanes inside are loaded */
    const int8_t *corner = (const int8_t *)((uintptr_t)image
        + (uintptr_t)(((intptr_t)iy0 * p->in_w + ix0) * p->in_c));
    int32_t h;
    if (iy0 >= 0 && ix0 >= 0 && iy0 + (p->k_h - 1) * p->dil_h < p->in_h
            && ix0 + (p->k_w - 1) * p->dil_w < p->in_w) {
        for (h = 0; h < halves; ++h, patch += 8) {
            vstrbq_s16(patch, vldrbq_gather_offset_s16(corner, vld1q_u16(plan[h].offset)));
        }
        return;
    }
    {
        const int16x8_t zp = vdupq_n_s16((int16_t)p->input_zero_point);
        for (h = 0; h < halves; ++h, patch += 8) {
            const int16x8_t row = vld1q_s16(plan[h].row);
            const int16x8_t col = vld1q_s16(plan[h].col);
            mve_pred16_t in = vcmpgeq_n_s16(row, (int16_t)-iy0);
            in = vcmpltq_m_n_s16(row, (int16_t)(p->in_h - iy0), in);
            in = vcmpgeq_m_n_s16(col, (int16_t)-ix0, in);
            in = vcmpltq_m_n_s16(col, (int16_t)(p->in_w - ix0), in);
            vstrbq_s16(patch, vpselq_s16(
                vldrbq_gather_offset_z_s16(corner, vld1q_u16(plan[h].offset), in), zp, in));
        }
    }
}

/* The sums of one pixel's input x (see conv_rows_dot*). */
static inline void conv_rows_sums(const int8_t *x, const int8_t *filter, int32_t n,
                                  int32_t k_len, int32_t *acc)
{
    if (k_len <= 16) {
        conv_rows_dot1(x, filter, n, k_len, acc);
    } else if (k_len <= 32) {
        conv_rows_dot2(x, filter, n, k_len, acc);
    } else {
        conv_rows_dot(x, filter, n, k_len >> 4, k_len & 15, acc);
    }
}

void tg_conv2d_s8_mve(const tg_conv_params *p, const int8_t *input, const int8_t *filter,
                           const tg_chan_quant *quant, int8_t *output, int8_t *scratch)
{
    /* Locals, not p->: the assembly's memory clobber would reload those per pixel. */
    const int32_t k_len = p->k_h * p->k_w * p->in_c;
    const int direct = p->k_h == 1 && p->k_w == 1 && p->pad_h == 0 && p->pad_w == 0;
    const int fast = p->fast;
    const int32_t n = p->out_c;
    const int32_t out_h = p->out_h;
    const int32_t out_w = p->out_w;
    const int32_t lo = p->act_min;
    const int32_t hi = p->act_max;
    const size_t row_bytes = (size_t)p->in_w * (size_t)p->in_c;
    const size_t step_x = (size_t)p->stride_w * (size_t)p->in_c;
    const size_t step_y = (size_t)p->stride_h * row_bytes;
    const size_t image_bytes = (size_t)p->in_h * row_bytes;
    const int32_t *planar = (const int32_t *)(const void *)quant;
    const tg_mve_out o_generic = {0, p->output_zero_point, lo, hi};
    const int32_t n4 = (n + 3) & ~3;
    int32_t *acc = (int32_t *)(void *)scratch;
    int8_t *patch = scratch + 4 * (size_t)n4 * (size_t)(direct && k_len <= 16 ? 2 : 1);
    conv_rows_half *plan = (conv_rows_half *)(void *)(patch + ((k_len + 15) & ~15));
    const int32_t halves = direct ? 0 : conv_rows_gather_plan(p, k_len, plan);
    int32_t b;
    int32_t oy;
    int32_t ox;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *image = input + (size_t)b * image_bytes;
        const int8_t *line = image;    /* 1x1: the input pixel of (oy, 0) */
        for (oy = 0; oy < out_h; ++oy, line += step_y) {
            const int32_t iy0 = oy * p->stride_h - p->pad_h;
            const int8_t *x = line;
            for (ox = 0; ox < out_w; ++ox, x += step_x, output += n) {
                if (direct && k_len <= 16 && ox + 1 < out_w) {
                    /* narrow 1x1 layers: two pixels share the weight loads */
                    conv_rows_dot1_pair(x, x + step_x, filter, n, k_len, acc, acc + n4);
                    if (fast) {
                        conv_rows_requant_fast(acc, n, planar, lo, hi, output);
                        conv_rows_requant_fast(acc + n4, n, planar, lo, hi, output + n);
                    } else {
                        conv_rows_requant(acc, n, quant, &o_generic, output);
                        conv_rows_requant(acc + n4, n, quant, &o_generic, output + n);
                    }
                    ++ox;
                    x += step_x;
                    output += n;
                    continue;
                }
                if (direct) {
                    conv_rows_sums(x, filter, n, k_len, acc);
                } else {
                    const int32_t ix0 = ox * p->stride_w - p->pad_w;
                    if (halves > 0) {
                        conv_rows_gather(p, plan, halves, image, iy0, ix0, patch);
                    } else {
                        tg_mve_gather_patch(p, image, iy0, ix0, patch);
                    }
                    conv_rows_sums(patch, filter, n, k_len, acc);
                }
                if (fast) {
                    conv_rows_requant_fast(acc, n, planar, lo, hi, output);
                } else {
                    conv_rows_requant(acc, n, quant, &o_generic, output);
                }
            }
        }
    }
}

