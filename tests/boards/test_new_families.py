"""The new families and cores on their emulators (issue 21): a Cortex-M3
(Arm MPS2 AN385, and TI Stellaris on QEMU lm3s6965evb), an STM32F4
(STM32F405 on QEMU netduinoplus2) and a Cortex-M0 with 16 KB of RAM (nRF51
on QEMU microbit), each booted and checked with `tinygen verify --quick`
(golden outputs bit-exact with the TFLM oracle). What does not fit the
micro:bit is refused by how many bytes it lacks.

The other benchmarks on these boards (all four on mps2_an385 and
netduinoplus2, ic01 on lm3s6965evb) are run by
benchmarks/firmware_size_speed.py.
"""

from __future__ import annotations

import json
import shutil

import pytest

from tinygen.boards import load_board
from tinygen.cli import main
from tinygen.errors import TinygenError
from tinygen.port.build import build_firmware

QUICK = ["--quick", "--min-seconds", "0.05", "--golden", "2", "--timeout", "120"]

needs_tools = pytest.mark.skipif(
    shutil.which("arm-none-eabi-gcc") is None or shutil.which("qemu-system-arm") is None,
    reason="needs arm-none-eabi-gcc and qemu-system-arm")


@needs_tools
@pytest.mark.parametrize("board", ["mps2_an385", "lm3s6965evb", "netduinoplus2", "microbit"])
def test_new_family_passes_verify_quick(board, tmp_path, capsys):
    out = tmp_path / "session"
    rc = main(["verify", "--board", board, "--bench", "kws", "--build", str(tmp_path / "build"),
               "--out", str(out), *QUICK])
    printed = capsys.readouterr().out
    assert rc == 0, printed[-2000:]
    for check in ("handshake", "protocol conformance", "golden outputs", "latency"):
        assert f"PASS  {check}" in printed
    results = json.loads((out / "results.json").read_text())
    assert all(g["match"] for g in results["golden"])


@pytest.mark.parametrize("bench, what", [("ic", "RAM does not fit on microbit by 26048 bytes"),
                                         ("vww", "RAM does not fit on microbit by")])
def test_what_does_not_fit_the_microbit_is_refused_by_the_bytes(tmp_path, bench, what):
    with pytest.raises(TinygenError, match=what):
        build_firmware(load_board("microbit"), bench, out_dir=tmp_path / "build")


def test_the_new_boards_are_the_cores_they_say():
    cores = {name: load_board(name).cpu for name in
             ("mps2_an385", "lm3s6965evb", "netduinoplus2", "microbit", "nucleo_f446re",
              "nrf52840dk")}
    assert cores == {"mps2_an385": "cortex-m3", "lm3s6965evb": "cortex-m3",
                     "netduinoplus2": "cortex-m4", "microbit": "cortex-m0",
                     "nucleo_f446re": "cortex-m4", "nrf52840dk": "cortex-m4"}
    assert load_board("microbit").ram_bytes == 16 * 1024


@pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="needs arm-none-eabi-gcc")
@pytest.mark.parametrize("board", ["nucleo_f446re", "nrf52840dk"])
def test_real_boards_of_the_new_families_build_in_both_modes_and_fit(board, tmp_path):
    """Compiled and size-checked only: no emulator models them."""
    real = load_board(board)
    assert real.is_real and not real.is_emulated and "never run" in real.notes
    for mode in ("performance", "energy"):
        built = build_firmware(real, "kws", mode=mode, out_dir=tmp_path / "build", jobs=2)
        assert built.size.flash_bytes <= real.flash_bytes
        assert built.size.ram_bytes <= real.ram_bytes
    header = (tmp_path / "build" / "src" / "tg_board.h").read_text()
    assert "#define TG_HAS_ENERGY_GPIO 1" in header and "#define TG_ENERGY_MODE 1" in header
    assert "never ran it" in built.size.stack_note


def test_flash_wait_states_come_from_the_family_file_alone(tmp_path):
    """The firmware's TG_FLASH_LATENCY and the cycle estimate's wait-state
    range read one rule, family.yaml's flash_wait."""
    from tinygen.families import load_family_file, shipped_families

    l4 = shipped_families()["stm32l4"]
    assert [l4.flash_wait.states(hz) for hz in (16_000_000, 80_000_000, 120_000_000)] == [0, 4, 5]
    assert shipped_families()["mps2"].flash_wait.states(25_000_000) == 0
    board = load_board("nucleo_l4r5zi")
    assert f"#define TG_FLASH_LATENCY {board.flash_wait_states}u" in board.family_macros

    folder = tmp_path / "stm32l4"
    shutil.copytree(l4.folder, folder)
    text = (folder / "family.yaml").read_text()
    (folder / "family.yaml").write_text(text.replace(", boost_step_hz: 20000000", ""))
    with pytest.raises(TinygenError) as err:
        load_family_file(folder / "family.yaml")
    assert "flash_wait.boost_step_hz" in str(err.value) and "\n" not in str(err.value)
