"""What tinygen compiles of int16x8 models (16-bit activations, 8-bit
weights): the operators tinygen/plan/ops_s16.py prepares, with TFLM's
conditions for their 16-bit forms (zero points 0, int32 or int64 biases,
SOFTMAX / LOGISTIC / TANH output scales), refused in one line otherwise.
Called from tinygen/ir/validate.py for every operator on an int16 tensor.
"""

from __future__ import annotations

import importlib
import math

import numpy as np

from tinygen.ir import model as ir

# The module, not the function tinygen.ir re-exports under the same name.
v = importlib.import_module("tinygen.ir.validate")

SUPPORTED_S16 = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "AVERAGE_POOL_2D",
                 "MAX_POOL_2D", "ADD", "MUL", "SOFTMAX", "LOGISTIC", "TANH", "RESHAPE",
                 "QUANTIZE", "DEQUANTIZE")
HINT_S16 = ("convert with EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8 (16x8) "
            "using only " + ", ".join(SUPPORTED_S16[:-3]) + ", or convert to int8")
IO_HINT = ("keep the converter's float32 input and output for a 16x8 model (do not set "
           "inference_input_type / inference_output_type to int16)")
# TFLM's 64-bit requantization takes accumulators below 2^47 and shifts below 8.
ACC64_BOUND = 1 << 47
MAX_MULTIPLIER_S16 = 2.0 ** 7


def activation_s16(refuse, t: ir.Tensor, rank=None) -> None:
    """An int16 activation: per-tensor quantization, zero point 0."""
    if t.dtype != "int16":
        raise refuse(f"is {t.dtype} in an int16x8 operator, expected int16", t, HINT_S16)
    if t.quant is None:
        raise refuse("has no quantization parameters", t, HINT_S16)
    v._check_shape(refuse, t, rank)
    v._check_scales(refuse, t)
    if int(t.quant.zero_points[0]) != 0:
        raise refuse(f"has zero point {int(t.quant.zero_points[0])}; 16-bit activations are "
                     "symmetric (zero point 0)", t, HINT_S16)


def _bias_s16(refuse, m: ir.Model, op: ir.Operator, channels: int) -> np.ndarray:
    if len(op.inputs) < 3 or op.inputs[2] < 0:
        return np.zeros(channels, dtype=np.int64)
    b = m.tensors[op.inputs[2]]
    if b.dtype not in ("int64", "int32") or not b.is_const:
        raise refuse("bias must be a constant int64 or int32 tensor", b, HINT_S16)
    if v._elements(b.shape) != channels:
        raise refuse(f"bias has {v._elements(b.shape)} values for {channels} output channels", b)
    return b.data.astype(np.int64).reshape(-1)


def _accumulators(refuse, m, op, x, w, y, reduce_axes, channels) -> None:
    """The accumulator (bias + sum of int16 x int8 products) and its rescaled
    value stay within what TFLM's 16x8 arithmetic computes exactly."""
    scales = w.quant.scales if len(w.quant.scales) > 1 else [w.quant.scales[0]] * channels
    reals = [float(x.quant.scale) * float(s) / float(y.quant.scale) for s in scales]
    bias = _bias_s16(refuse, m, op, channels)
    acc32 = len(op.inputs) > 2 and op.inputs[2] >= 0 and m.tensors[op.inputs[2]].dtype == "int32"
    v._check_multipliers(refuse, reals, w, "per-channel",
                         highest=v.MAX_MULTIPLIER if acc32 else MAX_MULTIPLIER_S16)
    bound = 32768 * np.abs(w.data.astype(np.int64)).sum(axis=reduce_axes) + np.abs(bias)
    limit = (1 << 31) if acc32 else ACC64_BOUND
    for c, (b, r) in enumerate(zip(bound.tolist(), reals)):
        if b >= limit or b * r >= 1 << 31:
            raise refuse(f"channel {c} can reach the accumulator bound {b} (times multiplier "
                         f"{r:.3g}), beyond what TFLM's 16x8 arithmetic holds", w,
                         "the weights, bias or scales are corrupt; re-export the model")


def _conv(m, op, refuse, ins, y) -> None:
    o = op.options
    depthwise = op.kind == "DEPTHWISE_CONV_2D"
    x, w = v._weighted_operands(refuse, ins, y, 4, 4, activation_s16)
    c = x.shape[3]
    if depthwise:
        one, kh, kw, oc = w.shape
        if one != 1 or oc % c or o.depth_multiplier != oc // c:
            raise refuse(f"filter shape {w.shape} does not fit input depth {c} and depth "
                         f"multiplier {o.depth_multiplier}", w)
        if kh * kw > 256:
            # The kernel sums a window in int32: up to 256 products of < 2^22.
            raise refuse(f"has a {kh}x{kw} window; tinygen's 16-bit depthwise kernel takes "
                         "up to 256 taps", w, "use a smaller kernel or int8")
        axis = 3
    else:
        oc, kh, kw, ic = w.shape
        if ic != c:
            raise refuse(f"filter depth {ic} differs from input depth {c} (grouped "
                         "convolution is not supported)", w, "use groups=1")
        axis = 0
    v._check_weights(refuse, w, 4, oc, axis)
    v._check_conv_output(refuse, o, x, y, (kh, kw), oc)
    if depthwise and len(op.inputs) > 2 and op.inputs[2] >= 0 and \
            m.tensors[op.inputs[2]].dtype != "int64":
        raise refuse("has an int32 bias; TFLM's 16-bit depthwise convolution reads int64 "
                     "biases", m.tensors[op.inputs[2]], HINT_S16)
    _accumulators(refuse, m, op, x, w, y, (0, 1, 2) if depthwise else (1, 2, 3), oc)


