"""The sww hop budget in estimated cycles: a traced streaming run's first hop
(features and inference) priced with the core's timings."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tinygen.benches import get_bench
from tinygen.boards import load_board
from tinygen.port.sww_build import build_stream_firmware
from tinygen.runner.sww_hops import budget_text, hop_cycles_per_instruction

pytestmark = pytest.mark.skipif(
    shutil.which("arm-none-eabi-gcc") is None or shutil.which("qemu-system-arm") is None,
    reason="needs arm-none-eabi-gcc and qemu-system-arm")


def test_the_hop_budget_states_estimated_cycles_beside_instructions(tmp_path):
    board = load_board("mps3_an547")
    result = build_stream_firmware(board, get_bench("sww").model_path, out_dir=tmp_path)
    cpi, what = hop_cycles_per_instruction(board, Path(result.build_dir))
    # Helium and scalar loads cost more than one cycle each: the estimate is above 1
    assert 1.0 < cpi < 4.0 and what == "cortex-m55 timings, low confidence"
    text = budget_text(board, Path(result.build_dir))
    assert "instructions per hop mean" in text and "estimated" in text
    assert f"{cpi:.2f} cycles per instruction" in text
