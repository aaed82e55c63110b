"""Generate a port: the build directory for one board, benchmark and mode.

Layout written (see the firmware contract):

    <build dir>/src/          model.c/.h (compiler), submitter_implemented.c/.h,
                              tg_board.h, linker.ld (ARM boards)
    <build dir>/harness/, platform/, kernels/
                              the hand-written C the build needs, copied from
                              the checkout's firmware/ so that the folder is
                              self-contained
    <build dir>/SConstruct    compiles src/ and firmware/ by relative path
    <build dir>/Makefile      the same build with only make and the compiler
    <build dir>/build.json    manifest (tinygen.port.manifest): board, bench, mode,
                              opt, model + sha256, tool versions, sources,
                              flags, outputs

The model's code comes from an engine (tinygen.port.engine: the
ahead-of-time engine or the TFLM glue, chosen by --runtime from
tinygen.port.engines); this module composes the port around it and knows
neither.

Every ``templates/port/*.j2`` is rendered into ``src/`` (names lose ``.j2``;
``arm_*`` templates are for MCU boards only and lose the prefix, so
``arm_linker.ld.j2`` becomes ``linker.ld``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tinygen import __version__
from tinygen.benches import Benchmark, INPUT_FLOAT32_QUANTIZE, OUTPUT_MSE, get_bench
from tinygen.boards import Board, load_board
from tinygen.codegen.facts import ModelFacts
from tinygen.errors import TinygenError
from tinygen.paths import firmware_dir, templates_dir
from tinygen.port.engine import EngineBuild, EngineJob
from tinygen.port.engines import ENGINES, make_engine
from tinygen.port.firmware import build_relative, platform_sources, vendor_firmware, vendored_parts
from tinygen.port.flags import COLD_PARTS, Toolchain, cold_flags, cxx_flags, toolchain_for
from tinygen.port.manifest import (BuildManifest, FlagSet, ModelEntry, StreamEntry, default_build_dir,
                                   write_manifest)
from tinygen.port.harness import (HARNESS_API_DIR, HARNESS_HEADER, external_harness,
                                  install_harness, tinygen_harness_source)
from tinygen.port.ram_placement import DEFAULT_DATA_BYTES, Placement, plan_placement
from tinygen.port.streaming import (StreamOptions, check_streaming_board, stream_entry,
                                    streaming_sources)
from tinygen.render import render

log = logging.getLogger(__name__)

MODES = ("performance", "energy")
OPTS = ("O2", "Os", "O3", "O1", "O0")
RUNTIMES = tuple(ENGINES)


@dataclass(frozen=True)
class GeneratedPort:
    board: Board
    bench: Benchmark
    mode: str
    opt: str
    model_path: Path
    build_dir: Path
    src_dir: Path
    sources: tuple[Path, ...]          # every C file the build compiles
    include_dirs: tuple[Path, ...]
    toolchain: Toolchain
    engine: EngineBuild                # what the engine generated and needs
    placement: Placement | None        # RAM placement on MCU boards
    sconstruct: Path
    manifest: Path
    stream: StreamEntry | None = None  # a streaming build's choices and per-hop inference

    @property
    def is_host(self) -> bool:
        return self.board.is_host

    @property
    def model(self):
        """The engine's generated model (tinygen.codegen.ModelSources or TflmSources)."""
        return self.engine.model

    @property
    def facts(self) -> ModelFacts:
        return self.engine.facts

    @property
    def model_macros(self) -> dict[str, str]:
        """The TG_MODEL_* macros of model.h, as it spells them."""
        return self.engine.facts.macros()


