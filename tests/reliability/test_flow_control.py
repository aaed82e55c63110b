"""Input that arrives while the DUT is busy.

The protocol's flow control is stop-and-wait: the host sends one command
(at most 80 characters and '%') and waits for its m-ready. Every platform
keeps that much while an inference runs: the host pty and QEMU's MPS2 UART
hold bytes back (nothing is dropped), the STM32L4 keeps a 256-byte receive
ring. What a misbehaving host sends beyond the ring is dropped, and the
damaged command is answered with an e-[Input lost ...] line: never silent.
Run on the emulated B-L475E-IOT01A (QEMU's STM32L4 USART and the real
interrupt-driven ring), with the ad01 firmware.
"""

from __future__ import annotations

import shutil
import time

import numpy as np
import pytest

from tinygen.port.build import build_firmware

from raw_dut import RawDut
from test_harness_host import model_for

pytestmark = pytest.mark.skipif(
    shutil.which("arm-none-eabi-gcc") is None or shutil.which("qemu-system-arm") is None,
    reason="needs arm-none-eabi-gcc and qemu-system-arm")

BOARD = "disco_l475vg_iot01a"


@pytest.fixture(scope="module")
def dut(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("flow")
    model = model_for("ad01", tmp_path_factory.getbasetemp())
    result = build_firmware(BOARD, "ad01", model_path=model, out_dir=tmp / "build")
    d = RawDut(BOARD, result.build_dir, log_path=tmp / "dut.log")
    assert [d.line(), d.line(), d.line()] == ["m-timestamp-mode-performance", "m-init-done",
                                              "m-ready"]
    data = np.random.default_rng(2).uniform(-1, 1, 640).astype("<f4").tobytes()
    assert d.load(data)[-2:] == ["m-load-done", "m-ready"]
    yield d
    d.close()


def _busy_count(dut: RawDut, seconds: float) -> int:
    """An infer count that keeps the DUT busy for about ``seconds`` of wall time."""
    # Enough inferences that the command's own round trip does not inflate the
    # per-inference time (ad01 takes well under a millisecond of wall time).
    started = time.monotonic()
    dut.command("infer 500 0", timeout=120)
    per = max((time.monotonic() - started) / 500, 1e-5)
    return max(10, int(seconds / per))


def test_commands_within_the_ring_sent_while_busy_are_all_answered(dut):
    count = _busy_count(dut, 1.5)
    dut.write(f"infer {count} 0%")
    assert dut.line(60) == f"m-infer-start-{count}"
    burst = "name%" * 40 + "profile%"          # 208 bytes: fits the 256-byte ring
    dut.write(burst)
    lines = dut.until_ready(timeout=120)
    assert lines[-2].startswith("m-results-[")
    for _ in range(40):
        assert dut.until_ready() == [f"m-name-dut-[tinygen {BOARD}]", "m-ready"]
    assert dut.until_ready()[-2:] == ["m-model-[ad01]", "m-ready"]


def test_overflow_of_the_receive_ring_is_reported_never_silent(dut):
    count = _busy_count(dut, 5.0)
    dut.write(f"infer {count} 0%")
    assert dut.line(60) == f"m-infer-start-{count}"
    dut.write("name%" * 120)                  # 600 bytes while busy: 344 more than the ring
    lines = dut.until_ready(timeout=120)
    assert lines[-2].startswith("m-results-[")
    answers = []
    while True:
        try:
            answers.append(dut.until_ready(timeout=3))
        except AssertionError:                # quiet for 3 s: everything kept is answered
            break
    name = [f"m-name-dut-[tinygen {BOARD}]", "m-ready"]
    if all(a == name for a in answers):
        # Everything after the ring's mark was dropped, '%' included: the
        # damaged command ends at the next '%', and that is where it is reported.
        dut.write("name%")
        answers.append(dut.until_ready(timeout=10))
    lost = [a for a in answers if a != name]
    # Each answer ends in m-ready; exactly one reports the loss, in order
    # (after the commands the ring kept whole: at least 51, 255 bytes).
    assert len(lost) == 1, answers
    assert lost[0][0].startswith("e-[Input lost") and lost[0][0].endswith("]")
    assert lost[0][1:] == ["m-ready"]
    before = answers.index(lost[0])
    assert 51 <= before and len(answers) < 120
    # And then the DUT answers normally again.
    assert dut.command("name") == name
