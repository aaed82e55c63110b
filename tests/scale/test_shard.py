"""Sharded accuracy runs (--jobs, --port lists) against real DUTs: QEMU and host processes.

The merged session must equal a one-DUT run's apart from timing and the DUT
that served each stimulus; a DUT killed mid-run must have its unfinished
stimuli rerun on the others, and the session must say so.
"""

from __future__ import annotations

import json
import re
import threading
import time
from pathlib import Path

import pytest

from tinygen.boards import load_board
from tinygen.cli import main
from tinygen.device.launch import start_dut
from tinygen.errors import TinygenError
from tinygen.runner.shard import check_jobs, split_evenly, split_ports

from runner_helpers import classifier_bench

EMULATED = "disco_l475vg_iot01a"
# Keys a sharded run adds to the accuracy record; everything else must be equal.
SHARD_KEYS = {"jobs", "shards", "reruns"}


def _results(folder: Path) -> dict:
    return json.loads((folder / "results.json").read_text())


def _without_shards(acc: dict) -> dict:
    out = {k: v for k, v in acc.items() if k not in SHARD_KEYS}
    out["inferences"] = [{k: v for k, v in inf.items() if k != "dut"} for inf in acc["inferences"]]
    return out


def _accuracy_lines(text: str) -> list[str]:
    """The summary's accuracy block and check row, without the line naming the DUTs."""
    lines = text.splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.startswith("Accuracy over"))
    block = []
    for ln in lines[start:]:
        if not ln.strip():
            break
        if not ln.startswith("Served by"):
            block.append(ln)
    return block + [ln for ln in lines if re.match(r"^(PASS|FAIL|SKIP)  accuracy", ln)]


def test_split_evenly_covers_the_dataset_in_order():
    assert split_evenly(10, 4) == [range(0, 2), range(2, 5), range(5, 7), range(7, 10)]
    assert [i for r in split_evenly(7, 3) for i in r] == list(range(7))
    assert split_evenly(1, 2) == [range(0, 0), range(0, 1)]


def test_jobs_and_port_lists_must_agree():
    assert split_ports("/dev/ttyACM0, /dev/ttyACM1") == ["/dev/ttyACM0", "/dev/ttyACM1"]
    assert check_jobs(None, ["a", "b"]) == 2 and check_jobs(3, []) == 3 and check_jobs(None, []) == 1
    with pytest.raises(TinygenError, match="--jobs 3 but 2 DUT port"):
        check_jobs(3, ["a", "b"])
    with pytest.raises(TinygenError, match="--jobs 2 but 1 DUT port"):
        check_jobs(2, ["socket://lab:5000"])
    with pytest.raises(TinygenError, match="--jobs must be 1 to"):
        check_jobs(0, [])
    with pytest.raises(TinygenError, match="lists a port twice"):
        split_ports("a,a")


def test_verify_jobs_2_gives_the_jobs_1_accuracy_report(scale_firmware, oracle_dataset, tmp_path):
    bench = classifier_bench()
    build = scale_firmware(EMULATED, bench)
    data = oracle_dataset(bench, 24)
    sessions = {}
    for jobs in (1, 2):
        out = tmp_path / f"jobs{jobs}"
        main(["verify", "--board", EMULATED, "--bench", bench, "--no-build", "--build", str(build),
              "--dataset", str(data), "--quick", "--min-seconds", "0.05", "--golden", "1",
              "--jobs", str(jobs), "--out", str(out)])
        sessions[jobs] = out
    one, two = (_results(sessions[j]) for j in (1, 2))
    assert one["accuracy"]["measured"] == two["accuracy"]["measured"] == 24
    assert _without_shards(two["accuracy"]) == _without_shards(one["accuracy"])
    assert 0 < one["accuracy"]["top1"] < 1
    # The checks' table and the summary say the same about accuracy.
    acc_rows = [[c for c in r["checks"] if c["name"] == "accuracy"] for r in (one, two)]
    assert acc_rows[0] == acc_rows[1] and acc_rows[0]
    texts = [(sessions[j] / "results.txt").read_text() for j in (1, 2)]
    assert _accuracy_lines(texts[0]) == _accuracy_lines(texts[1]) != []
    # Both DUTs served stimuli, every one is named, and the shards were contiguous halves.
    shards = two["accuracy"]["shards"]
    assert [(s["first"], s["last"]) for s in shards] == [(0, 11), (12, 23)]
    assert all(s["served"] > 0 and s["status"] == "done" for s in shards)
    assert sum(s["served"] for s in shards) == 24
    assert {inf["dut"] for inf in two["accuracy"]["inferences"]} == {1, 2}
    assert two["accuracy"]["reruns"]["count"] == 0
    assert (sessions[2] / "dut-2.log").is_file()
    log = (sessions[2] / "log.txt").read_text()
    assert "[dut1] > db load" in log and "[dut2] > db load" in log


