"""tinygen run under faults: each is a clear one-line error, never a hang,
and the session folder keeps what was measured."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from tinygen.boards import load_board
from tinygen.cli import main
from tinygen.device.launch import start_dut
from tinygen.device.session import DutSession

from runner_peers import Peer, garbage, silent


def _results(folder: Path) -> dict:
    return json.loads((folder / "results.json").read_text())


def _run(argv, capsys) -> tuple[int, str, float]:
    start = time.monotonic()
    rc = main(argv)
    return rc, capsys.readouterr().err, time.monotonic() - start


def test_silent_dut(tmp_path, capsys):
    out = tmp_path / "s"
    with Peer(silent) as peer:
        rc, err, took = _run(["run", "--board", "host", "--port", peer.url, "--bench", "kws",
                              "--mode", "performance", "--timeout", "1", "--out", str(out)],
                             capsys)
    assert rc == 1 and took < 20
    assert "no boot banner" in err and len(err.strip().splitlines()) == 1
    res = _results(out)
    assert res["status"] == "failed" and "no boot banner" in res["error"]
    assert "> name%" in (out / "log.txt").read_text()


def test_garbage_on_the_line(tmp_path, capsys):
    out = tmp_path / "g"
    with Peer(garbage) as peer:
        rc, err, took = _run(["run", "--board", "host", "--port", peer.url, "--bench", "kws",
                              "--mode", "performance", "--timeout", "2", "--out", str(out)],
                             capsys)
    assert rc == 1 and took < 20
    assert "garbage on the serial line" in err
    assert _results(out)["status"] == "failed"
    assert "<garbage" in (out / "log.txt").read_text()


def test_port_that_does_not_exist(tmp_path, capsys):
    rc, err, took = _run(["run", "--board", "host", "--port", "/dev/ttyDOESNOTEXIST",
                          "--bench", "ad", "--mode", "performance", "--out", str(tmp_path / "p")],
                         capsys)
    assert rc == 1 and took < 10
    assert "cannot open the DUT's serial port /dev/ttyDOESNOTEXIST" in err


def test_bad_dataset_fails_before_the_dut_starts(firmware, tmp_path, capsys):
    build = firmware("host", "ad01")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "y_labels.csv").write_text("a.bin,2,0,2560,512\n")
    rc, err, took = _run(["run", "--board", "host", "--build", str(build), "--mode", "accuracy",
                          "--dataset", str(tmp_path / "data"), "--out", str(tmp_path / "s")],
                         capsys)
    assert rc == 1 and "a.bin does not exist" in err
    assert not (tmp_path / "s").exists()


def test_wrong_model_on_the_dut_is_refused_before_the_run(firmware, tmp_path, capsys):
    build = firmware("host", "ad01")
    board = load_board("host")
    with start_dut(board, build, log_path=tmp_path / "dut.log") as dut:
        rc, err, _ = _run(["run", "--board", "host", "--port", dut.url, "--bench", "kws",
                           "--mode", "performance", "--out", str(tmp_path / "s")], capsys)
    assert rc == 1 and "the DUT runs model 'ad01' but the benchmark is kws01" in err
    assert "performance" not in _results(tmp_path / "s")


def _stop_after_first_window(dut, folder: Path, stopped: threading.Event) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if _results(folder).get("performance", {}).get("windows"):
                break
        except (OSError, ValueError):
            pass
        time.sleep(0.05)
    dut.stop()
    stopped.set()


@pytest.mark.parametrize("board", ["host", "disco_l475vg_iot01a"])
def test_dut_dies_mid_run_keeps_measured_windows_then_restarts(board, firmware, tmp_path, capsys):
    build = firmware(board, "ad01")
    b = load_board(board)
    out = tmp_path / "s"
    stopped = threading.Event()
    with start_dut(b, build, log_path=tmp_path / "dut.log") as dut:
        killer = threading.Thread(target=_stop_after_first_window, args=(dut, out, stopped))
        killer.start()
        rc, err, took = _run(["run", "--board", board, "--port", dut.url, "--mode", "performance",
                              "--min-seconds", "1" if board == "host" else "0.3",
                              "--warmup", "0", "--timeout", "5",
                              "--out", str(out)], capsys)
        killer.join(timeout=130)
    assert stopped.is_set()
    assert rc == 1 and took < 60
    assert "lost the connection to the DUT" in err or "did not finish" in err
    res = _results(out)
    assert res["status"] == "failed"
    windows = res["performance"]["windows"]
    assert 1 <= len(windows) < 5 and windows[0]["throughput"] > 0
    assert "Median throughput is" in (out / "results.txt").read_text()
    # Restarted, the same firmware answers again.
    with start_dut(b, build, log_path=tmp_path / "dut2.log") as dut, \
            DutSession(dut.url, timeout=5) as session:
        session.wait_ready(timeout=10)
        assert session.profile()[1] == "ad01"


def test_energy_mode_firmware_is_refused_for_latency(firmware, tmp_path, capsys):
    build = firmware("host", "ad01", "energy")
    rc, err, took = _run(["run", "--board", "host", "--build", str(build), "--mode",
                          "performance", "--timeout", "5", "--out", str(tmp_path / "s")], capsys)
    assert rc == 1 and took < 30
    assert "energy-mode firmware" in err


def test_ctrl_c_keeps_what_was_measured(firmware, tmp_path):
    """A real SIGINT to a real 'tinygen run' process."""
    import os
    import signal
    import subprocess
    import sys

    build = firmware("host", "ad01")
    out = tmp_path / "s"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tinygen", "run", "--board", "host", "--build", str(build),
         "--mode", "performance", "--min-seconds", "1", "--warmup", "0", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if _results(out).get("performance", {}).get("windows"):
                    break
            except (OSError, ValueError):
                pass
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, err
    assert "interrupted" in err
    res = _results(out)
    assert res["status"] == "interrupted"
    n = len(res["performance"]["windows"])
    assert 1 <= n < 5
    # The session says it is no submission result, and why; so does its median line.
    reasons = res["validity"]["reasons"]
    assert res["validity"]["valid"] is False
    assert "interrupted: stopped by Ctrl-C" in reasons
    assert f"fewer than 5 windows: {n} of 5 performance windows measured" in reasons
    median = [ln for ln in (out / "results.txt").read_text().splitlines()
              if "Median throughput is" in ln]
    assert len(median) == 1
    assert median[0].endswith("(NOT VALID for submission: interrupted; host board; "
                              "fewer than 5 windows; short windows)")


def test_real_board_without_its_usb_port(tmp_path, capsys):
    from serial.tools import list_ports

    if any(p.vid == 0x0483 for p in list_ports.comports()):
        pytest.skip("an ST-LINK is plugged in here")
    rc, err, took = _run(["run", "--board", "nucleo_l4r5zi", "--bench", "kws", "--mode",
                          "performance", "--out", str(tmp_path / "s")], capsys)
    assert rc == 1 and took < 10
    assert "no serial port with USB id 0483:374b" in err and "pass --port" in err
    assert _results(tmp_path / "s")["status"] == "failed"


def test_dut_dies_mid_accuracy_run_keeps_scored_inferences(firmware, tmp_path, capsys):
    from runner_helpers import classifier_bench, write_classifier_dataset

    bench = classifier_bench()
    build = firmware("host", bench)
    write_classifier_dataset(tmp_path / "data", bench, lambda i, d: i % 2, count=400, seed=9)
    out = tmp_path / "s"
    stopped = threading.Event()

    def stop_when_some_measured(dut):
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if _results(out).get("accuracy", {}).get("measured", 0) >= 25:
                    break
            except (OSError, ValueError):
                pass
            time.sleep(0.02)
        dut.stop()
        stopped.set()

    with start_dut(load_board("host"), build, log_path=tmp_path / "dut.log") as dut:
        killer = threading.Thread(target=stop_when_some_measured, args=(dut,))
        killer.start()
        rc, err, took = _run(["run", "--board", "host", "--port", dut.url, "--mode", "accuracy",
                              "--dataset", str(tmp_path / "data"), "--timeout", "5",
                              "--out", str(out)], capsys)
        killer.join(timeout=130)
    assert stopped.is_set() and rc == 1
    acc = _results(out)["accuracy"]
    assert 25 <= acc["measured"] < 400 == acc["total"]
    assert len(acc["inferences"]) == acc["measured"] and acc["top1"] is not None
    assert "(incomplete)" in (out / "results.txt").read_text()
