"""The ahead-of-time engine: the model compiled into C (tinygen.codegen)
and run by tinygen's own kernels (firmware/kernels).

Its compile decisions live here: the kernel target a board's core gets
(kernel_target; the planner, tinygen/plan/variants.py, then settles each
layer's variant and the files the build compiles), link-time optimization
of the model and kernels, and the stack the placement reserves.
"""

from __future__ import annotations

import logging
from pathlib import Path

from tinygen.benches import Benchmark
from tinygen.boards import MEASURED_MODEL_STACK_BYTES, Board, stack_note
from tinygen.codegen import generate_model_sources
from tinygen.paths import firmware_dir
from tinygen.port.engine import Engine, EngineBuild, EngineJob
from tinygen.port.flags import Toolchain, host_vector_kernels, toolchain_for

log = logging.getLogger(__name__)

# Main stack, from a measured high-water mark plus a stated margin. Stack
# painting (tg_startup.c, reported by profiling builds: tinygen profile)
# first measured 600 B for all four benchmarks on mps2_an386 and
# disco_l475vg_iot01a (deepest: the harness printing results); later kernels
# paint up to 768 B on the same cores (vww, boards.py MEASURED_STACK_BYTES),
# still inside this reserve (1,536 B = 2 x 768). Margin STACK_MARGIN_BYTES
# for nested exception frames with FPU state (104 B each, EXCEPTION_STACK_BYTES
# below) and other compilers; tests/compiler/test_stack_high_water.py fails
# if the mark ever eats into the margin. Kernels keep their scratch in the
# arena, not on the stack.
STACK_MEASURED_BYTES = 600
STACK_MARGIN_BYTES = 936
STACK_BYTES = STACK_MEASURED_BYTES + STACK_MARGIN_BYTES
# A committed benchmark model with a mark of its own (boards.py
# MEASURED_MODEL_STACK_BYTES) reserves this many times it, at -O2 (the
# builds the marks were measured on): the 2x of the board-wide figure.
MODEL_STACK_FACTOR = 2
# The most an interrupt adds on top of the thread's stack, which the margin
# is for: SysTick (the lowest priority) with the FPU's extended frame (104 B,
# reserved by lazy stacking once the harness has used the FPU: after the
# first results print, every later inference) and its 8-B push, preempted by
# the console's receive interrupt (a 32-B frame: a handler starts without FPU
# state, and tg_usart_irq's 24-B push), each frame 8-B aligned (up to 4 B).
# A painted mark holds such frames where an interrupt happened to land near
# the thread's deepest point: kws01 on disco_l475vg_iot01a paints 600 B
# (SysTick's 40-B frame without FPU state on the triples pass at 560 B) or
# 672-680 B (its 112 B with FPU state on the results printing at 560 B) by
# the commands run before, on the same image. So a mark is the lowest painted
# over SysTick phases (boards.py), an upper bound of the thread's own depth
# (kws01: 568 B by the image's frames, the printing), and doubling it keeps
# these frames on top free (tests/compiler/test_stack_high_water.py).
EXCEPTION_STACK_BYTES = 104 + 8 + 4 + 32 + 24 + 4

# The inference engine (the model's code and the kernels) is compiled with
# link-time optimization on MCU boards. At link time GCC sees every kernel
# called with the model's constant parameter records and specialises it:
# on kws01 the fully connected, pooling and softmax kernels fold into
# tg_model_invoke and its code shrinks by 2.9 KB (measured on
# disco_l475vg_iot01a). The harness and platform stay outside it: they are
# not in the timed window, keep their -Os, and keep the size report's parts
# exact. One partition: the build does not depend on the number of jobs.
LTO_FLAGS = ("-flto", "-flto-partition=one")
ENGINE_PARTS = ("kernels",)        # folders of the build folder compiled with LTO, with src/model.c


def kernel_target(board: Board, toolchain: Toolchain | None = None) -> str:
    """The kernel target of the board's core (tinygen/plan/variants.py
    TARGETS), from the board file: mve: true the Helium kernels
    (firmware/kernels/mve/, then dsp/), dsp: true the DSP-extension ones
    (firmware/kernels/dsp/); the host the host-vector ones
    (firmware/kernels/host/) when its compiler and flags (toolchain, default
    the -O2 build's) target AVX2; the rest the portable C."""
    if board.is_host:
        tc = toolchain or toolchain_for(board, "O2")
        return "host" if host_vector_kernels(tc.cc, tuple(tc.cflags)) else "portable"
    if not (board.dsp or board.mve):
        return "portable"
    return "mve" if board.mve else "dsp"


def lto_flags(board: Board, opt: str) -> list[str]:
    """Flags for the engine's objects and the link: MCU boards, optimizing
    builds (-O0/-O1 are debugging builds and stay as asked)."""
    if board.is_host or opt not in ("O2", "O3", "Os"):
        return []
    return list(LTO_FLAGS)


def lto_link_flags(lto: list[str], opt: str) -> list[str]:
    """What the link needs to generate the engine's code: the optimization
    level, debug information for the size report's attribution
    (tinygen/port/size.py) and one section per function and object so that
    unused ones are dropped."""
    return [*lto, f"-{opt}", "-g", "-ffunction-sections", "-fdata-sections"] if lto else []


def model_stack_bytes(board: Board, bench: Benchmark, model_path: Path, opt: str,
                      own_harness: bool = True) -> int:
    """The main stack a build reserves: MODEL_STACK_FACTOR times the mark of
    the benchmark's committed model where it was measured on this board
    (the same model file, at -O2, with tinygen's harness), else STACK_BYTES."""
    mark = MEASURED_MODEL_STACK_BYTES.get(board.name, {}).get(bench.id)
    if (mark is None or opt != "O2" or not own_harness
            or not _same_file(model_path, bench.model_path)):
        return STACK_BYTES
    return min(STACK_BYTES, MODEL_STACK_FACTOR * mark)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return Path(a).resolve() == Path(b).resolve() or Path(a).read_bytes() == Path(b).read_bytes()
    except OSError:
        return False


class AotEngine(Engine):
    """--runtime tinygen: the model as C, tinygen's kernels."""

    name = "tinygen"
    usage = "tinygen"

    def prepare(self, job: EngineJob) -> EngineBuild:
        log.info("compiling %s into C", job.model_path)
        model = generate_model_sources(job.model_path, job.src_dir,
                                       layout=kernel_target(job.board, job.toolchain),
                                       streaming=job.stream_step)
        kdir = firmware_dir() / "kernels"
        kernels = [Path(k) if Path(k).is_absolute() else kdir / k for k in model.kernel_sources]
        lto = lto_flags(job.board, job.opt)
        stack = model_stack_bytes(job.board, job.bench, job.model_path, job.opt, job.own_harness)
        return EngineBuild(
            model=model, facts=model.facts, sources=tuple(kernels), stack_bytes=stack,
            # The variant folders' own headers (dsp/, mve/) go with their sources.
            includes=tuple(d for d in model.include_dirs if d.parent == kdir),
            # Measured on the board's emulator, or on the closest emulated core's.
            stack_note=stack_note(job.board, stack, job.bench.id if stack != STACK_BYTES else None),
            # The planner keeps the input alive for the whole inference.
            keeps_input=True,
            lto=tuple(lto), lto_link=tuple(lto_link_flags(lto, job.opt)),
            lto_parts=(job.src_dir / "model.c", *(job.build_dir / p for p in ENGINE_PARTS)),
            stream=model.stream, stream_note=model.stream_note)
