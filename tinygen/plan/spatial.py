"""The prepare half of the spatial operators users' own models bring (issue 26).

TRANSPOSE_CONV (auto-encoders' up-sampling), grouped CONV_2D, RESIZE_BILINEAR
and RESIZE_NEAREST_NEIGHBOR, TILE and STRIDED_SLICE of a run-time tensor
(a crop). Their kernels are portable C in firmware/kernels/ (declared in
tg_spatial.h); everything TFLM derives in its Prepare (padding, per-channel
multipliers, resize source rows and fixed-point distances, slice bounds) is
computed here, in TFLM's arithmetic, at build time.

Built on tinygen/plan/ops.py's helpers; tinygen/plan/prepare.py sends the
operators here (``PREPARE``, and grouped CONV_2D by ``is_grouped``) and
variants.py takes ``KERNEL_SOURCES``.
"""

from __future__ import annotations

import numpy as np

from tinygen.errors import TinygenError
from tinygen.ir import model as ir
from tinygen.ir.fold import strided_slice
from tinygen.plan import ops
from tinygen.plan.fixedpoint import wrap32

KERNEL_SOURCES = {
    "tg_transpose_conv_s8": "transpose_conv_s8.c",
    "tg_conv2d_grouped_s8": "conv2d_grouped_s8.c",
    "tg_resize_nearest_s8": "resize_s8.c",
    "tg_resize_bilinear_s8": "resize_s8.c",
    "tg_tile_s8": "tile_s8.c",
    "tg_strided_slice_s8": "strided_slice_s8.c",
}
# The kernels' fixed ranks (TG_TILE_MAX_RANK, TG_SLICE_MAX_RANK in tg_spatial.h).
TILE_MAX_RANK = 6
SLICE_MAX_RANK = 5
# TFLM's ResizeBilinearInteger works in 1/1024 of a pixel.
RESIZE_ONE = 1 << 10


def _quant_records(m: ir.Model, op: ir.Operator, x: ir.Tensor, w: ir.Tensor, y: ir.Tensor,
                   bias_input: int) -> np.ndarray:
    """Per output channel (bias, multiplier, shift): TFLM's
    PopulateConvolutionQuantizationParams, with the bias unfolded."""
    oc = w.shape[0]
    mult, shift = ops._multipliers([float(x.quant.scale) * fs / float(y.quant.scale)
                                    for fs in ops._channel_scales(w, oc)])
    bias = np.zeros(oc, dtype=np.int64)
    if len(op.inputs) > bias_input and op.inputs[bias_input] >= 0:
        bias = m.tensors[op.inputs[bias_input]].data.astype(np.int64).reshape(-1)
    return np.stack([bias, mult, shift], axis=1).astype(np.int32).reshape(-1)


def _generic_conv(op: ir.Operator, kernel: str, x: ir.Tensor, w: ir.Tensor, y: ir.Tensor,
                  quant: np.ndarray, geometry: dict, activation: str, macs: int,
                  summary: str) -> ops.KernelCall:
    n, h, wd, c = x.shape
    _, oh, ow, oc = y.shape
    lo, hi = ops.activation_range(activation, y.quant)
    params = dict(batches=n, in_h=h, in_w=wd, in_c=c, out_h=oh, out_w=ow, out_c=oc,
                  k_h=w.shape[1], k_w=w.shape[2], **geometry,
                  input_offset=-x.quant.zero_point, output_zero_point=y.quant.zero_point,
                  act_min=lo, act_max=hi)
    return ops.KernelCall(op.index, op.kind, kernel, "tg_generic_conv_params", params, [x.index],
                          y.index, {"filter": w.data.astype(np.int8).reshape(-1), "quant": quant},
                          macs=macs, summary=summary)


