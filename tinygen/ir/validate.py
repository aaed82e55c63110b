"""What tinygen compiles, and one-line refusals for everything else.

``check_graph`` proves the graph's structure (run before and after
folding): every operand is a graph input, a constant or the output of an
earlier operator, each tensor is written once, the graph output is
written. ``validate`` then proves, per operator kind, everything the
planner (tinygen/plan/ops.py) and the C kernels assume: operand counts,
types, ranks, shapes as the operator computes them, the options' kind and
ranges, and quantization parameters that are finite, in range and give
requantization multipliers the 32-bit kernels can hold. A refusal names
the operator (index, kind), the tensor and what is wrong, on one line.
"""

from __future__ import annotations

import math

import numpy as np

from tinygen.errors import TinygenError
from tinygen.ir import model as ir
from tinygen.ir.fold import strided_slice

SUPPORTED = (
    "CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "AVERAGE_POOL_2D",
    "MAX_POOL_2D", "ADD", "MUL", "RELU", "RELU6", "SOFTMAX", "MEAN", "CONCATENATION", "PAD", "PADV2", "RESHAPE",
    "QUANTIZE", "DEQUANTIZE", "SUB", "LOGISTIC", "TANH", "HARD_SWISH", "LEAKY_RELU",
    "REDUCE_MAX",
    # Users' own models (issue 26): see the "spatial operators" block below.
    "TRANSPOSE_CONV", "RESIZE_BILINEAR", "RESIZE_NEAREST_NEIGHBOR", "TILE", "STRIDED_SLICE",
)

# The fix for every "not an int8 model" refusal.
_FLOAT_HINT = ("convert it with full-integer quantization "
               "(Optimize.DEFAULT, a representative dataset, TFLITE_BUILTINS_INT8)")
_CORRUPT = "the .tflite file is corrupt or was edited; re-export it"

# Largest activation tensor: far beyond any microcontroller's RAM, small
# enough that the planner's per-pixel arithmetic stays quick.
MAX_TENSOR_BYTES = 1 << 26
# Strides, dilations and window sizes: the kernels hold derived paddings
# and offsets in int32.
MAX_WINDOW = 1 << 12
MAX_PAD = 1 << 12
# Quantization scales outside this range are corrupt, never converter output.
SCALE_MIN, SCALE_MAX = 1e-12, 1e12
# Requantization multipliers (input scale x weight scale / output scale)
# from 1 up shift the 32-bit accumulator left; _check_accumulators proves
# that stays in int32 for the weights given.
MAX_MULTIPLIER = 2.0 ** 16
# Below this the multiplier quantizes to 0 (TFLM QuantizeMultiplier).
MIN_MULTIPLIER = 2.0 ** -31

# Operator kind -> (fewest inputs, most inputs); every kind has one output.
_ARITY = {
    "CONV_2D": (2, 3), "DEPTHWISE_CONV_2D": (2, 3), "FULLY_CONNECTED": (2, 3),
    "AVERAGE_POOL_2D": (1, 1), "MAX_POOL_2D": (1, 1), "ADD": (2, 2), "MUL": (2, 2),
    "RELU": (1, 1), "RELU6": (1, 1), "SOFTMAX": (1, 1), "MEAN": (2, 2),
    "CONCATENATION": (1, 8), "PAD": (2, 2), "PADV2": (2, 3), "RESHAPE": (1, 2),
    "QUANTIZE": (1, 1), "DEQUANTIZE": (1, 1), "SUB": (2, 2), "LOGISTIC": (1, 1),
    "TANH": (1, 1), "HARD_SWISH": (1, 1), "LEAKY_RELU": (1, 1), "REDUCE_MAX": (2, 2),
    # Shape arithmetic folded at build time (tinygen/ir/fold.py).
    "SHAPE": (1, 1), "STRIDED_SLICE": (4, 4), "PACK": (1, 16), "CAST": (1, 1),
    "SQUEEZE": (1, 1), "EXPAND_DIMS": (1, 2),
    "TRANSPOSE_CONV": (3, 4), "RESIZE_BILINEAR": (2, 2), "RESIZE_NEAREST_NEIGHBOR": (2, 2),
    "TILE": (2, 2),
}

# Operator kind -> the options class the planner reads.
_OPTIONS = {
    "CONV_2D": ir.Conv2DOptions, "DEPTHWISE_CONV_2D": ir.DepthwiseConv2DOptions,
    "FULLY_CONNECTED": ir.FullyConnectedOptions, "AVERAGE_POOL_2D": ir.Pool2DOptions,
    "MAX_POOL_2D": ir.Pool2DOptions, "ADD": ir.AddOptions, "MUL": ir.AddOptions,
    "SOFTMAX": ir.SoftmaxOptions, "CONCATENATION": ir.ConcatenationOptions,
    "STRIDED_SLICE": ir.StridedSliceOptions, "PACK": ir.PackOptions,
    "LEAKY_RELU": ir.LeakyReluOptions,
    "TRANSPOSE_CONV": ir.TransposeConvOptions, "RESIZE_BILINEAR": ir.ResizeOptions,
    "RESIZE_NEAREST_NEIGHBOR": ir.ResizeOptions,
}


class _Refuse:
    """Builds the one-line refusals for one operator."""

    def __init__(self, m: ir.Model, op: ir.Operator):
        self.m, self.op = m, op

    def __call__(self, what: str, tensor: ir.Tensor | None = None,
                 fix: str = _CORRUPT) -> TinygenError:
        where = f"model {self.m.name}: operator {self.op.index} ({self.op.kind})"
        if tensor is not None:
            where += f" tensor '{tensor.name}'"
        return TinygenError(f"{where}: {what}; {fix}")


_ITEMSIZE = {"int8": 1, "uint8": 1, "bool": 1, "int16": 2, "float16": 2, "int32": 4,
             "float32": 4, "int64": 8}


def _elements(shape: tuple[int, ...]) -> int:
    return math.prod(shape)


