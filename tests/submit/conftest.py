"""Shared fixtures for the submission tests: firmware builds."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent.parent / "runner"))

from runner_helpers import model_path  # noqa: E402


@pytest.fixture(scope="session")
def firmware(tmp_path_factory):
    """build(board, bench) -> build folder, each built once per test session."""
    from tinygen.port.build import build_firmware

    built: dict[tuple[str, str], Path] = {}

    def build(board: str, bench: str) -> Path:
        key = (board, bench)
        if key not in built:
            out = tmp_path_factory.mktemp(f"build-{board}-{bench}")
            result = build_firmware(board, bench, model_path=model_path(bench), out_dir=out, jobs=2)
            built[key] = Path(result.build_dir)
        return built[key]

    return build
