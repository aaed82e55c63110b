"""The 32 ms hop budget of a streaming build, measured in QEMU on emulated boards."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from tinygen.boards import Board
from tinygen.errors import TinygenError
from tinygen.port.sww_build import hop_budget_cycles, inference_plan

MEASURE_SECONDS = 1.0


def measure_hop_instructions(board: Board, build_dir: Path) -> tuple[int, int, int]:
    """(hops, mean, max) instructions per hop (processing pin high), over
    MEASURE_SECONDS of a synthetic word streamed through the emulated source."""
    from tinygen.runner.sww_verify import _pulses, run_stream, test_stream
    samples = test_stream(None, MEASURE_SECONDS, (0.1,))
    with tempfile.TemporaryDirectory(prefix="tinygen-sww-") as work:
        run = run_stream(board, Path(build_dir), samples, Path(work), hop_log=False)
    on = [b.icount - a.icount for a, b in _pulses(run.edges, "processing", 1)]
    if not on:
        raise TinygenError("the streaming firmware showed no processing pulse; see dut.log")
    return len(on), int(np.mean(on)), max(on)


def budget_text(board: Board, build_dir: Path) -> str:
    budget = hop_budget_cycles(board)
    head = (f"hop budget: {budget:,} cycles (32 ms at {board.clock_hz / 1e6:g} MHz) for "
            f"features + inference of every hop; {inference_plan(build_dir)}")
    if not board.is_emulated:
        return head + "; measure it on the board (tinygen run --bench sww: duty cycle)"
    try:
        hops, mean, worst = measure_hop_instructions(board, build_dir)
    except TinygenError as exc:
        return head + f"; not measured ({exc})"
    verdict = "fits" if worst <= budget else "DOES NOT FIT"
    return (head + f"\nmeasured in QEMU over {hops} hops: {mean:,} instructions per hop mean, "
            f"{worst:,} max = {worst / budget:.0%} of the budget: {verdict} "
            "(estimated: 1 instruction ~ 1 cycle)")
