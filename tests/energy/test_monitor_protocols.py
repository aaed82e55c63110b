"""The energy-monitor drivers against the SIMULATORS of their protocols.

Here the simulators take their time and pin edges from a scripted clock
(``ScriptedPin``): these tests prove the drivers' protocol handling and
error paths in isolation. test_energy_emulated.py drives the same pair
from the emulated DUT's real timestamp pin.
"""

from __future__ import annotations

import socket

import pytest

from tinygen.device.emon import EnergyCapture, EnergyMonitorError, TooFewTimestamps, open_monitor
from tinygen.device.emon.joulescope import Joulescope
from tinygen.device.emon.lpm01a import Lpm01a, format_sample, parse_sample, parse_samples
from tinygen.device.qemu_pins import PinEdge
from tinygen.device.sim import LoadModel
from tinygen.device.sim.joulescope import JoulescopeSimulator
from tinygen.device.sim.lpm01a import Lpm01aSimulator

# The official runner's LPM01A setup, in its order, then power on and start.
OFFICIAL_SETUP = ["htc", "pwr off", "acqtime inf", "trigdelay 0", "trigsrc sw",
                  "eventsrc d7 fal", "output energy", "format ascii_dec", "freq 1k"]
LOAD = LoadModel(active_w=0.0264, ripple=0.0)   # 26.4 mW: 8 mA at 3.3 V


class ScriptedPin:
    """Plays the pin watcher's role: a clock and edges given by the test."""

    def __init__(self):
        self.t = 0
        self._ticks, self._edges = [], []

    def now_ns(self) -> int:
        return self.t

    def on_tick(self, fn) -> None:
        self._ticks.append(fn)

    def on_edge(self, fn) -> None:
        self._edges.append(fn)

    def run_to(self, ns: int) -> None:
        self.t = ns
        for fn in self._ticks:
            fn(ns)

    def pulse(self, at_ns: int, width_ns: int = 2000) -> None:
        for level, t in ((0, at_ns), (1, at_ns + width_ns)):
            self.t = t
            for fn in self._edges:
                fn(PinEdge(level, t, t))


@pytest.fixture
def lpm():
    made = []

    def make(**kwargs):
        pin = ScriptedPin()
        sim = Lpm01aSimulator(LOAD, **kwargs)
        sim.attach(pin)
        made.append(sim)
        return sim, pin

    yield make
    for sim in made:
        sim.close()


def test_sample_format_round_trips_the_lpm01a_ascii_notation():
    assert parse_sample("6409-07") == pytest.approx(6409e-07)
    assert parse_sample("TimeStamp: 001s 000ms") is None
    for value in (2.64e-05, 1.0e-9, 0.5, 123.4):
        assert parse_sample(format_sample(value)) == pytest.approx(value, rel=1e-3)
    assert format_sample(2.64e-05) == "2640-08"
    # Several samples may share a line; anything else on it makes it a message.
    assert parse_samples("2640-08 2641-08") == pytest.approx([2.64e-05, 2.641e-05])
    assert parse_samples("event 1 ris") is None and parse_samples("2640-08 ack") is None


def test_driver_sends_the_official_setup_and_parses_the_energy_stream(lpm):
    sim, pin = lpm()
    with Lpm01a(sim.url, timeout=3.0) as mon:
        mon.setup(voltage=3.0)
        mon.power_on()
        assert mon.version == "1.0.7"
        mon.start()
        pin.run_to(2_000_000)
        pin.pulse(2_500_000)
        pin.run_to(500_000_000)
        pin.pulse(502_000_000)
        capture = mon.stop()
    sent = [c for c in sim.commands if not c.startswith(("lcd", "version"))]
    assert sent[:len(OFFICIAL_SETUP)] == OFFICIAL_SETUP
    assert sent[len(OFFICIAL_SETUP):] == ["volt 3000m", "pwr on nostatus", "start", "stop",
                                          "pwr off", "hrc"]
    assert capture.events == [2, 502]
    assert capture.window_seconds() == pytest.approx(0.5)
    # 500 samples of 26.4 uJ each (the 4-digit notation rounds each a little).
    assert capture.window_energy_j() == pytest.approx(0.0264 * 0.5, rel=1e-3)


def test_old_lpm01a_firmware_refusing_pwr_off_is_a_named_error(lpm):
    sim, _ = lpm(firmware="1.0.5")
    with Lpm01a(sim.url, timeout=3.0) as mon:
        with pytest.raises(EnergyMonitorError, match=r"refused 'pwr off'.*update the PowerShield"):
            mon.setup()


def test_a_silent_monitor_is_a_named_error(lpm):
    sim, _ = lpm(silent=True)
    with Lpm01a(sim.url, timeout=0.5) as mon:
        with pytest.raises(EnergyMonitorError, match=r"did not answer 'htc' within 0.5 s"):
            mon.setup()


def test_a_missing_monitor_port_is_a_named_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]
    with pytest.raises(EnergyMonitorError, match="cannot open the LPM01A"):
        Lpm01a(f"socket://127.0.0.1:{free}").open()
    with pytest.raises(EnergyMonitorError, match="unknown energy monitor"):
        open_monitor("n6705", None)


def test_a_window_without_two_events_is_too_few_timestamps():
    capture = EnergyCapture("lpm01a", 0.001, [1e-5] * 50, [12])
    with pytest.raises(TooFewTimestamps, match="Too few timestamps"):
        capture.window_energy_j()


def test_lpm01a_simulator_refuses_what_the_protocol_refuses(lpm):
    sim, _ = lpm()
    with Lpm01a(sim.url, timeout=3.0) as mon:
        for bad in ("volt 5000m", "freq 3k", "eventsrc d3 fal", 'lcd 3 "x"', "frobnicate"):
            with pytest.raises(EnergyMonitorError, match=f"refused '{bad}'"):
                mon.command(bad)
        assert mon.command("volt get") == "3300m"


def test_joulescope_driver_without_the_package_names_the_install():
    try:
        import joulescope  # noqa: F401
        pytest.skip("the joulescope package is installed here")
    except ImportError:
        pass
    with pytest.raises(EnergyMonitorError, match="pip install joulescope"):
        Joulescope("js220").open()


@pytest.mark.parametrize("model", ["js220", "js110"])
def test_joulescope_driver_bins_energy_and_finds_gpi_falling_edges(model):
    pin = ScriptedPin()
    sim = JoulescopeSimulator(LOAD, model=model)
    sim.attach(pin)
    with Joulescope(model, device=sim) as mon:
        mon.setup(3.3)
        assert sim.params["current_lsb"] == "gpi0" and sim.params["io_voltage"] == "3.3V"
        mon.start()
        pin.run_to(1_000_000)
        pin.pulse(3_200_000)
        pin.run_to(20_000_000)
        pin.pulse(53_700_000)
        pin.run_to(60_000_000)
        capture = mon.stop()
    assert capture.events == [3, 53]
    assert capture.window_energy_j() == pytest.approx(0.0264 * 0.050, rel=1e-3)


def test_a_window_with_an_extra_event_is_refused_as_not_consecutive():
    from tinygen.errors import TinygenError
    from tinygen.runner.energy import check_events
    capture = EnergyCapture("lpm01a", 0.001, [1e-5] * 90, [10, 40, 80])
    # The official rule takes the last two events; a third means something else
    # pulsed the pin inside the window, so the window is refused, not measured.
    assert capture.window() == (40, 80)
    with pytest.raises(TinygenError, match="saw 3 timestamp events, expected 2 consecutive"):
        check_events(capture, "window 1")
