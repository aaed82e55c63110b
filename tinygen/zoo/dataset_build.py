"""Build the official ic01, vww01 and ad01 stimuli from the user's source set.

EEMBC publishes these sets as ``y_labels.csv`` only: the file names and
labels of the official stimuli. Each stimulus is converted here from the
user's copy of the source set as the official conversion scripts (MLCommons
tiny, ``benchmark/training/<bench>/``) describe it; the code is tinygen's own.

- ic01 / ic02: CIFAR-10's python test batch. The official names are the
  batch's file names with ``.png`` -> ``.bin``; a stimulus is the image's
  3072 bytes in HWC order (CIFAR stores them planar, R then G then B).
  Byte-identical: integer reordering only.
- vww01: the COCO image of each official id, RGB, resized to 96x96 (no
  aspect ratio kept) with an antialiasing (Lanczos) filter, 27 648 bytes
  HWC. Not byte-identical in general: JPEG decoders and resampling filters
  differ between libraries; from the 96x96 images of the published VWW set
  (vw_coco2014_96) no resize is needed and only the JPEG decoder matters.
- ad01: the log-mel spectrogram of each ToyCar test clip (librosa 0.6's
  defaults, as the official script used them: centred reflect-padded STFT
  with a periodic Hann window, n_fft 1024, hop 512, power 2, 128 Slaney mel
  bands with area normalisation, 10*log10(mel + DBL_EPSILON)), frames 50..249
  stored time-major as float32 little-endian (200 frames x 128 = 102 400
  bytes, 196 windows of 2 560 bytes at a 512-byte stride). Not
  byte-identical: float rounding differs from librosa's in the last bits.
"""

from __future__ import annotations

import logging
import pickle
import re
import sys
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tinygen.benches import Benchmark
from tinygen.errors import TinygenError
from tinygen.zoo.datasets import LABELS_FILE, FileProgress, label_rows, official_set

log = logging.getLogger(__name__)

CIFAR_TEST_BATCH = "test_batch"

# ad01's log-mel settings (the DCASE 2020 task 2 baseline's, as MLPerf Tiny uses them).
AD_SAMPLE_RATE = 16_000
AD_N_FFT = 1024
AD_HOP = 512
AD_MELS = 128
AD_POWER = 2.0
AD_FIRST_FRAME, AD_END_FRAME = 50, 250


@dataclass
class BuildReport:
    folder: Path
    files: int
    exact: bool            # byte-identical to the official conversion
    note: str


def build_dataset(bench: Benchmark, source: Path, labels: Path, out_root: Path) -> BuildReport:
    """Convert the stimuli ``labels`` (the official y_labels.csv) names from ``source``."""
    builders = {"ic01": _build_cifar, "ic02": _build_cifar, "vww01": _build_vww, "ad01": _build_ad}
    official_set(bench)   # a bench without an EEMBC set is refused by name
    if bench.id not in builders:
        raise TinygenError(f"{bench.id}'s stimuli are published: get them with "
                           f"'tinygen dataset fetch --bench {bench.short}'")
    source = Path(source).expanduser()
    if not source.exists():
        raise TinygenError(f"source {source} does not exist; give --source the folder or file "
                           "of your copy of the source set")
    rows = label_rows(labels)
    if not rows:
        raise TinygenError(f"{labels} lists no stimuli; fetch the official {LABELS_FILE} again")
    folder = Path(out_root) / bench.id
    folder.mkdir(parents=True, exist_ok=True)
    report = builders[bench.id](bench, source, rows, folder)
    # The official labels, as published (the vww01 file's spacing included).
    target = folder / LABELS_FILE
    if Path(labels).resolve() != target.resolve():
        target.write_bytes(Path(labels).read_bytes())
    return report


# -- ic01: CIFAR-10 -----------------------------------------------------------

def read_cifar_test_batch(source: Path) -> tuple[np.ndarray, list[str], list[int]]:
    """(images N x 3072 planar uint8, file names, labels) of the python test batch.

    The batch is a Python pickle, as CIFAR-10 distributes it: only open a copy
    you downloaded from the CIFAR-10 site yourself.
    """
    path = source / CIFAR_TEST_BATCH if source.is_dir() else source
    if source.is_dir() and not path.is_file():
        found = sorted(source.rglob(CIFAR_TEST_BATCH))
        if not found:
            raise TinygenError(f"no {CIFAR_TEST_BATCH} under {source}; give --source the "
                               "cifar-10-batches-py folder of CIFAR-10's python version")
        path = found[0]
    try:
        with open(path, "rb") as f:
            batch = pickle.load(f, encoding="bytes")
        data = np.asarray(batch[b"data"], dtype=np.uint8)
        names = [n.decode() if isinstance(n, bytes) else str(n) for n in batch[b"filenames"]]
        labels = [int(x) for x in batch[b"labels"]]
    except (OSError, pickle.UnpicklingError, KeyError, TypeError, ValueError, EOFError) as exc:
        raise TinygenError(f"{path} is not CIFAR-10's python test batch ({type(exc).__name__}); "
                           "give the test_batch file of cifar-10-python.tar.gz") from None
    if data.ndim != 2 or data.shape[1] != 3072 or len(names) != len(data) or not len(data):
        raise TinygenError(f"{path} does not hold 32x32x3 images; give CIFAR-10's test_batch")
    return data, names, labels


