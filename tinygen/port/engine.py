"""The engine contract: what runs the model inside the firmware.

An engine turns a .tflite model into code the port compiles and tells the
port what that code needs. tinygen has two (tinygen.port.engines lists
them): the ahead-of-time engine (tinygen.port.aot: the model compiled into
C with tinygen's kernels) and the TFLM glue (tinygen.port.tflm: the model
left as data, run by TensorFlow Lite Micro built from the user's tree).
The port (tinygen.port.generate) knows neither; it asks the chosen engine:

    Engine.defines(board)   -D flags every C file of the port is compiled with
    Engine.prepare(job)     write the engine's sources into src/ and return an
                            EngineBuild: the model's facts, the sources to
                            compile, the stack and .bss figures, the objects
                            compiled with link-time optimization, C++ flags,
                            libraries, what build.json records, and (asked by
                            a streaming build: job.stream_step) the per-hop
                            step it compiled or why not

Adding an engine: a module with an Engine subclass, and an entry in
tinygen.port.engines.ENGINES (docs/architecture.md has the steps).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from tinygen.benches import Benchmark
from tinygen.boards import Board
from tinygen.codegen import ModelSources
from tinygen.codegen.facts import ModelFacts
from tinygen.codegen.tflm_glue import TflmSources
from tinygen.plan import StreamingPlan
from tinygen.port.flags import Toolchain


@dataclass(frozen=True)
class EngineJob:
    """What an engine is asked to prepare: one model for one board and benchmark."""

    board: Board
    bench: Benchmark
    model_path: Path
    build_dir: Path
    src_dir: Path                  # where the engine writes its generated sources
    opt: str                       # O2, Os, ...
    toolchain: Toolchain           # the port's compiler and flags (with Engine.defines)
    jobs: int | None
    own_harness: bool              # tinygen's harness (not an external one)
    stream_step: bool = False      # a streaming build asks for the per-hop step
                                   # (tinygen.plan.streaming) beside the full window


@dataclass(frozen=True)
class EngineBuild:
    """What an engine hands the port for one build."""

    model: ModelSources | TflmSources   # the generator's result
    facts: ModelFacts                   # what model.h states
    sources: tuple[Path, ...]           # compiled after src/*.c (kernels, C++ glue)
    stack_bytes: int                    # main stack the placement reserves
    keeps_input: bool                   # the input tensor stays live: it can be the db buffer
    persistent_bytes: int = 0           # the engine's own .bss beyond the port's data
    includes: tuple[Path, ...] = ()     # include folders of the engine's own (copied with
                                        # their headers into the build folder)
    lto: tuple[str, ...] = ()           # compile flags of the engine's objects (and the link)
    lto_link: tuple[str, ...] = ()      # what the link adds to generate the engine's code
    lto_parts: tuple[Path, ...] = ()    # files or folders of the build folder compiled with lto
    cxx: bool = False                   # the engine's sources are C++: the port sets up C++
    cxx_flags: tuple[str, ...] = ()     # added to the C++ flags (defines, includes)
    libraries: tuple[str, ...] = ()     # static libraries the link adds
    details: dict | None = None         # what build.json records under the engine's name
    stack_note: str = ""                # how stack_bytes was sized (the size report says it)
    arena_name: str = "the arena"       # how errors name the engine's arena
    arena_note: str | None = None       # said when the arena does not fit the board
    stream: StreamingPlan | None = None  # the per-hop step the engine compiled (stream_step)
    stream_note: str = ("the engine compiled no per-hop step "
                        "(the incremental plan needs tinygen's compiled model)")

    def is_lto_source(self, source: Path) -> bool:
        return any(source == part or part in source.parents for part in self.lto_parts)


class Engine(ABC):
    """One way of running the model on the DUT, chosen with --runtime NAME."""

    name: ClassVar[str]                  # --runtime NAME; build.json's "runtime" (and the key
                                         # of its details): not one of the manifest's own keys
    usage: ClassVar[str]                 # how --help and errors name it
    options: ClassVar[tuple[str, ...]] = ()   # engine options it accepts (e.g. "tflm": --tflm DIR)
    build_suffix: ClassVar[str] = ""     # added to the default build folder's name

    @classmethod
    def from_options(cls, **options) -> Engine:
        return cls()

    def defines(self, board: Board) -> list[str]:
        """-D flags for every C source of the port (the port's cflags)."""
        return []

    @abstractmethod
    def prepare(self, job: EngineJob) -> EngineBuild:
        """Write the engine's sources into job.src_dir and say what the build needs."""
