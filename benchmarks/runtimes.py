"""tinygen's runtime against TensorFlow Lite Micro, same board, same harness, same clock.

For every benchmark, three firmwares for one emulated board (default
mps2_an386), all with tinygen's harness and platform code:

    tinygen        the model compiled ahead of time into C (tinygen's kernels)
    tflm-ref       TFLM with its reference kernels       (--tflm <ref tree>)
    tflm-cmsisnn   TFLM with Arm's CMSIS-NN kernels      (--tflm <CMSIS-NN tree>)

Each is built, booted under QEMU with -icount shift=S and timed by the
DUT's own m-lap-us stamps around `infer N 0`; with shift S one instruction
is 2**S ns of virtual time, so instructions per inference =
(t_end - t_start) [us] * 1000 / 2**S / N. These are emulated instruction
counts, not cycles: the "ms est." column divides by the board clock as if
one instruction took one cycle (an estimate that ignores wait states).

Flash is split into weights (tinygen: the model's constant arrays; TFLM:
the .tflite flatbuffer, which also holds the graph) and code (everything
else: kernels, interpreter, harness, platform, libc). RAM is split into the
arena (tensor arena plus the model's static state), the db buffer, the
reserved stack and the rest (.data/.bss of everything else). Both runtimes
receive the download in the model's input tensor (TFLM's glue keeps it live
through the inference), so the db buffer column is 0 with tinygen's
harness; the stack is the reserved one, each runtime's measured
high-water mark plus a margin (tinygen.port.aot, tinygen.port.tflm).

The TFLM trees default to the pinned ones in ../shared/third_party (unpacked
into the system temp folder); pass --tflm-ref / --tflm-cmsisnn for your own.
The first run compiles TFLM (minutes); later runs reuse the library cache.

    .venv/bin/python benchmarks/runtimes.py
    .venv/bin/python benchmarks/runtimes.py --benches kws,ad --inferences 5 --json out.json
    .venv/bin/python benchmarks/runtimes.py --benches ad --model models/open/conv_autoencoder.tflite
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tarfile
import tempfile
from pathlib import Path

import numpy as np

from tinygen.benches import INPUT_FLOAT32_QUANTIZE, get_bench
from tinygen.boards import load_board
from tinygen.device.launch import start_dut
from tinygen.device.session import DutSession
from tinygen.paths import models_dir, project_root
from tinygen.port.build import build_firmware

DEFAULT_BENCHES = ("kws", "vww", "ic", "ad")
PINNED = {"tflm-ref": "tflm-tree-ref-90b983c", "tflm-cmsisnn": "tflm-tree-cmsisnn-90b983c"}


def stimulus(bench, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    if bench.input_format == INPUT_FLOAT32_QUANTIZE:
        return rng.uniform(-2.0, 2.0, bench.input_elements).astype("<f4").tobytes()
    return rng.integers(0, 256, bench.input_bytes, dtype=np.uint8).tobytes()


def pinned_tree(name: str) -> Path | None:
    """A pinned tree from ../shared/third_party, unpacked under the system temp."""
    root = project_root()
    for base in (root.parent, root.parent.parent):
        tarball = base / "shared" / "third_party" / f"{name}.tar.gz"
        if tarball.is_file():
            dest = Path(tempfile.gettempdir()) / "tinygen-tflm-trees"
            if not (dest / f"{name}.unpacked").is_file():
                dest.mkdir(parents=True, exist_ok=True)
                with tarfile.open(tarball) as tar:
                    tar.extractall(dest, filter="data")
                (dest / f"{name}.unpacked").write_text(str(tarball) + "\n")
            return dest / name
    return None


def measure(board, build_dir: Path, bench, inferences: int) -> tuple[float, list[float]]:
    """(instructions per inference, the results) from the DUT's own timestamps."""
    with start_dut(board, build_dir) as dut, DutSession(dut.url, timeout=600) as session:
        session.wait_ready(timeout=120)
        session.load(stimulus(bench, 1))
        session.infer(1, 0)
        result = session.infer(inferences, 0)
    ns = (result.end_us - result.start_us) * 1000
    return ns / (2 ** board.emulator.icount_shift) / inferences, result.values


