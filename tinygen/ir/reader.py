"""Read a .tflite flatbuffer into the IR (no validation beyond the format).

The file is read in place: each table's fields are found through its vtable
and read with struct at their offsets, vectors in one unpack or as a numpy
view. Every read is bounds-checked (struct and numpy refuse a read past the
end; a table whose vtable lies before the file start is refused here), so a
corrupt offset is a refusal, never a wrong read. The generated flatbuffers
accessors did the same reads one Python call per field, 40 times slower.
"""

from __future__ import annotations

from pathlib import Path

import math
import struct

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
_DTYPES = {code: np.dtype(name) for code, name in _TENSOR_TYPES.items()}

_ACTIVATIONS = {
    tflite.ActivationFunctionType.NONE: ir.ACT_NONE,
    tflite.ActivationFunctionType.RELU: ir.ACT_RELU,
    tflite.ActivationFunctionType.RELU_N1_TO_1: ir.ACT_RELU_N1_TO_1,
    tflite.ActivationFunctionType.RELU6: ir.ACT_RELU6,
}

# No TFLite operator takes more dimensions; more is a corrupt file.
MAX_RANK = 8

_PADDINGS = {tflite.Padding.SAME: ir.PAD_SAME, tflite.Padding.VALID: ir.PAD_VALID}

_BUILTIN_NAMES = {v: k for k, v in vars(tflite.BuiltinOperator).items()
                  if isinstance(v, int) and not k.startswith("_")}
# builtin_code below this means "read deprecated_builtin_code" (schema v3a).
_PLACEHOLDER_FOR_GREATER_OP_CODES = tflite.BuiltinOperator.PLACEHOLDER_FOR_GREATER_OP_CODES


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


# ---- the flatbuffer, read in place ------------------------------------------

_BOOL = struct.Struct("<?").unpack_from
_I8 = struct.Struct("<b").unpack_from
_U8 = struct.Struct("<B").unpack_from
_U16 = struct.Struct("<H").unpack_from
_I32 = struct.Struct("<i").unpack_from
_U32 = struct.Struct("<I").unpack_from
_F32 = struct.Struct("<f").unpack_from


class _Corrupt(Exception):
    """An offset of the file points outside it (read_tflite names the file)."""


class _Table:
    """One flatbuffer table: `buf[pos]` holds the signed distance back to its
    vtable, whose entries (slot 4, 6, ... as the schema numbers fields) give
    each field's offset from `pos`, 0 or past the vtable's end when absent."""

    __slots__ = ("buf", "pos", "vtable", "vsize")

    def __init__(self, buf: bytes, pos: int):
        vtable = pos - _I32(buf, pos)[0]
        if vtable < 0:           # struct would read it from the file's end
            raise _Corrupt(f"vtable at {vtable}")
        self.buf, self.pos, self.vtable = buf, pos, vtable
        self.vsize = _U16(buf, vtable)[0]

    def field(self, slot: int) -> int:
        """Position of a field in the file, 0 when absent."""
        if slot >= self.vsize:
            return 0
        off = _U16(self.buf, self.vtable + slot)[0]
        return self.pos + off if off else 0

    def scalar(self, slot: int, unpack, default):
        at = self.field(slot)
        return unpack(self.buf, at)[0] if at else default

    def table(self, slot: int) -> _Table | None:
        at = self.field(slot)
        return _Table(self.buf, at + _U32(self.buf, at)[0]) if at else None

    def vector(self, slot: int) -> tuple[int, int]:
        """(position of the first element, length), (0, 0) when absent."""
        at = self.field(slot)
        if not at:
            return 0, 0
        at += _U32(self.buf, at)[0]
        return at + 4, _U32(self.buf, at)[0]

    def tables(self, slot: int) -> _Tables:
        return _Tables(self.buf, *self.vector(slot))

    def ints(self, slot: int) -> tuple[int, ...]:
        """An int32 vector (struct refuses one longer than the file)."""
        start, n = self.vector(slot)
        return struct.unpack_from(f"<{n}i", self.buf, start) if n else ()

    def array(self, slot: int, dtype: str) -> np.ndarray:
        """A vector as a read-only numpy view of the file."""
        start, n = self.vector(slot)
        if n == 0:
            return np.zeros(0, dtype=dtype)
        return np.frombuffer(self.buf, dtype=dtype, count=n, offset=start)

    def string(self, slot: int) -> bytes | None:
        at = self.field(slot)
        if not at:
            return None
        at += _U32(self.buf, at)[0]
        # Cut at the file's end like the flatbuffers accessors (a name is
        # only shown, never trusted).
        return bytes(self.buf[at + 4:at + 4 + _U32(self.buf, at)[0]])


