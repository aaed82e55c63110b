"""tinygen profile: where an inference spends its time, operator by operator."""

from __future__ import annotations

import argparse
import json
import logging
import re
from pathlib import Path

import numpy as np

from tinygen.benches import INPUT_FLOAT32_QUANTIZE, bench_names, get_bench
from tinygen.boards import load_board
from tinygen.errors import TinygenError
from tinygen.text import format_table

log = logging.getLogger(__name__)

DESCRIPTION = """\
Build a profiling firmware for an emulated board, run it under QEMU and print
one row per operator: instructions per inference, per MAC, and share of the
inference.

The profiling build (-DTG_PROFILE=1) reads the platform's microsecond
timestamp between operators and adds each operator's time to a counter;
after 'infer N 0' the firmware prints the sums (m-profile-op-I-US) and the
stack high-water mark from stack painting (m-profile-stack-BYTES). Under
QEMU with -icount shift=S one instruction is 2**S ns, so

  instructions per inference = us * 1000 / 2**S / N

Each timestamp read costs about 30 instructions and has 1 us resolution
(1000 instructions at shift 0), so small operators are only as exact as
1000 / N instructions; raise --inferences for those. Times are virtual
(instructions), not real-board cycles. The est. cycles column prices one
more inference, run with QEMU's instruction trace, with the core's
published instruction timings (tinygen/runner/cycles.py; the Cortex-M4 from
its TRM, other cores rougher); est. ms is those cycles at the board clock
with zero flash wait states.

examples:
  tinygen profile --board mps2_an386 --bench kws
  tinygen profile --board disco_l475vg_iot01a --bench vww --inferences 5
"""

_OP_LINE = re.compile(r"^m-profile-op-(\d+)-(\d+)$")
_LAP = re.compile(r"^m-lap-us-(\d+)$")
_STACK = re.compile(r"^m-profile-stack-(\d+)$")


def parse_stack(lines: list[str]) -> int | None:
    """Stack high-water mark in bytes (stack painting), if the board reports it."""
    for line in lines:
        m = _STACK.match(line.strip())
        if m:
            return int(m.group(1))
    return None


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("profile", help="instructions per operator on an emulated board",
                       description=DESCRIPTION,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--board", required=True, metavar="BOARD",
                   help="an emulated board (see 'tinygen boards')")
    p.add_argument("--bench", required=True, metavar="BENCH",
                   help="benchmark: " + ", ".join(bench_names()))
    p.add_argument("--model", type=Path, metavar="PATH",
                   help="int8 .tflite (default: the committed models/<bench id>.tflite)")
    p.add_argument("--inferences", type=int, default=10, metavar="N",
                   help="inferences to sum over (default 10)")
    p.add_argument("--out", type=Path, metavar="DIR",
                   help="build directory (default: build/<board>-<bench id>-profile)")
    p.add_argument("--seed", type=int, default=1, help="seed of the random stimulus")
    p.set_defaults(handler=run)


