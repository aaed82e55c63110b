"""A soak run: thousands of mixed protocol commands, bad ones included,
against a running DUT, checking that every command is answered (ends in
m-ready), that bad ones get exactly one e-[...] line, and that the results
of the same input never change.

Used by test_soak.py (a CI version of seconds and a long one marked slow)
and runnable by hand for as long as you like:
    .venv/bin/python -m pytest tests/reliability/test_soak.py -m slow
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

GOOD = ("name", "profile", "results", "timestamp", "help")
BAD = (
    "db load 0", "db load 4294967297", "db load 99999999", "db load -1", "db load",
    "infer 0", "infer 4294967297 4294967296", "infer 1 x", "infer", "infer 1 2 3",
    "frobnicate", "NAME", "name now", "db zz", "db 123", "results please", "db_load 3",
)


@dataclass
class SoakReport:
    commands: int = 0
    errors_expected: int = 0
    inferences: int = 0
    reloads: int = 0
    kinds: dict = field(default_factory=dict)


def _count(report: SoakReport, kind: str) -> None:
    report.kinds[kind] = report.kinds.get(kind, 0) + 1


def one_error(lines: list[str], what: str) -> None:
    assert lines[-1] == "m-ready", (what, lines)
    errors = [ln for ln in lines if ln.startswith("e-[")]
    assert len(errors) == 1 and errors[0].endswith("]"), (what, lines)


def soak(dut, stimulus: bytes, commands: int, seed: int, *, infer_every: int = 40,
         reload_every: int = 150, timeout: float = 120.0) -> SoakReport:
    """``dut`` is a raw client (tests/firmware/raw_dut.py interface)."""
    rng = random.Random(seed)
    report = SoakReport()
    assert dut.load(stimulus)[-2:] == ["m-load-done", "m-ready"]
    first = dut.command("infer 1 0", timeout=timeout)
    baseline = first[-2]
    assert baseline.startswith("m-results-["), first
    name = dut.command("name")
    profile = dut.command("profile")
    while report.commands < commands:
        roll = rng.random()
        report.commands += 1
        if report.commands % reload_every == 0:
            # A whole new download of the same input, sometimes in odd chunk sizes.
            lines = dut.load(stimulus, chunk=rng.randint(1, 37))
            assert lines[-2:] == ["m-load-done", "m-ready"], lines[-4:]
            assert not [ln for ln in lines if ln.startswith("e-")]
            report.reloads += 1
            _count(report, "reload")
        elif report.commands % infer_every == 0:
            lines = dut.command(f"infer 1 {rng.randint(0, 1)}", timeout=timeout)
            assert lines[-2:] == [baseline, "m-ready"], lines
            report.inferences += 1
            _count(report, "infer")
        elif roll < 0.45:
            word = rng.choice(GOOD)
            lines = dut.command(word, timeout=timeout)
            assert lines[-1] == "m-ready" and not [ln for ln in lines if ln.startswith("e-")]
            if word == "results":
                assert lines == [baseline, "m-ready"]
            elif word == "name":
                assert lines == name
            elif word == "profile":
                assert lines == profile
            _count(report, word)
        elif roll < 0.85:
            word = rng.choice(BAD)
            one_error(dut.command(word, timeout=timeout), word)
            report.errors_expected += 1
            _count(report, "bad")
        elif roll < 0.93:
            # Garbage bytes (never '%' inside; the first one never a blank, so
            # the line is not empty), then the end of a command.
            junk = b"\xff" + bytes(rng.choice([b for b in range(256) if b != 0x25])
                         for _ in range(rng.randint(1, 120)))
            dut.write(junk + b"%")
            one_error(dut.until_ready(timeout), f"garbage {junk[:20]!r}")
            report.errors_expected += 1
            _count(report, "garbage")
        else:
            # A bare '%' only resynchronizes; several commands in one write.
            dut.write("%name%results%")
            assert dut.until_ready(timeout) == ["m-ready"]
            assert dut.until_ready(timeout) == name
            assert dut.until_ready(timeout) == [baseline, "m-ready"]
            _count(report, "batch")
    # The buffer still holds the input, byte for byte.
    dump = dut.command("db print", timeout=timeout)
    got = b"".join(bytes(int(x, 16) for x in row[len("m-buffer-"):].split("-"))
                   for row in dump[:-1])
    assert got == stimulus
    return report
