"""The TFLM runtime's build side: the library cache and the arena measurement.

TFLM is compiled from the user's tree (``--tflm DIR``) into a static library
in a cache folder, one per (tree, compiler, flags):

    <cache>/<tree name>-<key>/obj/...          one object per TFLM source
    <cache>/<tree name>-<key>/lib/libtflm-<set>.a   the sources one operator set links
    <cache>/<tree name>-<key>/arena/<model>.json    measured arena per model

``<cache>`` is $TINYGEN_TFLM_CACHE, else $XDG_CACHE_HOME/tinygen/tflm, else
~/.cache/tinygen/tflm. Objects are reused across operator sets, boards with
the same flags and build folders; SCons rebuilds one only when its source,
a header it includes or its flags change.

The arena is measured, not guessed: a probe (the port's own glue with an
oversized arena and a main that prints TFLM's ``arena_used_bytes()`` and the
smallest arena AllocateTensors succeeds with) is
built with the port's compiler and run: natively for the host board, on
QEMU mps2-an386 (a Cortex-M4 with DSP and FPU, with semihosting) for
Cortex-M boards whose code runs there. The port gets that figure plus
ARENA_MARGIN_BYTES over the smallest working arena.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import re
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tinygen import __version__
from tinygen.benches import INPUT_FLOAT32_QUANTIZE, Benchmark
from tinygen.boards import Board, load_board
from tinygen.codegen.tflm_glue import (TflmSources, TflmTree, generate_tflm_sources, library_sources,
                                  load_tree, model_operators, resolve_operators)
from tinygen.errors import TinygenError
from tinygen.ir.reader import read_tflite
from tinygen.port.engine import Engine, EngineBuild, EngineJob
from tinygen.port.flags import Toolchain
from tinygen.port.ram_placement import DEFAULT_DATA_BYTES, plan_placement
from tinygen.render import render
from tinygen.toolchain import require_tool

log = logging.getLogger(__name__)

# Head-room over the measured arena. The probe finds the smallest arena with
# which AllocateTensors succeeds (in 16-byte steps from arena_used_bytes(),
# since the set-up needs temporary space beyond what stays used); TFLM's
# planner is deterministic for one binary, so the margin only covers the
# arena's start alignment and differences between the probe's build and
# the port's.
ARENA_MARGIN_BYTES = 1024
PROBE_ARENA_BYTES = 3 << 20           # fits the probe's 4 MB RAM on mps2-an386
LIBRARY_TIMEOUT_S = 3600
PROBE_TIMEOUT_S = 120
LOCK_TIMEOUT_S = 3600
# Cores whose code runs on QEMU's mps2-an386 (Cortex-M4F) unchanged.
_PROBE_ON_AN386 = {"cortex-m0", "cortex-m0plus", "cortex-m3", "cortex-m4"}
_ARCH_FLAG = re.compile(r"^-m(cpu|thumb|float-abi|fpu)")
_ARENA_LINE = re.compile(r"tflm-arena-used (\d+) needed (\d+)")
_SPLIT_LINE = re.compile(r"tflm-split persistent (\d+) planned-used (\d+) needed (\d+)")
_ERROR_LINE = re.compile(r"tflm-error (.*)")
LAYOUT_SINGLE = "single"   # TFLM's one arena (its default)
LAYOUT_SPLIT = "split"     # persistent data in .bss, planned tensors in the arena
# TFLM's interpreter and kernels (C++, deeper calls) get their own stack
# figure, measured like the AOT engine's (tinygen.port.aot.STACK_BYTES;
# tests/tflm/test_stack_and_layout.py, profiling builds on
# disco_l475vg_iot01a, 1 warm-up + 2 inferences + results): reference
# kernels 964 B (kws, vww, ic) and 612 B (ad); CMSIS-NN 1540 B (kws, vww,
# ic) and 1028 B (ad); mps2_an386 the same (kws reference 964 B). Since the
# harness and platform are compiled -Os (cold code), vww with CMSIS-NN on
# disco measures 1552 B, the figure used here. Margin
# TFLM_STACK_MARGIN_BYTES (two thirds of the mark: more than tinygen's 936 B
# for nested exception frames, plus room for other compilers and -O levels).
TFLM_STACK_MEASURED_BYTES = 1552
TFLM_STACK_MARGIN_BYTES = 1008
# The cores the mark above was painted on (disco_l475vg_iot01a, mps2_an386).
TFLM_STACK_MEASURED_CORES = ("cortex-m4",)


def tflm_stack_note(board: Board) -> str:
    """The size report's TFLM stack line, saying whether this board's core is
    one the mark was measured on (never "measured" for a core that never ran it)."""
    if board.cpu in TFLM_STACK_MEASURED_CORES:
        where = "measured on this core (disco_l475vg_iot01a, mps2_an386)"
    else:
        where = (f"measured on a Cortex-M4 (disco_l475vg_iot01a), not on this board's "
                 f"{board.cpu}")
    return (f"stack: {TFLM_STACK_BYTES} B (TFLM runtime) = high-water mark "
            f"{TFLM_STACK_MEASURED_BYTES} B {where} (stack painting, profiling build) + "
            f"{TFLM_STACK_MARGIN_BYTES} B margin")
TFLM_STACK_BYTES = TFLM_STACK_MEASURED_BYTES + TFLM_STACK_MARGIN_BYTES


@dataclass(frozen=True)
class TflmToolchain:
    """How the TFLM sources and the glue are compiled for one board."""

    cc: str
    cxx: str
    ar: str
    ranlib: str
    arch: tuple[str, ...]           # -mcpu ... (empty on the host)
    opt: str
    bare_metal: bool

    @property
    def ccflags(self) -> list[str]:
        return [*self.arch, f"-{self.opt}", "-ffunction-sections", "-fdata-sections"]

    @property
    def cflags(self) -> list[str]:
        return ["-std=c11"]

    @property
    def cxxflags(self) -> list[str]:
        flags = ["-std=c++17", "-fno-rtti", "-fno-exceptions", "-fno-threadsafe-statics"]
        if self.bare_metal:
            flags += ["-fno-unwind-tables", "-fno-asynchronous-unwind-tables"]
        return flags


def tflm_toolchain(board: Board, port_cflags: tuple[str, ...], opt: str) -> TflmToolchain:
    if board.is_host:
        return TflmToolchain(cc="cc", cxx="c++", ar="ar", ranlib="ranlib", arch=(), opt=opt,
                             bare_metal=False)
    arch = tuple(f for f in port_cflags if _ARCH_FLAG.match(f))
    return TflmToolchain(cc="arm-none-eabi-gcc", cxx="arm-none-eabi-g++", ar="arm-none-eabi-ar",
                         ranlib="arm-none-eabi-ranlib", arch=arch, opt=opt, bare_metal=True)


def cache_root() -> Path:
    override = os.environ.get("TINYGEN_TFLM_CACHE")
    if override:
        return Path(override)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tinygen" / "tflm"


def _compiler_id(cmd: str) -> str:
    require_tool(cmd)
    try:
        out = subprocess.run([cmd, "--version"], capture_output=True, text=True, timeout=30,
                             check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise TinygenError(f"cannot run {cmd} --version ({exc}); check the compiler install") from exc
    return (out.stdout.splitlines() or ["?"])[0]


def _check_cxx(tc: TflmToolchain) -> None:
    """arm-none-eabi-g++ without Debian's libstdc++ package has no C++ headers."""
    probe = subprocess.run([tc.cxx, *tc.arch, "-std=c++17", "-x", "c++", "-fsyntax-only", "-"],
                           input="#include <cstdint>\n#include <new>\n", capture_output=True,
                           text=True, timeout=60, check=False)
    if probe.returncode != 0:
        hint = ("apt-get install libstdc++-arm-none-eabi-newlib (or run 'bash scripts/setup.sh')"
                if tc.bare_metal else "apt-get install g++")
        raise TinygenError(f"{tc.cxx} cannot compile C++17 with the standard headers; {hint}")


