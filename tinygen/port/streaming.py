"""The streaming build of a port (sww01): what generate_port changes for it.

tinygen's per-inference harness (tg_main.c, internally_implemented.c, the
generated submitter_implemented.c) gives way to firmware/stream/ (main
loop, console, features) plus the board's audio source and pins from
firmware/platform/audio/; the feature tables and tg_stream_config.h are
generated into src/. The compiled model is the same as in every other
build, with the per-hop step (tinygen.plan.streaming) when the engine
compiled one.

The choices of a streaming build travel as one typed value, StreamOptions,
from build_firmware / generate_port to the engine (EngineJob.stream_step)
and here; build.json records them (tinygen.port.manifest.StreamEntry).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tinygen.boards import Board
from tinygen.errors import TinygenError
from tinygen.paths import firmware_dir
from tinygen.plan import StreamingPlan
from tinygen.plan import sww_features as F
from tinygen.port.manifest import StreamEntry
from tinygen.port.sww_pins import config_header
from tinygen.render import render

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StreamOptions:
    """Choices of a streaming build beyond board, model and mode.

    log_hops: keep each hop's features and outputs for `log` (verify);
    features_only: skip the model (measurement builds that time the features);
    incremental: run only the newest row of each layer per hop when the model
    fits the pattern (tinygen.plan.streaming), else the full window.
    """

    log_hops: int = 0
    features_only: bool = False
    incremental: bool = True


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
    return render("stream/tg_feature_tables.c.j2", tables=tables, indices=indices)


def audio_source(board: Board) -> Path:
    """The board's audio-source implementation in firmware/platform/audio/."""
    audio = firmware_dir() / "platform" / "audio"
    if board.is_emulated:
        return audio / "tg_audio_semihost.c"
    if board.family == "stm32l4":
        return audio / "tg_audio_sai_stm32l4.c"
    raise TinygenError(f"{board.name} has no audio source for sww in tinygen: the emulated "
                       "boards and the STM32L4 family (SAI) have one")


def check_streaming_board(board: Board) -> None:
    if board.is_host:
        raise TinygenError("sww runs on MCU boards (emulated or real), not on the host board; "
                           "use disco_l475vg_iot01a, mps2_an386 or mps3_an547")


def stream_entry(options: StreamOptions, step: StreamingPlan | None, note: str,
                 full_macs: int) -> StreamEntry:
    """What build.json records about a streaming build; logs which inference runs."""
    if options.incremental and step is not None:
        log.info("sww: %s", step.describe())
        return StreamEntry(log_hops=options.log_hops, features_only=options.features_only,
                           incremental=True, plan=step.describe())
    why = note if options.incremental else "the incremental plan was turned off"
    if options.incremental:
        log.warning("sww: full-window inference every hop: %s", why)
    return StreamEntry(log_hops=options.log_hops, features_only=options.features_only,
                       incremental=False,
                       plan=f"full-window inference every hop ({full_macs:,} MACs)", note=why)


def streaming_sources(board: Board, src_dir: Path, sources: list[Path], includes: list[Path],
                      entry: StreamEntry) -> tuple[list[Path], list[Path]]:
    """The port's sources and includes with the streaming firmware in place of the harness."""
    fw = firmware_dir()
    (src_dir / "tg_stream_config.h").write_text(
        config_header(board, entry.log_hops, entry.features_only, entry.incremental))
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
