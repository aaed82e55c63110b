"""The interface-board driver against the SIMULATOR of the board, with a real DUT.

The DUT is the host-built firmware (a native process on a pseudo-terminal)
speaking the real protocol; the interface board between it and the driver
is the simulator (``[dut]: `` framing, 64-character receive buffer).
"""

from __future__ import annotations

import socket
import threading
import time

import pytest

from tinygen.benches import get_bench
from tinygen.device.iface import InterfaceError, InterfacedDutSession
from tinygen.device.sim.iface import InterfaceBoardSimulator
from tinygen.errors import TinygenError
from tinygen.runner.dataset import random_stimuli


@pytest.fixture
def board(host_dut):
    made = []

    def make(kind: str = "h573"):
        sim = InterfaceBoardSimulator(host_dut, kind=kind)
        made.append(sim)
        return sim

    yield make
    for sim in made:
        sim.close()


def test_the_dut_answers_through_the_board_in_26_byte_db_lines(board):
    sim = board("h573")
    bench = get_bench("kws01")
    stim = random_stimuli(bench, 1, seed=7)[0]
    with InterfacedDutSession(sim.url, 10.0) as dut:
        dut.wait_ready()
        assert dut.board_name == "tinyML Enhanced Interface Board"
        assert dut.profile()[1] == "kws01"
        dut.load(stim.data)
        result = dut.infer(2, 1)
    assert len(result.values) == bench.classes
    db_lines = [c for c in sim.forwarded if c.startswith("db ") and c != f"db load {len(stim.data)}"]
    assert len(db_lines) == -(-len(stim.data) // 26)
    assert max(len(c) for c in db_lines) == len("db ") + 2 * 26


def test_a_31_byte_db_line_does_not_fit_the_board(board):
    sim = board("arduino")
    with pytest.raises(TinygenError, match="at most 26 bytes per db line"):
        InterfacedDutSession(sim.url, 5.0, kind="arduino", chunk_bytes=31)
    # Sent anyway, the board's 64-character buffer cuts the line (the board
    # echoes what it kept), and the driver says so instead of going on.
    with InterfacedDutSession(sim.url, 5.0, kind="arduino") as dut:
        dut.wait_ready()
        dut.command("db load 31")
        with pytest.raises(InterfaceError, match=r"m-dut-passthrough\(db (ab){28}a\)'\], expected"):
            dut.command("db " + "ab" * 31)
    assert sim.forwarded[-1] == "db " + ("ab" * 31)[:64 - len("dut db ")]


def test_a_silent_interface_board_is_a_named_error():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    accepted = []
    threading.Thread(target=lambda: accepted.append(server.accept()), daemon=True).start()
    try:
        with InterfacedDutSession(f"socket://127.0.0.1:{server.getsockname()[1]}", 1.0) as dut:
            started = time.monotonic()
            with pytest.raises(InterfaceError, match=r"interface board .* did not answer 'name'"):
                dut.wait_ready(timeout=1.0)
            assert time.monotonic() - started < 5.0
    finally:
        server.close()
