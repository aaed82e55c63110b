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
    <build dir>/build.json    manifest: board, bench, mode, opt, model + sha256,
                              tool versions, sources, flags, outputs

Every ``templates/port/*.j2`` is rendered into ``src/`` (names lose ``.j2``;
``arm_*`` templates are for MCU boards only and lose the prefix, so
``arm_linker.ld.j2`` becomes ``linker.ld``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import re
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

import jinja2

from tinygen import __version__
from tinygen.benches import Benchmark, INPUT_FLOAT32_QUANTIZE, OUTPUT_MSE, get_bench
from tinygen.boards import Board, load_board
from tinygen.errors import TinygenError
from tinygen.paths import firmware_dir, project_root, templates_dir

log = logging.getLogger(__name__)

MODES = ("performance", "energy")
OPTS = ("O2", "Os", "O3", "O1", "O0")
# Main stack, from the measured high-water mark plus a stated margin. Stack
# painting (tg_startup.c, reported by profiling builds: tinygen profile)
# measured 600 B for all four benchmarks on mps2_an386 and
# disco_l475vg_iot01a (deepest: the harness printing results). Margin
# STACK_MARGIN_BYTES (> 1.5x the mark) for nested exception frames with FPU
# state (104 B each) and other compilers; tests/compiler/test_stack_high_water.py
# fails if the mark ever eats into the margin. Kernels keep their scratch
# in the arena, not on the stack.
STACK_MEASURED_BYTES = 600
STACK_MARGIN_BYTES = 936
STACK_BYTES = STACK_MEASURED_BYTES + STACK_MARGIN_BYTES
# TFLM's interpreter and kernels (C++, deeper calls) get their own figure,
# measured the same way (tests/tflm/test_stack_and_layout.py, profiling
# builds on disco_l475vg_iot01a, 1 warm-up + 2 inferences + results):
# reference kernels 964 B (kws, vww, ic) and 612 B (ad); CMSIS-NN 1540 B
# (kws, vww, ic) and 1028 B (ad); mps2_an386 the same (kws reference 964 B).
# Since the harness and platform are compiled -Os (cold code), vww with
# CMSIS-NN on disco measures 1552 B, the figure used here. Margin
# TFLM_STACK_MARGIN_BYTES (two thirds of the mark: more than tinygen's 936 B
# for nested exception frames, plus room for other compilers and -O levels).
TFLM_STACK_MEASURED_BYTES = 1552
TFLM_STACK_MARGIN_BYTES = 1008
TFLM_STACK_BYTES = TFLM_STACK_MEASURED_BYTES + TFLM_STACK_MARGIN_BYTES

ARM_FPU_FLAGS = {
    "none": ["-mfloat-abi=soft"],
    "fpv4-sp-d16": ["-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"],
    "fpv5-sp-d16": ["-mfloat-abi=hard", "-mfpu=fpv5-sp-d16"],
    "fpv5-d16": ["-mfloat-abi=hard", "-mfpu=fpv5-d16"],
}
WARNINGS = ["-std=c99", "-Wall", "-Wextra", "-Werror"]
# The host build runs on the machine that built it (tests, profiling, local
# runs), so its performance opts (-O2, -O3) become -O3 with every instruction
# this CPU has: -march=native lets the vectoriser and the kernels' host SIMD
# paths (firmware/kernels/tg_host_simd.h) use AVX2 or NEON where present.
# A host build copied to an older CPU may stop with "illegal instruction";
# rebuild it there. No floating-point contraction, so float code (quantize,
# dequantize) rounds exactly as without FMA.
HOST_SPEED_FLAGS = ["-O3", "-march=native", "-ffp-contract=off"]
_DEFINE = re.compile(r"^\s*#define\s+(TG_MODEL_\w+)\s+(\S+)", re.M)


@dataclass(frozen=True)
class Toolchain:
    """The compiler and the flags for one board."""

    cc: str
    objcopy: str | None
    cflags: tuple[str, ...]
    ldflags: tuple[str, ...]
    libs: tuple[str, ...]


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
    model: object                      # tinygen.codegen.ModelSources
    model_macros: dict
    placement: object | None           # tinygen.port.memory.Placement on MCU boards
    sconstruct: Path
    manifest: Path

    @property
    def is_host(self) -> bool:
        return self.board.is_host


def default_build_dir(board: Board, bench: Benchmark, mode: str) -> Path:
    return project_root() / "build" / f"{board.name}-{bench.id}-{mode}"


def kernel_defines(board: Board) -> list[str]:
    """Kernel variant flags from the board file: dsp: true selects the
    DSP-extension kernels (firmware/kernels, TG_USE_DSP), mve: true the
    Helium ones (TG_USE_MVE, which also changes the constant layout, see
    kernel_layout); others and the host get the portable C."""
    if board.is_host:
        return []
    return ((["-DTG_USE_DSP=1"] if board.dsp else [])
            + (["-DTG_USE_MVE=1"] if board.mve else []))


def kernel_layout(board: Board) -> str:
    """The planner's constant layout for the kernels kernel_defines selects."""
    if board.is_host or not (board.dsp or board.mve):
        return "portable"
    return "mve" if board.mve else "default"


def toolchain_for(board: Board, opt: str) -> Toolchain:
    common = [f"-{opt}", "-g", "-ffunction-sections", "-fdata-sections", *WARNINGS,
              *kernel_defines(board)]
    if board.is_host:
        speed = HOST_SPEED_FLAGS if opt in ("O2", "O3") else [f"-{opt}"]
        return Toolchain(
            cc="cc", objcopy=None,
            cflags=tuple(speed + common[1:]),
            ldflags=("-Wl,--gc-sections",),
            libs=("m",),
        )
    if board.fpu not in ARM_FPU_FLAGS:
        raise TinygenError(f"board {board.name}: fpu '{board.fpu}' has no ARM compiler flags; "
                           f"use one of {', '.join(ARM_FPU_FLAGS)}")
    arch = [f"-mcpu={arm_mcpu(board)}", "-mthumb", *ARM_FPU_FLAGS[board.fpu]]
    linker_script = (str(board.platform.linker_script)
                     if board.platform and board.platform.linker_script else "src/linker.ld")
    return Toolchain(
        cc="arm-none-eabi-gcc", objcopy="arm-none-eabi-objcopy",
        cflags=tuple(arch + common + ["-fno-common"]),
        ldflags=tuple(arch + ["-nostartfiles", "--specs=nano.specs", "--specs=nosys.specs",
                              "-Wl,--gc-sections", "-T", linker_script]),
        libs=("m",),
    )


# Code that runs outside the timed inference (harness, platform) is compiled
# for size on MCU boards: it is most of the code that is not the model's,
# and -Os there costs no inference time. Its loops stay loops, not calls to
# newlib's large unrolled strlen/memcpy. Kernels, the model and the port's
# submitter_implemented.c keep the chosen -O level: th_pre/th_infer/th_post
# run inside the timed window (vww01's th_post restores 27,648 input bytes;
# a byte loop at -Os there cost 20,600 instructions per inference at N=5).
COLD_OPT_FLAGS = ("-Os", "-fno-tree-loop-distribute-patterns")
COLD_PARTS = ("harness", "platform")


def cold_flags(board: Board, opt: str) -> list[str]:
    """Extra flags for cold code: -Os on MCU boards built at -O2 or -O3
    (a -O0/-O1 build is a debugging build and stays as asked)."""
    return list(COLD_OPT_FLAGS) if not board.is_host and opt in ("O2", "O3") else []


# The inference engine (the model's code and the kernels) is compiled with
# link-time optimization on MCU boards. At link time GCC sees every kernel
# called with the model's constant parameter records and specialises it:
# on kws01 the fully connected, pooling and softmax kernels fold into
# tg_model_invoke and its code shrinks by 2.9 KB (measured on
# disco_l475vg_iot01a). The harness and platform stay outside it: they are
# not in the timed window, keep their -Os, and keep the size report's parts
# exact. One partition: the build does not depend on the number of jobs.
LTO_FLAGS = ("-flto", "-flto-partition=one")
ENGINE_PARTS = ("kernels",)


def lto_flags(board: Board, opt: str, runtime: str = "tinygen") -> list[str]:
    """Flags for the engine's objects and the link: MCU boards, tinygen's
    engine (TFLM comes as a library), optimizing builds (-O0/-O1 are
    debugging builds and stay as asked)."""
    if board.is_host or runtime != "tinygen" or opt not in ("O2", "O3", "Os"):
        return []
    return list(LTO_FLAGS)


def lto_link_flags(lto: list[str], opt: str) -> list[str]:
    """What the link needs to generate the engine's code: the optimization
    level, debug information for the size report's attribution
    (tinygen/port/size.py) and one section per function and object so that
    unused ones are dropped."""
    return [*lto, f"-{opt}", "-g", "-ffunction-sections", "-fdata-sections"] if lto else []


def arm_mcpu(board: Board) -> str:
    """-mcpu with the board's optional extensions switched off when it says
    so: no DSP on a Cortex-M33 (+nodsp), no Helium on a Cortex-M55 (+nomve)."""
    mcpu = board.cpu
    if board.cpu == "cortex-m33" and not board.dsp:
        mcpu += "+nodsp"
    if board.cpu == "cortex-m55" and not board.mve:
        mcpu += "+nomve"
    return mcpu


def platform_sources(board: Board) -> tuple[list[Path], list[Path], list[str]]:
    """(C sources, include folders, -D flags) of the board's platform code:
    firmware/platform/<family>/ plus common/, or the vendor's own files."""
    fw = firmware_dir() / "platform"
    common = fw / "common"
    if board.is_host:
        return sorted((fw / "host").glob("*.c")), [fw, fw / "host"], []
    if board.platform is not None:
        vendor = board.platform
        sources = list(vendor.sources)
        includes = [fw, *vendor.include_dirs]
        if vendor.common:
            sources = sorted(common.glob("*.c")) + sources
            includes.append(common)
        return sources, includes, [shlex.quote(f"-D{d}") for d in vendor.defines]
    family = fw / board.family
    return (sorted(family.glob("*.c")) + sorted(common.glob("*.c")),
            [fw, family, common], [])


def model_macros(model_h: Path) -> dict[str, str]:
    """The TG_MODEL_* defines of a generated model.h."""
    return dict(_DEFINE.findall(model_h.read_text()))


def _int_macro(macros: dict[str, str], name: str, where: Path) -> int:
    try:
        return int(macros[name].rstrip("uUlL"), 0)
    except (KeyError, ValueError) as exc:
        raise TinygenError(f"{where} lacks a numeric {name}; regenerate it with the current compiler") from exc


def check_model_fits_bench(bench: Benchmark, macros: dict[str, str], model_h: Path) -> None:
    elements = _int_macro(macros, "TG_MODEL_INPUT_ELEMENTS", model_h)
    per_element = 4 if bench.input_format == INPUT_FLOAT32_QUANTIZE else 1
    if elements * per_element != bench.input_bytes:
        raise TinygenError(
            f"the model's input has {elements} elements but {bench.id} sends {bench.input_bytes} bytes "
            f"({bench.input_bytes // per_element} elements); pass a model made for {bench.id} "
            f"(input shape {list(bench.input_shape)}) or the matching --bench"
        )
    if bench.output_format == OUTPUT_MSE:
        outputs = _int_macro(macros, "TG_MODEL_OUTPUT_ELEMENTS", model_h)
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


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _kernel_sources(model) -> list[Path]:
    return [Path(k) if Path(k).is_absolute() else firmware_dir() / "kernels" / Path(k).name
            for k in model.kernel_sources]


def _attribute_define(name: str, section: str | None) -> str:
    """A -D flag that survives the shell SCons runs commands through."""
    value = f'__attribute__((section("{section}")))' if section else ""
    return shlex.quote(f"-D{name}={value}")


def _copy_if_changed(source: Path, dest: Path) -> None:
    data = source.read_bytes()
    if not dest.is_file() or dest.read_bytes() != data:
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)


VENDOR_DIR = Path("platform") / "vendor"   # where a vendor's own platform files are copied


def _vendor_copy_dir(folder: Path) -> Path:
    """platform/vendor/<8 hex digits of the original folder>: one per source folder."""
    return VENDOR_DIR / hashlib.sha256(str(folder).encode()).hexdigest()[:8]


def vendor_firmware(build_dir: Path, sources: list[Path], includes: list[Path],
                    extra_files: list[Path] = ()) -> tuple[list[Path], list[Path], list[Path]]:
    """Copy the hand-written C a build uses into the build folder.

    firmware/<part>/... of the checkout becomes <build dir>/<part>/...
    (harness/, platform/, kernels/); a board's own platform code from
    elsewhere (family: external) goes to platform/vendor/<hash>/, one
    folder per original folder, so its includes still resolve. Sources,
    each include folder's headers (not its subfolders) and extra_files
    (e.g. a vendor linker script) are copied; the returned paths point at
    the copies; paths already inside the build folder stay as they are.
    Files are rewritten only when their bytes differ, so rebuilds stay
    incremental.
    """
    fw = firmware_dir().resolve()
    build_dir = Path(build_dir)
    wanted: set[Path] = set()

    def local(path: Path, is_dir: bool = False) -> Path:
        resolved = Path(path).resolve()
        if resolved == build_dir or build_dir in resolved.parents:
            return Path(path)
        try:
            return build_dir / resolved.relative_to(fw)
        except ValueError:
            folder = resolved if is_dir else resolved.parent
            dest = build_dir / _vendor_copy_dir(folder)
            return dest if is_dir else dest / resolved.name

    def copy(source: Path, dest: Path) -> None:
        if dest != Path(source):
            _copy_if_changed(Path(source), dest)
            wanted.add(dest)

    new_includes = []
    for folder in includes:
        dest = local(folder, is_dir=True)
        if dest != Path(folder):
            for header in sorted(Path(folder).glob("*.h")):
                copy(header, dest / header.name)
        new_includes.append(dest)
    new_sources = []
    for source in sources:
        dest = local(source)
        copy(source, dest)
        new_sources.append(dest)
    new_extra = []
    for extra in extra_files:
        dest = local(extra)
        copy(extra, dest)
        new_extra.append(dest)
    for part in sorted(d.name for d in fw.iterdir() if d.is_dir()):
        if (build_dir / part).is_dir():
            for old in sorted((build_dir / part).rglob("*"), reverse=True):
                if old.is_file() and old not in wanted:
                    old.unlink()
                elif old.is_dir() and not any(old.iterdir()):
                    old.rmdir()
    return new_sources, new_includes, new_extra


def vendored_parts() -> tuple[str, ...]:
    """The folders of a build directory that hold copied hand-written C."""
    return tuple(sorted(d.name for d in firmware_dir().iterdir() if d.is_dir()))


def _build_relative(path: Path, build_dir: Path) -> str:
    """A path as the build files name it: relative inside the build folder."""
    try:
        return Path(path).relative_to(build_dir).as_posix()
    except ValueError:
        return str(path)


RUNTIMES = ("tinygen", "tflm")
# The external harness's files inside the build folder: <api>/ is named like
# the official repository's folder, so that its `#include "api/..."` works.
HARNESS_API_DIR = Path("harness_api") / "api"
HARNESS_HEADER = "internally_implemented.h"
HARNESS_SOURCES = ("internally_implemented.cpp", "internally_implemented.cc",
                   "internally_implemented.c")


def external_harness(path: Path | str) -> tuple[Path, Path]:
    """(header, source) of a harness laid out like the official api/ folder."""
    root = Path(path).expanduser().resolve()
    if not root.is_dir():
        raise TinygenError(f"harness folder {root} does not exist; pass --harness DIR laid out "
                           "like the MLPerf Tiny repository's api/ folder")
    header = root / HARNESS_HEADER
    source = next((root / n for n in HARNESS_SOURCES if (root / n).is_file()), None)
    if not header.is_file() or source is None:
        raise TinygenError(f"{root} is not a benchmark harness: it needs {HARNESS_HEADER} and "
                           f"{' or '.join(HARNESS_SOURCES)} (the official api/ folder has them)")
    return header, source


def _cxx_flags(cflags: list[str], board: Board) -> list[str]:
    """The port's C flags for C++ sources (also .c files compiled as C++)."""
    flags = [f for f in cflags if not f.startswith("-std=")]
    flags += ["-x", "c++", "-std=c++17", "-fno-rtti", "-fno-exceptions", "-fno-threadsafe-statics"]
    if not board.is_host:
        flags += ["-fno-unwind-tables", "-fno-asynchronous-unwind-tables"]
    return flags


def generate_port(board: Board | str, bench: Benchmark | str, model_path: Path | str | None = None,
                  mode: str = "performance", opt: str = "O2",
                  out_dir: Path | str | None = None, *, profile: bool = False,
                  runtime: str = "tinygen", tflm: Path | str | None = None,
                  harness: Path | str | None = None, jobs: int | None = None) -> GeneratedPort:
    """Write the build directory for one board, benchmark and mode.

    profile=True makes a profiling build (tinygen profile): the model times
    every operator and th_results prints the sums.
    ``runtime`` "tflm" runs the model on TensorFlow Lite Micro compiled from
    the tree ``tflm`` (tinygen.port.tflm builds and caches the library and
    measures the arena, so this step compiles); ``harness`` replaces
    tinygen's harness with one laid out like the official api/ folder.
    """
    board = load_board(board) if isinstance(board, str) else board
    bench = get_bench(bench) if isinstance(bench, str) else bench
    if mode not in MODES:
        raise TinygenError(f"unknown mode '{mode}'; use performance or energy")
    if opt.lstrip("-") not in OPTS:
        raise TinygenError(f"unknown optimization '{opt}'; use one of {', '.join(OPTS)}")
    opt = opt.lstrip("-")
    if runtime not in RUNTIMES:
        raise TinygenError(f"unknown runtime '{runtime}'; use tinygen or tflm (with --tflm DIR)")
    if tflm is not None and runtime != "tflm":
        raise TinygenError("--tflm DIR is for --runtime tflm; add --runtime tflm")
    harness_files = external_harness(harness) if harness is not None else None
    model_path = Path(model_path) if model_path else bench.model_path
    if not model_path.is_file():
        raise TinygenError(
            f"model {model_path} not found; pass --model PATH to an int8 .tflite for {bench.id}"
            + ("" if model_path != bench.model_path else " (or build the committed models first)")
        )
    build_dir = Path(out_dir) if out_dir else default_build_dir(board, bench, mode)
    if out_dir is None and (runtime != "tinygen" or harness is not None):
        build_dir = build_dir.with_name(build_dir.name + (f"-{runtime}" if runtime != "tinygen" else "")
                                        + ("-harness" if harness is not None else ""))
    build_dir = build_dir.resolve()
    src_dir = build_dir / "src"
    src_dir.mkdir(parents=True, exist_ok=True)
    for stale in src_dir.iterdir():
        if stale.is_file():
            stale.unlink()

    tflm_port = None
    if runtime == "tflm":
        from tinygen.port.tflm import prepare_tflm
        tflm_port = prepare_tflm(board, model_path, src_dir, tflm, toolchain_for(board, opt),
                                 opt, jobs, bench=bench, own_harness=harness is None,
                                 stack_bytes=TFLM_STACK_BYTES)
        model = tflm_port.sources
    else:
        from tinygen.codegen import generate_model_sources

        log.info("compiling %s into C", model_path)
        model = generate_model_sources(model_path, src_dir, layout=kernel_layout(board))
    model_h = src_dir / "model.h"
    macros = model_macros(model_h)
    check_model_fits_bench(bench, macros, model_h)
    arena_bytes = _int_macro(macros, "TG_MODEL_ARENA_BYTES", model_h)

    # The harness's db buffer is storage the port already has: the model's
    # input tensor when the download is its bytes (int8 features, uint8
    # pixels converted in place; the planner keeps the input alive for the
    # whole inference), or the port's float input values (ad01).
    # Only with tinygen's own harness (an external one keeps its own buffer);
    # TFLM's glue keeps the input tensor live through the inference.
    db_in_input = ((runtime == "tinygen" or (tflm_port is not None and tflm_port.keeps_input))
                   and harness is None
                   and (bench.input_format == INPUT_FLOAT32_QUANTIZE or not model.input_is_float))
    placement = None
    if not board.is_host:
        from tinygen.port.memory import DEFAULT_DATA_BYTES, plan_placement
        try:
            # TFLM's split layout keeps its persistent arena in .bss.
            placement = plan_placement(board, arena_bytes, 0 if db_in_input else bench.input_bytes,
                                       STACK_BYTES if tflm_port is None else TFLM_STACK_BYTES,
                                       data_bytes=DEFAULT_DATA_BYTES + (
                                           tflm_port.persistent_bytes if tflm_port else 0))
        except TinygenError as exc:
            if tflm_port is None:
                raise
            raise TinygenError(
                f"TFLM's arena for {model_path.name} does not fit: {exc} (TFLM measured "
                f"{tflm_port.arena['needed']} B needed + {tflm_port.arena['margin']} B margin, "
                f"{tflm_port.layout} layout)") from exc
        log.info("RAM placement: %s", placement.describe())

    baud = board.console.baud_energy if mode == "energy" else board.console.baud_performance
    context = {"board": board, "bench": bench, "mode": mode, "baud": baud, "model": model,
               "placement": placement, "version": __version__, "db_in_input": db_in_input}
    env = _environment()
    for template in sorted((templates_dir() / "port").glob("*.j2")):
        name = template.name[:-3]
        if name.startswith("arm_"):
            if board.is_host:
                continue
            name = name[4:]
        text = env.get_template(f"port/{template.name}").render(**context)
        (src_dir / name).write_text(text)

    fw = firmware_dir()
    plat_sources, plat_includes, plat_defines = platform_sources(board)
    sources = sorted((fw / "harness").glob("*.c")) + plat_sources
    sources += sorted(src_dir.glob("*.c")) + _kernel_sources(model)
    includes = [src_dir, fw / "harness", *plat_includes, fw / "kernels"]
    if tflm_port is not None:
        sources += [src_dir / "tflm_model.cc"]
    if bench.is_streaming:  # sww01: tinygen.stream's firmware replaces the harness
        from tinygen.stream.port import streaming_sources
        sources, includes = streaming_sources(board, src_dir, sources, includes)

    # An external harness replaces tinygen's: its files go to harness_api/api/
    # with the generated submitter_implemented.h beside them (the template one
    # of its folder is not used), found first on the include path.
    foreign: list[Path] = []
    if harness_files is not None:
        api_dir = build_dir / HARNESS_API_DIR
        if api_dir.is_dir():
            for stale in api_dir.iterdir():
                stale.unlink()
        api_dir.mkdir(parents=True, exist_ok=True)
        for f in harness_files:
            _copy_if_changed(f, api_dir / f.name)
        _copy_if_changed(src_dir / "submitter_implemented.h", api_dir / "submitter_implemented.h")
        sources = [s for s in sources if s != fw / "harness" / "internally_implemented.c"]
        foreign = [api_dir / harness_files[1].name]
        sources += foreign
        includes = [api_dir, api_dir.parent] + includes

    toolchain = toolchain_for(board, opt)
    script = board.platform.linker_script if board.platform is not None else None
    sources, includes, copied = vendor_firmware(build_dir, sources, includes,
                                                [script] if script else [])
    if script:
        # The vendor's linker script, named by its copy inside the build folder.
        toolchain = dataclasses.replace(toolchain, ldflags=tuple(
            _build_relative(copied[0], build_dir) if f == str(script) else f
            for f in toolchain.ldflags))
    if harness_files is not None:
        # tg_main.c finds headers beside itself first: it must see the
        # external harness's declarations, not tinygen's.
        (build_dir / "harness" / HARNESS_HEADER).unlink(missing_ok=True)
    vendored = [build_dir / part for part in vendored_parts()]

    defines = [] if board.is_host else [
        _attribute_define("TG_ARENA_ATTR", ".tg_arena"),
        _attribute_define("TG_BUFFER_ATTR", ".tg_buffer"),
    ] + plat_defines
    if profile:
        defines.append("-DTG_PROFILE=1")
    # Which sources are C++: TFLM's glue; with a C++ harness also the C that
    # calls into it (its ee_* functions have C++ linkage, as the official
    # harness declares them), so both sides agree; th_* stay extern "C".
    foreign_cxx = any(f.suffix != ".c" for f in foreign)
    as_cxx = {s for s in sources if s.suffix in (".cc", ".cpp")}
    if foreign_cxx:
        as_cxx |= {s for s in sources if s.name in ("tg_main.c", "submitter_implemented.c")}
    objects, cxx_objects, foreign_objects = [], [], []
    cold = cold_flags(board, opt)
    cold_dirs = [build_dir / part for part in COLD_PARTS]
    cold_sources = []
    lto = lto_flags(board, opt, runtime) if tflm_port is None else []
    engine_dirs = [build_dir / part for part in ENGINE_PARTS]
    lto_sources = []
    if lto:
        toolchain = dataclasses.replace(
            toolchain, ldflags=tuple(list(toolchain.ldflags) + lto_link_flags(lto, opt)))
    for source in sources:
        if source.parent == src_dir:
            rel = Path("obj/src") / source.name
        elif any(part in source.parents for part in vendored):
            rel = Path("obj") / source.relative_to(build_dir)
        else:
            # Vendor platform code from outside the checkout.
            rel = (Path("obj/vendor") / hashlib.sha256(str(source.parent).encode()).hexdigest()[:8]
                   / source.name)
        entry = (rel.with_suffix(".o").as_posix(), _build_relative(source, build_dir))
        if any(source == f for f in foreign):
            foreign_objects.append(entry)
        elif source in as_cxx:
            cxx_objects.append(entry)
        else:
            is_cold = any(part in source.parents for part in cold_dirs)
            is_engine = source == src_dir / "model.c" or any(
                part in source.parents for part in engine_dirs)
            if is_cold and cold:
                cold_sources.append(_build_relative(source, build_dir))
            if is_engine and lto:
                lto_sources.append(_build_relative(source, build_dir))
            objects.append((*entry, cold if is_cold else lto if is_engine else []))
    cxx = None
    if cxx_objects or foreign_objects:
        cflags = list(toolchain.cflags) + defines
        extra = tflm_port.cxx_flags() if tflm_port is not None else []
        cxx_flags = (_cxx_flags(cflags, board) if foreign_cxx or tflm_port else []) + extra
        cxx = {
            "compiler": "c++" if board.is_host else "arm-none-eabi-g++",
            "flags": cxx_flags,
            "objects": cxx_objects,
            # The harness is the user's code, built unchanged: warnings are
            # theirs, not errors of the port.
            "foreign_flags": [f for f in (cxx_flags if foreign_cxx else cflags) if f != "-Werror"],
            "foreign_objects": foreign_objects,
            "foreign_compiler": ("c++" if board.is_host else "arm-none-eabi-g++") if foreign_cxx
            else toolchain.cc,
            "libs": [str(tflm_port.library.library)] if tflm_port is not None else [],
        }

    outputs = {"executable": "firmware"} if board.is_host else {
        "elf": "firmware.elf", "bin": "firmware.bin", "hex": "firmware.hex", "map": "firmware.map"}
    if board.is_host:
        outputs["map"] = "firmware.map"
    sconstruct = build_dir / "SConstruct"
    build_context = dict(
        board=board, bench=bench, mode=mode, opt=opt, toolchain=toolchain,
        cflags=list(toolchain.cflags) + defines,
        includes=[_build_relative(i, build_dir) for i in includes],
        objects=objects, outputs=outputs, version=__version__, cxx=cxx,
    )
    for template in sorted((templates_dir() / "port" / "build").glob("*.j2")):
        text = env.get_template(f"port/build/{template.name}").render(**build_context)
        (build_dir / template.name[:-3]).write_text(text)
    manifest = build_dir / "build.json"
    manifest.write_text(json.dumps({
        "tinygen": __version__,
        "board": board.name,
        "bench": bench.id,
        "mode": mode,
        "opt": opt,
        "baud": baud,
        "model": {"path": str(model_path.resolve()), "sha256": _sha256(model_path),
                  "macros": macros},
        "placement": placement.describe() if placement else None,
        "tools": _tool_versions(toolchain),
        "cflags": list(toolchain.cflags) + defines,
        # Added after cflags for the cold code (harness, platform).
        "cold_cflags": {"flags": cold, "sources": cold_sources},
        # Added after cflags for the engine (model and kernels), and to the
        # link (ldflags has them): link-time optimization.
        "lto_cflags": {"flags": lto, "sources": lto_sources},
        "ldflags": list(toolchain.ldflags),
        "sources": [_build_relative(s, build_dir) for s in sources],
        "includes": [_build_relative(i, build_dir) for i in includes],
        "outputs": outputs,
        "runtime": runtime,
        "tflm": tflm_port.describe() if tflm_port is not None else None,
        "harness": str(harness_files[1].parent) if harness_files is not None else None,
    }, indent=2) + "\n")
    return GeneratedPort(
        board=board, bench=bench, mode=mode, opt=opt, model_path=model_path,
        build_dir=build_dir, src_dir=src_dir, sources=tuple(sources),
        include_dirs=tuple(includes), toolchain=toolchain, model=model, model_macros=macros,
        placement=placement, sconstruct=sconstruct, manifest=manifest,
    )
