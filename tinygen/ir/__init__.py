"""Stage 1: .tflite -> IR.

``load_model(path)`` reads an int8 TFLite model, folds build-time shape
arithmetic and checks that every operator is one tinygen compiles.
"""

from __future__ import annotations

from pathlib import Path

from tinygen.ir.fold import fold_constants
from tinygen.ir.model import (
    Model, Operator, Quantization, Tensor, ACT_NONE, ACT_RELU, ACT_RELU6,
    ACT_RELU_N1_TO_1, PAD_SAME, PAD_VALID,
)
from tinygen.ir.reader import read_tflite
from tinygen.ir.validate import (SUPPORTED, UNSUPPORTED_FIX, check_graph, float_islands,
                                  operator_support, validate)

__all__ = [
    "load_model", "read_folded", "operator_support", "float_islands", "UNSUPPORTED_FIX", "Model", "Operator", "Quantization", "Tensor", "SUPPORTED",
    "ACT_NONE", "ACT_RELU", "ACT_RELU6", "ACT_RELU_N1_TO_1", "PAD_SAME", "PAD_VALID",
]


def read_folded(path: Path) -> Model:
    """Parse and fold build-time shape arithmetic, without the operator checks."""
    model = read_tflite(Path(path))
    check_graph(model)            # folding relies on operands written before use
    return fold_constants(model)


def load_model(path: Path) -> Model:
    """Parse, fold and validate; raises TinygenError on anything unsupported."""
    model = read_folded(path)
    validate(model)
    return model
