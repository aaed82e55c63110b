"""verify --quick on an emulator whose stimulus downloads are slow (vww01's
27,648 bytes take 3 s or more through QEMU's UART): fewer downloads, said in
the output; downloads to an emulated DUT keep a few db lines on the way; the
estimated cycles come from a trace run beside the checks and are kept with
the build."""

from __future__ import annotations

import json
import logging
import re
import shutil

import pytest

from tinygen.boards import load_board
from tinygen.benches import get_bench
from tinygen.cli import main
from tinygen.runner import cycles, verify
from tinygen.runner.verify import QUICK_MIN_GOLDEN, plan_quick_loads

from runner_helpers import model_path

needs_qemu = pytest.mark.skipif(
    shutil.which("arm-none-eabi-gcc") is None or shutil.which("qemu-system-arm") is None,
    reason="needs arm-none-eabi-gcc and qemu-system-arm")


def test_downloads_that_fit_the_budget_are_left_alone():
    assert plan_quick_loads(0.1, 490, golden=5, windows=5, budget=12.0) is None


def test_slow_downloads_keep_two_golden_stimuli_and_one_latency_stimulus():
    plan = plan_quick_loads(11.2, 27648, golden=5, windows=5, budget=12.0)
    assert (plan.golden, plan.latency_stimuli) == (QUICK_MIN_GOLDEN, 1)
    assert "2 of the 5 stimuli asked" in plan.golden_note(5)
    assert "its 27648-byte download 11.2 s" in plan.golden_note(5)
    assert plan.latency_note(5).startswith("5 windows over 1 stimulus")


def test_the_plan_uses_what_the_budget_holds_and_never_more_than_asked():
    plan = plan_quick_loads(2.0, 27648, golden=5, windows=5, budget=12.0)
    assert (plan.golden, plan.latency_stimuli) == (3, 3)
    assert plan_quick_loads(50.0, 27648, golden=1, windows=5, budget=12.0).golden == 1


def test_seconds_long_inferences_cut_the_golden_stimuli_too():
    # ic02 on mps3_an547 on a busy host: 1 s downloads, 4 s inferences
    plan = plan_quick_loads(1.0, 3072, golden=5, windows=5, budget=12.0, infer_seconds=4.0)
    assert (plan.golden, plan.latency_stimuli) == (QUICK_MIN_GOLDEN, 1)
    assert "its inference 4.0 s" in plan.golden_note(5)


@needs_qemu
def test_verify_quick_on_a_slow_download_says_what_it_left_out(firmware, tmp_path, capsys,
                                                               monkeypatch, caplog):
    # kws01's 490 bytes download in a fraction of a second: a budget below
    # that stands for vww01 on a slow emulator, with the real DUT and protocol.
    monkeypatch.setattr(verify, "QUICK_LOAD_BUDGET_S", 0.01)
    # this test wants the estimate, however busy the host: wait for its trace
    monkeypatch.setattr(verify, "QUICK_ESTIMATE_WAIT_S", 600.0)
    board = "disco_l475vg_iot01a"
    build = firmware(board, "kws01")
    (build / cycles.ESTIMATE_CACHE).unlink(missing_ok=True)
    out = tmp_path / "session"
    rc = main(["verify", "--board", board, "--bench", "kws", "--no-build", "--build", str(build),
               "--model", str(model_path("kws01")), "--quick", "--min-seconds", "0.05",
               "--out", str(out)])
    printed = capsys.readouterr().out
    assert rc == 0, printed
    res = json.loads((out / "results.json").read_text())
    # 2 golden stimuli (+ the last one again, without a second download).
    assert len(res["golden"]) == 3 and all(g["match"] for g in res["golden"])
    assert "2 of the 5 stimuli asked: --quick on this emulator" in printed
    windows = res["performance"]["windows"]
    assert len(windows) == 5 and len({w["stimulus"] for w in windows}) == 1
    assert "5 windows over 1 stimulus" in printed
    assert res["performance"]["quick_downloads"]["distinct_stimuli"] == 1
    log_lines = (out / "log.txt").read_text().splitlines()
    # protocol (2), golden (2), latency (1): five downloads of the stimulus in all
    size = get_bench("kws01").input_bytes
    assert sum(ln.endswith(f" > db load {size}%") for ln in log_lines) == 5
    # windowed download: the second db line goes out before the first m-ready
    sent = [i for i, ln in enumerate(log_lines) if re.search(r" > db [0-9a-f]+%$", ln)]
    first_ready = next(i for i in range(sent[0], len(log_lines))
                       if log_lines[i].endswith("< m-ready"))
    assert sent[1] < first_ready
    # the estimate ran beside the checks and was kept for this image
    assert "real-board estimate" in printed
    assert res["emulation"]["cycles"]["cycles"] > 0
    kept = json.loads((build / cycles.ESTIMATE_CACHE).read_text())
    assert kept["figures"] == res["emulation"]["cycles"]
    with caplog.at_level(logging.INFO, logger="tinygen.runner.cycles"):
        again = cycles.estimate_build(load_board(board), build, get_bench("kws01"))
    assert again == kept["figures"] and "traced earlier" in caplog.text


@needs_qemu
def test_a_background_estimate_stopped_early_leaves_nothing_behind(firmware, tmp_path):
    """--quick waits only so long for the trace: stopping it ends its QEMU,
    removes its log and keeps no figures."""
    build = tmp_path / "build"
    shutil.copytree(firmware("disco_l475vg_iot01a", "kws01"), build)
    (build / cycles.ESTIMATE_CACHE).unlink(missing_ok=True)
    pending = cycles.BackgroundEstimate(load_board("disco_l475vg_iot01a"), build,
                                        get_bench("kws01"))
    assert pending.figures(timeout=0.0) is None and pending.timed_out and pending.done
    assert not (build / "cycles-trace.log").exists()
    assert not (build / cycles.ESTIMATE_CACHE).exists()
