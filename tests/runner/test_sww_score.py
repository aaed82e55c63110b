"""sww01 scoring as the official runner's calc_detection_stats and process_dutycycle
behave; every expected figure is derived by hand in the test's comment."""

from __future__ import annotations

import pytest

from tinygen.boards import load_board
from tinygen.errors import TinygenError
from tinygen.runner.sww_score import (board_clock_duty, detection_stats, duty_cycle,
                                      duty_cycle_from_edges, estimated_power, parse_detections,
                                      parse_dutycycle)


def test_first_detection_is_the_time_origin():
    # Relative to the sync at 5000 ms: 1.5 s lies in [1.0, 1.5 + 2] and 7.0 s in [6.0, 8.5].
    s = detection_stats([5000, 6500, 12000], [[1.0, 1.5], [6.0, 6.5]])
    assert s.counts == (2, 0, 0)
    assert s.true_positives == [1.0, 6.0] and s.sync_ms == 5000


def test_window_end_is_t1_plus_two_seconds_inclusive():
    # (1.5 + 1) + 1 = 3.5: a detection at 3.500 s counts, at 3.501 s it is a miss and an FP.
    assert detection_stats([0, 3500], [[1.0, 1.5]]).counts == (1, 0, 0)
    s = detection_stats([0, 3501], [[1.0, 1.5]])
    assert s.counts == (0, 1, 1)
    assert s.false_negatives == [1.0] and s.false_positives == [3.501]


def test_window_start_is_inclusive_and_earlier_is_a_false_positive():
    assert detection_stats([100, 1100], [[1.0, 1.5]]).counts == (1, 0, 0)
    assert detection_stats([100, 1099], [[1.0, 1.5]]).counts == (0, 1, 1)


def test_every_detection_inside_a_word_window_is_used_up():
    # 1.2, 1.3 and 3.4 s all lie in [1.0, 3.5]: one TP, nothing left over.
    assert detection_stats([0, 1200, 1300, 3400], [[1.0, 1.5]]).counts == (1, 0, 0)


def test_a_detection_serves_only_the_first_window_that_holds_it():
    # 2.2 s lies in both [1, 3.5] and [2, 4.5]: the first word takes it, the second is missed.
    s = detection_stats([0, 2200], [[1.0, 1.5], [2.0, 2.5]])
    assert (s.true_positives, s.false_negatives) == ([1.0], [2.0])


def test_false_positives_are_debounced_by_one_second():
    # 10.000 removes 10.500 and 11.000 (<= 11.000); 11.001 is kept and keeps 12.500
    # (more than 1000 ms later): 3 false positives.
    s = detection_stats([0, 10000, 10500, 11000, 11001, 12500], [])
    assert s.false_positives == [10.0, 11.001, 12.5]


def test_equal_false_positive_times_are_not_debounced():
    # The official comparison is strictly later (>): a duplicate time stays.
    assert detection_stats([0, 5000, 5000], []).counts == (0, 0, 2)


def test_f1_of_the_published_sww_result():
    # Every v1.3 entry: 44 TP, 6 FN, 4 FP -> F1 = 88 / (88 + 10) = 0.897959...
    words = [[10.0 * k, 10.0 * k + 0.5] for k in range(1, 51)]
    hits = [int((10.0 * k + 0.2) * 1000) for k in range(1, 45)]
    fps = [600_000, 610_000, 620_000, 630_000]
    s = detection_stats([0] + hits + fps, words)
    assert s.counts == (44, 6, 4)
    assert s.f1 == pytest.approx(88 / 98, rel=1e-15)


def test_no_detection_at_all_names_the_sync_pulse():
    with pytest.raises(TinygenError, match="sync pulse"):
        detection_stats([], [[1.0, 1.5]])


def test_duty_cycle_is_mean_on_time_over_mean_period():
    # Ticks of 10 us: starts 0, 32, 64 ms; stops 4, 36, 70 ms. On-times 4, 4, 6 ms
    # (mean 14/3 ms); periods 32, 32 ms. Duty = (14/3) / 32 = 0.1458333; throughput
    # 1 / (14/3 ms) = 214.2857 inf./s.
    starts, stops = parse_dutycycle(["Duty cycle start times (s)", "0,3200,6400,",
                                     "Duty cycle stop times (s)", "400,3600,7000,m-ready"])
    d = duty_cycle(starts, stops)
    assert d.duty_cycle == pytest.approx(14 / 3 / 32, rel=1e-12)
    assert d.throughput == pytest.approx(1000 * 3 / 14, rel=1e-12)
    assert d.period_s == pytest.approx(0.032, rel=1e-12) and not d.irregular


def test_duty_cycle_flags_irregular_frame_periods():
    # Periods 32 and 33 ms: spread 1 / 32.5 = 3.1 % > 2 %.
    d = duty_cycle([0.0, 0.032, 0.065], [0.001, 0.033, 0.066])
    assert d.irregular and d.period_spread == pytest.approx(0.001 / 0.0325, rel=1e-9)


def test_unpaired_processing_edges_are_refused():
    with pytest.raises(TinygenError, match="pair up"):
        duty_cycle([0.0, 0.032], [0.004])


def test_edges_pair_rising_with_the_next_falling():
    # A falling edge before the first rising one (pin already high) is skipped;
    # an unfinished last frame is dropped.
    d = duty_cycle_from_edges([(0, 0.0), (1, 0.010), (0, 0.012), (1, 0.042), (0, 0.044),
                               (1, 0.074)])
    assert d.starts_s == [0.010, 0.042] and d.stops_s == [0.012, 0.044]


def test_print_detections_parses_milliseconds():
    lines = ["Detection Timestamps (ms)", "1234,", "5678,", "m-ready"]
    assert parse_detections(lines) == [1234, 5678]


def test_older_interface_firmware_prints_seconds():
    starts, stops = parse_dutycycle(["Duty cycle start times (s)", "0.00000, 0.03200, m-ready"])
    assert starts == [0.0, 0.032] and stops == []


def test_a_wrong_header_names_the_interface_firmware():
    with pytest.raises(TinygenError, match="interface firmware"):
        parse_detections(["m-ready"])


def test_estimated_power_is_run_power_times_duty():
    # disco_l475: 100 uA/MHz x 80 MHz x 3.3 V = 26.4 mW; x 0.25 = 6.6 mW.
    est = estimated_power(load_board("disco_l475vg_iot01a"), 0.25)
    assert est["run_power_mw"] == pytest.approx(26.4, rel=1e-12)
    assert est["estimated_power_mw"] == pytest.approx(6.6, rel=1e-12)
    assert est["basis"].startswith("estimated")


def test_board_clock_duty_counts_one_cycle_per_instruction():
    # 800,000 instructions at 80 MHz = 10 ms of a 32 ms frame: duty 0.3125, 100 inf./s.
    d = board_clock_duty(800_000, 80e6)
    assert d["duty_cycle"] == pytest.approx(0.3125)
    assert d["estimated_throughput"] == pytest.approx(100)
