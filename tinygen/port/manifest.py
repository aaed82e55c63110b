"""The build folder and its manifest, build.json: what was built from what.

``tinygen build`` writes one build folder per board, benchmark and mode
(build/<board>-<bench id>-<mode>[-<engine>][-harness] by default) with a
build.json that every later stage reads: the runner (which benchmark and
mode the firmware is, which model it holds), the submission (tools, flags,
the image's identity) and the export. It is read and written only here:

    read_manifest(build_dir) -> BuildManifest      (TinygenError naming the fix)
    write_manifest(build_dir, manifest)
    locate_build(board, bench, build, mode)        which folder a command uses

``MANIFEST_VERSION`` counts format changes; a build.json without a version
is version 1 (before the manifest had a type) and reads the same way.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tinygen.benches import Benchmark, get_bench
from tinygen.boards import Board
from tinygen.datafile import (FLAG, INT, OBJECT, PATH, TEXT, check_fields, check_map, load_json,
                              one_line, show)
from tinygen.errors import TinygenError
from tinygen.paths import project_root

MANIFEST_NAME = "build.json"
MANIFEST_VERSION = 2
BUILD_FOLDER = "build"           # under the checkout: where builds go by default
MAX_MANIFEST_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class ModelEntry:
    """The model a firmware holds."""

    sha256: str | None = None
    path: str | None = None          # absolute path where it was built from (None in an export)
    file: str | None = None          # its file name (exports, which keep no local paths)
    macros: dict[str, str] = field(default_factory=dict)   # TG_MODEL_* of model.h


@dataclass(frozen=True)
class FlagSet:
    """Flags added after cflags for some sources (cold code, the LTO engine)."""

    flags: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class StreamEntry:
    """A streaming build's choices (tinygen.port.streaming.StreamOptions) and
    the inference it runs per hop."""

    log_hops: int = 0                # hops the firmware logs for `log` (verify builds)
    features_only: bool = False
    incremental: bool = False        # the per-hop step runs (tinygen.plan.streaming)
    plan: str = ""                   # which inference runs per hop, as the build said it
    note: str | None = None          # why the full window runs, when it does


@dataclass(frozen=True)
class BuildManifest:
    board: str
    bench: str                       # benchmark id, e.g. kws01
    mode: str                        # performance or energy
    opt: str                         # O2, Os, ...
    tinygen: str = ""                # the tinygen version that generated the port
    baud: int | None = None
    model: ModelEntry = field(default_factory=ModelEntry)
    placement: str | None = None     # RAM placement (MCU boards)
    tools: dict[str, str] = field(default_factory=dict)   # tool -> version line
    cflags: list[str] = field(default_factory=list)
    cold_cflags: FlagSet = field(default_factory=FlagSet)
    lto_cflags: FlagSet = field(default_factory=FlagSet)
    ldflags: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)      # relative inside the build folder
    includes: list[str] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)  # elf/bin/hex/map or executable
    runtime: str = "tinygen"         # the engine (tinygen.port.engines)
    # What the engine records about itself (TFLM: tree, kernels, library,
    # measured arena), written under the engine's name ("tflm": {...}).
    engine_details: dict[str, Any] | None = None
    harness: str | None = None       # an external harness's folder
    size: dict[str, int] | None = None     # flash_bytes, ram_bytes once linked
    stream: StreamEntry | None = None      # streaming benchmarks (sww01) only
    exported: bool = False           # written by an export (tinygen build --export)
    version: int = MANIFEST_VERSION

    @property
    def benchmark(self) -> Benchmark | None:
        return get_bench(self.bench) if self.bench else None

    @property
    def image_name(self) -> str:
        """The image a DUT runs: firmware.elf, or the host's executable."""
        return self.outputs.get("elf") or self.outputs.get("executable") or "firmware.elf"

    def to_dict(self) -> dict[str, Any]:
        """build.json's content, in its key order."""
        out = {"manifest_version": self.version, "tinygen": self.tinygen, "board": self.board,
               "bench": self.bench, "mode": self.mode, "opt": self.opt, "baud": self.baud,
               "model": _model_dict(self.model), "placement": self.placement,
               "tools": dict(self.tools), "cflags": list(self.cflags),
               "cold_cflags": dataclasses.asdict(self.cold_cflags),
               "lto_cflags": dataclasses.asdict(self.lto_cflags),
               "ldflags": list(self.ldflags), "sources": list(self.sources),
               "includes": list(self.includes), "outputs": dict(self.outputs),
               "runtime": self.runtime}
        if self.engine_details is not None:
            out[self.runtime] = dict(self.engine_details)
        out["harness"] = self.harness
        if self.stream is not None:
            out["stream"] = dataclasses.asdict(self.stream)
        if self.size is not None:
            out["size"] = dict(self.size)
        if self.exported:
            out["exported"] = True
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: Path | str = MANIFEST_NAME) -> BuildManifest:
        version = data.get("manifest_version", 1)
        if not isinstance(version, int) or isinstance(version, bool) or version > MANIFEST_VERSION:
            raise TinygenError(f"{where} is manifest version {show(version)}, newer than this "
                               f"tinygen reads ({MANIFEST_VERSION}); rebuild the firmware or "
                               "update tinygen")
        data = dict(data)
        if isinstance(data.get("bench"), dict):     # very early manifests held the benchmark's record
            data["bench"] = data["bench"].get("id")
        if isinstance(data.get("model"), str):      # very early manifests held only the path
            data["model"] = {"path": data["model"]}
        check_fields(data, MANIFEST_FIELDS, str(where), "rebuild the firmware")
        _check_maps(data, str(where))
        runtime = data.get("runtime") or "tinygen"
        details = data.get(runtime) if runtime not in _FIELDS else None
        stream = data.get("stream")
        model = data.get("model") or {}
        try:
            return cls(
                board=data.get("board") or "", bench=data.get("bench") or "",
                mode=data.get("mode") or "performance", opt=data.get("opt") or "",
                tinygen=data.get("tinygen") or "", baud=data.get("baud"),
                model=ModelEntry(sha256=model.get("sha256"), path=model.get("path"),
                                 file=model.get("file"), macros=dict(model.get("macros") or {})),
                placement=data.get("placement"), tools=dict(data.get("tools") or {}),
                cflags=list(data.get("cflags") or []),
                cold_cflags=FlagSet(**_flag_set(data.get("cold_cflags"))),
                lto_cflags=FlagSet(**_flag_set(data.get("lto_cflags"))),
                ldflags=list(data.get("ldflags") or []), sources=list(data.get("sources") or []),
                includes=list(data.get("includes") or []), outputs=dict(data.get("outputs") or {}),
                runtime=runtime, engine_details=details if isinstance(details, dict) else None,
                harness=data.get("harness"), size=data.get("size"),
                stream=StreamEntry(**_known(stream, StreamEntry)) if stream is not None else None,
                exported=bool(data.get("exported", False)), version=MANIFEST_VERSION)
        except (TypeError, ValueError) as exc:
            raise TinygenError(f"cannot read {where}: {one_line(exc, 200)}; rebuild the "
                               "firmware") from exc

    def exported_copy(self) -> BuildManifest:
        """The manifest of an exported folder: what was built from what, no local paths."""
        model = self.model
        if model.path:
            model = dataclasses.replace(model, path=None, file=Path(model.path).name)
        return dataclasses.replace(self, model=model, exported=True)


