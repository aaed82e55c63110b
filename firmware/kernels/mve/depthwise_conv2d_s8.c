/*
 * int8 depthwise 2-D convolution on the Cortex-M55 (Helium, see tg_mve.h),
 * the variant of depthwise_conv2d_s8.c with the same arguments, bit-exact
 * with it, on the constants of the MVE layout (tinygen/plan/layout_mve.py:
 * int16 taps [tap][out_c], doubled in fast mode; with depth multiplier 1
 * each whole group of 8 channels' records in the order 0, 2, 4, 6, 1, 3, 5,
 * 7). Depth multiplier 1, in two phases per output pixel:
 *
 * 1. the sums: one assembly loop over the groups of 16 channels, each a
 *    low-overhead loop over the taps (VLDRB.S16 / VLDRH.S16 of 8 channels'
 *    inputs and weights, VMULLB / VMULLT into even and odd int32
 *    accumulators), the 4 accumulators stored to an int32 array in scratch
 *    in the records' order; then a group of 8 the same way (assembly too:
 *    narrow early layers are all such groups), and the last channels 4 at
 *    a time under a predicate;
 * 2. the requantization of the array with the form fixed outside the loop,
 *    VMOVNB / VMOVNT interleaving each group of 8 back into channel order
 *    for one narrowing store. In fast mode the records come planar, per
 *    group of 4 channels bias, mult, -e, rz (layout_mve.py
 *    planar_records), so 4 plain loads fetch them and no negation is
 *    needed; the generic form reads tg_chan_quant records.
 *
 * Every tap of the pixel is read before its outputs are written, which the
 * planner's overlap of output and input allows (tinygen/plan/memory.py).
 * Depth multipliers above 1 take a plain 4-channel loop (depthwise_multiplier,
 * scratch as the portable kernel's: tap words and offsets, zero-point row).
 *
 * Layers of 8 channels (narrow early ones) take interior pixels two at a
 * time, one weight load serving both.
 *
 * scratch with multiplier 1 (layout_mve.py depthwise_rows_scratch): the int32 sums (out_c
 * rounded up to 4, twice: two pixels' for 8 channels), k_h*k_w tap words, k_h*k_w tap offsets, then one row of
 * in_c bytes holding the input zero point, read by taps outside the image.
 * Every tap's input address is word[t] + base + c: pointers (base 0) at the
 * borders, offsets from the window's corner (base the corner) inside.
 */
#include "tg_kernels.h"
#include "tg_mve.h"

/* 8 channels of one tap: VLDRB.S16 / VLDRH.S16 of inputs and weights,
 * VMULLB / VMULLT into the even and odd accumulators. */
#define TG_DWR_HALF(E, O, XOFF, WOFF)                          \
    "vldrb.s16  %q[xv], [%[x], #" XOFF "]\n\t"               \
    "vldrh.u16  %q[wv], [%[w], #" WOFF "]\n\t"               \
    "vmullb.s16 %q[pr], %q[xv], %q[wv]\n\t"                  \
    "vadd.i32   %q[" E "], %q[" E "], %q[pr]\n\t"            \
    "vmullt.s16 %q[pr], %q[xv], %q[wv]\n\t"                  \
    "vadd.i32   %q[" O "], %q[" O "], %q[pr]\n\t"

