"""The TFLM oracle: what the DUT must print for a stimulus.

The host-side TensorFlow Lite Micro interpreter (PyPI ``tflite-micro``) runs
the same model on the same input, after the same byte conversion the DUT
does in ``th_load_tensor`` (facts section 2). From its output we derive the
values ``th_results`` prints (facts section 3): the dequantized
probabilities, or for ad01 the MSE between the dequantized output and the
float input.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tinygen.benches import (
    INPUT_FLOAT32_QUANTIZE, INPUT_INT8, INPUT_UINT8_OFFSET, OUTPUT_MSE, Benchmark,
)
from tinygen.errors import TinygenError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Quant:
    dtype: type
    scale: float
    zero_point: int


def _quant(details: dict) -> Quant:
    q = details.get("quantization_parameters", {})
    scales = q.get("scales", [])
    zps = q.get("zero_points", [])
    return Quant(details["dtype"], float(scales[0]) if len(scales) else 0.0,
                 int(zps[0]) if len(zps) else 0)


def quantize_half_away(values: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """float32 -> int8 like TFLM's quantize: round(x / scale) half away from zero."""
    scaled = np.asarray(values, dtype=np.float32) / np.float32(scale)
    rounded = np.sign(scaled) * np.floor(np.abs(scaled) + np.float32(0.5))
    return np.clip(rounded.astype(np.int64) + zero_point, -128, 127).astype(np.int8)


class Oracle:
    """The TFLM interpreter for one model, answering in the DUT's terms."""

    def __init__(self, model_path: Path, bench: Benchmark):
        try:
            from tflite_micro.python.tflite_micro import runtime
        except ImportError as exc:
            raise TinygenError("the TFLM oracle is missing; install it with "
                               "'.venv/bin/pip install tflite-micro'") from exc
        self.model_path = Path(model_path)
        self.bench = bench
        try:
            self._it = runtime.Interpreter.from_file(str(self.model_path))
        except Exception as exc:  # the binding raises bare RuntimeError/ValueError
            raise TinygenError(f"the TFLM oracle cannot load {self.model_path}: {exc}; "
                               "check that it is an int8 .tflite model") from exc
        self.input = _quant(self._it.get_input_details(0))
        self.output = _quant(self._it.get_output_details(0))

    @property
    def input_float_range(self) -> tuple[float, float]:
        """Float values the int8 input can represent (for random ad01 stimuli)."""
        if self.input.dtype == np.float32 or not self.input.scale:
            return (-4.0, 4.0)
        return ((-128 - self.input.zero_point) * self.input.scale,
                (127 - self.input.zero_point) * self.input.scale)

    def input_tensor(self, data: bytes) -> np.ndarray:
        """The conversion th_load_tensor does, into the model's input tensor."""
        fmt = self.bench.input_format
        if len(data) != self.bench.input_bytes:
            raise TinygenError(f"a {self.bench.id} stimulus has {self.bench.input_bytes} bytes, "
                               f"got {len(data)}")
        raw = np.frombuffer(data, dtype=np.uint8)
        if fmt == INPUT_INT8:
            tensor = raw.view(np.int8)
        elif fmt == INPUT_UINT8_OFFSET:
            tensor = (raw.astype(np.int16) - 128).astype(np.int8)
        elif fmt == INPUT_FLOAT32_QUANTIZE:
            floats = np.frombuffer(data, dtype="<f4")
            if self.input.dtype == np.float32:
                tensor = floats.astype(np.float32)
            else:
                tensor = quantize_half_away(floats, self.input.scale, self.input.zero_point)
        else:
            raise TinygenError(f"unknown input format {fmt!r}")
        if tensor.dtype != self.input.dtype:
            tensor = tensor.astype(self.input.dtype)
        return tensor.reshape(self.bench.input_shape)

    def raw_output(self, data: bytes) -> np.ndarray:
        self._it.set_input(self.input_tensor(data), 0)
        self._it.invoke()
        return np.array(self._it.get_output(0)).reshape(-1)

    def dequantized(self, out: np.ndarray) -> np.ndarray:
        if self.output.dtype == np.float32:
            return out.astype(np.float64)
        return (out.astype(np.float64) - self.output.zero_point) * self.output.scale

    def float32_mse(self, data: bytes, out: np.ndarray) -> float:
        """The ad01 score computed as the DUT does it: float32, summed in order."""
        x = np.frombuffer(data, dtype="<f4")
        if self.output.dtype == np.float32:
            deq = out.astype(np.float32)
        else:
            deq = np.float32(self.output.scale) * (out.astype(np.int32) - self.output.zero_point).astype(np.float32)
        d = (deq - x).astype(np.float32)
        sq = d * d
        total = np.float32(0.0)
        for v in sq:
            total = np.float32(total + v)
        return float(np.float32(total / np.float32(len(sq))))

    def expected(self, data: bytes) -> list[float]:
        """The values th_results should print for this stimulus."""
        out = self.raw_output(data)
        if self.bench.output_format == OUTPUT_MSE:
            return [self.float32_mse(data, out)]
        return [float(v) for v in self.dequantized(out)]


def printed_values(lines: list[str]) -> list[str]:
    """The raw number texts of the results line (to know the print precision)."""
    for line in lines:
        m = re.match(r"^m-results-\[(.*)\]$", line)
        if m:
            return [t.strip() for t in m.group(1).split(",")]
    return []


def decimals(text: str) -> int:
    """Digits after the decimal point in a printed number (mantissa only)."""
    mantissa = re.split(r"[eE]", text)[0]
    return len(mantissa.split(".")[1]) if "." in mantissa else 0


def compare(oracle: Oracle, data: bytes, lines: list[str], values: list[float]) -> str | None:
    """None if the DUT's printed results match the oracle bit for bit, else why not."""
    texts = printed_values(lines)
    out = oracle.raw_output(data)
    if oracle.bench.output_format == OUTPUT_MSE:
        want = oracle.float32_mse(data, out)
        if len(values) != 1:
            return f"expected one score, got {len(values)} values"
        got = values[0]
        digits = decimals(texts[0]) if texts else 6
        # The same float32 arithmetic as the DUT; allow print precision and
        # a few ulps for a compiler that fuses multiply-adds. One int8 step
        # off in one output moves the score by far more than this.
        tolerance = 0.5 * 10.0 ** -digits + 1e-6 * abs(want)
        if abs(got - want) > tolerance + 1e-12:
            return f"score {got!r} != oracle {want:.{digits + 2}f} (tolerance {tolerance:.2g})"
        return None
    if len(values) != out.size:
        return f"expected {out.size} values, got {len(values)}"
    if oracle.output.dtype == np.float32:
        for i, (got, want) in enumerate(zip(values, out)):
            digits = decimals(texts[i]) if i < len(texts) else 6
            if abs(got - float(want)) > 0.5 * 10.0 ** -digits + 1e-6 * abs(float(want)):
                return f"output {i}: {got} != oracle {float(want)}"
        return None
    scale, zp = oracle.output.scale, oracle.output.zero_point
    for i, (got, want) in enumerate(zip(values, out)):
        q = got / scale + zp
        recovered = int(np.round(q))
        if abs(q - recovered) > 0.25:
            return (f"output {i}: printed {got} is not close to a quantized value "
                    f"(scale {scale:g}, zero point {zp}); print more digits")
        if recovered != int(want):
            return f"output {i}: DUT int8 {recovered} != oracle {int(want)} (printed {got})"
    return None
