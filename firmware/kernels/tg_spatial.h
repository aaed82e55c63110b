/*
 * tinygen int8 kernels of the spatial operators that users' own models
 * bring (issue 26): transposed and grouped convolution, resize (nearest
 * and bilinear), tile and strided slice. Portable C, one file each; the
 * planner (tinygen/plan/spatial.py) computes every index table, multiplier
 * and shift at build time.
 */
#ifndef TG_SPATIAL_H
#define TG_SPATIAL_H
#include <stdint.h>

/* TRANSPOSE_CONV and grouped CONV_2D. Shapes are NHWC; the filter is in
 * TFLite's order, [out_c][k_h][k_w][in_c / groups]; quant holds per output
 * channel (bias, multiplier, shift) as TFLM computes them. Transposed:
 * pad_* is the padding of the output (as TFLM computes it from the output
 * size), stride_* the up-sampling factor, dil_* 1 and groups 1. */
typedef struct {
    int32_t batches;
    int32_t in_h, in_w, in_c;
    int32_t out_h, out_w, out_c;
    int32_t k_h, k_w;
    int32_t stride_h, stride_w;
    int32_t dil_h, dil_w;
    int32_t pad_h, pad_w;
    int32_t groups;
    int32_t input_offset;      /* minus the input zero point */
    int32_t output_zero_point;
    int32_t act_min, act_max;
} tg_generic_conv_params;

/* Output pixels gather the input pixels that the filter scatters onto them
 * (TFLM scatters into an int32 buffer of the whole output). The planner
 * splits the filter by output phase (y + pad_h) mod stride_h, (x + pad_w)
 * mod stride_w: phases[3 * phase] = (offset into filter, tap rows, tap
 * columns), filter rows [out_c][rows][columns][in_c] per phase, quant per
 * phase and output channel (folded bias, multiplier, shift); scratch holds
 * one phase's taps, the most rows x columns x in_c. */
void tg_transpose_conv_s8(const tg_generic_conv_params *p, const int8_t *input,
                          const int8_t *filter, const int32_t *quant, const int32_t *phases,
                          int8_t *output, int8_t *scratch);
/* Each output channel reads the in_c / groups input channels of its group;
 * quant's biases are folded (bias + input_offset * sum(filter)); scratch
 * holds one group's window, k_h * k_w * in_c / groups bytes. */
void tg_conv2d_grouped_s8(const tg_generic_conv_params *p, const int8_t *input,
                          const int8_t *filter, const int32_t *quant, int8_t *output,
                          int8_t *scratch);

typedef struct {
    int32_t batches;
    int32_t in_h, in_w, channels;
    int32_t out_h, out_w;
} tg_resize_params;

/* rows[y], cols[x]: the input row and column each output row and column copies. */
void tg_resize_nearest_s8(const tg_resize_params *p, const int8_t *input,
                          const int32_t *rows, const int32_t *cols, int8_t *output);
/* rows[3 y .. 3 y + 2], cols[3 x .. 3 x + 2]: the two input rows (columns)
 * and the distance from the first in 1/1024 (TFLM's ResizeBilinearInteger). */
void tg_resize_bilinear_s8(const tg_resize_params *p, const int8_t *input,
                           const int32_t *rows, const int32_t *cols, int8_t *output);

#define TG_TILE_MAX_RANK 6
typedef struct {
    int32_t in_shape[TG_TILE_MAX_RANK];   /* leading dimensions of 1 pad a lower rank */
    int32_t out_shape[TG_TILE_MAX_RANK];  /* in_shape times the multiples */
} tg_tile_params;
void tg_tile_s8(const tg_tile_params *p, const int8_t *input, int8_t *output);

#define TG_SLICE_MAX_RANK 5
typedef struct {
    int32_t start;                        /* input offset of the first output element */
    int32_t out_shape[TG_SLICE_MAX_RANK];
    int32_t steps[TG_SLICE_MAX_RANK];     /* input elements between neighbours along each dimension */
} tg_slice_params;
/* STRIDED_SLICE with begin, end and strides known at build time (a crop). */
void tg_strided_slice_s8(const tg_slice_params *p, const int8_t *input, int8_t *output);

#endif
