"""Build streaming wakeword test streams: words at known times over background noise.

The official scored stream (``sww_long_test.json``: 1200 s, 50 words) is not
redistributable with tinygen; this builds streams of the same layout from
WAV clips of the wakeword (e.g. the official ``marvin`` clip) so that a run
can be scored end to end:

- the output WAV is 16 kHz, 16-bit, stereo by default (the interface board
  plays stereo I2S; the DUT uses the left channel) with the same samples in
  both channels;
- the background is generated noise (seeded: white plus a low-passed
  rumble, ``noise_dbfs`` RMS), or a background WAV looped under the words;
- each word is a clip placed at a seeded time; its detection window
  ``[t0, t1]`` is where the clip's own audio is above 10 % of its peak
  (20 ms blocks), shifted to where it was placed. Words are at least
  ``min_gap_s`` apart so that no scoring span (``t1 + 2 s``) reaches the
  next word;
- the JSON beside it is the official layout: a list of one
  ``{wav_file, sample_rate, length_sec, detection_windows}``.

The same arguments give the same bytes (numpy's PCG64 with ``seed``).
"""

from __future__ import annotations

import json
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from tinygen.errors import TinygenError

SAMPLE_RATE = 16000
ACTIVE_FRACTION = 0.10       # a block belongs to the word above this fraction of the peak
ACTIVE_BLOCK_S = 0.02
SCORING_SPAN_S = 2.0         # the official scoring adds 2 s to each window's end


@dataclass(frozen=True)
class StreamSpec:
    words: int = 50
    length_s: float | None = None    # default: long enough for the words plus a word-free tail
    first_word_s: float = 1.0
    min_gap_s: float = 3.5           # start-to-start distance at least clip + 2 s scoring span
    mean_gap_s: float = 6.0
    tail_s: float = 3.0              # after the last word (its scoring span fits)
    noise_dbfs: float = -45.0        # background RMS, dB relative to full scale
    word_gain_db: tuple[float, float] = (-3.0, 0.0)
    channels: int = 2
    seed: int = 0


@dataclass(frozen=True)
class Clip:
    name: str
    samples: np.ndarray      # int16, mono (the left channel)
    onset_s: float           # where its word starts and ends within the clip
    offset_s: float


@dataclass
class Stream:
    wav: Path
    json: Path
    length_s: float
    windows: list[list[float]]

    def entry(self) -> dict[str, Any]:
        return stream_entry(self.wav.name, self.length_s, self.windows)


def stream_entry(wav_name: str, length_s: float, windows: Sequence[Sequence[float]]) -> dict:
    return {"wav_file": wav_name, "sample_rate": SAMPLE_RATE, "length_sec": float(length_s),
            "detection_windows": [[float(a), float(b)] for a, b in windows]}


def read_wav(path: Path | str) -> tuple[np.ndarray, int]:
    """Left channel of a 16-bit PCM WAV as int16, and its sample rate."""
    path = Path(path)
    try:
        with wave.open(str(path), "rb") as w:
            if w.getsampwidth() != 2:
                raise TinygenError(f"{path} has {8 * w.getsampwidth()}-bit samples; sww streams "
                                   "are 16-bit PCM: convert it (e.g. sox IN -b 16 OUT)")
            raw = w.readframes(w.getnframes())
            rate, channels = w.getframerate(), w.getnchannels()
    except (OSError, EOFError, wave.Error) as exc:
        raise TinygenError(f"cannot read {path} as a WAV file ({exc}); give a 16 kHz 16-bit "
                           "PCM WAV") from None
    data = np.frombuffer(raw, dtype="<i2").reshape(-1, channels)
    return data[:, 0].copy(), rate


def write_wav(path: Path, mono: np.ndarray, channels: int = 2, rate: int = SAMPLE_RATE) -> None:
    frames = np.repeat(mono.astype("<i2")[:, None], channels, axis=1)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames.tobytes())


def word_span(samples: np.ndarray, rate: int = SAMPLE_RATE) -> tuple[float, float]:
    """Start and end (s) of the audible part of a clip: 20 ms blocks above 10 % of the peak."""
    block = int(rate * ACTIVE_BLOCK_S)
    n = len(samples) // block
    if n == 0:
        raise TinygenError("the clip is shorter than 20 ms; give a clip holding the word")
    peaks = np.abs(samples[:n * block].astype(np.int32)).reshape(n, block).max(axis=1)
    active = np.nonzero(peaks >= ACTIVE_FRACTION * max(1, int(peaks.max())))[0]
    return float(active[0] * block / rate), float((active[-1] + 1) * block / rate)


def load_clip(path: Path | str) -> Clip:
    samples, rate = read_wav(path)
    if rate != SAMPLE_RATE:
        raise TinygenError(f"{path} is sampled at {rate} Hz; sww streams are 16 kHz: resample "
                           "it (e.g. sox IN -r 16000 OUT)")
    if not samples.any():
        raise TinygenError(f"{path} is silent; give a clip holding the wakeword")
    onset, offset = word_span(samples)
    return Clip(Path(path).name, samples, onset, offset)


