/*
 * The outer loops of the grouped and transposed convolutions, shared by
 * conv2d_grouped_s8.c, transpose_conv_s8.c and their dsp/ and mve/
 * variants: per output pixel the window is gathered into scratch
 * (tg_gather.h) and every output is one dot product of scratch with a
 * filter row, requantized. The variants differ only in that dot product,
 * passed in as `dot`; the walk is always inlined, so each kernel calls its
 * own dot product directly, as when each file had its own copy of the loops.
 */
#ifndef TG_CONV_WALK_H
#define TG_CONV_WALK_H

#include "tg_fixedpoint.h"
#include "tg_gather.h"

/* int8 dot product of a and b (n bytes each) plus acc. */
typedef int32_t (*tg_dot_s8_fn)(const int8_t *a, const int8_t *b, int32_t n, int32_t acc);

/* Grouped CONV_2D: output channel oc reads the in_c / groups input
 * channels of group oc / (out_c / groups); the window of a group is
 * gathered once per pixel, for its first filter. */
static inline __attribute__((always_inline)) void
tg_conv2d_grouped_walk(const tg_generic_conv_params *p, const int8_t *input,
                       const int8_t *filter, const int32_t *quant, int8_t *output,
                       int8_t *scratch, tg_dot_s8_fn dot)
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
                    acc = dot(scratch, filter + oc * patch, patch, q[0]);
                    acc = tg_requantize(acc, q[1], q[2]) + p->output_zero_point;
                    *output++ = tg_clamp_s8(acc, p->act_min, p->act_max);
                }
            }
        }
    }
}

/* TRANSPOSE_CONV: per output pixel its phase's taps (tg_gather_phase_taps),
 * then per output channel the phase's filter row and quant triple. */
static inline __attribute__((always_inline)) void
tg_transpose_conv_walk(const tg_generic_conv_params *p, const int8_t *input,
                       const int8_t *filter, const int32_t *quant, const int32_t *phases,
                       int8_t *output, int8_t *scratch, tg_dot_s8_fn dot)
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
                    int32_t acc = dot(scratch, filter + ph[0] + oc * taps, taps, q[0]);
                    acc = tg_requantize(acc, q[1], q[2]) + p->output_zero_point;
                    *output++ = tg_clamp_s8(acc, p->act_min, p->act_max);
                    q += 3;
                }
            }
        }
    }
}

#endif
