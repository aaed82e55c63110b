#!/usr/bin/env python3
"""Session-folder fuzzing campaign (issue 25): corrupted session folders and
build folders given to `tinygen package` must end in a submission tree or in
one TinygenError of one bounded line; never a traceback, never a hang.

The seeds are real: a host build of kws01 and a performance and an accuracy
session run on it by the real runner, made once (--seeds DIR keeps them
between campaigns). Each mutant is a fresh copy of the two sessions (and of
the build, when the mutation touches it) with one to three mutations:

  results.json  whole-file ones (an array, null, text, a number, deep
                nesting, NaN, non-UTF-8 bytes, truncation, byte flips, empty,
                rarely a file over the size bound) and structure-aware ones
                (any field replaced by another type or an extreme value:
                null, huge, negative, text with newlines or control bytes,
                long text, lists, objects; keys removed or renamed)
  build.json    the same, on the build manifest
  files         log.txt or results.txt missing, a folder, a FIFO, a symlink
                loop; the image removed, truncated or changed; a symlink
                loop, a FIFO or an absolute path in the build folder;
                firmware.build naming a file, a loop or nothing

then goes through what `tinygen package` does (load_session for each folder,
then package with --force, or without it for a fifth of the mutants). The
outcome is ok (a tree), refused (one line), or bad message / traceback /
hang. Mutant i of seed s is the same on every run (--only i shows it).

    .venv/bin/python benchmarks/fuzz_sessions.py --mutants 100000 --seed 1 --seeds /tmp/s
    .venv/bin/python benchmarks/fuzz_sessions.py --only 1234 --seed 1 --seeds /tmp/s

tests/submit/test_session_attacks.py runs a fixed-seed smoke of it.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
if str(ROOT / "benchmarks") not in sys.path:
    sys.path.insert(0, str(ROOT / "benchmarks"))

import fuzzing  # noqa: E402 (benchmarks/fuzzing.py, found through the path above)

MAX_LINE = 2000     # a refusal of two sessions names each one's reasons
TIME_LIMIT_S = 20
BENCH = "kws01"
SESSIONS = ("perf", "acc")
SESSION_FILES = ("log.txt", "results.txt", "results.json")
# What of a build folder a package reads or exports (obj/ and the map are not).
BUILD_PARTS = ("Makefile", "SConstruct", "build.json", "firmware", "harness", "kernels",
               "platform", "src")

EXTREMES = [None, 0, -1, 2 ** 64, -2 ** 70, 10 ** 400 // 10 ** 390, 1e308, 0.5, True, False,
            "", "x\ny", "\x00\x1b[2J", "é" * 3, "a" * 5000, "../../etc/passwd", "/dev/zero",
            "kws01", "performance", "accuracy", "energy", "verify", "complete", "failed",
            "host", [], [1, [2, [3]]], {}, {"k": {"k": "v"}}, ["a", "b"], {"windows": "x"}]


# ---- the seeds: a real build and two real sessions ----------------------------

def make_seeds(folder: Path) -> Path:
    """A host build of kws01 and a performance and an accuracy session run on
    it (the real runner, a 4-stimulus dataset); reused when already there."""
    folder = Path(folder)
    if all((folder / s / "results.json").is_file() for s in SESSIONS) and \
            (folder / "build" / "build.json").is_file():
        return folder
    sys.path.insert(0, str(ROOT / "tests" / "runner"))
    from runner_helpers import write_classifier_dataset
    from tinygen.cli import main
    from tinygen.port.build import build_firmware

    folder.mkdir(parents=True, exist_ok=True)
    write_classifier_dataset(folder / "data", BENCH, lambda i, d: i % 12, count=4, seed=4)
    build = build_firmware("host", BENCH, out_dir=folder / "build", jobs=2).build_dir
    for name, extra in (("perf", ["--mode", "performance", "--warmup", "1", "--min-seconds", "0.2"]),
                        ("acc", ["--mode", "accuracy", "--dataset", str(folder / "data")])):
        if main(["run", "--board", "host", "--build", str(build), "--out", str(folder / name)]
                + extra) != 0:
            raise RuntimeError(f"the seed session {name} did not run")
    return folder


# ---- mutations ------------------------------------------------------------------

def _paths(data, prefix=()):
    """Every (path, value) of a JSON tree, iteratively."""
    todo = [(prefix, data)]
    while todo:
        path, value = todo.pop()
        yield path, value
        if isinstance(value, dict):
            todo.extend((path + (k,), v) for k, v in value.items())
        elif isinstance(value, list):
            todo.extend((path + (i,), v) for i, v in enumerate(value))


def _set(data, path, value):
    target = data
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value


def mutate_json(data: dict, rng: random.Random) -> tuple[bytes, str]:
    """A corrupted JSON record: (its bytes, what was done)."""
    r = rng.random()
    text = json.dumps(data, indent=2)
    if r < 0.04:
        whole = rng.choice(["[1, 2]", "null", '"text"', "5", "[" * 100000 + "]" * 100000,
                            '{"a":' * 40 + "1" + "}" * 40, "", "{", '{"mode": NaN}',
                            '{"baud": ' + "9" * 5000 + "}"])
        return whole.encode(), f"whole file -> {whole[:20]!r}"
    if r < 0.07:
        raw = bytearray(text.encode())
        for _ in range(rng.randint(1, 8)):
            raw[rng.randrange(len(raw))] = rng.randrange(256)
        return bytes(raw), "byte flips"
    if r < 0.09:
        cut = rng.randrange(len(text))
        return text.encode()[:cut], f"truncated at {cut}"
    if r < 0.1:
        return text.encode("utf-16"), "UTF-16"
    data = copy.deepcopy(data)
    done = []
    for _ in range(rng.randint(1, 3)):
        paths = [p for p, _ in _paths(data) if p]
        if not paths:
            break
        path = rng.choice(paths)
        k = rng.random()
        try:
            if k < 0.7:
                value = copy.deepcopy(rng.choice(EXTREMES))
                _set(data, path, value)
                done.append(f"{'.'.join(map(str, path))} -> {str(value)[:20]!r}")
            elif k < 0.85:
                holder = data
                for step in path[:-1]:
                    holder = holder[step]
                holder.pop(path[-1]) if isinstance(holder, dict) else holder.pop(path[-1])
                done.append(f"{'.'.join(map(str, path))} removed")
            else:
                _set(data, path, {"deep": copy.deepcopy(rng.choice(EXTREMES))})
                done.append(f"{'.'.join(map(str, path))} -> an object")
        except (KeyError, IndexError, TypeError):
            pass
    return json.dumps(data, indent=rng.choice((None, 2))).encode(), "; ".join(done)


def _bad_file(path: Path, rng: random.Random) -> str:
    """Replace a file by something that is no file."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()
    kind = rng.randrange(5)
    if kind == 0:
        return f"{path.name} removed"
    if kind == 1:
        path.mkdir()
        return f"{path.name} a folder"
    if kind == 2:
        os.mkfifo(path)
        return f"{path.name} a FIFO"
    if kind == 3:
        os.symlink(path.name, path)
        return f"{path.name} a symlink loop"
    os.symlink("/dev/zero", path)
    return f"{path.name} -> /dev/zero"