/* Sums of groups16 (> 0) groups of 16 channels from channel 0, to acc. */
static inline void dwr_sums16(const uint32_t *words, uint32_t base, const int16_t *filter,
                              int32_t taps_n, int32_t stride, int32_t groups16, int32_t *acc)
{
    int32x4_t e0, o0, e1, o1, pr;
    int16x8_t xv, wv;
    const uint32_t *tp;
    const int16_t *w;
    uint32_t x;
    /* volatile: the sums leave through memory, not the outputs; x: the
     * widening loads take a low register */
    __asm__ volatile(
        "1:\n\t"
        "vmov.i32   %q[e0], #0\n\t"
        "vmov.i32   %q[o0], #0\n\t"
        "vmov.i32   %q[e1], #0\n\t"
        "vmov.i32   %q[o1], #0\n\t"
        "mov        %[tp], %[words]\n\t"
        "mov        %[w], %[filter]\n\t"
        "dls        lr, %[taps]\n\t"
        "2:\n\t"
        "ldr        %[x], [%[tp]], #4\n\t"
        "add        %[x], %[x], %[at]\n\t"
        TG_DWR_HALF("e0", "o0", "0", "0")
        TG_DWR_HALF("e1", "o1", "8", "16")
        "add        %[w], %[w], %[stride]\n\t"
        "le         lr, 2b\n\t"
        "vstrw.32   %q[e0], [%[acc]], #16\n\t"
        "vstrw.32   %q[o0], [%[acc]], #16\n\t"
        "vstrw.32   %q[e1], [%[acc]], #16\n\t"
        "vstrw.32   %q[o1], [%[acc]], #16\n\t"
        "add        %[at], %[at], #16\n\t"
        "add        %[filter], %[filter], #32\n\t"
        "subs       %[groups], %[groups], #1\n\t"
        "bne        1b\n\t"
        : [e0] "=&w"(e0), [o0] "=&w"(o0), [e1] "=&w"(e1), [o1] "=&w"(o1), [pr] "=&w"(pr),
          [xv] "=&w"(xv), [wv] "=&w"(wv), [tp] "=&r"(tp), [w] "=&r"(w), [x] "=&l"(x),
          [at] "+r"(base), [filter] "+r"(filter), [groups] "+r"(groups16), [acc] "+r"(acc)
        : [words] "r"(words), [taps] "r"(taps_n), [stride] "r"(stride)
        : "lr", "memory", "cc");
}

/* Sums of the 8 channels from channel c0 (base already offset by c0,
 * filter by c0), to acc. */
static inline void dwr_sums8(const uint32_t *words, uint32_t base, const int16_t *filter,
                             int32_t taps_n, int32_t stride, int32_t *acc)
{
    int32x4_t e0, o0, pr;
    int16x8_t xv, wv;
    const uint32_t *tp = words;
    uint32_t x;
    __asm__ volatile(
        "vmov.i32   %q[e0], #0\n\t"
        "vmov.i32   %q[o0], #0\n\t"
        "dls        lr, %[taps]\n\t"
        "1:\n\t"
        "ldr        %[x], [%[tp]], #4\n\t"
        "add        %[x], %[x], %[at]\n\t"
        TG_DWR_HALF("e0", "o0", "0", "0")
        "add        %[w], %[w], %[stride]\n\t"
        "le         lr, 1b\n\t"
        "vstrw.32   %q[e0], [%[acc]]\n\t"
        "vstrw.32   %q[o0], [%[acc], #16]\n\t"
        : [e0] "=&w"(e0), [o0] "=&w"(o0), [pr] "=&w"(pr), [xv] "=&w"(xv), [wv] "=&w"(wv),
          [tp] "+r"(tp), [w] "+r"(filter), [x] "=&l"(x)
        : [at] "r"(base), [taps] "r"(taps_n), [stride] "r"(stride), [acc] "r"(acc)
        : "lr", "memory");
}

/* Sums of 8 channels for two interior pixels, the second's taps step
 * bytes after the first's (offsets from the corner base), to acc and
 * acc + 8: one weight load serves both pixels. */
