"""Shared helpers of the reliability tests: the loopback DUT beside them and
the raw protocol client and fault peers of tests/firmware and tests/runner.
The `firmware` build fixture is the suite's (tests/conftest.py)."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).parent
for folder in (HERE, HERE.parent / "firmware", HERE.parent / "runner"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
