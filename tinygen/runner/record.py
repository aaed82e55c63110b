"""The session folder: log.txt, results.txt and results.json.

``log.txt`` is the time-stamped transcript of every line to and from the
DUT plus the runner's own notes; ``results.json`` holds everything measured
(rewritten after every window or stimulus, so an interrupted run keeps what
it had) and the session's validity for submission; ``results.txt`` starts
with the lines the official submission checker reads (``official_lines``:
``performance_lines``, ``accuracy_lines``, ``energy_lines``) followed by
tinygen's own summary.

What each mode puts into ``data`` for those lines: ``performance`` with
``windows`` (count, seconds, throughput) and ``median_throughput``;
``accuracy`` with ``top1`` (a fraction) and/or ``auc``; ``energy`` with
``windows`` (each with ``seconds`` and ``count``, as for performance) and
``median_uj_per_inference``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from tinygen.boards import Board
from tinygen.datafile import FLAG, INT, NUMBER, OBJECT, PATH, TEXT, check_fields, load_json, one_line
from tinygen.errors import TinygenError
from tinygen.paths import make_folder
from tinygen.port.manifest import read_manifest

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
        self.folder = make_folder(folder, "session folder", "choose another with --out DIR")
        try:
            # A new session starts a new transcript, also in a folder used before.
            self._log = open(self.folder / "log.txt", "w", encoding="utf-8", buffering=1)
        except OSError as exc:
            raise TinygenError(f"cannot write the session folder {self.folder}: "
                               f"{exc.strerror}; choose another with --out DIR") from exc
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
        self.data["validity"] = session_validity(self.data)
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


# -- reading a session back ----------------------------------------------------
#
# results.json as the readers of a finished session (package, the validity
# checks) use it: each field they read has its type, so a damaged or
# hand-edited file is refused in one line instead of failing inside them.

RESULTS_NAME = "results.json"
_WINDOW = {"stimulus": TEXT, "count": INT, "seconds": NUMBER, "throughput": NUMBER,
           "latency_ms": NUMBER}
SESSION_FIELDS: dict[str, Any] = {
    "started": TEXT, "updated": TEXT, "finished": TEXT, "status": TEXT, "error": TEXT,
    "board": TEXT, "mode": TEXT, "bench": TEXT, "runs_as": TEXT, "timestamp_mode": TEXT,
    "baud": INT, "expected_baud": INT, "build": PATH, "dataset": PATH, "url": TEXT,
    "firmware": {"build": PATH, "image": TEXT, "image_sha256": TEXT, "board": TEXT,
                 "bench": TEXT, "mode": TEXT, "opt": TEXT, "model_sha256": TEXT},
    "emulation": {"qemu_machine": TEXT, "icount_shift": INT, "ns_per_instruction": NUMBER,
                  "board_clock_hz": NUMBER, "cycles": OBJECT},
    "dut": {"name": TEXT, "profile": TEXT, "model": TEXT},
    "validity": {"valid": FLAG, "reasons": [TEXT]},
    "performance": {"windows": [_WINDOW], "min_seconds": NUMBER, "median_throughput": NUMBER,
                    "latency_ms": NUMBER, "short_windows": FLAG},
    "accuracy": {"metric": TEXT, "total": INT, "measured": INT, "official_total": INT,
                 "official_files": INT, "files": INT, "top1": NUMBER, "auc": NUMBER,
                 "auc_note": TEXT, "target_met": FLAG, "target_verdict": TEXT, "jobs": INT,
                 "shards": [{"served": INT}], "reruns": {"lost_duts": [INT], "count": INT}},
    "energy": {"windows": [{**_WINDOW, "window": INT, "energy_j": NUMBER, "power_w": NUMBER,
                            "uj_per_inference": NUMBER}],
               "min_seconds": NUMBER, "median_uj_per_inference": NUMBER, "monitor": TEXT,
               "voltage": NUMBER, "simulated": FLAG,
               "validity": {"valid": FLAG, "consecutive_events": FLAG, "real_instruments": FLAG,
                            "five_windows": FLAG, "ten_seconds": FLAG, "ten_inferences": FLAG,
                            "windows": INT},
               "estimate": {"estimated_uj_per_inference": NUMBER, "basis": TEXT}},
    "sww": {"stream": {"words": INT, "length_sec": NUMBER, "wav_file": TEXT, "json": TEXT},
            "played_s": NUMBER, "simulated_interface": FLAG, "power": {"estimated": FLAG},
            "quality": {"target_met": FLAG, "target_verdict": TEXT}},
    "checks": [{"name": TEXT, "detail": TEXT, "passed": FLAG}],
    "profile_lines": [TEXT],
}


def read_session(folder: Path | str) -> dict[str, Any]:
    """A session folder's results.json, its fields of the types written;
    a one-line TinygenError naming the session otherwise."""
    folder = Path(folder)
    fix = "the file is damaged: run the session again"
    data = load_json(folder / RESULTS_NAME, "session record", fix)
    check_fields(data, SESSION_FIELDS, f"session {one_line(folder.name, 80)}: {RESULTS_NAME}", fix)
    return data


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


def runs_as(board: Board, port: str | None) -> str:
    """host, emulated or real: where the session's DUT runs.

    A board that is both real and emulated reached through --port (or a
    labgrid place) is taken as the physical board (tinygen started nothing).
    """
    if board.is_host:
        return "host"
    if board.is_emulated and (port is None or not board.is_real):
        return "emulated"
    return "real"


def session_facts(board: Board, mode: str, port: str | None, baud: int | None) -> dict[str, Any]:
    """What a session records about where and how it reached the DUT."""
    where = runs_as(board, port)
    expected = board.console.baud_energy if mode == "energy" else board.console.baud_performance
    return {
        "board": board.name, "mode": mode, "runs_as": where,
        "emulation": emulation_info(board) if where == "emulated" else None,
        # Baud only means something on a real serial line.
        "baud": (baud or expected) if where == "real" else None,
        "expected_baud": expected if where == "real" else None,
    }


def firmware_identity(build_dir: Path | None) -> dict[str, Any] | None:
    """What firmware a session ran: the build's manifest facts and the image's sha256.

    ``tinygen package`` compares it with the build folder it exports, so the
    code in a submission is the code that was measured.
    """
    if build_dir is None:
        return None
    build_dir = Path(build_dir)
    try:
        manifest = read_manifest(build_dir)
    except TinygenError:
        return None
    image = build_dir / manifest.image_name
    return {
        "build": os.path.realpath(build_dir),     # no error on a symlink loop
        "image": image.name,
        "image_sha256": image_sha256(image),
        "board": manifest.board or None, "bench": manifest.bench or None,
        "mode": manifest.mode, "opt": manifest.opt or None,
        "model_sha256": manifest.model.sha256,
    }


MAX_IMAGE_BYTES = 1 << 30      # no firmware image, host executable included, is larger


def image_sha256(image: Path) -> str | None:
    """The sha256 of a firmware image, read in pieces; None when there is no
    such regular file (or it cannot be read)."""
    try:
        if not image.is_file():
            return None
        if image.stat().st_size > MAX_IMAGE_BYTES:
            raise TinygenError(f"{image} is larger than {MAX_IMAGE_BYTES >> 20} MB, which no "
                               "firmware image is; rebuild it with 'tinygen build'")
        digest = hashlib.sha256()
        with image.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()
    except OSError:
        return None


def instructions_text(latency_ms: float, emulation: dict[str, Any]) -> str:
    """A latency in virtual time, said as instructions and as estimated board time.

    With ``emulation["cycles"]`` (tinygen.runner.cycles.board_figures of a
    traced inference) the board time is in estimated cycles; without, the
    old one-cycle-per-instruction floor, said as such.
    """
    from tinygen.runner.cycles import estimate_text

    instructions = latency_ms * 1e6 / emulation["ns_per_instruction"]
    head = (f"{instructions / 1e6:.3f} M instructions per inference (the latency is emulated "
            f"virtual time: QEMU, {emulation['ns_per_instruction']} ns per instruction); ")
    if emulation.get("cycles"):
        return head + estimate_text(instructions, emulation["cycles"],
                                    emulation["board_clock_hz"])
    board_ms = instructions / emulation["board_clock_hz"] * 1e3
    return head + (f"real-board estimate at one cycle per instruction: {board_ms:.3f} ms at "
                   f"{emulation['board_clock_hz'] / 1e6:g} MHz (a floor: no cycle estimate was "
                   "made; stalls and flash wait states add to it)")


# -- the official results.txt lines ------------------------------------------
#
# The MLPerf Tiny submission checker reads results.txt with these patterns
# (performance and accuracy with re.match, so something and a space must come
# before the words; the official runner writes "MMDD.HHMMSS ulp-mlperf: "):
#   .* Median throughput is\s+([\d.]+) inf\./sec\..*
#   .* Top[- ]1%?\s?[:=] ([\d.]+)        (percent)
#   .* AUC\s?[:=] ([\d.]+)
#   Median energy cost is ([\d.]+) uJ/inf
# The checker keeps the last line that matches, so each figure is written
# once, and no line of tinygen's own matches any of these.

OFFICIAL_TAG = "ulp-mlperf"
SEPARATOR = "-" * 57
WINDOWS_REQUIRED = 5          # performance and energy: the median of 5 windows
MIN_WINDOW_SECONDS = 10.0     # each window lasts at least this (DUT time)
MIN_WINDOW_INFERENCES = 10    # and holds at least this many inferences
SUBMISSION_MODES = ("performance", "accuracy", "energy")


def official_prefix(when: datetime | None = None) -> str:
    """``MMDD.HHMMSS ulp-mlperf: `` as the official runner starts its result lines."""
    when = when or datetime.now(timezone.utc)
    return f"{when:%m%d.%H%M%S} {OFFICIAL_TAG}: "


def _qualified(text: str, invalid: str | None) -> str:
    """The official line, with why it is not valid for submission when it is not."""
    return text + (f" (NOT VALID for submission: {invalid})" if invalid else "")


def performance_lines(median_throughput: float, when: datetime | None = None,
                      invalid: str | None = None) -> list[str]:
    """The performance score as the checker reads it (inferences per second)."""
    pre = official_prefix(when)
    return [pre + SEPARATOR,
            pre + _qualified(f"Median throughput is {median_throughput:.3f} inf./sec.", invalid),
            pre + SEPARATOR]


def accuracy_lines(top1: float | None, auc: float | None, when: datetime | None = None,
                   invalid: str | None = None) -> list[str]:
    """Top-1 (a fraction, written in percent) and AUC as the checker reads them."""
    pre = official_prefix(when)
    out = []
    if top1 is not None:
        out.append(pre + _qualified(f"Top 1% = {top1 * 100:.1f}", invalid))
    if auc is not None:
        out.append(pre + _qualified(f"AUC = {auc:.3f}", invalid))
    return out


def energy_lines(median_uj_per_inference: float, when: datetime | None = None,
                 invalid: str | None = None) -> list[str]:
    """The energy score as the checker reads it (micro-joules per inference)."""
    pre = official_prefix(when)
    return [pre + SEPARATOR,
            pre + _qualified(f"Median energy cost is {median_uj_per_inference:.3f} uJ/inf.",
                             invalid),
            pre + SEPARATOR]


# -- validity -----------------------------------------------------------------

def _window_reasons(windows: list[dict[str, Any]], what: str, config_seconds: float | None) -> list[str]:
    reasons = []
    if len(windows) < WINDOWS_REQUIRED:
        reasons.append(f"fewer than {WINDOWS_REQUIRED} windows: {len(windows)} of "
                       f"{WINDOWS_REQUIRED} {what} windows measured")
    seconds = [w["seconds"] for w in windows if w.get("seconds") is not None]
    shortest = min(seconds) if seconds else None
    if (config_seconds is not None and config_seconds < MIN_WINDOW_SECONDS) or \
            (shortest is not None and shortest < MIN_WINDOW_SECONDS):
        shown = f"shortest {shortest:.3f} s" if shortest is not None else f"{config_seconds:g} s asked"
        reasons.append(f"short windows: {shown}, the rules ask >= {MIN_WINDOW_SECONDS:g} s")
    counts = [w["count"] for w in windows if w.get("count") is not None]
    if counts and min(counts) < MIN_WINDOW_INFERENCES:
        reasons.append(f"a window holds {min(counts)} inferences, the rules ask >= "
                       f"{MIN_WINDOW_INFERENCES}")
    return reasons


def session_validity(data: dict[str, Any]) -> dict[str, Any]:
    """Whether a session's figures may go into a submission, and if not, why.

    Reasons: not a measurement run (verify), not finished (interrupted,
    failed), fewer than 5 windows, short windows, a partial dataset, the
    wrong DUT timestamp mode or console baud, a DUT that is not the physical
    board (host process, QEMU).
    """
    reasons: list[str] = []
    mode = data.get("mode")
    status = data.get("status")
    if mode not in SUBMISSION_MODES:
        reasons.append(f"wrong mode: a {one_line(mode, 40) or 'unknown'} session, not a performance, "
                       "accuracy or energy run")
    error = one_line(data.get("error"))
    if status == "interrupted":
        reasons.append("interrupted: " + (error or "stopped before the end"))
    elif status == "failed":
        reasons.append("failed: " + (error or "the run stopped with an error"))
    elif status not in ("complete", "passed"):
        reasons.append("interrupted: the run has not finished")
    dut_mode = data.get("timestamp_mode")
    want_mode = "energy" if mode == "energy" else "performance"
    if dut_mode and mode in SUBMISSION_MODES and dut_mode != want_mode:
        reasons.append(f"wrong mode: the DUT runs {one_line(dut_mode, 40)}-mode firmware, a {mode} run "
                       f"needs {want_mode} mode")
    baud, want_baud = data.get("baud"), data.get("expected_baud")
    if baud and want_baud and baud != want_baud:
        reasons.append(f"wrong baud: {baud} baud, the board's {want_mode} baud is {want_baud}")
    runs_as = data.get("runs_as")
    if runs_as == "host":
        reasons.append("host board: the firmware ran as a native process, not on a microcontroller")
    elif runs_as == "emulated":
        reasons.append("emulated board: figures come from QEMU (virtual time), "
                       "not from the physical board")
    perf = data.get("performance")
    if perf is not None and mode in ("performance", "verify"):
        reasons += _window_reasons(perf.get("windows") or [], "performance", perf.get("min_seconds"))
    energy = data.get("energy")
    if isinstance(energy, dict) and mode == "energy":
        reasons += _window_reasons(energy.get("windows") or [], "energy", energy.get("min_seconds"))
        checks = energy.get("validity") or {}
        if checks.get("consecutive_events") is False:
            reasons.append("energy events: a window did not have exactly its two timestamp events")
        if checks.get("real_instruments") is False:
            reasons.append("simulated instruments: the energy monitor or interface board was "
                           "a simulator")
    if data.get("sww") is not None:
        from tinygen.runner.sww_report import validity_reasons
        reasons += validity_reasons(data)
    acc = data.get("accuracy")
    if acc is not None and mode in ("accuracy", "verify"):
        measured, total = acc.get("measured") or 0, acc.get("total") or 0
        official = acc.get("official_total")
        if measured < total:
            reasons.append(f"partial dataset: {measured} of {total} stimuli measured")
        # ad01 counts files (each cut into windows), the classifiers stimuli.
        official_files, files = acc.get("official_files"), acc.get("files") or 0
        if acc.get("metric") == "auc" and official_files and files < official_files:
            reasons.append(f"partial dataset: {files} of the official {official_files} files")
        elif official and total < official:
            reasons.append(f"partial dataset: {total} of the official {official} stimuli")
    return {"valid": not reasons, "reasons": reasons}


def _when(data: dict[str, Any]) -> datetime:
    stamp = data.get("finished") or data.get("updated")
    try:
        return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    except (TypeError, ValueError):
        return datetime.now(timezone.utc)


def official_lines(data: dict[str, Any]) -> list[str]:
    """The lines of results.txt a tool reads, one block per measured mode."""
    when = _when(data)
    validity = data.get("validity") or session_validity(data)
    # The short form of each reason (the words before its colon); the full
    # reasons are listed under Validity in tinygen's own lines.
    tags = dict.fromkeys(r.split(":")[0].split(",")[0] for r in validity["reasons"])
    invalid = "; ".join(tags) or None
    out: list[str] = []
    perf = data.get("performance")
    if perf:
        for i, w in enumerate(perf.get("windows", []), start=1):
            out.append(f"Performance results for window {i}:")
            out.append(f"    # Inferences : {w['count']}")
            out.append(f"    Runtime: {w['seconds']:.6f} sec.")
            out.append(f"    Throughput: {w['throughput']:.6f} inf./sec.")
        if perf.get("median_throughput"):
            out += performance_lines(perf["median_throughput"], when, invalid)
    acc = data.get("accuracy")
    if acc and (acc.get("top1") is not None or acc.get("auc") is not None):
        out += accuracy_lines(acc.get("top1"), acc.get("auc"), when, invalid)
    energy = data.get("energy")
    if isinstance(energy, dict) and energy.get("median_uj_per_inference") is not None:
        out += energy_lines(energy["median_uj_per_inference"], when, invalid)
    if data.get("sww") is not None:
        from tinygen.runner.sww_report import official_lines as sww_lines
        out += sww_lines(data, invalid)
    return out


def summary_text(data: dict[str, Any]) -> str:
    """results.txt: the official lines first, then tinygen's own summary."""
    out: list[str] = official_lines(data)
    if out:
        out.append("")
    dut = data.get("dut", {})
    out.append(f"tinygen session {data.get('started', '')}")
    for key, label in (("board", "Board"), ("bench", "Benchmark"), ("mode", "Mode")):
        if key in data:
            value = data[key]
            if value is None:
                value = "not known (no --bench given, and the DUT never said which model it runs)"
            out.append(f"{label:<10}: {value}")
    if dut:
        out.append(f"DUT       : {dut.get('name', '?')} ({dut.get('profile', '?')}, "
                   f"model {dut.get('model', '?')})")
    out.append(f"Status    : {data.get('status')}" +
               (f" ({data['error']})" if data.get("error") else ""))
    validity = data.get("validity") or session_validity(data)
    if validity["valid"]:
        out.append("Validity  : valid for submission")
    else:
        out.append("Validity  : not valid for submission")
        out += [f"  - {r}" for r in validity["reasons"]]
    perf = data.get("performance")
    if perf:
        out.append("")
        for i, w in enumerate(perf.get("windows", []), start=1):
            out.append(f"Window {i} ({w['stimulus']}): {w['count']} inferences in "
                       f"{w['seconds']:.3f} s, {w['throughput']:.3f} inf./sec., "
                       f"{w['latency_ms']:.3f} ms")
        if perf.get("median_throughput"):
            out.append(f"Median latency is {perf['latency_ms']:.3f} ms.")
            if data.get("emulation"):
                out.append("Emulated: " + instructions_text(perf["latency_ms"], data["emulation"]) + ".")
        if perf.get("short_windows"):
            out.append(f"Note: shortened windows of >= {perf['min_seconds']:g} s, "
                       "not the official >= 10 s.")
    acc = data.get("accuracy")
    if acc:
        out.append("")
        out.append(f"Accuracy over {acc.get('measured', 0)} of {acc.get('total', 0)} "
                   "inferences" + (" (incomplete)" if acc.get("measured") != acc.get("total") else ""))
        out.extend(shard_lines(acc))
        if acc.get("top1") is not None:
            out.append(f"top-1 {acc['top1'] * 100:.1f} %")
        if acc.get("auc") is not None:
            out.append(f"area under the ROC curve {acc['auc']:.3f}")
        elif acc.get("auc_note"):
            out.append(f"area under the ROC curve n/a ({acc['auc_note']})")
        verdict = acc.get("target_verdict")
        if verdict:
            out.append(f"Quality target: {verdict}")
    if data.get("sww") is not None:
        from tinygen.runner.sww_report import summary_lines as sww_summary
        out.append("")
        out.extend(sww_summary(data))
    energy = data.get("energy")
    if energy:
        out.append("")
        out.extend(energy_summary_lines(energy))
    checks = data.get("checks")
    if checks:
        out.append("")
        width = max(len(c["name"]) for c in checks)
        for c in checks:
            out.append(f"{check_word(c)}  {c['name']:<{width}}  {c['detail']}")
    if data.get("profile_lines"):       # tinygen profile: the table it printed
        out.append("")
        out.extend(data["profile_lines"])
    return "\n".join(out) + "\n"


