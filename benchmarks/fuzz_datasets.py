#!/usr/bin/env python3
"""Dataset fuzzing campaign (issue 25): corrupted datasets in the EEMBC
layout given to `tinygen run --dataset` must be read whole and right, or
refused in one TinygenError of one bounded line before the run starts;
never a traceback, never a hang.

The seeds are datasets as `tinygen dataset` and the tests write them (no
dataset is committed): kws01, vww01 and ic01 stimuli with labels, and ad01
files of one to three windows, made once per campaign from fixed seeds.
Each mutant is a fresh copy with one to three mutations:

  y_labels.csv  byte flips, truncation, non-UTF-8 bytes, a BOM, CR line
                ends, and row edits: a field replaced by an extreme (huge,
                negative, Unicode digits, '1_2', empty, a 200 KB field,
                quotes, NUL, control characters, a path, '..'), fields
                added or removed, rows duplicated, removed or added; the
                file itself a FIFO, a folder, a symlink loop, over 16 MiB
  stimuli       resized, removed, a FIFO, a folder, a symlink loop, a link
                to /dev/zero; NaN or infinity written into an ad01 file
  layout        the labels moved next to the model-id folder

then goes through what `tinygen run --dataset` does before the DUT: load_dataset,
and for an accepted set every accuracy and performance stimulus (each must
hold the bench's input bytes; ad01 windows finite floats, labels in range).
Outcomes: ok, refused (one line), or bad message / wrong stimulus /
traceback / hang. Mutant i of seed s is the same on every run.

    .venv/bin/python benchmarks/fuzz_datasets.py --mutants 100000 --seed 1
    .venv/bin/python benchmarks/fuzz_datasets.py --only 1234 --seed 1

tests/runner/test_dataset_fuzz_smoke.py runs a fixed-seed smoke of it.
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
if str(ROOT / "benchmarks") not in sys.path:
    sys.path.insert(0, str(ROOT / "benchmarks"))

import fuzzing  # noqa: E402 (benchmarks/fuzzing.py, found through the path above)

MAX_LINE = 1000
TIME_LIMIT_S = 20
BENCHES = ("kws01", "vww01", "ic01", "ad01")
LABELS = "y_labels.csv"
FIELDS = ["", "-1", "0", "1", "2", "12", "99", "10" * 20, "٣", "1_2", "+1", " 1 ", "1.0", "0x1",
          "a" * 200_000, '"', '"a,b"', "\x00", "\x1b[2J", "x\ny", "../y_labels.csv", ".", "..",
          "/dev/zero", "sub/x.bin", "é.bin", "2560", "512", "-512", "3", "1e3", "nan"]


# ---- seeds --------------------------------------------------------------------

def make_seeds(folder: Path) -> dict[str, Path]:
    """bench id -> a seed dataset folder (holding <bench id>/y_labels.csv)."""
    from tinygen.benches import get_bench
    from tinygen.runner.dataset import random_stimuli

    out = {}
    for k, bench_id in enumerate(BENCHES):
        bench = get_bench(bench_id)
        sub = Path(folder) / bench_id / bench_id
        sub.mkdir(parents=True)
        rows = []
        if bench_id == "ad01":
            rng = np.random.default_rng(k)
            for i, windows in enumerate((1, 2, 3)):
                floats = 640 + 128 * (windows - 1)
                (sub / f"clip_{i:02d}.bin").write_bytes(
                    rng.normal(0, 1, floats).astype("<f4").tobytes())
                rows.append(f"clip_{i:02d}.bin,2,{i % 2},2560,512")
        else:
            for i, s in enumerate(random_stimuli(bench, 2 if bench_id == "vww01" else 4, seed=k)):
                (sub / f"stim_{i:03d}.bin").write_bytes(s.data)
                rows.append(f"stim_{i:03d}.bin,{bench.classes},{i % bench.classes}")
        (sub / LABELS).write_text("\n".join(rows) + "\n")
        out[bench_id] = Path(folder) / bench_id
    return out


# ---- mutations ------------------------------------------------------------------

def _replace(path: Path, rng: random.Random) -> str:
    """Make path something that is no regular file."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif os.path.lexists(path):
        path.unlink()
    kind = rng.randrange(5)
    if kind == 0:
        return "removed"
    if kind == 1:
        path.mkdir()
        return "a folder"
    if kind == 2:
        os.mkfifo(path)
        return "a FIFO"
    if kind == 3:
        os.symlink(path.name, path)
        return "a symlink loop"
    os.symlink("/dev/zero", path)
    return "a link to /dev/zero"


