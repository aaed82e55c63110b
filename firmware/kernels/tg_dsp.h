/*
 * Kernels that exist only on cores with the DSP extension, and the switch
 * the generated model.c uses to call them (see tinygen/plan/ops.py: a layer
 * that has one also keeps its portable kernel for other cores).
 */
#ifndef TG_DSP_H
#define TG_DSP_H

#include "tg_fixedpoint.h"
#include "tg_kernels.h"

/* A build may set TG_DW3X3_DSP=0 or TG_CONV_PAIRS_DSP=0 to keep the
 * generic kernels. Cores with Helium (MVE) default to them too: the
 * generic kernels are where that extension's variants dispatch. */
#if defined(__ARM_FEATURE_MVE) && __ARM_FEATURE_MVE
#define TG_DSP_PAIRS_DEFAULT 0
#else
#define TG_DSP_PAIRS_DEFAULT TG_DSP
#endif
#ifndef TG_DW3X3_DSP
#define TG_DW3X3_DSP TG_DSP_PAIRS_DEFAULT
#endif

#ifndef TG_CONV_PAIRS_DSP
#define TG_CONV_PAIRS_DSP TG_DSP_PAIRS_DEFAULT
#endif

#ifndef TG_CONV_TRIPLES_DSP
#define TG_CONV_TRIPLES_DSP TG_DSP_PAIRS_DEFAULT
#endif

#if TG_CONV_PAIRS_DSP
/* Convolution two output pixels at a time, fast requantization, output
 * channels in whole groups of 4 (tinygen/plan/ops.py conv_pairs_eligible).
 * stream: per block of 4 output channels the biases, the weights in the
 * blocked layout of tg_rows_dot.h, the requantization records. scratch:
 * two gathered patches (unless pointwise), then both pixels' int16 inputs. */
void tg_conv2d_pairs_s8_dsp(const tg_conv_params *p, const int8_t *input,
                            const int32_t *stream, int8_t *output, int8_t *scratch);
#endif

#if TG_CONV_TRIPLES_DSP
/* Convolution three output pixels by two output channels per pass, fast
 * requantization, output channels in whole pairs (tinygen/plan/ops.py
 * conv_triples_eligible; firmware/kernels/dsp/conv2d_triples_s8.c).
 * stream: per pair of output channels the biases, one weight word per two
 * channels and two depth positions, the requantization records. scratch:
 * three gathered patches (unless pointwise), then the widened inputs. */
void tg_conv2d_triples_s8_dsp(const tg_conv_params *p, const int8_t *input,
                              const int32_t *stream, int8_t *output, int8_t *scratch);
/* The same stream from int8 patches, for gathered layers with input
 * channels in whole words whose scratch has no room for the widened
 * inputs: three patches interleaved word by word. */
void tg_conv2d_triples8_s8_dsp(const tg_conv_params *p, const int8_t *input,
                               const int32_t *stream, int8_t *output, int8_t *scratch);
#endif

#if TG_DW3X3_DSP
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
#endif

#endif
