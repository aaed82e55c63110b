"""The submission tests use the runner tests' helpers; the `firmware` build
fixture is the suite's (tests/conftest.py)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent / "runner"))
