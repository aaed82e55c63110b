"""DutSession: strict results parsing and every fault ends in a clear error, never a hang."""

from __future__ import annotations

import time

import pytest

from tinygen.device.session import (
    DutDisconnected, DutError, DutReset, DutSession, DutTimeout, parse_infer, parse_results_line,
)
from tinygen.errors import TinygenError

from runner_peers import Peer, garbage, hangs_up, reboots, silent


def test_results_line_parses_probabilities():
    assert parse_results_line("m-results-[0.000,0.996,-1.5e-3]") == [0.0, 0.996, -0.0015]


def test_results_line_single_score():
    assert parse_results_line("m-results-[12.345678]") == [12.345678]


@pytest.mark.parametrize("line", [
    "m-results-[]",
    "m-results-[0.1,,0.2]",
    "m-results-[0.1,0.2",
    "m-results-0.1,0.2]",
    "m-results-[0.1,abc]",
    "m-results-[nan]",
    "m-results-[inf]",
    "m-results-[0.1 0.2]",
    "m-results-[0.1,0.2]x",
    "results-[0.1]",
    "m-results-[1.2.3]",
])
def test_results_line_rejects_malformed(line):
    with pytest.raises(DutError):
        parse_results_line(line)


def test_port_that_does_not_exist_is_a_clear_error():
    start = time.monotonic()
    with pytest.raises(TinygenError, match="cannot open the DUT's serial port /dev/ttyNOPE9"):
        DutSession("/dev/ttyNOPE9").open()
    assert time.monotonic() - start < 5


def test_refused_socket_is_a_clear_error_after_connect_timeout():
    # Bind a port and close it so that nobody listens there.
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    with pytest.raises(TinygenError, match="cannot open"):
        DutSession(f"socket://127.0.0.1:{port}", connect_timeout=0.5).open()


def test_silent_dut_times_out_naming_the_command():
    with Peer(silent) as peer, DutSession(peer.url, timeout=0.6) as dut:
        start = time.monotonic()
        with pytest.raises(DutTimeout, match="'profile' within 0.6 s.*received: nothing"):
            dut.profile()
        assert time.monotonic() - start < 3
    assert b"profile%" in peer.received


def test_silent_dut_fails_wait_ready():
    with Peer(silent) as peer, DutSession(peer.url) as dut:
        with pytest.raises(DutTimeout, match="no boot banner"):
            dut.wait_ready(timeout=1.0, quiet=0.2)
    assert b"name%" in peer.received


def test_garbage_on_the_line_is_a_clear_error():
    with Peer(garbage) as peer, DutSession(peer.url, timeout=2) as dut:
        with pytest.raises(DutError, match="garbage on the serial line during 'name'"):
            dut.name()


def test_dut_hanging_up_is_a_clear_error():
    with Peer(hangs_up) as peer, DutSession(peer.url, timeout=3) as dut:
        with pytest.raises((DutDisconnected, DutTimeout), match="infer 5 1"):
            dut.infer(5, 1)


GOOD_INFER = ["m-warmup-start-2", "m-warmup-done", "m-infer-start-5", "m-lap-us-1000",
              "m-lap-us-51000", "m-infer-done", "m-results-[0.5,0.25]"]


def test_infer_output_parses_window_and_results():
    r = parse_infer(GOOD_INFER, 5, 2)
    assert (r.start_us, r.end_us, r.elapsed_us, r.values) == (1000, 51000, 50000, [0.5, 0.25])
    assert r.throughput == pytest.approx(5 / 0.05)


def test_infer_output_in_energy_mode_has_no_timestamps():
    r = parse_infer([ln for ln in GOOD_INFER if "lap" not in ln], 5, 2)
    assert r.elapsed_us is None and r.throughput is None and r.values == [0.5, 0.25]


@pytest.mark.parametrize("edit, message", [
    (lambda ls: [ln for ln in ls if ln != "m-infer-done"], "m-infer-start and m-infer-done"),
    (lambda ls: [ln for ln in ls if ln != "m-infer-start-5"], "m-infer-start and m-infer-done"),
    (lambda ls: [ln.replace("start-5", "start-4") for ln in ls], "announced"),
    (lambda ls: [ln for ln in ls if ln != "m-lap-us-51000"], "printed 1 timestamps"),
    (lambda ls: [ln.replace("51000", "999") for ln in ls], "clock ran backwards"),
    (lambda ls: [ln for ln in ls if not ln.startswith("m-results")], "0 results lines"),
    (lambda ls: ls + ["m-results-[0.1,0.2]"], "2 results lines"),
    (lambda ls: [ln.replace("0.25]", "0.25") for ln in ls], "malformed results line"),
])
def test_infer_output_is_checked_strictly(edit, message):
    with pytest.raises(DutError, match=message):
        parse_infer(edit(list(GOOD_INFER)), 5, 2)


def test_dut_that_reboots_mid_command_is_reported_as_a_reset():
    with Peer(reboots) as peer, DutSession(peer.url, timeout=3) as dut:
        with pytest.raises(DutReset, match="the DUT restarted during 'infer 10 1'") as info:
            dut.infer(10, 1)
        assert info.value.lines == ["m-timestamp-mode-performance"]
