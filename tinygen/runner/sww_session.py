"""tinygen run --bench sww: the streaming wakeword session.

One run plays a stream (``--dataset``: a folder holding ``sww01/*.json`` and
their WAVs, or one stream JSON) through the interface board and gives every
figure: TP / FN / FP, duty cycle, estimated throughput and, in energy mode,
power. On an emulated board with no --interface-port the interface board is
a SIMULATOR around the emulated DUT (pin edges in QEMU virtual time) and
the power an estimate from the board's power: block. The session lifecycle
is the runner's (tinygen.runner.lifecycle), as for every other run.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tinygen.benches import get_bench
from tinygen.boards import Board
from tinygen.device.emon import supply_voltage
from tinygen.errors import TinygenError
from tinygen.port.manifest import default_build_dir, has_manifest, read_manifest
from tinygen.runner.lifecycle import EnergyOptions, recorded_session, session_folder
from tinygen.runner.record import SessionRecord, firmware_identity, session_facts
from tinygen.runner.sww_run import open_stream_bench, run_stream
from tinygen.runner.sww_stream import StreamEntry, load_stream

log = logging.getLogger(__name__)

SWW_ID = "sww01"
SWW_NAMES = ("sww", SWW_ID)


def is_sww(bench_name: str | None) -> bool:
    return bench_name is not None and bench_name.strip().lower() in SWW_NAMES


@dataclass(frozen=True)
class SwwRequest:
    """What ``tinygen run --bench sww`` was asked to do."""

    board: Board
    mode: str                              # performance or energy
    dataset: Path | None                   # sww01/*.json + WAVs, or one stream JSON
    build: Path | None = None
    out: Path | None = None
    energy: EnergyOptions = field(default_factory=EnergyOptions)
    timeout: float = 10.0
    compare_build: Path | None = None      # emulated: the same stream on this build too


def sww_build_dir(board: Board, mode: str, build: Path | None) -> Path:
    path = Path(build) if build is not None else default_build_dir(board, get_bench(SWW_ID), mode)
    if not has_manifest(path):
        raise TinygenError(f"no sww build in {path}; run 'tinygen build --board {board.name} "
                           f"--bench sww --mode {mode}' or pass --build DIR")
    return path


def run_sww_session(req: SwwRequest) -> Path:
    """Play the stream and score it; the session folder (results.txt, results.json,
    log.txt, timeline.png)."""
    board, energy = req.board, req.energy
    if req.mode not in ("performance", "energy"):
        raise TinygenError("sww: one streaming run gives the accuracy (TP/FN/FP) too; use "
                           "--mode performance, or energy with an energy monitor")
    if req.dataset is None:
        raise TinygenError("sww needs a stream: pass --dataset DIR (sww01/*.json beside their "
                           "WAVs) or a stream JSON; build one with 'tinygen sww-stream'")
    stream = load_stream(req.dataset)
    simulated = board.is_emulated and energy.interface_port is None
    if req.compare_build is not None and not simulated:
        raise TinygenError("--compare-build runs the stream again on an emulated board; on a "
                           "real bench flash the other build and run again")
    build_dir = sww_build_dir(board, req.mode, req.build) if simulated else req.build
    voltage = supply_voltage(board, energy.voltage)
    facts = {**session_facts(board, req.mode, None if simulated else "real", None),
             "bench": SWW_ID, "build": str(build_dir) if build_dir else None,
             "firmware": firmware_identity(build_dir), "dataset": str(stream.json)}
    # The runner's session lifecycle: Ctrl-C -> interrupted, a fault -> failed.
    with recorded_session(session_folder(req.out, board, get_bench(SWW_ID), req.mode),
                          facts) as record:
        with open_stream_bench(board, build_dir, stream, record,
                               interface_port=energy.interface_port, mode=req.mode,
                               emon=energy.emon, emon_port=energy.emon_port, voltage=voltage,
                               timeout=req.timeout) as bench:
            name = bench.iface.name()
            profile, model = bench.iface.profile()
            record.data["dut"] = {"name": name, "profile": profile, "model": model}
            if model != SWW_ID:
                raise TinygenError(f"the DUT runs {model}, not {SWW_ID}; flash the sww "
                                   "firmware ('tinygen build --bench sww')")
            sww = run_stream(bench, board, stream, record, req.mode, voltage, req.timeout)
        if req.compare_build is not None:
            compare = Path(req.compare_build)
            sww["compare"] = {_label(build_dir): _duty_summary(sww),
                              _label(compare): _compare_run(req, compare, stream, record,
                                                            voltage)}
            record.save()
    return record.folder


def _label(build_dir: Path) -> str:
    """A build's name in the comparison: its per-hop plan as build.json says, and its folder."""
    stream = read_manifest(build_dir).stream if has_manifest(build_dir) else None
    plan = stream.plan if stream is not None else ""
    return f"{plan} ({Path(build_dir).name})" if plan else Path(build_dir).name


def _duty_summary(sww: dict[str, Any]) -> dict[str, Any]:
    board = sww.get("board_clock") or {}
    return {"duty_cycle": sww["duty"]["duty_cycle"],
            "processing_instructions": sww.get("processing_instructions"),
            "board_clock_duty_cycle": board.get("duty_cycle")}


def _compare_run(req: SwwRequest, build_dir: Path, stream: StreamEntry, record: SessionRecord,
                 voltage: float) -> dict[str, Any]:
    """The same stream on another build (e.g. full-window vs incremental inference):
    its own session folder under compare/, its duty cycle back."""
    if not has_manifest(build_dir):
        raise TinygenError(f"--compare-build {build_dir} holds no build.json")
    log.info("the same stream on %s, for comparison", build_dir)
    with SessionRecord(record.folder / "compare" / build_dir.name) as other:
        other.data.update(session_facts(req.board, req.mode, None, None), bench=SWW_ID,
                          build=str(build_dir), firmware=firmware_identity(build_dir))
        with open_stream_bench(req.board, build_dir, stream, other, interface_port=None,
                               mode=req.mode, voltage=voltage, timeout=req.timeout) as bench:
            sww = run_stream(bench, req.board, stream, other, req.mode, voltage, req.timeout)
        other.finish("complete")
    return _duty_summary(sww)