def transpose_phases(w: np.ndarray, stride_h: int, stride_w: int
                     ) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int, int, int]]]:
    """The filter [out_c][k_h][k_w][in_c] split by output phase (ry, rx): the
    taps ky = ry + ty * stride_h, kx = rx + tx * stride_w an output pixel of
    that phase reads. Returns the phases' filters one after another, each
    [out_c][rows][columns][in_c] (flat int8), their sums per phase and output
    channel, and per phase (offset, rows, columns, taps in bytes)."""
    oc, kh, kw, ic = w.shape
    parts, sums, phases, offset = [], [], [], 0
    for ry in range(stride_h):
        for rx in range(stride_w):
            part = w[:, ry::stride_h, rx::stride_w, :]
            # Tap ty reads input row iy0 - ty (tg_transpose_conv_s8): rows in
            # increasing ky, the order slicing gives.
            parts.append(part.reshape(-1))
            sums.append(part.astype(np.int64).reshape(oc, -1).sum(axis=1))
            phases.append((offset, part.shape[1], part.shape[2], part.shape[1] * part.shape[2] * ic))
            offset += part.size
    return np.concatenate(parts).astype(np.int8), np.array(sums), phases


def transpose_conv(m: ir.Model, op: ir.Operator) -> ops.KernelCall:
    """Inputs: output shape, filter [out_c][k_h][k_w][in_c], input, optional bias."""
    w, x, y = m.tensors[op.inputs[1]], m.tensors[op.inputs[2]], m.tensors[op.outputs[0]]
    o: ir.TransposeConvOptions = op.options
    oc, kh, kw, _ = w.shape
    # TFLM pads as a convolution from the output's size to the input's would.
    _, pad_h = ops._padding(o.padding, y.shape[1], kh, o.stride_h, 1)
    _, pad_w = ops._padding(o.padding, y.shape[2], kw, o.stride_w, 1)
    geometry = dict(stride_h=o.stride_h, stride_w=o.stride_w, dil_h=1, dil_w=1, pad_h=pad_h,
                    pad_w=pad_w, groups=1)
    filt, sums, phases = transpose_phases(w.data.astype(np.int8), o.stride_h, o.stride_w)
    base = _quant_records(m, op, x, w, y, 3).reshape(oc, 3)
    quant = np.concatenate([base] * len(phases)).astype(np.int64)
    # Taps outside the input read the zero point and must add nothing.
    quant[:, 0] = [wrap32(int(b) - x.quant.zero_point * int(s))
                   for b, s in zip(quant[:, 0], sums.reshape(-1))]
    call = _generic_conv(op, "tg_transpose_conv_s8", x, w, y, quant.astype(np.int32).reshape(-1),
                         geometry, o.activation, x.elements * w.elements // x.shape[3],
                         f"{kh}x{kw} up {o.stride_h}x{o.stride_w} {o.padding} {o.activation}")
    call.arrays["filter"] = filt
    call.arrays["phases"] = np.array([p[:3] for p in phases], dtype=np.int32).reshape(-1)
    call.scratch_bytes = call.portable_scratch = max(p[3] for p in phases)
    return call


def is_grouped(m: ir.Model, op: ir.Operator) -> bool:
    """A CONV_2D whose filter depth is not its input depth."""
    return (op.kind == "CONV_2D"
            and m.tensors[op.inputs[1]].shape[3] != m.tensors[op.inputs[0]].shape[3])


