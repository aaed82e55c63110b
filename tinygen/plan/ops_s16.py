"""The "prepare" half of the int16x8 operators (16-bit activations with zero
point 0, 8-bit weights, 64-bit or 32-bit biases), mirroring TFLM's Prepare
functions for those types; the eval halves are firmware/kernels/*_s16.c
(declared in tg_kernels_s16.h).

``prepare`` plans a whole model: operators on int16 tensors come from here,
the others from tinygen/plan/ops.py. Each int16 call names its C arguments
in ``c_args`` (arena tensors with their C type, or constant arrays), so
model.c calls every int16 kernel the same way.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import math
from dataclasses import dataclass, field

import numpy as np

from tinygen.errors import TinygenError
from tinygen.ir import model as ir
from tinygen.plan import ops
from tinygen.plan.fixedpoint import quantize_multiplier
from tinygen.plan.ops import KernelCall

KERNEL_SOURCES_S16 = {
    "tg_conv2d_s16": "conv2d_s16.c",
    "tg_depthwise_conv2d_s16": "depthwise_conv2d_s16.c",
    "tg_fully_connected_s16": "fully_connected_s16.c",
    "tg_avg_pool2d_s16": "pool2d_s16.c",
    "tg_max_pool2d_s16": "pool2d_s16.c",
    "tg_add_s16": "add_s16.c",
    "tg_mul_s16": "mul_s16.c",
    "tg_softmax_s16": "softmax_s16.c",
    "tg_logistic_s16": "sigmoid_s16.c",
    "tg_tanh_s16": "sigmoid_s16.c",
    "tg_quantize_f32_s16": "affine_quant_s16.c",
    "tg_dequantize_s16_f32": "affine_quant_s16.c",
}
# TFLM's int16 ADD keeps 15 bits of headroom (20 for int8).
ADD_LEFT_SHIFT_S16 = 15
S16_MIN, S16_MAX = -32768, 32767


@dataclass
class KernelCallS16(KernelCall):
    """An int16 kernel call: c_args lists the C arguments after the parameter
    record: ("in", tensor) and ("out", tensor) arena tensors of C type
    c_in / c_out, or ("const", array name)."""
    c_args: list[tuple] = field(default_factory=list)
    c_in: str = "int16_t"
    c_out: str = "int16_t"


def is_s16(m: ir.Model, op: ir.Operator) -> bool:
    """Whether an operator reads or writes an int16 activation."""
    return any(m.tensors[i].dtype == "int16" for i in [*op.inputs[:1], *op.outputs] if i >= 0)


def activation_range_s16(act: str, q: ir.Quantization) -> tuple[int, int]:
    """TFLM CalculateActivationRangeQuantized for int16."""
    scale, zp = np.float32(q.scale), q.zero_point

    def quantize(f: float) -> int:
        return zp + ops._round_away(float(np.float32(f) / scale))

    lo, hi = S16_MIN, S16_MAX
    if act == ir.ACT_RELU:
        lo = max(lo, quantize(0.0))
    elif act == ir.ACT_RELU6:
        lo, hi = max(lo, quantize(0.0)), min(hi, quantize(6.0))
    elif act == ir.ACT_RELU_N1_TO_1:
        lo, hi = max(lo, quantize(-1.0)), min(hi, quantize(1.0))
    return lo, hi


def _bias(m: ir.Model, op: ir.Operator, channels: int) -> tuple[np.ndarray, int]:
    """(bias as int64, acc32): TFLM accumulates in 32 bits for an int32 bias."""
    if len(op.inputs) > 2 and op.inputs[2] >= 0:
        b = m.tensors[op.inputs[2]]
        return b.data.astype(np.int64).reshape(-1), int(b.dtype == "int32")
    return np.zeros(channels, dtype=np.int64), 0


def reduced_multiplier(mult: int, shift: int) -> tuple[int, int]:
    """TFLM's 64-bit MultiplyByQuantizedMultiplier rounds the multiplier to
    16 bits and shifts right by 15 - shift: both done here, once."""
    reduced = (mult + (1 << 15)) >> 16 if mult < 0x7FFF0000 else 0x7FFF
    return reduced, 15 - shift


def _requant_arrays(reals: list[float], acc32: int) -> dict[str, np.ndarray]:
    """Per channel (mult, shift): TFLM's for a 32-bit accumulator, else the
    reduced form of tg_rescale64 (firmware/kernels/tg_kernels_s16.h)."""
    pairs = [quantize_multiplier(r) for r in reals]
    if not acc32:
        pairs = [reduced_multiplier(m, s) for m, s in pairs]
    return {"mult": np.array([p[0] for p in pairs], dtype=np.int32),
            "shift": np.array([p[1] for p in pairs], dtype=np.int32)}


def _arena(x: ir.Tensor, y: ir.Tensor) -> list[tuple]:
    return [("in", x.index), ("out", y.index)]


def _conv(m: ir.Model, op: ir.Operator) -> KernelCall:
    x, w, y = m.tensors[op.inputs[0]], m.tensors[op.inputs[1]], m.tensors[op.outputs[0]]
    o: ir.Conv2DOptions = op.options
    depthwise = op.kind == "DEPTHWISE_CONV_2D"
    n, h, wd, c = x.shape
    if depthwise:
        _, kh, kw, oc = w.shape
        dm = oc // c
    else:
        oc, kh, kw, _ = w.shape
        dm = 1
    oh, pad_h = ops._padding(o.padding, h, kh, o.stride_h, o.dilation_h)
    ow, pad_w = ops._padding(o.padding, wd, kw, o.stride_w, o.dilation_w)
    in_s, out_s = float(x.quant.scale), float(y.quant.scale)
    arrays = {"filter": w.data.astype(np.int8).reshape(-1)}
    bias, acc32 = _bias(m, op, oc)
    arrays["bias"] = bias
    arrays.update(_requant_arrays([in_s * fs / out_s for fs in ops._channel_scales(w, oc)],
                                  acc32))
    lo, hi = activation_range_s16(o.activation, y.quant)
    conv = dict(
        batches=n, in_h=h, in_w=wd, in_c=c, out_h=oh, out_w=ow, out_c=oc, k_h=kh, k_w=kw,
        stride_h=o.stride_h, stride_w=o.stride_w, dil_h=o.dilation_h, dil_w=o.dilation_w,
        pad_h=pad_h, pad_w=pad_w, depth_multiplier=dm, input_zero_point=0,
        output_zero_point=0, act_min=lo, act_max=hi, fast=0)
    macs = n * oh * ow * oc * kh * kw * (1 if depthwise else c)
    kernel = "tg_depthwise_conv2d_s16" if depthwise else "tg_conv2d_s16"
    # Depthwise: an int32 accumulator per output channel; convolution: the
    # gathered int16 input patch of one output pixel (none for pointwise).
    pointwise = kh == kw == 1 and pad_h == pad_w == 0
    scratch = 4 * oc if depthwise else (0 if pointwise else 2 * kh * kw * c)
    summary = (f"16x8 {kh}x{kw} s{o.stride_h}x{o.stride_w} d{o.dilation_h}x{o.dilation_w} "
               f"{o.padding} {o.activation}" + (f" dm{dm}" if depthwise else ""))
    return KernelCallS16(op.index, op.kind, kernel, "tg_conv_s16_params",
                         dict(conv=conv, acc32=acc32), [x.index], y.index, arrays, scratch, macs,
                         summary, c_args=[("in", x.index), ("const", "filter"), ("const", "bias"),
                                          ("const", "mult"), ("const", "shift"),
                                          ("out", y.index), ("scratch", None)])


def _fully_connected(m: ir.Model, op: ir.Operator) -> KernelCall:
    x, w, y = m.tensors[op.inputs[0]], m.tensors[op.inputs[1]], m.tensors[op.outputs[0]]
    out_d, in_d = w.shape
    batches = x.elements // in_d
    in_s, out_s = x.quant.scale, y.quant.scale
    if w.quant.per_channel:
        reals = [float(in_s) * fs / float(out_s) for fs in ops._channel_scales(w, out_d)]
    else:
        # TFLM multiplies the two float scales in float, then divides in double.
        reals = [float(np.float32(in_s) * np.float32(w.quant.scale)) / float(out_s)] * out_d
    bias, acc32 = _bias(m, op, out_d)
    arrays = {"filter": w.data.astype(np.int8).reshape(-1), "bias": bias,
              **_requant_arrays(reals, acc32)}
    lo, hi = activation_range_s16(op.options.activation, y.quant)
    params = dict(batches=batches, in_depth=in_d, out_depth=out_d, act_min=lo, act_max=hi,
                  acc32=acc32)
    return KernelCallS16(op.index, op.kind, "tg_fully_connected_s16", "tg_fc_s16_params",
                         params, [x.index], y.index, arrays, 0, batches * in_d * out_d,
                         f"16x8 {in_d}->{out_d} {op.options.activation}",
                         c_args=[("in", x.index), ("const", "filter"), ("const", "bias"),
                                 ("const", "mult"), ("const", "shift"), ("out", y.index)])


def _pool(m: ir.Model, op: ir.Operator) -> KernelCall:
    x, y = m.tensors[op.inputs[0]], m.tensors[op.outputs[0]]
    o: ir.Pool2DOptions = op.options
    n, h, w, c = x.shape
    oh, pad_h = ops._padding(o.padding, h, o.filter_h, o.stride_h, 1)
    ow, pad_w = ops._padding(o.padding, w, o.filter_w, o.stride_w, 1)
    lo, hi = activation_range_s16(o.activation, y.quant)
    params = dict(batches=n, in_h=h, in_w=w, channels=c, out_h=oh, out_w=ow, k_h=o.filter_h,
                  k_w=o.filter_w, stride_h=o.stride_h, stride_w=o.stride_w, pad_h=pad_h,
                  pad_w=pad_w, act_min=lo, act_max=hi)
    kernel = "tg_avg_pool2d_s16" if op.kind == "AVERAGE_POOL_2D" else "tg_max_pool2d_s16"
    return KernelCallS16(op.index, op.kind, kernel, "tg_pool_params", params, [x.index],
                         y.index, summary=f"16-bit {o.filter_h}x{o.filter_w} "
                                          f"s{o.stride_h}x{o.stride_w} {o.padding}",
                         c_args=_arena(x, y))


def _binary(m: ir.Model, op: ir.Operator) -> KernelCall:
    a, b, y = (m.tensors[op.inputs[0]], m.tensors[op.inputs[1]], m.tensors[op.outputs[0]])
    operands, inputs, arrays, c_args = [], [], {}, []
    for pos, t in enumerate((a, b)):
        if t.is_const:
            name = f"in{pos + 1}"
            arrays[name] = t.data.astype(np.int16).reshape(-1)
            operands.append(name)
            c_args.append(("const", name))
        else:
            inputs.append(t.index)
            operands.append(t.index)
            c_args.append(("in", t.index))
    c_args.append(("out", y.index))
    act = getattr(op.options, "activation", ir.ACT_NONE)
    lo, hi = activation_range_s16(act, y.quant)
    params = ops._broadcast_params(a, b, y)
    s1, s2, so = float(a.quant.scale), float(b.quant.scale), float(y.quant.scale)
    if op.kind == "ADD":
        twice_max = 2.0 * max(s1, s2)
        m1, sh1 = quantize_multiplier(s1 / twice_max)
        m2, sh2 = quantize_multiplier(s2 / twice_max)
        mo, sho = quantize_multiplier(twice_max / ((1 << ADD_LEFT_SHIFT_S16) * so))
        params.update(in1_offset=0, in2_offset=0, in1_mult=m1, in1_shift=sh1, in2_mult=m2,
                      in2_shift=sh2, out_mult=mo, out_shift=sho, left_shift=ADD_LEFT_SHIFT_S16,
                      out_offset=0, act_min=lo, act_max=hi)
        kernel, struct = "tg_add_s16", "tg_add_params"
    else:
        mo, sho = quantize_multiplier(s1 * s2 / so)
        params.update(in1_offset=0, in2_offset=0, out_mult=mo, out_shift=sho, out_offset=0,
                      act_min=lo, act_max=hi)
        kernel, struct = "tg_mul_s16", "tg_mul_params"
    summary = f"16-bit {act}" + (" broadcast" if params["shape"]["broadcast"] else "")
    return KernelCallS16(op.index, op.kind, kernel, struct, params, inputs, y.index, arrays,
                         operands=operands, summary=summary, c_args=c_args)


# ---- tables ------------------------------------------------------------------

def _libm_expf():
    """The C library's expf (TFLM's std::exp(float)), when it can be loaded."""
    name = ctypes.util.find_library("m")
    try:
        fn = ctypes.CDLL(name).expf if name else None
    except OSError:
        fn = None
    if fn is not None:
        fn.restype, fn.argtypes = ctypes.c_float, [ctypes.c_float]
        return lambda v: np.float32(fn(float(v)))
    return lambda v: np.float32(np.exp(np.float32(v)))


def _round_half_away(v: np.float32) -> np.float32:
    return np.float32(math.floor(abs(float(v)) + 0.5) * (1 if v >= 0 else -1))


def lut513(transform, input_scale: float, input_zp: int, output_scale: float) -> np.ndarray:
    """TFLM's 513-entry int16 table (LUTPopulate<int16_t>), in float32 as it
    computes it: 512 samples over the int16 input range, each lowered by half
    the interpolation error at its interval's midpoint, and the end value."""
    f32 = np.float32
    in_s, out_s = f32(input_scale), f32(output_scale)
    in_min = in_s * f32(S16_MIN - input_zp)
    in_max = in_s * f32(S16_MAX - input_zp)
    out_min = out_s * f32(S16_MIN)
    out_max = out_s * f32(S16_MAX)
    steps = 512
    step = (in_max - in_min) / f32(steps)
    half = step / f32(2)
    inv = f32(65536) / (out_max - out_min)
    table = np.zeros(steps + 1, dtype=np.int16)
    for i in range(steps):
        at = in_min + f32(i) * step
        val = transform(at)
        mid = transform(at + half)
        nxt = transform(in_min + f32(i + 1) * step)
        sample = _round_half_away(val * inv)
        interp = _round_half_away((nxt * inv + sample) / f32(2))
        err = interp - _round_half_away(mid * inv)
        bias = _round_half_away(err / f32(2))
        table[i] = int(min(max(sample - bias, f32(S16_MIN)), f32(S16_MAX)))
    table[steps] = int(min(max(_round_half_away(transform(in_max) * inv), f32(S16_MIN)),
                           f32(S16_MAX)))
    return table


