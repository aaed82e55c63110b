"""What the front-end fuzzers share (benchmarks/fuzz_datasets.py,
fuzz_sessions.py, fuzz_board_files.py): the time limit on one mutant, the
outcome of one check, the campaign loop and its report.

An outcome is one of
  ok           the input was read (and whatever the fuzzer checks holds)
  refused      a TinygenError of one line, at most MAX_LINE characters
  bad message  a TinygenError spanning lines, or longer
  hang         over the time limit
  traceback    any other exception, with the innermost tinygen frame
or whatever else the fuzzer's check returns ("wrong stimulus", ...).
Anything but ok and refused is a finding.
"""

from __future__ import annotations

import logging
import os
import signal
import time
import traceback
from collections import Counter
from pathlib import Path
from typing import Callable

MAX_LINE = 1000
ANSWERS = ("ok", "refused")


class Hang(BaseException):
    """From the alarm; a BaseException so no `except Exception` swallows it."""


def _alarm(signum, frame):  # noqa: ANN001 (signal handler)
    raise Hang()


def outcome(check: Callable[[], tuple[str, str] | None], limit_s: int,
            max_line: int = MAX_LINE, lines: bool = False) -> tuple[str, str]:
    """(outcome, detail) of check() run under a time limit: its own answer
    when it returns one, ("ok", "") when it returns None. A refusal is one
    line of at most max_line characters, or with `lines` any number of them
    (a board file's refusal lists one problem a line)."""
    from tinygen.errors import TinygenError

    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(limit_s)
    try:
        return check() or ("ok", "")
    except TinygenError as exc:
        text = str(exc).split("\n")
        if (len(text) != 1 and not lines) or any(len(t) > max_line or "\r" in t for t in text):
            return "bad message", str(exc)[:200].encode("unicode_escape").decode()
        return "refused", text[0]
    except Hang:
        return "hang", ""
    except Exception as exc:  # noqa: BLE001 (a traceback is what the campaign counts)
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if "/tinygen/" in f.filename]
        where = f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else "?"
        return "traceback", f"{type(exc).__name__} at {where}: {str(exc)[:100]}"
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def clear(folder: Path) -> None:
    """Remove a mutant's folder, FIFOs, loops and all (never following links)."""
    for root, dirs, files in os.walk(folder, topdown=False, followlinks=False):
        for name in files + dirs:
            path = Path(root) / name
            if path.is_symlink() or not path.is_dir():
                path.unlink()
            else:
                path.rmdir()
    folder.rmdir()


def scratch_root() -> str | None:
    """Where mutants are made: tmpfs when there is one (less time in the kernel)."""
    return "/dev/shm" if os.path.isdir("/dev/shm") else None


def quietly(run: Callable, *args, **kwargs):
    """run(...) with logging silenced (the readers log what they refuse) and
    restored after, so an in-process smoke test leaves the test session's
    logging as it found it."""
    before = logging.root.manager.disable
    logging.disable(logging.CRITICAL)
    try:
        return run(*args, **kwargs)
    finally:
        logging.disable(before)


def campaign(one: Callable[[int], tuple[str, str, tuple]], mutants: int, first: int = 0,
             progress: float = 0.0, seconds: float = 0.0,
             on_finding: Callable[[int], None] | None = None) -> tuple[Counter, dict]:
    """Mutants first .. first + mutants - 1, each one(i) -> (outcome, detail,
    example). Counts per outcome and, per finding ("outcome: detail"), the
    example of its first mutant (on_finding(i) is called then); stops after
    `seconds` (0: no limit) with the counts so far."""
    counts: Counter = Counter()
    found: dict[str, tuple] = {}
    last = start = time.monotonic()
    for i in range(first, first + mutants):
        if seconds and time.monotonic() - start > seconds:
            break
        kind, detail, example = one(i)
        counts[kind] += 1
        if kind not in ANSWERS:
            key = f"{kind}: {detail}"
            if key not in found:
                found[key] = example
                if on_finding is not None:
                    on_finding(i)
        if progress and time.monotonic() - last > progress:
            last = time.monotonic()
            print(f"  {i + 1 - first} mutants: " + ", ".join(
                f"{k} {v}" for k, v in sorted(counts.items())), flush=True)
    return counts, found


def report(what: str, seed: int, first: int, counts: Counter, found: dict, took: float,
           describe: Callable[[tuple], str]) -> str:
    """The summary line and one line per finding (describe(example) says
    which mutant first showed it)."""
    done = sum(counts.values())
    lines = [f"{done} {what} mutants (seed {seed}) in {took:.1f} s "
             f"({done / max(took, 1e-9):.1f}/s), mutants {first}..{first + done - 1}: "
             + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))]
    lines += [f"  {key[:200]} -> first mutant {describe(example)}"
              for key, example in found.items()]
    return "\n".join(lines)
