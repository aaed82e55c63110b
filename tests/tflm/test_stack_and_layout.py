"""TFLM ports on the emulated boards: the painted stack and the split arena.

A profiling build (profile=True) of a TFLM port reports the stack's
high-water mark after the results (m-profile-stack-BYTES; reset paints the
stack, tg_startup.c). The mark must stay within the figure the TFLM stack
was sized from (tinygen.port.tflm.TFLM_STACK_MEASURED_BYTES), which
leaves the stated margin free.

The default run (CI) takes vww01 with CMSIS-NN kernels on the
B-L475E-IOT01A, whose single TFLM arena (about 101.7 KB) exceeds SRAM1
(96 KB): the port uses the split layout (persistent data in SRAM2's .bss,
planned tensors in SRAM1, the input tensor as db buffer, kept live by the
planner) and several inferences on one download must still print the TFLM
oracle's outputs. The full set (every bench x both kernel sets x both
emulated boards) is slow:

    TINYGEN_SLOW=1 .venv/bin/python -m pytest tests/tflm/test_stack_and_layout.py -m slow
"""

from __future__ import annotations

import os

import pytest

from conftest import need_arm_cxx
from tinygen.benches import get_bench
from tinygen.boards import load_board
from tinygen.cli.profile import parse_stack, stimulus
from tinygen.device.launch import start_dut
from tinygen.device.session import DutSession, find_results
from tinygen.errors import TinygenError
from tinygen.port.build import build_firmware
from tinygen.port.tflm import TFLM_STACK_BYTES, TFLM_STACK_MARGIN_BYTES, TFLM_STACK_MEASURED_BYTES
from tinygen.port.tflm import LAYOUT_SINGLE, LAYOUT_SPLIT, choose_layout
from tinygen.runner.oracle import Oracle, compare


def run_profiled(board_name: str, bench_id: str, tree, tmp_path) -> tuple[dict, int]:
    """Build a profiling TFLM port, run 1 warm-up + 2 inferences on one download;
    returns build.json's tflm entry and the stack high-water mark."""
    need_arm_cxx()
    board, bench = load_board(board_name), get_bench(bench_id)
    built = build_firmware(board, bench, out_dir=tmp_path / "b", runtime="tflm", tflm=tree,
                           profile=True)
    assert built.port.placement.stack_bytes == TFLM_STACK_BYTES
    data = stimulus(bench, 3)
    with start_dut(board, tmp_path / "b") as dut, DutSession(dut.url, timeout=120) as session:
        session.wait_ready(timeout=60)
        session.load(data)
        lines = session.command("infer 2 1", timeout=900)
    values = find_results(lines, "infer")
    mismatch = compare(Oracle(built.port.model_path, bench), data, lines, values)
    assert mismatch is None, mismatch
    used = parse_stack(lines)
    assert used is not None, lines[-5:]
    import json
    tflm = json.loads((tmp_path / "b" / "build.json").read_text())["tflm"]
    print(f"TFLM stack high-water mark {board_name} {bench_id} {tflm['kernels']}: {used} B "
          f"(layout {tflm['layout']})")
    return tflm, used


def assert_stack_within_margin(used: int) -> None:
    assert 0 < used <= TFLM_STACK_MEASURED_BYTES, f"stack high-water mark {used} B"
    assert used + TFLM_STACK_MARGIN_BYTES <= TFLM_STACK_BYTES


def test_vww_on_disco_splits_the_arena_and_stays_bit_exact(tmp_path, cmsisnn_tree):
    tflm, used = run_profiled("disco_l475vg_iot01a", "vww", cmsisnn_tree, tmp_path)
    assert tflm["layout"] == LAYOUT_SPLIT
    assert tflm["arena_needed_bytes"] > 96 * 1024 - 8192      # the single arena would not fit
    assert tflm["persistent_bytes"] >= tflm["persistent_used_bytes"] + 1024
    assert tflm["arena_bytes"] >= tflm["planned_needed_bytes"] + 1024
    import json
    placement = json.loads((tmp_path / "b" / "build.json").read_text())["placement"]
    assert "SRAM1: arena" in placement and "buffer 0 B" in placement
    assert "SRAM2: data" in placement
    assert_stack_within_margin(used)


def test_layout_refusal_says_by_how_many_bytes():
    """Neither layout fits: the error names both overflows (real board, stated sizes)."""
    board = load_board("disco_l475vg_iot01a")
    arena = {"arena": 200_000, "needed": 198_960, "margin": 1024,
             "split": {"persistent_bytes": 40_000, "planned_bytes": 150_000}}
    with pytest.raises(TinygenError, match=r"TFLM's arena for big.tflite does not fit: RAM does "
                                           r"not fit on disco_l475vg_iot01a by \d+ bytes.*Split in "
                                           r"two.*does not fit either: RAM does not fit .* by \d+ bytes"):
        choose_layout(board, "big.tflite", arena, db_bytes=0,
                      stack_bytes=TFLM_STACK_BYTES)
    small = {"arena": 50_000, "needed": 48_960, "margin": 1024,
             "split": {"persistent_bytes": 20_000, "planned_bytes": 30_000}}
    assert choose_layout(board, "small.tflite", small, db_bytes=0,
                         stack_bytes=TFLM_STACK_BYTES) == LAYOUT_SINGLE


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("TINYGEN_SLOW") != "1",
                    reason="TFLM stack on every bench: set TINYGEN_SLOW=1 to run it (about 20 min)")
@pytest.mark.parametrize("tree", ["ref", "cmsisnn"], indirect=True)
@pytest.mark.parametrize("board", ["disco_l475vg_iot01a", "mps2_an386"])
@pytest.mark.parametrize("bench", ["kws", "vww", "ic", "ad"])
def test_tflm_stack_high_water_mark_leaves_the_margin_free(tmp_path, tree, board, bench):
    _, used = run_profiled(board, bench, tree, tmp_path)
    assert_stack_within_margin(used)
