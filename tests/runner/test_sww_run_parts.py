"""Pieces of the sww run that need no DUT: the DUT's activation summary and the power
from an energy monitor's capture (between the DUT's start and stop timestamp pulses)."""

from __future__ import annotations

import pytest

from tinygen.boards import load_board
from tinygen.device.emon import EnergyCapture
from tinygen.runner.sww_run import _power, activations


def test_activation_summary_is_read_from_stop():
    lines = ["m-stop-[streaming]",
             "m-activations-[hops=531,detections=75,overruns=0,max_hop_us=1500]"]
    act = activations(lines)
    assert (act["hops"], act["detections"], act["overruns"], act["max_hop_us"]) == \
        (531, 75, 0, 1500)
    assert activations(["m-stop-[idle]"]) is None


def test_measured_power_is_the_energy_between_the_two_pulses_over_their_distance():
    # 1 ms samples: 10 uJ before the start pulse (sample 100), 25.6 uJ from it to the
    # stop pulse (sample 900), 10 uJ after: 800 x 25.6 uJ / 0.8 s = 25.6 mW.
    samples = [10e-6] * 100 + [25.6e-6] * 800 + [10e-6] * 100
    capture = EnergyCapture("lpm01a", 0.001, samples, [100, 900])
    power = _power(load_board("nucleo_l4r5zi"), "energy", capture, 0.5, 3.3)
    assert power["power_mw"] == pytest.approx(25.6, rel=1e-9)
    assert power["estimated"] is False and power["seconds"] == pytest.approx(0.8)


def test_without_a_monitor_the_power_is_an_estimate():
    # disco_l475: 26.4 mW run power x duty 0.5 = 13.2 mW, estimated.
    power = _power(load_board("disco_l475vg_iot01a"), "energy", None, 0.5, None)
    assert power["estimated"] is True and power["power_mw"] == pytest.approx(13.2, rel=1e-12)


def test_full_window_is_a_streaming_build_option_only(capsys):
    """build --full-window (the build --compare-build sets beside the incremental one)
    is refused by name for a benchmark that runs one inference per stimulus."""
    from tinygen.cli import main
    assert main(["build", "--board", "host", "--bench", "kws", "--full-window"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--full-window is for the streaming benchmark" in err