static inline void dwr_sums8_pair(const uint32_t *offsets, uint32_t base, uint32_t step,
                                  const int16_t *filter, int32_t taps_n, int32_t stride,
                                  int32_t *acc)
{
    int32x4_t e0, o0, e1, o1, pr;
    int16x8_t xv, wv;
    const uint32_t *tp = offsets;
    uint32_t x, y;
    __asm__ volatile(
        "vmov.i32   %q[e0], #0\n\t"
        "vmov.i32   %q[o0], #0\n\t"
        "vmov.i32   %q[e1], #0\n\t"
        "vmov.i32   %q[o1], #0\n\t"
        "dls        lr, %[taps]\n\t"
        "1:\n\t"
        "ldr        %[x], [%[tp]], #4\n\t"
        "add        %[x], %[x], %[at]\n\t"
        "add        %[y], %[x], %[step]\n\t"
        "vldrh.u16  %q[wv], [%[w]]\n\t"
        "vldrb.s16  %q[xv], [%[x]]\n\t"
        "vmullb.s16 %q[pr], %q[xv], %q[wv]\n\t"
        "vadd.i32   %q[e0], %q[e0], %q[pr]\n\t"
        "vmullt.s16 %q[pr], %q[xv], %q[wv]\n\t"
        "vadd.i32   %q[o0], %q[o0], %q[pr]\n\t"
        "vldrb.s16  %q[xv], [%[y]]\n\t"
        "vmullb.s16 %q[pr], %q[xv], %q[wv]\n\t"
        "vadd.i32   %q[e1], %q[e1], %q[pr]\n\t"
        "vmullt.s16 %q[pr], %q[xv], %q[wv]\n\t"
        "vadd.i32   %q[o1], %q[o1], %q[pr]\n\t"
        "add        %[w], %[w], %[stride]\n\t"
        "le         lr, 1b\n\t"
        "vstrw.32   %q[e0], [%[acc]]\n\t"
        "vstrw.32   %q[o0], [%[acc], #16]\n\t"
        "vstrw.32   %q[e1], [%[acc], #32]\n\t"
        "vstrw.32   %q[o1], [%[acc], #48]\n\t"
        : [e0] "=&w"(e0), [o0] "=&w"(o0), [e1] "=&w"(e1), [o1] "=&w"(o1), [pr] "=&w"(pr),
          [xv] "=&w"(xv), [wv] "=&w"(wv), [tp] "+r"(tp), [w] "+r"(filter), [x] "=&l"(x),
          [y] "=&l"(y)
        : [at] "r"(base), [step] "r"(step), [taps] "r"(taps_n), [stride] "r"(stride),
          [acc] "r"(acc)
        : "lr", "memory");
}

/* One channel group of 4 in fast mode, inside dwr_requant_fast's loop: the
 * sums from [acc], the planar records from [g] (bias, mult, -e, rz). */
#define TG_DWR_FAST4(A)                                          \
    "vldrw.u32  %q[" A "], [%[acc]], #16\n\t"                   \
    "vldrw.u32  %q[t], [%[g]], #16\n\t"                         \
    "vadd.i32   %q[" A "], %q[" A "], %q[t]\n\t"                \
    "vldrw.u32  %q[t], [%[g]], #16\n\t"                         \
    "vrmulh.s32 %q[" A "], %q[" A "], %q[t]\n\t"                \
    "vshr.s32   %q[t], %q[" A "], #31\n\t"                      \
    "vadd.i32   %q[" A "], %q[" A "], %q[t]\n\t"                \
    "vldrw.u32  %q[t], [%[g], #16]\n\t"                         \
    "vadd.i32   %q[" A "], %q[" A "], %q[t]\n\t"                \
    "vldrw.u32  %q[t], [%[g]], #32\n\t"                         \
    "vshl.s32   %q[" A "], %q[" A "], %q[t]\n\t"                \
    "vmax.s32   %q[" A "], %q[" A "], %q[lo]\n\t"               \
    "vmin.s32   %q[" A "], %q[" A "], %q[hi]\n\t"

