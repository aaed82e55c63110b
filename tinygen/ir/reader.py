"""Read a .tflite flatbuffer into the IR (no validation beyond the format)."""

from __future__ import annotations

from pathlib import Path

import math

import numpy as np
import tflite

from tinygen.errors import TinygenError
from tinygen.ir import model as ir
from tinygen.text import printable

_TENSOR_TYPES = {
    tflite.TensorType.FLOAT32: "float32",
    tflite.TensorType.FLOAT16: "float16",
    tflite.TensorType.INT32: "int32",
    tflite.TensorType.UINT8: "uint8",
    tflite.TensorType.INT64: "int64",
    tflite.TensorType.BOOL: "bool",
    tflite.TensorType.INT16: "int16",
    tflite.TensorType.INT8: "int8",
}

_ACTIVATIONS = {
    tflite.ActivationFunctionType.NONE: ir.ACT_NONE,
    tflite.ActivationFunctionType.RELU: ir.ACT_RELU,
    tflite.ActivationFunctionType.RELU_N1_TO_1: ir.ACT_RELU_N1_TO_1,
    tflite.ActivationFunctionType.RELU6: ir.ACT_RELU6,
}

# No TFLite operator takes more dimensions; more is a corrupt file.
MAX_RANK = 8

_PADDINGS = {tflite.Padding.SAME: ir.PAD_SAME, tflite.Padding.VALID: ir.PAD_VALID}


def _builtin_names() -> dict[int, str]:
    return {v: k for k, v in vars(tflite.BuiltinOperator).items()
            if isinstance(v, int) and not k.startswith("_")}


def _activation(code: int) -> str:
    if code not in _ACTIVATIONS:
        raise TinygenError(f"unsupported fused activation code {code}: "
                           "use RELU, RELU6 or none")
    return _ACTIVATIONS[code]


def _padding(code: int) -> str:
    if code not in _PADDINGS:
        raise TinygenError(f"unknown padding code {code}: the .tflite file is corrupt; "
                           "re-export it")
    return _PADDINGS[code]


def _init(cls, table):
    opts = cls()
    opts.Init(table.Bytes, table.Pos)
    return opts


# Operator kind -> the options table its builtin_options must hold.
_OPTIONS_TYPES = {
    "CONV_2D": tflite.BuiltinOptions.Conv2DOptions,
    "DEPTHWISE_CONV_2D": tflite.BuiltinOptions.DepthwiseConv2DOptions,
    "AVERAGE_POOL_2D": tflite.BuiltinOptions.Pool2DOptions,
    "MAX_POOL_2D": tflite.BuiltinOptions.Pool2DOptions,
    "FULLY_CONNECTED": tflite.BuiltinOptions.FullyConnectedOptions,
    "ADD": tflite.BuiltinOptions.AddOptions, "MUL": tflite.BuiltinOptions.MulOptions,
    "SOFTMAX": tflite.BuiltinOptions.SoftmaxOptions,
    "STRIDED_SLICE": tflite.BuiltinOptions.StridedSliceOptions,
    "PACK": tflite.BuiltinOptions.PackOptions,
    "CONCATENATION": tflite.BuiltinOptions.ConcatenationOptions,
    "SUB": tflite.BuiltinOptions.SubOptions,
    "LEAKY_RELU": tflite.BuiltinOptions.LeakyReluOptions,
    "TRANSPOSE_CONV": tflite.BuiltinOptions.TransposeConvOptions,
    "RESIZE_BILINEAR": tflite.BuiltinOptions.ResizeBilinearOptions,
    "RESIZE_NEAREST_NEIGHBOR": tflite.BuiltinOptions.ResizeNearestNeighborOptions,
}


