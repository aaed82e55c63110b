/*
 * int8 elementwise addition on cores with the DSP extension, the variant of
 * add_s8.c with the same arguments, for inputs of the output's shape whose
 * rescaling multipliers are below one (tinygen/plan/variants.py _add_dsp).
 * Bit-exact with add_one of add_s8.c, whose three tg_requantize calls
 * (64-bit products, a branchy rounding shift) cost about 130 cycles an
 * element on the Cortex-M4; here each is one SMMLAR and three ALU ops.
 *
 * Why that is exact: tg_requantize(x, mult, -e) with e >= 0 is
 * RoundingShiftRight(floor((x * mult + 2^30) / 2^31), e). For |x| < 2^29
 * the inner part is floor((2x * mult + 2^31) / 2^32), SMMULR of 2x; SMMLAR
 * with 2^(e-1) in its accumulator adds the rounding half; rounding half
 * away from zero subtracts 1 for a negative product, whose sign is x's
 * (where the product is 0 with x < 0 the subtraction changes nothing, as
 * e >= 1); with e == 0 nothing is added. The inputs, offset and shifted
 * left by 20, stay under 2^28; each rescaled input is at most its shifted
 * value (multiplier below one), so their sum stays under 2^29 and doubles
 * without overflow. Elements are read before the same element is written,
 * so the output may overlap an input as tinygen/plan/memory.py allows.
 */
#include <string.h>

#include "tg_fixedpoint.h"
#include "tg_kernels.h"
#include "tg_rows_dot_dsp.h"

#if !TG_DSP
#error "firmware/kernels/dsp/ needs a compiler targeting the DSP extension (-mcpu=cortex-m4, m7, m33)"
#endif

/* floor((rz * 2^32 + x * mult + 2^31) / 2^32). */
static inline int32_t smmlar_dsp(int32_t x, int32_t mult, int32_t rz)
{
    int32_t h;
    __asm__("smmlar %0, %1, %2, %3" : "=r"(h) : "r"(x), "r"(mult), "r"(rz));
    return h;
}

void tg_add_s8_dsp(const tg_add_params *p, const int8_t *in1, const int8_t *in2,
                   int8_t *output)
{
    /* Every parameter in a local: the int8 stores may alias *p, which would
     * make the compiler reload its fields for every element. The left
     * shift is 20 (variants.py), so offset-and-double is one ADD with a
     * shifted operand: (x + offset) << 21. */
    const int32_t n = p->shape.size;
    const int32_t e1 = -p->in1_shift;
    const int32_t e2 = -p->in2_shift;
    const int32_t eo = -p->out_shift;
    const int32_t o1 = (int32_t)((uint32_t)p->in1_offset << 21);
    const int32_t o2 = (int32_t)((uint32_t)p->in2_offset << 21);
    const int32_t m1 = p->in1_mult;
    const int32_t m2 = p->in2_mult;
    const int32_t mo = p->out_mult;
    const int32_t r1 = e1 > 0 ? 1 << (e1 - 1) : 0;
    const int32_t r2 = e2 > 0 ? 1 << (e2 - 1) : 0;
    const int32_t ro = 1 << (eo - 1);
    const int32_t f1 = e1 > 0 ? -1 : 0;        /* the negative-value fix, where e > 0 */
    const int32_t f2 = e2 > 0 ? -1 : 0;
    const int32_t zo = p->out_offset;
    const int32_t lo = p->act_min;
    const int32_t hi = p->act_max;
    int32_t i;
    for (i = 0; i < n; ++i) {
        const int32_t a = o1 + (int32_t)((uint32_t)in1[i] << 21);
        const int32_t b = o2 + (int32_t)((uint32_t)in2[i] << 21);
        const int32_t s1 = (smmlar_dsp(a, m1, r1) + ((a >> 31) & f1)) >> e1;
        const int32_t s2 = (smmlar_dsp(b, m2, r2) + ((b >> 31) & f2)) >> e2;
        const int32_t s = s1 + s2;
        int32_t v = ((smmlar_dsp(s + s, mo, ro) + (s >> 31)) >> eo) + zo;
        v = v < lo ? lo : v;
        output[i] = (int8_t)(v > hi ? hi : v);
    }
}

