"""Datasets in the EEMBC runner layout, validated before any long run.

Layout (shared docs, facts section 5): a folder per model id (``kws01/``)
holding the stimulus ``.bin`` files and ``y_labels.csv``; the folder given
may be the parent of that folder or the folder itself. Rows are

- classifiers: ``file,number_of_classes,true_class``
- ad01: ``file,2,label,window_bytes,stride_bytes`` (label 0 normal,
  1 anomaly); each file is cut into sliding windows, one inference each,
  and the file's score is the mean of its window scores.
"""

from __future__ import annotations

import csv
import errno
import logging
import os
import re
import stat
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tinygen.benches import INPUT_FLOAT32_QUANTIZE, METRIC_AUC, Benchmark
from tinygen.errors import TinygenError
from tinygen.text import printable

log = logging.getLogger(__name__)

LABELS_FILE = "y_labels.csv"
MAX_REPORTED_PROBLEMS = 5
# The official sets have a few thousand rows; far more is not a labels file.
MAX_LABELS_BYTES = 16 << 20
_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]+")


@dataclass(frozen=True)
class Stimulus:
    """One inference's input: the bytes downloaded with ``db``."""

    name: str              # file name, with #window for ad01 windows
    file: str              # the stimulus file it came from
    window: int            # window index inside the file (0 for classifiers)
    label: int | None      # true class, or 0/1 normal/anomaly; None when unknown
    data: bytes


@dataclass(frozen=True)
class DatasetFile:
    name: str
    path: Path
    label: int
    windows: int
    window_bytes: int
    stride_bytes: int

    def stimuli(self, first_only: bool = False) -> list[Stimulus]:
        data = self.path.read_bytes()
        count = 1 if first_only else self.windows
        out = []
        for w in range(count):
            chunk = data[w * self.stride_bytes: w * self.stride_bytes + self.window_bytes]
            name = f"{self.name}#{w}" if self.windows > 1 else self.name
            out.append(Stimulus(name, self.name, w, self.label, chunk))
        return out


@dataclass(frozen=True)
class Dataset:
    bench: Benchmark
    folder: Path
    files: tuple[DatasetFile, ...]

    @property
    def windows(self) -> int:
        return sum(f.windows for f in self.files)

    def accuracy_stimuli(self) -> list[Stimulus]:
        return [s for f in self.files for s in f.stimuli()]

    def performance_stimuli(self, count: int = 5) -> list[Stimulus]:
        """The first ``count`` files (ad01: the first window of each)."""
        return [f.stimuli(first_only=True)[0] for f in self.files[:count]]


def dataset_folder(bench: Benchmark, folder: Path) -> Path:
    """``folder/<model id>`` if it holds the labels, else ``folder`` itself."""
    folder = Path(folder)
    if not folder.is_dir():
        raise TinygenError(f"dataset folder {folder} does not exist; pass --dataset with the "
                           f"folder holding {bench.id}/{LABELS_FILE}")
    for candidate in (folder / bench.id, folder):
        if (candidate / LABELS_FILE).is_file():
            return candidate
        if os.path.lexists(candidate / LABELS_FILE):
            raise TinygenError(f"{candidate / LABELS_FILE} {_not_a_file(candidate / LABELS_FILE)}; "
                               "write the labels as a regular UTF-8 text file")
    raise TinygenError(
        f"no {LABELS_FILE} in {folder} or {folder / bench.id}; a dataset folder holds the "
        f"stimulus .bin files and {LABELS_FILE} (EEMBC runner layout)")


def load_dataset(bench: Benchmark, folder: Path) -> Dataset:
    """Read and check the whole dataset; one error listing its problems."""
    folder = dataset_folder(bench, folder)
    labels = folder / LABELS_FILE
    problems: list[str] = []
    files: list[DatasetFile] = []
    seen: set[str] = set()
    try:
        if labels.stat().st_size > MAX_LABELS_BYTES:
            raise TinygenError(f"{labels} is larger than {MAX_LABELS_BYTES >> 20} MiB: not a "
                               f"labels file; give the dataset's {LABELS_FILE}")
        text = labels.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise TinygenError(f"cannot read {labels}: {printable(str(exc))}; write it as UTF-8 "
                           "text") from exc
    for lineno, line in enumerate(text.splitlines(), start=1):
        try:
            row = next(csv.reader([line]), [])
        except csv.Error as exc:      # a field past the csv module's limit, a NUL byte
            problems.append(f"line {lineno}: not a CSV row ({printable(str(exc))})")
            continue
        if not row or all(not c.strip() for c in row):
            continue
        row = [c.strip() for c in row]
        try:
            entry = _parse_row(bench, folder, row)
        except ValueError as exc:
            problems.append(f"line {lineno}: {exc}")
            continue
        if entry.name in seen:
            problems.append(f"line {lineno}: {entry.name} is listed twice")
            continue
        seen.add(entry.name)
        files.append(entry)
    if not files and not problems:
        problems.append("no stimuli listed")
    if problems:
        shown = problems[:MAX_REPORTED_PROBLEMS]
        more = len(problems) - len(shown)
        raise TinygenError(
            f"dataset {labels} has {len(problems)} problem{'s' if len(problems) > 1 else ''}: "
            + "; ".join(shown) + (f"; and {more} more" if more > 0 else "")
            + "; fix the file (see tinygen run --help for the format)")
    log.info("dataset %s: %d files, %d inferences", folder, len(files), sum(f.windows for f in files))
    return Dataset(bench, folder, tuple(files))