class _Tables:
    """A vector of tables, each read when asked for (a corrupt element the
    model never uses is never read)."""

    __slots__ = ("buf", "start", "n")

    def __init__(self, buf: bytes, start: int, n: int):
        self.buf, self.start, self.n = buf, start, n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> _Table:
        if not 0 <= i < self.n:
            raise IndexError(i)
        at = self.start + 4 * i
        return _Table(self.buf, at + _U32(self.buf, at)[0])

    def __iter__(self):
        return (self[i] for i in range(self.n))


# Schema field slots (tensorflow/lite/schema/schema.fbs, in declaration order).
_MODEL_OPERATOR_CODES, _MODEL_SUBGRAPHS, _MODEL_DESCRIPTION, _MODEL_BUFFERS = 6, 8, 10, 12
_SUBGRAPH_TENSORS, _SUBGRAPH_INPUTS, _SUBGRAPH_OUTPUTS, _SUBGRAPH_OPERATORS = 4, 6, 8, 10
_TENSOR_SHAPE, _TENSOR_TYPE, _TENSOR_BUFFER, _TENSOR_NAME, _TENSOR_QUANTIZATION = 4, 6, 8, 10, 12
_TENSOR_SHAPE_SIGNATURE = 18
_QUANT_SCALE, _QUANT_ZERO_POINT, _QUANT_DIMENSION = 8, 10, 16
_BUFFER_DATA = 4
_OPCODE_DEPRECATED_BUILTIN, _OPCODE_CUSTOM, _OPCODE_BUILTIN = 4, 6, 10
_OP_OPCODE_INDEX, _OP_INPUTS, _OP_OUTPUTS, _OP_OPTIONS_TYPE, _OP_OPTIONS = 4, 6, 8, 10, 12


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


def _conv_options(o: _Table, depthwise: bool):
    # Conv2DOptions: padding 4, stride_w 6, stride_h 8, fused_activation 10,
    # dilation_w 12, dilation_h 14. DepthwiseConv2DOptions puts
    # depth_multiplier at 10 and shifts the next three by one slot.
    shift = 2 if depthwise else 0
    padding = _padding(o.scalar(4, _I8, 0))
    stride_h, stride_w = o.scalar(8, _I32, 0), o.scalar(6, _I32, 0)
    dilation_h, dilation_w = o.scalar(14 + shift, _I32, 1), o.scalar(12 + shift, _I32, 1)
    activation = _activation(o.scalar(10 + shift, _I8, 0))
    if not depthwise:
        return ir.Conv2DOptions(padding, stride_h, stride_w, dilation_h, dilation_w, activation)
    return ir.DepthwiseConv2DOptions(padding, stride_h, stride_w, dilation_h, dilation_w,
                                     activation, o.scalar(10, _I32, 0))


def _pool_options(o: _Table):
    # padding 4, stride_w 6, stride_h 8, filter_width 10, filter_height 12, activation 14
    padding = _padding(o.scalar(4, _I8, 0))
    return ir.Pool2DOptions(padding, o.scalar(8, _I32, 0), o.scalar(6, _I32, 0),
                            o.scalar(12, _I32, 0), o.scalar(10, _I32, 0),
                            _activation(o.scalar(14, _I8, 0)))


def _fully_connected_options(o: _Table):
    # fused_activation 4, weights_format 6, keep_num_dims 8
    if o.scalar(6, _I8, 0) != 0:
        raise TinygenError("FULLY_CONNECTED with shuffled weights is not supported: "
                           "convert with default weight format")
    return ir.FullyConnectedOptions(_activation(o.scalar(4, _I8, 0)),
                                    bool(o.scalar(8, _BOOL, False)))


