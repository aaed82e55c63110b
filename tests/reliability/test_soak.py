"""Soak: thousands of mixed commands, bad ones included, against the real
firmware on the host and on the emulated Cortex-M4 (mps2_an386 under QEMU).
Every command is answered, bad ones with exactly one e-[...] line, results
of the same input never change, and memory stays put.

The CI versions run for seconds. The long versions (marked slow) run tens of
thousands of commands, the host DUT under valgrind's memcheck:
    .venv/bin/python -m pytest tests/reliability/test_soak.py -m slow
"""

from __future__ import annotations

import re
import select
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
import serial

from tinygen.port.build import build_firmware

from raw_dut import RawDut
from soak import soak
from test_harness_host import model_for

CI_COMMANDS = {"host": 800, "mps2_an386": 200}
LONG_COMMANDS = {"host": 20000, "mps2_an386": 5000}


def _stimulus() -> bytes:
    return np.random.default_rng(14).uniform(-2, 2, 640).astype("<f4").tobytes()


def _needs(board: str) -> None:
    if board != "host" and (shutil.which("arm-none-eabi-gcc") is None
                            or shutil.which("qemu-system-arm") is None):
        pytest.skip(f"{board} needs arm-none-eabi-gcc and qemu-system-arm")


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    made = {}

    def get(board: str):
        _needs(board)
        if board not in made:
            tmp = tmp_path_factory.mktemp(f"soak-{board}")
            model = model_for("ad01", tmp_path_factory.getbasetemp())
            made[board] = build_firmware(board, "ad01", model_path=model, out_dir=tmp / "build")
        return made[board]

    return get


def _rss_kb(pid: int) -> int:
    text = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"^VmRSS:\s+(\d+) kB", text, re.M).group(1))


def _no_heap(map_file: Path) -> None:
    """All firmware memory is static: nothing in the image can allocate."""
    text = map_file.read_text()
    for symbol in ("malloc", "_sbrk", "calloc", "realloc"):
        assert not re.search(rf"^\s+0x[0-9a-f]+\s+_?{symbol}\s*$", text, re.M), symbol


def _open(board: str, result, tmp_path) -> RawDut:
    dut = RawDut(board, result.build_dir, log_path=tmp_path / "dut.log")
    assert [dut.line(), dut.line(), dut.line()] == ["m-timestamp-mode-performance",
                                                    "m-init-done", "m-ready"]
    return dut


def test_soak_host_dut(builds, tmp_path):
    result = builds("host")
    dut = _open("host", result, tmp_path)
    try:
        soak(dut, _stimulus(), 100, seed=1)                    # warm every code path once
        before = _rss_kb(dut.running.process.pid)
        report = soak(dut, _stimulus(), CI_COMMANDS["host"], seed=2)
        after = _rss_kb(dut.running.process.pid)
    finally:
        dut.close()
    assert report.commands == CI_COMMANDS["host"] and report.errors_expected > 150
    assert report.inferences >= 10 and report.reloads >= 5
    assert after - before <= 64, f"resident memory grew from {before} to {after} kB"


def test_soak_emulated_dut(builds, tmp_path):
    result = builds("mps2_an386")
    _no_heap(result.map)
    dut = _open("mps2_an386", result, tmp_path)
    try:
        report = soak(dut, _stimulus(), CI_COMMANDS["mps2_an386"], seed=3)
    finally:
        dut.close()
    assert report.commands == CI_COMMANDS["mps2_an386"] and report.errors_expected > 40
    assert report.inferences >= 4


class ValgrindDut(RawDut):
    """The host firmware under valgrind's memcheck, on its pty."""

    def __init__(self, executable: Path, log: Path):   # noqa: D107 - no launcher here
        self.log = log
        self.proc = subprocess.Popen(
            ["valgrind", "--tool=memcheck", "--leak-check=full",
             "--errors-for-leak-kinds=definite,indirect,possible",
             f"--log-file={log}", str(executable)], stdout=subprocess.PIPE)
        ready, _, _ = select.select([self.proc.stdout], [], [], 120)
        assert ready, "the firmware under valgrind printed no TG_PTY line"
        pty = self.proc.stdout.readline().decode().strip().split("=", 1)[1]
        self.port = serial.serial_for_url(pty, timeout=0.2)
        self.pending = b""
        self.board = None

        class _Running:
            def __init__(self, proc):
                self.process = proc

            def running(self):
                return self.process.poll() is None

        self.running = _Running(self.proc)

    @property
    def emulated(self) -> bool:
        return False

    def close(self) -> None:
        self.port.close()
        self.proc.terminate()
        self.proc.wait(timeout=120)


@pytest.mark.slow
def test_soak_host_dut_long_under_valgrind(builds, tmp_path):
    if shutil.which("valgrind") is None:
        pytest.skip("needs valgrind (apt install valgrind)")
    result = builds("host")
    log = tmp_path / "memcheck.log"
    dut = ValgrindDut(result.executable, log)
    try:
        assert [dut.line(120), dut.line(), dut.line()] == ["m-timestamp-mode-performance",
                                                           "m-init-done", "m-ready"]
        report = soak(dut, _stimulus(), LONG_COMMANDS["host"], seed=4, timeout=600)
    finally:
        dut.close()
    deadline = time.monotonic() + 60
    while "ERROR SUMMARY" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.2)
    text = log.read_text()
    assert report.commands == LONG_COMMANDS["host"]
    assert re.search(r"ERROR SUMMARY: 0 errors", text), text[-3000:]
    assert "definitely lost: 0" in text or "All heap blocks were freed" in text \
        or "no leaks are possible" in text, text[-3000:]


@pytest.mark.slow
def test_soak_emulated_dut_long(builds, tmp_path):
    result = builds("mps2_an386")
    dut = _open("mps2_an386", result, tmp_path)
    try:
        report = soak(dut, _stimulus(), LONG_COMMANDS["mps2_an386"], seed=5)
    finally:
        dut.close()
    assert report.commands == LONG_COMMANDS["mps2_an386"]
