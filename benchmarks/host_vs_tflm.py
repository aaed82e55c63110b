#!/usr/bin/env python3
"""Host speed of tinygen's generated C against the TFLM oracle, same run.

For every committed model (models/*.tflite: ad01, ic01, ic02, kws01, vww01)
and every official reference model present in ../shared/reference-models,
compiles the model with tinygen into a host shared library built with the
flags of tinygen's host build (tinygen.port.flags.toolchain_for, the
flags `tinygen build --board host` uses), loads the TFLM oracle
(tflite-micro's Python interpreter) on the same .tflite, checks both give
the same output on a few random inputs, then times one inference on each
side with the same input.

What is timed: only the invoke call (tg_model_invoke through ctypes, and
the TFLM interpreter's invoke), with the input already in place; process
start-up, compilation, model loading and interpreter/arena set-up are
outside the timing. Both sides are single-threaded and pay one
Python-to-C call per inference (under a microsecond). The two sides are
timed in alternating windows (tinygen, TFLM, tinygen, ...) so that load
from other processes hits both alike; each figure is the median over the
windows of the mean time per inference in a window. The clock is by
default the CPU time of the timing thread (time.thread_time): on a machine
shared with other jobs, wall time also counts the time the process waits
for a core, which made the same build vary 2x between runs; on an idle
machine both clocks agree (--clock wall).

Prints milliseconds per inference for each side, the ratio TFLM/tinygen
and whether it meets the issue 11 bar (>= 5x), plus the planned arena.
Exit status 1 when some model is not bit-exact.

usage: .venv/bin/python benchmarks/host_vs_tflm.py [--reps N] [--seconds S] [MODEL ...]
"""

from __future__ import annotations

import argparse
import gc
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "compiler"))

from hostlib import HOST_CFLAGS, HostModel  # noqa: E402
from tinygen.boards import load_board  # noqa: E402
from tinygen.codegen import generate_model_sources  # noqa: E402
from tinygen.port.flags import host_vector_kernels, toolchain_for  # noqa: E402

REFERENCE = ROOT.parent / "shared" / "reference-models"
BAR = 5.0           # issue 11: host build >= 5x faster than the TFLM oracle
CHECK_INPUTS = 3    # random inputs compared with the oracle before timing
CLOCKS = {"cpu": time.thread_time, "wall": time.perf_counter}


def host_build_flags() -> list[str]:
    """The C flags of tinygen's host build (performance, default opt),
    without the warnings (the library build adds its own)."""
    return [f for f in toolchain_for(load_board("host"), "O2").cflags
            if not f.startswith(("-W", "-std="))]


def _calls_per_window(fn, window_s: float) -> int:
    fn()
    start, calls = time.thread_time(), 0
    while time.thread_time() - start < 0.05 or calls < 3:
        fn()
        calls += 1
    per_call = (time.thread_time() - start) / calls
    return max(3, int(window_s / per_call))


def _window_ms(fn, calls: int, clock) -> float:
    t0 = clock()
    for _ in range(calls):
        fn()
    return (clock() - t0) / calls * 1e3


def time_both(tinygen_fn, tflm_fn, reps: int, seconds: float, clock) -> tuple[float, float]:
    """Median ms per call of each side over reps alternating windows."""
    window = seconds / reps
    n_tg = _calls_per_window(tinygen_fn, window)
    n_tflm = _calls_per_window(tflm_fn, window)
    tg, tflm = [], []
    gc_was_on = gc.isenabled()
    gc.disable()
    try:
        for _ in range(reps):
            tg.append(_window_ms(tinygen_fn, n_tg, clock))
            tflm.append(_window_ms(tflm_fn, n_tflm, clock))
    finally:
        if gc_was_on:
            gc.enable()
    return float(np.median(tg)), float(np.median(tflm))


def _random_input(detail: dict, rng: np.random.Generator) -> np.ndarray:
    if detail["dtype"] == np.float32:
        return rng.uniform(-1, 1, size=detail["shape"]).astype(np.float32)
    return rng.integers(-128, 128, size=detail["shape"], dtype=np.int8)


