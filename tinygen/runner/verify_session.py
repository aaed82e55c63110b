"""``tinygen verify``: build a port, reach it, check it end to end in one session.

``verify_session`` takes a typed request, builds the firmware (unless told
not to, or the board is real and reached by its port), then runs the checks
of ``runner.verify`` (performance-mode firmware) or ``runner.verify_energy``
(energy-mode firmware behind the interface board and a monitor) in a
``recorded_session``; the CLI prints the PASS/FAIL table.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tinygen.benches import Benchmark
from tinygen.boards import Board
from tinygen.device.emon import supply_voltage
from tinygen.errors import TinygenError
from tinygen.paths import make_folder
from tinygen.port.build import build_firmware
from tinygen.port.manifest import has_manifest, read_manifest
from tinygen.runner.connect import check_build, open_session
from tinygen.runner.cycles import BackgroundEstimate
from tinygen.runner.energy import open_energy_bench
from tinygen.runner.lifecycle import (DutOptions, EnergyOptions, checked_dataset_path, dataset_for,
                                      jobs_for, reach_duts, recorded_session, session_folder)
from tinygen.runner.oracle import Oracle
from tinygen.runner.record import session_facts
from tinygen.runner.shard import sharded_accuracy_runner
from tinygen.runner.verify import VerifyConfig, run_checks
from tinygen.runner.verify_energy import EnergyVerifyConfig, run_energy_checks

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class VerifyRequest:
    """What ``tinygen verify`` was asked to build and check."""

    board: Board
    bench: Benchmark
    mode: str = "performance"          # the firmware: performance or energy
    model: Path | None = None          # default: the committed model
    dataset: Path | None = None        # the accuracy check
    build: Path | None = None          # default build/<board>-<bench>-<mode>
    no_build: bool = False             # use the firmware already in --build
    build_options: dict[str, Any] = field(default_factory=dict)   # opt, runtime, tflm, harness
    out: Path | None = None
    quick: bool = False
    min_seconds: float | None = None   # default 10, or 1 with --quick
    golden: int = 5
    seed: int = 0
    dut: DutOptions = field(default_factory=DutOptions)
    energy: EnergyOptions = field(default_factory=EnergyOptions)


@dataclass
class VerifyOutcome:
    checks: list[dict[str, Any]]
    folder: Path

    @property
    def passed(self) -> bool:
        # A check that could not decide (SKIP, passed None) does not fail verify.
        return all(c["passed"] is not False for c in self.checks)


def verify_session(req: VerifyRequest) -> VerifyOutcome:
    """Build (unless told not to), reach the DUT and run every check."""
    board, bench = req.board, req.bench
    if req.golden < 1:
        raise TinygenError("--golden must be at least 1")
    min_seconds = req.min_seconds or (1.0 if req.quick else 10.0)
    if min_seconds <= 0:
        raise TinygenError("--min-seconds must be > 0")
    if req.dataset is not None:
        checked_dataset_path(req.dataset)
    dataset = dataset_for(bench, req.dataset)
    build_dir, model = _firmware(req)
    if not Path(model).is_file():
        raise TinygenError(f"model {model} not found; pass --model PATH")
    oracle = Oracle(model, bench)
    cfg = VerifyConfig(golden=req.golden, seed=req.seed, quick=req.quick or min_seconds < 10.0,
                       min_seconds=min_seconds, timeout=req.dut.timeout,
                       own_harness=not _foreign_harness(req, build_dir))
    if req.mode == "energy":
        return _energy_checks(req, build_dir, model, oracle, cfg)
    opts = req.dut
    facts = {**session_facts(board, "verify", opts.reached, opts.baud), "bench": bench.id,
             "model": str(model), "build": str(build_dir) if build_dir else None,
             "quick": req.quick}
    with recorded_session(session_folder(req.out, board, bench, "verify"), facts) as record, \
            contextlib.ExitStack() as lab:
        # --port list / --place / --jobs: latency on the first DUT, accuracy on all.
        ports = reach_duts(opts, board, build_dir, lab, record)
        jobs = jobs_for(opts, ports)
        if jobs > 1 and dataset is None:
            log.info("--jobs applies to the accuracy check (--dataset); the other checks "
                     "run on one DUT")
        if jobs > 1 and dataset is not None:
            cfg.accuracy_runner = sharded_accuracy_runner(
                board, build_dir, ports, jobs, chunk_bytes=opts.chunk_bytes, baud=opts.baud)
        with open_session(board, build_dir, ports[0] if ports else None, record,
                          timeout=opts.timeout, chunk_bytes=opts.chunk_bytes,
                          baud=opts.baud) as dut:
            if record.data.get("emulation") and build_dir is not None:
                # The latency check's estimated cycles come from a traced run
                # of the same firmware: start it now, beside the checks.
                log.info("estimating cycles in the background: one traced inference of %s",
                         build_dir)
                cfg.cycle_estimate = BackgroundEstimate(board, build_dir, bench)
            checks = run_checks(dut, bench, oracle, record, cfg, dataset)
        outcome = VerifyOutcome(checks, record.folder)
        record.finish("passed" if outcome.passed else "failed")
    return outcome


def _energy_checks(req: VerifyRequest, build_dir: Path | None, model: Path, oracle: Oracle,
                   cfg: VerifyConfig) -> VerifyOutcome:
    board, bench, eo = req.board, req.bench, req.energy
    voltage = supply_voltage(board, eo.voltage)
    ecfg = EnergyVerifyConfig(golden=min(req.golden, 2), seed=req.seed, quick=cfg.quick,
                              timeout=req.dut.timeout, energy_seconds=cfg.min_seconds,
                              voltage=voltage)
    port = "real" if eo.instruments_given else None
    facts = {**session_facts(board, "verify", port, None), "bench": bench.id,
             "energy_mode": True, "model": str(model), "quick": cfg.quick,
             "build": str(build_dir) if build_dir else None}
    with recorded_session(session_folder(req.out, board, bench, "verify-energy"), facts) as record:
        with open_energy_bench(board, build_dir, emon=eo.emon, emon_port=eo.emon_port,
                               interface=eo.interface, interface_port=eo.interface_port,
                               record=record, voltage=voltage, timeout=req.dut.timeout,
                               chunk_bytes=req.dut.chunk_bytes) as eb:
            checks = run_energy_checks(eb, bench, oracle, record, ecfg, board)
        outcome = VerifyOutcome(checks, record.folder)
        record.finish("passed" if outcome.passed else "failed")
    return outcome


def _foreign_harness(req: VerifyRequest, build_dir: Path | None) -> bool:
    """Built against a --harness folder (now, or as the build's manifest says)."""
    if req.build_options.get("harness"):
        return True
    if build_dir is not None and has_manifest(build_dir):
        return bool(read_manifest(build_dir).harness)
    return False


def _firmware(req: VerifyRequest) -> tuple[Path | None, Path]:
    """(build folder, model path), after building unless told not to."""
    board, bench = req.board, req.bench
    if req.no_build or (board.is_real and not board.is_emulated and not board.is_host
                        and not req.dut.place):
        build_dir = req.build
        model = req.model
        if build_dir is not None and (model is None or has_manifest(build_dir)):
            manifest = read_manifest(build_dir)
            check_build(Path(build_dir), manifest, board, bench, req.mode)
            if model is None:
                model = manifest.model.path
        model = Path(model) if model else bench.model_path
        return build_dir, model
    kwargs = {"model_path": req.model, "mode": req.mode, **req.build_options}
    if req.build is not None:
        kwargs["out_dir"] = make_folder(req.build, "build folder", "pass another --build DIR")
    log.info("building %s for %s ...", bench.id, board.name)
    result = build_firmware(board, bench, **kwargs)
    build_dir = Path(result.build_dir)
    model = read_manifest(build_dir).model.path
    return build_dir, Path(model) if model else (req.model or bench.model_path)