class _Skip(Exception):
    pass


def _plain(path: Path) -> Path:
    """path, when it is a regular file in a real folder (a mutant may have made
    it a FIFO, a link or a folder: writing into those would block or escape),
    made its own file (not a hard link to a seed) to be edited."""
    if not path.parent.is_dir() or path.parent.is_symlink() or path.is_symlink() or \
            (path.exists() and not path.is_file()):
        raise _Skip(f"{path.name} is no plain file")
    if path.exists() and path.stat().st_nlink > 1:
        data, mode = path.read_bytes(), path.stat().st_mode
        path.unlink()
        path.write_bytes(data)
        path.chmod(mode)
    return path


class Mutant:
    """One mutant's folders under work/: perf, acc (and build when touched)."""

    def __init__(self, seeds: Path, work: Path):
        self.seeds = Path(seeds)
        self.work = Path(work)
        self.records = {s: json.loads((self.seeds / s / "results.json").read_text())
                        for s in SESSIONS}
        self.manifest = json.loads((self.seeds / "build" / "build.json").read_text())

    def make(self, seed: int, index: int) -> tuple[list[Path], bool, list[str]]:
        """(session folders, --force, mutations made) of mutant index."""
        rng = random.Random(f"{seed}:{index}")
        if self.work.exists():
            fuzzing.clear(self.work)
        self.work.mkdir(parents=True, exist_ok=True)
        build = self.seeds / "build"
        touch_build = rng.random() < 0.3
        if touch_build:
            build = self.work / "build"
            build.mkdir()
            # Hard links, not copies (quick): a mutation that edits a file
            # first makes it its own (_own), so the seeds never change.
            for part in BUILD_PARTS:
                src = self.seeds / "build" / part
                if src.is_dir():
                    shutil.copytree(src, build / part, copy_function=os.link)
                else:
                    os.link(src, build / part)
        records = copy.deepcopy(self.records)
        for name, data in records.items():
            data["build"] = str(build)
            data["firmware"]["build"] = str(build)
            folder = self.work / name
            folder.mkdir()
            for f in ("log.txt", "results.txt"):
                os.link(self.seeds / name / f, folder / f)
            (folder / "results.json").write_text(json.dumps(data, indent=2))
        done: list[str] = []
        for _ in range(rng.choice((1, 1, 2, 3))):
            try:
                done.append(self._one(rng, records, build, touch_build))
            except (_Skip, FileExistsError) as exc:   # an earlier mutation took the file away
                done.append(f"(skipped: {exc})")
        folders = [self.work / s for s in SESSIONS]
        return folders, rng.random() < 0.8, done

    def _one(self, rng, records, build: Path, touch_build: bool) -> str:
        target = rng.choice(SESSIONS)
        folder = self.work / target
        r = rng.random()
        if touch_build and r < 0.5:
            return "build: " + self._build(rng, build)
        if r < 0.8:
            raw, what = mutate_json(records[target], rng)
            _plain(folder / "results.json").write_bytes(raw)
            return f"{target}/results.json: {what}"
        if r < 0.9:
            if not folder.is_dir() or folder.is_symlink():
                raise _Skip(f"{target} is no folder")
            return f"{target}: " + _bad_file(folder / rng.choice(SESSION_FILES), rng)
        if r < 0.95:
            data = dict(records[target])
            data["firmware"] = dict(data["firmware"])
            where = rng.choice([str(self.work / "nothing"), str(folder / "log.txt"),
                                str(self.work / "loop"), "/", "/dev/null", "x" * 300,
                                "/" + "a" * 5000])
            if where.endswith("loop"):
                if not os.path.lexists(where) and self.work.is_dir():
                    os.symlink("loop", where)
            data["firmware"]["build"] = data["build"] = where
            _plain(folder / "results.json").write_text(json.dumps(data))
            return f"{target}: firmware.build -> {where[:30]!r}"
        if rng.random() < 0.002:       # rarely: over the 64 MB bound (slow to write)
            with _plain(folder / "results.json").open("ab") as f:
                f.truncate(65 * 1024 * 1024)
            return f"{target}/results.json over 64 MB"
        _bad_file(folder, rng)
        return f"{target}: the session folder itself replaced"

    def _build(self, rng, build: Path) -> str:
        r = rng.random()
        if not (build / "src").is_dir() or (build / "src").is_symlink():
            raise _Skip("the build folder lost src")
        if r < 0.6:
            raw, what = mutate_json(self.manifest, rng)
            _plain(build / "build.json").write_bytes(raw)
            return f"build.json: {what}"
        if r < 0.7:
            os.symlink(".", build / "src" / "loop")
            return "src/loop -> . (a symlink loop)"
        if r < 0.75:
            os.mkfifo(build / "src" / "fifo")
            return "a FIFO in src"
        if r < 0.85:
            image = _plain(build / "firmware")
            if not image.exists():
                raise _Skip("no image")
            k = rng.randrange(3)
            if k == 0:
                image.unlink()
                return "image removed"
            with image.open("r+b") as f:
                if k == 1:
                    f.truncate(rng.randrange(image.stat().st_size))
                    return "image truncated"
                f.seek(rng.randrange(image.stat().st_size))
                f.write(b"\xff")
                return "image changed"
        if r < 0.92:
            with _plain(build / "Makefile").open("ab") as f:
                f.write(rng.choice([b"\nX = /abs/lib.a\n", b"\xff\xfe\x00", b"\n" + b"a" * 10000]))
            return "Makefile appended"
        return _bad_file(build / rng.choice(BUILD_PARTS), rng)


