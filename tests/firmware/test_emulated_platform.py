"""The platform layer alone on the emulated boards (QEMU), driven through
the platform fixture: boot and clock setup, the console in both directions,
and the microsecond timestamp against the instruction count.

With -icount shift=S every instruction advances virtual time by 2**S ns,
so a loop of a known number of instructions must take exactly that long
on the DUT's own timestamp if SysTick really runs at the clock the firmware
believes it configured.
"""

from __future__ import annotations

import shutil

import pytest

from platform_support import FixtureConsole, build_fixture, have_arm_gcc
from tinygen.boards import load_board
from tinygen.device.launch import start_dut

EMULATED = ["disco_l475vg_iot01a", "mps2_an386"]
COMMAND_LETTERS = b"tlmgcz"

pytestmark = pytest.mark.skipif(
    not have_arm_gcc() or shutil.which("qemu-system-arm") is None,
    reason="needs arm-none-eabi-gcc and qemu-system-arm")


@pytest.fixture(scope="module", params=EMULATED)
def fixture_dut(request, tmp_path_factory):
    board = load_board(request.param)
    out = tmp_path_factory.mktemp(f"platform-{board.name}")
    done = build_fixture(board, out)
    assert done.returncode == 0, done.stderr
    with start_dut(board, out) as dut:
        console = FixtureConsole(dut.url)
        banner = console.line()
        yield board, console, banner
        console.close()


def test_boots_and_prints_banner_with_board_clock_and_baud(fixture_dut):
    board, _, banner = fixture_dut
    assert banner == (f"platform-test {board.name} clock={board.clock_hz} "
                      f"baud={board.console.baud_performance}")


def test_console_is_eight_bit_clean_both_ways(fixture_dut):
    _, console, _ = fixture_dut
    payload = bytes(b for b in range(256) if b not in COMMAND_LETTERS)
    # In pieces, as the protocol does: the host waits for each answer.
    for start in range(0, len(payload), 32):
        piece = payload[start:start + 32]
        console.port.write(piece)
        assert console.read_exactly(len(piece)) == piece


def test_timestamp_matches_instruction_count(fixture_dut):
    board, console, _ = fixture_dut
    result = console.ask("l")
    instructions = 2 * result["loop"]  # subs + bne per iteration
    expected_us = instructions * (2 ** board.emulator.icount_shift) / 1000
    # Slack: the two timestamp reads and the SysTick interrupts in between.
    assert abs(result["us"] - expected_us) <= 0.002 * expected_us + 5, result


def test_timestamp_never_goes_backwards_across_millisecond_boundaries(fixture_dut):
    _, console, _ = fixture_dut
    result = console.ask("m")
    assert result["mono"] >= 1_000_000
    assert result["back"] == 0


def test_timestamp_advances_between_requests(fixture_dut):
    _, console, _ = fixture_dut
    first = console.ask("t")["t"]
    console.ask("l")  # at least 10 ms of guest time
    second = console.ask("t")["t"]
    assert second - first >= 10_000


def test_arena_and_buffer_blocks_are_zeroed_and_writable(fixture_dut):
    _, console, _ = fixture_dut
    result = console.ask("z")
    assert result == {"zero": 1, "bytes": 128}


def test_stm32l4_clock_runs_from_the_pll(fixture_dut):
    board, console, _ = fixture_dut
    if board.family != "stm32l4":
        pytest.skip("RCC exists on STM32L4 only")
    assert console.ask("c") == {"sws": 3}


def test_disco_boots_vww_sized_blocks_in_sram1_and_sram2(tmp_path):
    """The split placement works at run time too: QEMU maps SRAM2 at
    0x10000000 only, and every byte of both blocks is written and read."""
    board = load_board("disco_l475vg_iot01a")
    done = build_fixture(board, tmp_path, arena_bytes=83_000, buffer_bytes=27_648)
    assert done.returncode == 0, done.stderr
    with start_dut(board, tmp_path) as dut:
        console = FixtureConsole(dut.url)
        try:
            assert console.line().startswith("platform-test disco_l475vg_iot01a")
            assert console.ask("z") == {"zero": 1, "bytes": 83_000 + 27_648}
        finally:
            console.close()


def test_energy_mode_pulse_lasts_at_least_a_microsecond(tmp_path):
    board = load_board("disco_l475vg_iot01a")
    done = build_fixture(board, tmp_path, mode="energy")
    assert done.returncode == 0, done.stderr
    with start_dut(board, tmp_path) as dut:
        console = FixtureConsole(dut.url)
        try:
            assert console.line().endswith(f"baud={board.console.baud_energy}")
            assert console.ask("g")["g"] >= 1
        finally:
            console.close()


@pytest.mark.parametrize("start_ms, limit_us, wraps", [
    (2**32 // 1000 - 5, 2**32, "32-bit microseconds (71.6 minutes)"),
    (2**32 - 5, 2**32 * 1000, "32-bit milliseconds (49.7 days)"),
])
def test_timestamp_keeps_counting_past_32_bit_limits(start_ms, limit_us, wraps, tmp_path):
    """The clock starts 5 ms before a 32-bit limit (a compile-time start
    value, the only test hook) and the fixture reads it back to back for
    20 ms at boot: the reads cross the limit without going backwards, and
    later reads stay consistent with the instruction count, so hours-long
    sessions never wrap."""
    board = load_board("mps2_an386")
    done = build_fixture(board, tmp_path, extra_defines=(
        f"TG_TIMESTAMP_START_MS={start_ms}ull", "FIXTURE_BOOT_READ_MS=20"))
    assert done.returncode == 0, done.stderr
    with start_dut(board, tmp_path) as dut:
        console = FixtureConsole(dut.url)
        try:
            console.line()
            boot = dict((k, int(v)) for k, v in
                        (item.split("=") for item in console.line().split()[1:]))
            loop = console.ask("l")
            after = console.ask("t")["t"]
        finally:
            console.close()
    assert boot["first"] < limit_us < boot["last"], (wraps, boot)
    assert boot["back"] == 0, (wraps, boot)
    assert boot["last"] - boot["first"] >= 20_000
    assert after > boot["last"]
    expected_us = 2 * loop["loop"] / 1000
    assert abs(loop["us"] - expected_us) <= 0.002 * expected_us + 5, (wraps, loop)