static inline void dwr_requant_fast(const int32_t *acc, int32_t oc, const int32_t *groups,
                                    const tg_conv_params *p, int8_t *out)
{
    const int32x4_t lo = vdupq_n_s32(p->act_min);
    const int32x4_t hi = vdupq_n_s32(p->act_max);
    const int32_t whole = oc >> 3;
    int32_t c = 8 * whole;
    int32x4_t ve, vo, t;
    /* Groups of 8: the even (0, 2, 4, 6) and odd sums; VMOVNT puts the odd
     * results in the top halves of the even ones' 16-bit lanes, so one
     * narrowing store writes the 8 channels in order. Assembly: GCC's
     * schedule of the C form spills the records to the stack. */
    __asm__ volatile(
        "wls        lr, %[n], 2f\n\t"
        "1:\n\t"
        TG_DWR_FAST4("ve")
        TG_DWR_FAST4("vo")
        "vmovnt.i32 %q[ve], %q[vo]\n\t"
        "vstrb.16   %q[ve], [%[out]], #8\n\t"
        "le         lr, 1b\n\t"
        "2:\n\t"
        : [ve] "=&w"(ve), [vo] "=&w"(vo), [t] "=&w"(t), [acc] "+r"(acc), [g] "+r"(groups),
          [out] "+r"(out)
        : [n] "r"(whole), [lo] "w"(lo), [hi] "w"(hi)
        : "lr", "memory");
    for (; c < oc; c += 4, groups += 16, acc += 4, out += 4) {
        int32x4_t h = vrmulhq_s32(vaddq_s32(vldrwq_s32(acc), vldrwq_s32(groups)),
                                  vldrwq_s32(groups + 4));
        h = vaddq_s32(h, vshrq_n_s32(h, 31));
        h = vshlq_s32(vaddq_s32(h, vldrwq_s32(groups + 12)), vldrwq_s32(groups + 8));
        tg_mve_store(out, vminq_s32(vmaxq_s32(h, lo), hi), oc - c);
    }
}

#undef TG_DWR_FAST4

/* Eight channels from their even (0, 2, 4, 6) and odd sums, whose records
 * the planner stores in that order. */
static inline void dwr_store8(int8_t *out, const int32_t *acc, const tg_chan_quant *q,
                              const tg_mve_out *o)
{
    const int32x4_t ve = tg_mve_requant(vldrwq_s32(acc), q, o, 1);
    const int32x4_t vo = tg_mve_requant(vldrwq_s32(acc + 4), q + 4, o, 1);
    vstrbq_s16(out, vmovntq_s32(vmovnbq_s32(vreinterpretq_s16_s32(ve), ve), vo));
}

static inline void dwr_requant_generic(const int32_t *acc, int32_t oc, const tg_chan_quant *q,
                                       const tg_mve_out *o, int8_t *out)
{
    int32_t c = 0;
    for (; c + 8 <= oc; c += 8) {
        dwr_store8(out + c, acc + c, q + c, o);
    }
    for (; c < oc; c += 4) {
        tg_mve_store(out + c, tg_mve_requant(vldrwq_s32(acc + c), q + c, o, 1), oc - c);
    }
}

/* acc[0..n) requantized into out, in the layer's form (fast: p->fast,
 * read once by the caller, as the assembly's memory clobber would make the
 * compiler read it again after every call). */
static inline __attribute__((always_inline)) void
dwr_requant(const int32_t *acc, int32_t n, const tg_chan_quant *quant, const tg_conv_params *p,
            int32_t fast, const tg_mve_out *o_generic, int8_t *out)
{
    if (fast) {
        dwr_requant_fast(acc, n, (const int32_t *)(const void *)quant, p, out);
    } else {
        dwr_requant_generic(acc, n, quant, o_generic, out);
    }
}

/* The window's taps as offsets from its corner pixel (interior windows),
 * and the row of input zero points that padding taps read. */
static inline __attribute__((always_inline)) void
dw_window_setup(const tg_conv_params *p, uint32_t *offsets, int8_t *pad_row)
{
    int32_t ky;
    int32_t kx;
    for (ky = 0; ky < p->k_h; ++ky) {
        for (kx = 0; kx < p->k_w; ++kx) {
            offsets[ky * p->k_w + kx] =
                (uint32_t)((ky * p->dil_h * p->in_w + kx * p->dil_w) * p->in_c);
        }
    }
    tg_mve_fill(pad_row, p->input_zero_point, p->in_c);
}

/* The taps of the window at (iy0, ix0) as words[t] + *base: the offsets
 * from its corner when it lies inside the image, else one pointer per tap
 * (pad_row for taps in the padding) with base 0. */
typedef struct {
    const uint32_t *words;
    uint32_t base;
} dw_taps;