def _transpose_conv_options(o: _Table):
    # padding 4, stride_w 6, stride_h 8, fused_activation 10
    padding = _padding(o.scalar(4, _I8, 0))
    return ir.TransposeConvOptions(padding, o.scalar(8, _I32, 0), o.scalar(6, _I32, 0),
                                   _activation(o.scalar(10, _I8, 0)))


_OPTIONS_READERS = {
    "CONV_2D": lambda o: _conv_options(o, False),
    "DEPTHWISE_CONV_2D": lambda o: _conv_options(o, True),
    "AVERAGE_POOL_2D": _pool_options,
    "MAX_POOL_2D": _pool_options,
    "FULLY_CONNECTED": _fully_connected_options,
    # Add, Mul and SubOptions: fused_activation 4.
    "ADD": lambda o: ir.AddOptions(_activation(o.scalar(4, _I8, 0))),
    "MUL": lambda o: ir.AddOptions(_activation(o.scalar(4, _I8, 0))),
    "SUB": lambda o: ir.AddOptions(_activation(o.scalar(4, _I8, 0))),
    "SOFTMAX": lambda o: ir.SoftmaxOptions(float(o.scalar(4, _F32, 0.0))),
    # begin_mask 4, end_mask 6, ellipsis_mask 8, new_axis_mask 10,
    # shrink_axis_mask 12, offset 14
    "STRIDED_SLICE": lambda o: ir.StridedSliceOptions(
        *(o.scalar(slot, _I32, 0) for slot in (4, 6, 8, 10, 12)),
        bool(o.scalar(14, _BOOL, False))),
    # values_count 4, axis 6
    "PACK": lambda o: ir.PackOptions(o.scalar(6, _I32, 0), o.scalar(4, _I32, 0)),
    # axis 4, fused_activation 6
    "CONCATENATION": lambda o: ir.ConcatenationOptions(o.scalar(4, _I32, 0),
                                                       _activation(o.scalar(6, _I8, 0))),
    "LEAKY_RELU": lambda o: ir.LeakyReluOptions(float(o.scalar(4, _F32, 0.0))),
    "TRANSPOSE_CONV": _transpose_conv_options,
    # ResizeBilinearOptions: align_corners 8, half_pixel_centers 10 (4 and 6
    # are deprecated); ResizeNearestNeighborOptions: 4 and 6.
    "RESIZE_BILINEAR": lambda o: ir.ResizeOptions(bool(o.scalar(8, _BOOL, False)),
                                                  bool(o.scalar(10, _BOOL, False))),
    "RESIZE_NEAREST_NEIGHBOR": lambda o: ir.ResizeOptions(bool(o.scalar(4, _BOOL, False)),
                                                          bool(o.scalar(6, _BOOL, False))),
}


def _options(kind: str, op: _Table) -> ir.OperatorOptions:
    table = op.table(_OP_OPTIONS)
    # Options of another kind are another table: reading them as this kind's
    # would give garbage, so they count as missing (validate refuses them).
    if table is None or op.scalar(_OP_OPTIONS_TYPE, _U8, 0) != _OPTIONS_TYPES.get(kind):
        return ir.NoOptions()
    return _OPTIONS_READERS[kind](table)


