"""tinygen verify: build a port, start it and prove it is a correct MLPerf Tiny DUT."""

from __future__ import annotations

import argparse
import contextlib
import logging
from pathlib import Path

from tinygen.benches import get_bench
from tinygen.boards import load_board
from tinygen.cli.build import RUNTIME_HELP, add_runtime_options, runtime_kwargs
from tinygen.cli.duts import HELP_TEXT as DUTS_HELP
from tinygen.cli.duts import add_jobs_option, add_place_option, dut_ports, jobs_for
from tinygen.cli.run import add_dut_options, add_energy_options
from tinygen.errors import TinygenError
from tinygen.port.manifest import has_manifest, read_manifest
from tinygen.runner.connect import open_session
from tinygen.runner.dataset import load_dataset
from tinygen.runner.oracle import Oracle
from tinygen.runner.record import SessionRecord, check_word, default_session_dir, session_facts
from tinygen.runner.verify import VerifyConfig, run_checks

log = logging.getLogger(__name__)

DESCRIPTION = """\
Build the firmware for a board and benchmark, start it (host process, QEMU)
or reach it on its serial port, and check it end to end. Prints a PASS/FAIL
table and exits 0 only if every check passes. The session folder keeps the
transcript (log.txt), the table and figures (results.txt, results.json).

checks:
  handshake             name, profile, and the model id equals the benchmark
  protocol conformance  bad input is refused with e-[...] and m-ready, never a
                        crash: oversize 'db load', odd and non-hex digits, bytes
                        beyond N, a 100-character line, an unknown command,
                        'infer 0'; 'results' is unchanged afterwards and the
                        same stimulus gives the same answer again
  golden outputs        --golden random stimuli in the benchmark's byte format;
                        the TFLM oracle (tflite-micro) runs the same model on the
                        same input after the DUT's conversion; classifier outputs
                        must match bit for bit (the int8 value recovered from
                        each printed probability), the ad01 MSE within print
                        precision; the last stimulus again after 3 inferences
                        on one load ('infer 2 1', as the official runner does)
  latency               performance mode: 5 windows of >= 10 s and >= 10
                        inferences, median throughput; --quick shortens the
                        windows to 1 s (and says so)
  accuracy              with --dataset: top-1 or AUC and the quality target; the
                        target is judged only over the full official set (1000
                        stimuli for kws/vww, 200 for ic, 248 files for ad),
                        else the check says "not checked: N of M ..." (SKIP,
                        not a failure)

--bench sww (streaming wakeword, emulated boards): builds the streaming
firmware with a hop log, streams the marvin clip (../shared) or a synthetic
word through QEMU and checks handshake, features (bit-exact with the Python
reference), outputs (bit-exact with the TFLM oracle), pins, hop budget and
the stream's score; --quick streams 3 s instead of 10 s.

{duts}
Real boards are not built or flashed here (except through a labgrid --place): flash them first (tinygen flash)
and this command finds the port by USB id, or give --port.

--mode energy builds energy-mode firmware and checks it behind the interface
board and an energy monitor (see tinygen run --help, energy). On emulated
boards both are SIMULATORS of their protocols and the timestamp pin is
watched inside QEMU (GDB stub watchpoints on the GPIO port, QMP for the
instruction count), with these checks:
  handshake             through the interface board ('dut name%', ...)
  timestamp             'timestamp' prints no time and gives one low pulse >= 1 us
  interface framing     the DUT's UART divisor gives 9600 baud; a stimulus sent in
                        26-byte db lines through the board reads back exactly
  timestamp pulses      each 'infer N W' gives one pulse >= 1 us before and one after
                        the timed inferences, none between, and the window holds
                        exactly N inferences (infer 2 1 and infer 6 3 compared)
  golden outputs        as above, through the interface board
  energy                the energy procedure (5 windows, median uJ/inf), labelled
                        simulated on emulated boards, plus the *estimated* energy
                        from the board's power: block; --quick: 1 s windows

""" + RUNTIME_HELP + """
examples:
  tinygen verify --board host --bench kws --quick
  tinygen verify --board mps2_an386 --bench kws --quick --runtime tflm --tflm ~/tflm-tree
  tinygen verify --board disco_l475vg_iot01a --bench ad --dataset data/ --quick
  tinygen verify --board mps2_an386 --bench ic --model my_resnet.tflite
  tinygen verify --board disco_l475vg_iot01a --bench kws --dataset data/ --jobs 2
  LG_COORDINATOR=lab:20408 tinygen verify --board disco_l475vg_iot01a --bench kws --quick \\
      --place disco-1
  tinygen verify --board disco_l475vg_iot01a --bench kws --mode energy --quick
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("verify", help="build, start and check a port end to end",
                       description=DESCRIPTION.replace("{duts}", DUTS_HELP),
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--board", required=True, help="board name (tinygen boards) or YAML path")
    p.add_argument("--bench", required=True, help="benchmark: kws, vww, ic, ic2, ad, sww (or kws01, ...)")
    p.add_argument("--model", type=Path, metavar="PATH",
                   help="int8 .tflite model (default: the committed models/<bench>.tflite)")
    p.add_argument("--dataset", type=Path, metavar="DIR",
                   help="dataset folder (EEMBC layout) for the accuracy check; the official "
                        "sets: tinygen dataset fetch|build")
    p.add_argument("--quick", action="store_true",
                   help="short latency windows (1 s, >= 10 inferences) instead of 10 s; on "
                        "a slow emulator shorter still, to about 25 s in all")
    p.add_argument("--min-seconds", type=float, default=None, metavar="S",
                   help="latency: each timed window lasts at least this, DUT time "
                        "(default 10, or 1 with --quick)")
    p.add_argument("--build", type=Path, metavar="DIR",
                   help="build folder (default build/<board>-<bench>-performance)")
    p.add_argument("--no-build", action="store_true",
                   help="use the firmware already in --build instead of rebuilding it")
    p.add_argument("--golden", type=int, default=5, metavar="N",
                   help="random stimuli compared with the TFLM oracle (default 5)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random stimuli (default 0)")
    p.add_argument("--opt", default="O2", choices=("O2", "Os"), help="compiler optimisation")
    p.add_argument("--mode", default="performance", choices=("performance", "energy"),
                   help="firmware to build and check (default performance)")
    add_runtime_options(p)
    add_dut_options(p)
    add_jobs_option(p)
    add_place_option(p)
    add_energy_options(p)
    p.set_defaults(handler=run)


def _build(board, bench, args) -> tuple[Path | None, Path]:
    """(build folder, model path) after building unless told not to."""
    if args.no_build or (board.is_real and not board.is_emulated and not board.is_host
                         and not args.place):
        build_dir = args.build
        model = args.model
        if build_dir is not None and model is None:
            model = read_manifest(build_dir).model.path
        model = Path(model) if model else bench.model_path
        return build_dir, model
    from tinygen.port.build import build_firmware
    log.info("building %s for %s ...", bench.id, board.name)
    kwargs = {"model_path": args.model, "mode": args.mode, "opt": args.opt,
              **runtime_kwargs(args)}
    if args.build is not None:
        kwargs["out_dir"] = args.build
    result = build_firmware(board, bench, **kwargs)
    build_dir = Path(result.build_dir)
    model = read_manifest(build_dir).model.path
    return build_dir, Path(model) if model else (args.model or bench.model_path)


def _foreign_harness(args, build_dir) -> bool:
    """Built against a --harness folder (now, or as the build's manifest says)."""
    if getattr(args, "harness", None):
        return True
    if build_dir is not None and has_manifest(build_dir):
        return bool(read_manifest(build_dir).harness)
    return False


def run(args: argparse.Namespace) -> int:
    board = load_board(args.board)
    bench = get_bench(args.bench)
    if bench.is_streaming:  # sww01: audio in, features and detections (tinygen.stream)
        from tinygen.stream.verify import run_stream_verify
        return _print_checks(*run_stream_verify(args, board, bench))
    if args.golden < 1:
        raise TinygenError("--golden must be at least 1")
    dataset = load_dataset(bench, args.dataset) if args.dataset else None
    build_dir, model = _build(board, bench, args)
    if not Path(model).is_file():
        raise TinygenError(f"model {model} not found; pass --model PATH")
    oracle = Oracle(model, bench)
    cfg = VerifyConfig(golden=args.golden, seed=args.seed, quick=args.quick,
                       min_seconds=args.min_seconds or (1.0 if args.quick else 10.0),
                       timeout=args.timeout, own_harness=not _foreign_harness(args, build_dir))
    if cfg.min_seconds <= 0:
        raise TinygenError("--min-seconds must be > 0")
    cfg.quick = cfg.quick or cfg.min_seconds < 10.0
    if args.mode == "energy":
        return _run_energy(args, board, bench, build_dir, model, oracle, cfg)
    out = args.out or default_session_dir(board.name, bench.id, "verify")
    with SessionRecord(out) as record, contextlib.ExitStack() as lab:
        record.data.update(session_facts(board, "verify", args.port or args.place, args.baud),
                           bench=bench.id, model=str(model),
                           build=str(build_dir) if build_dir else None, quick=args.quick)
        log.info("session folder: %s", record.folder)
        try:
            # --port list / --place / --jobs: latency on the first DUT, accuracy on all.
            ports = dut_ports(args, board, build_dir, lab, record)
            jobs = jobs_for(args, ports)
            if jobs > 1 and dataset is None:
                log.info("--jobs applies to the accuracy check (--dataset); the other checks "
                         "run on one DUT")
            if jobs > 1 and dataset is not None:
                from tinygen.runner.shard import sharded_accuracy_runner
                cfg.accuracy_runner = sharded_accuracy_runner(
                    board, build_dir, ports, jobs, chunk_bytes=args.chunk_bytes, baud=args.baud)
            with open_session(board, build_dir, ports[0] if ports else None, record,
                              timeout=args.timeout,
                              chunk_bytes=args.chunk_bytes, baud=args.baud) as dut:
                checks = run_checks(dut, bench, oracle, record, cfg, dataset)
        except KeyboardInterrupt:
            record.finish("interrupted", "stopped by Ctrl-C")
            raise
        except TinygenError as exc:
            record.finish("failed", str(exc))
            raise
        # A check that could not decide (SKIP, passed None) does not fail verify.
        passed = all(c["passed"] is not False for c in checks)
        record.finish("passed" if passed else "failed")
    return _print_checks(checks, record)


def _print_checks(checks, record) -> int:
    # A check that could not decide (SKIP, passed None) does not fail verify.
    passed = all(c["passed"] is not False for c in checks)
    width = max(len(c["name"]) for c in checks)
    print()
    for c in checks:
        print(f"{check_word(c)}  {c['name']:<{width}}  {c['detail']}")
    skipped = sum(c["passed"] is None for c in checks)
    print(f"\n{sum(c['passed'] is True for c in checks)} of {len(checks)} checks passed"
          + (f", {skipped} not checked" if skipped else "") + f"; session folder {record.folder}")
    return 0 if passed else 1


def _run_energy(args, board, bench, build_dir, model, oracle, cfg) -> int:
    from tinygen.runner.energy import open_energy_bench
    from tinygen.runner.verify_energy import EnergyVerifyConfig, run_energy_checks
    voltage = args.voltage or (board.power.supply_v if board.power else 3.3)
    ecfg = EnergyVerifyConfig(golden=min(args.golden, 2), seed=args.seed, quick=cfg.quick,
                              timeout=args.timeout, energy_seconds=cfg.min_seconds,
                              voltage=voltage)
    out = args.out or default_session_dir(board.name, bench.id, "verify-energy")
    with SessionRecord(out) as record:
        port = None if (args.emon_port is None and args.interface_port is None) else "real"
        record.data.update(session_facts(board, "verify", port, None), bench=bench.id,
                           energy_mode=True, model=str(model), quick=cfg.quick,
                           build=str(build_dir) if build_dir else None)
        log.info("session folder: %s", record.folder)
        try:
            with open_energy_bench(board, build_dir, emon=args.emon, emon_port=args.emon_port,
                                   interface=args.interface, interface_port=args.interface_port,
                                   record=record, voltage=voltage, timeout=args.timeout,
                                   chunk_bytes=args.chunk_bytes) as eb:
                checks = run_energy_checks(eb, bench, oracle, record, ecfg, board)
        except KeyboardInterrupt:
            record.finish("interrupted", "stopped by Ctrl-C")
            raise
        except TinygenError as exc:
            record.finish("failed", str(exc))
            raise
        record.finish("passed" if all(c["passed"] is not False for c in checks) else "failed")
    return _print_checks(checks, record)
