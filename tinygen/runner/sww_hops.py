"""The 32 ms hop budget of a streaming build, measured in QEMU on emulated boards."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from tinygen.boards import Board
from tinygen.errors import TinygenError
from tinygen.port.sww_build import hop_budget_cycles, inference_plan

MEASURE_SECONDS = 1.0
TRACE_SECONDS = 0.2          # a traced run: its first hop is priced
FEATURES = "tg_features_compute"
INFERENCES = ("tg_model_stream_step", "tg_model_invoke")   # incremental, full window


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


def hop_cycles_per_instruction(board: Board, build_dir: Path) -> tuple[float, str]:
    """Estimated cycles per instruction of a hop's work on the board's core,
    and what the estimate is: the first hop's features and inference, traced
    in QEMU and priced with the core's timings (tinygen.runner.cycles)."""
    from tinygen.runner.cycles import (Window, core_timing, price, read_image,
                                       collect_trace, trace_args)
    from tinygen.runner.sww_verify import run_stream, test_stream
    timing = core_timing(board.cpu)
    elf = Path(build_dir) / "firmware.elf"
    image = read_image(elf)
    windows = [image.address(FEATURES)]
    windows += [image.symbols[n][0] for n in INFERENCES if n in image.symbols][:1]
    samples = test_stream(None, TRACE_SECONDS, ())
    with tempfile.TemporaryDirectory(prefix="tinygen-sww-trace-") as work:
        log_path = Path(work) / "trace.log"
        run_stream(board, Path(build_dir), samples, Path(work), hop_log=False,
                   qemu_args=trace_args(image, log_path))
        estimates = [price(collect_trace(log_path, elf, window=Window(entry), cpu=board.cpu),
                           timing) for entry in windows]
    instructions = sum(e.instructions for e in estimates)
    cycles = sum(e.cycles for e in estimates)
    return (cycles / instructions if instructions else 1.0,
            f"{timing.core} timings, {timing.confidence} confidence")


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
    text = (head + f"\nmeasured in QEMU over {hops} hops: {mean:,} instructions per hop mean, "
            f"{worst:,} max")
    try:
        cpi, what = hop_cycles_per_instruction(board, build_dir)
    except (TinygenError, OSError) as exc:
        cpi, what = None, str(exc)
    if cpi is None:
        verdict = "fits" if worst <= budget else "DOES NOT FIT"
        return (text + f" = {worst / budget:.0%} of the budget: {verdict} "
                f"(1 instruction ~ 1 cycle; no cycle estimate: {what})")
    cycles = int(round(worst * cpi))
    verdict = "fits" if cycles <= budget else "DOES NOT FIT"
    return (text + f"; estimated {int(round(mean * cpi)):,} cycles mean, {cycles:,} max "
            f"({cpi:.2f} cycles per instruction: {what}) = {cycles / budget:.0%} of the "
            f"budget: {verdict}")
