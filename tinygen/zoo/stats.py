"""Parameters, MACs and operators of a ``.tflite`` model, without TensorFlow.

Reads the flatbuffer with the pure-Python ``tflite`` package. Parameters are
the elements of the weight and bias tensors of the convolution and
fully-connected operators (what papers count once batch norm is folded);
MACs are the multiply-accumulates those operators perform per inference.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import prod
from pathlib import Path
from types import MappingProxyType

import tflite

from tinygen.errors import TinygenError

_OPCODE_NAMES = MappingProxyType(
    {v: k for k, v in vars(tflite.BuiltinOperator).items() if not k.startswith("_")})


@dataclass(frozen=True)
class ModelStats:
    params: int
    macs: int
    ops: tuple[str, ...]            # operator names in execution order
    input_shapes: tuple[tuple[int, ...], ...]
    input_dtypes: tuple[str, ...]
    output_shapes: tuple[tuple[int, ...], ...]
    output_dtypes: tuple[str, ...]
    description: str
    op_counts: dict[str, int] = field(default_factory=dict)


def _dtype_name(code: int) -> str:
    for name, value in vars(tflite.TensorType).items():
        if value == code and not name.startswith("_"):
            return name.lower()
    return str(code)


def _op_name(model: tflite.Model, opcode_index: int) -> str:
    opcode = model.OperatorCodes(opcode_index)
    # Newer schemas keep builtin codes above 127 in BuiltinCode only.
    code = max(opcode.BuiltinCode(), opcode.DeprecatedBuiltinCode())
    return _OPCODE_NAMES.get(code, f"OP_{code}")


def _shape(tensor: tflite.Tensor) -> tuple[int, ...]:
    return tuple(int(d) for d in tensor.ShapeAsNumpy()) if tensor.ShapeLength() else ()


def model_stats(data: bytes) -> ModelStats:
    """Parse a ``.tflite`` flatbuffer and count its parameters and MACs."""
    try:
        model = tflite.Model.GetRootAsModel(data, 0)
        graph = model.Subgraphs(0)
    except Exception as exc:  # the flatbuffer reader raises bare errors on junk
        raise TinygenError(f"not a readable .tflite model ({exc}); check the file") from None
    if graph is None:
        raise TinygenError("the .tflite model has no subgraph; check the file")

    def tensor(index: int) -> tflite.Tensor:
        return graph.Tensors(index)

    params = 0
    macs = 0
    ops: list[str] = []
    for i in range(graph.OperatorsLength()):
        op = graph.Operators(i)
        name = _op_name(model, op.OpcodeIndex())
        ops.append(name)
        inputs = [int(t) for t in op.InputsAsNumpy()] if op.InputsLength() else []
        outputs = [int(t) for t in op.OutputsAsNumpy()] if op.OutputsLength() else []
        if name not in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
            continue
        weights = _shape(tensor(inputs[1]))
        params += prod(weights)
        if len(inputs) > 2 and inputs[2] >= 0:
            params += prod(_shape(tensor(inputs[2])))
        out = _shape(tensor(outputs[0]))
        if name == "CONV_2D":
            # weights [out_c, kh, kw, in_c]; output [n, h, w, out_c]
            macs += prod(out) * prod(weights[1:])
        elif name == "DEPTHWISE_CONV_2D":
            # weights [1, kh, kw, out_c]: one kh*kw window per output element
            macs += prod(out) * weights[1] * weights[2]
        else:
            # weights [units, depth]
            macs += prod(out) * weights[-1]

    def io(indices: list[int]) -> tuple[tuple[tuple[int, ...], ...], tuple[str, ...]]:
        ts = [tensor(j) for j in indices]
        return tuple(_shape(t) for t in ts), tuple(_dtype_name(t.Type()) for t in ts)

    in_shapes, in_dtypes = io([int(t) for t in graph.InputsAsNumpy()])
    out_shapes, out_dtypes = io([int(t) for t in graph.OutputsAsNumpy()])
    counts: dict[str, int] = {}
    for name in ops:
        counts[name] = counts.get(name, 0) + 1
    description = (model.Description() or b"").decode("utf-8", "replace")
    return ModelStats(params, macs, tuple(ops), in_shapes, in_dtypes,
                      out_shapes, out_dtypes, description, counts)


def model_stats_file(path: Path) -> ModelStats:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise TinygenError(f"cannot read model {path}: {exc.strerror}") from None
    return model_stats(data)
