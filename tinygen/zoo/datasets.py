"""The official MLPerf Tiny accuracy sets: where each comes from, and fetching.

EEMBC publishes the sets the official runner reads in its energyrunner
repository, ``datasets/<model id>/`` (the EEMBC runner layout: stimulus
``.bin`` files and ``y_labels.csv``):

- kws01: the 1000 feature files themselves (49x10 int8 MFCCs from the
  Speech Commands v2 test split) -> ``tinygen dataset fetch``;
- ic01, vww01, ad01: ``y_labels.csv`` only (file names and labels); the
  stimuli are converted from the source set, which the user obtains under
  its own licence -> ``tinygen dataset build --source ...``
  (tinygen.zoo.dataset_build).

A fetch checks every file against a sha256 list when tinygen has one for the
set (``models/datasets/<id>.sha256``, sha256sum format); without one it
writes ``SHA256SUMS`` of what it fetched and says the set is unpinned.
"""

from __future__ import annotations

import csv
import hashlib
import logging
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from tinygen.benches import Benchmark
from tinygen.errors import TinygenError
from tinygen.paths import models_dir
from tinygen.zoo.fetch import DEFAULT_TIMEOUT_S, PROGRESS_EVERY_S, fetch_file, source_url

log = logging.getLogger(__name__)

LABELS_FILE = "y_labels.csv"
SUMS_FILE = "SHA256SUMS"
# Overrides the energyrunner datasets/ address (a mirror, or a local copy).
URL_ENV = "TINYGEN_DATASET_URL"
ENERGYRUNNER_DATASETS = "https://raw.githubusercontent.com/eembc/energyrunner/main/datasets"


@dataclass(frozen=True)
class OfficialSet:
    bench_id: str
    published: bool        # stimuli published (fetch), else built from the source set
    source: str            # the source set, for --help and the README
    convert: str           # how the official conversion makes a stimulus
    label_names: tuple[str, ...] = ()   # of a two-label set, label 0 first
    labels_of: str | None = None        # the published folder holding its labels, if another's


OFFICIAL_SETS: dict[str, OfficialSet] = {
    "kws01": OfficialSet(
        "kws01", True, "Speech Commands v2 test split (features published by EEMBC)",
        "49 frames x 10 MFCCs as int8, 490 bytes; the label is the file name's last number"),
    "ic01": OfficialSet(
        "ic01", False, "CIFAR-10 python test batch (cifar-10-batches-py/test_batch)",
        "the 200 images y_labels.csv names (20 per class), 32x32 RGB uint8 in HWC order"),
    "ic02": OfficialSet(
        "ic02", False, "CIFAR-10 python test batch (cifar-10-batches-py/test_batch)",
        "as ic01: energyrunner publishes no ic02 folder; tinygen takes ic01's 200 images "
        "(same CIFAR-10 input bytes)", labels_of="ic01"),
    "vww01": OfficialSet(
        "vww01", False, "COCO 2014 person / no-person images (the Visual Wake Words set, "
        "e.g. vw_coco2014_96)",
        "the 1000 images y_labels.csv names by COCO id (500 person, 500 not), "
        "RGB resized to 96x96 with an antialiasing filter, uint8 HWC", ("no person", "person")),
    "ad01": OfficialSet(
        "ad01", False, "ToyADMOS car (DCASE 2020 task 2 ToyCar test clips, *.wav)",
        "log-mel spectrogram (16 kHz, n_fft 1024, hop 512, 128 mels, power 2, "
        "10*log10), frames 50..249 as float32 little-endian, time-major", ("normal", "anomaly")),
}


def official_set(bench: Benchmark) -> OfficialSet:
    info = OFFICIAL_SETS.get(bench.id)
    if info is None:
        raise TinygenError(f"{bench.id} has no EEMBC stimulus set; tinygen dataset gets the sets "
                           f"of {', '.join(OFFICIAL_SETS)}")
    return info


def default_datasets_url() -> str:
    return os.environ.get(URL_ENV) or ENERGYRUNNER_DATASETS


def set_url(bench: Benchmark, base: str | None) -> str:
    """The folder address of a bench's published set (``base`` may be a local folder,
    either the datasets/ folder or the set's own)."""
    info = OFFICIAL_SETS.get(bench.id)
    folder_id = (info.labels_of if info else None) or bench.id
    base = source_url(base) if base else default_datasets_url()
    base = base.rstrip("/")
    if base.startswith("file://"):
        folder = Path(unquote(urlparse(base).path))
        if (folder / folder_id / LABELS_FILE).is_file():
            return f"{base}/{folder_id}"
        if (folder / LABELS_FILE).is_file():
            return base
        raise TinygenError(f"no {LABELS_FILE} in {folder} or {folder / folder_id}; point --url "
                           f"at a copy of energyrunner's datasets/ (or datasets/{folder_id}/)")
    return f"{base}/{folder_id}"


def pinned_sums(bench: Benchmark) -> dict[str, str] | None:
    """The sha256 tinygen pins for each file of a published set, if it has a list."""
    path = models_dir() / "datasets" / f"{bench.id}.sha256"
    return read_sums(path) if path.is_file() else None


