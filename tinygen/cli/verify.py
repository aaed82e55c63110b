"""tinygen verify: build a port, start it and prove it is a correct MLPerf Tiny DUT."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from tinygen.benches import get_bench
from tinygen.boards import load_board
from tinygen.cli.build import RUNTIME_HELP, add_runtime_options, runtime_kwargs
from tinygen.cli.run import add_dut_options
from tinygen.errors import TinygenError
from tinygen.runner.connect import open_session, read_manifest
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
                        precision
  latency               performance mode: 5 windows of >= 10 s and >= 10
                        inferences, median throughput; --quick shortens the
                        windows to 1 s (and says so)
  accuracy              with --dataset: top-1 or AUC and the quality target; the
                        target is judged only over the full official set (1000
                        stimuli for kws/vww, 200 for ic), else the check says
                        "not checked: N of M stimuli" (SKIP, not a failure)

Real boards are not built or flashed here: flash them first (tinygen flash)
and this command finds the port by USB id, or give --port.

""" + RUNTIME_HELP + """
examples:
  tinygen verify --board host --bench kws --quick
  tinygen verify --board mps2_an386 --bench kws --quick --runtime tflm --tflm ~/tflm-tree
  tinygen verify --board disco_l475vg_iot01a --bench ad --dataset data/ --quick
  tinygen verify --board mps2_an386 --bench ic --model my_resnet.tflite
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("verify", help="build, start and check a port end to end",
                       description=DESCRIPTION,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--board", required=True, help="board name (tinygen boards) or YAML path")
    p.add_argument("--bench", required=True, help="benchmark: kws, vww, ic, ad (or kws01, ...)")
    p.add_argument("--model", type=Path, metavar="PATH",
                   help="int8 .tflite model (default: the committed models/<bench>.tflite)")
    p.add_argument("--dataset", type=Path, metavar="DIR",
                   help="dataset folder (EEMBC layout) for the accuracy check")
    p.add_argument("--quick", action="store_true",
                   help="short latency windows (1 s, >= 10 inferences) instead of 10 s")
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
    add_runtime_options(p)
    add_dut_options(p)
    p.set_defaults(handler=run)


def _build(board, bench, args) -> tuple[Path | None, Path]:
    """(build folder, model path) after building unless told not to."""
    if args.no_build or (board.is_real and not board.is_emulated and not board.is_host):
        build_dir = args.build
        model = args.model
        if build_dir is not None and model is None:
            model_entry = read_manifest(build_dir).get("model")
            model = model_entry.get("path") if isinstance(model_entry, dict) else model_entry
        model = Path(model) if model else bench.model_path
        return build_dir, model
    from tinygen.port.build import build_firmware
    log.info("building %s for %s ...", bench.id, board.name)
    kwargs = {"model_path": args.model, "mode": "performance", "opt": args.opt,
              **runtime_kwargs(args)}
    if args.build is not None:
        kwargs["out_dir"] = args.build
    result = build_firmware(board, bench, **kwargs)
    build_dir = Path(result.build_dir)
    model_entry = read_manifest(build_dir).get("model")
    model = model_entry.get("path") if isinstance(model_entry, dict) else model_entry
    return build_dir, Path(model) if model else (args.model or bench.model_path)


def run(args: argparse.Namespace) -> int:
    board = load_board(args.board)
    bench = get_bench(args.bench)
    if args.golden < 1:
        raise TinygenError("--golden must be at least 1")
    dataset = load_dataset(bench, args.dataset) if args.dataset else None
    build_dir, model = _build(board, bench, args)
    if not Path(model).is_file():
        raise TinygenError(f"model {model} not found; pass --model PATH")
    oracle = Oracle(model, bench)
    cfg = VerifyConfig(golden=args.golden, seed=args.seed, quick=args.quick,
                       min_seconds=args.min_seconds or (1.0 if args.quick else 10.0),
                       timeout=args.timeout)
    if cfg.min_seconds <= 0:
        raise TinygenError("--min-seconds must be > 0")
    cfg.quick = cfg.quick or cfg.min_seconds < 10.0
    out = args.out or default_session_dir(board.name, bench.id, "verify")
    with SessionRecord(out) as record:
        record.data.update(session_facts(board, "verify", args.port, args.baud),
                           bench=bench.id, model=str(model),
                           build=str(build_dir) if build_dir else None, quick=args.quick)
        log.info("session folder: %s", record.folder)
        try:
            with open_session(board, build_dir, args.port, record, timeout=args.timeout,
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
    width = max(len(c["name"]) for c in checks)
    print()
    for c in checks:
        print(f"{check_word(c)}  {c['name']:<{width}}  {c['detail']}")
    skipped = sum(c["passed"] is None for c in checks)
    print(f"\n{sum(c['passed'] is True for c in checks)} of {len(checks)} checks passed"
          + (f", {skipped} not checked" if skipped else "") + f"; session folder {record.folder}")
    return 0 if passed else 1