@dataclass(frozen=True)
class TflmLibrary:
    folder: Path
    library: Path
    key: str
    toolchain: TflmToolchain
    include_dirs: tuple[Path, ...]
    defines: tuple[str, ...]


def library_folder(tree: TflmTree, tc: TflmToolchain) -> tuple[Path, str]:
    ident = json.dumps({"tree": tree.fingerprint(), "kernels": tree.kernels,
                        "cxx": _compiler_id(tc.cxx), "cc": _compiler_id(tc.cc),
                        "ccflags": tc.ccflags, "cflags": tc.cflags, "cxxflags": tc.cxxflags,
                        "defines": tree.defines()}, sort_keys=True)
    key = hashlib.sha256(ident.encode()).hexdigest()[:16]
    return cache_root() / f"{tree.root.name}-{key}", key


@contextmanager
def _locked(folder: Path, timeout: float = LOCK_TIMEOUT_S):
    """One build at a time per cache folder (two processes may share it)."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "lock", "w") as handle:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TinygenError(f"the TFLM cache {folder} stayed locked for {timeout:g} s; "
                                       "another tinygen build is using it, or remove its lock file")
                time.sleep(0.5)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


PROGRESS_EVERY_S = 5.0


def _run_with_progress(cmd: list[str], sources: int, timeout: float) -> tuple[int, str]:
    """Run the library build, logging how many sources it compiled every few
    seconds (a first build takes minutes); (exit code, output)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
    reader.start()
    start = time.monotonic()
    while True:
        try:
            proc.wait(timeout=PROGRESS_EVERY_S)
            break
        except subprocess.TimeoutExpired:
            elapsed = time.monotonic() - start
            if elapsed > timeout:
                proc.kill()
                proc.wait()
                raise
            compiled = sum(1 for ln in list(lines) if ln.startswith(("CC ", "CXX ")))
            log.info("TFLM library: %d of %d sources compiled, %.0f s", compiled, sources, elapsed)
    reader.join(timeout=10)
    return proc.returncode, "".join(lines)


