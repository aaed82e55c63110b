/*
 * Building blocks of the DSP-extension kernels (Cortex-M4/M7/M33): one
 * int8 vector against weight rows in the blocked layout of tg_rows_dot.h.
 * x is first widened once to int16 pairs in SXTB16 order ((x0, x2),
 * (x1, x3) per chunk), then every chunk of every row costs one load shared
 * by 4 rows, two SXTB16 and two SMLAD (4 MACs). Included only by
 * firmware/kernels/dsp/ files, which the plan compiles for cores with the
 * extension.
 */
#ifndef TG_ROWS_DOT_DSP_H
#define TG_ROWS_DOT_DSP_H

#include <string.h>

#include "tg_fixedpoint.h"
#include "tg_kernels.h"
#include "tg_rows_dot.h"

#if !TG_DSP
#error "firmware/kernels/dsp/ needs a compiler targeting the DSP extension (-mcpu=cortex-m4, m7, m33)"
#endif
/* SXTB16 of the input rotated by 8: bytes 1 and 3, sign-extended. The
 * rotation is an operand of the instruction; GCC does not fold it. */
static inline int32_t tg_sxtb16_ror8(int32_t v)
{
    int32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(v));
    return r;
}

/* Fast-mode requantization of acc2 = 2 * acc (tg_requantize_fast),
 * saturated to int8: LDRD + LDR of the record, SMMULR, three ALU ops, SSAT. */
static inline int32_t tg_requantize_fast_dsp(int32_t acc2, const tg_chan_quant *q)
{
    int32_t h, m, e, rz;
    __asm__("ldrd   %[m], %[e], [%[q], #4]\n\t"
            "ldr    %[rz], [%[q], #12]\n\t"
            "smmulr %[h], %[a], %[m]\n\t"
            "add    %[h], %[h], %[h], asr #31\n\t"
            "add    %[h], %[h], %[rz]\n\t"
            "asr    %[h], %[h], %[e]\n\t"
            "ssat   %[h], #8, %[h]\n\t"
            : [h] "=&r"(h), [m] "=&r"(m), [e] "=&r"(e), [rz] "=&r"(rz)
            : [a] "r"(acc2), [q] "r"(q), "m"(*q));
    return h;
}

/* Bytes replicated four times, for the SIMD clamp. */
static inline uint32_t tg_splat_s8(int32_t v)
{
    return (uint32_t)(uint8_t)(int8_t)v * 0x01010101u;
}

/* Four int8 values in a word clamped to [lo, hi] bytewise: SSUB8 sets the
 * lanes' GE flags, SEL picks per byte. */
static inline uint32_t tg_clamp4_dsp(uint32_t r, uint32_t lo4, uint32_t hi4)
{
    uint32_t t;
    __asm__("ssub8  %[t], %[r], %[lo]\n\t"
            "sel    %[r], %[r], %[lo]\n\t"
            "ssub8  %[t], %[hi], %[r]\n\t"
            "sel    %[r], %[r], %[hi]\n\t"
            : [r] "+r"(r), [t] "=&r"(t)
            : [lo] "r"(lo4), [hi] "r"(hi4)
            : "cc");
    return r;
}

/* bytes int8 outputs (a whole number of aligned words) clamped to [lo, hi]
 * in place, four a word: the activation's clamp of passes that saturate to
 * int8 only, after a row or a layer. */
static inline void tg_clamp_span_dsp(int8_t *out, size_t bytes, uint32_t lo4, uint32_t hi4)
{
    uint32_t *w = (uint32_t *)(void *)out;
    uint32_t *wend = w + bytes / 4u;
    for (; w < wend; ++w) {
        *w = tg_clamp4_dsp(*w, lo4, hi4);
    }
}

/* The low bytes of four values (int8 results) packed into one word, v0 in
 * the lowest byte: for a single 4-byte store. */
static inline uint32_t tg_pack4_s8_dsp(int32_t v0, int32_t v1, int32_t v2, int32_t v3)
{
    uint32_t t02, t13, r;
    __asm__("pkhbt  %[t02], %[v0], %[v2], lsl #16\n\t"
            "pkhbt  %[t13], %[v1], %[v3], lsl #16\n\t"
            "uxtb16 %[t02], %[t02]\n\t"
            "uxtb16 %[t13], %[t13]\n\t"
            "orr    %[r], %[t02], %[t13], lsl #8\n\t"
            : [t02] "=&r"(t02), [t13] "=&r"(t13), [r] "=&r"(r)
            : [v0] "r"(v0), [v1] "r"(v1), [v2] "r"(v2), [v3] "r"(v3));
    return r;
}

