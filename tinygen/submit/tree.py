"""Assemble a submission tree from session folders and their builds.

Checks run before anything is written, and the tree is assembled in a
temporary folder inside ``--out`` and moved into place at the end, so a
refusal or a crash never leaves half a tree. What is refused, each by the
session's name and with its reasons:

- a folder that is no session, a verify session, a mode that is not
  performance, accuracy or energy, two sessions for one bench and mode,
  sessions of different boards;
- an invalid session (see ``session_validity``), or an accuracy session
  whose quality target is not met over the full set (closed division),
  or a bench without its required performance and accuracy runs;
  unless ``--open`` (open division) or ``--force REASON`` accepts them, in
  which case the reasons and REASON are written into the session's
  results.json (``"submission"``) and the system's "Software Notes";
- code that is not what was measured: a build whose image differs from
  the one the session recorded, or two sessions of a bench that ran
  different images. These are never forced.
"""

from __future__ import annotations

import copy
import json
import logging
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tinygen.benches import Benchmark, get_bench
from tinygen.boards import Board, load_board
from tinygen.errors import TinygenError
from tinygen.paths import make_folder
from tinygen.port.build import export_build
from tinygen.port.manifest import MANIFEST_NAME, read_manifest
from tinygen.datafile import one_line
from tinygen.runner.record import (RESULTS_NAME, SUBMISSION_MODES, firmware_identity, read_session,
                                   session_validity)
from tinygen.submit.system import DIVISIONS, system_description, system_json_text

log = logging.getLogger(__name__)

REQUIRED_MODES = ("performance", "accuracy")
RESULT_FILES = ("log.txt", "results.txt", "results.json")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_BOARD = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")     # a board's name, never a path


@dataclass
class Session:
    folder: Path
    data: dict[str, Any]
    bench: Benchmark
    mode: str
    reasons: list[str] = field(default_factory=list)   # why it is not valid for submission

    @property
    def name(self) -> str:
        return self.folder.name

    @property
    def started(self) -> str:
        return str(self.data.get("started", ""))


@dataclass(frozen=True)
class PackageOptions:
    org: str
    system: str
    out: Path
    division: str = "closed"
    status: str = "available"
    force: str | None = None            # the reason given with --force
    builds: tuple[Path, ...] = ()       # --build folders, for sessions that recorded none
    fields: tuple[tuple[str, str], ...] = ()


@dataclass
class PackageResult:
    root: Path                          # <out>/<division>/<org>
    system_json: Path
    results: dict[tuple[str, str], Path]   # (bench, mode) -> results folder
    code: dict[str, Path]               # code folder name (kws, kws_energy) -> its path
    accepted_invalid: dict[str, list[str]]  # session name -> reasons accepted
    missing: list[str] = field(default_factory=list)   # required runs accepted missing


def load_session(folder: Path | str) -> Session:
    folder = Path(folder)
    name = one_line(folder.name, 80)
    if not _is_file(folder / RESULTS_NAME):
        raise TinygenError(f"{one_line(folder, 200)} is not a session folder (no results.json); "
                           "pass folders written by 'tinygen run --out DIR'")
    missing = [n for n in RESULT_FILES if not _is_file(folder / n)]
    if missing:
        raise TinygenError(f"session {name} lacks {', '.join(missing)}; run it again")
    data = read_session(folder)
    mode = data.get("mode")
    if mode not in SUBMISSION_MODES:
        raise TinygenError(f"session {name} is a {one_line(mode, 40) or 'unknown'} session, not a "
                           "performance, accuracy or energy run; measure with 'tinygen run "
                           "--mode performance|accuracy'")
    if not data.get("bench"):
        raise TinygenError(f"session {name} names no benchmark; run it again")
    try:
        bench = get_bench(data["bench"])
    except TinygenError as exc:
        raise TinygenError(f"session {name}: {exc}; the file is damaged: run the session "
                           "again") from exc
    if not _BOARD.match(str(data.get("board") or "")):
        raise TinygenError(f"session {name} names no board (board: "
                           f"{one_line(data.get('board'), 60) or 'none'}); the file is damaged: "
                           "run the session again")
    session = Session(folder, data, bench, mode)
    session.reasons = list(session_validity(data)["reasons"])
    return session


