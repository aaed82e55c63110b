"""tinygen run / verify end to end against real DUTs: the host process and QEMU.

Every figure the DUT reports is checked against the TFLM oracle run on the
same stimuli; no expected value is written down by hand.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from tinygen.benches import get_bench
from tinygen.cli import main
from tinygen.runner.oracle import Oracle

from runner_helpers import classifier_bench, model_path, write_ad01_dataset, write_classifier_dataset

BOARDS = ["host", "disco_l475vg_iot01a"]
# Emulated time runs about ten times slower than real time under QEMU icount.
WINDOW = {"host": ["--min-seconds", "0.3"], "disco_l475vg_iot01a": ["--min-seconds", "0.05"]}


def _results(folder: Path) -> dict:
    return json.loads((folder / "results.json").read_text())


def _assert_matches_oracle(oracle: Oracle, data: bytes, values: list[float]) -> None:
    """The printed values are the oracle's output (int8-exact / float32 MSE)."""
    out = oracle.raw_output(data)
    if oracle.bench.metric == "auc":
        want = oracle.float32_mse(data, out)
        assert values[0] == pytest.approx(want, rel=1e-6, abs=1e-6)
    else:
        scale, zp = oracle.output.scale, oracle.output.zero_point
        got = [int(round(v / scale + zp)) for v in values]
        assert got == [int(v) for v in out]


@pytest.mark.parametrize("board", BOARDS)
def test_performance_ad01_dataset_uses_first_windows(board, firmware, tmp_path, capsys):
    build = firmware(board, "ad01")
    oracle = Oracle(model_path("ad01"), get_bench("ad01"))
    files = write_ad01_dataset(tmp_path / "data", [2, 1, 3, 1, 2, 4], [0, 1, 0, 1, 0, 1],
                               oracle.input_float_range, seed=5)
    out = tmp_path / "session"
    rc = main(["run", "--board", board, "--build", str(build), "--mode", "performance",
               "--dataset", str(tmp_path / "data"), "--min-inferences", "20",
               "--warmup", "2", "--out", str(out)] + WINDOW[board])
    assert rc == 0
    res = _results(out)
    perf = res["performance"]
    assert res["status"] == "complete" and res["dut"]["model"] == "ad01"
    # Five windows, each on the first 2560-byte window of the first five files.
    assert [w["stimulus"] for w in perf["windows"]] == [
        "clip_00.bin#0", "clip_01.bin", "clip_02.bin#0", "clip_03.bin", "clip_04.bin#0"]
    for w, name in zip(perf["windows"], sorted(files)[:5]):
        assert w["count"] >= 20 and w["seconds"] >= float(WINDOW[board][1])
        assert w["throughput"] == pytest.approx(w["count"] / ((w["end_us"] - w["start_us"]) / 1e6))
        _assert_matches_oracle(oracle, files[name][1][:2560], w["values"])
    median = statistics.median(w["throughput"] for w in perf["windows"])
    assert perf["median_throughput"] == pytest.approx(median)
    text = (out / "results.txt").read_text()
    assert f"Median throughput is {median:.3f} inf./sec." in text
    assert "Median throughput is" in capsys.readouterr().out
    log = (out / "log.txt").read_text()
    assert "> db load 2560%" in log and "< m-ready" in log


