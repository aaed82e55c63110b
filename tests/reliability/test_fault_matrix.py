"""The rows of docs/fault-matrix.md that no other test covers.

Each fault: what the user sees (one line on stderr, exit code) and what is
kept in the session folder. The other rows are tests in tests/runner
(test_runner_cli_faults.py, test_runner_session_faults.py); the doc names
them. Fault injectors here are the loopback DUT of this folder (reset, wrong
baud rate through a simulated UART) and real processes (QEMU killed with
SIGKILL, tinygen run interrupted by a real SIGINT, a real full filesystem).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tinygen.boards import load_board
from tinygen.cli import main
from tinygen.device.launch import start_dut

from loopback import BANNER, Bend, LoopbackDut, misclocked

ROOT = Path(__file__).resolve().parents[2]


def _results(folder: Path) -> dict:
    return json.loads((folder / "results.json").read_text())


def _run(argv, capsys) -> tuple[int, str, float]:
    start = time.monotonic()
    rc = main(argv)
    return rc, capsys.readouterr().err, time.monotonic() - start


def _kws_run(url: str, out: Path, *extra: str) -> list[str]:
    return ["run", "--board", "host", "--port", url, "--bench", "kws", "--mode", "performance",
            "--timeout", "2", "--min-seconds", "0.01", "--out", str(out), *extra]


# ---------------------------------------------------------------- DUT reset mid-run

def test_dut_reset_mid_run_is_named_and_keeps_the_session(tmp_path, capsys):
    """The DUT prints its boot banner in answer to the first infer."""
    def reset_on_infer(command: str, index: int) -> Bend:
        return Bend(kind="raw", data=BANNER) if command.startswith("infer") else Bend()

    out = tmp_path / "s"
    with LoopbackDut([], bend_for=reset_on_infer, model="kws01") as peer:
        rc, err, took = _run(_kws_run(peer.url, out), capsys)
    assert rc == 1 and took < 30
    assert "the DUT restarted during 'infer 1 0'" in err and len(err.strip().splitlines()) == 1
    res = _results(out)
    assert res["status"] == "failed" and "restarted" in res["error"]
    assert res["dut"]["model"] == "kws01"
    log = (out / "log.txt").read_text()
    after = log[log.index("> infer 1 0%"):]
    assert "< m-timestamp-mode-performance" in after


# ---------------------------------------------------------------- wrong baud rate

@pytest.mark.parametrize("dut_baud, host_baud", [(9600, 115200), (115200, 9600)])
def test_wrong_baud_rate_names_the_baud_rate(dut_baud, host_baud, tmp_path, capsys):
    """A DUT at one rate read at another, through a simulated 8N1 UART:
    what arrives is noise, and the error says to check the baud rate."""
    out = tmp_path / "s"
    with LoopbackDut([], wire=lambda data: misclocked(data, dut_baud, host_baud)) as peer:
        rc, err, took = _run(_kws_run(peer.url, out, "--baud", str(host_baud)), capsys)
    assert rc == 1 and took < 30
    assert "baud rate" in err and len(err.strip().splitlines()) == 1
    assert _results(out)["status"] == "failed"
    assert "> name%" in (out / "log.txt").read_text()


# ---------------------------------------------------------------- disk full

@pytest.fixture
def small_disk(tmp_path):
    """A real 64 KiB filesystem (tmpfs; needs root, as CI runs)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)],
                          capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True, timeout=30)


def test_disk_full_while_writing_the_session(firmware, small_disk, capsys):
    """The disk fills up during the run: one clear error, exit 1, and the
    files written before stay whole (results.json is replaced atomically)."""
    build = firmware("host", "ad01")
    out = small_disk / "s"
    filler = small_disk / "filler"
    stop = threading.Event()

    def fill_after_first_window():
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not stop.is_set():
            try:
                if _results(out).get("performance", {}).get("windows"):
                    break
            except (OSError, ValueError):
                pass
            time.sleep(0.02)
        try:
            with open(filler, "wb") as sink:
                while True:
                    sink.write(b"\0" * 4096)
                    sink.flush()
        except OSError:
            pass

    filling = threading.Thread(target=fill_after_first_window)
    filling.start()
    try:
        with start_dut(load_board("host"), build, log_path=small_disk.parent / "dut.log") as dut:
            rc, err, took = _run(["run", "--board", "host", "--port", dut.url, "--mode",
                                  "performance", "--min-seconds", "0.5", "--warmup", "0",
                                  "--timeout", "5", "--out", str(out)], capsys)
    finally:
        stop.set()
        filling.join(timeout=70)
    assert rc == 1 and took < 90
    assert "cannot write the session folder" in err and "No space left on device" in err
    assert len(err.strip().splitlines()) == 1, err
    res = _results(out)                       # still valid JSON: the last good save
    assert res["status"] == "running" and len(res["performance"]["windows"]) >= 1
    assert not list(out.glob("*.tmp"))


# ---------------------------------------------------------------- emulator killed

