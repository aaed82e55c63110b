"""RAM placement, the board header and the linker script, proved by the
real cross compiler and linker (no emulator needed)."""

from __future__ import annotations

import functools
import re
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from platform_support import build_fixture, have_arm_gcc, render_port_headers, symbol_address
from tinygen.benches import get_bench
from tinygen.boards import MemoryRegion, load_board
from tinygen.errors import TinygenError
from tinygen.port.ram_placement import plan_placement

needs_gcc = pytest.mark.skipif(not have_arm_gcc(), reason="arm-none-eabi-gcc not installed")

DISCO = "disco_l475vg_iot01a"
VWW_ARENA = 83_000  # about what vww01 needs with its input kept alive


def test_vww_fits_disco_with_buffer_in_sram2_and_arena_in_sram1():
    board = load_board(DISCO)
    placement = plan_placement(board, VWW_ARENA, get_bench("vww").input_bytes, 4096)
    assert placement.arena_region == "SRAM1"
    assert placement.buffer_region == "SRAM2"
    for region in board.regions("ram"):
        assert placement.planned_bytes(region.name) <= region.size


def test_small_model_keeps_everything_in_the_largest_region():
    placement = plan_placement(load_board(DISCO), 2048, 490, 4096)
    assert {placement.region_of(b) for b in ("arena", "buffer", "data", "stack")} == {"SRAM1"}


def test_overflow_on_one_region_board_names_the_missing_bytes():
    board = load_board("mps2_an386")
    ram = board.regions("ram")[0].size
    with pytest.raises(TinygenError, match=r"by 1024 bytes"):
        plan_placement(board, ram - 4096 - 4096 - 64 + 1024, 64, 4096, data_bytes=4096)


def test_overflow_on_split_ram_is_the_smallest_possible_overflow():
    # Arena 112 B larger than SRAM1; buffer, .data/.bss and stack (35 840 B)
    # cannot all go to SRAM2 (32 768 B) either: the best split is 3 072 B
    # over SRAM2 plus the 112 B the arena is over SRAM1.
    board = load_board(DISCO)
    with pytest.raises(TinygenError, match=r"by 3184 bytes") as err:
        plan_placement(board, 96 * 1024 + 112, 27_648, 4096, data_bytes=4096)
    assert "\n" not in str(err.value)
    assert "smaller model" in str(err.value)


def test_aligned_sizes_are_counted():
    board = load_board("mps2_an386")
    ram = board.regions("ram")[0].size
    # 4 MiB minus the others fits exactly when aligned; one byte more overflows by 16
    # because the arena is 16-byte aligned.
    exact = ram - 4096 - 4096 - 64
    plan_placement(board, exact, 64, 4096, data_bytes=4096)
    with pytest.raises(TinygenError, match=r"by 16 bytes"):
        plan_placement(board, exact + 1, 64, 4096, data_bytes=4096)


def test_host_board_has_no_placement():
    with pytest.raises(TinygenError, match="host"):
        plan_placement(load_board("host"), 100, 100, 100)


def test_negative_size_is_refused():
    with pytest.raises(TinygenError, match="negative"):
        plan_placement(load_board(DISCO), -1, 100, 100)


def test_three_region_board_uses_every_region_when_needed():
    board = load_board(DISCO)
    extra = MemoryRegion("SRAM3", "ram", 0x30000000, 16 * 1024)
    board = replace(board, memory=board.memory + (extra,))
    placement = plan_placement(board, 90 * 1024, 30 * 1024, 12 * 1024, data_bytes=4096)
    assert placement.arena_region == "SRAM1"
    assert placement.buffer_region == "SRAM2"
    assert placement.stack_region == "SRAM3"


def test_board_header_for_nucleo_runs_boosted_pll_at_120_mhz(tmp_path):
    render_port_headers(load_board("nucleo_l4r5zi"), tmp_path, mode="energy")
    header = (tmp_path / "tg_board.h").read_text()
    macros = dict(re.findall(r"^#define (\w+) (\S+)", header, re.MULTILINE))
    assert macros["TG_CLOCK_BOOST"] == "1"
    assert int(macros["TG_PLL_N"].rstrip("u")) * 8_000_000 == 120_000_000
    assert macros["TG_FLASH_LATENCY"] == "5u"
    assert macros["TG_CONSOLE_IS_LPUART"] == "1"
    assert macros["TG_CONSOLE_NEEDS_VDDIO2"] == "1"
    assert macros["TG_CONSOLE_BAUD"] == "9600u"
    assert macros["TG_ENERGY_MODE"] == "1"
    assert macros["TG_ENERGY_GPIO_PORT"] == "5u" and macros["TG_ENERGY_GPIO_PIN"] == "13u"


