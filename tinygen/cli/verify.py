"""tinygen verify: build a port, start it and prove it is a correct MLPerf Tiny DUT."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from tinygen.benches import get_bench
from tinygen.boards import load_board
from tinygen.cli.build import RUNTIME_HELP, add_runtime_options, runtime_kwargs
from tinygen.cli.duts import HELP_TEXT as DUTS_HELP
from tinygen.cli.duts import add_jobs_option, add_place_option, dut_options, energy_options
from tinygen.cli.run import add_dut_options, add_energy_options
from tinygen.runner.record import check_word
from tinygen.runner.verify_session import VerifyRequest, verify_session

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
                        windows to 1 s, on a slow emulator less (and says so)
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
                        "a slow emulator shorter still, to about 10 s in all, and where one "
                        "stimulus (download, inference) is slow fewer golden stimuli (>= 2) "
                        "and windows sharing a stimulus; the output says what was done")
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


def run(args: argparse.Namespace) -> int:
    board, bench = load_board(args.board), get_bench(args.bench)
    if bench.is_streaming:  # sww01: audio in, features and detections (tinygen.runner.sww_verify)
        from tinygen.runner.sww_verify import run_stream_verify
        return _print_checks(*run_stream_verify(args, board, bench))
    build_options = {"opt": args.opt, **runtime_kwargs(args)}
    req = VerifyRequest(board=board, bench=bench, mode=args.mode,
                        model=args.model, dataset=args.dataset, build=args.build,
                        no_build=args.no_build, build_options=build_options, out=args.out,
                        quick=args.quick, min_seconds=args.min_seconds, golden=args.golden,
                        seed=args.seed, dut=dut_options(args), energy=energy_options(args))
    outcome = verify_session(req)
    return _print_checks(outcome.checks, outcome)


def _print_checks(checks, session) -> int:
    """The PASS/FAIL/SKIP table and the session folder (``session.folder``); the exit code."""
    # A check that could not decide (SKIP, passed None) does not fail verify.
    passed = all(c["passed"] is not False for c in checks)
    width = max(len(c["name"]) for c in checks)
    print()
    for c in checks:
        print(f"{check_word(c)}  {c['name']:<{width}}  {c['detail']}")
    skipped = sum(c["passed"] is None for c in checks)
    print(f"\n{sum(c['passed'] is True for c in checks)} of {len(checks)} checks passed"
          + (f", {skipped} not checked" if skipped else "") + f"; session folder {session.folder}")
    return 0 if passed else 1
