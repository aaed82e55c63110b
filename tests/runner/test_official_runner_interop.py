"""'tinygen flash' offers a serial device the official MLPerf Tiny runner can open.

The official runner opens a plain device path with pyserial, sends 'name%'
and takes the next line as the answer. These tests do what it does against
the host firmware and an emulated board (--pty): nothing stale may be
waiting when the device is opened, and the first line after 'name%' is the
name. tinygen's own runner then measures through the same device.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time

import pytest
import serial

from tinygen.cli import main

LINE_TIMEOUT_S = 30.0
CASES = {"host": ([], ["--min-seconds", "0.2"]),
         "disco_l475vg_iot01a": (["--pty"], ["--min-seconds", "0.05"])}


def _start_flash(board: str, build, extra: list[str]) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "tinygen", "flash", "--board", board,
                             "--build", str(build), *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = proc.stdout.readline()
    found = re.search(r" on (/dev/\S+)$", first.strip())
    if not found:
        proc.kill()
        pytest.fail(f"no device path in {first!r}: {proc.stderr.read()}")
    return proc, found.group(1)


def _stop(proc: subprocess.Popen) -> int:
    proc.send_signal(signal.SIGINT)
    try:
        return proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def _line(port: serial.Serial) -> str:
    deadline = time.monotonic() + LINE_TIMEOUT_S
    data = b""
    while not data.endswith(b"\n"):
        assert time.monotonic() < deadline, f"no full line within {LINE_TIMEOUT_S} s: {data!r}"
        data += port.read(1)
    return data.decode().strip()


def _ask(port: serial.Serial, command: str) -> list[str]:
    port.write(command.encode() + b"%")
    lines = []
    while not lines or lines[-1] != "m-ready":
        lines.append(_line(port))
    return lines


@pytest.mark.parametrize("board", sorted(CASES))
def test_the_official_runners_first_read_is_the_answer(board, firmware, tmp_path):
    build = firmware(board, "kws01")
    flash_args, window = CASES[board]
    proc, path = _start_flash(board, build, flash_args)
    try:
        for _client in range(2):   # a second client (a rerun) finds the same
            with serial.Serial(path, 115200, timeout=0.1) as port:
                time.sleep(0.5)    # the official runner waits before its first command
                assert port.in_waiting == 0, port.read(port.in_waiting)
                answer = _ask(port, "name")
                assert answer[0].startswith("m-name-dut-["), answer
                profile = _ask(port, "profile")
                assert "m-model-[kws01]" in profile, profile
        out = tmp_path / "session"
        assert main(["run", "--board", board, "--port", path, "--mode", "performance",
                     "--warmup", "1", "--out", str(out)] + window) == 0
        res = json.loads((out / "results.json").read_text())
        assert res["status"] == "complete" and len(res["performance"]["windows"]) == 5
    finally:
        assert _stop(proc) == 0
