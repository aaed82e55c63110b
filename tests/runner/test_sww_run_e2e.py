"""tinygen run --bench sww end to end on the emulated B-L475E: the real streaming
firmware in QEMU, its audio from a stream built of marvin clips, the SIMULATED
interface board timing the DUT's real pin edges, the official run sequence,
scoring, results.txt in the checker's wording, the timeline picture, and a
packaged tree.

Needs the streaming DUT (firmware/stream, tinygen.port.sww_build), arm-none-eabi-gcc
and QEMU; skips cleanly without them. The quick test plays 3 words (~12 s of
virtual audio); the 50-word run and its package are marked slow.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from tinygen.cli import main
from tinygen.runner.sww_stream import StreamSpec, build_stream

from runner_helpers import REFERENCE

BOARD = "disco_l475vg_iot01a"
MARVIN = REFERENCE / "sww01_marvin_617de221_0.wav"
OFFICIAL = REFERENCE / "sww01_str_ww_ref_model.tflite"
THROUGHPUT = r"Estimated throughput:\s*([\d\.]+) inf\./sec\..*"
ACCURACY = r"Accuracy: ([\d]+) True positives, ([\d]+) False negatives, ([\d]+) False positives"
DUTY = r"Average duty cycle:\s*([\d\.]+)"
POWER = r"Power\s+: ([\d\.]+) mW.*"


def _need_tools():
    if shutil.which("arm-none-eabi-gcc") is None:
        pytest.skip("arm-none-eabi-gcc is not installed")
    from tinygen.boards import load_board
    from tinygen.device.launch import check_qemu
    try:
        check_qemu(load_board(BOARD))
    except Exception as exc:
        pytest.skip(f"QEMU is not available: {exc}")
    if not MARVIN.is_file():
        pytest.skip(f"{MARVIN} (the official marvin clip) is not here")


@pytest.fixture(scope="module")
def sww_build(tmp_path_factory):
    _need_tools()
    builds = {}

    def build(mode: str = "performance") -> Path:
        if mode not in builds:
            out = tmp_path_factory.mktemp(f"sww-{mode}")
            # The official trained model when ../shared has it (detections mean
            # something), else the committed untrained one.
            model = ["--model", str(OFFICIAL)] if OFFICIAL.is_file() else []
            assert main(["build", "--board", BOARD, "--bench", "sww", "--mode", mode,
                         "--out", str(out)] + model) == 0
            builds[mode] = out
        return builds[mode]
    return build


def _lines(pattern: str, text: str) -> list[tuple]:
    return [m.groups() for m in (re.match(pattern, ln) for ln in text.splitlines()) if m]


def _run(build: Path, stream_dir: Path, out: Path, mode: str = "performance") -> str:
    assert main(["run", "--board", BOARD, "--bench", "sww", "--mode", mode, "--build", str(build),
                 "--dataset", str(stream_dir), "--out", str(out)]) == 0
    return (out / "results.txt").read_text()


def test_three_word_stream_scored_through_the_simulated_board(sww_build, tmp_path):
    stream = build_stream([MARVIN], tmp_path / "sww01", "three", StreamSpec(words=3))
    text = _run(sww_build(), tmp_path, tmp_path / "session")
    tp, fn, fp = map(int, _lines(ACCURACY, text)[0])
    assert tp + fn == 3
    (duty,) = _lines(DUTY, text)[0]
    assert 0 < float(duty) < 1
    assert len(_lines(THROUGHPUT, text)) == 1 and _lines(POWER, text) == []
    data = json.loads((tmp_path / "session" / "results.json").read_text())
    sww = data["sww"]
    assert sww["simulated_interface"] and sww["stream"]["words"] == 3
    assert sww["scores"]["detections_ms"], "the sync pulse at least"
    assert sww["duty"]["frames"] >= 2 and sww["board_clock"]["duty_cycle"] > 0
    assert sww["power"]["estimated"] and sww["power"]["power_mw"] > 0
    assert any(r.startswith("short test") for r in data["validity"]["reasons"])
    assert (tmp_path / "session" / "timeline.png").stat().st_size > 10_000
    log = (tmp_path / "session" / "log.txt").read_text()
    for command in ("dut stop%", "dut start%", "record_detections%", f"play {stream.wav.name}%",
                    "print_detections%", "print_dutycycle%"):
        assert command in log


@pytest.mark.slow
def test_fifty_word_stream_packages_for_the_checker(sww_build, tmp_path):
    """About 5 minutes: 50 words over ~300 s of virtual audio, then 'tinygen package'."""
    build_stream([MARVIN], tmp_path / "sww01", "sww_long_test", StreamSpec(words=50))
    build = sww_build()
    _run(build, tmp_path, tmp_path / "perf")
    assert main(["package", str(tmp_path / "perf"), "--org", "tinygen", "--system", "disco",
                 "--out", str(tmp_path / "tree"), "--build", str(build),
                 "--force", "emulated test"]) == 0
    results = tmp_path / "tree" / "closed" / "tinygen" / "results" / "disco" / "sww" / "performance"
    text = (results / "results.txt").read_text()
    tp, fn, fp = map(int, _lines(ACCURACY, text)[0])
    assert tp + fn == 50
    assert len(_lines(THROUGHPUT, text)) == 1 and len(_lines(DUTY, text)) == 1
    assert sorted(p.name for p in results.iterdir()) == ["log.txt", "results.json", "results.txt"]


@pytest.mark.slow
def test_incremental_and_full_window_duty_cycles_side_by_side(sww_build, tmp_path):
    """About 2 minutes: a 10-word stream on the incremental build (the default) and,
    with --compare-build, on a full-window build; the same detections, a lower duty."""
    from tinygen.port.sww_build import build_stream_firmware
    model = OFFICIAL if OFFICIAL.is_file() else None
    full = tmp_path / "full-window"
    build_stream_firmware(BOARD, model, out_dir=full, incremental=False)
    build_stream([MARVIN], tmp_path / "sww01", "ten", StreamSpec(words=10))
    assert main(["run", "--board", BOARD, "--bench", "sww", "--mode", "performance",
                 "--build", str(sww_build()), "--compare-build", str(full),
                 "--dataset", str(tmp_path), "--out", str(tmp_path / "s")]) == 0
    sww = json.loads((tmp_path / "s" / "results.json").read_text())["sww"]
    # Each build is labelled with its per-hop plan (build.json) and its folder.
    incremental, full_window = (sww["compare"][k] for k in sorted(
        sww["compare"], key=lambda k: k.endswith("(full-window)")))
    assert "full-window inference" in next(k for k in sww["compare"] if k.endswith("(full-window)"))
    assert full_window["processing_instructions"] > 2 * incremental["processing_instructions"]
    text = (tmp_path / "s" / "results.txt").read_text()
    assert text.count("Compared build") == 2
    other = json.loads((tmp_path / "s" / "compare" / "full-window" / "results.json").read_text())
    assert other["sww"]["scores"]["detections_ms"] and \
        other["sww"]["scores"]["true_positives"] == sww["scores"]["true_positives"]