# -- the energy block of results.txt -------------------------------------------

def validity_text(validity: dict[str, Any]) -> str:
    if validity.get("valid"):
        return "valid for submission (5 windows, each >= 10 s and >= 10 inferences, 2 events)"
    why = []
    if not validity.get("five_windows"):
        why.append(f"{validity.get('windows', 0)} of 5 windows")
    if not validity.get("ten_seconds"):
        why.append("a window shorter than 10 s")
    if not validity.get("ten_inferences"):
        why.append("a window with fewer than 10 inferences")
    if not validity.get("consecutive_events"):
        why.append("events not consecutive")
    if not validity.get("real_instruments"):
        why.append("simulated instruments")
    return "NOT valid for submission: " + ", ".join(why)


def energy_summary_lines(energy: dict[str, Any]) -> list[str]:
    """The results.txt block for an energy run."""
    out: list[str] = []
    sim = " (SIMULATED monitor: energy is a model, not a measurement)" if energy.get("simulated") else ""
    out.append(f"Energy monitor: {energy.get('monitor')}{sim}, supply {energy.get('voltage'):g} V")
    for w in energy.get("windows", []):
        out.append(f"Energy results for window {w['window']} ({w['stimulus']}):")
        out.append(f"  # Inferences : {w['count']:>12d}")
        out.append(f"  Runtime      : {w['seconds']:>12.3f} sec.")
        out.append(f"  Energy       : {w['energy_j'] * 1e6:>12.3f} uJ")
        out.append(f"  Power        : {(w['power_w'] or 0) * 1e3:>12.3f} mW")
        out.append(f"  Energy/Inf.  : {w['uj_per_inference']:>12.3f} uJ/inf.")
    # The official "Median energy cost is ..." line is written once, at the top
    # of results.txt (record.official_lines); nothing here may match it.
    if energy.get("median_uj_per_inference") is not None:
        out.append(f"Median of {len(energy.get('windows', []))} windows: "
                   f"{energy['median_uj_per_inference']:.3f} uJ per inference"
                   + (" (simulated)" if energy.get("simulated") else ""))
    if energy.get("validity"):
        out.append("Energy windows: " + validity_text(energy["validity"]) + ".")
    est = energy.get("estimate")
    if est:
        out.append(f"Estimated energy (not measured): {est['estimated_uj_per_inference']:.3f} "
                   f"uJ/inf. ({est['basis']}).")
    return out


def check_word(check: dict[str, Any]) -> str:
    """PASS, FAIL, or SKIP for a check that could not be decided (passed None)."""
    if check.get("passed") is None:
        return "SKIP"
    return "PASS" if check["passed"] else "FAIL"


def shard_lines(acc: dict[str, Any]) -> list[str]:
    """Which DUTs served a sharded accuracy run (--jobs), and what was rerun."""
    if (acc.get("jobs") or 1) <= 1:
        return []
    served = ", ".join(f"DUT {s['dut']} {s['served']}" for s in acc.get("shards", []))
    lines = [f"Served by {acc['jobs']} DUTs ({served})"]
    reruns = acc.get("reruns") or {}
    if reruns.get("lost_duts"):
        lost = ", ".join(str(d) for d in reruns["lost_duts"])
        lines.append(f"DUT {lost} stopped answering; its {reruns.get('count', 0)} unfinished "
                     "stimuli were rerun on the other DUTs")
    return lines


def safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)
