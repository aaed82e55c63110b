"""What tinygen compiles, and one-line refusals for everything else."""

from __future__ import annotations

from tinygen.errors import TinygenError
from tinygen.ir import model as ir

SUPPORTED = (
    "CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "AVERAGE_POOL_2D",
    "MAX_POOL_2D", "ADD", "MUL", "RELU", "RELU6", "SOFTMAX", "MEAN", "CONCATENATION", "PAD", "PADV2", "RESHAPE",
    "QUANTIZE", "DEQUANTIZE",
)

# The fix for every "not an int8 model" refusal.
_FLOAT_HINT = ("convert it with full-integer quantization "
               "(Optimize.DEFAULT, a representative dataset, TFLITE_BUILTINS_INT8)")


def validate(m: ir.Model) -> None:
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
    for op in m.operators:
        tensors = [m.tensors[i] for i in op.inputs + op.outputs if i >= 0]
        if op.kind == "QUANTIZE":
            src, dst = m.tensors[op.inputs[0]], m.tensors[op.outputs[0]]
            if src.dtype != "float32" or dst.dtype != "int8" or src.index not in m.inputs:
                raise TinygenError(
                    f"QUANTIZE {src.dtype}->{dst.dtype} inside model {m.name}: tinygen only "
                    f"quantizes a float32 graph input; {_FLOAT_HINT}")
            continue
        if op.kind == "DEQUANTIZE":
            src, dst = m.tensors[op.inputs[0]], m.tensors[op.outputs[0]]
            if src.dtype != "int8" or dst.dtype != "float32" or dst.index not in m.outputs:
                raise TinygenError(
                    f"DEQUANTIZE {src.dtype}->{dst.dtype} inside model {m.name}: tinygen only "
                    f"dequantizes an int8 graph output; {_FLOAT_HINT}")
            continue
        for t in tensors:
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
        if op.kind in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
            w = m.tensors[op.inputs[1]]
            if not w.is_const:
                raise TinygenError(f"{op.kind} '{w.name}' has non-constant weights: "
                                   "tinygen needs weights known at build time")
            if len(op.inputs) > 2 and op.inputs[2] >= 0:
                b = m.tensors[op.inputs[2]]
                if b.dtype != "int32" or not b.is_const:
                    raise TinygenError(f"{op.kind} bias '{b.name}' must be a constant int32 "
                                       f"tensor; {_FLOAT_HINT}")
        if op.kind in ("CONV_2D", "DEPTHWISE_CONV_2D", "AVERAGE_POOL_2D", "MAX_POOL_2D"):
            if len(m.tensors[op.inputs[0]].shape) != 4:
                raise TinygenError(f"{op.kind} input must be 4-D NHWC")
        if op.kind in ("ADD", "MUL") and any(len(m.tensors[i].shape) > 4 for i in op.inputs):
            raise TinygenError(f"{op.kind} with more than 4 dimensions is not supported")