def check_graph(m: ir.Model) -> None:
    """Execution order, single writers and the graph output's producer."""
    n = len(m.tensors)
    for where, indices in (("input", m.inputs), ("output", m.outputs)):
        for i in indices:
            if not 0 <= i < n:
                raise TinygenError(f"model {m.name}: graph {where} is tensor {i} of {n}; "
                                   f"{_CORRUPT}")
    for i in m.inputs:
        if m.tensors[i].is_const:
            raise TinygenError(f"model {m.name}: graph input '{m.tensors[i].name}' holds "
                               f"constant data; {_CORRUPT}")
    written = set(m.inputs)
    for op in m.operators:
        refuse = _Refuse(m, op)
        if op.kind in _ARITY:
            lo, hi = _ARITY[op.kind]
            if not lo <= len(op.inputs) <= hi:
                raise refuse(f"has {len(op.inputs)} inputs, expected "
                             + (f"{lo}" if lo == hi else f"{lo} to {hi}"))
            if len(op.outputs) != 1:
                raise refuse(f"has {len(op.outputs)} outputs, expected 1")
            if any(i < 0 for i in op.inputs[:1]):
                raise refuse("has its first input omitted (-1)")
        for i in op.inputs:
            if i < 0:
                continue
            t = m.tensors[i]
            if i not in written and not t.is_const:
                raise refuse("reads a tensor that is not a graph input, not a constant and "
                             "not written by an earlier operator (operators missing or out of "
                             "execution order)", t)
        for i in op.outputs:
            t = m.tensors[i]
            if i in written or t.is_const:
                raise refuse("writes a tensor that is a graph input, a constant or already "
                             "written by an earlier operator", t)
            written.add(i)
    for i in m.outputs:
        if i not in written - set(m.inputs):
            raise TinygenError(f"model {m.name}: graph output '{m.tensors[i].name}' is not "
                               f"written by any operator; {_CORRUPT}")


# The converter setting and model change that remove a float island.
ISLAND_FIX = ("convert with converter.target_spec.supported_ops = "
              "[tf.lite.OpsSet.TFLITE_BUILTINS_INT8] (the converter then quantizes the layer or "
              "names the one it cannot), and put BatchNormalization directly after a Conv2D, "
              "DepthwiseConv2D or Dense layer so it folds into their weights")

# What to change for operators tinygen does not compile (one line each).
UNSUPPORTED_FIX = {
    "SLICE": "a slice of a run-time tensor is not compiled; crop the input in pre-processing",
    "SPLIT": "splitting a tensor is not compiled; use separate layers on the full tensor",
    "SPLIT_V": "splitting a tensor is not compiled; use separate layers on the full tensor",
    "TRANSPOSE": "transposes are not compiled; keep tensors NHWC (remove Permute layers)",
    "BATCH_MATMUL": "use Dense on a 2-D input instead of a matrix product of activations",
    "SQUARED_DIFFERENCE": "LayerNormalization is not compiled; use BatchNormalization after a "
                          "convolution (it folds into the weights)",
    "RSQRT": "LayerNormalization is not compiled; use BatchNormalization after a convolution",
    "MINIMUM": "a clip is not compiled; use ReLU6 or ReLU(max_value=6)",
    "MAXIMUM": "a clip is not compiled; use ReLU or ReLU6",
    "ARG_MAX": "take the arg max of the scores outside the model (drop it before converting)",
    "REDUCE_MIN": "use REDUCE_MAX, or MEAN over height and width",
    "SUM": "use MEAN over height and width (GlobalAveragePooling2D)",
    "ELU": "use LeakyReLU, ReLU or hard_swish",
    "PRELU": "use LeakyReLU (one slope for every channel)",
    "GELU": "use ReLU or hard_swish",
    "EXP": "exponentials outside SOFTMAX are not compiled; use Softmax or LOGISTIC",
    "DIV": "divide by a constant by multiplying with its inverse (MUL)",
    "UNIDIRECTIONAL_SEQUENCE_LSTM": "recurrent layers are not compiled; use Conv1D or "
                                    "DepthwiseConv2D over time",
    "DEPTH_TO_SPACE": "depth-to-space is not compiled; up-sample with Dense and Reshape",
    "SPACE_TO_DEPTH": "space-to-depth is not compiled; use a strided Conv2D",
    "GATHER": "table lookups (Embedding) are not compiled; do the lookup in pre-processing",
}
_GENERIC_FIX = "tinygen does not compile it; replace the layer with supported operators"


def float_islands(m: ir.Model) -> list[ir.Operator]:
    """Operators that run in float between a DEQUANTIZE of an int8 activation
    and the QUANTIZE back (a layer the converter left in float)."""
    float_tensors: set[int] = set()
    island = []
    for op in m.operators:
        ins = [m.tensors[i] for i in op.inputs if i >= 0]
        if (op.kind == "DEQUANTIZE" and ins and not ins[0].is_const
                and ins[0].dtype in ("int8", "int16") and op.outputs[0] not in m.outputs):
            float_tensors.add(op.outputs[0])
            island.append(op)
        elif any(i in float_tensors for i in op.inputs):
            island.append(op)
            if op.kind != "QUANTIZE":
                float_tensors.update(op.outputs)
    return island


def operator_support(m: ir.Model) -> list[tuple[ir.Operator, str | None]]:
    """Each operator with None when tinygen compiles it, else what to change (one line)."""
    island = [op.index for op in float_islands(m)]
    out = []
    for op in m.operators:
        if op.index in island[1:]:
            out.append((op, f"runs in float (the float island of operator {island[0]})"))
        elif op.index in island:
            out.append((op, f"runs in float between int8 operators (a float island, e.g. a "
                            f"batch normalization left in float); {ISLAND_FIX}"))
        elif op.kind not in SUPPORTED:
            out.append((op, UNSUPPORTED_FIX.get(op.kind, _GENERIC_FIX)))
        else:
            try:
                _check_operator(m, op, _Refuse(m, op))
                out.append((op, None))
            except Exception as e:   # noqa: BLE001 - a model validate refuses elsewhere
                out.append((op, str(e) or type(e).__name__))
    return out