def softmax_tables() -> tuple[np.ndarray, np.ndarray]:
    """(exp on [-10, 0], 1 / (1 + x) on [0, 1]) as TFLM's int16 SOFTMAX builds them."""
    expf = _libm_expf()
    span = np.float32(65535)
    exp_lut = lut513(expf, float(np.float32(10) / span), S16_MAX,
                     float(np.float32(2) / span))
    recip_lut = lut513(lambda v: np.float32(1) / (np.float32(1) + v),
                       float(np.float32(1) / span), S16_MIN, float(np.float32(2) / span))
    return exp_lut, recip_lut


def sigmoid_table() -> np.ndarray:
    """sigmoid(i / 24) in Q0.16 for i < 256, each sample lowered by half the
    linear interpolation's error at its interval's midpoint (the table TFLM's
    int16 LOGISTIC and TANH interpolate); the last entry saturates to 65535."""
    def s(x: float) -> float:
        return 65536.0 / (1.0 + math.exp(-x))
    out = []
    for i in range(255):
        v, nxt, mid = s(i / 24), s((i + 1) / 24), s((i + 0.5) / 24)
        out.append(ops._round_away(v - ((v + nxt) / 2 - mid) / 2))
    out.append(65535)
    return np.array(out, dtype=np.uint16)


