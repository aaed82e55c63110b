"""The sww interface-board driver against the SIMULATOR of the board, with a real DUT.

The DUT is the host-built firmware (a native process on a pseudo-terminal)
answering 'dut ...' through the board; the board's own sww commands (ls,
record_detections, play, print_detections, print_dutycycle) are the
simulator's. The host DUT has no pins: the recording tests hand the
simulator pin edges the way the QEMU pin watcher delivers them
(name, level, icount, virtual ns), and check what the board then prints and
what the driver reads back. The emulated sww DUT's own pins are exercised by
the end-to-end run test.
"""

from __future__ import annotations

import pytest

from tinygen.device.iface import InterfaceError
from tinygen.device.sim.sww_iface import SIM_NAME, StreamInterfaceSimulator
from tinygen.device.sww_iface import StreamInterface
from tinygen.errors import TinygenError
from tinygen.runner.sww_score import (detection_stats, duty_cycle, parse_detections,
                                      parse_dutycycle)

MS = 1_000_000


@pytest.fixture
def board(host_dut):
    made = []

    def make(hops: int = 0, play_timeout_s: float = 5.0):
        sim = StreamInterfaceSimulator(host_dut, "stream.wav", hops, play_timeout_s=play_timeout_s)
        made.append(sim)
        return sim

    yield make
    for sim in made:
        sim.close()


def test_board_commands_and_passthrough(board):
    sim = board()
    with StreamInterface(sim.url, 10.0) as iface:
        iface.wait_ready()
        assert iface.board_name == SIM_NAME
        assert iface.ls() == ["stream.wav"]
        assert iface.record_detections() == ["Now recording detections"]
        assert iface.name()  # the DUT's name, through the board
        assert parse_detections(iface.print_detections()) == []
        assert parse_dutycycle(iface.print_dutycycle()) == ([], [])


def test_playing_another_file_is_refused_by_name(board):
    sim = board()
    with StreamInterface(sim.url, 10.0) as iface:
        iface.wait_ready()
        with pytest.raises(InterfaceError, match="could not play other.wav"):
            iface.play("other.wav", 1.0)


def test_recorded_pins_come_back_as_the_official_runner_reads_them(board):
    sim = board(hops=3)
    with StreamInterface(sim.url, 10.0) as iface:
        iface.wait_ready()
        iface.record_detections()
        # Sync pulse at 100 ms, a detection at 1100 ms and a bounce 5 ms later
        # (the board's 10 ms debounce drops it); frames of 8 ms every 32 ms.
        for ns, name, level in [(100 * MS, "detected", 0), (100 * MS + 1000, "detected", 1),
                                (1100 * MS, "detected", 0), (1105 * MS, "detected", 0)]:
            sim.edge(name, level, ns, ns)
        for k in range(3):
            t = 100 * MS + k * 32 * MS
            sim.edge("processing", 1, t, t)
            sim.edge("processing", 0, t + 8 * MS, t + 8 * MS)
        ticks = []
        iface.play("stream.wav", 5.0, progress=ticks.append)   # 3 frames done: returns
        detections = parse_detections(iface.print_detections())
        starts, stops = parse_dutycycle(iface.print_dutycycle())
    # Times from the first recorded edge (100 ms): detections 0 and 1000 ms.
    assert detections == [0, 1000]
    assert detection_stats(detections, [[0.5, 1.0]]).counts == (1, 0, 0)
    d = duty_cycle(starts, stops)
    assert d.duty_cycle == pytest.approx(0.25) and d.period_s == pytest.approx(0.032)
    assert sim.progress() == (pytest.approx(0.096), 1)


def test_only_the_first_100_processing_edges_are_kept(board):
    sim = board()
    with StreamInterface(sim.url, 10.0) as iface:
        iface.wait_ready()
        iface.record_detections()
        for k in range(150):
            sim.edge("processing", 1, k * 32 * MS, k * 32 * MS)
            sim.edge("processing", 0, k * 32 * MS + MS, k * 32 * MS + MS)
        starts, stops = parse_dutycycle(iface.print_dutycycle())
    assert len(starts) == len(stops) == 100
    assert stops[-1] == pytest.approx(99 * 0.032 + 0.001)


def test_no_detection_is_an_error_naming_the_sync_pulse(board):
    sim = board()
    with StreamInterface(sim.url, 10.0) as iface:
        iface.wait_ready()
        iface.record_detections()
        with pytest.raises(TinygenError, match="sync pulse"):
            detection_stats(parse_detections(iface.print_detections()), [[1.0, 1.5]])
