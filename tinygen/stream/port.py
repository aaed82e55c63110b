"""The streaming build of a port (sww01).

``tinygen.port.generate.generate_port`` calls ``streaming_sources`` for a
streaming bench: tinygen's per-inference harness (tg_main.c,
internally_implemented.c, the generated submitter_implemented.c) gives way
to firmware/stream/ (main loop, console, features) plus the board's audio
source and pins from firmware/platform/audio/; the feature tables and
tg_stream_config.h are generated into src/. The compiled model is the same
as in every other build. ``generate_stream_port`` is the entry point with
the stream options (a hop log for verify).
"""

from __future__ import annotations

import contextlib
import logging
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import jinja2
import numpy as np

from tinygen.boards import Board
from tinygen.errors import TinygenError
from tinygen.paths import firmware_dir, templates_dir
from tinygen.stream import features as F
from tinygen.stream.pins import config_header

log = logging.getLogger(__name__)

HOP_SECONDS = 0.032


@dataclass(frozen=True)
class StreamOptions:
    """Choices of a streaming build beyond board, model and mode.

    log_hops: keep each hop's features and outputs for `log` (verify);
    features_only: skip the model (measurement builds that time the features);
    incremental: run only the newest row of each layer per hop when the model
    fits the pattern (tinygen.stream.incremental), else the full window.
    """

    log_hops: int = 0
    features_only: bool = False
    incremental: bool = True


# generate_port reaches streaming_sources without these options in its
# signature: they travel in a context variable, set only inside
# stream_options() (so a plain `tinygen build` gets the defaults).
_OPTIONS: ContextVar[StreamOptions] = ContextVar("tinygen_stream_options", default=StreamOptions())


@contextlib.contextmanager
def stream_options(log_hops: int = 0, features_only: bool = False,
                   incremental: bool = True) -> Iterator[StreamOptions]:
    options = StreamOptions(int(log_hops), bool(features_only), bool(incremental))
    token = _OPTIONS.set(options)
    try:
        yield options
    finally:
        _OPTIONS.reset(token)


def hop_budget_cycles(board: Board) -> int:
    """Cycles in one 32 ms hop at the board's clock: every hop must fit in it."""
    return int(round(board.clock_hz * HOP_SECONDS))


def render(template: str, **context) -> str:
    """A templates/stream/ template, with the port's Jinja2 settings."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates_dir() / "stream")),
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                             trim_blocks=True, lstrip_blocks=True)
    return env.get_template(template).render(**context)


def _hex(values: np.ndarray) -> list[str]:
    return [float(v).hex() + "f" for v in np.asarray(values, dtype=np.float32)]


def feature_tables_c() -> str:
    """src/tg_feature_tables.c: the exact float32 tables the Python reference uses."""
    cos, nsin = F.fft_twiddles()
    scos, ssin = F.split_twiddles()
    mel = F.packed_mel()
    tables = [("tg_hamming", _hex(F.hamming_periodic())), ("tg_fft_cos", _hex(cos)),
              ("tg_fft_nsin", _hex(nsin)), ("tg_split_cos", _hex(scos)),
              ("tg_split_sin", _hex(ssin)), ("tg_mel_weight", _hex(mel.weights))]
    indices = [("tg_bitrev", [int(v) for v in F.bit_reverse()]),
               ("tg_mel_start", [int(v) for v in mel.starts]),
               ("tg_mel_length", [int(v) for v in mel.lengths])]
    return render("tg_feature_tables.c.j2", tables=tables, indices=indices)


def input_scale(build_dir: Path | str) -> float:
    """The input scale the firmware quantizes features with (its model.h)."""
    import re
    model_h = Path(build_dir) / "src" / "model.h"
    m = re.search(r"#define TG_MODEL_INPUT_SCALE\s+([-+0-9.eE]+)f?", model_h.read_text()) \
        if model_h.is_file() else None
    if m is None:
        raise TinygenError(f"{model_h} has no TG_MODEL_INPUT_SCALE; rebuild the sww firmware")
    return float(m.group(1))


def audio_source(board: Board) -> Path:
    """The board's audio-source implementation in firmware/platform/audio/."""
    audio = firmware_dir() / "platform" / "audio"
    if board.is_emulated:
        return audio / "tg_audio_semihost.c"
    if board.family == "stm32l4":
        return audio / "tg_audio_sai_stm32l4.c"
    raise TinygenError(f"{board.name} has no audio source for sww in tinygen: the emulated "
                       "boards and the STM32L4 family (SAI) have one")


def _use_incremental(model_c: Path) -> bool:
    """Append the incremental plan to the compiled model if it fits; say which runs."""
    from tinygen.stream.incremental import plan, step_code
    if not model_c.is_file():
        log.warning("sww: full-window inference every hop: the engine wrote no model.c "
                    "(the incremental plan needs tinygen's compiled model)")
        return False
    text = model_c.read_text()
    if "tg_model_stream_step" in text:
        return True
    inc, why = plan(text)
    if inc is None:
        log.warning("sww: full-window inference every hop: %s", why)
        return False
    model_c.write_text(text + step_code(inc))
    log.info("sww: %s", inc.describe())
    return True


def streaming_sources(board: Board, src_dir: Path, sources: list[Path],
                      includes: list[Path]) -> tuple[list[Path], list[Path]]:
    """The port's sources and includes with the streaming firmware in place of the harness."""
    if board.is_host:
        raise TinygenError("sww runs on MCU boards (emulated or real), not on the host board; "
                           "use disco_l475vg_iot01a, mps2_an386 or mps3_an547")
    fw = firmware_dir()
    options = _OPTIONS.get()
    incremental = options.incremental and _use_incremental(src_dir / "model.c")
    (src_dir / "tg_stream_config.h").write_text(
        config_header(board, options.log_hops, options.features_only, incremental))
    tables = src_dir / "tg_feature_tables.c"
    tables.write_text(feature_tables_c())
    dropped = {fw / "harness" / "tg_main.c", fw / "harness" / "internally_implemented.c",
               src_dir / "submitter_implemented.c"}
    kept = [s for s in sources if s not in dropped]
    stream = sorted((fw / "stream").glob("*.c"))
    audio = [audio_source(board), fw / "platform" / "audio" / "tg_stream_pins.c"]
    if tables not in kept:
        kept.append(tables)
    return kept + stream + audio, [*includes, fw / "stream", fw / "platform" / "audio"]


def generate_stream_port(board: Board | str, model_path: Path | str | None = None,
                         mode: str = "performance", opt: str = "O2",
                         out_dir: Path | str | None = None, log_hops: int = 0,
                         incremental: bool = True):
    """generate_port for sww01 with the stream options; returns its GeneratedPort."""
    from tinygen.port.generate import generate_port
    with stream_options(log_hops, incremental=incremental):
        return generate_port(board, "sww01", model_path, mode=mode, opt=opt, out_dir=out_dir)


def build_stream_firmware(board: Board | str, model_path: Path | str | None = None,
                          mode: str = "performance", opt: str = "O2",
                          out_dir: Path | str | None = None, log_hops: int = 0,
                          features_only: bool = False, incremental: bool = True):
    """Generate and compile a streaming build (tinygen.port.build.build_firmware)."""
    from tinygen.port.build import build_firmware
    with stream_options(log_hops, features_only, incremental):
        return build_firmware(board, "sww01", model_path, mode=mode, opt=opt, out_dir=out_dir)
