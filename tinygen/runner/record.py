"""The session folder: log.txt, results.txt and results.json.

``log.txt`` is the time-stamped transcript of every line to and from the
DUT plus the runner's own notes; ``results.json`` holds everything measured
(rewritten after every window or stimulus, so an interrupted run keeps what
it had); ``results.txt`` is the human summary in the official style.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from tinygen.boards import Board
from tinygen.errors import TinygenError

log = logging.getLogger(__name__)


def default_session_dir(board: str, bench: str, mode: str, root: Path | None = None) -> Path:
    root = Path("sessions") if root is None else root
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    base = root / f"{stamp}-{board}-{bench}-{mode}"
    path, n = base, 1
    while path.exists():
        n += 1
        path = base.with_name(f"{base.name}-{n}")
    return path


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class SessionRecord:
    """Owns one session folder; use as a context manager."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._log = open(self.folder / "log.txt", "a", encoding="utf-8", buffering=1)
        except OSError as exc:
            raise TinygenError(f"cannot create the session folder {self.folder}: "
                               f"{exc.strerror}; choose another with --out") from exc
        self.data: dict[str, Any] = {"started": _now(), "status": "running"}
        self._log_failed = False

    def _write_error(self, exc: OSError) -> TinygenError:
        return TinygenError(
            f"cannot write the session folder {self.folder}: {exc.strerror or exc}; free some "
            "space or choose another folder with --out (what was written before is kept)")

    def _log_line(self, line: str) -> None:
        # A full disk stops the run once, with one clear error; later lines
        # (the error's own note) are dropped instead of raising again.
        if self._log_failed:
            return
        try:
            self._log.write(line)
        except OSError as exc:
            self._log_failed = True
            raise self._write_error(exc) from exc

    def transcript(self, direction: str, text: str) -> None:
        """The DutSession callback: one time-stamped line per protocol line."""
        self._log_line(f"{_now()} {direction} {text}\n")

    def note(self, text: str) -> None:
        self._log_line(f"{_now()} # {text}\n")

    def save(self) -> None:
        """Rewrite results.json and results.txt, each atomically: a write that
        fails (disk full, Ctrl-C) leaves the previous complete file."""
        self.data["updated"] = _now()
        _write_atomic(self.folder / "results.json",
                      json.dumps(_clean(self.data), indent=2) + "\n", self._write_error)
        _write_atomic(self.folder / "results.txt", summary_text(self.data), self._write_error)

    def finish(self, status: str, error: str | None = None) -> None:
        self.data["status"] = status
        self.data["finished"] = _now()
        if error:
            self.data["error"] = error
        try:
            self.note(f"session {status}" + (f": {error}" if error else ""))
            self.save()
        except TinygenError as exc:
            # The last save is best effort: the error that ended the run is
            # the one to report, and the files of the last good save stay.
            log.warning("%s", exc)

    def close(self) -> None:
        if not self._log.closed:
            try:
                self._log.close()
            except OSError as exc:
                log.warning("%s", self._write_error(exc))

    def __enter__(self) -> "SessionRecord":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _write_atomic(path: Path, text: str, error) -> None:
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise error(exc) from exc


def _clean(value: Any) -> Any:
    """JSON has no NaN/inf: write them as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def emulation_info(board: Board) -> dict[str, Any] | None:
    """How to read a DUT's timestamps when the board is emulated.

    Under QEMU's -icount the DUT's clock is virtual: each instruction
    advances it by 2**shift ns, so a latency is an instruction count, not
    the real board's time.
    """
    if board.is_host or not board.is_emulated:
        return None
    return {
        "qemu_machine": board.emulator.qemu_machine,
        "icount_shift": board.emulator.icount_shift,
        "ns_per_instruction": 2 ** board.emulator.icount_shift,
        "board_clock_hz": board.clock_hz,
    }


def instructions_text(latency_ms: float, emulation: dict[str, Any]) -> str:
    """A latency in virtual time, said as instructions and as board time."""
    instructions = latency_ms * 1e6 / emulation["ns_per_instruction"]
    board_ms = instructions / emulation["board_clock_hz"] * 1e3
    return (f"{instructions / 1e6:.3f} M instructions per inference (QEMU virtual time, "
            f"{emulation['ns_per_instruction']} ns per instruction); at one instruction per "
            f"cycle that is {board_ms:.3f} ms at {emulation['board_clock_hz'] / 1e6:g} MHz")


def summary_text(data: dict[str, Any]) -> str:
    """The human summary, in the style of the official runner's output."""
    out: list[str] = []
    dut = data.get("dut", {})
    out.append(f"tinygen session {data.get('started', '')}")
    for key, label in (("board", "Board"), ("bench", "Benchmark"), ("mode", "Mode")):
        if key in data:
            out.append(f"{label:<10}: {data[key]}")
    if dut:
        out.append(f"DUT       : {dut.get('name', '?')} ({dut.get('profile', '?')}, "
                   f"model {dut.get('model', '?')})")
    out.append(f"Status    : {data.get('status')}" +
               (f" ({data['error']})" if data.get("error") else ""))
    perf = data.get("performance")
    if perf:
        out.append("")
        for i, w in enumerate(perf.get("windows", []), start=1):
            out.append(f"Performance results for window {i} ({w['stimulus']}):")
            out.append(f"  # Inferences : {w['count']:>12d}")
            out.append(f"  Runtime      : {w['seconds']:>12.3f} sec.")
            out.append(f"  Throughput   : {w['throughput']:>12.3f} inf./sec.")
            out.append(f"  Latency      : {w['latency_ms']:>12.3f} ms")
        if perf.get("median_throughput"):
            out.append("-" * 57)
            out.append(f"Median throughput is {perf['median_throughput']:.3f} inf./sec.")
            out.append(f"Median latency is {perf['latency_ms']:.3f} ms.")
            if data.get("emulation"):
                out.append("Emulated: " + instructions_text(perf["latency_ms"], data["emulation"]) + ".")
            out.append("-" * 57)
        if perf.get("short_windows"):
            out.append(f"Note: shortened windows of >= {perf['min_seconds']:g} s, "
                       "not the official >= 10 s.")
    acc = data.get("accuracy")
    if acc:
        out.append("")
        out.append(f"Accuracy over {acc.get('measured', 0)} of {acc.get('total', 0)} "
                   "inferences" + (" (incomplete)" if acc.get("measured") != acc.get("total") else ""))
        if acc.get("top1") is not None:
            out.append(f"Top-1: {acc['top1'] * 100:.1f}%")
        if acc.get("auc") is not None:
            out.append(f"AUC: {acc['auc']:.2f}")
        elif acc.get("auc_note"):
            out.append(f"AUC: n/a ({acc['auc_note']})")
        if acc.get("target") is not None:
            met = acc.get("target_met")
            word = "met" if met else "NOT met"
            metric = "AUC" if acc.get("metric") == "auc" else "Top-1"
            out.append(f"Quality target ({metric} >= {acc['target']:g}): {word}")
    checks = data.get("checks")
    if checks:
        out.append("")
        width = max(len(c["name"]) for c in checks)
        for c in checks:
            out.append(f"{'PASS' if c['passed'] else 'FAIL'}  {c['name']:<{width}}  {c['detail']}")
    return "\n".join(out) + "\n"


def safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)
