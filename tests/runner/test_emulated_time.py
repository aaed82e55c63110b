"""On an emulated board a latency is virtual time: results say it in instructions."""

from __future__ import annotations

from tinygen.boards import load_board
from tinygen.runner.record import emulation_info, instructions_text, summary_text


def test_real_and_host_boards_have_no_emulation_note():
    assert emulation_info(load_board("nucleo_l4r5zi")) is None
    assert emulation_info(load_board("host")) is None


def test_disco_latency_reads_as_instructions_and_board_time():
    info = emulation_info(load_board("disco_l475vg_iot01a"))
    assert info["ns_per_instruction"] == 1 and info["board_clock_hz"] == 80_000_000
    # 11.033 ms of 1-ns instructions = 11.033 M instructions = 137.9 ms at 80 MHz.
    text = instructions_text(11.033, info)
    assert "11.033 M instructions" in text and "137.912 ms at 80 MHz" in text


def test_summary_adds_the_emulation_line_after_the_median():
    info = emulation_info(load_board("mps2_an386"))
    data = {"status": "passed", "emulation": info, "performance": {
        "windows": [], "median_throughput": 1000.0, "latency_ms": 1.0}}
    lines = summary_text(data).splitlines()
    i = lines.index("Median latency is 1.000 ms.")
    assert lines[i + 1].startswith("Emulated: 1.000 M instructions") and "40.000 ms at 25 MHz" in lines[i + 1]


def test_with_a_cycle_estimate_the_board_time_is_in_estimated_cycles():
    info = emulation_info(load_board("mps2_an386"))
    info["cycles"] = {"core": "cortex-m4", "confidence": "high", "cycles_per_instruction": 1.5,
                      "cycles": 1500, "flash_wait_states": 0, "flash_upper_cycles": 1500}
    # 1 M instructions x 1.5 = 1.5 M cycles = 60 ms at 25 MHz.
    text = instructions_text(1.0, info)
    assert "1.500 M cycles (estimated: cortex-m4 timings" in text and "60.000 ms at 25 MHz" in text


def test_flash_wait_states_follow_the_parts_clock_rules():
    assert load_board("nucleo_l4r5zi").flash_wait_states == 5      # 120 MHz boost: 20 MHz a state
    assert load_board("disco_l475vg_iot01a").flash_wait_states == 4  # 80 MHz: 16 MHz a state
    assert load_board("nucleo_f446re").flash_wait_states == 5      # 180 MHz: 30 MHz a state
    assert load_board("nucleo_h7a3zi_q").flash_wait_states == 6    # 280 MHz: 42 MHz a state
    assert load_board("nucleo_u575zi_q").flash_wait_states == 4    # 160 MHz: 32 MHz a state
    assert load_board("mps2_an386").flash_wait_states == 0