def _int(text: str, what: str) -> int:
    # ASCII digits only: int() also takes other scripts' digits and "1_2".
    if not _WHOLE_NUMBER.fullmatch(text) or len(text) > 12:
        raise ValueError(f"{what} {printable(text, 20)!r} is not a whole number")
    return int(text)


def _not_a_file(path: Path) -> str:
    """Why a path that is listed is not a stimulus file, in a few words."""
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "is a symbolic link loop"
        if os.path.islink(path):
            return "is a symbolic link to nothing"
        return "does not exist" if exc.errno == errno.ENOENT else f"cannot be read ({exc.strerror})"
    for test, what in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return f"is {what}, not a regular file"
    return "is not a regular file"


def _parse_row(bench: Benchmark, folder: Path, row: list[str]) -> DatasetFile:
    if bench.metric == METRIC_AUC:
        if len(row) != 5:
            raise ValueError(f"expected 5 fields file,2,label,window_bytes,stride_bytes, got {len(row)}")
        name, classes, label, window, stride = row
        if _int(classes, "number of classes") != 2:
            raise ValueError(f"number of classes must be 2 for {bench.id}, got {classes}")
        label = _int(label, "label")
        if label not in (0, 1):
            raise ValueError(f"label must be 0 (normal) or 1 (anomaly), got {label}")
        window = _int(window, "window_bytes")
        stride = _int(stride, "stride_bytes")
        if window != bench.input_bytes:
            raise ValueError(f"window_bytes must be {bench.input_bytes} for {bench.id}, got {window}")
        if stride <= 0 or stride % 4:
            raise ValueError(f"stride_bytes must be a positive multiple of 4, got {stride}")
    else:
        if len(row) != 3:
            raise ValueError(f"expected 3 fields file,number_of_classes,true_class, got {len(row)}")
        name, classes, label = row
        if _int(classes, "number of classes") != bench.classes:
            raise ValueError(f"number of classes must be {bench.classes} for {bench.id}, got {classes}")
        label = _int(label, "true class")
        if not 0 <= label < bench.classes:
            raise ValueError(f"true class {label} is outside 0..{bench.classes - 1}")
        window = stride = bench.input_bytes
    shown = printable(name, 60)
    if not name or "/" in name or "\\" in name or name in (".", "..") or "\0" in name:
        raise ValueError(f"file name {shown!r} must be a plain file name in the dataset folder")
    path = folder / name
    if not path.is_file():
        raise ValueError(f"{shown} {_not_a_file(path)} in {folder}")
    size = path.stat().st_size
    if bench.metric == METRIC_AUC:
        if size < window or size % 4:
            raise ValueError(f"{name} has {size} bytes; an {bench.id} stimulus holds whole "
                             f"float32 values and at least one {window}-byte window")
        windows = 1 + (size - window) // stride
        if bench.input_format == INPUT_FLOAT32_QUANTIZE:
            _check_finite(path, shown)
    else:
        if size != bench.input_bytes:
            raise ValueError(f"{name} has {size} bytes, {bench.id} stimuli have {bench.input_bytes}")
        windows = 1
    return DatasetFile(name, path, label, windows, window, stride)


def _check_finite(path: Path, shown: str) -> None:
    """A NaN or infinity in a float stimulus would stop the run part-way."""
    try:
        values = np.fromfile(path, dtype="<f4")
    except OSError as exc:
        raise ValueError(f"{shown} cannot be read ({exc.strerror})") from None
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise ValueError(f"{shown} holds {bad.size} NaN or infinite value"
                         f"{'s' if bad.size > 1 else ''} (first at float {int(bad[0])}); "
                         "stimuli must be finite float32")


def random_stimuli(bench: Benchmark, count: int = 5, seed: int = 0,
                   float_range: tuple[float, float] = (-4.0, 4.0)) -> list[Stimulus]:
    """Seeded random stimuli in the bench's byte format (no labels).

    Float stimuli (ad01) are uniform in ``float_range``; pass the range the
    model's input quantization covers to exercise every int8 value.
    """
    rng = np.random.default_rng(seed)
    out = []
    for i in range(count):
        if bench.input_format == INPUT_FLOAT32_QUANTIZE:
            values = rng.uniform(float_range[0], float_range[1], bench.input_bytes // 4).astype("<f4")
            data = values.tobytes()
        else:
            data = rng.integers(0, 256, bench.input_bytes, dtype=np.uint8).tobytes()
        out.append(Stimulus(f"random-{seed}-{i}", f"random-{seed}-{i}", 0, None, data))
    return out


def floats_from_bytes(data: bytes) -> list[float]:
    """The little-endian float32 values of an ad01 window."""
    return list(struct.unpack(f"<{len(data) // 4}f", data))
