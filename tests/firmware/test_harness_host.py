"""The benchmark harness end to end on the host board, over its pty.

Each benchmark's firmware is built for the host (real cc, real generated
port, real compiled model) and started as a native process; the tests speak
the MLPerf Tiny protocol to it with pyserial and compare its results with
the TFLM oracle run on the same .tflite and the same input bytes.
"""

from __future__ import annotations

import re
import select
import subprocess
from pathlib import Path

import numpy as np
import pytest
import serial

from tinygen.benches import BENCHMARKS, INPUT_FLOAT32_QUANTIZE, INPUT_UINT8_OFFSET, get_bench
from tinygen.paths import models_dir
from tinygen.port.build import build_firmware

from raw_dut import LineIO

REFERENCE = Path("/work/shared/reference-models")
REFERENCE_FILES = {"ic01": "ic01_resnet8_int8.tflite", "ad01": "ad01_fc_autoencoder_int8.tflite"}
LINE_TIMEOUT_S = 20.0


# ---------------------------------------------------------------- helpers

def model_for(bench_id: str, tmp_dir: Path) -> Path:
    """The committed model, else an untrained one built by tinygen.zoo."""
    committed = models_dir() / f"{bench_id}.tflite"
    if committed.is_file():
        return committed
    built = tmp_dir / f"{bench_id}.tflite"
    if not built.is_file():
        from tinygen.zoo.builders import build_model
        built.write_bytes(build_model(bench_id))
    return built