/* Four fast-mode outputs (acc2 = 2 * acc each) written with one store:
 * SSAT to int8, pack, and clamp to [lo, hi] bytewise (SSUB8 + SEL) when the
 * activation range is narrower than int8 (clamp != 0). */
static inline void tg_store4_fast_dsp(int8_t *out, const tg_chan_quant *q, int clamp,
                                      uint32_t lo4, uint32_t hi4,
                                      int32_t a0, int32_t a1, int32_t a2, int32_t a3)
{
    const int32_t v0 = tg_requantize_fast_dsp(a0, q);
    const int32_t v1 = tg_requantize_fast_dsp(a1, q + 1);
    const int32_t v2 = tg_requantize_fast_dsp(a2, q + 2);
    const int32_t v3 = tg_requantize_fast_dsp(a3, q + 3);
    uint32_t r = tg_pack4_s8_dsp(v0, v1, v2, v3);
    if (clamp) {
        r = tg_clamp4_dsp(r, lo4, hi4);
    }
    memcpy(out, &r, 4);
}

/* x16[2 * ceil(len / 4)] from x[len], zero-padded to whole chunks. */
static inline void tg_widen_s8(const int8_t *x, int32_t len, int32_t *x16)
{
    int32_t k = 0;
    int32_t v;
    for (; k + 4 <= len; k += 4) {
        memcpy(&v, x + k, 4);
        x16[0] = __sxtb16(v);
        x16[1] = tg_sxtb16_ror8(v);
        x16 += 2;
    }
    if (k < len) {
        int8_t tail[4] = {0, 0, 0, 0};
        memcpy(tail, x + k, (size_t)(len - k));
        memcpy(&v, tail, 4);
        x16[0] = __sxtb16(v);
        x16[1] = tg_sxtb16_ror8(v);
    }
}

/* One chunk (4 depth positions) of 4 rows: 3 LDRD, 8 SXTB16, 8 SMLAD.
 * Written as assembly because GCC spills the accumulators of the C form. */
#define TG_ROWS_CHUNK_ASM                                         \
    "ldrd   %[xa], %[xb], [%[x]], #8\n\t"                         \
    "ldrd   %[w0], %[w1], [%[w]], #8\n\t"                         \
    "sxtb16 %[t], %[w0]\n\t"                                      \
    "smlad  %[a0], %[t], %[xa], %[a0]\n\t"                        \
    "sxtb16 %[t], %[w0], ror #8\n\t"                              \
    "smlad  %[a0], %[t], %[xb], %[a0]\n\t"                        \
    "sxtb16 %[t], %[w1]\n\t"                                      \
    "smlad  %[a1], %[t], %[xa], %[a1]\n\t"                        \
    "sxtb16 %[t], %[w1], ror #8\n\t"                              \
    "smlad  %[a1], %[t], %[xb], %[a1]\n\t"                        \
    "ldrd   %[w0], %[w1], [%[w]], #8\n\t"                         \
    "sxtb16 %[t], %[w0]\n\t"                                      \
    "smlad  %[a2], %[t], %[xa], %[a2]\n\t"                        \
    "sxtb16 %[t], %[w0], ror #8\n\t"                              \
    "smlad  %[a2], %[t], %[xb], %[a2]\n\t"                        \
    "sxtb16 %[t], %[w1]\n\t"                                      \
    "smlad  %[a3], %[t], %[xa], %[a3]\n\t"                        \
    "sxtb16 %[t], %[w1], ror #8\n\t"                              \
    "smlad  %[a3], %[t], %[xb], %[a3]\n\t"

/* Fast-mode pass over the whole 4-row blocks of one input vector, in one
 * assembly function so that accumulators, pointers and records stay in
 * registers: per block the 4 biases, the chunk loop (entered at its second
 * half for an odd chunk count), then per output
 * (2 * acc * mult + 2^31 + rz * 2^32) >> 32 >> e, i.e. tg_requantize_fast,
 * with its negative-value fix taken from the accumulator's sign (where
 * h < 0 the accumulator is negative; where h == 0 the fix changes nothing,
 * as e >= 1), left out when act_min >= the zero point clamps every
 * negative value anyway; SSAT, bytes packed with BFI, SIMD clamp, one
 * store. Weak: dsp/conv2d_s8.c and dsp/fully_connected_s8.c both include this
 * header, and the linker keeps one copy. */