def cifar_hwc(planar: np.ndarray) -> bytes:
    """3072 planar bytes (1024 R, 1024 G, 1024 B) -> row-major HWC RGB."""
    return planar.reshape(3, 32, 32).transpose(1, 2, 0).tobytes()


def _build_cifar(bench, source, rows, folder) -> BuildReport:
    data, names, labels = read_cifar_test_batch(source)
    index = {re.sub(r"\.png$", ".bin", n): i for i, n in enumerate(names)}
    missing = [r[0] for r in rows if r[0] not in index]
    if missing:
        raise TinygenError(f"{len(missing)} official stimuli are not in the test batch "
                           f"(first {missing[0]}); give CIFAR-10's own test_batch")
    progress = FileProgress(bench.id, len(rows))
    for n, row in enumerate(rows, start=1):
        i = index[row[0]]
        if len(row) >= 3 and row[2].isdigit() and int(row[2]) != labels[i]:
            raise TinygenError(f"{row[0]} is class {labels[i]} in the test batch, "
                               f"{row[2]} in {LABELS_FILE}: the two do not belong together")
        (folder / row[0]).write_bytes(cifar_hwc(data[i]))
        progress.step(n)
    return BuildReport(folder, len(rows), True, "byte-identical (pixels reordered to HWC)")


# -- vww01: COCO person / no person ------------------------------------------

VWW_SIDE = 96


def _coco_id(name: str) -> str | None:
    match = re.search(r"(\d{12})", name)
    return match.group(1) if match else None


def vww_bytes(image_path: Path) -> bytes:
    """An image as the official vww01 stimulus: RGB, 96x96 (antialiased), HWC."""
    from PIL import Image

    try:
        with Image.open(image_path) as im:
            im = im.convert("RGB")
            if im.size != (VWW_SIDE, VWW_SIDE):
                im = im.resize((VWW_SIDE, VWW_SIDE), Image.Resampling.LANCZOS)
            return im.tobytes()
    except OSError as exc:
        raise TinygenError(f"cannot read image {image_path}: {exc}; check the source set") from None


def _build_vww(bench, source, rows, folder) -> BuildReport:
    images: dict[str, Path] = {}
    for path in source.rglob("*") if source.is_dir() else [source]:
        if path.suffix.lower() in (".jpg", ".jpeg", ".png") and path.is_file():
            key = _coco_id(path.name)
            if key:
                images.setdefault(key, path)
    missing = [r[0] for r in rows if _coco_id(r[0]) not in images]
    if missing:
        raise TinygenError(f"{len(missing)} of the {len(rows)} official images are not under "
                           f"{source} (first COCO id {_coco_id(missing[0])}); give --source your "
                           "copy of the COCO 2014 / Visual Wake Words images")
    progress = FileProgress(bench.id, len(rows))
    for n, row in enumerate(rows, start=1):
        path = images[_coco_id(row[0])]
        (folder / row[0]).write_bytes(vww_bytes(path))
        progress.step(n)
    return BuildReport(folder, len(rows), False,
                       "not byte-identical in general: JPEG decoding and the resize filter "
                       "differ between libraries (Pillow here)")


# -- ad01: ToyADMOS car -------------------------------------------------------

def read_wav_mono(path: Path) -> tuple[np.ndarray, int]:
    """16-bit PCM samples as float32 in [-1, 1) (librosa's scaling), and the rate."""
    try:
        with wave.open(str(path), "rb") as w:
            rate, channels, width = w.getframerate(), w.getnchannels(), w.getsampwidth()
            frames = w.readframes(w.getnframes())
    except (OSError, wave.Error, EOFError) as exc:
        raise TinygenError(f"cannot read {path} as a WAV file ({exc}); check the source set") from None
    if width != 2:
        raise TinygenError(f"{path} has {8 * width}-bit samples; ToyADMOS clips are 16-bit PCM")
    samples = np.frombuffer(frames, dtype="<i2").astype(np.float32) / 32768.0
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1, dtype=np.float32)
    return samples, rate


