/*
 * tinygen int8 kernels: the "eval" half of each operator.
 *
 * Every multiplier, shift, padding and offset is computed at build time by
 * tinygen/plan; the kernels only loop. Biases arrive pre-folded:
 * bias'[o] = bias[o] - input_zero_point * sum(filter[o]), so the inner loops
 * multiply raw int8 values with no per-MAC add. Out-of-bounds taps read the
 * input zero point, which makes the folding exact at the borders too.
 * Kernels never allocate; scratch memory comes from the planned arena.
 *
 * Convolution, depthwise and fully connected layers read their weights in
 * a layout the planner arranges at build time (see tinygen/plan/ops.py):
 * conv/FC rows in blocks of 4 rows x 4 depth bytes, depthwise taps as
 * int16 in the order SXTB16 produces (c0, c2, c1, c3). The portable C and
 * the DSP-extension variants read the same layout; the Helium ones read
 * tinygen/plan/layout_mve.py's.
 *
 * Variants: the portable kernel of <name>.c (every core and the host) may
 * have a variant in dsp/<name>.c (DSP extension), mve/<name>.c (Helium) or
 * host/<name>.c (host vector units), with the same arguments and the
 * variant's suffix; a variant file may add kernels of its own for that
 * operator (declared below with their arguments). The plan chooses one per
 * layer (tinygen/plan/variants.py); a build compiles only the files its
 * plan calls.
 */
#ifndef TG_KERNELS_H
#define TG_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/* Per output channel: folded bias and requantization. With fast == 0 in the
 * layer's parameters, (mult, shift) are TFLM's multiplier and signed shift;
 * with fast == 1 the planner proved |acc| < 2^30 for every input and every
 * right shift e >= 1, shift holds e and rz = 2^(e-1) + zero_point * 2^e. */
typedef struct {
    int32_t bias;
    int32_t mult;
    int32_t shift;
    int32_t rz;
} tg_chan_quant;

/* Shapes are NHWC. */
typedef struct {
    int32_t batches;
    int32_t in_h, in_w, in_c;
    int32_t out_h, out_w, out_c;
    int32_t k_h, k_w;
    int32_t stride_h, stride_w;
    int32_t dil_h, dil_w;
    int32_t pad_h, pad_w;
    int32_t depth_multiplier;
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t act_min, act_max;
    int32_t fast;              /* requantization form, see tg_chan_quant */
} tg_conv_params;

typedef struct {
    int32_t batches;
    int32_t in_depth;
    int32_t out_depth;
    int32_t output_zero_point;
    int32_t act_min, act_max;
    int32_t fast;
} tg_fc_params;

typedef struct {
    int32_t batches;
    int32_t in_h, in_w, channels;
    int32_t out_h, out_w;
    int32_t k_h, k_w;
    int32_t stride_h, stride_w;
    int32_t pad_h, pad_w;
    int32_t act_min, act_max;
} tg_pool_params;

/* How the two inputs of an elementwise kernel map onto its output. */
typedef struct {
    int32_t size;              /* output elements */
    int32_t broadcast;         /* 0: both inputs have the output's shape */
    int32_t out_shape[4];
    int32_t in1_strides[4];    /* 0 on broadcast dimensions */
    int32_t in2_strides[4];
} tg_broadcast4;

typedef struct {
    tg_broadcast4 shape;
    int32_t in1_offset, in2_offset;
    int32_t in1_mult, in1_shift;
    int32_t in2_mult, in2_shift;
    int32_t out_mult, out_shift;
    int32_t left_shift;
    int32_t out_offset;
    int32_t act_min, act_max;
} tg_add_params;

typedef struct {
    tg_broadcast4 shape;
    int32_t in1_offset, in2_offset;
    int32_t out_mult, out_shift;
    int32_t out_offset;
    int32_t act_min, act_max;
} tg_mul_params;

typedef struct {
    int32_t size;
    int32_t input_zero_point;
    int32_t mult, shift;       /* input scale / output scale */
    int32_t output_zero_point;
    int32_t act_min, act_max;
} tg_clamp_params;

typedef struct {
    int32_t rows;
    int32_t depth;
} tg_softmax_params;

typedef struct {
    int32_t size;
    float scale;
    int32_t zero_point;
} tg_affine_params;