class HostDut(LineIO):
    """The host firmware as a process, and raw protocol I/O on its pty."""

    line_timeout = LINE_TIMEOUT_S

    def __init__(self, executable: Path):
        self.proc = subprocess.Popen([str(executable)], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        ready, _, _ = select.select([self.proc.stdout], [], [], LINE_TIMEOUT_S)
        assert ready, "the host firmware printed no TG_PTY line"
        first = self.proc.stdout.readline().decode().strip()
        assert first.startswith("TG_PTY=/dev/"), first
        self.pty = first.split("=", 1)[1]
        self.port = serial.serial_for_url(self.pty, timeout=0.2)
        self.pending = b""

    def close(self) -> None:
        self.port.close()
        self.proc.kill()
        self.proc.wait(timeout=10)

    def check_alive(self) -> None:
        assert self.proc.poll() is None, f"firmware exited with {self.proc.returncode}"


def input_bytes(bench, rng: np.random.Generator, scale: float, zero_point: int) -> tuple[bytes, np.ndarray]:
    """Random host bytes for the bench and the int8 tensor the DUT must make."""
    n = bench.input_elements
    if bench.input_format == INPUT_FLOAT32_QUANTIZE:
        # Values spread over the input's quantized range and beyond (clamp).
        lo, hi = (-128 - zero_point) * scale, (127 - zero_point) * scale
        x = rng.uniform(lo - 0.1 * (hi - lo), hi + 0.1 * (hi - lo), n).astype("<f4")
        x[:4] = [(q - zero_point) * scale + s * 0.5 * scale for q, s in ((3, 1), (3, -1), (-7, 1), (-7, -1))]
        q = np.float32(x) / np.float32(scale)
        q = np.sign(q) * np.floor(np.abs(q).astype(np.float64) + 0.5)   # half away from zero
        tensor = np.clip(q + zero_point, -128, 127).astype(np.int8)
        return x.tobytes(), tensor
    raw = rng.integers(0, 256, n, dtype=np.uint8)
    if bench.input_format == INPUT_UINT8_OFFSET:
        return raw.tobytes(), (raw.astype(np.int16) - 128).astype(np.int8)
    return raw.tobytes(), raw.view(np.int8)


def oracle(model_path: Path, tensor: np.ndarray):
    from tflite_micro.python.tflite_micro import runtime
    it = runtime.Interpreter.from_file(str(model_path))
    shape = it.get_input_details(0)["shape"]
    it.set_input(tensor.reshape(shape), 0)
    it.invoke()
    return it.get_output(0).reshape(-1), it


def parse_results(line: str) -> list[float]:
    m = re.fullmatch(r"m-results-\[(.*)\]", line)
    assert m, line
    return [float(v) for v in m.group(1).split(",")]


# ---------------------------------------------------------------- fixtures

@pytest.fixture(scope="module", params=[b.id for b in BENCHMARKS])
def built(request, tmp_path_factory):
    bench = get_bench(request.param)
    tmp = tmp_path_factory.mktemp(f"host-{bench.id}")
    model = model_for(bench.id, tmp_path_factory.getbasetemp())
    result = build_firmware("host", bench, model_path=model, out_dir=tmp / "build")
    return bench, model, result


@pytest.fixture(scope="module")
def dut(built):
    bench, model, result = built
    d = HostDut(result.executable)
    d.banner = [d.line(), d.line(), d.line()]
    yield d
    d.close()


# ---------------------------------------------------------------- per bench

def test_boot_banner_then_name_and_profile_identify_the_port(built, dut):
    bench, _, _ = built
    assert dut.banner == ["m-timestamp-mode-performance", "m-init-done", "m-ready"]
    assert dut.command("name") == ["m-name-dut-[tinygen host]", "m-ready"]
    profile = dut.command("profile")
    assert re.fullmatch(r"m-profile-\[tinygen \d+\.\d+\.\d+ host performance\]", profile[0])
    assert profile[1:] == [f"m-model-[{bench.id}]", "m-ready"]


def test_db_load_then_print_returns_the_bytes_eight_per_line(built, dut):
    bench, _, _ = built
    data = np.random.default_rng(7).integers(0, 256, bench.input_bytes, dtype=np.uint8).tobytes()
    lines = dut.load(data)
    assert lines.count("m-load-done") == 1 and lines[-2:] == ["m-load-done", "m-ready"]
    assert not [l for l in lines if l.startswith("e-")]
    dump = dut.command("db print", timeout=60)
    assert dump[-1] == "m-ready"
    rows = dump[:-1]
    assert len(rows) == (len(data) + 7) // 8
    got = b""
    for row in rows:
        assert row.startswith("m-buffer-")
        fields = row[len("m-buffer-"):].split("-")
        assert 1 <= len(fields) <= 8 and all(len(f) == 2 for f in fields)
        got += bytes(int(f, 16) for f in fields)
    assert got == data


@pytest.mark.parametrize("seed", [1, 2])
def test_infer_results_equal_the_tflm_oracle(built, dut, seed):
    bench, model, result = built
    macros = result.port.model_macros
    in_scale = float(macros["TG_MODEL_INPUT_SCALE"].rstrip("f"))
    in_zp = int(macros["TG_MODEL_INPUT_ZERO_POINT"])
    data, tensor = input_bytes(bench, np.random.default_rng(seed), in_scale, in_zp)
    assert dut.load(data)[-2:] == ["m-load-done", "m-ready"]
    lines = dut.command("infer 1 0", timeout=60)
    assert lines[0] == "m-infer-start-1"
    laps = [int(l[len("m-lap-us-"):]) for l in lines if l.startswith("m-lap-us-")]
    assert len(laps) == 2 and laps[0] <= laps[1]
    assert lines[-3] == "m-infer-done" and lines[-1] == "m-ready"
    values = parse_results(lines[-2])

    expected, it = oracle(model, tensor)
    out = it.get_output_details(0)
    scale, zp = float(out["quantization_parameters"]["scales"][0]), int(out["quantization_parameters"]["zero_points"][0])
    if bench.input_format == INPUT_FLOAT32_QUANTIZE:
        x = np.frombuffer(data, "<f4").astype(np.float64)
        mse = float(np.mean((scale * (expected.astype(np.float64) - zp) - x) ** 2))
        assert len(values) == 1
        assert values[0] == pytest.approx(mse, rel=1e-4, abs=1e-6)
    else:
        recovered = np.round(np.array(values) / scale).astype(int) + zp
        assert recovered.tolist() == expected.astype(int).tolist()
    # `results` repeats the last inference's line.
    assert dut.command("results") == [lines[-2], "m-ready"]


def test_infer_without_w_runs_ten_warmups(built, dut):
    lines = dut.command("infer 1", timeout=120)
    assert lines[:2] == ["m-warmup-start-10", "m-warmup-done"]
    assert lines[2] == "m-infer-start-1"


def test_timestamp_command_prints_one_increasing_lap(dut):
    first = dut.command("timestamp")
    second = dut.command("timestamp")
    assert re.fullmatch(r"m-lap-us-\d+", first[0]) and first[1:] == ["m-ready"]
    assert int(second[0][9:]) >= int(first[0][9:])


def test_runner_client_drives_the_host_firmware_through_start_dut(built):
    """The runner's path: start_dut + DutSession, errors raised as DutError."""
    from tinygen.boards import load_board
    from tinygen.device.launch import start_dut
    from tinygen.device.session import DutError, DutSession

    bench, model, result = built
    with start_dut(load_board("host"), result.build_dir) as running:
        with DutSession(running.url, timeout=60) as session:
            session.wait_ready()
            assert session.profile() == (f"tinygen {__import__('tinygen').__version__} host performance",
                                         bench.id)
            macros = result.port.model_macros
            data, tensor = input_bytes(bench, np.random.default_rng(11),
                                       float(macros["TG_MODEL_INPUT_SCALE"].rstrip("f")),
                                       int(macros["TG_MODEL_INPUT_ZERO_POINT"]))
            session.load(data)
            outcome = session.infer(2, 1)
            assert outcome.count == 2 and outcome.elapsed_us is not None and outcome.elapsed_us >= 0
            expected, it = oracle(model, tensor)
            q = it.get_output_details(0)["quantization_parameters"]
            scale, zp = float(q["scales"][0]), int(q["zero_points"][0])
            if len(outcome.values) == len(expected):
                assert (np.round(np.array(outcome.values) / scale).astype(int) + zp).tolist() == expected.tolist()
            else:
                x = np.frombuffer(data, "<f4").astype(np.float64)
                mse = float(np.mean((scale * (expected.astype(np.float64) - zp) - x) ** 2))
                assert outcome.values == [pytest.approx(mse, rel=1e-4, abs=1e-6)]
            with pytest.raises(DutError):
                session.command("infer 0")
            assert session.name() == "tinygen host"
