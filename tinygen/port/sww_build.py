"""Building the streaming firmware (sww01) from Python.

The port itself is generate_port's (tinygen.port.streaming says what a
streaming build changes); this module is the entry point with the stream
options as typed parameters (a hop log for verify, features only, the
incremental plan), and the figures the later stages read back from a
build: the hop budget, the per-hop inference and the firmware's input scale.
"""

from __future__ import annotations

from pathlib import Path

from tinygen.boards import Board
from tinygen.errors import TinygenError
from tinygen.port.build import BuildResult, build_firmware
from tinygen.port.generate import GeneratedPort, generate_port
from tinygen.port.manifest import has_manifest, read_manifest
from tinygen.port.streaming import StreamOptions, audio_source, feature_tables_c

__all__ = ["HOP_SECONDS", "StreamOptions", "audio_source", "build_stream_firmware",
           "feature_tables_c", "generate_stream_port", "hop_budget_cycles", "inference_plan",
           "input_scale"]

HOP_SECONDS = 0.032


def hop_budget_cycles(board: Board) -> int:
    """Cycles in one 32 ms hop at the board's clock: every hop must fit in it."""
    return int(round(board.clock_hz * HOP_SECONDS))


def inference_plan(build_dir: Path) -> str:
    """Which inference a streaming build runs per hop, as its build.json records it."""
    if not has_manifest(build_dir):
        return "inference plan unknown (no build.json)"
    stream = read_manifest(build_dir).stream
    return stream.plan if stream is not None else "inference plan unknown (not a streaming build)"


def input_scale(build_dir: Path | str) -> float:
    """The input scale the firmware quantizes features with (its model.h, as build.json records it)."""
    value = read_manifest(build_dir).model.macros.get("TG_MODEL_INPUT_SCALE")
    if value is None:
        raise TinygenError(f"{build_dir}/build.json records no TG_MODEL_INPUT_SCALE; "
                           "rebuild the sww firmware")
    return float(value.rstrip("fF"))


def generate_stream_port(board: Board | str, model_path: Path | str | None = None,
                         mode: str = "performance", opt: str = "O2",
                         out_dir: Path | str | None = None, log_hops: int = 0,
                         incremental: bool = True) -> GeneratedPort:
    """generate_port for sww01 with the stream options; returns its GeneratedPort."""
    return generate_port(board, "sww01", model_path, mode=mode, opt=opt, out_dir=out_dir,
                         stream=StreamOptions(int(log_hops), False, bool(incremental)))


def build_stream_firmware(board: Board | str, model_path: Path | str | None = None,
                          mode: str = "performance", opt: str = "O2",
                          out_dir: Path | str | None = None, log_hops: int = 0,
                          features_only: bool = False, incremental: bool = True) -> BuildResult:
    """Generate and compile a streaming build (tinygen.port.build.build_firmware)."""
    return build_firmware(board, "sww01", model_path, mode=mode, opt=opt, out_dir=out_dir,
                          stream=StreamOptions(int(log_hops), bool(features_only),
                                               bool(incremental)))
