"""The real boards of recent MLPerf Tiny rounds build and fit: NUCLEO-H7A3ZI-Q
(Cortex-M7, stm32h7) and NUCLEO-U575ZI-Q (Cortex-M33, stm32u5). No hardware
is needed to build; their platform code was only compiled, never run, and
the board notes say so.

CI builds kws in both modes and ic2 (the largest model) on each; every
bench in both modes on both boards is marked slow:
    pytest -m slow tests/boards/test_real_boards.py
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tinygen.benches import BENCHMARKS
from tinygen.boards import load_board
from tinygen.port.build import build_firmware

REAL = ["nucleo_h7a3zi_q", "nucleo_u575zi_q"]

pytestmark = pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None,
                                reason="needs arm-none-eabi-gcc")


def test_boards_name_their_pyocd_target_and_say_they_were_only_compiled():
    h7, u5 = (load_board(n) for n in REAL)
    assert (h7.cpu, h7.fpu, h7.clock_hz, h7.pyocd_target) == (
        "cortex-m7", "fpv5-d16", 280_000_000, "stm32h7a3zitxq")
    assert (u5.cpu, u5.fpu, u5.clock_hz, u5.pyocd_target) == (
        "cortex-m33", "fpv5-sp-d16", 160_000_000, "stm32u575zitxq")
    for b in (h7, u5):
        assert b.is_real and not b.is_emulated
        assert "never run" in b.notes
    # The ST-LINK virtual COM ports.
    assert (h7.console.instance, h7.console.tx.pin, h7.console.rx.pin) == ("USART3", "PD8", "PD9")
    assert (u5.console.instance, u5.console.tx.pin, u5.console.rx.pin) == ("USART1", "PA9", "PA10")


def _symbols(elf) -> set[str]:
    out = subprocess.run(["arm-none-eabi-nm", str(elf)], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    return {line.split()[-1] for line in out.splitlines() if line.strip()}


def _build_both_modes(board: str, bench: str, tmp_path):
    """Performance, then energy in the same folder: SCons recompiles only
    what the mode changes (tg_board.h, the port), not the model."""
    out = tmp_path / f"{board}-{bench}"
    results = {}
    for mode in ("performance", "energy"):
        results[mode] = build_firmware(board, bench, mode=mode, out_dir=out, jobs=2)
        r = results[mode]
        assert r.elf.is_file() and r.bin.is_file()
        assert r.size.flash_bytes <= load_board(board).flash_bytes
        header = (out / "src" / "tg_board.h").read_text()
        assert f"#define TG_ENERGY_MODE {1 if mode == 'energy' else 0}" in header
    return results


@pytest.mark.parametrize("board", REAL)
def test_kws_builds_in_both_modes(board, tmp_path):
    results = _build_both_modes(board, "kws", tmp_path)
    symbols = _symbols(results["energy"].elf)
    assert "tg_energy_timestamp" in symbols
    if load_board(board).timestamp == "dwt":
        # timestamp: dwt generates the cycle-counter code, not SysTick's.
        assert "tg_cycles_high" in symbols


@pytest.mark.parametrize("board", REAL)
def test_ic2_the_largest_model_fits(board, tmp_path):
    result = build_firmware(board, "ic2", out_dir=tmp_path, jobs=2)
    assert result.size.parts["weights"]["flash"] > 480_000
    assert result.size.ram_bytes <= load_board(board).ram_bytes


@pytest.mark.slow
@pytest.mark.parametrize("bench", [b.short for b in BENCHMARKS])
@pytest.mark.parametrize("board", REAL)
def test_every_bench_builds_in_both_modes(board, bench, tmp_path):
    _build_both_modes(board, bench, tmp_path)
