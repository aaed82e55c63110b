"""The TFLM oracle: what the DUT must print for a stimulus.

The host-side TensorFlow Lite Micro interpreter (PyPI ``tflite-micro``) runs
the same model on the same input, after the same byte conversion the DUT
does in ``th_load_tensor`` (facts section 2). From its output we derive the
values ``th_results`` prints (facts section 3): the dequantized
probabilities, or for ad01 the MSE between the dequantized output and the
float input.

The interpreter runs in a worker process (tinygen/runner/tflm_worker.py),
one per oracle: a model TFLM crashes on (SIGSEGV, SIGABRT) gives a named
error instead of ending verify with no message.
"""

from __future__ import annotations

import logging
import pickle
import re
import select
import signal
import subprocess
import sys
import tempfile
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
    scales, zps = details["scales"], details["zero_points"]
    return Quant(details["dtype"], float(scales[0]) if len(scales) else 0.0,
                 int(zps[0]) if len(zps) else 0)


# One inference of the largest benchmark model takes well under a second.
ORACLE_TIMEOUT_S = 120.0


class _Tflm:
    """The TFLM interpreter in a worker process (tinygen/runner/tflm_worker.py):
    one per oracle, started once, so a native crash inside TFLM ends the
    worker, not tinygen, and comes back as a TinygenError naming it."""

    def __init__(self, model_path: Path):
        self.model_path = model_path
        self._log = tempfile.TemporaryFile()
        self._proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("tflm_worker.py"))],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log)
        self.input, self.output = self._call(str(model_path), "loading")

    def invoke(self, tensor: np.ndarray) -> np.ndarray:
        return self._call(("invoke", tensor), "running")

    def _call(self, request, doing: str):
        if self._proc.poll() is not None:
            raise self._died(doing)
        try:
            pickle.dump(request, self._proc.stdin, protocol=pickle.HIGHEST_PROTOCOL)
            self._proc.stdin.flush()
            ready, _, _ = select.select([self._proc.stdout], [], [], ORACLE_TIMEOUT_S)
            if not ready:
                self.close()
                raise TinygenError(f"the TFLM oracle hung {doing} {self.model_path.name} "
                                   f"(no answer in {ORACLE_TIMEOUT_S:.0f} s); check the model "
                                   "with 'tinygen inspect'")
            status, value = pickle.load(self._proc.stdout)
        except (EOFError, BrokenPipeError, pickle.UnpicklingError, ValueError) as exc:
            raise self._died(doing) from exc
        if status != "ok":
            raise TinygenError(f"the TFLM oracle cannot {'load' if doing == 'loading' else 'run'} "
                               f"{self.model_path}: {value.splitlines()[0] if value else '?'}; "
                               "check that it is an int8 .tflite model")
        return value

    def _died(self, doing: str) -> TinygenError:
        try:
            code = self._proc.wait(10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            code = self._proc.wait()
        if code == 0:
            return TinygenError(f"the TFLM oracle for {self.model_path.name} was closed; "
                                "make a new Oracle")
        how = (signal.Signals(-code).name if code < 0 and -code in signal.valid_signals()
               else f"exit status {code}")
        self._log.seek(0)
        tail = [line for line in self._log.read()[-4000:].decode("utf-8", "replace")
                .splitlines() if line.strip()]
        last = f" (last words: {tail[-1][:160]})" if tail else ""
        return TinygenError(f"the TFLM oracle crashed with {how} {doing} {self.model_path.name}"
                            f"{last}: TFLM cannot run this model; check it with "
                            "'tinygen inspect'")

    def close(self) -> None:
        proc = getattr(self, "_proc", None)
        if proc is not None and proc.poll() is None:
            try:
                proc.stdin.close()
                proc.wait(5)
            except (OSError, subprocess.TimeoutExpired):
                proc.kill()
                proc.wait()

    def __del__(self):
        self.close()


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
        del runtime                  # it runs in the worker process
        self.model_path = Path(model_path)
        self.bench = bench
        self._tflm = _Tflm(self.model_path)
        self.input = _quant(self._tflm.input)
        self.output = _quant(self._tflm.output)

    def close(self) -> None:
        """Ends the worker process (it also ends when tinygen does)."""
        self._tflm.close()

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
        return np.asarray(self._tflm.invoke(self.input_tensor(data))).reshape(-1)

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