def _options(kind: str, op) -> ir.OperatorOptions:
    table = op.BuiltinOptions()
    # Options of another kind are another table: reading them as this kind's
    # would give garbage, so they count as missing (validate refuses them).
    if table is None or op.BuiltinOptionsType() != _OPTIONS_TYPES.get(kind):
        return ir.NoOptions()
    if kind in ("CONV_2D", "DEPTHWISE_CONV_2D"):
        if kind == "CONV_2D":
            o = _init(tflite.Conv2DOptions, table)
            return ir.Conv2DOptions(_padding(o.Padding()), o.StrideH(), o.StrideW(),
                                    o.DilationHFactor(), o.DilationWFactor(),
                                    _activation(o.FusedActivationFunction()))
        o = _init(tflite.DepthwiseConv2DOptions, table)
        return ir.DepthwiseConv2DOptions(_padding(o.Padding()), o.StrideH(), o.StrideW(),
                                         o.DilationHFactor(), o.DilationWFactor(),
                                         _activation(o.FusedActivationFunction()),
                                         o.DepthMultiplier())
    if kind in ("AVERAGE_POOL_2D", "MAX_POOL_2D"):
        o = _init(tflite.Pool2DOptions, table)
        return ir.Pool2DOptions(_padding(o.Padding()), o.StrideH(), o.StrideW(),
                                o.FilterHeight(), o.FilterWidth(),
                                _activation(o.FusedActivationFunction()))
    if kind == "FULLY_CONNECTED":
        o = _init(tflite.FullyConnectedOptions, table)
        if o.WeightsFormat() != 0:
            raise TinygenError("FULLY_CONNECTED with shuffled weights is not supported: "
                               "convert with default weight format")
        return ir.FullyConnectedOptions(_activation(o.FusedActivationFunction()),
                                        bool(o.KeepNumDims()))
    if kind == "ADD":
        o = _init(tflite.AddOptions, table)
        return ir.AddOptions(_activation(o.FusedActivationFunction()))
    if kind == "MUL":
        o = _init(tflite.MulOptions, table)
        return ir.AddOptions(_activation(o.FusedActivationFunction()))
    if kind == "SOFTMAX":
        o = _init(tflite.SoftmaxOptions, table)
        return ir.SoftmaxOptions(float(o.Beta()))
    if kind == "STRIDED_SLICE":
        o = _init(tflite.StridedSliceOptions, table)
        return ir.StridedSliceOptions(o.BeginMask(), o.EndMask(), o.EllipsisMask(),
                                      o.NewAxisMask(), o.ShrinkAxisMask(), bool(o.Offset()))
    if kind == "PACK":
        o = _init(tflite.PackOptions, table)
        return ir.PackOptions(o.Axis(), o.ValuesCount())
    if kind == "CONCATENATION":
        o = _init(tflite.ConcatenationOptions, table)
        return ir.ConcatenationOptions(o.Axis(), _activation(o.FusedActivationFunction()))
    if kind == "SUB":
        o = _init(tflite.SubOptions, table)
        return ir.AddOptions(_activation(o.FusedActivationFunction()))
    if kind == "LEAKY_RELU":
        o = _init(tflite.LeakyReluOptions, table)
        return ir.LeakyReluOptions(float(o.Alpha()))
    if kind == "TRANSPOSE_CONV":
        o = _init(tflite.TransposeConvOptions, table)
        return ir.TransposeConvOptions(_padding(o.Padding()), o.StrideH(), o.StrideW(),
                                       _activation(o.FusedActivationFunction()))
    if kind == "RESIZE_BILINEAR":
        o = _init(tflite.ResizeBilinearOptions, table)
        return ir.ResizeOptions(bool(o.AlignCorners()), bool(o.HalfPixelCenters()))
    if kind == "RESIZE_NEAREST_NEIGHBOR":
        o = _init(tflite.ResizeNearestNeighborOptions, table)
        return ir.ResizeOptions(bool(o.AlignCorners()), bool(o.HalfPixelCenters()))
    return ir.NoOptions()


def _vector(table, field: str, dtype) -> np.ndarray:
    """A flatbuffer vector as numpy in one read (a corrupt length past the
    end of the file raises ValueError instead of being walked)."""
    if getattr(table, field + "Length")() == 0:
        return np.zeros(0, dtype=dtype)
    return np.asarray(getattr(table, field + "AsNumpy")(), dtype=dtype)


def _ints(table, field: str) -> list[int]:
    return [int(v) for v in _vector(table, field, np.int64)]


