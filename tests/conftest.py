"""One policy for the whole suite: tests marked slow (long campaigns, full
bench x board matrices) run only when asked, with ``pytest -m slow`` or
``TINYGEN_SLOW=1``; the default run keeps the suite within its time budget.
Each slow test's docstring or module says how long it takes."""

from __future__ import annotations

import os

import pytest


def slow_requested(config: pytest.Config) -> bool:
    return "slow" in (config.getoption("-m") or "") or os.environ.get("TINYGEN_SLOW") == "1"


def pytest_collection_modifyitems(config, items):
    if slow_requested(config):
        return
    skip = pytest.mark.skip(reason="slow: run with pytest -m slow (or TINYGEN_SLOW=1)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
