/* int8 grouped CONV_2D on cores with the DSP extension (Cortex-M4/M7/M33),
 * the variant of conv2d_grouped_s8.c with the same arguments and
 * constants: the same window gather (tg_gather.h), dot products by SMLAD
 * (tg_dot_dsp.h). */
#include "tg_dot_dsp.h"
#include "tg_gather.h"

void tg_conv2d_grouped_s8_dsp(const tg_generic_conv_params *p, const int8_t *input,
                              const int8_t *filter, const int32_t *quant, int8_t *output,
                              int8_t *scratch)
{
    const int32_t depth = p->in_c / p->groups;
    const int32_t per_group = p->out_c / p->groups;
    const int32_t patch = p->k_h * p->k_w * depth;
    int32_t b;
    int32_t y;
    int32_t x;
    int32_t oc;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *image = input + b * p->in_h * p->in_w * p->in_c;
        for (y = 0; y < p->out_h; ++y) {
            for (x = 0; x < p->out_w; ++x) {
                for (oc = 0; oc < p->out_c; ++oc) {
                    const int32_t *q = quant + 3 * oc;
                    int32_t acc;
                    if (oc % per_group == 0) {
                        tg_gather_group_window(p, image, y * p->stride_h - p->pad_h,
                                               x * p->stride_w - p->pad_w,
                                               oc / per_group * depth, depth, scratch);
                    }
                    acc = tg_dot_s8_dsp(scratch, filter + oc * patch, patch, q[0]);
                    acc = tg_requantize(acc, q[1], q[2]) + p->output_zero_point;
                    *output++ = tg_clamp_s8(acc, p->act_min, p->act_max);
                }
            }
        }
    }
}
