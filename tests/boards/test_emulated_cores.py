"""Every Cortex-M core as an emulated board: M7 (mps2_an500), M33
(mps2_an505, its own memory map) and M55 with Helium (mps3_an547), each
built with the real cross compiler, booted in the real QEMU and checked
with `tinygen verify --quick` (handshake, protocol conformance, golden
outputs bit-exact with the TFLM oracle, latency).

CI runs ad01 on each core and ic02 (76 M MACs) bit-exact on the M33 and
M55; the full matrix, every bench on every new core, is marked slow:
    pytest -m slow tests/boards/test_emulated_cores.py
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from tinygen.benches import BENCHMARKS, INPUT_FLOAT32_QUANTIZE, get_bench
from tinygen.boards import load_board
from tinygen.cli import main
from tinygen.device.launch import start_dut
from tinygen.device.session import DutSession
from tinygen.paths import models_dir
from tinygen.port.build import build_firmware
from tinygen.runner.oracle import Oracle, compare

NEW_CORES = ["mps2_an500", "mps2_an505", "mps3_an547"]
# Emulated time runs several times slower than real time under QEMU icount:
# --quick windows cut to 0.05 s of DUT time keep the latency check short.
QUICK = ["--quick", "--min-seconds", "0.05", "--golden", "2"]
COMMAND_TIMEOUT_S = 120.0

pytestmark = pytest.mark.skipif(
    shutil.which("arm-none-eabi-gcc") is None or shutil.which("qemu-system-arm") is None,
    reason="needs arm-none-eabi-gcc and qemu-system-arm")


def verify(board: str, bench: str, tmp_path: Path, capsys) -> tuple[int, str, dict]:
    out = tmp_path / "session"
    rc = main(["verify", "--board", board, "--bench", bench, "--build", str(tmp_path / "build"),
               "--out", str(out), "--timeout", "60", *QUICK])
    printed = capsys.readouterr().out
    results = json.loads((out / "results.json").read_text()) if (out / "results.json").is_file() else {}
    return rc, printed, results


def assert_verified(rc: int, printed: str, results: dict) -> None:
    assert rc == 0, printed
    for name in ("handshake", "protocol conformance", "golden outputs", "latency"):
        assert f"PASS  {name}" in printed, printed
    assert results["status"] == "passed" and all(g["match"] for g in results["golden"])
    # Emulated latency says it is virtual time, next to the estimated real-board time.
    assert "of emulated virtual time" in printed and "real-board estimate" in printed


@pytest.mark.parametrize("board", NEW_CORES)
def test_new_core_passes_verify_quick(board, tmp_path, capsys):
    assert_verified(*verify(board, "ad", tmp_path, capsys))


def test_boards_say_what_core_and_extensions_they_are():
    m7, m33, m55 = (load_board(n) for n in NEW_CORES)
    assert (m7.cpu, m7.fpu, m7.clock_hz) == ("cortex-m7", "fpv5-d16", 25_000_000)
    assert (m33.cpu, m33.fpu, m33.clock_hz) == ("cortex-m33", "fpv5-sp-d16", 20_000_000)
    assert (m55.cpu, m55.mve, m55.dsp, m55.clock_hz) == ("cortex-m55", True, True, 32_000_000)
    assert not m7.mve and not m33.mve
    # AN505 and AN547 boot Secure: their own memory map, not AN386's.
    assert m33.regions("flash")[0].base == 0x10000000 and m33.console.base == 0x50200000
    assert m55.regions("flash")[0].base == 0x00000000 and m55.console.base == 0x59303000


def stimulus(oracle: Oracle, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    bench = oracle.bench
    if bench.input_format == INPUT_FLOAT32_QUANTIZE:
        low, high = oracle.input_float_range
        return rng.uniform(low, high, bench.input_elements).astype("<f4").tobytes()
    return rng.integers(0, 256, bench.input_bytes, dtype=np.uint8).tobytes()


@pytest.mark.parametrize("board_name", ["mps2_an505", "mps3_an547"])
def test_ic2_runs_bit_exact_on_an_emulated_core(board_name, tmp_path):
    bench = get_bench("ic2")
    model = models_dir() / "ic02.tflite"
    build_firmware(board_name, bench, model_path=model, out_dir=tmp_path, jobs=2)
    oracle = Oracle(model, bench)
    data = stimulus(oracle, seed=12)
    with start_dut(load_board(board_name), tmp_path) as dut, \
            DutSession(dut.url, timeout=COMMAND_TIMEOUT_S) as dut_io:
        dut_io.wait_ready(timeout=COMMAND_TIMEOUT_S)
        assert dut_io.profile()[1] == "ic02"
        dut_io.load(data)
        result = dut_io.infer(1, 0)
    problem = compare(oracle, data, result.lines, result.values)
    assert problem is None, problem


@pytest.mark.slow
@pytest.mark.parametrize("bench", [b.short for b in BENCHMARKS])
@pytest.mark.parametrize("board", NEW_CORES)
def test_every_bench_passes_verify_quick_on_every_new_core(board, bench, tmp_path, capsys):
    assert_verified(*verify(board, bench, tmp_path, capsys))