@pytest.mark.parametrize("board", BOARDS)
def test_accuracy_classifier_top1_against_oracle(board, firmware, tmp_path):
    bench_id = classifier_bench()
    bench = get_bench(bench_id)
    build = firmware(board, bench_id)
    oracle = Oracle(model_path(bench_id), bench)

    # Label most stimuli with the oracle's answer and the rest with another
    # class, so top-1 is neither 0 nor 1 and follows from the oracle alone.
    def label(i, data):
        predicted = int(np.argmax(oracle.raw_output(data)))
        return predicted if i % 3 else (predicted + 1) % bench.classes

    stims = write_classifier_dataset(tmp_path / "data", bench_id, label, count=9, seed=11)
    labels = [label(i, d) for i, d in enumerate(stims)]
    out = tmp_path / "session"
    rc = main(["run", "--board", board, "--build", str(build), "--mode", "accuracy",
               "--dataset", str(tmp_path / "data"), "--out", str(out)])
    assert rc == 0
    acc = _results(out)["accuracy"]
    assert acc["measured"] == acc["total"] == 9
    for inf, data in zip(acc["inferences"], stims):
        _assert_matches_oracle(oracle, data, inf["values"])
    expected = np.mean([int(np.argmax(oracle.raw_output(d))) == t for d, t in zip(stims, labels)])
    assert acc["top1"] == pytest.approx(expected)
    # 9 stimuli are not the official set: the quality target is not judged.
    assert acc["target_met"] is None
    assert acc["target_verdict"].startswith(f"not checked: 9 of {bench.accuracy_stimuli} stimuli")
    assert f" ulp-mlperf: Top 1% = {expected * 100:.1f}" in (out / "results.txt").read_text()


@pytest.mark.parametrize("board", BOARDS)
def test_accuracy_ad01_sliding_windows_auc(board, firmware, tmp_path):
    bench = get_bench("ad01")
    build = firmware(board, "ad01")
    oracle = Oracle(model_path("ad01"), bench)
    files = write_ad01_dataset(tmp_path / "data", [1, 3, 2, 1, 2, 1], [0, 1, 0, 1, 1, 0],
                               oracle.input_float_range, seed=7)
    out = tmp_path / "session"
    rc = main(["run", "--board", board, "--build", str(build), "--mode", "accuracy",
               "--dataset", str(tmp_path / "data"), "--out", str(out)])
    assert rc == 0
    acc = _results(out)["accuracy"]
    assert acc["measured"] == acc["total"] == 10
    names = sorted(files)
    scores = []
    for name in names:
        label, data = files[name]
        windows = [data[o:o + 2560] for o in range(0, len(data) - 2560 + 1, 512)]
        window_scores = [oracle.float32_mse(w, oracle.raw_output(w)) for w in windows]
        scores.append(float(np.mean(window_scores)))
        assert acc["file_scores"][name] == pytest.approx(scores[-1], rel=1e-6)
    expected = roc_auc_score([files[n][0] for n in names], scores)
    assert acc["auc"] == pytest.approx(expected)
    assert f" ulp-mlperf: AUC = {expected:.3f}" in (out / "results.txt").read_text()


@pytest.mark.parametrize("board", BOARDS)
def test_verify_quick_passes(board, firmware, tmp_path, capsys):
    build = firmware(board, "ad01")
    out = tmp_path / "session"
    rc = main(["verify", "--board", board, "--bench", "ad", "--no-build", "--build", str(build),
               "--model", str(model_path("ad01")), "--quick", "--golden", "3", "--out", str(out)]
              + WINDOW[board])
    printed = capsys.readouterr().out
    assert rc == 0, printed
    for name in ("handshake", "protocol conformance", "golden outputs", "latency"):
        assert f"PASS  {name}" in printed
    res = _results(out)
    assert res["status"] == "passed" and all(c["passed"] for c in res["checks"])
    # 3 stimuli, then the last again after 3 inferences on one load.
    assert all(g["match"] for g in res["golden"]) and len(res["golden"]) == 4
    assert res["golden"][-1]["inferences"] == 3
    assert res["performance"]["short_windows"]
    assert "not the official 10 s" in printed