def check_model_fits_bench(bench: Benchmark, facts: ModelFacts) -> None:
    elements = facts.input_elements
    per_element = 4 if bench.input_format == INPUT_FLOAT32_QUANTIZE else 1
    if elements * per_element != bench.input_bytes:
        raise TinygenError(
            f"the model's input has {elements} elements but {bench.id} sends {bench.input_bytes} bytes "
            f"({bench.input_bytes // per_element} elements); pass a model made for {bench.id} "
            f"(input shape {list(bench.input_shape)}) or the matching --bench"
        )
    if bench.output_format == OUTPUT_MSE:
        outputs = facts.output_elements
        if outputs != elements:
            raise TinygenError(
                f"{bench.id} reports the reconstruction error, which needs the model's output "
                f"({outputs} elements) the size of its input ({elements}); pass an auto-encoder"
            )


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _tool_version(cmd: str) -> str:
    try:
        out = subprocess.run([cmd, "--version"], capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "not found"
    lines = (out.stdout or out.stderr).strip().splitlines()
    return lines[0] if lines else "unknown"


def _tool_versions(toolchain: Toolchain) -> dict[str, str]:
    tools = {toolchain.cc: _tool_version(toolchain.cc)}
    if toolchain.objcopy:
        tools[toolchain.objcopy] = _tool_version(toolchain.objcopy)
    try:
        import SCons
        tools["scons"] = getattr(SCons, "__version__", "unknown")
    except ImportError:
        tools["scons"] = "not installed"
    return tools


def _attribute_define(name: str, section: str | None) -> str:
    """A -D flag that survives the shell SCons runs commands through."""
    value = f'__attribute__((section("{section}")))' if section else ""
    return shlex.quote(f"-D{name}={value}")


def _validate(mode: str, opt: str) -> str:
    if mode not in MODES:
        raise TinygenError(f"unknown mode '{mode}'; use performance or energy")
    if opt.lstrip("-") not in OPTS:
        raise TinygenError(f"unknown optimization '{opt}'; use one of {', '.join(OPTS)}")
    return opt.lstrip("-")


def _model_file(model_path: Path | str | None, bench: Benchmark) -> Path:
    path = Path(model_path) if model_path else bench.model_path
    if not path.is_file():
        raise TinygenError(
            f"model {path} not found; pass --model PATH to an int8 .tflite for {bench.id}"
            + ("" if path != bench.model_path else " (or build the committed models first)")
        )
    return path


def _fresh_src_dir(build_dir: Path) -> Path:
    src_dir = build_dir / "src"
    src_dir.mkdir(parents=True, exist_ok=True)
    for stale in src_dir.iterdir():
        if stale.is_file():
            stale.unlink()
    return src_dir


def _place(board: Board, engine: EngineBuild, db_bytes: int, model_path: Path) -> Placement | None:
    """The RAM placement of arena, db buffer, stack and data (MCU boards)."""
    if board.is_host:
        return None
    try:
        placement = plan_placement(board, engine.facts.arena_bytes, db_bytes, engine.stack_bytes,
                                   data_bytes=DEFAULT_DATA_BYTES + engine.persistent_bytes)
    except TinygenError as exc:
        if engine.arena_note is None:
            raise
        raise TinygenError(f"{engine.arena_name} for {model_path.name} does not fit: {exc} "
                           f"({engine.arena_note})") from exc
    log.info("RAM placement: %s", placement.describe())
    return placement


def _render_sources(board: Board, src_dir: Path, context: dict) -> None:
    """templates/port/*.j2 into src/ (arm_* templates for MCU boards only)."""
    for template in sorted((templates_dir() / "port").glob("*.j2")):
        name = template.name[:-3]
        if name.startswith("arm_"):
            if board.is_host:
                continue
            name = name[4:]
        (src_dir / name).write_text(render(f"port/{template.name}", **context))


def _object_name(source: Path, build_dir: Path, src_dir: Path) -> str:
    """Where a source's object goes: obj/<its place in the build folder>.o."""
    vendored = [build_dir / part for part in vendored_parts()]
    if source.parent == src_dir:
        rel = Path("obj/src") / source.name
    elif any(part in source.parents for part in vendored):
        rel = Path("obj") / source.relative_to(build_dir)
    else:
        # Vendor platform code from outside the checkout.
        rel = (Path("obj/vendor") / hashlib.sha256(str(source.parent).encode()).hexdigest()[:8]
               / source.name)
    return rel.with_suffix(".o").as_posix()


@dataclass(frozen=True)
class _Objects:
    """How each source is compiled: the build templates' object lists."""

    objects: list[tuple[str, str, list[str]]]   # C: (object, source, flags added after cflags)
    cxx: dict | None                            # C++ objects, flags and libraries (or None)
    cold: list[str]
    cold_sources: list[str]
    lto: list[str]
    lto_sources: list[str]


def _objects(board: Board, opt: str, built: EngineBuild, sources: list[Path], foreign: list[Path],
             build_dir: Path, src_dir: Path, cflags: list[str], cc: str) -> _Objects:
    # Which sources are C++: the engine's; with a C++ harness also the C that
    # calls into it (its ee_* functions have C++ linkage, as the official
    # harness declares them), so both sides agree; th_* stay extern "C".
    foreign_cxx = any(f.suffix != ".c" for f in foreign)
    as_cxx = {s for s in sources if s.suffix in (".cc", ".cpp")}
    if foreign_cxx:
        as_cxx |= {s for s in sources if s.name in ("tg_main.c", "submitter_implemented.c")}
    objects, cxx_objects, foreign_objects = [], [], []
    cold = cold_flags(board, opt)
    cold_dirs = [build_dir / part for part in COLD_PARTS]
    cold_sources, lto_sources = [], []
    lto = list(built.lto)
    for source in sources:
        entry = (_object_name(source, build_dir, src_dir), build_relative(source, build_dir))
        if any(source == f for f in foreign):
            foreign_objects.append(entry)
        elif source in as_cxx:
            cxx_objects.append(entry)
        else:
            is_cold = any(part in source.parents for part in cold_dirs)
            is_engine = built.is_lto_source(source)
            if is_cold and cold:
                cold_sources.append(build_relative(source, build_dir))
            if is_engine and lto:
                lto_sources.append(build_relative(source, build_dir))
            objects.append((*entry, cold if is_cold else lto if is_engine else []))
    cxx = None
    if cxx_objects or foreign_objects:
        flags = (cxx_flags(cflags, board) if foreign_cxx or built.cxx else []) + list(built.cxx_flags)
        cxx = {
            "compiler": "c++" if board.is_host else "arm-none-eabi-g++",
            "flags": flags,
            "objects": cxx_objects,
            # The harness is the user's code, built unchanged: warnings are
            # theirs, not errors of the port.
            "foreign_flags": [f for f in (flags if foreign_cxx else cflags) if f != "-Werror"],
            "foreign_objects": foreign_objects,
            "foreign_compiler": ("c++" if board.is_host else "arm-none-eabi-g++") if foreign_cxx
            else cc,
            "libs": list(built.libraries),
        }
    return _Objects(objects=objects, cxx=cxx, cold=cold, cold_sources=cold_sources, lto=lto,
                    lto_sources=lto_sources)


def generate_port(board: Board | str, bench: Benchmark | str, model_path: Path | str | None = None,
                  mode: str = "performance", opt: str = "O2",
                  out_dir: Path | str | None = None, *, profile: bool = False,
                  runtime: str = "tinygen", tflm: Path | str | None = None,
                  harness: Path | str | None = None, jobs: int | None = None,
                  stream: StreamOptions | None = None) -> GeneratedPort:
    """Write the build directory for one board, benchmark and mode.

    profile=True makes a profiling build (tinygen profile): the model times
    every operator and th_results prints the sums.
    ``runtime`` names the engine (tinygen.port.engines): "tinygen" compiles
    the model into C; "tflm" runs it on TensorFlow Lite Micro compiled from
    the tree ``tflm`` (tinygen.port.tflm builds and caches the library and
    measures the arena, so this step compiles). ``harness`` replaces
    tinygen's harness with one laid out like the official api/ folder.
    ``stream`` holds a streaming benchmark's choices (sww01: hop log,
    features only, the incremental plan); None gives the defaults.
    """
    board = load_board(board) if isinstance(board, str) else board
    bench = get_bench(bench) if isinstance(bench, str) else bench
    opt = _validate(mode, opt)
    if stream is not None and not bench.is_streaming:
        raise TinygenError(f"{bench.id} is not a streaming benchmark: stream options are for sww01")
    stream = (stream or StreamOptions()) if bench.is_streaming else None
    if stream is not None:
        check_streaming_board(board)
    engine = make_engine(runtime, tflm=tflm)
    harness_files = external_harness(harness) if harness is not None else None
    model_path = _model_file(model_path, bench)
    build_dir = Path(out_dir) if out_dir else default_build_dir(board, bench, mode)
    if out_dir is None and (engine.build_suffix or harness is not None):
        build_dir = build_dir.with_name(build_dir.name + engine.build_suffix
                                        + ("-harness" if harness is not None else ""))
    build_dir = build_dir.resolve()
    src_dir = _fresh_src_dir(build_dir)

    toolchain = toolchain_for(board, opt, engine.defines(board))
    built = engine.prepare(EngineJob(board=board, bench=bench, model_path=model_path,
                                     build_dir=build_dir, src_dir=src_dir, opt=opt,
                                     toolchain=toolchain, jobs=jobs,
                                     own_harness=harness_files is None,
                                     stream_step=stream is not None and stream.incremental))
    check_model_fits_bench(bench, built.facts)

    # The harness's db buffer is storage the port already has: the model's
    # input tensor when the download is its bytes (int8 features, uint8
    # pixels converted in place) and the engine keeps the input alive for
    # the whole inference, or the port's float input values (ad01). Only
    # with tinygen's own harness (an external one keeps its own buffer).
    db_in_input = (built.keeps_input and harness_files is None
                   and (bench.input_format == INPUT_FLOAT32_QUANTIZE or not built.facts.input_is_float))
    placement = _place(board, built, 0 if db_in_input else bench.input_bytes, model_path)

    baud = board.console.baud_energy if mode == "energy" else board.console.baud_performance
    _render_sources(board, src_dir, {
        "board": board, "bench": bench, "mode": mode, "baud": baud, "model": built.model,
        "placement": placement, "version": __version__, "db_in_input": db_in_input})

    fw = firmware_dir()
    plat_sources, plat_includes, plat_defines = platform_sources(board)
    sources = sorted((fw / "harness").glob("*.c")) + plat_sources
    sources += sorted(src_dir.glob("*.c")) + list(built.sources)
    includes = [src_dir, fw / "harness", *plat_includes, fw / "kernels", *built.includes]
    entry = None
    if stream is not None:  # sww01: the streaming firmware replaces the harness
        entry = stream_entry(stream, built.stream, built.stream_note, built.facts.macs)
        sources, includes = streaming_sources(board, src_dir, sources, includes, entry)

    # An external harness replaces tinygen's, found first on the include path.
    foreign: list[Path] = []
    if harness_files is not None:
        foreign = [install_harness(build_dir, src_dir, harness_files)]
        sources = [s for s in sources if s != tinygen_harness_source()] + foreign
        api_dir = build_dir / HARNESS_API_DIR
        includes = [api_dir, api_dir.parent] + includes

    script = board.platform.linker_script if board.platform is not None else None
    sources, includes, copied = vendor_firmware(build_dir, sources, includes,
                                                [script] if script else [])
    if script:
        # The vendor's linker script, named by its copy inside the build folder.
        toolchain = dataclasses.replace(toolchain, ldflags=tuple(
            build_relative(copied[0], build_dir) if f == str(script) else f
            for f in toolchain.ldflags))
    if harness_files is not None:
        # tg_main.c finds headers beside itself first: it must see the
        # external harness's declarations, not tinygen's.
        (build_dir / "harness" / HARNESS_HEADER).unlink(missing_ok=True)

    defines = [] if board.is_host else [
        _attribute_define("TG_ARENA_ATTR", ".tg_arena"),
        _attribute_define("TG_BUFFER_ATTR", ".tg_buffer"),
    ] + plat_defines
    if profile:
        defines.append("-DTG_PROFILE=1")
    if built.lto:
        toolchain = dataclasses.replace(
            toolchain, ldflags=tuple(list(toolchain.ldflags) + list(built.lto_link)))
    compiled = _objects(board, opt, built, sources, foreign, build_dir, src_dir,
                        list(toolchain.cflags) + defines, toolchain.cc)
    outputs = {"executable": "firmware"} if board.is_host else {
        "elf": "firmware.elf", "bin": "firmware.bin", "hex": "firmware.hex", "map": "firmware.map"}
    if board.is_host:
        outputs["map"] = "firmware.map"
    sconstruct = build_dir / "SConstruct"
    build_context = dict(
        board=board, bench=bench, mode=mode, opt=opt, toolchain=toolchain,
        cflags=list(toolchain.cflags) + defines,
        includes=[build_relative(i, build_dir) for i in includes],
        objects=compiled.objects, outputs=outputs, version=__version__, cxx=compiled.cxx,
    )
    for template in sorted((templates_dir() / "port" / "build").glob("*.j2")):
        text = render(f"port/build/{template.name}", **build_context)
        (build_dir / template.name[:-3]).write_text(text)
    manifest = write_manifest(build_dir, BuildManifest(
        tinygen=__version__, board=board.name, bench=bench.id, mode=mode, opt=opt, baud=baud,
        model=ModelEntry(path=str(model_path.resolve()), sha256=_sha256(model_path),
                         macros=built.facts.macros()),
        placement=placement.describe() if placement else None,
        tools=_tool_versions(toolchain),
        cflags=list(toolchain.cflags) + defines,
        # Added after cflags for the cold code (harness, platform).
        cold_cflags=FlagSet(flags=compiled.cold, sources=compiled.cold_sources),
        # Added after cflags for the engine (model and kernels), and to the
        # link (ldflags has them): link-time optimization.
        lto_cflags=FlagSet(flags=compiled.lto, sources=compiled.lto_sources),
        ldflags=list(toolchain.ldflags),
        sources=[build_relative(s, build_dir) for s in sources],
        includes=[build_relative(i, build_dir) for i in includes],
        outputs=outputs, runtime=engine.name, engine_details=built.details,
        harness=str(harness_files[1].parent) if harness_files is not None else None,
        stream=entry))
    return GeneratedPort(
        board=board, bench=bench, mode=mode, opt=opt, model_path=model_path,
        build_dir=build_dir, src_dir=src_dir, sources=tuple(sources),
        include_dirs=tuple(includes), toolchain=toolchain, engine=built,
        placement=placement, sconstruct=sconstruct, manifest=manifest, stream=entry,
    )