def validate(m: ir.Model) -> None:
    island = float_islands(m)
    if island:
        raise TinygenError(
            f"model {m.name}: operators {', '.join(str(op.index) for op in island)} "
            f"({', '.join(sorted({op.kind for op in island}))}) run in float between int8 "
            f"operators (a float island, e.g. a batch normalization left in float); {ISLAND_FIX}")
    bad = sorted({op.kind for op in m.operators if op.kind not in SUPPORTED})
    if bad:
        raise TinygenError(
            f"model {m.name} uses unsupported operator(s) {', '.join(bad)}; "
            f"tinygen supports {', '.join(SUPPORTED)}")
    if not m.operators:
        raise TinygenError(f"model {m.name} has no operators to compile")
    if len(m.inputs) != 1 or len(m.outputs) != 1:
        raise TinygenError(
            f"model {m.name} has {len(m.inputs)} inputs and {len(m.outputs)} outputs: "
            "tinygen compiles single-input single-output models")
    check_graph(m)
    for what, t in (("input", m.input_tensors[0]), ("output", m.output_tensors[0])):
        if t.dtype == "int16":
            from tinygen.ir.validate_s16 import IO_HINT
            raise TinygenError(f"model {m.name}: graph {what} '{t.name}' is int16; tinygen "
                               f"compiles int8 or float32 graph {what}s; {IO_HINT}")
        if t.dtype not in ("int8", "float32"):
            raise TinygenError(f"model {m.name}: graph {what} '{t.name}' is {t.dtype}; "
                               f"tinygen compiles int8 (or float32) graph {what}s; {_FLOAT_HINT}")
        if not t.shape or any(d < 1 for d in t.shape) or (
                _elements(t.shape) * _ITEMSIZE[t.dtype] > MAX_TENSOR_BYTES):
            raise TinygenError(f"model {m.name}: graph {what} '{t.name}' has shape {t.shape}; "
                               f"{_CORRUPT}")
    for op in m.operators:
        _check_operator(m, op, _Refuse(m, op))


def _check_operator(m: ir.Model, op: ir.Operator, refuse: _Refuse) -> None:
    ins = [m.tensors[i] if i >= 0 else None for i in op.inputs]
    y = m.tensors[op.outputs[0]]
    if (op.kind not in ("ADD", "MUL", "SUB", "TRANSPOSE_CONV") and ins[0] is not None
            and ins[0].is_const):
        # The kernels read their activation from the arena, where nothing
        # puts a constant's data.
        raise refuse("reads a constant as its input activation", ins[0])
    want = _OPTIONS.get(op.kind)
    if want is not None and not isinstance(op.options, want):
        raise refuse(f"has no {want.__name__} (options missing or of another kind)")
    if any(t is not None and t.dtype == "int16" for t in [ins[0], y]):
        # int16x8 operators (16-bit activations): tinygen/ir/validate_s16.py.
        from tinygen.ir.validate_s16 import check_operator_s16
        check_operator_s16(m, op, refuse, ins, y)
        return
    if op.kind in ("QUANTIZE", "DEQUANTIZE"):
        # Only at the graph's edges: float32 input -> int8, int8 -> float32 output.
        src = ins[0]
        quantize = op.kind == "QUANTIZE"
        want = ("float32", "int8") if quantize else ("int8", "float32")
        at_edge = src.index in m.inputs if quantize else y.index in m.outputs
        if (src.dtype, y.dtype) != want or not at_edge:
            edge = "quantizes a float32 graph input" if quantize else \
                "dequantizes an int8 graph output"
            raise TinygenError(f"{op.kind} {src.dtype}->{y.dtype} inside model {m.name}: "
                               f"tinygen only {edge}; {_FLOAT_HINT}")
        int8_side, float_side = (y, src) if quantize else (src, y)
        _check_activation(refuse, int8_side)
        _check_shape(refuse, float_side)
        if src.shape != y.shape:
            raise refuse(f"maps shape {src.shape} to {y.shape}", y)
        return
    for t in [t for t in ins if t is not None] + [y]:
        if t.dtype == "int16":
            raise TinygenError(
                f"model {m.name} is int16-quantized ({op.kind} tensor '{t.name}'): tinygen "
                f"compiles int8 models; {_FLOAT_HINT} and int8 activations")
        if t.dtype in ("float32", "float16"):
            raise TinygenError(
                f"model {m.name} is a float model ({op.kind} tensor '{t.name}' is {t.dtype}): "
                f"{_FLOAT_HINT}")
        if t.dtype == "int8" and t.quant is None:
            raise TinygenError(
                f"int8 tensor '{t.name}' of {op.kind} has no quantization parameters: "
                f"{_FLOAT_HINT}")
    _CHECKS[op.kind](m, op, refuse, ins, y)


# ---- tensors -------------------------------------------------------------

def _check_shape(refuse: _Refuse, t: ir.Tensor, rank: int | tuple[int, int] | None = None
                 ) -> None:
    lo, hi = (rank, rank) if isinstance(rank, int) else (rank or (0, 8))
    if not lo <= len(t.shape) <= hi:
        expected = f"{lo}" if lo == hi else f"{lo} to {hi}"
        raise refuse(f"has rank {len(t.shape)} (shape {t.shape}), expected {expected}", t)
    if any(d < 1 for d in t.shape):
        raise refuse(f"has an empty dimension in shape {t.shape}", t)
    if _elements(t.shape) * _ITEMSIZE.get(t.dtype, 8) > MAX_TENSOR_BYTES:
        raise refuse(f"shape {t.shape} needs more than {MAX_TENSOR_BYTES >> 20} MiB", t,
                     "no microcontroller holds it; use a smaller model")


