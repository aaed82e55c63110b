#!/usr/bin/env python3
"""Host speed of tinygen's generated C (-O2) against the TFLM oracle.

For every committed model (models/*.tflite) and official reference model
present, compiles the model with tinygen into a host shared library, checks
one output against TFLM, then times both on the same input in the same run
and prints microseconds per inference, their ratio, and the planned arena
next to its no-overlap bound.

usage: .venv/bin/python benchmarks/host_vs_tflm.py [--seconds S] [MODEL ...]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "compiler"))

from hostlib import HostModel  # noqa: E402
from tinygen.codegen import generate_model_sources  # noqa: E402

REFERENCE = Path("/work/shared/reference-models")


def _time_per_call(fn, seconds: float) -> float:
    """Median of 5 windows of microseconds per call, each about seconds/5 long."""
    fn()
    start, calls = time.perf_counter(), 0
    while time.perf_counter() - start < 0.05:
        fn()
        calls += 1
    per_window = max(1, int(calls * (seconds / 5) / 0.05))
    samples = []
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(per_window):
            fn()
        samples.append((time.perf_counter() - t0) / per_window * 1e6)
    return float(np.median(samples))


def bench(path: Path, seconds: float, work: Path) -> dict:
    from tflite_micro.python.tflite_micro import runtime

    src = generate_model_sources(path, work / path.stem)
    host = HostModel(src, work / path.stem / "libmodel.so")
    oracle = runtime.Interpreter.from_file(str(path))
    detail = oracle.get_input_details(0)
    rng = np.random.default_rng(0)
    if detail["dtype"] == np.float32:
        x = rng.uniform(-1, 1, size=detail["shape"]).astype(np.float32)
    else:
        x = rng.integers(-128, 128, size=detail["shape"], dtype=np.int8)
    oracle.set_input(x, 0)
    oracle.invoke()
    same = np.array_equal(host.run(x), np.asarray(oracle.get_output(0)).reshape(-1))
    tinygen_us = _time_per_call(host.invoke, seconds)
    tflm_us = _time_per_call(oracle.invoke, seconds)
    return dict(model=path.stem, macs=src.macs, tinygen_us=tinygen_us, tflm_us=tflm_us,
                arena=src.arena_bytes, lower=src.lower_bound_bytes, weights=src.weight_bytes,
                bit_exact=same)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", nargs="*", type=Path)
    ap.add_argument("--seconds", type=float, default=2.0, help="timing per side per model")
    args = ap.parse_args(argv)
    models = args.models or sorted((ROOT / "models").glob("*.tflite"))
    if not args.models and REFERENCE.is_dir():
        models += sorted(REFERENCE.glob("*.tflite"))
    rows = []
    with tempfile.TemporaryDirectory(prefix="tg_bench_") as tmp:
        for path in models:
            rows.append(bench(path, args.seconds, Path(tmp)))
    header = ("model", "MACs", "tinygen us", "TFLM us", "TFLM/tinygen", "arena B",
              "no-overlap B", "weights B", "bit-exact")
    table = [header] + [(
        r["model"], f"{r['macs']:,}", f"{r['tinygen_us']:.1f}", f"{r['tflm_us']:.1f}",
        f"{r['tflm_us'] / r['tinygen_us']:.2f}x", f"{r['arena']:,}", f"{r['lower']:,}",
        f"{r['weights']:,}", "yes" if r["bit_exact"] else "NO") for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                        for i, (c, w) in enumerate(zip(row, widths))))
    return 0 if all(r["bit_exact"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