def test_board_header_for_disco_runs_80_mhz_with_four_wait_states(tmp_path):
    render_port_headers(load_board(DISCO), tmp_path)
    macros = dict(re.findall(r"^#define (\w+) (\S+)", (tmp_path / "tg_board.h").read_text(),
                             re.MULTILINE))
    assert macros["TG_CLOCK_BOOST"] == "0"
    assert macros["TG_FLASH_LATENCY"] == "4u"
    assert macros["TG_CONSOLE_IRQ"] == "37u"
    assert macros["TG_CONSOLE_BASE"] == "0x40013800u"


@needs_gcc
@pytest.mark.parametrize("board_name", ["nucleo_l4r5zi", DISCO, "mps2_an386"])
@pytest.mark.parametrize("mode", ["performance", "energy"])
def test_platform_compiles_warning_free(board_name, mode, tmp_path):
    done = build_fixture(load_board(board_name), tmp_path, mode=mode)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""


@needs_gcc
def test_vww_sized_blocks_link_into_their_planned_regions(tmp_path):
    board = load_board(DISCO)
    done = build_fixture(board, tmp_path, arena_bytes=VWW_ARENA,
                         buffer_bytes=get_bench("vww").input_bytes)
    assert done.returncode == 0, done.stderr
    elf = tmp_path / "firmware.elf"
    regions = {r.name: r for r in board.regions("ram")}
    for symbol, region in (("_stg_arena", "SRAM1"), ("_etg_arena", "SRAM1"),
                           ("_stg_buffer", "SRAM2"), ("_etg_buffer", "SRAM2"),
                           ("_sstack", "SRAM1")):
        address = symbol_address(elf, symbol)
        r = regions[region]
        assert r.base <= address <= r.base + r.size, (symbol, hex(address))
    assert symbol_address(elf, "_etg_arena") - symbol_address(elf, "_stg_arena") >= VWW_ARENA
    # The stack comes first in its region, so an overflow faults below RAM.
    assert symbol_address(elf, "_sstack") == regions["SRAM1"].base


@needs_gcc
def test_linker_reports_a_block_larger_than_planned(tmp_path):
    board = load_board(DISCO)
    # Plan for a vww-sized buffer (SRAM2), then compile a 40 KiB one: the
    # linker checks the real sizes against the plan and names the overflow.
    done = build_fixture(board, tmp_path, arena_bytes=VWW_ARENA, buffer_bytes=40 * 1024,
                         planned_buffer_bytes=get_bench("vww").input_bytes)
    assert done.returncode != 0
    assert re.search(r"overflowed by \d+ bytes|will not fit in region", done.stderr), done.stderr


@functools.lru_cache(maxsize=1)
def disco_board():
    return load_board(DISCO)


region_sizes = st.lists(st.integers(1, 256 * 1024), min_size=1, max_size=3)
block_size = st.integers(0, 300 * 1024)


@settings(max_examples=200, deadline=None)
@given(sizes=region_sizes, arena=block_size, buffer=block_size,
       stack=st.integers(0, 16 * 1024), data=st.integers(0, 16 * 1024))
def test_placement_fits_every_region_or_names_a_real_overflow(sizes, arena, buffer, stack, data):
    board = disco_board()
    flash = board.regions("flash")
    ram = tuple(MemoryRegion(f"RAM{i}", "ram", 0x20000000 + i * 0x1000000, s)
                for i, s in enumerate(sizes))
    board = replace(board, memory=flash + ram)
    try:
        placement = plan_placement(board, arena, buffer, stack, data_bytes=data)
    except TinygenError as exc:
        overflow = int(re.search(r"by (\d+) bytes", str(exc)).group(1))
        needed = arena + buffer + stack + data
        assert overflow > 0
        assert overflow >= needed - sum(sizes)
        # No single block may go anywhere bigger than the largest region.
        largest = max(sizes)
        assert overflow >= max(arena, buffer, stack, data) - largest
        return
    for region in ram:
        assert placement.planned_bytes(region.name) <= region.size
    # Shrinking a block never breaks a plan that fits.
    plan_placement(board, arena // 2, buffer // 2, stack, data_bytes=data)