def _tensor(buffers: _Tables, index: int, t: _Table) -> ir.Tensor:
    code = t.scalar(_TENSOR_TYPE, _I8, 0)
    dtype = _TENSOR_TYPES.get(code, f"type{code}")
    shape = t.ints(_TENSOR_SHAPE)
    signature = t.ints(_TENSOR_SHAPE_SIGNATURE)
    raw_name = t.string(_TENSOR_NAME)
    name = printable(raw_name.decode("utf-8", "replace")) if raw_name else f"t{index}"
    if len(shape) > MAX_RANK or len(signature) > MAX_RANK:
        raise TinygenError(f"tensor '{name}' has rank {max(len(shape), len(signature))}, more "
                           f"than {MAX_RANK}: the .tflite file is corrupt; re-export it")
    if any(d < 0 for d in shape) or any(d < 0 for d in signature[1:]):
        raise TinygenError(
            f"tensor '{name}' has a dynamic shape {signature or shape}: tinygen needs every "
            "dimension except the batch known at build time; export the model with fixed shapes")
    quant = None
    q = t.table(_TENSOR_QUANTIZATION)
    if q is not None and q.vector(_QUANT_SCALE)[1] > 0:
        scales = q.array(_QUANT_SCALE, "<f4")
        zps = q.array(_QUANT_ZERO_POINT, "<i8")
        if len(zps) == 0:        # TFLM reads the first one anyway
            raise TinygenError(f"tensor '{name}' has {len(scales)} scales and no zero points: "
                               "the .tflite file is corrupt; re-export it")
        quant = ir.Quantization(scales, zps, q.scalar(_QUANT_DIMENSION, _I32, 0))
    data = None
    buffer = t.scalar(_TENSOR_BUFFER, _U32, 0)
    if not buffer < len(buffers):
        raise TinygenError(f"tensor '{name}' refers to buffer {buffer} of "
                           f"{len(buffers)}: the .tflite file is corrupt; re-export it")
    start, size = buffers[buffer].vector(_BUFFER_DATA)
    if size > 0:
        if code not in _DTYPES:
            raise TinygenError(f"tensor '{name}' has unsupported type code {code}")
        # A size not a whole number of values, or past the file's end, is a
        # ValueError: read_tflite calls the file corrupt.
        arr = np.frombuffer(t.buf, dtype=np.uint8, count=size, offset=start).view(
            _DTYPES[code].newbyteorder("<"))
        count = math.prod(shape)
        if arr.size != count:
            raise TinygenError(
                f"tensor '{name}' holds {arr.size} values for shape {shape}: "
                "the .tflite file is corrupt or truncated; re-export it")
        data = arr.reshape(shape).astype(_DTYPES[code])
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
    try:
        fb = _Table(raw, _U32(raw, 0)[0])
        subgraphs = fb.tables(_MODEL_SUBGRAPHS)
        if len(subgraphs) != 1:
            raise TinygenError(
                f"{name} has {len(subgraphs)} subgraphs: tinygen compiles "
                "single-subgraph models only; remove control flow (while/if) from the model")
        sg = subgraphs[0]
        buffers = fb.tables(_MODEL_BUFFERS)
        tensors = [_tensor(buffers, i, t) for i, t in enumerate(sg.tables(_SUBGRAPH_TENSORS))]
        codes = fb.tables(_MODEL_OPERATOR_CODES)
        ops = []
        for i, op in enumerate(sg.tables(_SUBGRAPH_OPERATORS)):
            opcode = op.scalar(_OP_OPCODE_INDEX, _U32, 0)
            if not opcode < len(codes):
                raise TinygenError(f"operator {i} has operator code {opcode} of "
                                   f"{len(codes)}: the .tflite file is corrupt; "
                                   "re-export it")
            oc = codes[opcode]
            deprecated = oc.scalar(_OPCODE_DEPRECATED_BUILTIN, _I8, 0)
            code = oc.scalar(_OPCODE_BUILTIN, _I32, 0)
            if code < _PLACEHOLDER_FOR_GREATER_OP_CODES:
                code = deprecated
            code = max(code, deprecated)
            kind = _BUILTIN_NAMES.get(code, f"BUILTIN_{code}")
            if kind == "CUSTOM":
                custom = oc.string(_OPCODE_CUSTOM)
                kind = "CUSTOM:" + (printable(custom.decode("utf-8", "replace"), 40)
                                    if custom else "?")
            opts = _options(kind, op)
            ops.append(ir.Operator(i, kind, list(op.ints(_OP_INPUTS)),
                                   list(op.ints(_OP_OUTPUTS)), opts))
        inputs = list(sg.ints(_SUBGRAPH_INPUTS))
        outputs = list(sg.ints(_SUBGRAPH_OUTPUTS))
        description = fb.string(_MODEL_DESCRIPTION)
        desc = printable(description.decode("utf-8", "replace"), 200) if description else ""
    except TinygenError:
        raise
    except Exception as exc:  # an offset or a length past the end of the file
        what = "bad offset" if isinstance(exc, (struct.error, _Corrupt)) else type(exc).__name__
        raise TinygenError(f"{shown} is truncated or corrupt ({what}): "
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