typedef struct {
    int32_t batches;
    int32_t hw;                /* elements averaged per output (H * W) */
    int32_t channels;
    int32_t input_offset_sum;  /* input_zero_point * hw */
    int32_t mult, shift;       /* in_scale / out_scale / hw, folded at build time */
    int32_t output_zero_point;
} tg_mean_params;

/* Scratch (sizes computed by the planner): conv: the int8 patch then its
 * int16 expansion; depthwise: tap pointers and a zero-point row; fully
 * connected: the int16 expansion of one input row. Every output pixel's
 * input is read (or copied to scratch) before its outputs are written. */
void tg_conv2d_s8(const tg_conv_params *p, const int8_t *input, const int8_t *filter,
                  const tg_chan_quant *quant, int8_t *output, int8_t *scratch);

void tg_depthwise_conv2d_s8(const tg_conv_params *p, const int8_t *input,
                            const int16_t *filter, const tg_chan_quant *quant,
                            int8_t *output, int8_t *scratch);

void tg_fully_connected_s8(const tg_fc_params *p, const int8_t *input, const int8_t *filter,
                           const tg_chan_quant *quant, int8_t *output, int8_t *scratch);

void tg_avg_pool2d_s8(const tg_pool_params *p, const int8_t *input, int8_t *output);
void tg_max_pool2d_s8(const tg_pool_params *p, const int8_t *input, int8_t *output);

void tg_add_s8(const tg_add_params *p, const int8_t *in1, const int8_t *in2,
               int8_t *output);

void tg_mul_s8(const tg_mul_params *p, const int8_t *in1, const int8_t *in2,
               int8_t *output);

/* Standalone RELU / RELU6: requantize, then clamp. */
void tg_relu_s8(const tg_clamp_params *p, const int8_t *input, int8_t *output);

/* exp_table[d] = exp(-d * beta * scale) in Q0.31, 0 below diff_min. */
void tg_softmax_s8(const tg_softmax_params *p, const int8_t *input,
                   const int32_t *exp_table, int8_t *output);

#define TG_CONCAT_MAX_INPUTS 8

typedef struct {
    int32_t outer;                          /* product of dims before the axis */
    int32_t out_inner;                      /* output bytes per outer step */
    int32_t count;                          /* number of inputs */
    int32_t in_inner[TG_CONCAT_MAX_INPUTS]; /* input bytes per outer step */
} tg_concat_params;

typedef struct {
    int32_t in_shape[4];
    int32_t out_shape[4];
    int32_t before[4];                      /* padding before each dimension */
    int32_t value;                          /* the output zero point */
} tg_pad_params;

/* Concatenation of inputs that share the output's quantization (a copy). */
void tg_concat_s8(const tg_concat_params *p, const int8_t *const *inputs, int8_t *output);

/* Constant padding of up to 4 dimensions. */
void tg_pad_s8(const tg_pad_params *p, const int8_t *input, int8_t *output);

/* Mean over H and W of an NHWC tensor (global average pooling). */
void tg_mean_hw_s8(const tg_mean_params *p, const int8_t *input, int8_t *output);

/* Elementwise function by a 256-entry table built by the planner. */
typedef struct {
    int32_t size;
} tg_lut_params;

void tg_lut_s8(const tg_lut_params *p, const int8_t *input, const int8_t *table,
               int8_t *output);

/* SUB shares ADD's parameters (in2 is subtracted). */
void tg_sub_s8(const tg_add_params *p, const int8_t *in1, const int8_t *in2, int8_t *output);

typedef struct {
    int32_t in_shape[4];
    int32_t out_strides[4];    /* 0 on reduced dimensions */
    int32_t out_size;
} tg_reduce_params;

/* Maximum over the dimensions whose out_strides are 0. */
void tg_reduce_max_s8(const tg_reduce_params *p, const int8_t *input, int8_t *output);

void tg_quantize_f32_s8(const tg_affine_params *p, const float *input, int8_t *output);
void tg_dequantize_s8_f32(const tg_affine_params *p, const int8_t *input, float *output);

/* ---- DSP-extension variants (firmware/kernels/dsp/) ---- */
void tg_conv2d_s8_dsp(const tg_conv_params *p, const int8_t *input, const int8_t *filter,
                      const tg_chan_quant *quant, int8_t *output, int8_t *scratch);
/* Convolution two output pixels at a time, fast requantization, output
 * channels in whole groups of 4 (tinygen/plan/ops.py conv_pairs_eligible).
 * stream: per block of 4 output channels the biases, the weights in the
 * blocked layout of tg_rows_dot.h, the requantization records. scratch:
 * two gathered patches (unless pointwise), then both pixels' int16 inputs. */