static inline __attribute__((always_inline)) dw_taps
dw_window(const tg_conv_params *p, const int8_t *image, int32_t iy0, int32_t ix0,
          int32_t reach_h, int32_t reach_w, const uint32_t *offsets, uint32_t *pointers,
          const int8_t *pad_row)
{
    dw_taps r;
    int32_t t = 0;
    int32_t ky;
    int32_t kx;
    if (iy0 >= 0 && ix0 >= 0 && iy0 + reach_h < p->in_h && ix0 + reach_w < p->in_w) {
        r.words = offsets;
        r.base = (uint32_t)(uintptr_t)(image + ((size_t)iy0 * (size_t)p->in_w
                                                + (size_t)ix0) * (size_t)p->in_c);
        return r;
    }
    r.words = pointers;
    r.base = 0;
    for (ky = 0; ky < p->k_h; ++ky) {
        const int32_t iy = iy0 + ky * p->dil_h;
        for (kx = 0; kx < p->k_w; ++kx, ++t) {
            const int32_t ix = ix0 + kx * p->dil_w;
            pointers[t] = (uint32_t)(uintptr_t)(
                (iy < 0 || iy >= p->in_h || ix < 0 || ix >= p->in_w)
                    ? pad_row
                    : image + ((size_t)iy * (size_t)p->in_w + (size_t)ix) * (size_t)p->in_c);
        }
    }
    return r;
}

static void depthwise_rows(const tg_conv_params *p, const int8_t *input,
                           const int16_t *filter, const tg_chan_quant *quant,
                           int8_t *output, int8_t *scratch)
{
    const int32_t taps_n = p->k_h * p->k_w;
    const int32_t oc = p->out_c;
    int32_t *acc = (int32_t *)(void *)scratch;
    uint32_t *pointers = (uint32_t *)(void *)(scratch + 8 * (size_t)((oc + 3) & ~3));
    uint32_t *offsets = pointers + taps_n;
    int8_t *pad_row = (int8_t *)(offsets + taps_n);
    const int32_t reach_h = (p->k_h - 1) * p->dil_h;
    const int32_t reach_w = (p->k_w - 1) * p->dil_w;
    const size_t image_bytes = (size_t)p->in_h * (size_t)p->in_w * (size_t)p->in_c;
    const tg_mve_out o_generic = {0, p->output_zero_point, p->act_min, p->act_max};
    const int32_t fast = p->fast;
    const int32_t stride = 2 * oc;
    const int32_t groups16 = oc >> 4;
    int32_t b;
    int32_t oy;
    int32_t ox;
    dw_window_setup(p, offsets, pad_row);
    for (b = 0; b < p->batches; ++b) {
        const int8_t *image = input + (size_t)b * image_bytes;
        for (oy = 0; oy < p->out_h; ++oy) {
            const int32_t iy0 = oy * p->stride_h - p->pad_h;
            for (ox = 0; ox < p->out_w; ++ox) {
                const int32_t ix0 = ox * p->stride_w - p->pad_w;
                const uint32_t *words = offsets;
                if (oc == 8 && ox + 1 < p->out_w && iy0 >= 0 && ix0 >= 0
                        && iy0 + reach_h < p->in_h && ix0 + p->stride_w + reach_w < p->in_w) {
                    /* 8 channels (narrow early layers): two interior pixels at once */
                    const uint32_t corner = (uint32_t)(uintptr_t)(
                        image + ((size_t)iy0 * (size_t)p->in_w + (size_t)ix0) * (size_t)p->in_c);
                    dwr_sums8_pair(offsets, corner, (uint32_t)(p->stride_w * p->in_c), filter,
                                   taps_n, stride, acc);
                    dwr_requant(acc, 8, quant, p, fast, &o_generic, output);
                    dwr_requant(acc + 8, 8, quant, p, fast, &o_generic, output + 8);
                    output += 16;
                    ++ox;
                    continue;
                }
                const dw_taps taps = dw_window(p, image, iy0, ix0, reach_h, reach_w, offsets,
                                               pointers, pad_row);
                const uint32_t base = taps.base;
                int32_t c = 16 * groups16;
                int32_t t;
                words = taps.words;
                if (groups16 > 0) {
                    dwr_sums16(words, base, filter, taps_n, stride, groups16, acc);
                }
                if (c + 8 <= oc) {
                    dwr_sums8(words, base + (uint32_t)c, filter + c, taps_n, stride, acc + c);
                    c += 8;
                }
                for (; c < oc; c += 4) {
                    const mve_pred16_t pr = vctp32q((uint32_t)(oc - c));
                    int32x4_t a0 = vdupq_n_s32(0);
                    const int16_t *w = filter + c;
                    for (t = 0; t < taps_n; ++t, w += oc) {
                        const int8_t *x = (const int8_t *)(uintptr_t)(words[t] + base + (uint32_t)c);
                        a0 = vaddq_s32(a0, vmulq_s32(vldrbq_z_s32(x, pr), vldrhq_z_s32(w, pr)));
                    }
                    vstrwq_s32(acc + c, a0);
                }
                dwr_requant(acc, oc, quant, p, fast, &o_generic, output);
                output += oc;
            }
        }
    }
}