def background(n: int, spec: StreamSpec, rng: np.random.Generator,
               loop: np.ndarray | None = None) -> np.ndarray:
    """Float background in int16 units: a looped WAV, or white noise plus a rumble."""
    if loop is not None and len(loop):
        reps = -(-n // len(loop))
        return np.tile(loop.astype(np.float64), reps)[:n]
    white = rng.standard_normal(n)
    # A one-pole low-pass of more white noise: the rumble of a room (scipy
    # comes with scikit-learn, a dependency already).
    from scipy.signal import lfilter
    alpha = 0.995
    out = lfilter([1 - alpha], [1, -alpha], rng.standard_normal(n))
    noise = white + out * 10.0
    rms = float(np.sqrt(np.mean(noise ** 2))) or 1.0
    return noise / rms * 32768.0 * 10 ** (spec.noise_dbfs / 20)


def place_words(spec: StreamSpec, clips: Sequence[Clip], rng: np.random.Generator) -> list[float]:
    """Start time of each word's clip, seeded, at least ``min_gap_s`` apart."""
    longest = max(len(c.samples) for c in clips) / SAMPLE_RATE
    gap_floor = max(spec.min_gap_s, longest + SCORING_SPAN_S + 0.1)
    starts = []
    t = spec.first_word_s
    for _ in range(spec.words):
        starts.append(round(t, 4))
        t += gap_floor + rng.exponential(max(spec.mean_gap_s - gap_floor, 0.0))
    return starts


def build_stream(clip_paths: Sequence[Path | str], out_dir: Path | str, name: str,
                 spec: StreamSpec = StreamSpec(), background_wav: Path | str | None = None
                 ) -> Stream:
    """Write ``<out_dir>/<name>.wav`` and ``<out_dir>/<name>.json``; return where the words are."""
    if not clip_paths:
        raise TinygenError("no wakeword clip given; pass --clip WAV (e.g. the official "
                           "marvin clip)")
    if spec.words < 1:
        raise TinygenError("--words must be at least 1")
    if spec.channels not in (1, 2):
        raise TinygenError("--channels must be 1 or 2")
    clips = [load_clip(p) for p in clip_paths]
    rng = np.random.Generator(np.random.PCG64(spec.seed))
    starts = place_words(spec, clips, rng)
    last_clip = clips[(spec.words - 1) % len(clips)]
    needed = starts[-1] + len(last_clip.samples) / SAMPLE_RATE + spec.tail_s
    length = spec.length_s if spec.length_s is not None else float(np.ceil(needed))
    if length < needed:
        raise TinygenError(f"{spec.words} words need a stream of at least {needed:.1f} s; "
                           f"--length {length:g} is too short (or give fewer --words)")
    n = int(round(length * SAMPLE_RATE))
    loop = None
    if background_wav is not None:
        loop, rate = read_wav(background_wav)
        if rate != SAMPLE_RATE:
            raise TinygenError(f"{background_wav} is sampled at {rate} Hz, not 16 kHz")
    mix = background(n, spec, rng, loop)
    windows = []
    for k, start in enumerate(starts):
        clip = clips[k % len(clips)]
        gain = 10 ** (rng.uniform(*spec.word_gain_db) / 20)
        i = int(round(start * SAMPLE_RATE))
        mix[i:i + len(clip.samples)] += clip.samples.astype(np.float64) * gain
        windows.append([round(start + clip.onset_s, 6), round(start + clip.offset_s, 6)])
    pcm = np.clip(np.rint(mix), -32768, 32767).astype(np.int16)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    wav_path = out_dir / f"{name}.wav"
    json_path = out_dir / f"{name}.json"
    write_wav(wav_path, pcm, spec.channels)
    stream = Stream(wav_path, json_path, length, windows)
    json_path.write_text(json.dumps([stream.entry()], indent=2) + "\n", encoding="utf-8")
    return stream


# -- reading a stream dataset -------------------------------------------------

@dataclass
class StreamEntry:
    json: Path
    wav: Path
    sample_rate: int
    length_s: float
    windows: list[list[float]]

    @property
    def words(self) -> int:
        return len(self.windows)

    def to_dict(self) -> dict[str, Any]:
        return {"json": str(self.json), "wav_file": self.wav.name, "sample_rate": self.sample_rate,
                "length_sec": self.length_s, "words": self.words,
                "detection_windows": self.windows}


def load_stream(path: Path | str, name: str | None = None) -> StreamEntry:
    """The stream to play from a dataset: a stream JSON, or a folder (``<dir>`` or
    ``<dir>/sww01``) whose JSON files hold one (``name`` picks it; else the only
    one, or sww_long_test.json). The whole folder is checked first
    (``tinygen.runner.sww_dataset.load_streams``: every JSON, every WAV)."""
    from tinygen.runner.sww_dataset import LONG_TEST, load_streams

    path = Path(path)
    if path.is_file():
        tests = [t for t in load_streams(path.parent) if t.json_path.name == path.name]
        where = str(path)
    else:
        tests = load_streams(path)
        where = str(path)
        if name:
            tests = [t for t in tests if t.json_path.name in (name, name + ".json")]
        elif len(tests) > 1:
            tests = [t for t in tests if t.json_path.name == LONG_TEST] or tests
    if len(tests) != 1:
        names = ", ".join(sorted({t.json_path.name for t in tests})) or "none"
        raise TinygenError(f"{where}: {len(tests)} streams match ({names}); pass one stream "
                           "JSON as --dataset (or keep one stream per folder)")
    t = tests[0]
    return StreamEntry(t.json_path, t.wav_path, t.sample_rate, t.length_sec,
                       [[a, b] for a, b in t.windows])
