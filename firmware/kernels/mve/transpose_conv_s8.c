/* int8 TRANSPOSE_CONV on Helium cores (Cortex-M55),
 * the variant of transpose_conv_s8.c with the same arguments and
 * constants: the same phase gather (tg_gather.h), dot products by VMLADAVA
 * (tg_dot_mve.h). */
#include "tg_dot_mve.h"
#include "tg_gather.h"

void tg_transpose_conv_s8_mve(const tg_generic_conv_params *p, const int8_t *input,
                              const int8_t *filter, const int32_t *quant, const int32_t *phases,
                              int8_t *output, int8_t *scratch)
{
    int32_t b;
    int32_t y;
    int32_t x;
    int32_t oc;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *image = input + b * p->in_h * p->in_w * p->in_c;
        for (y = 0; y < p->out_h; ++y) {
            for (x = 0; x < p->out_w; ++x) {
                const int32_t *ph = tg_gather_phase_taps(p, image, phases, y, x, scratch);
                const int32_t taps = ph[1] * ph[2] * p->in_c;
                const int32_t *q = quant + 3 * ((ph - phases) / 3) * p->out_c;
                for (oc = 0; oc < p->out_c; ++oc) {
                    int32_t acc = tg_dot_s8_mve(scratch, filter + ph[0] + oc * taps, taps, q[0]);
                    acc = tg_requantize(acc, q[1], q[2]) + p->output_zero_point;
                    *output++ = tg_clamp_s8(acc, p->act_min, p->act_max);
                    q += 3;
                }
            }
        }
    }
}