def grouped_conv(m: ir.Model, op: ir.Operator) -> ops.KernelCall:
    """CONV_2D whose input depth is k times its filter depth (k groups)."""
    x, w, y = m.tensors[op.inputs[0]], m.tensors[op.inputs[1]], m.tensors[op.outputs[0]]
    o: ir.Conv2DOptions = op.options
    oc, kh, kw, depth = w.shape
    groups = x.shape[3] // depth
    if x.shape[3] % depth or oc % groups:
        raise TinygenError(f"grouped CONV_2D: input depth {x.shape[3]} and {oc} filters do not "
                           f"split into groups of filter depth {depth}")
    oh, pad_h = ops._padding(o.padding, x.shape[1], kh, o.stride_h, o.dilation_h)
    ow, pad_w = ops._padding(o.padding, x.shape[2], kw, o.stride_w, o.dilation_w)
    if (x.shape[0], oh, ow, oc) != tuple(y.shape):
        raise TinygenError(f"CONV_2D output shape {y.shape} disagrees with the computed "
                           f"{(x.shape[0], oh, ow, oc)}: the model is inconsistent")
    geometry = dict(stride_h=o.stride_h, stride_w=o.stride_w, dil_h=o.dilation_h,
                    dil_w=o.dilation_w, pad_h=pad_h, pad_w=pad_w, groups=groups)
    # The kernel reads taps outside the input as the zero point (a whole
    # gathered window): the bias takes input_offset * sum(filter) so those
    # taps add nothing, as TFLM's skipped ones.
    quant = _quant_records(m, op, x, w, y, 2).reshape(oc, 3)
    sums = w.data.astype(np.int64).reshape(oc, -1).sum(axis=1)
    quant[:, 0] = [wrap32(int(b) - x.quant.zero_point * int(s))
                   for b, s in zip(quant[:, 0], sums)]
    call = _generic_conv(op, "tg_conv2d_grouped_s8", x, w, y, quant.reshape(-1), geometry,
                         o.activation, y.elements * kh * kw * depth,
                         f"{kh}x{kw} s{o.stride_h}x{o.stride_w} d{o.dilation_h}x{o.dilation_w} "
                         f"{o.padding} {o.activation} {groups} groups")
    call.scratch_bytes = call.portable_scratch = kh * kw * depth
    return call


def _c_div(a: int, b: int) -> int:
    """C's integer division (truncates toward zero)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def nearest_sources(in_size: int, out_size: int, align_corners: bool,
                    half_pixel: bool) -> np.ndarray:
    """TFLM's GetNearestNeighbor for every output index, in its float32 arithmetic."""
    f32 = np.float32
    if align_corners and out_size > 1:
        scale = f32(in_size - 1) / f32(out_size - 1)
    else:
        scale = f32(in_size) / f32(out_size)
    offset = f32(0.5 if half_pixel else 0.0)
    out = []
    for i in range(out_size):
        v = float((f32(i) + offset) * scale)
        # TfLiteRound rounds half away from zero (v is never negative here).
        src = int(np.floor(v + 0.5)) if align_corners else int(np.floor(v))
        src = min(src, in_size - 1)
        out.append(max(src, 0) if half_pixel else src)
    return np.array(out, dtype=np.int32)