void tg_conv2d_pairs_s8_dsp(const tg_conv_params *p, const int8_t *input,
                            const int32_t *stream, int8_t *output, int8_t *scratch);
/* Convolution three output pixels by two output channels per pass, fast
 * requantization, output channels in whole pairs (tinygen/plan/ops.py
 * conv_triples_eligible; dsp/conv2d_triples_s8.c). stream: per pair of
 * output channels the biases, one weight word per two channels and two
 * depth positions, the requantization records. scratch: three gathered
 * patches (unless pointwise), then the widened inputs. */
void tg_conv2d_triples_s8_dsp(const tg_conv_params *p, const int8_t *input,
                              const int32_t *stream, int8_t *output, int8_t *scratch);
/* The same stream from int8 patches, for gathered layers with input
 * channels in whole words whose scratch has no room for the widened
 * inputs: three patches interleaved word by word. */
void tg_conv2d_triples8_s8_dsp(const tg_conv_params *p, const int8_t *input,
                               const int32_t *stream, int8_t *output, int8_t *scratch);
/* tg_conv2d_triples_s8_dsp reading its weights from flash once: stream is
 * the number of 2-channel blocks per part, then tg_conv2d_triples_s8_dsp's
 * stream, copied part by part into the start of scratch. */
void tg_conv2d_triples_ram_s8_dsp(const tg_conv_params *p, const int8_t *input,
                                  const int32_t *stream, int8_t *output, int8_t *scratch);
/* tg_conv2d_triples_s8_dsp with its stream copied whole into the start of
 * scratch first (read from flash once), without the copying kernel's own
 * pass (tinygen/plan/ops.py fit_stream_copies). */
void tg_conv2d_triples_copy_s8_dsp(const tg_conv_params *p, const int8_t *input,
                                   const int32_t *stream, int8_t *output, int8_t *scratch);
/* tg_conv2d_triples_ram_s8_dsp's stream with the weights widened to int16
 * pairs as they are copied (tinygen/plan/ops.py widen_stream_copies). */
void tg_conv2d_triples16_ram_s8_dsp(const tg_conv_params *p, const int8_t *input,
                                    const int32_t *stream, int8_t *output, int8_t *scratch);
/* Three pixels by two channels from int8 inputs with the whole stream
 * copied into scratch, in a compact form for layers whose RAM has no room
 * for tg_conv2d_triples_s8_dsp's stream and widened inputs: the weight
 * words, then 14-byte requantization records (tinygen/plan/ops.py
 * triples8_ram_stream, fit_compact_copies). */
void tg_conv2d_triples8_ram_s8_dsp(const tg_conv_params *p, const int8_t *input,
                                   const int32_t *stream, int8_t *output, int8_t *scratch);
/* 3x3 convolution at stride 2 of a 3-channel input (an image network's
 * first layer), output channels in groups of 4, fast requantization
 * (tinygen/plan/ops.py conv_rgb_eligible; dsp/conv2d_rgb_s8.c). stream: per
 * block of 4 output channels the biases, the weights as int16 pairs per
 * kernel row, the requantization records, doubled. scratch: the stream,
 * then a ring of three widened input rows. */
void tg_conv2d_rgb3x3s2_s8_dsp(const tg_conv_params *p, const int8_t *input,
                               const int32_t *stream, int8_t *output, int8_t *scratch);
/* The same at stride 1 (tinygen/plan/ops.py conv_rgb1_eligible): scratch the
 * stream, a ring of three input rows widened twice (at whole words and one
 * halfword earlier, interleaved), one natural widened row. */
void tg_conv2d_rgb3x3s1_s8_dsp(const tg_conv_params *p, const int8_t *input,
                               const int32_t *stream, int8_t *output, int8_t *scratch);
/* 3x3 convolution at stride 1 of a 16-, 32- or 64-channel input, output
 * channels in groups of 4, fast requantization (tinygen/plan/ops.py conv_3x3pair_eligible;
 * dsp/conv2d_3x3_s8.c). stream: per block of 4 output channels the biases,
 * the weights as int16 pairs, the requantization records, doubled.
 * scratch: the 3 x 4 input pixels under an output pixel pair, widened. */
void tg_conv2d_3x3pair_s8_dsp(const tg_conv_params *p, const int8_t *input,
                              const int32_t *stream, int8_t *output, int8_t *scratch);