def build_library(tree: TflmTree, sources: list[str], tc: TflmToolchain,
                  jobs: int | None = None) -> TflmLibrary:
    """Compile (or reuse) the TFLM library holding these sources."""
    _check_cxx(tc)
    folder, key = library_folder(tree, tc)
    set_key = hashlib.sha256("\n".join(sorted(sources)).encode()).hexdigest()[:12]
    library = folder / "lib" / f"libtflm-{set_key}.a"
    script = f"SConstruct-{set_key}"
    includes = tuple(tree.include_dirs())
    with _locked(folder):
        # The build names the tree through a link in the cache folder, so its
        # commands (and SCons's signatures) do not depend on where it lies.
        link = folder / "tree"
        if not link.is_symlink() or Path(os.readlink(link)) != tree.root:
            link.unlink(missing_ok=True)
            link.symlink_to(tree.root, target_is_directory=True)
        (folder / script).write_text(render("tflm/SConstruct.lib.j2",
            version=__version__, tree=tree, cc=tc.cc, cxx=tc.cxx, ar=tc.ar, ranlib=tc.ranlib,
            includes=[("tree/" + i.relative_to(tree.root).as_posix()).rstrip("/.") or "tree"
                      for i in includes], defines=tree.defines(), ccflags=tc.ccflags,
            cflags=tc.cflags, cxxflags=tc.cxxflags, sources=sorted(sources),
            library=f"lib/libtflm-{set_key}.a", script=script))
        jobs = jobs or os.cpu_count() or 1
        cmd = [sys.executable, "-m", "SCons", "-Q", f"-j{jobs}", "-C", str(folder), "-f", script]
        log.info("TFLM library: %d sources from %s into %s (first build of a tree takes minutes)",
                 len(sources), tree.root, folder)
        try:
            returncode, output = _run_with_progress(cmd, len(sources), LIBRARY_TIMEOUT_S)
        except subprocess.TimeoutExpired as exc:
            raise TinygenError(f"the TFLM library build did not finish in {LIBRARY_TIMEOUT_S} s; "
                               f"see {folder}/build.log") from exc
        (folder / "build.log").write_text(output)
        if returncode != 0:
            errors = [ln for ln in output.splitlines() if "error" in ln.lower()]
            first = (errors or output.strip().splitlines() or ["no output"])[0].strip()
            raise TinygenError(f"compiling TFLM from {tree.root} failed: {first[:300]}; "
                               f"see {folder}/build.log (is it a complete TFLM tree?)")
    return TflmLibrary(folder=folder, library=library, key=key, toolchain=tc,
                       include_dirs=includes, defines=tuple(tree.defines()))


def _probe_runs_natively(board: Board) -> bool:
    return board.is_host


def probe_platform(board: Board) -> str:
    """Where the arena probe runs: 'host', 'qemu mps2-an386', or 'host (estimate)'."""
    if board.is_host:
        return "host"
    if board.cpu in _PROBE_ON_AN386:
        return "qemu mps2-an386"
    return "host (estimate)"