@pytest.mark.parametrize("labels_right", [True, False])
def test_verify_accuracy_over_part_of_the_set_is_not_checked(labels_right, firmware, tmp_path,
                                                             capsys):
    """6 stimuli say nothing about a target defined over the official set: SKIP, not PASS."""
    bench_id = classifier_bench()
    bench = get_bench(bench_id)
    build = firmware("host", bench_id)
    oracle = Oracle(model_path(bench_id), bench)

    def label(i, data):
        predicted = int(np.argmax(oracle.raw_output(data)))
        return predicted if labels_right else (predicted + 1) % bench.classes

    write_classifier_dataset(tmp_path / "data", bench_id, label, count=6, seed=3)
    rc = main(["verify", "--board", "host", "--bench", bench_id, "--no-build", "--build",
               str(build), "--model", str(model_path(bench_id)), "--quick", "--golden", "1",
               "--dataset", str(tmp_path / "data"), "--out", str(tmp_path / "s")]
              + WINDOW["host"])
    printed = capsys.readouterr().out
    assert rc == 0, printed
    shown = "100.0%" if labels_right else "0.0%"
    assert (f"SKIP  accuracy              not checked: 6 of {bench.accuracy_stimuli} stimuli "
            f"(top-1 {shown};") in printed
    assert "PASS  accuracy" not in printed and "1 not checked" in printed
    res = _results(tmp_path / "s")
    assert res["accuracy"]["target_met"] is None
    assert [c["passed"] for c in res["checks"] if c["name"] == "accuracy"] == [None]


def test_verify_judges_the_target_over_the_full_official_set(firmware, tmp_path, capsys):
    """ic01's official set is 200 stimuli: over all 200 the target is checked (PASS)."""
    bench = get_bench("ic01")
    build = firmware("host", "ic01")
    oracle = Oracle(model_path("ic01"), bench)
    write_classifier_dataset(tmp_path / "data", "ic01",
                             lambda i, d: int(np.argmax(oracle.raw_output(d))),
                             count=bench.accuracy_stimuli, seed=1)
    rc = main(["verify", "--board", "host", "--bench", "ic01", "--no-build", "--build",
               str(build), "--model", str(model_path("ic01")), "--quick", "--golden", "1",
               "--dataset", str(tmp_path / "data"), "--out", str(tmp_path / "s")]
              + WINDOW["host"])
    printed = capsys.readouterr().out
    assert rc == 0, printed
    assert "PASS  accuracy              top-1 100.0% >= target 85% over the official 200 stimuli" in printed
    acc = _results(tmp_path / "s")["accuracy"]
    assert acc["target_met"] is True and acc["measured"] == acc["total"] == 200


def test_verify_catches_an_engine_that_overwrites_its_input(firmware, tmp_path, capsys):
    """An engine whose inference leaves its input tensor changed gives the
    right answer to every single 'infer 1 0', and a wrong one to the second
    inference of an 'infer N W' over one load (the TFLM glue had this bug:
    its planner reused the input's bytes). The golden check runs both."""
    import shutil
    import subprocess
    import sys

    build = tmp_path / "clobbering"
    shutil.copytree(firmware("host", "kws01"), build)
    source = build / "src" / "submitter_implemented.c"
    text = source.read_text()
    assert "    tg_model_invoke();\n}" in text
    source.write_text(text.replace(
        "    tg_model_invoke();\n}",
        "    tg_model_invoke();\n"
        "    for (int i = 0; i < TG_MODEL_INPUT_ELEMENTS; ++i) {\n"
        "        ((volatile int8_t *)tg_model_input())[i] = 0;\n"
        "    }\n}"))
    subprocess.run([sys.executable, "-m", "SCons", "-Q", "-C", str(build)], check=True,
                   capture_output=True, timeout=600)
    rc = main(["verify", "--board", "host", "--bench", "kws", "--no-build", "--build", str(build),
               "--model", str(model_path("kws01")), "--quick", "--golden", "2",
               "--out", str(tmp_path / "session")] + WINDOW["host"])
    printed = capsys.readouterr().out
    assert rc != 0, printed
    assert "FAIL  golden outputs" in printed
    assert "after 3 inferences on one load ('infer 2 1')" in printed
