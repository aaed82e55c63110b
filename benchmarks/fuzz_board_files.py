"""Board and part file fuzzing campaign (issue 25): mutants of the shipped
files through the board and part readers must end in a board, or in one
TinygenError whose lines are each one line of bounded length; never a
traceback, never a hang.

Mutations: byte flips and truncation of the text, and structure-aware
edits of the parsed file (a value replaced by another type or an extreme
one: huge and negative numbers, text with newlines or control bytes, long
text, lists, mappings, null; keys removed, renamed, added; deep nesting;
a YAML alias bomb; non-UTF-8 bytes). Every mutant is checked in-process
with a time limit; the counts are printed and the first example of each
failure is saved.

    .venv/bin/python benchmarks/fuzz_board_files.py --mutants 100000 --seed 1
    .venv/bin/python benchmarks/fuzz_board_files.py --mutants 2000 --out /tmp/fuzz-boards

tests/boards/test_board_file_attacks.py runs a fixed-seed smoke of it.
"""

from __future__ import annotations

import argparse
import copy
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import yaml

if str(Path(__file__).parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).parent))

import fuzzing  # noqa: E402 (benchmarks/fuzzing.py, found through the path above)

from tinygen.boards import load_board_file
from tinygen.chips import load_part_file
from tinygen.errors import TinygenError
from tinygen.paths import boards_dir

MAX_LINE = 600
TIME_LIMIT_S = 20    # a hang is endless; a loaded machine is slow

EXTREMES = [2 ** 64, -1, 0, 2 ** 31, 10 ** 30, 1e308, float("nan"), "x\ny", "\x00\x1b[2J",
            "é" * 3, "a" * 5000, [], {}, None, True, [1, [2, [3]]], {"k": {"k": "v"}}, "*",
            "0x", "4G", "99999999999M", "PZ99", "P9.99", -2 ** 70]
BOMB = ("a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 9) + "]\n"
    for i in range(9)))


def _paths(data, prefix=()):
    """Every (path, value) inside a parsed YAML tree."""
    yield prefix, data
    if isinstance(data, dict):
        for k, v in data.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from _paths(v, prefix + (i,))


def _set(data, path, value):
    target = data
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value


_PARSED: dict[str, object] = {}


def _parsed(text: str):
    """A seed file's YAML tree, parsed once per campaign (the pure-Python
    YAML parser took a third of the time per mutant); each mutant edits a
    deep copy of it."""
    if text not in _PARSED:
        _PARSED[text] = yaml.safe_load(text)
    return copy.deepcopy(_PARSED[text])


def mutate(text: str, rng: random.Random) -> bytes:
    kind = rng.randrange(8)
    if kind == 0:     # byte flips
        raw = bytearray(text.encode())
        for _ in range(rng.randint(1, 8)):
            raw[rng.randrange(len(raw))] = rng.randrange(256)
        return bytes(raw)
    if kind == 1:     # truncation
        return text.encode()[: rng.randrange(len(text))]
    if kind == 2:     # alias bomb or deep nesting appended
        return (BOMB + text).encode() if rng.random() < 0.5 else (
            text + "notes: " + "[" * rng.randint(20, 3000) + "]" * rng.randint(0, 3000)).encode()
    data = _parsed(text)
    paths = [p for p, _ in _paths(data) if p]
    for _ in range(rng.randint(1, 3)):
        path = rng.choice(paths)
        try:
            # A copy: the extremes are shared, and an edit must never
            # reach into one (it could come to hold itself).
            if kind in (3, 4, 5):
                _set(data, path, copy.deepcopy(rng.choice(EXTREMES)))
            elif kind == 6 and isinstance(data, dict) and path[0] in data:
                value = data.pop(path[0])
                if rng.random() < 0.5:
                    data[rng.choice(["x", path[0] + "s", path[0][:-1], "évil\nkey"])] = value
            else:
                _set(data, path, {"deep": copy.deepcopy(rng.choice(EXTREMES))})
        except (KeyError, IndexError, TypeError):
            pass
        paths = [p for p, _ in _paths(data) if p] or paths
    try:
        out = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    except (yaml.YAMLError, ValueError, RecursionError):
        out = text
    return out.encode() if rng.random() < 0.95 else out.encode("latin-1", "replace") + b"\xff"


def check(path: Path, loader) -> str:
    """'ok', 'refused', or a failure kind."""
    def load() -> None:
        loader(path)

    return fuzzing.outcome(load, TIME_LIMIT_S, MAX_LINE, lines=True)[0]


def campaign(mutants: int, seed: int, out: Path | None = None, progress: float = 0.0,
             first: int = 0, seconds: float = 0.0) -> Counter:
    """Mutants first .. first + mutants - 1 of seed; mutant i is the same on
    every run (its own random stream)."""
    seeds = [(p, load_board_file) for p in sorted(boards_dir().glob("*.yaml"))]
    seeds += [(p, load_part_file) for p in sorted((boards_dir() / "parts").glob("*.yaml"))]
    with tempfile.TemporaryDirectory(prefix="tinygen-fuzz-boards-") as tmp:
        def one(i: int):
            rng = random.Random(f"{seed}:{i}")
            source, loader = rng.choice(seeds)
            path = Path(tmp) / source.name
            path.write_bytes(mutate(source.read_text(), rng))
            result = check(path, loader)
            if result not in ("ok", "refused") and out is not None:
                out.mkdir(parents=True, exist_ok=True)
                keep = out / f"{result.replace(' ', '_')}-{i}-{source.name}"
                if not any(out.glob(f"{result.replace(' ', '_')}-*")):
                    keep.write_bytes(path.read_bytes())
            return result, "", i

        counts, _ = fuzzing.campaign(one, mutants, first, progress, seconds)
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mutants", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--first", type=int, default=0, help="index of the first mutant")
    parser.add_argument("--seconds", type=float, default=0.0,
                        help="stop after this long with the counts so far (0: no limit)")
    parser.add_argument("--out", type=Path, help="keep the first example of each failure here")
    parser.add_argument("--progress", type=float, default=0.0,
                        help="seconds between progress lines (0: none)")
    args = parser.parse_args(argv)
    start = time.monotonic()
    counts = campaign(args.mutants, args.seed, args.out, args.progress, args.first, args.seconds)
    took = time.monotonic() - start
    done = sum(counts.values())
    print(f"{done} board/part mutants (seed {args.seed}, mutants {args.first}..{args.first + done - 1}) "
          f"in {took:.1f} s ({done / max(took, 1e-9):.1f}/s): " +
          ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    bad = sum(v for k, v in counts.items() if k not in ("ok", "refused"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