def _run(cmd: list[str], what: str, cwd: Path, timeout: float = 600) -> str:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=cwd,
                              check=False)
    except subprocess.TimeoutExpired as exc:
        raise TinygenError(f"{what} did not finish in {timeout:g} s; see {cwd}") from exc
    output = done.stdout + done.stderr
    if done.returncode != 0:
        (cwd / "probe.log").write_text(" ".join(cmd) + "\n" + output)
        first = next((ln for ln in output.splitlines() if "error" in ln.lower()),
                     output.strip()[-300:])
        raise TinygenError(f"{what} failed: {first.strip()[:300]}; see {cwd / 'probe.log'}")
    return output


def measure_arena(model_path: Path, tree: TflmTree, sources: list[str], board: Board,
                  port_cflags: tuple[str, ...], opt: str, jobs: int | None = None) -> dict:
    """Build and run the arena probe; returns {"used", "arena", "measured_on"} (cached)."""
    where = probe_platform(board)
    if where == "host (estimate)":
        log.warning("%s (%s) cannot run on QEMU mps2-an386: measuring TFLM's arena on a host "
                    "build, an estimate for this core", board.name, board.cpu)
        board = load_board("host")
    tc = tflm_toolchain(board, port_cflags, opt)
    lib = build_library(tree, sources, tc, jobs)
    model_sha = hashlib.sha256(Path(model_path).read_bytes()).hexdigest()
    cached = lib.folder / "arena" / f"v4-{model_sha[:24]}-{hashlib.sha256(str(sorted(sources)).encode()).hexdigest()[:8]}.json"
    work = lib.folder / "probe" / model_sha[:24]
    # One probe per model at a time: two builds may share the cache.
    with _locked(work):
        if cached.is_file():
            result = json.loads(cached.read_text())
            log.info("TFLM arena (cached measurement): %d bytes used", result["used"])
            return result
        return _run_probe(model_path, tree, lib, tc, where, work, cached)


def _run_probe(model_path: Path, tree: TflmTree, lib: TflmLibrary, tc: TflmToolchain, where: str,
               work: Path, cached: Path) -> dict:
    work.mkdir(parents=True, exist_ok=True)
    generate_tflm_sources(model_path, work, tree, PROBE_ARENA_BYTES, bare_metal=tc.bare_metal,
                          probe=True)
    inc = [f"-I{work}"] + [f"-isystem{i}" for i in lib.include_dirs]
    defs = [f"-D{d}" for d in lib.defines]
    objs = []
    for name in ("tflm_model.cc", "tflm_probe.cc"):
        obj = work / (name[:-3] + ".o")
        _run([tc.cxx, *tc.ccflags, *tc.cxxflags, *defs, *inc, "-c", str(work / name), "-o", str(obj)],
             f"compiling the TFLM arena probe ({name})", work)
        objs.append(str(obj))
    exe = work / ("probe" if not tc.bare_metal else "probe.elf")
    if tc.bare_metal:
        (work / "probe.ld").write_text(render("tflm/probe_mps2.ld.j2"))
        link = [tc.cxx, *tc.arch, "-nostartfiles", "--specs=nano.specs", "--specs=nosys.specs",
                "-Wl,--gc-sections", "-T", str(work / "probe.ld"), *objs, str(lib.library),
                "-lm", "-o", str(exe)]
    else:
        link = [tc.cxx, "-Wl,--gc-sections", *objs, str(lib.library), "-lm", "-o", str(exe)]
    _run(link, "linking the TFLM arena probe", work)
    if tc.bare_metal:
        qemu = require_tool("qemu-system-arm")
        run = [str(qemu), "-machine", "mps2-an386", "-nographic", "-monitor", "none",
               "-serial", "none", "-semihosting-config", "enable=on,target=native",
               "-kernel", str(exe)]
    else:
        run = [str(exe)]
    output = _run(run, f"running the TFLM arena probe ({where})", work, timeout=PROBE_TIMEOUT_S)
    error = _ERROR_LINE.search(output)
    if error:
        raise TinygenError(f"TFLM could not set up {Path(model_path).name} in the probe: "
                           f"{error.group(1)}; check the model runs in TFLM")
    found = _ARENA_LINE.search(output)
    if not found:
        raise TinygenError(f"the TFLM arena probe printed no measurement ({output.strip()[:200]!r}); "
                           f"see {work}")
    split = _SPLIT_LINE.search(output)
    if not split:
        raise TinygenError(f"the TFLM arena probe printed no split-arena measurement "
                           f"({output.strip()[:200]!r}); see {work}")
    used, needed = int(found.group(1)), int(found.group(2))
    persistent, planned_used, planned_needed = (int(g) for g in split.groups())
    if needed == 0 or planned_needed == 0:
        raise TinygenError(f"TFLM could not set up {Path(model_path).name} even in the probe's "
                           f"{PROBE_ARENA_BYTES} B arena; check the model runs in TFLM")
    result = {"used": used, "needed": needed, "arena": _with_margin(needed),
              "margin": ARENA_MARGIN_BYTES, "measured_on": where,
              # The split layout (see choose_layout): persistent part, and
              # planned part with the graph's inputs kept live.
              "split": {"persistent_used": persistent, "planned_used": planned_used,
                        "planned_needed": planned_needed,
                        "persistent_bytes": _with_margin(persistent),
                        "planned_bytes": _with_margin(planned_needed)}}
    cached.parent.mkdir(parents=True, exist_ok=True)
    cached.write_text(json.dumps(result) + "\n")
    log.info("TFLM arena measured on %s: %d bytes used after set-up, %d needed during it; "
             "port gets %d (split: %d persistent + %d planned)", where, used, needed,
             result["arena"], persistent, planned_needed)
    return result


