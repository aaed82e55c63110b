"""Helpers shared by the runner tests: models and datasets in the EEMBC layout."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tinygen.benches import get_bench
from tinygen.runner.dataset import random_stimuli

REFERENCE = Path("/work/shared/reference-models")
# Optional extras: the official files, used only when the committed model is absent.
REFERENCE_FILES = {"ic01": "ic01_resnet8_int8.tflite", "ad01": "ad01_fc_autoencoder_int8.tflite"}


def model_path(bench_id: str) -> Path:
    """The committed model of the bench, else the official one, else skip."""
    bench = get_bench(bench_id)
    if bench.model_path.is_file():
        return bench.model_path
    ref = REFERENCE / REFERENCE_FILES.get(bench.id, "-")
    if ref.is_file():
        return ref
    pytest.skip(f"no model for {bench.id}: models/{bench.id}.tflite is not in this checkout")


def classifier_bench() -> str:
    """kws01 (smallest input) when its model is committed, else ic01."""
    return "kws01" if get_bench("kws01").model_path.is_file() else "ic01"


def write_classifier_dataset(folder: Path, bench_id: str, labels_for, count: int, seed: int) -> list:
    """``count`` random stimuli in the EEMBC layout; labels_for(i, data) gives each label."""
    bench = get_bench(bench_id)
    sub = folder / bench.id
    sub.mkdir(parents=True, exist_ok=True)
    rows, stims = [], random_stimuli(bench, count, seed=seed)
    for i, s in enumerate(stims):
        name = f"stim_{i:03d}.bin"
        (sub / name).write_bytes(s.data)
        rows.append(f"{name},{bench.classes},{labels_for(i, s.data)}")
    (sub / "y_labels.csv").write_text("\n".join(rows) + "\n")
    return [s.data for s in stims]


def write_ad01_dataset(folder: Path, windows: list[int], labels: list[int], value_range,
                       seed: int) -> dict[str, tuple[int, bytes]]:
    """ad01 files of the given window counts (stride 512), in the EEMBC layout."""
    sub = folder / "ad01"
    sub.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    rows, files = [], {}
    for i, (w, label) in enumerate(zip(windows, labels)):
        floats = 640 + 128 * (w - 1)
        # Anomalous files get a shifted distribution so the AUC is not trivial.
        lo, hi = value_range
        centre = lo + (hi - lo) * (0.5 + 0.2 * label)
        data = rng.normal(centre, (hi - lo) / 6, floats).clip(lo, hi).astype("<f4").tobytes()
        name = f"clip_{i:02d}.bin"
        (sub / name).write_bytes(data)
        rows.append(f"{name},2,{label},2560,512")
        files[name] = (label, data)
    (sub / "y_labels.csv").write_text("\n".join(rows) + "\n")
    return files