# build.json keys that are the manifest's own (an engine's details go under its name).
_FIELDS = frozenset({"manifest_version", "tinygen", "board", "bench", "mode", "opt", "baud", "model",
                     "placement", "tools", "cflags", "cold_cflags", "lto_cflags", "ldflags",
                     "sources", "includes", "outputs", "runtime", "harness", "size", "exported",
                     "stream"})


# The manifest's fields by type (tinygen.datafile.check_fields): a damaged
# build.json is refused in one line, not taken apart by whoever reads it.
MANIFEST_FIELDS: dict[str, Any] = {
    "tinygen": TEXT, "board": TEXT, "bench": TEXT, "mode": TEXT, "opt": TEXT, "baud": INT,
    "model": {"sha256": TEXT, "path": PATH, "file": PATH, "macros": OBJECT},
    "placement": TEXT, "tools": OBJECT, "cflags": [TEXT],
    "cold_cflags": {"flags": [TEXT], "sources": [PATH]},
    "lto_cflags": {"flags": [TEXT], "sources": [PATH]},
    "ldflags": [TEXT], "sources": [PATH], "includes": [PATH], "outputs": OBJECT,
    "runtime": TEXT, "harness": PATH, "size": {"flash_bytes": INT, "ram_bytes": INT},
    "stream": {"log_hops": INT, "features_only": FLAG, "incremental": FLAG, "plan": TEXT,
               "note": TEXT},
    "exported": FLAG,
}
# Mappings whose values are all text (or paths: the outputs are file names).
_TEXT_MAPS = {"tools": TEXT, "outputs": PATH, "model.macros": TEXT}