#undef TG_DWR_HALF

static void depthwise_multiplier(const tg_conv_params *p, const int8_t *input,
                                 const int16_t *filter, const tg_chan_quant *quant,
                                 int8_t *output, int8_t *scratch)
{
    const int32_t taps_n = p->k_h * p->k_w;
    uint32_t *pointers = (uint32_t *)(void *)scratch;
    uint32_t *offsets = pointers + taps_n;
    int8_t *pad_row = scratch + (size_t)taps_n * 8u;
    const int32_t oc = p->out_c;
    const int32_t dm = p->depth_multiplier;
    const int32_t reach_h = (p->k_h - 1) * p->dil_h;
    const int32_t reach_w = (p->k_w - 1) * p->dil_w;
    const size_t image_bytes = (size_t)p->in_h * (size_t)p->in_w * (size_t)p->in_c;
    const tg_mve_out o = {p->fast, p->output_zero_point, p->act_min, p->act_max};
    int32_t b;
    int32_t oy;
    int32_t ox;
    dw_window_setup(p, offsets, pad_row);
    for (b = 0; b < p->batches; ++b) {
        const int8_t *image = input + (size_t)b * image_bytes;
        for (oy = 0; oy < p->out_h; ++oy) {
            const int32_t iy0 = oy * p->stride_h - p->pad_h;
            for (ox = 0; ox < p->out_w; ++ox) {
                const int32_t ix0 = ox * p->stride_w - p->pad_w;
                const dw_taps taps = dw_window(p, image, iy0, ix0, reach_h, reach_w, offsets,
                                               pointers, pad_row);
                const uint32_t *words = taps.words;
                const uint32_t base = taps.base;
                int32_t t;
                int32_t c;
                /* Depth multiplier > 1: channel c reads input channel c / dm. */
                for (c = 0; c < oc; c += 4) {
                    int32_t a[4] = {0, 0, 0, 0};
                    int32_t j;
                    for (j = 0; j < 4 && c + j < oc; ++j) {
                        const int32_t ic = (c + j) / dm;
                        for (t = 0; t < taps_n; ++t) {
                            const int8_t *x = (const int8_t *)(uintptr_t)(words[t] + base);
                            a[j] += x[ic] * filter[t * oc + c + j];
                        }
                    }
                    tg_mve_store(output + c, tg_mve_requant(vldrwq_s32(a), quant + c, &o, 1),
                                 oc - c);
                }
                output += oc;
            }
        }
    }
}

void tg_depthwise_conv2d_s8_mve(const tg_conv_params *p, const int8_t *input,
                                const int16_t *filter, const tg_chan_quant *quant,
                                int8_t *output, int8_t *scratch)
{
    if (p->depth_multiplier == 1) {
        depthwise_rows(p, input, filter, quant, output, scratch);
    } else {
        depthwise_multiplier(p, input, filter, quant, output, scratch);
    }
}
