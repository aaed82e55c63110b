"""tinygen build: generate the port for a board and benchmark and build it."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from tinygen.benches import bench_names, get_bench
from tinygen.boards import load_board
from tinygen.errors import TinygenError
from tinygen.paths import make_folder
from tinygen.port.build import build_firmware, export_build
from tinygen.port.streaming import StreamOptions
from tinygen.port.generate import MODES, RUNTIMES

log = logging.getLogger(__name__)

RUNTIME_HELP = """runtimes and harnesses:
  --runtime tinygen   (default) the model compiled ahead of time into C
  --runtime tflm      TensorFlow Lite Micro from --tflm DIR, a tree exported by
                      TFLM's create_tflm_tree.py (reference or CMSIS-NN
                      kernels; which one is read from the tree). TFLM is
                      compiled once per tree, compiler and flags into a cache
                      ($TINYGEN_TFLM_CACHE, default ~/.cache/tinygen/tflm; the
                      first build takes minutes). The arena is measured: a
                      probe runs the model's setup (natively, or on QEMU
                      mps2-an386 for Cortex-M boards) and the port gets the
                      smallest arena TFLM's set-up succeeds with plus 1 KiB.
  --harness DIR       build against a harness laid out like the official
                      MLPerf Tiny api/ folder (internally_implemented.cpp/.h,
                      including "api/..."), unchanged, C or C++; tinygen's
                      generated submitter_implemented.h replaces the one in
                      DIR. Default: tinygen's own harness.
"""


DESCRIPTION = """\
Build the MLPerf Tiny firmware for one board and benchmark.

tinygen compiles the model (.tflite, int8) into C, renders the port for the
board (the benchmark's submitter-implemented API: input conversion, results,
timestamps, console) and builds it together with tinygen's benchmark harness
and the board's platform code:

  MCU boards   arm-none-eabi-gcc, flags from the board's core (-mcpu, -mthumb,
               hard float when it has an FPU), --gc-sections, newlib-nano;
               outputs firmware.elf/.bin/.hex and firmware.map
  host         the machine's cc; outputs a native executable that speaks the
               protocol on a pseudo-terminal (it prints TG_PTY=/dev/pts/N)

The build directory (default build/<board>-<bench id>-<mode>/) is
self-contained: the generated C in src/, a copy of the hand-written C it
uses in harness/, platform/ and kernels/, an SConstruct and a Makefile with relative paths
(rebuild by hand with 'python -m SCons -C DIR' or 'make -C DIR'),
build.json (what was built from what) and size.json. --export DIR copies
just what rebuilds the image (sources, SConstruct, Makefile, build.json,
a README) to DIR, e.g. a submission's code/ folder: it rebuilds the same
bytes elsewhere with only the cross compiler. A size table shows flash and RAM by section and by part
(weights, arena, db buffer, harness, kernels, platform, libc, stack).

modes:
  performance  timestamps are printed (m-lap-us-N) at the board's usual baud
  energy       timestamps are GPIO falling edges, console at the energy
               baud (9600 through the EEMBC interface board)

""" + RUNTIME_HELP + """
examples:
  tinygen build --board nucleo_l4r5zi --bench vww
  tinygen build --board host --bench ic --model my_resnet.tflite --opt Os
  tinygen build --board disco_l475vg_iot01a --bench kws --mode energy --out /tmp/kws
  tinygen build --board nucleo_l4r5zi --bench kws --export code/nucleo_kws
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "build",
        help="generate and build the benchmark firmware for a board",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--board", required=True, metavar="BOARD",
                   help="board name (see 'tinygen boards') or path of a board YAML")
    p.add_argument("--bench", required=True, metavar="BENCH",
                   help="benchmark: " + ", ".join(bench_names()) + " (decides the input "
                        "conversion, the results format and the model id the DUT reports)")
    p.add_argument("--model", type=Path, metavar="PATH",
                   help="int8 .tflite to build instead of the committed models/<bench id>.tflite")
    p.add_argument("--mode", choices=MODES, default="performance",
                   help="timestamp mode (default: performance)")
    p.add_argument("--opt", choices=("O2", "Os", "O3"), default="O2",
                   help="compiler optimization (default: O2; Os for a smaller image)")
    p.add_argument("--out", type=Path, metavar="DIR",
                   help="build directory (default: build/<board>-<bench id>-<mode>)")
    p.add_argument("--export", type=Path, metavar="DIR",
                   help="after building, copy the self-contained sources and build files "
                        "to DIR (new or empty), to rebuild without tinygen")
    p.add_argument("--jobs", "-j", type=int, metavar="N",
                   help="parallel compile jobs (default: the number of CPUs)")
    p.add_argument("--full-window", action="store_true",
                   help="sww: run the model on the whole 30-frame window every hop instead of "
                        "the incremental plan (compare the two with 'tinygen run --bench sww "
                        "--compare-build DIR')")
    add_runtime_options(p)
    p.set_defaults(handler=run)




def add_runtime_options(p: argparse.ArgumentParser) -> None:
    """--runtime, --tflm and --harness, shared by build and verify."""
    p.add_argument("--runtime", choices=RUNTIMES, default="tinygen",
                   help="inference engine: tinygen (default) or tflm (needs --tflm DIR)")
    p.add_argument("--tflm", type=Path, metavar="DIR",
                   help="TFLM source tree exported by create_tflm_tree.py, for --runtime tflm")
    p.add_argument("--harness", type=Path, metavar="DIR",
                   help="benchmark harness laid out like the official api/ folder "
                        "(default: tinygen's own)")


def runtime_kwargs(args: argparse.Namespace) -> dict:
    if args.tflm is not None and args.runtime != "tflm":
        raise TinygenError("--tflm DIR is for --runtime tflm; add --runtime tflm")
    return {"runtime": args.runtime, "tflm": args.tflm, "harness": args.harness}


def run(args: argparse.Namespace) -> int:
    board, bench = load_board(args.board), get_bench(args.bench)
    runtime = runtime_kwargs(args)
    if args.export is not None and args.export.exists() and (
            not args.export.is_dir() or any(args.export.iterdir())):
        raise TinygenError(f"{args.export} exists and is not empty; export into a new or "
                           "empty folder")
    out = make_folder(args.out, "build folder", "pass another --out DIR") if args.out else None
    if args.export is not None:
        make_folder(args.export, "export folder", "pass another --export DIR")
    if args.full_window and not bench.is_streaming:
        raise TinygenError(f"--full-window is for the streaming benchmark (sww); {bench.id} runs "
                           "one inference per stimulus anyway")
    stream = StreamOptions(incremental=False) if args.full_window else None
    log.info("building %s for %s (%s mode, -%s)", bench.short, board.name, args.mode, args.opt)
    result = build_firmware(board, bench, model_path=args.model, mode=args.mode,
                            opt=args.opt, out_dir=out, jobs=args.jobs, stream=stream, **runtime)
    port = result.port
    print(f"built {port.bench.id} for {port.board.name} ({port.mode} mode, -{port.opt}) "
          f"from {port.model_path}")
    if port.placement is not None:
        print(f"RAM placement: {port.placement.describe()}")
    for name, path in result.paths().items():
        print(f"  {name:<10} {path}")
    print()
    print(result.size.table())
    if port.bench.is_streaming:  # sww01: the 32 ms hop budget, measured when emulated
        from tinygen.runner.sww_hops import budget_text
        print("\n" + budget_text(port.board, result.build_dir))
    if args.export is not None:
        dest = export_build(result.build_dir, args.export)
        print(f"\nexported to {dest}: rebuild with 'make -C {dest}' or 'python -m SCons -C {dest}'")
    return 0
