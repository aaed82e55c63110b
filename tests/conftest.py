"""One policy for the whole suite: tests marked slow (long campaigns, full
bench x board matrices) run only when asked, with ``pytest -m slow`` or
``TINYGEN_SLOW=1``; the default run keeps the suite within its time budget.
Each slow test's docstring or module says how long it takes."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pytest

# A suite started in the background (nohup, `cmd &` in a script) inherits
# SIGINT ignored, and so would every tinygen process the Ctrl-C tests start:
# they would never see the interrupt they test. A Python handler here is
# reset to the default in each child at exec, so the children get Ctrl-C.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


def slow_requested(config: pytest.Config) -> bool:
    return "slow" in (config.getoption("-m") or "") or os.environ.get("TINYGEN_SLOW") == "1"


def pytest_collection_modifyitems(config, items):
    if slow_requested(config):
        return
    skip = pytest.mark.skip(reason="slow: run with pytest -m slow (or TINYGEN_SLOW=1)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def firmware(tmp_path_factory):
    """build(board, bench, mode) -> build folder, each built once per test
    session however many test folders ask (the runner, firmware and
    reliability tests share the builds)."""
    runner_tests = str(Path(__file__).parent / "runner")
    if runner_tests not in sys.path:
        sys.path.insert(0, runner_tests)
    from runner_helpers import model_path
    from tinygen.port.build import build_firmware

    built: dict[tuple[str, str, str], Path] = {}

    def build(board: str, bench: str, mode: str = "performance") -> Path:
        key = (board, bench, mode)
        if key not in built:
            out = tmp_path_factory.mktemp(f"build-{board}-{bench}-{mode}")
            result = build_firmware(board, bench, model_path=model_path(bench), mode=mode,
                                    out_dir=out, jobs=2)
            built[key] = Path(result.build_dir)
        return built[key]

    return build
