"""Every benchmark's real firmware (generated port, compiled model, harness,
platform code) on the emulated boards, over QEMU's serial port with the
MLPerf Tiny protocol: boot banner, name, profile and model id, a db load,
`infer 1 0`, and results equal to the TFLM oracle run on the same bytes.
A few bad inputs must get an e-[...] line and leave the DUT answering.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from tinygen.benches import BENCHMARKS, INPUT_FLOAT32_QUANTIZE
from tinygen.boards import load_board
from tinygen.device.launch import start_dut
from tinygen.device.session import DutError, DutSession
from tinygen.paths import models_dir
from tinygen.port.build import build_firmware
from tinygen.runner.oracle import Oracle, compare

EMULATED = ["disco_l475vg_iot01a", "mps2_an386"]
COMMAND_TIMEOUT_S = 60.0

pytestmark = pytest.mark.skipif(
    shutil.which("arm-none-eabi-gcc") is None or shutil.which("qemu-system-arm") is None,
    reason="needs arm-none-eabi-gcc and qemu-system-arm")


def stimulus(oracle: Oracle, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    bench = oracle.bench
    if bench.input_format == INPUT_FLOAT32_QUANTIZE:
        low, high = oracle.input_float_range
        return rng.uniform(low, high, bench.input_elements).astype("<f4").tobytes()
    return rng.integers(0, 256, bench.input_bytes, dtype=np.uint8).tobytes()


def model_path(bench) -> str:
    path = models_dir() / f"{bench.id}.tflite"
    if not path.is_file():
        pytest.skip(f"committed model {path} is missing")
    return path


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    """(board, bench id) -> build folder, built once per module."""
    made = {}

    def get(board_name: str, bench):
        key = (board_name, bench.id)
        if key not in made:
            out = tmp_path_factory.mktemp(f"{board_name}-{bench.id}")
            build_firmware(board_name, bench, model_path=model_path(bench), out_dir=out)
            made[key] = out
        return made[key]

    return get


@pytest.mark.parametrize("bench", BENCHMARKS, ids=[b.id for b in BENCHMARKS])
@pytest.mark.parametrize("board_name", EMULATED)
def test_bench_runs_on_emulated_board_and_matches_tflm(board_name, bench, builds):
    board = load_board(board_name)
    if bench.id == "ic02" and board.ram_bytes < 160 * 1024:
        pytest.skip(f"ic02 (76 M MACs, 87 KB arena) is left to tests/boards, which runs it on "
                    f"the emulated cores; {board_name} has {board.ram_bytes // 1024} KB of RAM")
    build_dir = builds(board_name, bench)
    oracle = Oracle(model_path(bench), bench)
    data = stimulus(oracle, seed=len(bench.id) + len(board_name))
    with start_dut(board, build_dir) as dut, DutSession(dut.url, timeout=COMMAND_TIMEOUT_S) as dut_io:
        banner = dut_io.wait_ready(timeout=COMMAND_TIMEOUT_S)
        assert "m-timestamp-mode-performance" in banner
        assert "m-init-done" in banner
        assert board.name in dut_io.name()
        _, model_id = dut_io.profile()
        assert model_id == bench.id
        dut_io.load(data)
        result = dut_io.infer(1, 0)
        assert result.end_us > result.start_us
        problem = compare(oracle, data, result.lines, result.values)
        assert problem is None, problem


@pytest.mark.parametrize("board_name", EMULATED)
def test_bad_input_gets_an_error_and_the_dut_keeps_answering(board_name, builds):
    bench = next(b for b in BENCHMARKS if b.id == "ad01")
    board = load_board(board_name)
    build_dir = builds(board_name, bench)
    with start_dut(board, build_dir) as dut, DutSession(dut.url, timeout=COMMAND_TIMEOUT_S) as dut_io:
        dut_io.wait_ready(timeout=COMMAND_TIMEOUT_S)
        for bad in ("frobnicate", f"db load {bench.input_bytes * 1000}", "infer 0 0",
                    "x" * 120):
            with pytest.raises(DutError) as err:
                dut_io.command(bad)
            assert any(line.startswith("e-") for line in err.value.lines), (bad, err.value.lines)
        dut_io.command(f"db load {bench.input_bytes}")
        for bad in ("db 0", "db zz"):
            with pytest.raises(DutError) as err:
                dut_io.command(bad)
            assert any(line.startswith("e-") for line in err.value.lines), (bad, err.value.lines)
        assert board.name in dut_io.name()


def test_energy_mode_firmware_on_disco_prints_no_timestamps_and_matches_tflm(tmp_path):
    """Energy mode: GPIO timestamps instead of m-lap-us lines, console at the
    energy baud (QEMU's USART ignores the rate), same results."""
    bench = next(b for b in BENCHMARKS if b.id == "ad01")
    board = load_board("disco_l475vg_iot01a")
    build_firmware(board, bench, model_path=model_path(bench), mode="energy", out_dir=tmp_path)
    header = (tmp_path / "src" / "tg_board.h").read_text()
    assert f"#define TG_CONSOLE_BAUD {board.console.baud_energy}u" in header
    oracle = Oracle(model_path(bench), bench)
    data = stimulus(oracle, seed=7)
    with start_dut(board, tmp_path) as dut, DutSession(dut.url, timeout=COMMAND_TIMEOUT_S) as dut_io:
        banner = dut_io.wait_ready(timeout=COMMAND_TIMEOUT_S)
        assert "m-timestamp-mode-energy" in banner
        assert not any(line.startswith("m-lap-us") for line in dut_io.command("timestamp"))
        dut_io.load(data)
        result = dut_io.infer(1, 0)
        assert result.start_us is None and result.end_us is None
        problem = compare(oracle, data, result.lines, result.values)
        assert problem is None, problem
