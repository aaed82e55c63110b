"""The harness answers every bad input with one e-[...] line and m-ready,
and keeps answering afterwards: run against the real firmware on the host
(64-bit) and on the emulated Cortex-M4 (mps2_an386 under QEMU, 32-bit), since
robustness that matters on the target must be tested on the target (a count
parser that wrapped in 32-bit arithmetic passed on the host alone).

ad01 is used because its model is the quickest to build and run; the
harness code is the same for every benchmark.
"""

from __future__ import annotations

import re
import shutil
import time

import numpy as np
import pytest

from tinygen.port.build import build_firmware

from raw_dut import RawDut
from test_harness_host import model_for

BOARDS = ["host", "mps2_an386"]


def _needs(board: str) -> None:
    if board != "host" and (shutil.which("arm-none-eabi-gcc") is None
                            or shutil.which("qemu-system-arm") is None):
        pytest.skip(f"{board} needs arm-none-eabi-gcc and qemu-system-arm")


@pytest.fixture(scope="module", params=BOARDS)
def firmware(request, tmp_path_factory):
    _needs(request.param)
    tmp = tmp_path_factory.mktemp(f"robust-{request.param}")
    model = model_for("ad01", tmp_path_factory.getbasetemp())
    result = build_firmware(request.param, "ad01", model_path=model, out_dir=tmp / "build")
    return request.param, result


@pytest.fixture(scope="module")
def dut(firmware, tmp_path_factory):
    board, result = firmware
    d = RawDut(board, result.build_dir,
               log_path=tmp_path_factory.mktemp(f"robust-log-{board}") / "dut.log")
    assert [d.line(), d.line(), d.line()] == ["m-timestamp-mode-performance", "m-init-done", "m-ready"]
    d.dut_name = f"tinygen {board}"
    yield d
    d.close()


def one_error(lines: list[str]) -> str:
    """The single e- line of a rejected command (which still ends in m-ready)."""
    assert lines[-1] == "m-ready", lines
    errors = [l for l in lines if l.startswith("e-[")]
    assert len(errors) == 1 and len(lines) == 2, lines
    assert errors[0].endswith("]")
    return errors[0]


def still_answers(dut: RawDut) -> None:
    assert dut.command("name") == [f"m-name-dut-[{dut.dut_name}]", "m-ready"]


def test_results_before_any_inference_is_an_error(dut):
    # First test on a fresh DUT: nothing has been inferred yet.
    assert "infer" in one_error(dut.command("results"))
    still_answers(dut)


@pytest.mark.parametrize("command", [
    "db load 2561",            # one byte more than the buffer
    "db load 4294967297",      # 2**32 + 1: wrapped to 1 in 32-bit arithmetic
    "db load 4294967786",      # 2**32 + 490: wrapped to 490 (kws01's input size)
    "db load 1000000001",      # one above the largest count
    "db load 18446744073709551617",   # 2**64 + 1: wraps a 64-bit count too
    "db load 0",
    "db load -5",
    "db load 12abc",
    "db load",
])
def test_db_load_refuses_bad_counts(dut, command):
    message = one_error(dut.command(command))
    assert "db load" in message
    still_answers(dut)


def test_oversize_load_is_refused_and_names_the_buffer_size(dut):
    assert "2560" in one_error(dut.command("db load 99999"))


@pytest.mark.parametrize("hex_text, why", [
    ("123", "odd"),
    ("zz", "not a hex digit"),
    ("0x12", "not a hex digit"),
    ("12 34", None),                 # two arguments
    ("12\x0134", "not a hex digit"),
])
def test_bad_hex_lines_are_refused_and_leave_the_load_intact(dut, hex_text, why):
    assert dut.command("db load 4")[0] == "m-[Expecting 4 bytes]"
    assert dut.command("db a1B2") == ["m-ready"]
    message = one_error(dut.command("db " + hex_text))
    if why:
        assert why in message
    # The refused line wrote nothing: the next two bytes complete the load.
    assert dut.command("db C3d4") == ["m-load-done", "m-ready"]
    assert dut.command("db print") == ["m-buffer-a1-b2-c3-d4", "m-ready"]


def test_bytes_beyond_n_are_refused_without_writing(dut):
    assert dut.command("db load 3")[0] == "m-[Expecting 3 bytes]"
    assert "remain" in one_error(dut.command("db 01020304"))
    assert dut.command("db 010203") == ["m-load-done", "m-ready"]
    assert "db load" in one_error(dut.command("db 04"))       # load already complete
    assert dut.command("db print") == ["m-buffer-01-02-03", "m-ready"]


def test_command_of_80_characters_is_parsed_and_81_is_rejected(dut):
    exact = "q" * 80
    assert one_error(dut.command(exact)) == f"e-[Unknown command: {exact}]"
    message = one_error(dut.command("q" * 81))
    assert "80" in message
    still_answers(dut)


def test_very_long_line_cannot_overflow_and_next_command_works(dut):
    message = one_error(dut.command("db " + "ab" * 3000))
    assert "longer than 80" in message
    still_answers(dut)