def _softmax(m: ir.Model, op: ir.Operator) -> KernelCall:
    x, y = m.tensors[op.inputs[0]], m.tensors[op.outputs[0]]
    depth = x.shape[-1]
    mult, shift = quantize_multiplier(float(x.quant.scale) * float(op.options.beta)
                                      / (10.0 / 65535.0))
    exp_lut, recip_lut = softmax_tables()
    params = dict(rows=x.elements // depth, depth=depth, input_mult=mult, input_shift=shift)
    return KernelCallS16(op.index, op.kind, "tg_softmax_s16", "tg_softmax_s16_params", params,
                         [x.index], y.index, {"exp_lut": exp_lut, "recip_lut": recip_lut},
                         summary=f"16-bit beta {op.options.beta:g}",
                         c_args=[("in", x.index), ("const", "exp_lut"), ("const", "recip_lut"),
                                 ("out", y.index)])


def checked_log2(x: float) -> tuple[int, bool]:
    """TFLM CheckedLog2: (rounded log2 of a float scale, whether it is a power of two)."""
    f32 = np.float32
    lg = f32(np.log(f32(x))) * (f32(1) / f32(np.log(f32(2))))
    rounded = _round_half_away(lg)
    return int(rounded), bool(abs(lg - rounded) < f32(1e-3))


def sigmoid_rescale(kind: str, input_scale: float) -> tuple[int, int]:
    """(input multiplier, left shift) of TFLM's int16 LOGISTIC / TANH Prepare
    (multiplier 0: a power-of-two scale the kernel shifts by itself)."""
    log2, pot = checked_log2(input_scale)
    shift = 12 + log2
    pot = pot and (shift == 0 if kind == "LOGISTIC" else shift in (0, 1))
    if pot:
        return 0, shift
    multiplier = float(np.float32(input_scale)) * 4096.0 * 3.0
    shift = 0
    while multiplier <= 32767.0 / 2.0 and shift <= 30:
        shift += 1
        multiplier *= 2.0
    return int(multiplier), shift


def _sigmoid(m: ir.Model, op: ir.Operator) -> KernelCall:
    x, y = m.tensors[op.inputs[0]], m.tensors[op.outputs[0]]
    mult, shift = sigmoid_rescale(op.kind, float(x.quant.scale))
    kernel = "tg_logistic_s16" if op.kind == "LOGISTIC" else "tg_tanh_s16"
    return KernelCallS16(op.index, op.kind, kernel, "tg_sigmoid_s16_params",
                         dict(size=x.elements, input_mult=mult, input_left_shift=shift),
                         [x.index], y.index, {"table": sigmoid_table()},
                         summary="16-bit, 256-entry interpolated table",
                         c_args=[("in", x.index), ("const", "table"), ("out", y.index)])


def _affine(m: ir.Model, op: ir.Operator) -> KernelCall:
    x, y = m.tensors[op.inputs[0]], m.tensors[op.outputs[0]]
    quantize = op.kind == "QUANTIZE"
    q = y.quant if quantize else x.quant
    kernel = "tg_quantize_f32_s16" if quantize else "tg_dequantize_s16_f32"
    return KernelCallS16(op.index, op.kind, kernel, "tg_affine_params",
                         dict(size=x.elements, scale=float(np.float32(q.scale)),
                              zero_point=q.zero_point),
                         [x.index], y.index, summary=f"scale {q.scale:.6g} zp {q.zero_point}",
                         c_args=_arena(x, y), c_in="float" if quantize else "int16_t",
                         c_out="int16_t" if quantize else "float")


def _reshape(m: ir.Model, op: ir.Operator) -> KernelCall:
    return ops._reshape(m, op)


_PREPARE_S16 = {
    "CONV_2D": _conv, "DEPTHWISE_CONV_2D": _conv, "FULLY_CONNECTED": _fully_connected,
    "AVERAGE_POOL_2D": _pool, "MAX_POOL_2D": _pool, "ADD": _binary, "MUL": _binary,
    "SOFTMAX": _softmax, "LOGISTIC": _sigmoid, "TANH": _sigmoid, "QUANTIZE": _affine,
    "DEQUANTIZE": _affine, "RESHAPE": _reshape,
}
SUPPORTED_S16 = tuple(_PREPARE_S16)


def prepare_op(m: ir.Model, op: ir.Operator) -> KernelCall:
    """One operator on int16 activations (plan/prepare.py sends them here)."""
    if op.kind not in _PREPARE_S16:
        raise TinygenError(f"{op.kind} on int16 activations is not compiled; int16x8 "
                           f"models may use {', '.join(SUPPORTED_S16)}")
    return _PREPARE_S16[op.kind](m, op)