def stimulus(bench, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    if bench.input_format == INPUT_FLOAT32_QUANTIZE:
        return rng.uniform(-2.0, 2.0, bench.input_elements).astype("<f4").tobytes()
    return rng.integers(0, 256, bench.input_bytes, dtype=np.uint8).tobytes()


def parse_profile(lines: list[str], ops: int) -> tuple[list[int], int | None]:
    """Per-operator microseconds and the whole timed window (first to last lap)."""
    per_op: dict[int, int] = {}
    laps = []
    for line in lines:
        m = _OP_LINE.match(line.strip())
        if m:
            per_op[int(m.group(1))] = int(m.group(2))
        m = _LAP.match(line.strip())
        if m:
            laps.append(int(m.group(1)))
    if sorted(per_op) != list(range(ops)):
        raise TinygenError(f"the firmware printed times for {len(per_op)} of {ops} operators; "
                           "is it a profiling build of this model? rebuild with tinygen profile")
    window = laps[-1] - laps[0] if len(laps) >= 2 else None
    return [per_op[i] for i in range(ops)], window


def profile_rows(calls, op_us: list[int], inferences: int, shift: int) -> list[dict]:
    scale = 1000 / (2 ** shift) / inferences
    total = sum(op_us) or 1
    return [dict(position=i, op=call.op_index, kind=call.kind, summary=call.summary,
                 macs=call.macs, instructions=us * scale, share=us / total)
            for i, (call, us) in enumerate(zip(calls, op_us))]


def render(rows: list[dict], clock_hz: int, window_instr: float | None) -> str:
    table = [["#", "operator", "what", "MACs", "instr/inf", "instr/MAC", "est. cycles",
              "cycles/MAC", "share", "est. ms"]]

    def per_mac(value, macs):
        return f"{value / macs:.2f}" if macs and value is not None else "-"

    for r in rows:
        cycles = r.get("cycles")
        table.append([str(r["op"]), r["kind"], r["summary"], f"{r['macs']:,}",
                      f"{r['instructions']:,.0f}", per_mac(r["instructions"], r["macs"]),
                      f"{cycles:,}" if cycles is not None else "-", per_mac(cycles, r["macs"]),
                      f"{100 * r['share']:.1f}%",
                      f"{(cycles if cycles is not None else r['instructions']) / clock_hz * 1000:.3f}"])
    instr = sum(r["instructions"] for r in rows)
    macs = sum(r["macs"] for r in rows)
    cycles = sum(r["cycles"] for r in rows) if all(r.get("cycles") is not None for r in rows) else None
    table.append(["", "total", "", f"{macs:,}", f"{instr:,.0f}", per_mac(instr, macs),
                  f"{cycles:,}" if cycles is not None else "-", per_mac(cycles, macs), "100.0%",
                  f"{(cycles if cycles is not None else instr) / clock_hz * 1000:.3f}"])
    text = format_table(table, right={3, 4, 5, 6, 7, 8, 9})
    if window_instr is not None:
        text += (f"\nwhole inference (m-lap-us window, includes the timing reads): "
                 f"{window_instr:,.0f} instructions")
    return text


def run(args: argparse.Namespace) -> int:
    from tinygen.device.launch import start_dut
    from tinygen.device.session import DutSession
    from tinygen.ir import load_model
    from tinygen.plan import plan_model
    from tinygen.port.build import build_firmware
    from tinygen.port.generate import default_build_dir

    board = load_board(args.board)
    bench = get_bench(args.bench)
    if not board.is_emulated:
        raise TinygenError(f"board {board.name} is not emulated; profile runs under QEMU: use "
                           "one of the emulated boards (tinygen boards)")
    if args.inferences < 1:
        raise TinygenError("--inferences must be at least 1")
    model_path = args.model or bench.model_path
    out = args.out or default_build_dir(board, bench, "profile")
    built = build_firmware(board, bench, model_path=model_path, out_dir=out, profile=True)
    plan = plan_model(load_model(Path(built.port.model_path)))
    with start_dut(board, built.build_dir) as dut, DutSession(dut.url, timeout=600) as session:
        session.wait_ready(timeout=60)
        session.load(stimulus(bench, args.seed))
        lines = session.command(f"infer {args.inferences} 0", timeout=3600)
    op_us, window = parse_profile(lines, len(plan.calls))
    shift = board.emulator.icount_shift
    rows = profile_rows(plan.calls, op_us, args.inferences, shift)
    from tinygen.runner.cycles import flash_wait_states, operator_cycles
    op_cycles, estimate = operator_cycles(board, built.build_dir, stimulus(bench, args.seed),
                                          len(rows))
    for row, cycles in zip(rows, op_cycles):
        row["cycles"] = cycles
    print(f"{bench.id} on {board.name}: virtual time under QEMU -icount shift={shift} "
          f"(instructions), {args.inferences} inferences; est. cycles from one traced inference "
          f"({estimate.basis}; {estimate.confidence} confidence); est. ms = estimated cycles at "
          f"{board.clock_hz / 1e6:g} MHz, zero flash wait states"
          + (f" (the part has {flash_wait_states(board)} at this clock)"
             if flash_wait_states(board) else ""))
    window_instr = window * 1000 / (2 ** shift) / args.inferences if window else None
    print(render(rows, board.clock_hz, window_instr))
    stack = parse_stack(lines)
    # For tinygen report (per-layer bars): the figures printed above.
    (Path(built.build_dir) / "profile.json").write_text(json.dumps({
        "board": board.name, "bench": bench.id, "inferences": args.inferences,
        "icount_shift": shift, "clock_hz": board.clock_hz, "rows": rows,
        "window_instructions": window_instr, "stack_bytes": stack}, indent=2) + "\n")
    if stack is not None:
        planned = built.port.placement.stack_bytes if built.port.placement else 0
        print(f"stack high-water mark (painted at reset): {stack} B of the {planned} B stack")
    return 0
