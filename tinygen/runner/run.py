"""``tinygen run``: one measurement session (performance, accuracy or energy).

``run_session`` takes a typed request, finds the firmware (host and
emulated DUTs are started from their build folder; real boards are reached
by --port, a labgrid place or their USB id), measures in a
``recorded_session`` and hands back the session folder; the CLI prints its
results.txt.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

from tinygen.benches import Benchmark, get_bench
from tinygen.boards import Board
from tinygen.device.emon import supply_voltage
from tinygen.errors import TinygenError
from tinygen.port.manifest import has_manifest, locate_build, read_manifest
from tinygen.runner.connect import check_build, open_session
from tinygen.runner.cycles import attach_cycle_estimate
from tinygen.runner.dataset import random_stimuli
from tinygen.runner.energy import (EnergyConfig, estimated_energy, find_energy_build,
                                   open_energy_bench, run_energy)
from tinygen.runner.lifecycle import (DutOptions, EnergyOptions, checked_dataset_path, dataset_for,
                                      jobs_for, reach_duts, recorded_session, session_folder)
from tinygen.runner.measure import PerformanceConfig, check_model, run_accuracy, run_performance
from tinygen.runner.record import SessionRecord, firmware_identity, session_facts
from tinygen.runner.shard import check_duts, open_duts, run_accuracy_sharded

log = logging.getLogger(__name__)

MODES = ("performance", "accuracy", "energy")


@dataclass(frozen=True)
class RunRequest:
    """What ``tinygen run`` was asked to measure."""

    board: Board
    mode: str                          # performance, accuracy or energy
    bench: Benchmark | None = None     # None: from the build or the DUT
    build: Path | None = None
    dataset: Path | None = None        # required for accuracy
    out: Path | None = None            # the session folder (default under sessions/)
    dut: DutOptions = field(default_factory=DutOptions)
    energy: EnergyOptions = field(default_factory=EnergyOptions)
    min_seconds: float = 10.0
    min_inferences: int = 10
    warmup: int = 10
    seed: int = 0                      # random stimuli without --dataset


def run_session(req: RunRequest) -> Path:
    """Measure as asked; the session folder (results.txt, results.json, log.txt)."""
    if req.mode not in MODES:
        raise TinygenError(f"unknown mode '{req.mode}'; use one of {', '.join(MODES)}")
    if req.mode == "accuracy" and req.dataset is None:
        raise TinygenError("accuracy mode needs a dataset; pass --dataset DIR (EEMBC layout, "
                           "see tinygen run --help)")
    if req.min_seconds <= 0 or req.min_inferences < 1 or req.warmup < 0:
        raise TinygenError("--min-seconds must be > 0, --min-inferences >= 1, --warmup >= 0")
    if req.dataset is not None:
        checked_dataset_path(req.dataset)
    if req.mode == "energy":
        return _energy_session(req)
    return _protocol_session(req)


def _check_given_build(req: RunRequest, bench: Benchmark | None, mode: str) -> None:
    """A --build recorded for a DUT tinygen does not start: still its board and mode."""
    if req.build is not None and has_manifest(req.build):
        check_build(Path(req.build), read_manifest(req.build), req.board, bench, mode)


def _protocol_session(req: RunRequest) -> Path:
    board, bench, opts = req.board, req.bench, req.dut
    build_dir = None
    if opts.port is None and (board.is_host or board.is_emulated or opts.place):
        build_dir = locate_build(board, bench, req.build)
        manifest = read_manifest(build_dir)
        built = check_build(build_dir, manifest, board, bench, "performance")
        bench = bench or built
    else:
        _check_given_build(req, bench, "performance")
    dataset = dataset_for(bench, req.dataset)
    build = build_dir or req.build
    # A labgrid place counts like --port: tinygen reaches a DUT it did not start.
    facts = {**session_facts(board, req.mode, opts.reached, opts.baud),
             "bench": bench.id if bench else None,
             "build": str(build) if build else None, "firmware": firmware_identity(build),
             "dataset": str(dataset.folder) if dataset else None}
    with recorded_session(session_folder(req.out, board, bench, req.mode), facts) as record, \
            contextlib.ExitStack() as lab:
        # --port list / --place / --jobs: the DUTs (places held until the end).
        ports = reach_duts(opts, board, build_dir, lab, record)
        jobs = jobs_for(opts, ports)
        if req.mode == "accuracy" and jobs > 1:
            _sharded_accuracy(req, bench, build_dir, ports, jobs, dataset, record)
            return record.folder
        if jobs > 1:
            log.info("performance mode measures one DUT (the rules): using the first of %d", jobs)
        with open_session(board, build_dir, ports[0] if ports else None, record,
                          timeout=opts.timeout, chunk_bytes=opts.chunk_bytes,
                          baud=opts.baud) as dut:
            if bench is None:
                bench = get_bench(dut.profile()[1])
                record.data["bench"] = bench.id
                dataset = dataset_for(bench, req.dataset)
            check_model(dut, bench, record)
            record.save()
            if req.mode == "performance":
                stimuli = (dataset.performance_stimuli() if dataset
                           else random_stimuli(bench, 5, seed=req.seed))
                cfg = PerformanceConfig(min_seconds=req.min_seconds,
                                        min_inferences=req.min_inferences, warmup=req.warmup,
                                        short=req.min_seconds < 10.0)
                run_performance(dut, bench, stimuli, record, cfg, base_timeout=opts.timeout)
            else:
                run_accuracy(dut, bench, dataset, record, timeout=opts.timeout)
    return record.folder


def _sharded_accuracy(req: RunRequest, bench, build_dir, ports, jobs, dataset,
                      record: SessionRecord) -> None:
    opts = req.dut
    with open_duts(req.board, build_dir, ports, jobs, record, timeout=opts.timeout,
                   chunk_bytes=opts.chunk_bytes, baud=opts.baud) as duts:
        if bench is None:  # a --port list: the DUTs say what they run
            bench = check_duts(duts, None, record)
            record.data["bench"] = bench.id
            dataset = dataset_for(bench, req.dataset)
        else:
            check_duts(duts, bench, record)
        record.save()
        run_accuracy_sharded(duts, bench, dataset, record, timeout=opts.timeout)


def _energy_session(req: RunRequest) -> Path:
    board, bench, eo, opts = req.board, req.bench, req.energy, req.dut
    voltage = supply_voltage(board, eo.voltage)
    build_dir = None
    if board.is_emulated and not eo.instruments_given:
        build_dir = find_energy_build(board, bench, req.build)
        bench = bench or read_manifest(build_dir).benchmark
    else:
        _check_given_build(req, bench, "energy")
    dataset = dataset_for(bench, req.dataset)
    build = build_dir or req.build
    port = None if build_dir else (eo.interface_port or "real")
    facts = {**session_facts(board, "energy", port, None),
             "bench": bench.id if bench else None,
             "build": str(build) if build else None, "firmware": firmware_identity(build),
             "dataset": str(dataset.folder) if dataset else None}
    with recorded_session(session_folder(req.out, board, bench, "energy"), facts) as record:
        with open_energy_bench(board, build_dir, emon=eo.emon, emon_port=eo.emon_port,
                               interface=eo.interface, interface_port=eo.interface_port,
                               record=record, voltage=voltage, timeout=opts.timeout,
                               chunk_bytes=opts.chunk_bytes) as eb:
            if bench is None:
                bench = get_bench(eb.dut.profile()[1])
                record.data["bench"] = bench.id
                dataset = dataset_for(bench, req.dataset)
            check_model(eb.dut, bench, record)
            record.save()
            stimuli = (dataset.performance_stimuli() if dataset
                       else random_stimuli(bench, 5, seed=req.seed))
            cfg = EnergyConfig(min_seconds=req.min_seconds, min_inferences=req.min_inferences,
                               warmup=req.warmup, voltage=voltage, simulated=eb.simulated)
            energy = run_energy(eb.dut, eb.monitor, bench, stimuli, record, cfg,
                                base_timeout=opts.timeout)
            if energy["windows"]:
                w = energy["windows"][len(energy["windows"]) // 2]
                # Emulated: price a traced inference so the estimate is in board time.
                figures = attach_cycle_estimate(record, bench) if build_dir else None
                est = estimated_energy(board, w["seconds"] / w["count"], voltage,
                                       cycles=figures, emulated=build_dir is not None)
                if est:
                    energy["estimate"] = est
    return record.folder
