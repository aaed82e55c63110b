"""`tinygen flash` for boards that run here: QEMU and the host process,
from start to Ctrl-C, talked to over the URL the command prints."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time

import pytest

from platform_support import FixtureConsole, build_fixture, have_arm_gcc
from tinygen.boards import load_board
from tinygen.device.session import DutSession
from tinygen.port.build import build_firmware

needs_gcc = pytest.mark.skipif(not have_arm_gcc(), reason="arm-none-eabi-gcc not installed")
LINE_TIMEOUT_S = 60.0


def start_flash(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tinygen", "flash", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def interrupt(proc: subprocess.Popen) -> int:
    proc.send_signal(signal.SIGINT)
    try:
        return proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


@needs_gcc
def test_cli_flash_runs_emulated_board_until_interrupted(tmp_path):
    board = load_board("mps2_an386")
    done = build_fixture(board, tmp_path)
    assert done.returncode == 0, done.stderr
    proc = start_flash("--board", board.name, "--build", str(tmp_path))
    try:
        first = proc.stdout.readline()
        url = re.search(r"(socket://127\.0\.0\.1:\d+)", first)
        assert url, first
        console = FixtureConsole(url.group(1))
        try:
            assert console.line().startswith(f"platform-test {board.name}")
            assert console.ask("t")["t"] >= 0
        finally:
            console.close()
    finally:
        code = interrupt(proc)
    assert code == 0
    # QEMU was told to stop when the command ended.
    deadline = time.monotonic() + 10
    while "terminating on signal" not in (tmp_path / "dut.log").read_text():
        assert time.monotonic() < deadline, (tmp_path / "dut.log").read_text()
        time.sleep(0.1)


def test_cli_flash_runs_host_firmware_and_prints_its_pty(tmp_path):
    build_firmware("host", "ad", out_dir=tmp_path)
    proc = start_flash("--board", "host", "--build", str(tmp_path))
    try:
        first = proc.stdout.readline()
        pty = re.search(r" on (/dev/\S+)$", first.strip())
        assert pty, first
        with DutSession(pty.group(1), timeout=LINE_TIMEOUT_S) as dut_io:
            dut_io.wait_ready(timeout=LINE_TIMEOUT_S)
            assert dut_io.profile()[1] == "ad01"
    finally:
        code = interrupt(proc)
    assert code == 0