def _tensor(fb, index: int, t) -> ir.Tensor:
    code = t.Type()
    dtype = _TENSOR_TYPES.get(code, f"type{code}")
    shape = tuple(_ints(t, "Shape"))
    signature = tuple(_ints(t, "ShapeSignature"))
    name = printable(t.Name().decode("utf-8", "replace")) if t.Name() else f"t{index}"
    if len(shape) > MAX_RANK or len(signature) > MAX_RANK:
        raise TinygenError(f"tensor '{name}' has rank {max(len(shape), len(signature))}, more "
                           f"than {MAX_RANK}: the .tflite file is corrupt; re-export it")
    if any(d < 0 for d in shape) or any(d < 0 for d in signature[1:]):
        raise TinygenError(
            f"tensor '{name}' has a dynamic shape {signature or shape}: tinygen needs every "
            "dimension except the batch known at build time; export the model with fixed shapes")
    quant = None
    q = t.Quantization()
    if q is not None and q.ScaleLength() > 0:
        scales = _vector(q, "Scale", np.float32)
        zps = _vector(q, "ZeroPoint", np.int64)
        if len(zps) == 0:        # TFLM reads the first one anyway
            raise TinygenError(f"tensor '{name}' has {len(scales)} scales and no zero points: "
                               "the .tflite file is corrupt; re-export it")
        quant = ir.Quantization(scales, zps, int(q.QuantizedDimension()))
    data = None
    if not 0 <= t.Buffer() < fb.BuffersLength():
        raise TinygenError(f"tensor '{name}' refers to buffer {t.Buffer()} of "
                           f"{fb.BuffersLength()}: the .tflite file is corrupt; re-export it")
    buf = fb.Buffers(t.Buffer())
    if buf.DataLength() > 0:
        raw = buf.DataAsNumpy().tobytes()
        if dtype not in _TENSOR_TYPES.values():
            raise TinygenError(f"tensor '{name}' has unsupported type code {code}")
        arr = np.frombuffer(raw, dtype=np.dtype(dtype).newbyteorder("<"))
        count = math.prod(shape)
        if arr.size != count:
            raise TinygenError(
                f"tensor '{name}' holds {arr.size} values for shape {shape}: "
                "the .tflite file is corrupt or truncated; re-export it")
        data = arr.astype(np.dtype(dtype)).reshape(shape).copy()
    return ir.Tensor(index, name, shape, dtype, quant, data)


def read_tflite(path: Path) -> ir.Model:
    path = Path(path)
    shown, name = printable(str(path), 200), printable(path.name)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise TinygenError(f"cannot read model {shown}: {exc.strerror}; check the path") from exc
    if len(raw) < 8 or raw[4:8] != b"TFL3":
        raise TinygenError(f"{shown} is not a TFLite flatbuffer (no TFL3 identifier): "
                           "give an int8 .tflite file from TFLiteConverter")
    names = _builtin_names()
    try:
        fb = tflite.Model.GetRootAsModel(raw, 0)
        if fb.SubgraphsLength() != 1:
            raise TinygenError(
                f"{name} has {fb.SubgraphsLength()} subgraphs: tinygen compiles "
                "single-subgraph models only; remove control flow (while/if) from the model")
        sg = fb.Subgraphs(0)
        tensors = [_tensor(fb, i, sg.Tensors(i)) for i in range(sg.TensorsLength())]
        ops = []
        for i in range(sg.OperatorsLength()):
            op = sg.Operators(i)
            if not 0 <= op.OpcodeIndex() < fb.OperatorCodesLength():
                raise TinygenError(f"operator {i} has operator code {op.OpcodeIndex()} of "
                                   f"{fb.OperatorCodesLength()}: the .tflite file is corrupt; "
                                   "re-export it")
            oc = fb.OperatorCodes(op.OpcodeIndex())
            code = max(int(oc.BuiltinCode()), int(oc.DeprecatedBuiltinCode()))
            kind = names.get(code, f"BUILTIN_{code}")
            if kind == "CUSTOM":
                custom = oc.CustomCode()
                kind = "CUSTOM:" + (printable(custom.decode("utf-8", "replace"), 40)
                                    if custom else "?")
            opts = _options(kind, op)
            ops.append(ir.Operator(i, kind, _ints(op, "Inputs"), _ints(op, "Outputs"), opts))
        inputs = _ints(sg, "Inputs")
        outputs = _ints(sg, "Outputs")
        desc = printable(fb.Description().decode("utf-8", "replace"), 200) if fb.Description() else ""
    except TinygenError:
        raise
    except Exception as exc:  # flatbuffers raises assorted errors on bad offsets
        raise TinygenError(f"{shown} is truncated or corrupt ({type(exc).__name__}): "
                           "re-export the .tflite file") from exc
    for where, indices, lowest in (
            ("graph inputs", inputs, 0), ("graph outputs", outputs, 0),
            *((f"operator {o.index} ({o.kind}) inputs", o.inputs, -1) for o in ops),
            *((f"operator {o.index} ({o.kind}) outputs", o.outputs, 0) for o in ops)):
        for idx in indices:
            if not lowest <= idx < len(tensors):
                raise TinygenError(f"{name}: {where} refer to tensor {idx} of "
                                   f"{len(tensors)}" + (" (-1 marks an omitted input)"
                                                        if lowest < 0 else "")
                                   + ": the file is corrupt; re-export it")
    return ir.Model(printable(path.stem), tensors, ops, inputs, outputs, desc)
