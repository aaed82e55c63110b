"""tinygen run --bench sww: the streaming wakeword run (called from tinygen.cli.run).

One run plays a stream (``--dataset``: a folder holding ``sww01/*.json`` and
their WAVs, or one stream JSON) through the interface board and gives every
figure: TP / FN / FP, duty cycle, estimated throughput and, in energy mode,
power. On an emulated board with no --interface-port the interface board is
a SIMULATOR around the emulated DUT (pin edges in QEMU virtual time) and
the power an estimate from the board's power: block.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from tinygen.boards import Board
from tinygen.errors import TinygenError
from tinygen.runner.record import (SessionRecord, default_session_dir, firmware_identity,
                                   session_facts)

log = logging.getLogger(__name__)

SWW_ID = "sww01"
SWW_NAMES = ("sww", SWW_ID)


def is_sww(bench_name: str | None) -> bool:
    return bench_name is not None and bench_name.strip().lower() in SWW_NAMES


def sww_build_dir(board: Board, mode: str, build: Path | None) -> Path:
    from tinygen.benches import get_bench
    from tinygen.port.manifest import default_build_dir
    path = Path(build) if build is not None else default_build_dir(board, get_bench(SWW_ID), mode)
    if not (path / "build.json").is_file():
        raise TinygenError(f"no sww build in {path}; run 'tinygen build --board {board.name} "
                           f"--bench sww --mode {mode}' or pass --build DIR")
    return path


def run_sww(args: argparse.Namespace, board: Board) -> int:
    from tinygen.runner.sww_run import open_stream_bench, run_stream
    from tinygen.runner.sww_stream import load_stream

    if args.mode not in ("performance", "energy"):
        raise TinygenError("sww: one streaming run gives the accuracy (TP/FN/FP) too; use "
                           "--mode performance, or energy with an energy monitor")
    if args.dataset is None:
        raise TinygenError("sww needs a stream: pass --dataset DIR (sww01/*.json beside their "
                           "WAVs) or a stream JSON; build one with 'tinygen sww-stream'")
    stream = load_stream(args.dataset)
    simulated = board.is_emulated and args.interface_port is None
    build_dir = sww_build_dir(board, args.mode, args.build) if simulated else args.build
    voltage = args.voltage or (board.power.supply_v if board.power else 3.3)
    out = args.out or default_session_dir(board.name, SWW_ID, args.mode)
    with SessionRecord(out) as record:
        record.data.update(session_facts(board, args.mode, None if simulated else "real", None),
                           bench=SWW_ID, build=str(build_dir) if build_dir else None,
                           firmware=firmware_identity(build_dir), dataset=str(stream.json))
        log.info("session folder: %s", record.folder)
        try:
            with open_stream_bench(board, build_dir, stream, record,
                                   interface_port=args.interface_port, mode=args.mode,
                                   emon=args.emon, emon_port=args.emon_port, voltage=voltage,
                                   timeout=args.timeout) as bench:
                name = bench.iface.name()
                profile, model = bench.iface.profile()
                record.data["dut"] = {"name": name, "profile": profile, "model": model}
                if model != SWW_ID:
                    raise TinygenError(f"the DUT runs {model}, not {SWW_ID}; flash the sww "
                                       "firmware ('tinygen build --bench sww')")
                sww = run_stream(bench, board, stream, record, args.mode, voltage, args.timeout)
            compare = getattr(args, "compare_build", None)
            if compare is not None:
                if not simulated:
                    raise TinygenError("--compare-build runs the stream again on an emulated "
                                       "board; on a real bench flash the other build and run "
                                       "again")
                sww["compare"] = {_label(build_dir): _duty_summary(sww),
                                  _label(compare): _compare_run(board, Path(compare), stream,
                                                                record, args, voltage)}
                record.save()
        except KeyboardInterrupt:
            record.finish("interrupted", "stopped by Ctrl-C")
            raise
        except TinygenError as exc:
            record.finish("failed", str(exc))
            log.info("what was measured before the error is in %s", record.folder)
            raise
        record.finish("complete")
        print((record.folder / "results.txt").read_text(), end="")
        log.info("session folder: %s", record.folder)
    return 0


def _label(build_dir: Path) -> str:
    """A build's name in the comparison: its plan if build.json says, else its folder."""
    import json
    try:
        manifest = json.loads((Path(build_dir) / "build.json").read_text())
    except (OSError, ValueError):
        manifest = {}
    stream = manifest.get("stream") if isinstance(manifest.get("stream"), dict) else {}
    plan = manifest.get("stream_plan") or stream.get("plan")
    return f"{plan} ({Path(build_dir).name})" if plan else Path(build_dir).name


def _duty_summary(sww: dict) -> dict:
    board = sww.get("board_clock") or {}
    return {"duty_cycle": sww["duty"]["duty_cycle"],
            "processing_instructions": sww.get("processing_instructions"),
            "board_clock_duty_cycle": board.get("duty_cycle")}


def _compare_run(board: Board, build_dir: Path, stream, record: SessionRecord,
                 args: argparse.Namespace, voltage: float) -> dict:
    """The same stream on another build (e.g. full-window vs incremental inference):
    its own session folder under compare/, its duty cycle back."""
    from tinygen.runner.sww_run import open_stream_bench, run_stream
    if not (build_dir / "build.json").is_file():
        raise TinygenError(f"--compare-build {build_dir} holds no build.json")
    log.info("the same stream on %s, for comparison", build_dir)
    with SessionRecord(record.folder / "compare" / build_dir.name) as other:
        other.data.update(session_facts(board, args.mode, None, None), bench=SWW_ID,
                          build=str(build_dir), firmware=firmware_identity(build_dir))
        with open_stream_bench(board, build_dir, stream, other, interface_port=None,
                               mode=args.mode, voltage=voltage, timeout=args.timeout) as bench:
            sww = run_stream(bench, board, stream, other, args.mode, voltage, args.timeout)
        other.finish("complete")
    return _duty_summary(sww)