@pytest.mark.parametrize("command", ["frobnicate", "NAME", "db_load 3", "infer1"])
def test_unknown_commands_are_named_in_the_error(dut, command):
    first = command.split()[0]
    assert one_error(dut.command(command)) == f"e-[Unknown command: {first}]"


def test_binary_garbage_is_reported_as_printable_text(dut):
    dut.write(b"\x00\xff\x7f\x1b[2J]%")
    lines = dut.until_ready()
    message = one_error(lines)
    assert message.startswith("e-[Unknown command: ")
    assert all(" " <= c <= "~" for c in message)
    still_answers(dut)


@pytest.mark.parametrize("command, why", [
    ("infer 0", "N must be"),
    ("infer -1", "N must be"),
    ("infer abc", "N must be"),
    ("infer 1.5", "N must be"),
    ("infer 99999999999", "N must be"),
    ("infer 4294967297 4294967296", "N must be"),   # was taken as infer 1 0 on 32-bit
    ("infer 4294967296", "N must be"),              # wrapped to 0
    ("infer 1 4294967297", "W must be"),
    ("infer 1000000001 0", "N must be"),
    ("infer 1 -1", "W must be"),
    ("infer 1 x", "W must be"),
    ("infer", "infer needs"),
    ("infer 1 2 3", "infer needs"),
    ("name now", "no arguments"),
])
def test_bad_arguments_are_refused(dut, command, why):
    assert why in one_error(dut.command(command))
    still_answers(dut)


def test_infer_with_an_incomplete_download_is_refused(dut):
    assert dut.command("db load 8")[0] == "m-[Expecting 8 bytes]"
    dut.command("db 0102")
    assert "2 of 8" in one_error(dut.command("infer 1 0"))
    still_answers(dut)


def test_commands_sent_during_a_long_inference_are_answered_after_it(dut):
    data = np.random.default_rng(3).uniform(-1, 1, 640).astype("<f4").tobytes()
    assert dut.load(data)[-2:] == ["m-load-done", "m-ready"]
    # Time a short run, then pick N so that the run lasts about a second
    # (a tenth of a second of virtual time under QEMU, a few seconds of wall time).
    lines = dut.command("infer 20 0", timeout=120)
    laps = [int(l[9:]) for l in lines if l.startswith("m-lap-us-")]
    per_inference_us = max(1, (laps[1] - laps[0]) // 20)
    count = max(50, (100_000 if dut.emulated else 1_000_000) // per_inference_us)

    dut.write(f"infer {count} 0%")
    assert dut.line() == f"m-infer-start-{count}"
    # Typed while the DUT is busy: one command whole, one in two pieces.
    dut.write("name%prof")
    time.sleep(0.05)
    dut.write("ile%")
    lines = dut.until_ready(timeout=120)
    assert lines[-3] == "m-infer-done" and lines[-2].startswith("m-results-[")
    assert dut.until_ready() == [f"m-name-dut-[{dut.dut_name}]", "m-ready"]
    profile = dut.until_ready()
    assert profile[1:] == ["m-model-[ad01]", "m-ready"]


def test_several_commands_in_one_write_are_answered_in_order(dut):
    dut.write("name%results%%profile%")
    assert dut.until_ready() == [f"m-name-dut-[{dut.dut_name}]", "m-ready"]
    assert dut.until_ready()[0].startswith("m-results-[")
    assert dut.until_ready() == ["m-ready"]           # a bare % only resynchronizes
    assert dut.until_ready()[-2] == "m-model-[ad01]"


def test_help_lists_every_command(dut):
    text = "\n".join(dut.command("help"))
    for word in ("name", "profile", "timestamp", "db load", "db print", "infer", "results"):
        assert re.search(rf"^{word}\b", text, re.M), word


def test_results_keep_describing_the_last_inference_after_a_new_download(dut):
    rng = np.random.default_rng(5)
    dut.load(rng.uniform(-2, 2, 640).astype("<f4").tobytes())
    ran = dut.command("infer 1 0", timeout=120)
    dut.load(rng.uniform(-2, 2, 640).astype("<f4").tobytes())
    assert dut.command("results") == [ran[-2], "m-ready"]


def test_host_firmware_exits_when_its_parent_does(firmware):
    """A crashed test or runner must not leave firmware processes behind."""
    import os
    import subprocess

    board, firmware = firmware
    if board != "host":
        pytest.skip("a host-process property (QEMU gets PR_SET_PDEATHSIG from the launcher)")

    shell = subprocess.run(["sh", "-c", f"'{firmware.executable}' >/dev/null & echo $!; sleep 0.3"],
                           capture_output=True, text=True, timeout=30)
    pid = int(shell.stdout.split()[0])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                state = stat.read().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return
        if state == "Z":        # exited; waiting for whoever adopted it to reap it
            return
        time.sleep(0.05)
    os.kill(pid, 9)
    raise AssertionError("the host firmware outlived its parent by 10 s")