def bench(path: Path, reps: int, seconds: float, flags: list[str], clock, work: Path) -> dict:
    from tflite_micro.python.tflite_micro import runtime

    # The kernel target tinygen's host build takes with these flags.
    vector = host_vector_kernels("gcc", (*HOST_CFLAGS, *flags))
    src = generate_model_sources(path, work / path.stem, layout="host" if vector else "portable")
    host = HostModel(src, work / path.stem / "libmodel.so", cflags=flags)
    oracle = runtime.Interpreter.from_file(str(path))
    detail = oracle.get_input_details(0)
    rng = np.random.default_rng(0)
    inputs = [_random_input(detail, rng) for _ in range(CHECK_INPUTS)]
    same = True
    for x in inputs:
        oracle.set_input(x, 0)
        oracle.invoke()
        expected = np.asarray(oracle.get_output(0)).reshape(-1)
        same = same and np.array_equal(host.run(x), expected)
    # Same input on both sides for the timing: the first one.
    host.set_input(inputs[0])
    oracle.set_input(inputs[0], 0)
    tinygen_ms, tflm_ms = time_both(host.invoke, oracle.invoke, reps, seconds, clock)
    return dict(model=path.stem, macs=src.macs, tinygen_ms=tinygen_ms, tflm_ms=tflm_ms,
                arena=src.arena_bytes, lower=src.lower_bound_bytes, weights=src.weight_bytes,
                bit_exact=same)


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _compiler() -> str:
    done = subprocess.run(["gcc", "--version"], capture_output=True, text=True, timeout=30)
    return done.stdout.splitlines()[0] if done.stdout else "gcc (unknown version)"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", nargs="*", type=Path,
                    help=".tflite files (default: models/*.tflite and the reference models)")
    ap.add_argument("--reps", type=int, default=7,
                    help="alternating timing windows per side (default 7; the median is shown)")
    ap.add_argument("--seconds", type=float, default=2.0,
                    help="timing per side per model, split over the windows (default 2)")
    ap.add_argument("--reference", type=Path, default=REFERENCE, metavar="DIR",
                    help="official reference models to add when no MODEL is given "
                         "(default ../shared/reference-models beside the repository)")
    ap.add_argument("--clock", choices=sorted(CLOCKS), default="cpu",
                    help="cpu (default): CPU time of the timing thread, so time spent "
                         "waiting for a core on a busy machine is not counted; wall: "
                         "elapsed time (the same on an idle machine)")
    ap.add_argument("--cflags", default=None,
                    help="C flags for tinygen's library instead of the host build's "
                         "(e.g. '-O2' to see what the flags alone bring)")
    args = ap.parse_args(argv)
    models = args.models or sorted((ROOT / "models").glob("*.tflite"))
    if not args.models and args.reference.is_dir():
        models += sorted(args.reference.glob("*.tflite"))
    flags = shlex.split(args.cflags) if args.cflags is not None else host_build_flags()
    print(f"cpu: {_cpu()}; compiler: {_compiler()}")
    print(f"tinygen flags: {' '.join(flags)}")
    print(f"timing: invoke only, input in place, {args.clock} time, median of {args.reps} "
          f"alternating windows per side, {args.seconds:g} s per side per model")
    rows = []
    with tempfile.TemporaryDirectory(prefix="tg_bench_") as tmp:
        for path in models:
            rows.append(bench(path, args.reps, args.seconds, flags, CLOCKS[args.clock],
                              Path(tmp)))
    header = ("model", "MACs", "tinygen ms", "TFLM ms", "TFLM/tinygen", f">= {BAR:g}x",
              "bit-exact", "arena B", "no-overlap B", "weights B")
    table = [header] + [(
        r["model"], f"{r['macs']:,}", f"{r['tinygen_ms']:.3f}", f"{r['tflm_ms']:.3f}",
        f"{r['tflm_ms'] / r['tinygen_ms']:.2f}x",
        "held" if r["tflm_ms"] / r["tinygen_ms"] >= BAR else "MISSED",
        "yes" if r["bit_exact"] else "NO",
        f"{r['arena']:,}", f"{r['lower']:,}", f"{r['weights']:,}") for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                        for i, (c, w) in enumerate(zip(row, widths))))
    return 0 if all(r["bit_exact"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