def _with_margin(measured: int) -> int:
    return (measured + ARENA_MARGIN_BYTES + 15) // 16 * 16


@dataclass
class TflmPort:
    """What generate_port needs to build a port on the TFLM runtime."""

    sources: TflmSources
    library: TflmLibrary
    arena: dict                       # measure_arena's result
    layout: str = LAYOUT_SINGLE       # LAYOUT_SINGLE or LAYOUT_SPLIT (see choose_layout)

    @property
    def keeps_input(self) -> bool:
        """The glue's planner keeps the graph's input live: it can be the db buffer."""
        return True

    @property
    def persistent_bytes(self) -> int:
        """TFLM's persistent arena, a .bss array in the split layout (0 otherwise)."""
        return self.sources.persistent_bytes

    def cxx_flags(self) -> list[str]:
        """Defines and includes for the glue (the tree's headers as system headers)."""
        return ([f"-D{d}" for d in self.library.defines]
                + [f"-isystem{i}" for i in self.library.include_dirs])

    def describe(self) -> dict:
        tree = self.sources.tree
        out = {"tree": str(tree.root), "kernels": tree.kernels,
               "operators": [op.builtin for op in self.sources.operators],
               "library": str(self.library.library),
               "library_sources": len(self.sources.library_sources),
               "compiler": self.library.toolchain.cxx,
               "arena_used_bytes": self.arena["used"],
               "arena_needed_bytes": self.arena["needed"],
               "arena_margin_bytes": self.arena["margin"],
               "arena_bytes": self.sources.arena_bytes,
               "arena_measured_on": self.arena["measured_on"],
               "layout": self.layout}
        if self.layout == LAYOUT_SPLIT:
            split = self.arena["split"]
            out.update({"persistent_used_bytes": split["persistent_used"],
                        "persistent_bytes": split["persistent_bytes"],
                        "planned_used_bytes": split["planned_used"],
                        "planned_needed_bytes": split["planned_needed"]})
        return out


def choose_layout(board: Board, model_name: str, arena: dict, *, db_bytes: int,
                  stack_bytes: int) -> str:
    """One arena where it fits the board's RAM regions, else the split layout.

    TFLM's default is one contiguous arena; with a separate db buffer that is
    what the port uses whenever the placement finds room. Otherwise (vww01 on
    the B-L475E-IOT01A: 101,680 B against SRAM1's 96 KB) the arena is split
    with MicroAllocator's two-arena form: TFLM's persistent data (measured
    exactly, it has no temporary part) goes into .bss with the port's other
    data, the planned tensors into the arena block. ``db_bytes`` is the
    separate db buffer (0 when the input tensor, kept live by the glue's
    planner in both layouts, holds the download).
    """
    if board.is_host:
        return LAYOUT_SINGLE
    try:
        plan_placement(board, arena["arena"], db_bytes, stack_bytes)
        return LAYOUT_SINGLE
    except TinygenError as single:
        split = arena["split"]
        try:
            placement = plan_placement(board, split["planned_bytes"], db_bytes, stack_bytes,
                                       data_bytes=DEFAULT_DATA_BYTES + split["persistent_bytes"])
        except TinygenError as exc:
            raise TinygenError(
                f"TFLM's arena for {model_name} does not fit: {single} (TFLM measured "
                f"{arena['needed']} B needed + {arena['margin']} B margin). Split in two, "
                f"{split['persistent_bytes']} B persistent + {split['planned_bytes']} B planned, "
                f"it does not fit either: {exc}") from exc
    log.info("TFLM's single arena (%d B) does not fit %s: split into %d B persistent (.bss) + "
             "%d B planned; %s", arena["arena"], board.name, split["persistent_bytes"],
             split["planned_bytes"], placement.describe())
    return LAYOUT_SPLIT