def _rows(text: str) -> list[list[str]]:
    # Not the csv module: a mutant may hold a field past its limit.
    return [line.split(",") for line in text.splitlines()]


def _csv(rows: list[list[str]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def mutate_labels(text: str, rng: random.Random) -> tuple[bytes, str]:
    text = text or "x\n"          # an earlier mutation may have emptied it
    r = rng.random()
    if r < 0.08:
        raw = bytearray(text.encode())
        for _ in range(rng.randint(1, 6)):
            raw[rng.randrange(len(raw))] = rng.randrange(256)
        return bytes(raw), "byte flips"
    if r < 0.12:
        cut = rng.randrange(len(text))
        return text.encode()[:cut], f"truncated at {cut}"
    if r < 0.14:
        return text.encode("utf-16"), "UTF-16"
    if r < 0.16:
        return ("\ufeff" + text).encode(), "a BOM"
    if r < 0.18:
        return text.replace("\n", "\r").encode(), "CR line ends"
    if r < 0.2:
        return b"", "empty"
    rows = _rows(text)
    done = []
    for _ in range(rng.randint(1, 3)):
        k = rng.random()
        if not rows:
            rows.append(["x"])
        i = rng.randrange(len(rows))
        if k < 0.6 and rows[i]:
            j = rng.randrange(len(rows[i]))
            rows[i][j] = rng.choice(FIELDS)
            done.append(f"row {i} field {j} -> {rows[i][j][:12]!r}")
        elif k < 0.7:
            rows[i].append(rng.choice(FIELDS))
            done.append(f"row {i} field added")
        elif k < 0.78 and rows[i]:
            rows[i].pop()
            done.append(f"row {i} field removed")
        elif k < 0.88:
            rows.insert(rng.randrange(len(rows) + 1), list(rows[i]))
            done.append(f"row {i} duplicated")
        elif k < 0.95:
            rows.pop(i)
            done.append(f"row {i} removed")
        elif sum(len(f) for row in rows for f in row) < 1000:    # many rows, not gigabytes
            rows = rows * rng.choice((50, 2000))
            done.append(f"rows repeated to {len(rows)}")
    return _csv(rows).encode(), "; ".join(done)


def mutate(seed_folder: Path, work: Path, bench_id: str, rng: random.Random) -> tuple[Path, list[str]]:
    """A mutated copy of a seed dataset in work; (the folder to pass, what was done)."""
    shutil.copytree(seed_folder, work, copy_function=os.link)
    sub = work / bench_id
    labels = sub / LABELS
    labels.unlink()                                  # its own file, not the seed's
    labels.write_bytes((seed_folder / bench_id / LABELS).read_bytes())
    done = []
    for _ in range(rng.choice((1, 1, 2, 3))):
        r = rng.random()
        if r < 0.55 and labels.is_file() and not labels.is_symlink():
            raw, what = mutate_labels(labels.read_text(errors="replace"), rng)
            labels.write_bytes(raw)
            done.append(f"labels: {what}")
            continue
        stims = sorted(p for p in sub.iterdir() if p.name != LABELS)
        if r < 0.8 and stims:
            stim = rng.choice(stims)
            if not stim.is_file() or stim.is_symlink():
                continue
            k = rng.random()
            data = bytearray(stim.read_bytes())
            stim.unlink()                            # never write through the link
            if k < 0.35:
                data = data[:rng.randrange(len(data) + 1)] if rng.random() < 0.5 else \
                    data + bytes(rng.choice((1, 3, 4, 512, 2560)))
                what = f"{len(data)} bytes"
            elif k < 0.7 and bench_id == "ad01" and len(data) >= 4:
                at = rng.randrange(len(data) // 4) * 4
                data[at:at + 4] = np.array([rng.choice((math.nan, math.inf, -math.inf, 3e38))],
                                           "<f4").tobytes()
                what = f"float {at // 4} not finite"
            elif k < 0.7:
                data[rng.randrange(len(data))] ^= 0xFF
                what = "a byte changed"
            else:
                stim.write_bytes(bytes(data))
                what = _replace(stim, rng)
                done.append(f"{stim.name} {what}")
                continue
            stim.write_bytes(bytes(data))
            done.append(f"{stim.name} {what}")
            continue
        if r < 0.9:
            if rng.random() < 0.2 and labels.is_file() and not labels.is_symlink():
                with labels.open("ab") as f:
                    f.truncate(17 << 20)
                done.append("labels over 16 MiB")
            else:
                done.append(f"labels {_replace(labels, rng)}")
            continue
        if r < 0.95 and labels.is_file():
            shutil.move(labels, work / LABELS)
            done.append("labels moved up beside the model-id folder")
            continue
        done.append("no change")
    return work, done


# ---- what the run does before the DUT -----------------------------------------

def check(bench_id: str, folder: Path) -> tuple[str, str]:
    from tinygen.benches import METRIC_AUC, get_bench
    from tinygen.errors import TinygenError
    from tinygen.runner.dataset import floats_from_bytes, load_dataset

    bench = get_bench(bench_id)

    def read():
        dataset = load_dataset(bench, folder)
        stimuli = dataset.accuracy_stimuli() + dataset.performance_stimuli()
        for s in stimuli:
            if len(s.data) != bench.input_bytes:
                return "wrong stimulus", f"{s.name} holds {len(s.data)} bytes"
            labels = (0, 1) if bench.metric == METRIC_AUC else range(bench.classes)
            if s.label not in labels:
                return "wrong stimulus", f"{s.name} label {s.label}"
            if bench.metric == METRIC_AUC and not all(map(math.isfinite, floats_from_bytes(s.data))):
                return "wrong stimulus", f"{s.name} holds a value that is not finite"
        return None

    return fuzzing.outcome(read, TIME_LIMIT_S, MAX_LINE)


def one(seeds: dict[str, Path], work: Path, seed: int, index: int):
    """(bench id, folder, mutations) of mutant index, made in work."""
    rng = random.Random(f"{seed}:{index}")
    bench_id = rng.choice(BENCHES)
    if work.exists():
        fuzzing.clear(work)
    folder, done = mutate(seeds[bench_id], work, bench_id, rng)
    return bench_id, folder, done


def campaign(*args, **kwargs):
    """_campaign with logging silenced while it runs (fuzzing.quietly)."""
    return fuzzing.quietly(_campaign, *args, **kwargs)


def _campaign(mutants: int, seed: int, first: int = 0, progress: float = 0.0, seconds: float = 0.0):
    """Counts per outcome and, per finding, its first mutant; stops after
    ``seconds`` (0: no limit) with the counts so far."""
    with tempfile.TemporaryDirectory(prefix="tinygen-fuzz-datasets-",
                                     dir=fuzzing.scratch_root()) as tmp:
        seeds = make_seeds(Path(tmp) / "seeds")

        def run_one(i: int):
            bench_id, folder, done = one(seeds, Path(tmp) / "m", seed, i)
            return (*check(bench_id, folder), (i, bench_id, done))

        return fuzzing.campaign(run_one, mutants, first, progress, seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mutants", type=int, default=2000)
    parser.add_argument("--first", type=int, default=0, help="index of the first mutant")
    parser.add_argument("--seconds", type=float, default=0.0,
                        help="stop after this long with the counts so far (0: no limit)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--progress", type=float, default=60.0,
                        help="seconds between progress lines (0: none)")
    parser.add_argument("--only", type=int, help="make mutant ONLY, print it and its outcome")
    args = parser.parse_args(argv)
    if args.only is not None:
        tmp = Path(tempfile.mkdtemp(prefix="tinygen-dataset-mutant-"))
        bench_id, folder, done = one(make_seeds(tmp / "seeds"), tmp / "m", args.seed, args.only)
        print(f"mutant {args.only} ({bench_id}): {'; '.join(done)} -> {folder}")
        print(*check(bench_id, folder))
        return 0
    start = time.monotonic()
    counts, found = campaign(args.mutants, args.seed, args.first, args.progress, args.seconds)
    print(fuzzing.report("dataset", args.seed, args.first, counts, found,
                         time.monotonic() - start,
                         lambda ex: f"{ex[0]} ({ex[1]}): {'; '.join(ex[2])[:300]}"))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