def row_for(board, bench, runtime: str, tree: Path | None, out: Path, inferences: int,
            model: Path | None = None) -> dict:
    kwargs = {"runtime": "tflm", "tflm": tree} if tree is not None else {}
    built = build_firmware(board, bench, model_path=model or models_dir() / f"{bench.id}.tflite",
                           out_dir=out, **kwargs)
    macs = int(str(built.port.model_macros.get("TG_MODEL_MACS", "0")).rstrip("uUlL") or 0)
    parts = built.size.parts
    weights = parts.get("weights", {}).get("flash", 0)
    arena = parts.get("arena", {}).get("ram", 0)
    buffer = parts.get("buffer", {}).get("ram", 0)
    stack = parts.get("stack", {}).get("ram", 0)
    instructions, values = measure(board, out, bench, inferences)
    return {"bench": bench.id, "runtime": runtime, "macs": macs, "instructions": instructions,
            "flash": built.size.flash_bytes, "weights": weights,
            "code": built.size.flash_bytes - weights, "ram": built.size.ram_bytes,
            "arena": arena, "buffer": buffer, "stack": stack,
            "ram_other": built.size.ram_bytes - arena - buffer - stack, "results": values}


HEADER = (f"{'bench':6} {'runtime':13} {'instr/inf':>12} {'instr/MAC':>9} {'ms est.':>8} "
          f"{'code B':>8} {'weights B':>9} {'arena B':>8} {'buffer B':>8} {'stack B':>7} "
          f"{'other B':>7}")


def format_row(row: dict, clock_hz: int) -> str:
    per_mac = row["instructions"] / row["macs"] if row["macs"] else float("nan")
    return (f"{row['bench']:6} {row['runtime']:13} {row['instructions']:12,.0f} {per_mac:9.2f} "
            f"{row['instructions'] / clock_hz * 1000:8.2f} {row['code']:8,d} {row['weights']:9,d} "
            f"{row['arena']:8,d} {row['buffer']:8,d} {row['stack']:7,d} {row['ram_other']:7,d}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--board", default="mps2_an386", help="an emulated board (default mps2_an386)")
    parser.add_argument("--benches", default=",".join(DEFAULT_BENCHES))
    parser.add_argument("--inferences", type=int, default=5, help="N in 'infer N 0' (default 5)")
    parser.add_argument("--tflm-ref", type=Path, metavar="DIR", help="TFLM tree, reference kernels")
    parser.add_argument("--tflm-cmsisnn", type=Path, metavar="DIR", help="TFLM tree, CMSIS-NN kernels")
    parser.add_argument("--out", type=Path, help="build folders (default: a temporary folder)")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    parser.add_argument("--model", type=Path, metavar="PATH",
                        help="this model instead of the bench's committed one (one bench only), "
                             "e.g. models/open/conv_autoencoder.tflite with --benches ad")
    args = parser.parse_args(argv)
    if args.model and "," in args.benches:
        parser.error("--model takes one bench (--benches NAME)")
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    board = load_board(args.board)
    if not board.is_emulated:
        parser.error(f"{board.name} is not emulated; pick a board QEMU runs (mps2_an386, ...)")
    runtimes: list[tuple[str, Path | None]] = [("tinygen", None)]
    for name, given in (("tflm-ref", args.tflm_ref), ("tflm-cmsisnn", args.tflm_cmsisnn)):
        tree = given or pinned_tree(PINNED[name])
        if tree is None:
            print(f"{name}: no tree (pass --{name} DIR; the pinned one is not in ../shared)",
                  file=sys.stderr)
        else:
            runtimes.append((name, tree))
    print(f"board {board.name}, clock {board.clock_hz / 1e6:g} MHz, QEMU -icount shift="
          f"{board.emulator.icount_shift}: instructions are emulated (virtual time), "
          "'ms est.' assumes one instruction per cycle"
          + (f"; model {args.model}" if args.model else ""))
    print(HEADER, flush=True)
    rows = []
    with tempfile.TemporaryDirectory(prefix="tinygen-runtimes-") as tmp:
        root = args.out or Path(tmp)
        for bench_name in args.benches.split(","):
            bench = get_bench(bench_name)
            for runtime, tree in runtimes:
                row = row_for(board, bench, runtime, tree, root / f"{bench.id}-{runtime}",
                              args.inferences, args.model)
                rows.append(row)
                print(format_row(row, board.clock_hz), flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
