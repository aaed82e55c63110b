"""``tinygen profile``: where an inference spends its time, operator by operator.

The profiling build (-DTG_PROFILE=1) reads the platform's microsecond
timestamp between operators and adds each operator's time to a counter;
after 'infer N 0' the firmware prints the sums (m-profile-op-I-US) and the
stack high-water mark from stack painting (m-profile-stack-BYTES). Under
QEMU with -icount shift=S one instruction is 2**S ns, so instructions per
inference = us * 1000 / 2**S / N.

``profile_session`` builds that firmware, runs it in a ``recorded_session``
(log.txt holds the transcript, results.json the rows) and hands back the
rows; ``render`` is the table the CLI prints.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tinygen.benches import INPUT_FLOAT32_QUANTIZE, Benchmark
from tinygen.boards import Board
from tinygen.device.launch import start_dut
from tinygen.device.session import DutSession
from tinygen.errors import TinygenError
from tinygen.ir import load_model
from tinygen.paths import make_folder
from tinygen.plan import plan_model
from tinygen.port.build import build_firmware
from tinygen.port.generate import default_build_dir
from tinygen.runner.cycles import CORE_TIMINGS, operator_cycles
from tinygen.runner.lifecycle import recorded_session, session_folder
from tinygen.runner.record import firmware_identity, session_facts
from tinygen.text import format_table

PROFILE_FILE = "profile.json"    # in the build folder: the rows, for tinygen report
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


def stimulus(bench: Benchmark, seed: int) -> bytes:
    """A seeded random input in the benchmark's byte format."""
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

    def ms(cycles, instructions):
        return f"{(cycles if cycles is not None else instructions) / clock_hz * 1000:.3f}"

    for r in rows:
        cycles = r.get("cycles")
        table.append([str(r["op"]), r["kind"], r["summary"], f"{r['macs']:,}",
                      f"{r['instructions']:,.0f}", per_mac(r["instructions"], r["macs"]),
                      f"{cycles:,}" if cycles is not None else "-", per_mac(cycles, r["macs"]),
                      f"{100 * r['share']:.1f}%", ms(cycles, r["instructions"])])
    instr = sum(r["instructions"] for r in rows)
    macs = sum(r["macs"] for r in rows)
    cycles = (sum(r["cycles"] for r in rows)
              if all(r.get("cycles") is not None for r in rows) else None)
    table.append(["", "total", "", f"{macs:,}", f"{instr:,.0f}", per_mac(instr, macs),
                  f"{cycles:,}" if cycles is not None else "-", per_mac(cycles, macs), "100.0%",
                  ms(cycles, instr)])
    text = format_table(table, right={3, 4, 5, 6, 7, 8, 9})
    if window_instr is not None:
        text += (f"\nwhole inference (m-lap-us window, includes the timing reads): "
                 f"{window_instr:,.0f} instructions")
    return text


@dataclass(frozen=True)
class ProfileRequest:
    board: Board
    bench: Benchmark
    model: Path | None = None          # default: the committed model
    inferences: int = 10
    build: Path | None = None          # default build/<board>-<bench id>-profile
    out: Path | None = None            # the session folder (default under sessions/)
    seed: int = 1


@dataclass
class ProfileOutcome:
    folder: Path
    profile: dict[str, Any] = field(default_factory=dict)

    def text(self) -> str:
        """What the CLI prints: the heading, the table, the stack line."""
        return "\n".join(self.profile["profile_lines"])

    @property
    def rows(self) -> list[dict]:
        return self.profile["rows"]


def profile_session(req: ProfileRequest) -> ProfileOutcome:
    """Build the profiling firmware, run it under QEMU, and keep the rows."""
    board, bench = req.board, req.bench
    if not board.is_emulated:
        raise TinygenError(f"board {board.name} is not emulated; profile runs under QEMU: use "
                           "one of the emulated boards (tinygen boards)")
    if req.inferences < 1:
        raise TinygenError("--inferences must be at least 1")
    model_path = req.model or bench.model_path
    out = make_folder(req.build or default_build_dir(board, bench, "profile"), "build folder",
                      "pass another --out DIR")
    built = build_firmware(board, bench, model_path=model_path, out_dir=out, profile=True)
    plan = plan_model(load_model(Path(built.port.model_path)))
    shift = board.emulator.icount_shift
    facts = {**session_facts(board, "profile", None, None), "bench": bench.id,
             "model": str(model_path), "build": str(built.build_dir),
             "firmware": firmware_identity(built.build_dir)}
    with recorded_session(session_folder(req.out, board, bench, "profile"), facts) as record:
        with start_dut(board, built.build_dir, log_path=record.folder / "dut.log") as dut, \
                DutSession(dut.url, timeout=600, transcript=record.transcript) as session:
            session.wait_ready(timeout=60)
            session.load(stimulus(bench, req.seed))
            lines = session.command(f"infer {req.inferences} 0", timeout=3600)
        op_us, window = parse_profile(lines, len(plan.calls))
        rows = profile_rows(plan.calls, op_us, req.inferences, shift)
        if board.cpu in CORE_TIMINGS:
            op_cycles, estimate = operator_cycles(board, built.build_dir,
                                                  stimulus(bench, req.seed), len(rows))
            cycle_note = (f"est. cycles from one traced inference ({estimate.basis}; "
                          f"{estimate.confidence} confidence); est. ms = estimated cycles")
        else:   # instructions are still measured; the core has no timing table
            op_cycles = [None] * len(rows)
            cycle_note = (f"no cycle model for {board.cpu} (estimated cycles exist for "
                          f"{', '.join(CORE_TIMINGS)}); est. ms = instructions as cycles")
        for row, cycles in zip(rows, op_cycles):
            row["cycles"] = cycles
        window_instr = window * 1000 / (2 ** shift) / req.inferences if window else None
        stack = parse_stack(lines)
        planned = built.port.placement.stack_bytes if built.port.placement else 0
        waits = board.flash_wait_states
        text = [f"{bench.id} on {board.name}: virtual time under QEMU -icount shift={shift} "
                f"(instructions), {req.inferences} inferences; {cycle_note} "
                f"at {board.clock_hz / 1e6:g} MHz, zero flash wait states"
                + (f" (the part has {waits} at this clock)" if waits else ""),
                render(rows, board.clock_hz, window_instr)]
        if stack is not None:
            text.append(f"stack high-water mark (painted at reset): {stack} B of the "
                        f"{planned} B stack")
        # The same keys as the build folder's profile.json, which tinygen report reads.
        profile = {"board": board.name, "bench": bench.id, "inferences": req.inferences,
                   "icount_shift": shift, "clock_hz": board.clock_hz, "rows": rows,
                   "window_instructions": window_instr, "stack_bytes": stack}
        (Path(built.build_dir) / PROFILE_FILE).write_text(json.dumps(profile, indent=2) + "\n")
        record.data.update(profile, stack_planned_bytes=planned, profile_lines=text)
    return ProfileOutcome(record.folder, record.data)