def test_emulator_killed_mid_run_keeps_measured_windows(firmware, tmp_path, capsys):
    """SIGKILL to QEMU (no chance to close the socket cleanly) after the first window."""
    build = firmware("mps2_an386", "ad01")
    out = tmp_path / "s"
    killed = threading.Event()

    def kill_after_first_window(dut):
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if _results(out).get("performance", {}).get("windows"):
                    break
            except (OSError, ValueError):
                pass
            time.sleep(0.02)
        os.kill(dut.process.pid, signal.SIGKILL)
        killed.set()

    with start_dut(load_board("mps2_an386"), build, log_path=tmp_path / "dut.log") as dut:
        killer = threading.Thread(target=kill_after_first_window, args=(dut,))
        killer.start()
        rc, err, took = _run(["run", "--board", "mps2_an386", "--port", dut.url, "--mode",
                              "performance", "--min-seconds", "0.2", "--warmup", "0",
                              "--timeout", "5", "--out", str(out)], capsys)
        killer.join(timeout=130)
    assert killed.is_set() and rc == 1 and took < 90
    assert "lost the connection to the DUT" in err or "did not finish" in err
    assert len(err.strip().splitlines()) == 1
    res = _results(out)
    assert res["status"] == "failed" and 1 <= len(res["performance"]["windows"]) < 5


# ---------------------------------------------------------------- Ctrl-C at every phase

PHASES = {
    # phase: a line of log.txt that shows the run is in it
    "connecting": "# connecting to",
    "handshake": "< m-init-done",
    "model check": "> profile%",
    "download": "> db load",
    "timing run": "> infer 1 0%",
    "window": "< m-infer-start-",
}


def _firmware_processes(executable: Path) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv0 = (proc / "cmdline").read_bytes().split(b"\0")[0].decode()
        except OSError:
            continue
        if argv0 == str(executable):
            found.append(int(proc.name))
    return found


@pytest.mark.parametrize("phase", list(PHASES))
def test_ctrl_c_at_every_phase(phase, firmware, tmp_path):
    """A real SIGINT to a real 'tinygen run', at each phase of the run:
    exit 130, 'interrupted', no traceback, the session folder kept and
    marked interrupted, and the DUT process it started is gone."""
    build = firmware("host", "ad01")
    out = tmp_path / "s"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-m", "tinygen", "run", "--board", "host", "--build", str(build),
         "--mode", "performance", "--min-seconds", "2", "--warmup", "0", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    marker = PHASES[phase]
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if marker in (out / "log.txt").read_text():
                    break
            except OSError:
                pass
            time.sleep(0.005)
        assert proc.poll() is None, f"the run ended before phase {phase}"
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err, err
    assert _results(out)["status"] == "interrupted"
    assert marker in (out / "log.txt").read_text()
    deadline = time.monotonic() + 10
    while _firmware_processes(build / "firmware") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _firmware_processes(build / "firmware"), "the host DUT outlived the run"



@pytest.mark.parametrize("line", ["m-timestamp-mode-performance", "m-init-done", "m-ready"])
def test_ctrl_c_at_each_boot_banner_line_ends_the_run_interrupted(line, firmware, tmp_path,
                                                                  monkeypatch, capsys):
    """The handshake phase without polling: a real SIGINT raised in the
    run's own process the moment the transcript records each boot banner
    line (test_ctrl_c_at_every_phase sends it from outside, when log.txt
    shows one). Nothing between reading the banner and the first command
    may swallow it: exit 130, 'interrupted', the session marked so."""
    from tinygen.runner.record import SessionRecord

    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    build = firmware("host", "ad01")
    out = tmp_path / "s"
    record_line = SessionRecord.transcript
    sent = []

    def transcript(self, direction, text):
        record_line(self, direction, text)
        if direction == "<" and text == line and not sent:
            sent.append(text)
            signal.raise_signal(signal.SIGINT)

    monkeypatch.setattr(SessionRecord, "transcript", transcript)
    rc, err, _ = _run(["run", "--board", "host", "--build", str(build), "--mode", "performance",
                       "--min-seconds", "2", "--warmup", "0", "--out", str(out)], capsys)
    assert sent == [line]
    assert rc == 130, err
    assert "interrupted" in err and "Traceback" not in err, err
    assert _results(out)["status"] == "interrupted"
    log = (out / "log.txt").read_text()
    assert f"< {line}" in log and "> profile%" not in log
    assert not _firmware_processes(build / "firmware"), "the host DUT outlived the run"


# ---------------------------------------------------------------- the doc names real tests

def test_rows_name_tests_that_exist():
    """Every test docs/fault-matrix.md names is a test function in that file."""
    import re

    doc = (ROOT / "docs" / "fault-matrix.md").read_text()
    named = re.findall(r"`(tests/[\w/]+\.py)::(\w+)`", doc)
    assert len(named) >= 20
    for path, name in named:
        source = (ROOT / path).read_text()
        assert re.search(rf"^def {name}\(", source, re.M), f"{path}::{name} does not exist"
    rows = [ln for ln in doc.splitlines() if ln.startswith("| ") and "::" in ln]
    for fault in ("silent DUT", "DUT reset", "garbage", "port vanishes", "emulator killed",
                  "wrong model", "wrong baud", "energy-mode firmware", "disk full", "Ctrl-C"):
        assert any(fault in row for row in rows), fault
