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
#include "tg_fixedpoint.h"
#include "tg_kernels.h"

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