def _check_scales(refuse: _Refuse, t: ir.Tensor, channels: int | None = None,
                  axis: int | None = None) -> None:
    q = t.quant
    scales = np.asarray(q.scales, dtype=np.float64)
    if len(q.zero_points) != len(scales):
        raise refuse(f"has {len(scales)} scales and {len(q.zero_points)} zero points", t)
    if channels is None and len(scales) != 1:
        raise refuse(f"has {len(scales)} scales; activations are quantized per tensor", t)
    if channels is not None and len(scales) not in (1, channels):
        raise refuse(f"has {len(scales)} scales for {channels} channels", t)
    if len(scales) > 1 and axis is not None and q.axis != axis:
        raise refuse(f"is quantized per channel along dimension {q.axis}, expected {axis}", t)
    if not np.all(np.isfinite(scales)) or not np.all(scales > 0):
        raise refuse(f"has a scale that is zero, negative or not finite "
                     f"({_first_bad(scales, lambda s: not (math.isfinite(s) and s > 0))})", t)
    if not np.all((scales >= SCALE_MIN) & (scales <= SCALE_MAX)):
        raise refuse(f"has a scale outside [{SCALE_MIN:g}, {SCALE_MAX:g}] "
                     f"({_first_bad(scales, lambda s: not SCALE_MIN <= s <= SCALE_MAX)})", t)


def _first_bad(values: np.ndarray, bad) -> str:
    return next((f"{float(v):g}" for v in values if bad(float(v))), "?")


def _check_activation(refuse: _Refuse, t: ir.Tensor, rank=None) -> None:
    """An int8 activation (or a constant used as one): per-tensor quantization."""
    if t.dtype != "int8":
        raise refuse(f"is {t.dtype}, expected int8", t, _FLOAT_HINT)
    _check_shape(refuse, t, rank)
    _check_scales(refuse, t)
    zp = int(t.quant.zero_points[0])
    if not -128 <= zp <= 127:
        raise refuse(f"has zero point {zp} outside the int8 range -128..127", t)


def _check_weights(refuse: _Refuse, w: ir.Tensor, rank: int, channels: int, axis: int) -> None:
    if w.dtype != "int8":
        raise refuse(f"weights are {w.dtype}, expected int8", w, _FLOAT_HINT)
    if not w.is_const:
        raise refuse("has non-constant weights", w, "tinygen needs weights known at build time")
    if w.quant is None:
        raise refuse("weights have no quantization parameters", w, _FLOAT_HINT)
    _check_scales(refuse, w, channels, axis)
    if np.any(np.asarray(w.quant.zero_points) != 0):
        raise refuse("weights have a non-zero zero point (int8 weights are symmetric)", w)


def _check_bias(refuse: _Refuse, m: ir.Model, op: ir.Operator, channels: int) -> None:
    if len(op.inputs) < 3 or op.inputs[2] < 0:
        return
    b = m.tensors[op.inputs[2]]
    if b.dtype != "int32" or not b.is_const:
        raise TinygenError(f"{op.kind} bias '{b.name}' must be a constant int32 "
                           f"tensor; {_FLOAT_HINT}")
    if _elements(b.shape) != channels:
        raise refuse(f"bias has {_elements(b.shape)} values for {channels} output channels", b)


def _check_multipliers(refuse: _Refuse, reals, t: ir.Tensor, what: str,
                       lowest: float = MIN_MULTIPLIER, highest: float = MAX_MULTIPLIER) -> None:
    for r in reals:
        if not lowest <= r < highest:
            raise refuse(f"gives the {what} requantization multiplier {r:.3g}, outside "
                         f"[{lowest:.3g}, {highest:g})", t,
                         "the quantization scales are corrupt or not from the TFLite "
                         "converter; re-export the model")


def _check_accumulators(refuse: _Refuse, m: ir.Model, op: ir.Operator, x: ir.Tensor,
                        w: ir.Tensor, y: ir.Tensor, reduce_axes: tuple[int, ...],
                        channels: int, bias: int) -> None:
    """The kernels' int32 accumulator, the folded bias (bias - zp * sum w)
    plus sum(x * w), bounded by |bias| + 256 * sum|w|, cannot overflow, nor
    can its requantization: a multiplier of 1 or more shifts the accumulator
    left before the fixed-point multiply."""
    scales = w.quant.scales if len(w.quant.scales) > 1 else [w.quant.scales[0]] * channels
    reals = [float(x.quant.scale) * float(s) / float(y.quant.scale) for s in scales]
    _check_multipliers(refuse, reals, w, "per-channel", highest=MAX_MULTIPLIER)
    bound = 256 * np.abs(w.data.astype(np.int64)).sum(axis=reduce_axes)
    if bias >= 0:
        bound = bound + np.abs(m.tensors[bias].data.astype(np.int64).reshape(-1))
    for c, (b, r) in enumerate(zip(bound.tolist(), reals)):
        if b >= 1 << 31 or (r >= 1.0 and b * r >= 1 << 30):
            raise refuse(f"channel {c} can reach the accumulator bound {b} (times multiplier "
                         f"{r:.3g}), beyond int32", w,
                         "the weights, bias or scales are corrupt; re-export the model")


def _activation_ok(refuse: _Refuse, act: str, y: ir.Tensor) -> None:
    if act not in (ir.ACT_NONE, ir.ACT_RELU, ir.ACT_RELU6, ir.ACT_RELU_N1_TO_1):
        raise refuse(f"has fused activation {act}", None, "use RELU, RELU6 or none")
    # TFLM quantizes the activation's bounds (0, 6, -1, 1) in int32 and
    # refuses the model when one overflows (kernel_util.cc).
    bounds = {ir.ACT_RELU: (0.0,), ir.ACT_RELU6: (0.0, 6.0),
              ir.ACT_RELU_N1_TO_1: (-1.0, 1.0)}.get(act, ())
    scale = float(np.float32(y.quant.scale))
    if any(abs(y.quant.zero_point + round(f / scale)) >= 1 << 31 for f in bounds):
        raise refuse(f"quantizes its {act} bounds beyond int32 (output scale {scale:g})", y)


