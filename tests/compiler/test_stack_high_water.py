"""The stack the build reserves stays above what the firmware really uses.

A profiling build paints the stack at reset and reports the deepest point
it reached (m-profile-stack-BYTES) after an inference and the results print
(the deepest path: the same on all four benchmarks). Under QEMU the mark
must not exceed the measured figure the stack size was derived from, which
leaves tinygen.port.aot's stated margin free. The same build shows the
harness's db buffer living in the model's input tensor (no RAM of its own).
"""

from __future__ import annotations

import shutil

import pytest

from tinygen.benches import get_bench
from tinygen.boards import load_board
from tinygen.cli.profile import parse_stack, stimulus
from tinygen.device.launch import start_dut
from tinygen.device.session import DutSession
from tinygen.port.build import build_firmware
from tinygen.port.aot import STACK_BYTES, STACK_MARGIN_BYTES, STACK_MEASURED_BYTES

pytestmark = pytest.mark.skipif(
    shutil.which("arm-none-eabi-gcc") is None or shutil.which("qemu-system-arm") is None,
    reason="needs arm-none-eabi-gcc and qemu-system-arm")


@pytest.mark.parametrize("board_name", ["disco_l475vg_iot01a"])
def test_painted_stack_high_water_mark_leaves_the_margin_free(tmp_path, board_name):
    board, bench = load_board(board_name), get_bench("kws")
    built = build_firmware(board, bench, out_dir=tmp_path, profile=True)
    assert built.port.placement.stack_bytes == STACK_BYTES
    assert built.size.parts.get("buffer", {}).get("ram", 0) == 0
    with start_dut(board, tmp_path) as dut, DutSession(dut.url, timeout=120) as session:
        session.wait_ready(timeout=60)
        session.load(stimulus(bench, 3))
        lines = session.command("infer 1 0", timeout=300)
    used = parse_stack(lines)
    assert used is not None, lines[-5:]
    assert 0 < used <= STACK_MEASURED_BYTES, f"stack high-water mark {used} B"
    assert used + STACK_MARGIN_BYTES <= STACK_BYTES
