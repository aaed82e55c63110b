"""Shared helpers of the reliability tests: the loopback DUT beside them and
the raw protocol client and fault peers of tests/firmware and tests/runner."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).parent
for folder in (HERE, HERE.parent / "firmware", HERE.parent / "runner"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))


import pytest  # noqa: E402


@pytest.fixture(scope="session")
def firmware(tmp_path_factory):
    """build(board, bench, mode) -> build folder, each built once per test session."""
    from runner_helpers import model_path
    from tinygen.port.build import build_firmware

    built: dict[tuple[str, str, str], Path] = {}

    def build(board: str, bench: str, mode: str = "performance") -> Path:
        key = (board, bench, mode)
        if key not in built:
            out = tmp_path_factory.mktemp(f"build-{board}-{bench}-{mode}")
            result = build_firmware(board, bench, model_path=model_path(bench), mode=mode,
                                    out_dir=out)
            built[key] = Path(result.build_dir)
        return built[key]

    return build
