"""Fixtures for the scale tests: firmware builds, datasets, the runner helpers."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
# The dataset helpers of the runner tests, and this folder's lab.
sys.path.insert(0, str(HERE.parent / "runner"))
sys.path.insert(0, str(HERE))

from runner_helpers import model_path  # noqa: E402


@pytest.fixture(scope="session")
def scale_firmware(tmp_path_factory):
    """build(board, bench) -> performance build folder, built once per test session."""
    from tinygen.port.build import build_firmware

    built: dict[tuple[str, str], Path] = {}

    def build(board: str, bench: str) -> Path:
        if (board, bench) not in built:
            out = tmp_path_factory.mktemp(f"scale-{board}-{bench}")
            result = build_firmware(board, bench, model_path=model_path(bench),
                                    mode="performance", out_dir=out)
            built[(board, bench)] = Path(result.build_dir)
        return built[(board, bench)]

    return build


@pytest.fixture(scope="session")
def oracle_dataset(tmp_path_factory):
    """dataset(bench, count) -> folder of seeded random stimuli, labelled so that
    top-1 is strictly between 0 and 1 (two of three stimuli carry the oracle's
    answer, the third another class)."""
    import numpy as np

    from runner_helpers import write_classifier_dataset
    from tinygen.benches import get_bench
    from tinygen.runner.oracle import Oracle

    made: dict[tuple[str, int], Path] = {}

    def dataset(bench_id: str, count: int) -> Path:
        if (bench_id, count) not in made:
            bench = get_bench(bench_id)
            oracle = Oracle(model_path(bench_id), bench)

            def label(i, data):
                predicted = int(np.argmax(oracle.raw_output(data)))
                return predicted if i % 3 else (predicted + 1) % bench.classes

            folder = tmp_path_factory.mktemp(f"data-{bench_id}-{count}")
            write_classifier_dataset(folder, bench_id, label, count=count, seed=21)
            made[(bench_id, count)] = folder
        return made[(bench_id, count)]

    return dataset
