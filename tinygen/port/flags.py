"""The port's compiler and flags for one board: architecture, warnings,
optimization, and the -Os of cold code. Engine-specific flags (kernel
variants, link-time optimization) come from the engine (tinygen.port.engine)."""

from __future__ import annotations

import functools
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass

from tinygen.boards import Board
from tinygen.errors import TinygenError

ARM_FPU_FLAGS = {
    "none": ["-mfloat-abi=soft"],
    "fpv4-sp-d16": ["-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"],
    "fpv5-sp-d16": ["-mfloat-abi=hard", "-mfpu=fpv5-sp-d16"],
    "fpv5-d16": ["-mfloat-abi=hard", "-mfpu=fpv5-d16"],
}
WARNINGS = ["-std=c99", "-Wall", "-Wextra", "-Werror"]
# The host build runs on the machine that built it (tests, profiling, local
# runs), so its performance opts (-O2, -O3) become -O3 with every instruction
# this CPU has: -march=native lets the vectoriser use AVX2 or NEON where
# present, and with AVX2 the plan picks the host-vector kernels
# (firmware/kernels/host/, host_vector_kernels below).
# A host build copied to an older CPU may stop with "illegal instruction";
# rebuild it there. No floating-point contraction, so float code (quantize,
# dequantize) rounds exactly as without FMA.
HOST_SPEED_FLAGS = ["-O3", "-march=native", "-ffp-contract=off"]


@dataclass(frozen=True)
class Toolchain:
    """The compiler and the flags for one board."""

    cc: str
    objcopy: str | None
    cflags: tuple[str, ...]
    ldflags: tuple[str, ...]
    libs: tuple[str, ...]


@functools.lru_cache(maxsize=8)
def host_vector_kernels(cc: str, cflags: tuple[str, ...]) -> bool:
    """Whether cc with cflags targets AVX2 and compiles the vector
    extensions firmware/kernels/host/ is written with (clang, or GCC 12 or
    later): only then are those loops faster than the portable C (without
    AVX2 their 32-byte vectors are lowered piecewise and ran several times
    slower, measured with SSE2 and x86-64-v2). The compiler's own predefined
    macros say so; a compiler that cannot be asked gets the portable C."""
    try:
        done = subprocess.run([cc, *cflags, "-dM", "-E", "-x", "c", "/dev/null"],
                              capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return False
    macros = dict(line.split(" ", 2)[1:] for line in done.stdout.splitlines()
                  if line.startswith("#define ") and line.count(" ") >= 2)
    if done.returncode != 0 or macros.get("__AVX2__") != "1":
        return False
    return "__clang__" in macros or int(macros.get("__GNUC__", "0")) >= 12


def arm_mcpu(board: Board) -> str:
    """The -mcpu/-march value of the board's core (tinygen/chips.py's core
    table: +nodsp on a Cortex-M33 without DSP, +nomve on an M55 without
    Helium, -march for cores GCC 12 cannot name)."""
    return board.gcc_core_flags()[0].split("=", 1)[1]


def toolchain_for(board: Board, opt: str, defines: Sequence[str] = ()) -> Toolchain:
    """The board's compiler and flags at -<opt>; defines (the engine's) end the common flags."""
    common = [f"-{opt}", "-g", "-ffunction-sections", "-fdata-sections", *WARNINGS, *defines]
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
    arch = [*board.gcc_core_flags(), "-mthumb", *ARM_FPU_FLAGS[board.fpu]]
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


def cxx_flags(cflags: list[str], board: Board) -> list[str]:
    """The port's C flags for C++ sources (also .c files compiled as C++)."""
    flags = [f for f in cflags if not f.startswith("-std=")]
    flags += ["-x", "c++", "-std=c++17", "-fno-rtti", "-fno-exceptions", "-fno-threadsafe-statics"]
    if not board.is_host:
        flags += ["-fno-unwind-tables", "-fno-asynchronous-unwind-tables"]
    return flags