typedef struct {
    const int32_t *x16;        /* 0 */
    int32_t odd;               /* 4: chunks & 1 */
    const int32_t *x16_end;    /* 8 */
    const tg_chan_quant *q;    /* 12 */
    const tg_chan_quant *q_end;/* 16: after the last whole block */
    int32_t clamp;             /* 20 */
    int32_t fix;               /* 24: negative-value fix needed */
    int8_t *out;               /* 28 */
    uint32_t lo4;              /* 32 */
    uint32_t hi4;              /* 36 */
    const int8_t *rows;        /* 40 */
    int32_t unused;            /* 44 */
} tg_rows_pass;

/* The input pair and rows 2 and 3's weight words as four single loads,
 * which the Cortex-M4 pipelines (5 cycles, where two LDRD cost 6), then
 * rows 0 and 1's words with one LDRD that advances the weight pointer. */
#define TG_ROWS_CHUNK_REGS                                        \
    "ldr    r7, [r0, #4]\n\t"                                     \
    "ldr    r6, [r0], #8\n\t"                                     \
    "ldr    r8, [r1, #8]\n\t"                                     \
    "ldr    r9, [r1, #12]\n\t"                                    \
    "sxtb16 r10, r8\n\t"                                          \
    "smlad  r4, r10, r6, r4\n\t"                                  \
    "sxtb16 r10, r8, ror #8\n\t"                                  \
    "smlad  r4, r10, r7, r4\n\t"                                  \
    "sxtb16 r10, r9\n\t"                                          \
    "smlad  r5, r10, r6, r5\n\t"                                  \
    "sxtb16 r10, r9, ror #8\n\t"                                  \
    "smlad  r5, r10, r7, r5\n\t"                                  \
    "ldrd   r8, r9, [r1], #16\n\t"                                \
    "sxtb16 r10, r8\n\t"                                          \
    "smlad  r2, r10, r6, r2\n\t"                                  \
    "sxtb16 r10, r8, ror #8\n\t"                                  \
    "smlad  r2, r10, r7, r2\n\t"                                  \
    "sxtb16 r10, r9\n\t"                                          \
    "smlad  r3, r10, r6, r3\n\t"                                  \
    "sxtb16 r10, r9, ror #8\n\t"                                  \
    "smlad  r3, r10, r7, r3\n\t"
#define TG_ROWS_REQ(A, OFF, FIX)                                  \
    "ldrd   r6, r7, [r12, #" OFF "4]\n\t"                         \
    "ldr    r8, [r12, #" OFF "12]\n\t"                            \
    "add    r9, " A ", " A "\n\t"                                 \
    "smmlar r9, r9, r6, r8\n\t"                                   \
    FIX                                                           \
    "asr    r9, r9, r7\n\t"                                       \
    "ssat   " A ", #8, r9\n\t"
#define TG_ROWS_FIX(A) "add    r9, r9, " A ", asr #31\n\t"
#define TG_ROWS_REQ4(F0, F1, F2, F3)                              \
    TG_ROWS_REQ("r2", "", F0) TG_ROWS_REQ("r3", "16+", F1)        \
    TG_ROWS_REQ("r4", "32+", F2) TG_ROWS_REQ("r5", "48+", F3)