/* Pointwise convolution of an 8-channel input, stride 1, output channels in
 * groups of 4, fast requantization (tinygen/plan/ops.py conv_pw8_eligible;
 * dsp/conv2d_narrow_s8.c). stream: per output channel the bias, the
 * weights as int16 pairs in SXTB16 order, the requantization record,
 * doubled. scratch: the stream. */
void tg_conv2d_pw8_s8_dsp(const tg_conv_params *p, const int8_t *input,
                          const int32_t *stream, int8_t *output, int8_t *scratch);
/* The same for 16 input channels, one pixel per pass (conv_pw16_eligible). */
void tg_conv2d_pw16_s8_dsp(const tg_conv_params *p, const int8_t *input,
                           const int32_t *stream, int8_t *output, int8_t *scratch);
void tg_depthwise_conv2d_s8_dsp(const tg_conv_params *p, const int8_t *input,
                                const int16_t *filter, const tg_chan_quant *quant,
                                int8_t *output, int8_t *scratch);
/* 3x3 depthwise convolution at stride 1 or 2 (one entry point each, so a
 * model links only what it uses), depth multiplier 1, channels in
 * groups of 4, fast requantization (tinygen/plan/ops.py dw3x3_dsp_eligible).
 * stream: per channel the requantization record (bias first) and the
 * weights as halfword pairs per kernel row. scratch: a ring of three input
 * rows, int16, channel-planar, padded with the input zero point. */
void tg_depthwise3x3s1_s8_dsp(const tg_conv_params *p, const int8_t *input,
                              const int32_t *stream, int8_t *output, int8_t *scratch);
void tg_depthwise3x3s2_s8_dsp(const tg_conv_params *p, const int8_t *input,
                              const int32_t *stream, int8_t *output, int8_t *scratch);
/* The same with the stream copied once into scratch after the ring (read
 * from flash once per layer; tinygen/plan/ops.py dw3x3_ram_scratch). */
void tg_depthwise3x3s1_ram_s8_dsp(const tg_conv_params *p, const int8_t *input,
                                  const int32_t *stream, int8_t *output, int8_t *scratch);
void tg_depthwise3x3s2_ram_s8_dsp(const tg_conv_params *p, const int8_t *input,
                                  const int32_t *stream, int8_t *output, int8_t *scratch);
/* tg_depthwise3x3s1_ram_s8_dsp for output rows of exactly 6 pixels. */
void tg_depthwise3x3s1w6_ram_s8_dsp(const tg_conv_params *p, const int8_t *input,
                                    const int32_t *stream, int8_t *output, int8_t *scratch);
/* ... and for output rows of exactly 3 pixels, stride 1 and 2. */
void tg_depthwise3x3s1w3_ram_s8_dsp(const tg_conv_params *p, const int8_t *input,
                                    const int32_t *stream, int8_t *output, int8_t *scratch);
void tg_depthwise3x3s2w3_ram_s8_dsp(const tg_conv_params *p, const int8_t *input,
                                    const int32_t *stream, int8_t *output, int8_t *scratch);
/* ... and for output rows of exactly 5 pixels, stride 1 and 2, flash or RAM stream. */
void tg_depthwise3x3s1w5_s8_dsp(const tg_conv_params *p, const int8_t *input,
                                const int32_t *stream, int8_t *output, int8_t *scratch);
void tg_depthwise3x3s2w5_s8_dsp(const tg_conv_params *p, const int8_t *input,
                                const int32_t *stream, int8_t *output, int8_t *scratch);
void tg_depthwise3x3s1w5_ram_s8_dsp(const tg_conv_params *p, const int8_t *input,
                                    const int32_t *stream, int8_t *output, int8_t *scratch);
void tg_depthwise3x3s2w5_ram_s8_dsp(const tg_conv_params *p, const int8_t *input,
                                    const int32_t *stream, int8_t *output, int8_t *scratch);
/* The same in the scratch of the first two, the stream copied to it in two
 * halves (two groups of channels; tinygen/plan/ops.py dw3x3_halves_eligible). */
void tg_depthwise3x3s1_halves_s8_dsp(const tg_conv_params *p, const int8_t *input,
                                     const int32_t *stream, int8_t *output, int8_t *scratch);
void tg_depthwise3x3s2_halves_s8_dsp(const tg_conv_params *p, const int8_t *input,
                                     const int32_t *stream, int8_t *output, int8_t *scratch);