def prepare_tflm(board: Board, model_path: Path, src_dir: Path, tflm_dir: Path | str | None,
                 port_toolchain: Toolchain, opt: str, jobs: int | None = None, *,
                 bench: Benchmark | None = None,
                 own_harness: bool = True, stack_bytes: int = 0) -> TflmPort:
    """Check the tree, build the library, measure the arena, write the glue into src_dir.

    ``bench`` (its input bytes and format) and ``own_harness`` decide how big
    the db buffer is (see choose_layout), ``stack_bytes`` is the stack the
    placement leaves room for; without a bench the single layout is used.
    """
    tree = load_tree(tflm_dir)
    ops = resolve_operators(tree, model_operators(model_path))
    sources = library_sources(tree, ops)
    log.info("TFLM runtime: %s kernels from %s, operators %s", tree.kernels, tree.root,
             ", ".join(op.builtin for op in ops))
    port_cflags = tuple(port_toolchain.cflags)
    arena = measure_arena(model_path, tree, sources, board, port_cflags, opt, jobs)
    tc = tflm_toolchain(board, port_cflags, opt)
    library = build_library(tree, sources, tc, jobs)
    layout = LAYOUT_SINGLE
    if bench is not None:
        input_is_float = read_tflite(Path(model_path)).input_tensors[0].dtype == "float32"
        # As generate_port decides it: the db buffer is the input tensor (or
        # the float values) only with tinygen's own harness.
        db_is_input = own_harness and (bench.input_format == INPUT_FLOAT32_QUANTIZE
                                       or not input_is_float)
        layout = choose_layout(board, Path(model_path).name, arena,
                               db_bytes=0 if db_is_input else bench.input_bytes,
                               stack_bytes=stack_bytes)
    if layout == LAYOUT_SPLIT:
        glue = generate_tflm_sources(model_path, src_dir, tree, arena["split"]["planned_bytes"],
                                     bare_metal=tc.bare_metal,
                                     persistent_bytes=arena["split"]["persistent_bytes"])
    else:
        glue = generate_tflm_sources(model_path, src_dir, tree, arena["arena"],
                                     bare_metal=tc.bare_metal)
    return TflmPort(sources=glue, library=library, arena=arena, layout=layout)


class TflmEngine(Engine):
    """--runtime tflm --tflm DIR: the model as data, run by TFLM built from DIR."""

    name = "tflm"
    usage = "tflm (with --tflm DIR)"
    options = ("tflm",)
    build_suffix = "-tflm"

    def __init__(self, tree: Path | str | None = None):
        self.tree = tree

    @classmethod
    def from_options(cls, **options) -> TflmEngine:
        return cls(options.get("tflm"))

    def prepare(self, job: EngineJob) -> EngineBuild:
        port = prepare_tflm(job.board, job.model_path, job.src_dir, self.tree, job.toolchain,
                            job.opt, job.jobs, bench=job.bench, own_harness=job.own_harness,
                            stack_bytes=TFLM_STACK_BYTES)
        glue = port.sources
        return EngineBuild(
            model=glue, facts=glue.facts, sources=(job.src_dir / "tflm_model.cc",),
            stack_bytes=TFLM_STACK_BYTES, keeps_input=port.keeps_input,
            # TFLM's split layout keeps its persistent arena in .bss.
            persistent_bytes=port.persistent_bytes,
            cxx=True, cxx_flags=tuple(port.cxx_flags()),
            libraries=(str(port.library.library),), details=port.describe(),
            stack_note=tflm_stack_note(job.board),
            arena_name="TFLM's arena", arena_note=(f"TFLM measured {port.arena['needed']} B needed + "
                        f"{port.arena['margin']} B margin, {port.layout} layout"))