def _hz_to_mel(hz: np.ndarray) -> np.ndarray:
    """Slaney's mel scale: linear below 1 kHz (200/3 Hz per mel), logarithmic above."""
    hz = np.asarray(hz, dtype=np.float64)
    step, knee_hz, knee_mel = 200.0 / 3, 1000.0, 15.0
    log_step = np.log(6.4) / 27.0
    mel = hz / step
    above = hz >= knee_hz
    mel[above] = knee_mel + np.log(hz[above] / knee_hz) / log_step
    return mel


def _mel_to_hz(mel: np.ndarray) -> np.ndarray:
    mel = np.asarray(mel, dtype=np.float64)
    step, knee_hz, knee_mel = 200.0 / 3, 1000.0, 15.0
    log_step = np.log(6.4) / 27.0
    hz = mel * step
    above = mel >= knee_mel
    hz[above] = knee_hz * np.exp(log_step * (mel[above] - knee_mel))
    return hz


def mel_filterbank(rate: int, n_fft: int, n_mels: int) -> np.ndarray:
    """Triangular Slaney mel filters (n_mels x n_fft/2+1), each of unit area."""
    bins = np.linspace(0.0, rate / 2.0, 1 + n_fft // 2)
    edges = _mel_to_hz(np.linspace(_hz_to_mel(np.array([0.0]))[0],
                                   _hz_to_mel(np.array([rate / 2.0]))[0], n_mels + 2))
    widths = np.diff(edges)
    filters = np.zeros((n_mels, bins.size))
    for m in range(n_mels):
        rising = (bins - edges[m]) / widths[m]
        falling = (edges[m + 2] - bins) / widths[m + 1]
        filters[m] = np.maximum(0.0, np.minimum(rising, falling))
    filters *= (2.0 / (edges[2:n_mels + 2] - edges[:n_mels]))[:, None]
    return filters


def log_mel_spectrogram(samples: np.ndarray, rate: int) -> np.ndarray:
    """ad01's log-mel spectrogram (mels x frames), float64."""
    pad = AD_N_FFT // 2
    if samples.size <= pad:
        raise TinygenError("a clip shorter than half an FFT frame has no spectrogram")
    padded = np.pad(samples, pad, mode="reflect")
    count = 1 + (padded.size - AD_N_FFT) // AD_HOP
    # Periodic Hann window (the FFT convention).
    window = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(AD_N_FFT) / AD_N_FFT)
    starts = np.arange(count) * AD_HOP
    frames = padded[starts[:, None] + np.arange(AD_N_FFT)[None, :]]
    spectrum = np.fft.rfft(frames * window, axis=1).astype(np.complex64)
    power = (np.abs(spectrum) ** AD_POWER).astype(np.float32)
    mel = mel_filterbank(rate, AD_N_FFT, AD_MELS) @ power.T
    return 20.0 / AD_POWER * np.log10(mel + sys.float_info.epsilon)


def ad01_bytes(wav_path: Path) -> bytes:
    samples, rate = read_wav_mono(wav_path)
    if rate != AD_SAMPLE_RATE:
        raise TinygenError(f"{wav_path} is sampled at {rate} Hz; ToyADMOS car clips are "
                           f"{AD_SAMPLE_RATE} Hz")
    spec = log_mel_spectrogram(samples, rate)
    if spec.shape[1] < AD_END_FRAME:
        raise TinygenError(f"{wav_path} gives {spec.shape[1]} spectrogram frames; the official "
                           f"conversion takes frames {AD_FIRST_FRAME}..{AD_END_FRAME - 1} "
                           f"(a clip of at least {AD_END_FRAME * AD_HOP / rate:g} s)")
    central = spec[:, AD_FIRST_FRAME:AD_END_FRAME]
    return central.T.astype("<f4").tobytes()


def _wav_name(bin_name: str) -> str:
    return re.sub(r"(_hist_librosa)?\.bin$", "", bin_name) + ".wav"


def _build_ad(bench, source, rows, folder) -> BuildReport:
    clips: dict[str, Path] = {}
    for path in source.rglob("*.wav") if source.is_dir() else [source]:
        clips.setdefault(path.name, path)
    missing = [r[0] for r in rows if _wav_name(r[0]) not in clips]
    if missing:
        raise TinygenError(f"{len(missing)} of the {len(rows)} official clips are not under "
                           f"{source} (first {_wav_name(missing[0])}); give --source your copy "
                           "of ToyADMOS car (the ToyCar test clips)")
    progress = FileProgress(bench.id, len(rows))
    for n, row in enumerate(rows, start=1):
        (folder / row[0]).write_bytes(ad01_bytes(clips[_wav_name(row[0])]))
        progress.step(n)
    return BuildReport(folder, len(rows), False,
                       "not byte-identical: float spectrogram, rounding differs from "
                       "librosa's in the last bits")