void tg_depthwise3x3s1w5_halves_s8_dsp(const tg_conv_params *p, const int8_t *input,
                                       const int32_t *stream, int8_t *output, int8_t *scratch);
void tg_depthwise3x3s2w5_halves_s8_dsp(const tg_conv_params *p, const int8_t *input,
                                       const int32_t *stream, int8_t *output, int8_t *scratch);
void tg_fully_connected_s8_dsp(const tg_fc_params *p, const int8_t *input, const int8_t *filter,
                               const tg_chan_quant *quant, int8_t *output, int8_t *scratch);
void tg_avg_pool2d_s8_dsp(const tg_pool_params *p, const int8_t *input, int8_t *output);
/* Inputs of the output's shape, rescaling multipliers below one
 * (tinygen/plan/variants.py _add_dsp). */
void tg_add_s8_dsp(const tg_add_params *p, const int8_t *in1, const int8_t *in2,
                   int8_t *output);
/* The same from build-time tables of each input's rescaled values
 * (tinygen/plan/lut.py add_tables). */
void tg_add_table_s8_dsp(const tg_add_params *p, const int8_t *in1, const int8_t *in2,
                         const int32_t *table, int8_t *output);

/* ---- Helium (MVE) variants (firmware/kernels/mve/), constants in the
 * layout of tinygen/plan/layout_mve.py ---- */
void tg_conv2d_s8_mve(const tg_conv_params *p, const int8_t *input, const int8_t *filter,
                      const tg_chan_quant *quant, int8_t *output, int8_t *scratch);
void tg_depthwise_conv2d_s8_mve(const tg_conv_params *p, const int8_t *input,
                                const int16_t *filter, const tg_chan_quant *quant,
                                int8_t *output, int8_t *scratch);
void tg_fully_connected_s8_mve(const tg_fc_params *p, const int8_t *input, const int8_t *filter,
                               const tg_chan_quant *quant, int8_t *output, int8_t *scratch);
void tg_add_s8_mve(const tg_add_params *p, const int8_t *in1, const int8_t *in2,
                   int8_t *output);
void tg_avg_pool2d_s8_mve(const tg_pool_params *p, const int8_t *input, int8_t *output);
void tg_max_pool2d_s8_mve(const tg_pool_params *p, const int8_t *input, int8_t *output);
void tg_mean_hw_s8_mve(const tg_mean_params *p, const int8_t *input, int8_t *output);
void tg_softmax_s8_mve(const tg_softmax_params *p, const int8_t *input,
                       const int32_t *exp_table, int8_t *output);

/* ---- Host-vector variants (firmware/kernels/host/) ---- */
void tg_conv2d_s8_host(const tg_conv_params *p, const int8_t *input, const int8_t *filter,
                       const tg_chan_quant *quant, int8_t *output, int8_t *scratch);
void tg_depthwise_conv2d_s8_host(const tg_conv_params *p, const int8_t *input,
                                 const int16_t *filter, const tg_chan_quant *quant,
                                 int8_t *output, int8_t *scratch);
void tg_fully_connected_s8_host(const tg_fc_params *p, const int8_t *input, const int8_t *filter,
                                const tg_chan_quant *quant, int8_t *output, int8_t *scratch);

/* Transposed and grouped convolution, resize, tile, strided slice. */
#include "tg_spatial.h"
/* Their DSP-extension variants (firmware/kernels/dsp/), same arguments. */
void tg_transpose_conv_s8_dsp(const tg_generic_conv_params *p, const int8_t *input,
                              const int8_t *filter, const int32_t *quant, const int32_t *phases,
                              int8_t *output, int8_t *scratch);
void tg_conv2d_grouped_s8_dsp(const tg_generic_conv_params *p, const int8_t *input,
                              const int8_t *filter, const int32_t *quant, int8_t *output,
                              int8_t *scratch);
/* ... and Helium variants (firmware/kernels/mve/), same arguments and constants. */
void tg_transpose_conv_s8_mve(const tg_generic_conv_params *p, const int8_t *input,
                              const int8_t *filter, const int32_t *quant, const int32_t *phases,
                              int8_t *output, int8_t *scratch);
void tg_conv2d_grouped_s8_mve(const tg_generic_conv_params *p, const int8_t *input,
                              const int8_t *filter, const int32_t *quant, int8_t *output,
                              int8_t *scratch);

#endif