def bilinear_sources(in_size: int, out_size: int, align_corners: bool,
                     half_pixel: bool) -> np.ndarray:
    """[out_size][3]: TFLM's ComputeInterpolationValuesInteger per output
    index: the first and second source index and the distance from the
    first in 1/1024 (negative at the leading edge with half-pixel centres)."""
    if align_corners and out_size > 1:
        scale = (RESIZE_ONE * (in_size - 1) + (out_size - 1) // 2) // (out_size - 1)
    else:
        scale = (RESIZE_ONE * in_size + out_size // 2) // out_size
    rows = []
    for i in range(out_size):
        v = i * scale + scale // 2 - RESIZE_ONE // 2 if half_pixel else i * scale
        lower = max(_c_div(v, RESIZE_ONE), 0)
        upper = min(_c_div(v + RESIZE_ONE - 1, RESIZE_ONE), in_size - 1)
        if lower > in_size - 1:
            # TFLM would read past the input here; no converter makes such a resize.
            raise TinygenError(f"RESIZE_BILINEAR from {in_size} to {out_size} reads past its "
                               "input in TFLM's integer arithmetic; resize in smaller steps")
        rows.append((lower, upper, v - RESIZE_ONE * lower))
    return np.array(rows, dtype=np.int32)


def resize(m: ir.Model, op: ir.Operator) -> ops.KernelCall:
    x, y = m.tensors[op.inputs[0]], m.tensors[op.outputs[0]]
    o: ir.ResizeOptions = op.options
    n, h, w, c = x.shape
    _, oh, ow, _ = y.shape
    if op.kind == "RESIZE_BILINEAR":
        kernel, tables = "tg_resize_bilinear_s8", bilinear_sources
    else:
        kernel, tables = "tg_resize_nearest_s8", nearest_sources
    arrays = {"rows": tables(h, oh, o.align_corners, o.half_pixel_centers).reshape(-1),
              "cols": tables(w, ow, o.align_corners, o.half_pixel_centers).reshape(-1)}
    rule = ("align corners" if o.align_corners else
            "half-pixel centres" if o.half_pixel_centers else "asymmetric")
    return ops.KernelCall(op.index, op.kind, kernel, "tg_resize_params",
                          dict(batches=n, in_h=h, in_w=w, channels=c, out_h=oh, out_w=ow),
                          [x.index], y.index, arrays, summary=f"{h}x{w} -> {oh}x{ow}, {rule}")


def tile(m: ir.Model, op: ir.Operator) -> ops.KernelCall:
    x, y = m.tensors[op.inputs[0]], m.tensors[op.outputs[0]]
    multiples = [int(v) for v in np.asarray(m.tensors[op.inputs[1]].data).reshape(-1)]
    lead = TILE_MAX_RANK - len(x.shape)
    in_shape = [1] * lead + list(x.shape)
    out_shape = [1] * lead + [d * k for d, k in zip(x.shape, multiples)]
    if tuple(out_shape[lead:]) != tuple(y.shape):
        raise TinygenError(f"TILE output shape {y.shape} disagrees with the computed "
                           f"{tuple(out_shape[lead:])}: the model is inconsistent")
    return ops.KernelCall(op.index, op.kind, "tg_tile_s8", "tg_tile_params",
                          dict(in_shape=in_shape, out_shape=out_shape), [x.index], y.index,
                          summary=f"multiples {multiples}")


def slice_steps(shape: tuple[int, ...], begin, end, strides,
                o: ir.StridedSliceOptions) -> tuple[int, list[int], list[int]]:
    """(start offset, output shape, input step per output dimension), padded to
    SLICE_MAX_RANK: the slice of an index tensor, read back as an affine map."""
    index = np.arange(int(np.prod(shape, dtype=np.int64)), dtype=np.int64).reshape(shape)
    picked = np.asarray(strided_slice(index, begin, end, strides, o))
    if picked.size == 0 or picked.ndim > SLICE_MAX_RANK:
        raise TinygenError(f"STRIDED_SLICE of shape {tuple(shape)} selects shape "
                           f"{picked.shape}: tinygen slices to 1 to {SLICE_MAX_RANK} dimensions "
                           "with at least one element")
    start = int(picked.flat[0])
    steps = []
    for d in range(picked.ndim):
        if picked.shape[d] > 1:
            steps.append(int(np.take(picked, 1, axis=d).flat[0]) - start)
        else:
            steps.append(0)
    lead = SLICE_MAX_RANK - picked.ndim
    out_shape = [1] * lead + list(picked.shape)
    steps = [0] * lead + steps
    grid = np.indices(out_shape).reshape(SLICE_MAX_RANK, -1)
    assert np.array_equal(start + np.dot(steps, grid), picked.reshape(-1)), "not affine"
    return start, out_shape, steps


def strided_slice_call(m: ir.Model, op: ir.Operator) -> ops.KernelCall:
    x, y = m.tensors[op.inputs[0]], m.tensors[op.outputs[0]]
    begin, end, strides = (np.asarray(m.tensors[i].data).reshape(-1) for i in op.inputs[1:4])
    start, out_shape, steps = slice_steps(x.shape, begin, end, strides, op.options)
    if int(np.prod(out_shape)) != y.elements:
        raise TinygenError(f"STRIDED_SLICE output shape {y.shape} disagrees with the computed "
                           f"{tuple(d for d in out_shape if d > 1)}: the model is inconsistent")
    return ops.KernelCall(op.index, op.kind, "tg_strided_slice_s8", "tg_slice_params",
                          dict(start=start, out_shape=out_shape, steps=steps), [x.index],
                          y.index, summary=f"{x.shape} -> {y.shape}")


PREPARE = {
    "TRANSPOSE_CONV": transpose_conv,
    "RESIZE_BILINEAR": resize,
    "RESIZE_NEAREST_NEIGHBOR": resize,
    "TILE": tile,
    "STRIDED_SLICE": strided_slice_call,
}