# ---- the package step ---------------------------------------------------------

def check(folders: list[Path], force: bool, out: Path) -> tuple[str, str]:
    """(outcome, detail) of what `tinygen package --force ... FOLDERS` does."""
    from tinygen.errors import TinygenError
    from tinygen.submit.tree import PackageOptions, load_session, package

    def package_them():
        sessions = [load_session(f) for f in folders]
        package(sessions, PackageOptions(org="Fuzz", system="fuzz", out=out,
                                         force="fuzzing" if force else None))

    return fuzzing.outcome(package_them, TIME_LIMIT_S, MAX_LINE)


def campaign(*args, **kwargs):
    """_campaign with logging silenced while it runs (fuzzing.quietly)."""
    return fuzzing.quietly(_campaign, *args, **kwargs)


def _campaign(mutants: int, seed: int, seeds: Path, first: int = 0, progress: float = 0.0,
             keep: Path | None = None, seconds: float = 0.0
             ) -> tuple[Counter, dict[str, tuple[int, list[str]]]]:
    """Counts per outcome and, per finding, its first mutant; stops after
    ``seconds`` (0: no limit) with the counts so far."""
    with tempfile.TemporaryDirectory(prefix="tinygen-fuzz-sessions-",
                                     dir=fuzzing.scratch_root()) as tmp:
        local = Path(tmp) / "seeds"      # beside the mutants: hard links need one file system
        for name in SESSIONS:
            shutil.copytree(Path(seeds) / name, local / name)
        (local / "build").mkdir()
        for part in BUILD_PARTS:
            src = Path(seeds) / "build" / part
            (shutil.copytree if src.is_dir() else shutil.copy2)(src, local / "build" / part)
        maker = Mutant(local, Path(tmp) / "m")
        out = Path(tmp) / "out"

        def run_one(i: int):
            folders, force, done = maker.make(seed, i)
            outcome, detail = check(folders, force, out)
            if out.exists():
                shutil.rmtree(out)
            return outcome, detail, (i, done)

        def keep_it(i: int) -> None:
            if keep is not None:
                keep.mkdir(parents=True, exist_ok=True)
                try:        # FIFOs are not copied (--only remakes the mutant)
                    shutil.copytree(maker.work, keep / f"mutant-{i}", symlinks=True)
                except (shutil.Error, OSError):
                    pass

        return fuzzing.campaign(run_one, mutants, first, progress, seconds, keep_it)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mutants", type=int, default=1000)
    parser.add_argument("--first", type=int, default=0, help="index of the first mutant")
    parser.add_argument("--seconds", type=float, default=0.0,
                        help="stop after this long with the counts so far (0: no limit)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--seeds", type=Path, help="the seed build and sessions (made once there)")
    parser.add_argument("--progress", type=float, default=60.0,
                        help="seconds between progress lines (0: none)")
    parser.add_argument("--keep", type=Path, help="copy the first mutant of each finding here")
    parser.add_argument("--only", type=int, help="show mutant ONLY and its outcome")
    args = parser.parse_args(argv)
    seeds = make_seeds(args.seeds or Path(tempfile.mkdtemp(prefix="tinygen-session-seeds-")))
    if args.only is not None:
        work = Path(tempfile.mkdtemp(prefix="tinygen-session-mutant-"))
        folders, force, done = Mutant(seeds, work / "m").make(args.seed, args.only)
        print(f"mutant {args.only} ({'--force' if force else 'closed'}): {'; '.join(done)}")
        print(*check(folders, force, work / "out"))
        print(f"folders in {work / 'm'}")
        return 0
    start = time.monotonic()
    counts, found = campaign(args.mutants, args.seed, seeds, args.first, args.progress, args.keep,
                             args.seconds)
    print(fuzzing.report("session", args.seed, args.first, counts, found,
                         time.monotonic() - start,
                         lambda ex: f"{ex[0]}: {'; '.join(ex[1])[:300]}"))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