def _check_maps(data: dict[str, Any], where: str) -> None:
    for dotted, kind in _TEXT_MAPS.items():
        outer, _, inner = dotted.rpartition(".")
        holder = data.get(outer) if outer else data
        value = holder.get(inner) if isinstance(holder, dict) else None
        if isinstance(value, dict):
            check_map(value, kind, f"{where}: '{dotted}'", "rebuild the firmware")


def _flag_set(value: Any) -> dict[str, Any]:
    return {k: list(value.get(k) or []) for k in ("flags", "sources")} if value else {}


def _known(value: dict[str, Any], cls) -> dict[str, Any]:
    """The keys of a record the dataclass has (later versions may add some)."""
    names = {f.name for f in dataclasses.fields(cls)}
    return {k: v for k, v in value.items() if k in names and v is not None}


def _model_dict(model: ModelEntry) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if model.path is not None:
        out["path"] = model.path
    out["sha256"] = model.sha256
    out["macros"] = dict(model.macros)
    if model.file is not None:
        out["file"] = model.file
    return out


def manifest_path(build_dir: Path | str) -> Path:
    return Path(build_dir) / MANIFEST_NAME


def has_manifest(build_dir: Path | str) -> bool:
    return manifest_path(build_dir).is_file()


def read_manifest(build_dir: Path | str) -> BuildManifest:
    """The manifest of a build folder; errors name the fix."""
    path = manifest_path(build_dir)
    if not path.is_file():
        raise TinygenError(f"{build_dir} holds no {MANIFEST_NAME}; build the firmware first "
                           "(tinygen build --board ... --bench ...) or pass --build")
    data = load_json(path, "build manifest", "rebuild the firmware", max_bytes=MAX_MANIFEST_BYTES)
    return BuildManifest.from_dict(data, path)


def write_manifest(build_dir: Path | str, manifest: BuildManifest) -> Path:
    path = manifest_path(build_dir)
    path.write_text(json.dumps(manifest.to_dict(), indent=2) + "\n")
    return path


def builds_root() -> Path:
    return project_root() / BUILD_FOLDER


def default_build_dir(board: Board, bench: Benchmark, mode: str = "performance") -> Path:
    """Where ``tinygen build`` puts a port by default (the firmware contract)."""
    return builds_root() / f"{board.name}-{bench.id}-{mode}"


def locate_build(board: Board, bench: Benchmark | None, build: Path | str | None,
                 mode: str = "performance") -> Path:
    """The build folder a command uses: --build, else the default folder for
    the benchmark and mode, else the board's only build of that mode."""
    if build is not None:
        return Path(build)
    if bench is not None:
        return default_build_dir(board, bench, mode)
    root = builds_root()
    found = sorted(p for p in root.glob(f"{board.name}-*-{mode}") if p.is_dir())
    if len(found) == 1:
        return found[0]
    hint = f" --mode {mode}" if mode != "performance" else ""
    if not found:
        raise TinygenError(f"no {mode} build of {board.name} under {root}; run 'tinygen build "
                           f"--board {board.name} --bench B{hint}' or pass --build DIR")
    raise TinygenError(f"several {mode} builds of {board.name} under {root} "
                       f"({', '.join(p.name for p in found)}); choose one with --bench or --build")
