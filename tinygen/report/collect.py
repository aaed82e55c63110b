"""What a report shows: the sessions (and profiles) found under the paths given.

A path is a session folder (``results.json``), a profiling build folder
(``profile.json``, written by ``tinygen profile``) or any folder above them,
such as a submission tree, whose ``results/<system>/<bench>/<mode>/`` layout
names each session's system and whose ``systems/<system>.json`` describes it.
"""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tinygen.datafile import load_json
from tinygen.errors import TinygenError

log = logging.getLogger(__name__)

RESULTS_FILE = "results.json"
PROFILE_FILE = "profile.json"


@dataclass
class Entry:
    """One run: a session (performance, accuracy, energy, verify) or a profile."""

    folder: Path
    kind: str                         # session mode, or "profile"
    bench: str
    board: str
    system: str
    data: dict[str, Any]
    size: dict[str, Any] | None = None        # the build's size.json, when it can be found
    traces: list[tuple[str, str]] = field(default_factory=list)   # (caption, data: URI)

    @property
    def title(self) -> str:
        return f"{self.bench} {self.kind} on {self.board}"


@dataclass
class System:
    name: str
    description: dict[str, Any] | None
    entries: list[Entry]

    @property
    def benches(self) -> list[str]:
        return sorted({e.bench for e in self.entries})


def _read_json(path: Path) -> dict[str, Any]:
    return load_json(path, "tinygen record", "is it a tinygen session?")


def _optional_json(path: Path) -> dict[str, Any] | None:
    """A side file the page can do without (size.json, a system description)."""
    try:
        return load_json(path, "tinygen record", "the page leaves it out")
    except TinygenError as exc:
        log.warning("%s", exc)
        return None


def _png_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _size_of(data: dict[str, Any], folder: Path) -> dict[str, Any] | None:
    """size.json of the session's build (its folder is in the record), if present."""
    build = data.get("build")
    for candidate in ([Path(build)] if isinstance(build, str) and build else []) + [folder]:
        path = candidate / "size.json"
        if path.is_file():
            return _optional_json(path)
    return None


def _tree_system(folder: Path) -> tuple[str | None, Path | None]:
    """(system, the tree's systems/ folder) for results/<system>/<bench>/<mode>/."""
    parts = folder.parts
    if len(parts) >= 4 and parts[-4] == "results":
        root = Path(*parts[:-4])
        return parts[-3], root / "systems"
    return None, None


def _session(folder: Path) -> Entry:
    data = _read_json(folder / RESULTS_FILE)
    system, _ = _tree_system(folder)
    board = str(data.get("board") or "?")
    entry = Entry(folder=folder, kind=str(data.get("mode") or "session"),
                  bench=str(data.get("bench") or "?"), board=board,
                  system=system or board, data=data, size=_size_of(data, folder))
    energy = data.get("energy") if isinstance(data.get("energy"), dict) else {}
    for i, window in enumerate(energy.get("windows") or [], start=1):
        png = window.get("trace_png") if isinstance(window, dict) else None
        for where in (folder / str(png), folder / "energy" / str(png)) if png else ():
            if where.is_file():
                entry.traces.append((f"energy window {i}", _png_uri(where)))
                break
    return entry


def _profile(folder: Path) -> Entry:
    data = _read_json(folder / PROFILE_FILE)
    board = str(data.get("board") or "?")
    return Entry(folder=folder, kind="profile", bench=str(data.get("bench") or "?"),
                 board=board, system=board, data=data, size=_size_of({}, folder))


def collect(paths: list[Path]) -> list[System]:
    """The systems and their runs under ``paths``, in a stable order."""
    entries: list[Entry] = []
    descriptions: dict[str, dict[str, Any]] = {}
    seen: set[Path] = set()
    for path in paths:
        path = Path(path)
        if not path.exists():
            raise TinygenError(f"{path} does not exist; give session folders, profile build "
                               "folders or a submission tree")
        if path.is_file():
            path = path.parent
        found = sorted({p.parent for p in path.rglob(RESULTS_FILE)}
                       | {p.parent for p in path.rglob(PROFILE_FILE)})
        if not found:
            raise TinygenError(f"no {RESULTS_FILE} or {PROFILE_FILE} under {path}; give "
                               "session folders (tinygen run/verify --out), profile builds "
                               "or a submission tree")
        for folder in found:
            if folder.resolve() in seen:
                continue
            seen.add(folder.resolve())
            if (folder / RESULTS_FILE).is_file():
                entries.append(_session(folder))
            if (folder / PROFILE_FILE).is_file():
                entries.append(_profile(folder))
            system, systems_dir = _tree_system(folder)
            if system and systems_dir and (systems_dir / f"{system}.json").is_file():
                description = _optional_json(systems_dir / f"{system}.json")
                if description is not None:
                    descriptions[system] = description
    systems: dict[str, list[Entry]] = {}
    for e in entries:
        systems.setdefault(e.system, []).append(e)
    order = {"performance": 0, "accuracy": 1, "energy": 2, "verify": 3, "profile": 4}
    return [System(name, descriptions.get(name),
                   sorted(es, key=lambda e: (e.bench, order.get(e.kind, 9), str(e.folder))))
            for name, es in sorted(systems.items())]
