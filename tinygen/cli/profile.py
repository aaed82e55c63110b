"""tinygen profile: where an inference spends its time, operator by operator."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from tinygen.benches import bench_names, get_bench
from tinygen.boards import load_board
from tinygen.runner.profile import ProfileRequest, profile_session

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
with zero flash wait states. The session folder keeps the transcript
(log.txt) and the rows (results.json); the build folder keeps the rows too
(profile.json, for tinygen report).

examples:
  tinygen profile --board mps2_an386 --bench kws
  tinygen profile --board disco_l475vg_iot01a --bench vww --inferences 5
"""


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
    p.add_argument("--session", type=Path, metavar="DIR",
                   help="session folder: log.txt, results.txt, results.json with the rows "
                        "(default sessions/<time>-<board>-<bench>-profile)")
    p.add_argument("--seed", type=int, default=1, help="seed of the random stimulus")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    req = ProfileRequest(board=load_board(args.board), bench=get_bench(args.bench),
                         model=args.model, inferences=args.inferences, build=args.out,
                         out=args.session, seed=args.seed)
    print(profile_session(req).text())
    return 0