def _is_file(path: Path) -> bool:
    """Path.is_file, False also for names the system refuses (too long, NUL)."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except (OSError, ValueError):
        return False


def latest_sessions(root: Path, board: str) -> list[Session]:
    """The latest session per bench and mode of a board, valid ones first."""
    if not _is_dir(root):
        raise TinygenError(f"no session folder {root}; name the sessions to package, or "
                           "pass --sessions-root DIR")
    best: dict[tuple[str, str], Session] = {}
    for results in sorted(root.glob("*/results.json")):
        try:
            s = load_session(results.parent)
        except TinygenError as exc:
            log.debug("skipping %s: %s", results.parent, exc)
            continue
        if s.data.get("board") != board:
            continue
        key = (s.bench.id, s.mode)
        old = best.get(key)
        if old is None or (not s.reasons, s.started) > (not old.reasons, old.started):
            best[key] = s
    if not best:
        other = _other_sessions(root, board)
        also = (f" ({len(other)} {board} session(s) there are not measurements: "
                f"{', '.join(other[:3])}{', ...' if len(other) > 3 else ''})") if other else ""
        raise TinygenError(f"no {board} performance, accuracy or energy session under "
                           f"{root}{also}; measure with 'tinygen run --board {board} --mode "
                           "performance|accuracy' first, or name the session folders")
    return [best[k] for k in sorted(best)]


def _other_sessions(root: Path, board: str) -> list[str]:
    """The board's sessions under root that package cannot take: 'NAME (verify)'."""
    found = []
    for results in sorted(root.glob("*/results.json")):
        try:
            data = read_session(results.parent)
        except TinygenError:
            continue
        if data.get("board") == board:
            found.append(f"{one_line(results.parent.name, 80)} "
                         f"({one_line(data.get('mode'), 40) or 'unknown mode'})")
    return found


def _quality_reasons(s: Session) -> list[str]:
    if s.data.get("sww") is not None:
        # Streaming wakeword: one run gives the quality too (FN <= 8, FP <= 8).
        q = s.data["sww"].get("quality") or {}
        if q.get("target_met") is True:
            return []
        return [f"quality target {'not met' if q.get('target_met') is False else 'not checked'}"
                f": {one_line(q.get('target_verdict')) or 'the stream was not scored'}"]
    if s.mode != "accuracy":
        return []
    acc = s.data.get("accuracy") or {}
    met = acc.get("target_met")
    if met is True:
        return []
    verdict = one_line(acc.get("target_verdict")) or "no quality verdict recorded"
    word = "not met" if met is False else "not checked"
    # The verdict may start with the same words ("not checked: 20 of 1000 stimuli").
    return [f"quality target {word}: {verdict.removeprefix(word + ': ')}"]


