/*
 * tinygen int16x8 kernels: int16 activations (symmetric, zero point 0),
 * int8 weights, int64 (or int32) biases: the "eval" half of TFLite's 16x8
 * quantization. tinygen/plan/ops_s16.py computes every multiplier, shift,
 * table and shape at build time; weights stay in TFLite's own layout
 * (convolution [out][kh][kw][in], depthwise [kh][kw][out], fully connected
 * [out][in]). Portable C, for every core and the host.
 */
#ifndef TG_KERNELS_S16_H
#define TG_KERNELS_S16_H

#include <stddef.h>
#include <stdint.h>

#include "tg_kernels.h"

typedef struct {
    tg_conv_params conv;       /* zero points 0; fast unused */
    int32_t acc32;             /* 1: int32 bias, TFLM accumulates and rescales in 32 bits */
} tg_conv_s16_params;

typedef struct {
    int32_t batches;
    int32_t in_depth;
    int32_t out_depth;
    int32_t act_min, act_max;
    int32_t acc32;
} tg_fc_s16_params;

typedef struct {
    int32_t rows;
    int32_t depth;
    int32_t input_mult, input_shift;   /* input scale x beta -> 10/65535 per step */
} tg_softmax_s16_params;

/* LOGISTIC and TANH: TFLM's input rescaling (mult 0 = a power-of-two scale). */
typedef struct {
    int32_t size;
    int32_t input_mult;
    int32_t input_left_shift;
} tg_sigmoid_s16_params;

/* Per output channel: bias (int64; int32 biases widened) and requantization:
 * with acc32, TFLM's 32-bit multiplier and shift (tg_requantize); else the
 * reduced 16-bit multiplier and total right shift of tg_rescale64.
 * Scratch: convolution, one output pixel's int16 input patch
 * (k_h x k_w x in_c, unused by pointwise layers); depthwise, an int32
 * accumulator per output channel. */
void tg_conv2d_s16(const tg_conv_s16_params *p, const int16_t *input, const int8_t *filter,
                   const int64_t *bias, const int32_t *mult, const int32_t *shift,
                   int16_t *output, void *scratch);
/* Variant (firmware/kernels/dsp/conv2d_s16.c): SMLAD on int16 pairs. */
void tg_conv2d_s16_dsp(const tg_conv_s16_params *p, const int16_t *input, const int8_t *filter,
                       const int64_t *bias, const int32_t *mult, const int32_t *shift,
                       int16_t *output, void *scratch);
void tg_depthwise_conv2d_s16(const tg_conv_s16_params *p, const int16_t *input,
                             const int8_t *filter, const int64_t *bias, const int32_t *mult,
                             const int32_t *shift, int16_t *output, void *scratch);
void tg_fully_connected_s16(const tg_fc_s16_params *p, const int16_t *input,
                            const int8_t *filter, const int64_t *bias, const int32_t *mult,
                            const int32_t *shift, int16_t *output);

void tg_avg_pool2d_s16(const tg_pool_params *p, const int16_t *input, int16_t *output);
void tg_max_pool2d_s16(const tg_pool_params *p, const int16_t *input, int16_t *output);

/* left_shift is 15 for int16 (TFLM). */
void tg_add_s16(const tg_add_params *p, const int16_t *in1, const int16_t *in2,
                int16_t *output);
void tg_mul_s16(const tg_mul_params *p, const int16_t *in1, const int16_t *in2,
                int16_t *output);

/* exp_lut, recip_lut: TFLM's 513-entry interpolated tables (built at build time). */
void tg_softmax_s16(const tg_softmax_s16_params *p, const int16_t *input,
                    const int16_t *exp_lut, const int16_t *recip_lut, int16_t *output);

/* table: sigmoid(i / 24) in Q0.16, 256 entries (built at build time). */
void tg_logistic_s16(const tg_sigmoid_s16_params *p, const int16_t *input,
                     const uint16_t *table, int16_t *output);
void tg_tanh_s16(const tg_sigmoid_s16_params *p, const int16_t *input,
                 const uint16_t *table, int16_t *output);

void tg_quantize_f32_s16(const tg_affine_params *p, const float *input, int16_t *output);
void tg_dequantize_s16_f32(const tg_affine_params *p, const int16_t *input, float *output);

/* TFLM's MultiplyByQuantizedMultiplier for a 64-bit accumulator, with the
 * multiplier already rounded to 16 bits and the shift already 15 - shift
 * (the planner's reduced form, tinygen/plan/ops_s16.py): one product and
 * one rounding shift. An accumulator that fits 32 bits (the usual case)
 * takes a single 32 x 32 -> 64 multiply. */
static inline int32_t tg_rescale64(int64_t acc, int32_t reduced, int32_t total_shift)
{
    const int64_t product = acc == (int64_t)(int32_t)acc
        ? (int64_t)(int32_t)acc * (int64_t)reduced
        : acc * (int64_t)reduced;
    return (int32_t)((product + ((int64_t)1 << (total_shift - 1))) >> total_shift);
}

static inline int16_t tg_clamp_s16(int32_t v, int32_t lo, int32_t hi)
{
    if (v < lo) {
        v = lo;
    }
    if (v > hi) {
        v = hi;
    }
    return (int16_t)v;
}

#endif