def _fully_connected(m, op, refuse, ins, y) -> None:
    x, w = v._weighted_operands(refuse, ins, y, (1, 4), 2, activation_s16)
    out_d, in_d = w.shape
    v._check_weights(refuse, w, 2, out_d, 0)
    v._activation_ok(refuse, op.options.activation, y)
    v._check_rows(refuse, x, y, in_d, out_d)
    _accumulators(refuse, m, op, x, w, y, (1,), out_d)


def _pool(m, op, refuse, ins, y) -> None:
    x = v._pool_input(op, refuse, ins, y, activation_s16)
    if not v._same_quant(x, y):
        raise refuse("has different input and output quantization", y,
                     "TFLM's 16-bit pooling does not rescale; re-export the model")


def _binary(m, op, refuse, ins, y) -> None:
    a, b = ins
    if a is None or b is None:
        raise refuse("has an omitted operand")
    for t in (a, b, y):
        activation_s16(refuse, t, (0, 4))
    v._check_broadcast(refuse, a, b, y)
    v._activation_ok(refuse, getattr(op.options, "activation", ir.ACT_NONE), y)
    sa, sb, so = float(a.quant.scale), float(b.quant.scale), float(y.quant.scale)
    if op.kind == "ADD":
        # TFLM's QuantizeMultiplierSmallerThanOneExp aborts at 1 or more.
        v._check_multipliers(refuse, [2.0 * max(sa, sb) / ((1 << 15) * so)], y, "output",
                             highest=1.0)
    else:
        # The int16 x int16 product uses up to 30 bits: no left shift on top.
        v._check_multipliers(refuse, [sa * sb / so], y, "output", highest=1.0)


def _softmax(m, op, refuse, ins, y) -> None:
    x = v._same_shape_input(refuse, ins, y, activation_s16, (1, 4))
    if abs(float(y.quant.scale) - 1.0 / 32768) > 1e-3 / 32768:
        raise refuse(f"output scale {float(y.quant.scale):g} is not 1/32768 (TFLM's int16 "
                     "SOFTMAX needs it)", y, "let the TFLite converter choose the output "
                     "quantization")
    beta = float(op.options.beta)
    real = beta * float(x.quant.scale) / (10.0 / 65535.0) if math.isfinite(beta) else math.nan
    if not (math.isfinite(beta) and beta > 0 and v.MIN_MULTIPLIER <= real < 2.0 ** 15):
        raise refuse(f"has beta {beta:g} with input scale {float(x.quant.scale):g}, outside "
                     "what TFLM's int16 SOFTMAX rescales", x)


def _sigmoid(m, op, refuse, ins, y) -> None:
    x = v._same_shape_input(refuse, ins, y, activation_s16)
    if abs(math.log2(float(y.quant.scale)) + 15) > 1e-3:
        raise refuse(f"output scale {float(y.quant.scale):g} is not 2^-15 (TFLM's int16 "
                     f"{op.kind} needs it)", y,
                     "let the TFLite converter choose the output quantization")
    if float(x.quant.scale) * 4096.0 * 3.0 > 32767.0:
        raise refuse(f"input scale {float(x.quant.scale):g} is above what TFLM's int16 "
                     f"{op.kind} rescales (32767 / 12288)", x)


def _reshape(m, op, refuse, ins, y) -> None:
    v._check_reshape(refuse, ins, y, activation_s16)


def _quantize(m, op, refuse, ins, y) -> None:
    src = ins[0]
    if op.kind == "QUANTIZE":
        if src.dtype != "float32" or src.index not in m.inputs:
            raise refuse(f"quantizes {src.dtype} to int16 inside the model; tinygen only "
                         "quantizes the float32 graph input", src, HINT_S16)
        activation_s16(refuse, y)
        v._check_shape(refuse, src)
        if src.shape != y.shape:
            raise refuse(f"maps shape {src.shape} to {y.shape}", y)
    else:
        if y.dtype != "float32" or y.index not in m.outputs:
            raise refuse(f"dequantizes int16 to {y.dtype} inside the model; tinygen only "
                         "dequantizes the graph output to float32", y, HINT_S16)
        activation_s16(refuse, src)
        v._check_shape(refuse, y)
        if src.shape != y.shape:
            raise refuse(f"maps shape {src.shape} to {y.shape}", y)


_CHECKS_S16 = {
    "CONV_2D": _conv, "DEPTHWISE_CONV_2D": _conv, "FULLY_CONNECTED": _fully_connected,
    "AVERAGE_POOL_2D": _pool, "MAX_POOL_2D": _pool, "ADD": _binary, "MUL": _binary,
    "SOFTMAX": _softmax, "LOGISTIC": _sigmoid, "TANH": _sigmoid, "RESHAPE": _reshape,
    "QUANTIZE": _quantize, "DEQUANTIZE": _quantize,
}


def check_operator_s16(m: ir.Model, op: ir.Operator, refuse, ins, y) -> None:
    """An operator on int16 activations, as ops_s16 and the *_s16 kernels assume it."""
    if op.kind not in _CHECKS_S16:
        raise refuse("is not compiled for int16 activations", None, HINT_S16)
    _CHECKS_S16[op.kind](m, op, refuse, ins, y)
