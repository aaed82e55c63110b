"""Fixtures for the compiler tests: a model cache, host builds, the TFLM oracle."""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from hostlib import HostModel, host_target  # noqa: E402
from tfmodels import ModelCache  # noqa: E402
from tinygen.codegen import generate_model_sources  # noqa: E402

REFERENCE_MODELS = Path("/work/shared/reference-models")
COMMITTED_MODELS = Path(__file__).resolve().parents[2] / "models"


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory) -> ModelCache:
    return ModelCache(tmp_path_factory.mktemp("tflite"))


class Compiler:
    """Compiles a .tflite to a host library and compares it with TFLM."""

    def __init__(self, root: Path):
        self.root = root
        self.counter = itertools.count()

    def host_model(self, tflite: Path, **kwargs) -> HostModel:
        """The host library of tflite, planned for the host's kernel target
        unless kwargs say layout=."""
        out = self.root / f"m{next(self.counter)}"
        src = generate_model_sources(tflite, out, **{"layout": host_target(), **kwargs})
        return HostModel(src, out / "libmodel.so")

    def compare(self, tflite: Path, inputs: int, seed: int = 0, oracle: str = "tflm",
                **kwargs) -> int:
        """Runs `inputs` random inputs through both; returns how many compared.
        oracle="tflite": TensorFlow Lite's interpreter (for TILE, which TFLM
        has no kernel for) instead of TFLM."""
        from kernel_oracle import open_oracle

        host = self.host_model(tflite, **kwargs)
        oracle = open_oracle(tflite, oracle)
        detail = oracle.get_input_details(0)
        rng = np.random.default_rng(seed)
        for i in range(inputs):
            if detail["dtype"] == np.float32:
                x = rng.uniform(-2, 2, size=detail["shape"]).astype(np.float32)
            else:
                x = rng.integers(-128, 128, size=detail["shape"], dtype=np.int8)
            oracle.set_input(x, 0)
            oracle.invoke()
            expected = np.asarray(oracle.get_output(0)).reshape(-1)
            got = host.run(x)
            assert got.dtype == expected.dtype
            if not np.array_equal(got, expected):
                diff = np.flatnonzero(got != expected)
                raise AssertionError(
                    f"{tflite.name} input {i}: {diff.size} of {got.size} outputs differ from "
                    f"TFLM, first at {diff[0]}: tinygen {got[diff[0]]} vs TFLM {expected[diff[0]]}")
        return inputs


@pytest.fixture(scope="session")
def compiler(tmp_path_factory) -> Compiler:
    return Compiler(tmp_path_factory.mktemp("hostbuild"))