def _check_names(opts: PackageOptions) -> None:
    for what, value in (("--org", opts.org), ("--system", opts.system)):
        if not _NAME.match(value):
            raise TinygenError(f"{what} '{value}' must be letters, digits, '_', '.' or '-' "
                               "(no spaces: the submission checker flags them), e.g. "
                               f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', value) or 'my_org'}")
    if opts.division not in DIVISIONS:
        raise TinygenError(f"unknown division '{opts.division}'; use closed or open")


def _firmware_key(s: Session) -> tuple[str, str]:
    """(bench id, build mode): energy runs measure energy-mode firmware, the rest performance."""
    return s.bench.id, "energy" if s.mode == "energy" else "performance"


def _code_folder(key: tuple[str, str]) -> str:
    """code/<system>/<bench>/ for the performance build, <bench>_energy/ for the energy one."""
    bench, mode = key
    return get_bench(bench).short + ("_energy" if mode == "energy" else "")


def _builds_by_bench(sessions: list[Session], extra: tuple[Path, ...]) -> dict[tuple[str, str], Path]:
    """(bench id, build mode) -> build folder, from --build or what the sessions recorded."""
    given: dict[tuple[str, str], Path] = {}
    for folder in extra:
        ident = firmware_identity(folder)
        if ident is None and _is_file(Path(folder) / MANIFEST_NAME):
            read_manifest(folder)       # raises what is wrong with build.json
        if ident is None or not ident.get("bench"):
            raise TinygenError(f"--build {folder} holds no {MANIFEST_NAME}; pass a folder written by "
                               "'tinygen build'")
        given[(get_bench(ident["bench"]).id, ident.get("mode") or "performance")] = Path(folder)
    found: dict[tuple[str, str], Path] = {}
    for s in sessions:
        key = _firmware_key(s)
        if key in given:
            found[key] = given[key]
            continue
        recorded = (s.data.get("firmware") or {}).get("build") or s.data.get("build")
        if recorded and _is_dir(Path(recorded)):
            found.setdefault(key, Path(recorded))
    missing = sorted({f"{b} ({m} build)" for b, m in map(_firmware_key, sessions)
                      if (b, m) not in found})
    if missing:
        raise TinygenError(f"no build folder for {', '.join(missing)}: the sessions recorded "
                           "none that still exists; pass the firmware they ran with --build DIR")
    return found


def _check_code(sessions: list[Session], builds: dict[tuple[str, str], Path]) -> dict:
    """The exported code must be the firmware measured: refuse any mismatch."""
    idents: dict[tuple[str, str], dict] = {}
    for key, folder in builds.items():
        ident = firmware_identity(folder)
        if ident is None:
            read_manifest(folder)       # raises what is wrong with build.json
        if ident is None or not ident.get("image_sha256"):
            raise TinygenError(f"build folder {folder} has no firmware image; rebuild it with "
                               "'tinygen build' (and measure again)")
        idents[key] = ident
    by_key: dict[tuple[str, str], set[str]] = {}
    for s in sessions:
        key = _firmware_key(s)
        ran = (s.data.get("firmware") or {}).get("image_sha256")
        if not ran:
            log.warning("session %s recorded no firmware image: cannot prove that %s is the "
                        "code it measured", s.name, builds[key])
            continue
        by_key.setdefault(key, set()).add(ran)
        if ran != idents[key]["image_sha256"]:
            raise TinygenError(
                f"session {s.name} ran another image than the one now in {builds[key]} "
                "(rebuilt since?); measure again with this build or pass the measured build "
                "with --build DIR")
    for (bench, mode), images in by_key.items():
        if len(images) > 1:
            raise TinygenError(f"the {bench} sessions ran different {mode}-mode firmware images; "
                               "measure performance and accuracy with the same build")
    return idents


def _copy_results(s: Session, dest: Path, accepted: list[str], note: str | None,
                  code: str) -> None:
    """The session's files, results.json naming the tree's code folder (``code``,
    relative to the organisation folder) instead of the local build folder."""
    dest.mkdir(parents=True)
    for name in ("log.txt", "results.txt"):
        # copyfile writes a regular file even when the source is a symlink.
        shutil.copyfile(s.folder / name, dest / name)
    data = copy.deepcopy(s.data)      # as read and checked by load_session
    # Local paths mean nothing in a submission (and tell a machine's layout).
    if data.get("build"):
        data["build"] = code
    if isinstance(data.get("firmware"), dict) and data["firmware"].get("build"):
        data["firmware"]["build"] = code
    if data.get("dataset"):
        data["dataset"] = Path(data["dataset"]).name
    if accepted:
        data["submission"] = {"valid": False, "accepted_by": note, "reasons": accepted}
    else:
        data["submission"] = {"valid": True}
    (dest / "results.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def check_tree(root: Path) -> list[str]:
    """What the submission checker refuses in a tree: symlinks, empty folders, caches."""
    problems = []
    for path in sorted(root.rglob("*")):
        if path.is_symlink():
            problems.append(f"symbolic link {path}")
        elif path.is_dir() and (path.name == "__pycache__" or not any(path.iterdir())):
            problems.append(f"{'cache' if path.name == '__pycache__' else 'empty'} folder {path}")
    return problems


def package(sessions: list[Session], opts: PackageOptions, board: Board | None = None) -> PackageResult:
    """Check the sessions, then write the tree under opts.out."""
    _check_names(opts)
    if not sessions:
        raise TinygenError("no sessions to package; name session folders or pass --board")
    boards = sorted({str(s.data.get("board")) for s in sessions})
    if len(boards) > 1:
        raise TinygenError(f"the sessions ran on different boards ({', '.join(boards)}); one "
                           "system is one board: package each board as its own --system")
    board = board or load_board(boards[0])
    seen: dict[tuple[str, str], Session] = {}
    for s in sessions:
        key = (s.bench.id, s.mode)
        if key in seen:
            raise TinygenError(f"two {s.bench.short} {s.mode} sessions: {seen[key].name} and "
                               f"{s.name}; name one of them")
        seen[key] = s

    accepting = opts.division == "open" or opts.force is not None
    note = (f"--force: {opts.force}" if opts.force is not None else "--open (open division)")
    problems: dict[str, list[str]] = {}
    for s in sessions:
        reasons = s.reasons + (_quality_reasons(s) if opts.division == "closed" else [])
        if reasons:
            problems[s.name] = reasons
    benches = sorted({s.bench.id for s in sessions})
    streaming = {s.bench.id for s in sessions if s.data.get("sww") is not None}
    missing = [f"{get_bench(b).short} {m}" for b in benches if b not in streaming
               for m in REQUIRED_MODES if (b, m) not in seen]
    # sww: the checker reads energy/ if present, else performance/ (no accuracy run).
    missing += [f"{get_bench(b).short} performance or energy" for b in sorted(streaming)
                if not any((b, m) in seen for m in ("performance", "energy"))]
    if (problems or missing) and not accepting:
        lines = [f"{name}: {'; '.join(r)}" for name, r in problems.items()]
        if missing:
            lines.append(f"missing required runs: {', '.join(missing)}")
        raise TinygenError("not valid for submission: " + " | ".join(lines) +
                           "; measure again, or accept with --open (open division) or "
                           "--force REASON (the reasons are recorded)")

    builds = _builds_by_bench(sessions, opts.builds)
    idents = _check_code(sessions, builds)

    org_rel = Path(opts.division) / opts.org
    targets = [org_rel / "systems" / f"{opts.system}.json", org_rel / "code" / opts.system,
               org_rel / "results" / opts.system]
    taken = [str(opts.out / t) for t in targets if (opts.out / t).exists()]
    if taken:
        raise TinygenError(f"{', '.join(taken)} already exist; choose another --system or "
                           "--out, or remove them")
    make_folder(opts.out, "output folder", "pass another --out DIR")
    stage = Path(tempfile.mkdtemp(prefix="tinygen-package-", dir=opts.out))
    try:
        results: dict[tuple[str, str], Path] = {}
        code: dict[str, Path] = {}
        for s in sorted(sessions, key=lambda x: (x.bench.id, x.mode)):
            rel = org_rel / "results" / opts.system / s.bench.short / s.mode
            code_rel = Path("code") / opts.system / _code_folder(_firmware_key(s))
            _copy_results(s, stage / rel, problems.get(s.name, []),
                          note if s.name in problems else None, code_rel.as_posix())
            results[(s.bench.short, s.mode)] = opts.out / rel
        for key, folder in sorted(builds.items()):
            rel = org_rel / "code" / opts.system / _code_folder(key)
            export_build(folder, stage / rel)
            code[_code_folder(key)] = opts.out / rel
        manifests = [read_manifest(builds[k]) for k in sorted(builds)]
        notes = []
        if problems or missing:
            notes.append(f"accepted by {note}: " + "; ".join(
                [f"{n}: {', '.join(r)}" for n, r in problems.items()]
                + ([f"missing {', '.join(missing)}"] if missing else [])))
        system = system_description(board, opts.org, opts.division, opts.status, manifests,
                                    dict(opts.fields), notes)
        sys_rel = org_rel / "systems" / f"{opts.system}.json"
        (stage / sys_rel).parent.mkdir(parents=True, exist_ok=True)
        (stage / sys_rel).write_text(system_json_text(system), encoding="utf-8")
        bad = check_tree(stage)
        if bad:
            raise TinygenError("the assembled tree has " + ", ".join(bad) + "; this is a bug")
        for t in targets:
            (opts.out / t).parent.mkdir(parents=True, exist_ok=True)
            (stage / t).rename(opts.out / t)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    log.info("images: %s", ", ".join(f"{b} {m} {i['image_sha256'][:12]}"
                                      for (b, m), i in idents.items()))
    return PackageResult(root=opts.out / org_rel, system_json=opts.out / targets[0],
                         results=results, code=code,
                         accepted_invalid={n: r for n, r in problems.items()}, missing=missing)