/*
 * The same addition from build-time tables (tinygen/plan/lut.py
 * add_tables): each input's rescaled value depends on its byte alone, so
 * table[x + 128] holds twice in1's and table[256 + x + 128] twice in2's,
 * computed at build time with TFLM's arithmetic. Per element there remain
 * two table loads, an add and the output requantization above (SMMLAR, the
 * negative-value fix, the shift, SSAT), the zero point folded into SMMLAR's
 * accumulator (the planner bounds the sum so that cannot overflow); four
 * elements a pass with word loads and one word store, packed as in
 * tg_store4_fast_dsp, clamped bytewise where the activation range is
 * narrower than int8. Reads and writes keep add_s8.c's order per word, so
 * the output may overlap an input as there.
 */
static inline __attribute__((always_inline)) int32_t
add_table_one(const int32_t *t1, const int32_t *t2, int32_t x1, int32_t x2, int32_t mo,
              int32_t ra, int32_t eo, int fix)
{
    const int32_t s = t1[x1] + t2[x2];
    int32_t v = (fix ? smmlar_dsp(s, mo, ra) + (s >> 31) : smmlar_dsp(s, mo, ra)) >> eo;
    __asm__("ssat %0, #8, %1" : "=r"(v) : "r"(v));
    return v;
}

static inline __attribute__((always_inline)) void
add_table_run(const tg_add_params *p, const int8_t *in1, const int8_t *in2,
              const int32_t *table, int8_t *output, int clamp, int fix)
{
    const int32_t *t1 = table + 128;
    const int32_t *t2 = table + 256 + 128;
    const int32_t n = p->shape.size;
    const int32_t eo = -p->out_shift;
    const int32_t mo = p->out_mult;
    const int32_t ra = (1 << (eo - 1)) + (int32_t)((uint32_t)p->out_offset << eo);
    const uint32_t lo4 = tg_splat_s8(p->act_min);
    const uint32_t hi4 = tg_splat_s8(p->act_max);
    int32_t i = 0;
    for (; i + 4 <= n; i += 4) {
        uint32_t a, b, r;
        memcpy(&a, in1 + i, 4);
        memcpy(&b, in2 + i, 4);
        const int32_t v0 = add_table_one(t1, t2, (int8_t)a, (int8_t)b, mo, ra, eo, fix);
        const int32_t v1 = add_table_one(t1, t2, (int8_t)(a >> 8), (int8_t)(b >> 8), mo, ra, eo,
                                         fix);
        const int32_t v2 = add_table_one(t1, t2, (int8_t)(a >> 16), (int8_t)(b >> 16), mo, ra,
                                         eo, fix);
        const int32_t v3 = add_table_one(t1, t2, (int8_t)(a >> 24), (int8_t)(b >> 24), mo, ra,
                                         eo, fix);
        r = tg_pack4_s8_dsp(v0, v1, v2, v3);
        if (clamp) {
            r = tg_clamp4_dsp(r, lo4, hi4);
        }
        memcpy(output + i, &r, 4);
    }
    for (; i < n; ++i) {
        const int32_t v = add_table_one(t1, t2, in1[i], in2[i], mo, ra, eo, 1);
        output[i] = (int8_t)tg_clamp_s8(v, p->act_min, p->act_max);
    }
}

void tg_add_table_s8_dsp(const tg_add_params *p, const int8_t *in1, const int8_t *in2,
                         const int32_t *table, int8_t *output)
{
    /* Where act_min is at or above the output zero point every negative sum
     * clamps to act_min, so its round-half-away fix (which moves an output
     * at most the zero point down by one) changes nothing. */
    if (p->act_min > -128 || p->act_max < 127) {
        add_table_run(p, in1, in2, table, output, 1, 1);
    } else if (p->act_min >= p->out_offset) {
        add_table_run(p, in1, in2, table, output, 0, 0);
    } else {
        add_table_run(p, in1, in2, table, output, 0, 1);
    }
}