__attribute__((naked, noinline, weak)) void tg_rows_pass_dsp(const tg_rows_pass *a)
{
    __asm__("push   {r4-r11, lr}\n\t"
            "sub    sp, sp, #48\n\t"
            "ldm    r0, {r1-r12}\n\t"
            "stm    sp, {r1-r12}\n\t"
            "ldr    r1, [sp, #40]\n\t"
            "ldr    r12, [sp, #12]\n\t"
            "ldr    lr, [sp, #28]\n\t"
            "ldr    r11, [sp, #8]\n\t"
            "1:\n\t"
            "ldr    r2, [r12, #0]\n\t"
            "ldr    r3, [r12, #16]\n\t"
            "ldr    r4, [r12, #32]\n\t"
            "ldr    r5, [r12, #48]\n\t"
            "ldr    r0, [sp, #0]\n\t"
            "ldr    r6, [sp, #4]\n\t"
            "cbnz   r6, 5f\n\t"
            "4:\n\t"
            TG_ROWS_CHUNK_REGS
            "5:\n\t"
            TG_ROWS_CHUNK_REGS
            "cmp    r0, r11\n\t"
            "bne    4b\n\t"
            "ldr    r6, [sp, #24]\n\t"
            "cmp    r6, #0\n\t"
            "bne    6f\n\t"
            TG_ROWS_REQ4("", "", "", "")
            "b      7f\n\t"
            "6:\n\t"
            TG_ROWS_REQ4(TG_ROWS_FIX("r2"), TG_ROWS_FIX("r3"), TG_ROWS_FIX("r4"),
                         TG_ROWS_FIX("r5"))
            "7:\n\t"
            "bfi    r2, r3, #8, #8\n\t"
            "bfi    r2, r4, #16, #8\n\t"
            "bfi    r2, r5, #24, #8\n\t"
            "ldr    r6, [sp, #20]\n\t"
            "cbz    r6, 3f\n\t"
            "ldrd   r7, r8, [sp, #32]\n\t"
            "ssub8  r9, r2, r7\n\t"
            "sel    r2, r2, r7\n\t"
            "ssub8  r9, r8, r2\n\t"
            "sel    r2, r2, r8\n\t"
            "3:\n\t"
            "str    r2, [lr], #4\n\t"
            "adds   r12, r12, #64\n\t"
            "ldr    r6, [sp, #16]\n\t"
            "cmp    r12, r6\n\t"
            "bne    1b\n\t"
            "add    sp, sp, #48\n\t"
            "pop    {r4-r11, pc}\n\t");
    (void)a;
}
#undef TG_ROWS_CHUNK_REGS
#undef TG_ROWS_REQ
#undef TG_ROWS_FIX
#undef TG_ROWS_REQ4

static inline void tg_rows_dot_dsp(const int32_t *x16, int32_t chunks, const int8_t *rows,
                                   int32_t n, const tg_chan_quant *q, int32_t fast,
                                   int32_t zp, int32_t lo, int32_t hi, int8_t *out)
{
    const int32_t *w = (const int32_t *)(const void *)rows;
    const int clamp = lo > -128 || hi < 127;
    const uint32_t lo4 = tg_splat_s8(lo);
    const uint32_t hi4 = tg_splat_s8(hi);
    int32_t o = 0;
    if (fast && n >= 4) {
        tg_rows_pass a;
        a.x16 = x16;
        a.odd = chunks & 1;
        a.x16_end = x16 + 2 * chunks;
        a.q = q;
        a.q_end = q + (n & ~3);
        a.clamp = clamp;
        a.fix = lo < zp;
        a.out = out;
        a.lo4 = lo4;
        a.hi4 = hi4;
        a.rows = rows;
        a.unused = 0;
        tg_rows_pass_dsp(&a);
        o = n & ~3;
        w += (size_t)o * (size_t)chunks;
    }
    for (; o < n; o += 4) {
        int32_t a0 = q[o].bias;
        int32_t a1 = q[o + 1].bias;
        int32_t a2 = q[o + 2].bias;
        int32_t a3 = q[o + 3].bias;
        const int32_t *x = x16;
        const int32_t *pairs_end = x16 + 4 * (chunks / 2);
        int32_t xa, xb, w0, w1, t;
        if (chunks & 1) {
            __asm__(TG_ROWS_CHUNK_ASM
                    : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3),
                      [x] "+r"(x), [w] "+r"(w), [xa] "=&r"(xa), [xb] "=&r"(xb),
                      [w0] "=&r"(w0), [w1] "=&r"(w1), [t] "=&r"(t)
                    :
                    : "memory");
            pairs_end += 2;
        }
        if (x < pairs_end) {
            __asm__("1:\n\t"
                    TG_ROWS_CHUNK_ASM
                    TG_ROWS_CHUNK_ASM
                    "cmp    %[x], %[end]\n\t"
                    "bne    1b\n\t"
                    : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3),
                      [x] "+r"(x), [w] "+r"(w), [xa] "=&r"(xa), [xb] "=&r"(xb),
                      [w0] "=&r"(w0), [w1] "=&r"(w1), [t] "=&r"(t)
                    : [end] "r"(pairs_end)
                    : "cc", "memory");
        }
        if (fast && n - o >= 4) {
            tg_store4_fast_dsp(out + o, q + o, clamp, lo4, hi4, a0 * 2, a1 * 2, a2 * 2, a3 * 2);
        } else {
            tg_store_block(out + o, n - o, q + o, fast, 0, zp, lo, hi, a0, a1, a2, a3);
        }
    }
}
#undef TG_ROWS_CHUNK_ASM

#endif