def _window_dim(padding: str, size: int, k: int, stride: int, dilation: int) -> tuple[int, int]:
    """(output size, leading padding) as TFLM computes them."""
    eff = (k - 1) * dilation + 1
    out = (size + stride - 1) // stride if padding == ir.PAD_SAME else (size + stride - eff) // stride
    return out, max(((out - 1) * stride + eff - size) // 2, 0)


def _check_window(refuse: _Refuse, padding: str, sizes, kernel, strides, dilations
                  ) -> tuple[int, int]:
    if padding not in (ir.PAD_SAME, ir.PAD_VALID):
        raise refuse(f"has padding {padding!r}")
    for name, values in (("stride", strides), ("dilation", dilations), ("window size", kernel)):
        for v in values:
            if not 1 <= v <= MAX_WINDOW:
                raise refuse(f"has {name} {v}, expected 1 to {MAX_WINDOW}")
    dims = [_window_dim(padding, s, k, st, d)
            for s, k, st, d in zip(sizes, kernel, strides, dilations)]
    for out, pad in dims:
        if out < 1:
            raise refuse("has a window larger than its (unpadded) input")
        if pad > MAX_PAD:
            raise refuse(f"needs padding {pad}, more than {MAX_PAD}")
    return dims[0][0], dims[1][0]


# ---- checks shared with the int16x8 operators (validate_s16.py) ---------
# `activation` checks one activation tensor: _check_activation (int8) or
# validate_s16.activation_s16.

def _weighted_operands(refuse: _Refuse, ins, y, rank, w_rank: int, activation):
    """CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED: the input and weights,
    the weights present and of rank w_rank, input and output activations."""
    x, w = ins[0], ins[1]
    if w is None:
        raise refuse("has no weights (input 1 omitted)")
    activation(refuse, x, rank)
    activation(refuse, y, rank)
    _check_shape(refuse, w, w_rank)
    return x, w


def _check_conv_output(refuse: _Refuse, o, x: ir.Tensor, y: ir.Tensor, kernel, oc: int) -> None:
    """A convolution's fused activation and output shape (options o)."""
    _activation_ok(refuse, o.activation, y)
    n, h, wd, _ = x.shape
    oh, ow = _check_window(refuse, o.padding, (h, wd), kernel, (o.stride_h, o.stride_w),
                           (o.dilation_h, o.dilation_w))
    if (n, oh, ow, oc) != tuple(y.shape):
        raise refuse(f"output shape {y.shape} differs from the computed {(n, oh, ow, oc)}", y)


def _check_rows(refuse: _Refuse, x: ir.Tensor, y: ir.Tensor, in_d: int, out_d: int) -> None:
    """FULLY_CONNECTED: the input splits into rows of in_d, the output is as
    many rows of out_d."""
    if x.elements % in_d:
        raise refuse(f"input of {x.elements} values does not split into rows of {in_d}", x)
    batches = x.elements // in_d
    if y.elements != batches * out_d or y.shape[-1] != out_d:
        raise refuse(f"output shape {y.shape} differs from the computed {batches} rows of "
                     f"{out_d}", y)


def _pool_input(op: ir.Operator, refuse: _Refuse, ins, y, activation) -> ir.Tensor:
    """AVERAGE_POOL_2D, MAX_POOL_2D: activations, fused activation, the
    window and the output shape; returns the input."""
    x = ins[0]
    o = op.options
    activation(refuse, x, 4)
    activation(refuse, y, 4)
    _activation_ok(refuse, o.activation, y)
    n, h, w, c = x.shape
    oh, ow = _check_window(refuse, o.padding, (h, w), (o.filter_h, o.filter_w),
                           (o.stride_h, o.stride_w), (1, 1))
    if (n, oh, ow, c) != tuple(y.shape):
        raise refuse(f"output shape {y.shape} differs from the computed {(n, oh, ow, c)}", y)
    return x


def _check_broadcast(refuse: _Refuse, a: ir.Tensor, b: ir.Tensor, y: ir.Tensor) -> None:
    """Two operands, not both constant, broadcasting (up to 4 dimensions)
    to the output's shape."""
    if a.is_const and b.is_const:
        raise refuse("has two constant operands", None,
                     "the converter folds those; re-export the model")
    out = (1,) * (4 - len(y.shape)) + tuple(y.shape)
    for t in (a, b):
        s4 = (1,) * (4 - len(t.shape)) + tuple(t.shape)
        if any(d not in (1, o) for d, o in zip(s4, out)):
            raise refuse(f"operand shape {t.shape} does not broadcast to the output shape "
                         f"{y.shape}", t)
    a4 = (1,) * (4 - len(a.shape)) + tuple(a.shape)
    b4 = (1,) * (4 - len(b.shape)) + tuple(b.shape)
    if tuple(max(p, q) for p, q in zip(a4, b4)) != out:
        raise refuse(f"output shape {y.shape} differs from the broadcast of {a.shape} and "
                     f"{b.shape}", y)


def _same_shape_input(refuse: _Refuse, ins, y, activation, rank=None) -> ir.Tensor:
    """An operator mapping one activation to one of the same shape; returns the input."""
    x = ins[0]
    activation(refuse, x, rank)
    activation(refuse, y, rank)
    if x.shape != y.shape:
        raise refuse(f"maps shape {x.shape} to {y.shape}", y)
    return x


def _check_reshape(refuse: _Refuse, ins, y, activation) -> None:
    x = ins[0]
    activation(refuse, x)
    activation(refuse, y)
    if x.elements != y.elements:
        raise refuse(f"changes the element count from {x.shape} to {y.shape}", y)


# ---- operators -----------------------------------------------------------

def _conv(m, op, refuse, ins, y) -> None:
    o = op.options
    depthwise = op.kind == "DEPTHWISE_CONV_2D"
    x, w = _weighted_operands(refuse, ins, y, 4, 4, _check_activation)
    c = x.shape[3]
    if depthwise:
        one, kh, kw, oc = w.shape
        if one != 1 or oc % c:
            raise refuse(f"filter shape {w.shape} does not fit input depth {c} "
                         "(expected [1, h, w, a multiple of the input depth])", w)
        if o.depth_multiplier != oc // c:
            raise refuse(f"has depth multiplier {o.depth_multiplier}, but its filter gives "
                         f"{oc // c} outputs per input channel")
        axis = 3
    else:
        oc, kh, kw, ic = w.shape
        if ic != c:
            _check_groups(refuse, c, w)
        axis = 0
    _check_weights(refuse, w, 4, oc, axis)
    _check_bias(refuse, m, op, oc)
    _check_conv_output(refuse, o, x, y, (kh, kw), oc)
    _check_accumulators(refuse, m, op, x, w, y, (0, 1, 2) if depthwise else (1, 2, 3), oc,
                        op.inputs[2] if len(op.inputs) > 2 else -1)


def _fully_connected(m, op, refuse, ins, y) -> None:
    x, w = _weighted_operands(refuse, ins, y, (1, 4), 2, _check_activation)
    out_d, in_d = w.shape
    _check_weights(refuse, w, 2, out_d, 0)
    _check_bias(refuse, m, op, out_d)
    _activation_ok(refuse, op.options.activation, y)
    _check_rows(refuse, x, y, in_d, out_d)
    _check_accumulators(refuse, m, op, x, w, y, (1,), out_d,
                        op.inputs[2] if len(op.inputs) > 2 else -1)


def _pool(m, op, refuse, ins, y) -> None:
    x = _pool_input(op, refuse, ins, y, _check_activation)
    if op.kind == "MAX_POOL_2D" and not _same_quant(x, y):
        raise refuse("has different input and output quantization", y,
                     "TFLM requires them equal; re-export the model")


def _binary(m, op, refuse, ins, y) -> None:
    a, b = ins
    if a is None or b is None:
        raise refuse("has an omitted operand")
    _check_activation(refuse, y, (0, 4))
    for t in (a, b):
        _check_activation(refuse, t, (0, 4))
    _check_broadcast(refuse, a, b, y)
    _activation_ok(refuse, getattr(op.options, "activation", ir.ACT_NONE), y)
    sa, sb, so = float(a.quant.scale), float(b.quant.scale), float(y.quant.scale)
    if op.kind in ("ADD", "SUB"):
        # TFLM's ADD and SUB Prepare abort on an output multiplier of 1 or
        # more (fuzz mutant 241632 of seed 25: an ADD at 3.3 crashed TFLM).
        twice_max = 2.0 * max(sa, sb)
        _check_multipliers(refuse, [twice_max / ((1 << 20) * so)], y, "output",
                           highest=1.0)
    else:
        # |(a - zp) * (b - zp)| <= 2^16.
        _check_multipliers(refuse, [sa * sb / so], y, "output", highest=2.0 ** 12)


def _relu(m, op, refuse, ins, y) -> None:
    x = _same_shape_input(refuse, ins, y, _check_activation)
    if op.kind == "RELU":
        _check_multipliers(refuse, [float(x.quant.scale) / float(y.quant.scale)], y, "output",
                           highest=2.0 ** 16)


# Output quantization TFLM's int8 kernels assume (and the converter gives).
_FIXED_OUTPUT = {"LOGISTIC": (1.0 / 256, -128), "TANH": (1.0 / 128, 0)}


def _elementwise(m, op, refuse, ins, y) -> None:
    """LOGISTIC, TANH, HARD_SWISH, LEAKY_RELU: one int8 tensor mapped element by element."""
    x = _same_shape_input(refuse, ins, y, _check_activation)
    if op.kind in _FIXED_OUTPUT:
        scale, zp = _FIXED_OUTPUT[op.kind]
        if y.quant.zero_point != zp or abs(float(y.quant.scale) - scale) > 1e-3 * scale:
            raise refuse(f"output has scale {float(y.quant.scale):g} and zero point "
                         f"{y.quant.zero_point}, TFLM's int8 {op.kind} needs {scale:g} and {zp}",
                         y, "let the TFLite converter choose the output quantization")
        real = float(np.float32(x.quant.scale)) * (1 << 27)
        # TFLM rounds the mantissa to 31 bits without carrying into the
        # exponent: one that rounds up to 2^31 overflows its int32.
        rounds_over = math.floor(math.frexp(real)[0] * (1 << 31) + 0.5) >= 1 << 31
        if not 1.0 <= real < 2.0 ** 30 or rounds_over:
            raise refuse(f"input scale {float(x.quant.scale):g} is outside what TFLM's int8 "
                         f"{op.kind} rescales (2^-27 to 2^3)", x)
    elif op.kind == "HARD_SWISH":
        # TFLM's Prepare needs (input scale / 128) / output scale below 1.
        ratio = float(x.quant.scale) / 128.0 / float(y.quant.scale)
        _check_multipliers(refuse, [ratio], y, "output", highest=1.0)
        _check_multipliers(refuse, [float(x.quant.scale) / 128.0 / (3.0 / 32768.0)], x,
                           "reluish", highest=2.0 ** 15)
    else:
        alpha = float(op.options.alpha)
        if not math.isfinite(alpha) or abs(alpha) > 2.0 ** 8:
            raise refuse(f"has alpha {alpha:g}", None, "use a slope between -256 and 256")
        ratio = float(x.quant.scale) / float(y.quant.scale)
        _check_multipliers(refuse, [ratio], y, "output", highest=2.0 ** 16)
        if alpha:
            _check_multipliers(refuse, [abs(alpha) * ratio], y, "alpha", highest=2.0 ** 16)


def _reduce_max(m, op, refuse, ins, y) -> None:
    x, axes = ins
    if axes is None or not axes.is_const or axes.dtype not in ("int32", "int64"):
        raise refuse("needs constant int32 axes", axes,
                     "tinygen needs the reduced axes known at build time")
    _check_activation(refuse, x, (1, 4))
    _check_activation(refuse, y, (0, 4))
    rank = len(x.shape)
    values = [int(a) for a in np.asarray(axes.data).reshape(-1)]
    if any(not -rank <= a < rank for a in values):
        raise refuse(f"reduces axes {values[:8]} of a rank-{rank} tensor", axes)
    kept = [d for i, d in enumerate(x.shape) if i not in {a % rank for a in values}]
    if y.elements != _elements(tuple(kept)):
        raise refuse(f"output shape {y.shape} differs from the reduced shape {tuple(kept)}", y)
    if not _same_quant(x, y):
        raise refuse("has different input and output quantization", y,
                     "TFLM requires them equal; re-export the model")


def _softmax(m, op, refuse, ins, y) -> None:
    x = _same_shape_input(refuse, ins, y, _check_activation, (1, 4))
    beta = float(op.options.beta)
    # TFLM scales the input differences by beta * scale * 2^26 and needs a
    # non-negative left shift for it (a smaller product aborts its Prepare).
    real = beta * float(x.quant.scale) * (1 << 26) if math.isfinite(beta) else math.nan
    if not (math.isfinite(beta) and beta > 0 and real >= 0.5):
        raise refuse(f"has beta {beta:g}; beta x input scale must be at least 2^-27", x)


def _mean(m, op, refuse, ins, y) -> None:
    x, axes = ins
    if axes is None or not axes.is_const or axes.dtype not in ("int32", "int64"):
        raise refuse("needs constant int32 axes", axes)
    _check_activation(refuse, x, 4)
    _check_activation(refuse, y, (1, 4))
    got = sorted({int(a) % 4 for a in np.asarray(axes.data).reshape(-1)
                  if -4 <= int(a) < 4})
    if got != [1, 2] or axes.elements != 2:
        raise refuse(f"averages over axes {np.asarray(axes.data).reshape(-1).tolist()[:8]} "
                     "of a 4-D tensor", axes,
                     "tinygen averages over height and width of NHWC tensors "
                     "(GlobalAveragePooling2D)")
    n, h, w, c = x.shape
    if y.elements != n * c or y.shape[-1] != c:
        raise refuse(f"output shape {y.shape} differs from the computed {n} x {c}", y)
    _check_multipliers(refuse, [float(x.quant.scale) / float(y.quant.scale)], y, "output",
                       highest=2.0 ** 16)


def _concatenation(m, op, refuse, ins, y) -> None:
    if any(t is None for t in ins):
        raise refuse("has an omitted input")
    _check_activation(refuse, y, (1, 4))
    rank = len(y.shape)
    axis = op.options.axis
    if not -rank <= axis < rank:
        raise refuse(f"has axis {axis} for rank {rank}")
    axis %= rank
    total = 0
    for t in ins:
        _check_activation(refuse, t, rank)
        if any(d != e for i, (d, e) in enumerate(zip(t.shape, y.shape)) if i != axis):
            raise refuse(f"input shape {t.shape} does not fit output shape {y.shape} along "
                         f"axis {axis}", t)
        total += t.shape[axis]
    if total != y.shape[axis]:
        raise refuse(f"output shape {y.shape} differs from the concatenation's "
                     f"{total} along axis {axis}", y)


def _pad(m, op, refuse, ins, y) -> None:
    x, pads = ins[0], ins[1]
    _check_activation(refuse, x, (1, 4))
    _check_activation(refuse, y, (1, 4))
    rank = len(x.shape)
    if pads is None or not pads.is_const or pads.dtype not in ("int32", "int64"):
        raise refuse("needs constant int32 paddings", pads,
                     "tinygen needs paddings known at build time")
    values = np.asarray(pads.data).reshape(-1)
    if values.size != 2 * rank:
        raise refuse(f"has {values.size} padding values for rank {rank}", pads)
    if np.any(values < 0) or np.any(values > MAX_PAD):
        raise refuse(f"has paddings outside 0..{MAX_PAD}", pads)
    want = tuple(int(d + p[0] + p[1]) for d, p in zip(x.shape, values.reshape(rank, 2)))
    if tuple(y.shape) != want:
        raise refuse(f"output shape {y.shape} differs from the computed {want}", y)
    if len(ins) > 2 and ins[2] is not None:
        v = ins[2]
        if not v.is_const or v.dtype != "int8" or v.elements < 1:
            raise refuse("needs a constant int8 padding value", v)


def _reshape(m, op, refuse, ins, y) -> None:
    _check_reshape(refuse, ins, y, _check_activation)


_CHECKS = {
    "CONV_2D": _conv, "DEPTHWISE_CONV_2D": _conv, "FULLY_CONNECTED": _fully_connected,
    "AVERAGE_POOL_2D": _pool, "MAX_POOL_2D": _pool, "ADD": _binary, "MUL": _binary,
    "RELU": _relu, "RELU6": _relu, "SOFTMAX": _softmax, "MEAN": _mean,
    "CONCATENATION": _concatenation, "PAD": _pad, "PADV2": _pad, "RESHAPE": _reshape,
    "SUB": _binary, "LOGISTIC": _elementwise, "TANH": _elementwise, "HARD_SWISH": _elementwise,
    "LEAKY_RELU": _elementwise, "REDUCE_MAX": _reduce_max,
}


def _same_quant(a: ir.Tensor, b: ir.Tensor) -> bool:
    return (a.quant is not None and b.quant is not None and a.quant.scale == b.quant.scale
            and a.quant.zero_point == b.quant.zero_point)


# ---- spatial operators (issue 26: users' own models) ----------------------
# Kernels in firmware/kernels/tg_spatial.h, prepared by tinygen/plan/spatial.py.

def _check_groups(refuse: _Refuse, depth: int, w: ir.Tensor) -> None:
    """A grouped CONV_2D: the input depth is k times the filter depth and the
    filters split into k equal groups (TFLM's reference convolution)."""
    oc, ic = w.shape[0], w.shape[3]
    if depth % ic or oc % (depth // ic):
        raise refuse(f"filter depth {ic} does not split input depth {depth} and {oc} filters "
                     "into equal groups", w, "give Conv2D groups that divide both the input "
                     "and output channels")


def _transpose_conv(m, op, refuse, ins, y) -> None:
    shape, w, x = ins[0], ins[1], ins[2]
    o = op.options
    if w is None or x is None or shape is None:
        raise refuse("has an omitted output shape, filter or input")
    if not shape.is_const or shape.dtype not in ("int32", "int64") or shape.elements != 4:
        raise refuse("needs a constant 4-value output shape", shape,
                     "tinygen needs the output shape known at build time")
    _check_activation(refuse, x, 4)
    _check_activation(refuse, y, 4)
    _check_shape(refuse, w, 4)
    if tuple(int(v) for v in np.asarray(shape.data).reshape(-1)) != tuple(y.shape):
        raise refuse(f"output shape {y.shape} differs from its output-shape operand "
                     f"{np.asarray(shape.data).reshape(-1).tolist()}", y)
    oc, kh, kw, ic = w.shape
    n, c = x.shape[0], x.shape[3]
    if ic != c or y.shape[0] != n or y.shape[3] != oc:
        raise refuse(f"filter shape {w.shape} does not map input {x.shape} to output {y.shape}",
                     w)
    _check_weights(refuse, w, 4, oc, 0)
    if len(op.inputs) > 3 and op.inputs[3] >= 0:
        b = m.tensors[op.inputs[3]]
        if b.dtype != "int32" or not b.is_const or b.elements != oc:
            raise refuse(f"bias must be a constant int32 tensor of {oc} values", b, _FLOAT_HINT)
    _activation_ok(refuse, o.activation, y)
    for name, v in (("stride", o.stride_h), ("stride", o.stride_w)):
        if not 1 <= v <= MAX_WINDOW:
            raise refuse(f"has {name} {v}, expected 1 to {MAX_WINDOW}")
    if o.padding not in (ir.PAD_SAME, ir.PAD_VALID):
        raise refuse(f"has padding {o.padding!r}")
    _check_accumulators(refuse, m, op, x, w, y, (1, 2, 3), oc,
                        op.inputs[3] if len(op.inputs) > 3 else -1)


def _resize(m, op, refuse, ins, y) -> None:
    x, size = ins
    o = op.options
    _check_activation(refuse, x, 4)
    _check_activation(refuse, y, 4)
    if size is None or not size.is_const or size.dtype != "int32" or size.shape != (2,):
        raise refuse("needs a constant int32 size of 2 values", size,
                     "tinygen needs the output size known at build time")
    if o.align_corners and o.half_pixel_centers:
        raise refuse("has both align_corners and half_pixel_centers", None,
                     "TFLM refuses the pair; set one of them")
    oh, ow = (int(v) for v in size.data)
    if (x.shape[0], oh, ow, x.shape[3]) != tuple(y.shape):
        raise refuse(f"output shape {y.shape} differs from the resize of {x.shape} to "
                     f"{oh}x{ow}", y)
    if not _same_quant(x, y):
        raise refuse("has different input and output quantization", y,
                     "TFLM copies the values unscaled; re-export the model")


def _tile(m, op, refuse, ins, y) -> None:
    x, multiples = ins
    _check_activation(refuse, x, (1, 6))
    _check_activation(refuse, y, (1, 6))
    if (multiples is None or not multiples.is_const or multiples.dtype not in ("int32", "int64")
            or multiples.elements != len(x.shape)):
        raise refuse(f"needs {len(x.shape)} constant int32 multiples", multiples,
                     "tinygen needs the multiples known at build time")
    values = [int(v) for v in np.asarray(multiples.data).reshape(-1)]
    if any(v < 1 for v in values):
        raise refuse(f"has multiples {values}, expected 1 or more", multiples)
    want = tuple(d * k for d, k in zip(x.shape, values))
    if want != tuple(y.shape):
        raise refuse(f"output shape {y.shape} differs from the computed {want}", y)
    if not _same_quant(x, y):
        raise refuse("has different input and output quantization", y,
                     "TILE copies the values unscaled; re-export the model")


def _strided_slice(m, op, refuse, ins, y) -> None:
    x = ins[0]
    o = op.options
    _check_activation(refuse, x, (1, 5))
    _check_activation(refuse, y, (0, 5))
    rank = len(x.shape)
    for t in ins[1:]:
        if t is None or not t.is_const or t.dtype not in ("int32", "int64") or (
                t.elements != rank):
            raise refuse(f"needs constant int32 begin, end and strides of {rank} values", t,
                         "tinygen needs the slice bounds known at build time")
    if o.ellipsis_mask or o.new_axis_mask:
        raise refuse("has an ellipsis or new-axis mask", None,
                     "slice every dimension explicitly (x[:, a:b, :, :])")
    begin, end, strides = (np.asarray(t.data).reshape(-1) for t in ins[1:])
    if np.any(strides == 0):
        raise refuse("has a stride of 0", ins[3])
    index = np.zeros(x.shape, dtype=np.int8)
    picked = strided_slice(index, begin, end, strides, o)
    if picked.size == 0 or picked.size != y.elements or picked.ndim > 5:
        raise refuse(f"output shape {y.shape} differs from the computed {picked.shape}", y)
    if not _same_quant(x, y):
        raise refuse("has different input and output quantization", y,
                     "a slice copies the values unscaled; re-export the model")


_CHECKS.update({
    "TRANSPOSE_CONV": _transpose_conv, "RESIZE_BILINEAR": _resize,
    "RESIZE_NEAREST_NEIGHBOR": _resize, "TILE": _tile, "STRIDED_SLICE": _strided_slice,
})