def test_a_dut_killed_mid_run_has_its_stimuli_rerun_on_the_other(scale_firmware, oracle_dataset,
                                                                  tmp_path):
    bench = classifier_bench()
    board = load_board("host")
    build = scale_firmware("host", bench)
    # Enough stimuli that the run is still going when the first progress line
    # (after 2 s) brings the Ctrl-C: 60 were all done by then on faster kernels.
    data = oracle_dataset(bench, 600)
    reference = tmp_path / "one"
    assert main(["run", "--board", "host", "--build", str(build), "--mode", "accuracy",
                 "--dataset", str(data), "--out", str(reference)]) == 0
    out = tmp_path / "two"
    with start_dut(board, build, log_path=tmp_path / "a.log") as first, \
            start_dut(board, build, log_path=tmp_path / "b.log") as second:
        killed = threading.Event()

        def kill_second_after_three_results():
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                log = out / "log.txt"
                text = log.read_text() if log.is_file() else ""
                if len(re.findall(r"\[dut2\] < m-results-", text)) >= 3:
                    second.process.kill()
                    killed.set()
                    return
                time.sleep(0.005)

        watcher = threading.Thread(target=kill_second_after_three_results, daemon=True)
        watcher.start()
        rc = main(["run", "--board", "host", "--build", str(build), "--mode", "accuracy",
                   "--dataset", str(data), "--port", f"{first.url},{second.url}",
                   "--timeout", "5", "--out", str(out)])
        watcher.join(5)
    assert killed.is_set(), "the watcher never saw DUT 2 serve three stimuli"
    assert rc == 0
    one, two = _results(reference)["accuracy"], _results(out)["accuracy"]
    assert _without_shards(two) == _without_shards(one)
    lost = [s for s in two["shards"] if s["dut"] == 2][0]
    assert lost["status"] == "lost" and lost["error"]
    assert 3 <= lost["served"] < lost["assigned"]
    reruns = two["reruns"]
    assert reruns["lost_duts"] == [2]
    assert reruns["count"] == lost["assigned"] - lost["served"] > 0
    assert all(r["from_dut"] == 2 and r["served_by"] == 1 for r in reruns["stimuli"])
    rerun_names = {r["stimulus"] for r in reruns["stimuli"]}
    assert all(inf["dut"] == 1 for inf in two["inferences"] if inf["stimulus"] in rerun_names)
    assert "DUT 2 lost at" in (out / "log.txt").read_text()
    assert "rerun on the other DUTs" in (out / "results.txt").read_text()


def test_performance_mode_measures_one_dut_whatever_jobs_says(scale_firmware, tmp_path, caplog):
    build = scale_firmware("host", classifier_bench())
    out = tmp_path / "perf"
    caplog.set_level("INFO")
    assert main(["run", "--board", "host", "--build", str(build), "--mode", "performance",
                 "--jobs", "2", "--min-seconds", "0.05", "--warmup", "1", "--out", str(out)]) == 0
    res = _results(out)
    assert len(res["performance"]["windows"]) == 5 and "duts" not in res
    assert not (out / "dut-2.log").exists()
    assert "performance mode measures one DUT" in caplog.text


def test_ctrl_c_stops_every_shard_and_keeps_what_was_measured(scale_firmware, oracle_dataset,
                                                              tmp_path):
    import signal
    import subprocess
    import sys

    bench = classifier_bench()
    build = scale_firmware(EMULATED, bench)
    # Enough stimuli that the run is still going when the first progress line
    # (after 2 s) brings the Ctrl-C: 60 were all done by then on faster kernels.
    data = oracle_dataset(bench, 600)
    out = tmp_path / "interrupted"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tinygen", "run", "--board", EMULATED, "--build", str(build),
         "--mode", "accuracy", "--dataset", str(data), "--jobs", "2", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True)
    try:
        for line in proc.stdout:   # the first progress line: both shards are running
            if "accuracy stimulus" in line and "(dut1" in line:
                break
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)
    assert proc.returncode == 130, rest
    res = _results(out)
    acc = res["accuracy"]
    assert res["status"] == "interrupted"
    assert 0 < acc["measured"] < acc["total"] == 600
    assert all(s["status"] == "stopped" for s in acc["shards"])
    # What was kept is in dataset order and scored.
    order = [inf["stimulus"] for inf in acc["inferences"]]
    assert order == sorted(order) and acc["top1"] is not None
    assert "(incomplete)" in (out / "results.txt").read_text()
