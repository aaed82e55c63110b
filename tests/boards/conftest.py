"""Slow tests here (the full bench x board matrices) run only when asked:
pytest -m slow tests/boards, or TINYGEN_SLOW=1. The default run keeps one
representative case per board within the suite's time budget."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

HERE = Path(__file__).parent


def pytest_collection_modifyitems(config, items):
    if "slow" in (config.getoption("-m") or "") or os.environ.get("TINYGEN_SLOW") == "1":
        return
    skip = pytest.mark.skip(reason="slow matrix: run with pytest -m slow (or TINYGEN_SLOW=1)")
    for item in items:
        if "slow" in item.keywords and HERE in Path(str(item.fspath)).parents:
            item.add_marker(skip)