def read_sums(path: Path) -> dict[str, str]:
    sums: dict[str, str] = {}
    for lineno, line in enumerate(Path(path).read_text().splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 2 or not re.fullmatch(r"[0-9a-f]{64}", parts[0]):
            raise TinygenError(f"{path} line {lineno} is not 'SHA256  NAME' (sha256sum format); "
                               "fix or remove the file")
        sums[parts[1].lstrip("*")] = parts[0]
    return sums


def write_sums(folder: Path, sums: dict[str, str]) -> Path:
    path = folder / SUMS_FILE
    path.write_text("".join(f"{digest}  {name}\n" for name, digest in sorted(sums.items())))
    return path


def label_rows(path: Path) -> list[list[str]]:
    """The rows of a y_labels.csv (fields stripped; the vww01 file has spaces)."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise TinygenError(f"cannot read {path}: {exc}; fetch it again") from None
    rows = [[c.strip() for c in row] for row in csv.reader(text.splitlines())]
    rows = [r for r in rows if r and any(r)]
    for row in rows:
        name = row[0]
        if not name or "/" in name or "\\" in name or name in (".", ".."):
            raise TinygenError(f"{path} names {name!r}, not a plain file name; "
                               "it is not an EEMBC y_labels.csv")
    return rows


@dataclass
class FetchReport:
    folder: Path
    files: int
    fetched: int           # downloaded now (the rest were already complete)
    pinned: bool
    sums_file: Path | None


class FileProgress:
    def __init__(self, what: str, total: int):
        self.what, self.total = what, total
        self.last = time.monotonic()

    def step(self, done: int, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self.last >= PROGRESS_EVERY_S:
            log.info("%s: %d of %d files", self.what, done, self.total)
            self.last = now


def fetch_labels(bench: Benchmark, folder: Path, base: str | None = None,
                 timeout_s: float = DEFAULT_TIMEOUT_S) -> Path:
    """The published y_labels.csv of a set into ``folder`` (a file path or URL
    of the labels themselves is also accepted as ``base``)."""
    official_set(bench)
    folder.mkdir(parents=True, exist_ok=True)
    dest = folder / LABELS_FILE
    if base and (base.endswith(".csv") and ("://" in base or Path(base).is_file())):
        url = source_url(base)
    else:
        url = f"{set_url(bench, base)}/{LABELS_FILE}"
    pins = pinned_sums(bench) or {}
    log.info("%s: fetching %s from %s", bench.id, LABELS_FILE, url)
    fetch_file(url, dest, pins.get(LABELS_FILE), timeout_s=timeout_s)
    return dest


def fetch_dataset(bench: Benchmark, out_root: Path, base: str | None = None,
                  sums_path: Path | None = None,
                  timeout_s: float = DEFAULT_TIMEOUT_S) -> FetchReport:
    """Fetch a published set (kws01) into ``out_root/<model id>/``, resumably.

    Files already complete (and matching their pin) are kept; an interrupted
    file resumes from its .part. ``sums_path``: a sha256 list to check
    against instead of tinygen's own.
    """
    info = official_set(bench)
    if not info.published:
        raise TinygenError(
            f"EEMBC publishes only the labels of {bench.id}, not its stimuli: build them from "
            f"your copy of the source set ({info.source}) with "
            f"'tinygen dataset build --bench {bench.short} --source PATH'")
    folder = Path(out_root) / bench.id
    pins = read_sums(sums_path) if sums_path else pinned_sums(bench)
    url = set_url(bench, base)
    labels = fetch_labels(bench, folder, base, timeout_s)
    rows = label_rows(labels)
    names = [r[0] for r in rows]
    _check_kws_names(bench, rows)
    if pins is not None:
        unknown = [n for n in names if n not in pins]
        if unknown:
            raise TinygenError(f"{labels} lists {len(unknown)} files the sha256 list does not "
                               f"(first {unknown[0]}); the server has another version of the set")
    sums: dict[str, str] = {LABELS_FILE: hashlib.sha256(labels.read_bytes()).hexdigest()}
    progress = FileProgress(f"{bench.id}", len(names))
    fetched = 0
    for i, name in enumerate(names, start=1):
        dest = folder / name
        want = pins.get(name) if pins else None
        if dest.is_file() and dest.stat().st_size == bench.input_bytes:
            digest = hashlib.sha256(dest.read_bytes()).hexdigest()
            if want is None or digest == want:
                sums[name] = digest
                progress.step(i)
                continue
        sums[name] = fetch_file(f"{url}/{name}", dest, want, timeout_s=timeout_s)
        fetched += 1
        progress.step(i)
    progress.step(len(names), force=True)
    sums_file = write_sums(folder, sums)
    if pins is None:
        log.warning("%s is not pinned: tinygen holds no sha256 list for it (models/datasets/"
                    "%s.sha256); %s records what was fetched", bench.id, bench.id, sums_file)
    return FetchReport(folder, len(names), fetched, pins is not None, sums_file)


def _check_kws_names(bench: Benchmark, rows: list[list[str]]) -> None:
    """kws01 file names end in their label (tst_000000_Stop_7.bin is class 7)."""
    if bench.id != "kws01":
        return
    for row in rows:
        match = re.search(r"_(\d+)\.bin$", row[0])
        if match and len(row) >= 3 and match.group(1) != row[2]:
            raise TinygenError(f"{LABELS_FILE} gives {row[0]} class {row[2]}, its name says "
                               f"{match.group(1)}: the set is corrupt; fetch it again")
