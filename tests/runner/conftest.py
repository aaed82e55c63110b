"""Shared fixtures for the runner tests: firmware builds."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# The fault-injecting peers and helpers live beside the tests.
sys.path.insert(0, str(Path(__file__).parent))

from runner_helpers import model_path  # noqa: E402


@pytest.fixture(scope="session")
def firmware(tmp_path_factory):
    """build(board, bench, mode) -> build folder, each built once per test session."""
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
