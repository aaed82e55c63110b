"""tinygen through a real labgrid lab: coordinator, exporter and QEMU boards on loopback.

The lab publishes each emulated board as a place holding its console
(NetworkSerialPort over QEMU's TCP serial) and its debug server (GDBServer,
QEMU's gdbstub with the board halted until firmware arrives). tinygen must
acquire the place, load the firmware through it, run, and release it at the
end, after Ctrl-C or SIGTERM too; a place someone else holds is refused with
the holder's name, and a run killed with SIGKILL leaves a place that the
next run reports as held, with who holds it.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

import pytest

pytest.importorskip("labgrid", reason="labgrid is not installed (pip install labgrid)")

from tinygen.cli import main  # noqa: E402
from tinygen.device.labgrid import LabClient, PlaceHeld  # noqa: E402
from tinygen.errors import TinygenError  # noqa: E402

from lab import Lab, labgrid_tool  # noqa: E402
from runner_helpers import classifier_bench  # noqa: E402

BOARD = "disco_l475vg_iot01a"
HOLD_TIMEOUT_S = 30.0


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    if labgrid_tool("labgrid-coordinator") is None:
        pytest.skip("labgrid-coordinator is not on PATH")
    try:
        from tinygen.boards import load_board
        from tinygen.device.launch import check_qemu
        check_qemu(load_board(BOARD))
    except TinygenError as exc:
        pytest.skip(f"no QEMU for {BOARD}: {exc}")
    lab = Lab(tmp_path_factory.mktemp("lab"), BOARD)
    try:
        lab.add_qemu_board("disco-1")
        lab.add_qemu_board("disco-2")
        lab.export()
        yield lab
    finally:
        lab.close()


@pytest.fixture
def coordinator(lab, monkeypatch):
    monkeypatch.setenv("LG_COORDINATOR", lab.address)
    yield lab
    for place in lab.places:   # a failed test must not leave a place held for the next
        if lab.holder(place):
            lab.client("-p", place, "release", "--kick", check=False)


def test_verify_quick_through_a_place_then_release(coordinator, scale_firmware, tmp_path, capsys):
    bench = classifier_bench()
    build = scale_firmware(BOARD, bench)
    out = tmp_path / "session"
    rc = main(["verify", "--board", BOARD, "--bench", bench, "--no-build", "--build", str(build),
               "--quick", "--min-seconds", "0.05", "--golden", "1", "--place", "disco-1",
               "--out", str(out)])
    printed = capsys.readouterr().out
    assert rc == 0, printed
    for name in ("handshake", "protocol conformance", "golden outputs", "latency"):
        assert f"PASS  {name}" in printed
    res = json.loads((out / "results.json").read_text())
    port = coordinator.places["disco-1"]["serial"]
    assert res["places"][0]["place"] == "disco-1"
    assert res["places"][0]["url"] == f"socket://127.0.0.1:{port}"
    assert res["url"] == f"socket://127.0.0.1:{port}"
    # The gdbstub has no flash map: QEMU, so latency is read as virtual time.
    assert res["runs_as"] == "emulated" and res["emulation"]["icount_shift"] == 0
    log = (out / "log.txt").read_text()
    assert re.search(r"place disco-1: loaded and verified \d+ bytes .* \(emulated board\)", log)
    assert coordinator.holder("disco-1") is None


def test_a_second_client_is_refused_while_the_place_is_held(coordinator, scale_firmware, tmp_path,
                                                             capsys):
    build = scale_firmware(BOARD, classifier_bench())
    coordinator.client("-p", "disco-2", "acquire", user="alice")
    try:
        rc = main(["verify", "--board", BOARD, "--bench", classifier_bench(), "--no-build",
                   "--build", str(build), "--quick", "--place", "disco-2",
                   "--out", str(tmp_path / "refused")])
        err = capsys.readouterr().err
        assert rc == 1
        assert re.search(r"^tinygen: error: labgrid place 'disco-2' is held by \S+/alice "
                         r"\(since [^)]+\); wait for it to be released, or if that run is gone: "
                         r"labgrid-client -x \S+ -p disco-2 release --kick$", err, re.M), err
        # Nothing was taken from alice.
        assert coordinator.holder("disco-2").endswith("/alice")
        res = json.loads((tmp_path / "refused" / "results.json").read_text())
        assert res["status"] == "failed" and "held by" in res["error"]
    finally:
        coordinator.client("-p", "disco-2", "release", user="alice")


def test_an_unknown_place_is_refused_naming_the_places_there_are(coordinator, scale_firmware,
                                                                 tmp_path, capsys):
    build = scale_firmware(BOARD, classifier_bench())
    rc = main(["run", "--board", BOARD, "--build", str(build), "--mode", "performance",
               "--place", "disco-9", "--out", str(tmp_path / "unknown")])
    err = capsys.readouterr().err
    assert rc == 1
    assert f"coordinator {coordinator.address} has no place 'disco-9' (places: disco-1, disco-2)" in err


def test_jobs_over_two_places_equals_one_local_dut(coordinator, scale_firmware, oracle_dataset,
                                                   tmp_path):
    bench = classifier_bench()
    build = scale_firmware(BOARD, bench)
    data = oracle_dataset(bench, 12)
    runs = {}
    for name, where in (("local", []), ("lab", ["--place", "disco-1,disco-2"])):
        out = tmp_path / name
        assert main(["run", "--board", BOARD, "--build", str(build), "--mode", "accuracy",
                     "--dataset", str(data), "--out", str(out)] + where) == 0
        runs[name] = json.loads((out / "results.json").read_text())["accuracy"]
    lab_acc = runs["lab"]
    assert lab_acc["jobs"] == 2 and {i["dut"] for i in lab_acc["inferences"]} == {1, 2}
    strip = [{k: v for k, v in i.items() if k != "dut"} for i in lab_acc["inferences"]]
    assert strip == runs["local"]["inferences"] and lab_acc["top1"] == runs["local"]["top1"]
    assert coordinator.holder("disco-1") is None and coordinator.holder("disco-2") is None


class Holder:
    """'tinygen flash --place' in its own process: flashes, then holds the place
    until a signal. ``output`` collects what it prints."""

    def __init__(self, lab: Lab, build, place: str):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tinygen", "flash", "--board", BOARD, "--build", str(build),
             "--place", place],
            env={**os.environ, "LG_COORDINATOR": lab.address}, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_flashed(self) -> None:
        deadline = time.monotonic() + HOLD_TIMEOUT_S
        while "held as" not in self.output:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"tinygen flash --place did not flash and hold: {self.output}")
            time.sleep(0.1)

    def stop(self, how=None) -> None:
        if how is not None and self.proc.poll() is None:
            self.proc.send_signal(how)
        try:
            self.proc.wait(timeout=20)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(timeout=5)
            self._reader.join(5)


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_an_interrupted_run_releases_its_place(coordinator, scale_firmware, how):
    build = scale_firmware(BOARD, classifier_bench())
    holder = Holder(coordinator, build, "disco-1")
    try:
        holder.wait_flashed()
        who = coordinator.holder("disco-1")
        assert who and f"held as {who}" in holder.output
        # While it holds the place, another tinygen is refused and told who holds it.
        with LabClient(coordinator.address) as other, pytest.raises(PlaceHeld) as refused:
            other.acquire("disco-1")
        assert refused.value.holder == who
    finally:
        holder.stop(how)
    assert "loaded and verified" in holder.output, holder.output
    assert "released labgrid place disco-1" in holder.output, holder.output
    assert coordinator.holder("disco-1") is None


def test_a_killed_run_leaves_a_place_the_next_run_reports_held(coordinator, scale_firmware,
                                                               tmp_path, capsys):
    build = scale_firmware(BOARD, classifier_bench())
    flasher = Holder(coordinator, build, "disco-1")
    try:
        flasher.wait_flashed()
        holder = coordinator.holder("disco-1")
    finally:
        flasher.stop(signal.SIGKILL)   # nothing can release
    assert coordinator.holder("disco-1") == holder
    capsys.readouterr()
    rc = main(["run", "--board", BOARD, "--build", str(build), "--mode", "performance",
               "--place", "disco-1", "--out", str(tmp_path / "after-kill")])
    message = capsys.readouterr().err
    assert rc == 1
    assert f"held by {holder} (since " in message
    assert "an earlier run of yours" in message and "-p disco-1 release" in message
    # The fix the message names frees it.
    coordinator.client("-p", "disco-1", "release")
    assert coordinator.holder("disco-1") is None
