#!/usr/bin/env python3
"""Wall-clock speed-up of sharded accuracy runs (--jobs) on an emulated board.

Builds the kws01 firmware for an emulated board, writes a dataset of seeded
random stimuli (EEMBC layout, labels from the TFLM oracle), then runs
``tinygen run --mode accuracy`` with 1, 2 and 4 jobs on the same dataset and
prints the time of the accuracy run itself (from the first to the last
inference, read from the session's log.txt, so QEMU start-up is left out),
stimuli per second and the speed-up over one job. Each job count also
checks that the merged results equal the one-job run's (same outputs, same
top-1), so the figure is for the same work.

The machine's core count bounds the speed-up: each QEMU is one busy host
thread. The figures say how many CPUs this process may use.

usage: .venv/bin/python benchmarks/shards.py [--stimuli N] [--jobs 1,2,4]
                                             [--board disco_l475vg_iot01a]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tinygen.benches import get_bench  # noqa: E402
from tinygen.cli import main as tinygen  # noqa: E402
from tinygen.runner.dataset import random_stimuli  # noqa: E402


def write_dataset(folder: Path, bench_id: str, count: int) -> None:
    from tinygen.runner.oracle import Oracle

    bench = get_bench(bench_id)
    oracle = Oracle(bench.model_path, bench)
    sub = folder / bench.id
    sub.mkdir(parents=True)
    rows = []
    for i, s in enumerate(random_stimuli(bench, count, seed=11)):
        (sub / f"s{i:04d}.bin").write_bytes(s.data)
        rows.append(f"s{i:04d}.bin,{bench.classes},{int(np.argmax(oracle.raw_output(s.data)))}")
    (sub / "y_labels.csv").write_text("\n".join(rows) + "\n")


def accuracy_seconds(session: Path) -> float:
    """From the first 'db load' of the accuracy run to the last results line."""
    stamps = []
    for line in (session / "log.txt").read_text().splitlines():
        if "db load" in line or "m-results-" in line:
            stamps.append(datetime.strptime(line.split(" ", 1)[0], "%Y-%m-%dT%H:%M:%S.%fZ"))
    return (max(stamps) - min(stamps)).total_seconds()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--board", default="disco_l475vg_iot01a")
    parser.add_argument("--bench", default="kws01")
    parser.add_argument("--stimuli", type=int, default=200)
    parser.add_argument("--jobs", default="1,2,4")
    args = parser.parse_args()
    jobs = [int(j) for j in args.jobs.split(",")]
    with tempfile.TemporaryDirectory(prefix="tinygen-shards-") as tmp:
        work = Path(tmp)
        from tinygen.port.build import build_firmware

        build = build_firmware(args.board, args.bench, model_path=get_bench(args.bench).model_path,
                               mode="performance", out_dir=work / "build").build_dir
        write_dataset(work / "data", args.bench, args.stimuli)
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        print(f"{args.board} {args.bench}: {args.stimuli} accuracy stimuli, {cpus} CPUs, "
              f"load average {os.getloadavg()[0]:.2f}")
        print(f"{'jobs':>4}  {'accuracy run':>12}  {'stimuli/s':>9}  {'speed-up':>8}  {'wall':>7}")
        base = reference = None
        for j in jobs:
            out = work / f"session-{j}"
            started = time.monotonic()
            with contextlib.redirect_stdout(io.StringIO()):  # the session summary; progress stays
                rc = tinygen(["run", "--board", args.board, "--build", str(build), "--mode",
                              "accuracy", "--dataset", str(work / "data"), "--jobs", str(j),
                              "--out", str(out)])
            wall = time.monotonic() - started
            if rc != 0:
                print(f"{j:>4}  run failed (exit {rc}); see {out}")
                return 1
            acc = json.loads((out / "results.json").read_text())["accuracy"]
            merged = [(d["stimulus"], d["values"]) for d in acc["inferences"]]
            if reference is None:
                reference = (merged, acc["top1"])
            elif (merged, acc["top1"]) != reference:
                print(f"{j:>4}  results differ from the 1-job run: not comparable")
                return 1
            seconds = accuracy_seconds(out)
            base = base or seconds
            print(f"{j:>4}  {seconds:>10.1f} s  {args.stimuli / seconds:>9.2f}  "
                  f"{base / seconds:>7.2f}x  {wall:>5.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
