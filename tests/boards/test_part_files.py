"""Parts are data: a user adds a part beside their board, and a part tinygen
does not know is named as unknown, never steered to another family's part.

Issue 21: porting a NUCLEO-F446RE gave "did you mean 'stm32l476rg'?" and
"did you mean 'stm32l4'?", and following them built STM32L4 register code
for an F446. These tests hold the fixes: same-family suggestions only, one
line naming the unknown part and how to add it, part files found beside
the board, in TINYGEN_BOARDS or by path, validated as strictly as boards.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from tinygen.boards import load_board, load_board_file
from tinygen.chips import load_part_file
from tinygen.cli import main
from tinygen.errors import TinygenError
from tinygen.paths import boards_dir

F446_BOARD = """\
name: nucleo_f446re
title: NUCLEO-F446RE
vendor: STMicroelectronics
family: {family}
chip: stm32f446re
clock_hz: 180000000
console:
  instance: USART2
  tx: {{pin: PA2, af: 7}}
  rx: {{pin: PA3, af: 7}}
  baud: {{performance: 115200, energy: 9600}}
timestamp: systick
flash: {{pyocd_target: stm32f446retx}}
"""


@pytest.mark.parametrize("family, chip, says, fix", [
    # The case, now that tinygen ships the F446: steered to its family.
    ("stm32l4", "stm32f446re", "stm32f446re is a stm32f4 part, not stm32l4", "set family: stm32f4"),
    # A part tinygen does not ship: named unknown, with how to add it.
    ("stm32l4", "stm32f446rc", "unknown part 'stm32f446rc'", "parts/stm32f446rc.yaml"),
    ("stm32g4", "stm32g474re", "unknown part 'stm32g474re'", "chip: as its path"),
])
def test_a_part_is_never_steered_to_another_familys_part(tmp_path, family, chip, says, fix):
    path = tmp_path / "nucleo_f446re.yaml"
    path.write_text(F446_BOARD.format(family=family).replace("stm32f446re", chip))
    with pytest.raises(TinygenError) as err:
        load_board_file(path)
    message = str(err.value)
    assert "did you mean" not in message, message
    chip_lines = [line for line in message.splitlines() if "key 'chip'" in line]
    assert len(chip_lines) == 1, message
    assert says in chip_lines[0] and fix in chip_lines[0], chip_lines[0]
    if family == "stm32g4":
        assert "no platform code for family 'stm32g4'" in message


def test_a_typo_of_a_known_part_is_suggested_within_its_family(tmp_path):
    data = yaml.safe_load((boards_dir() / "nucleo_l4r5zi.yaml").read_text())
    data["chip"] = "stm32l4r5z"
    path = tmp_path / "nucleo_l4r5zi.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(TinygenError, match="did you mean 'stm32l4r5zi'"):
        load_board_file(path)


def _part(folder: Path, name: str, **changes) -> Path:
    data = yaml.safe_load((boards_dir() / "parts" / "mps2-an386.yaml").read_text())
    data.update(part=name, **changes)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _board(folder: Path, chip: str, name: str = "my_board") -> Path:
    data = yaml.safe_load((boards_dir() / "mps2_an386.yaml").read_text())
    data.update(name=name, chip=chip)
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_a_users_part_beside_the_board_is_found_by_name(tmp_path):
    _part(tmp_path / "parts", "acme-m4", max_clock_hz=25_000_000)
    board = load_board_file(_board(tmp_path, "acme-m4"))
    assert board.chip == "acme-m4" and board.cpu == "cortex-m4" and board.clock_hz == 25_000_000
    assert board.console.base == 0x40004000          # from the part, not the board


def test_chip_may_be_the_path_of_a_part_file(tmp_path):
    part = _part(tmp_path / "elsewhere", "acme-m4")
    board = load_board_file(_board(tmp_path, str(part)))
    assert board.chip == "acme-m4"


def test_tinygen_boards_folders_hold_boards_and_parts(tmp_path, monkeypatch):
    _part(tmp_path / "parts", "acme-m4")
    _board(tmp_path, "acme-m4", name="acme_board")
    monkeypatch.setenv("TINYGEN_BOARDS", str(tmp_path))
    assert load_board("acme_board").chip == "acme-m4"


def test_boards_option_finds_a_users_board_and_part(tmp_path, monkeypatch, capsys):
    """tinygen --boards DIR ...: the same search path as TINYGEN_BOARDS, from the command line."""
    _part(tmp_path / "parts", "acme-m4")
    _board(tmp_path, "acme-m4", name="acme_board")
    monkeypatch.delenv("TINYGEN_BOARDS", raising=False)
    assert main(["--boards", str(tmp_path), "boards"]) == 0
    assert str(tmp_path) in os.environ["TINYGEN_BOARDS"]
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert "acme_board" in listed
    assert main(["--boards", str(tmp_path / "nowhere"), "boards"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--boards" in err and "not a folder" in err


@pytest.mark.parametrize("changes, key, fix", [
    ({"uarts": [{"instance": "UART0", "base": 0x40004000, "driver": "stm32-usart"}]},
     r"uarts[0].driver", "use one of cmsdk-uart"),
    ({"core": {"cpu": "cortex-m3", "fpu": "fpv4-sp-d16"}}, "core.fpu", "use one of none"),
    ({"core": {"cpu": "cortex-m0", "fpu": "none", "dsp": True}}, "core.dsp", "set dsp: false"),
    ({"max_clok_hz": 1}, "max_clok_hz", "did you mean 'max_clock_hz'?"),
    ({"memory": [{"name": "RAM", "kind": "ram", "base": 0x20000000, "size": "4M"}]},
     "memory", "add the part's flash"),
])
def test_a_wrong_part_file_names_key_and_fix(tmp_path, changes, key, fix):
    path = _part(tmp_path, "acme-m4", **changes)
    with pytest.raises(TinygenError) as err:
        load_part_file(path)
    assert f"key '{key}'" in str(err.value) and fix in str(err.value), str(err.value)


def test_nordic_pins_are_read_the_nordic_way(tmp_path):
    _part(tmp_path / "parts", "acme-nrf", family="acme", gpio="nordic",
          uarts=[{"instance": "UARTE0", "base": 0x40002000, "driver": "external"}])
    data = yaml.safe_load((boards_dir() / "mps2_an386.yaml").read_text())
    data.update(name="nrf_board", chip="acme-nrf", family="external", energy_gpio={"pin": "P1.08"},
                platform={"sources": ["p.c"]})
    data["console"].update(driver="external", tx={"pin": "P0.06"}, rx={"pin": "P0.08"})
    (tmp_path / "p.c").write_text("")
    (tmp_path / "nrf_board.yaml").write_text(yaml.safe_dump(data))
    board = load_board_file(tmp_path / "nrf_board.yaml")
    assert (board.energy_gpio.port_index, board.energy_gpio.number) == (1, 8)
    data["energy_gpio"] = {"pin": "PB6"}
    (tmp_path / "nrf_board.yaml").write_text(yaml.safe_dump(data))
    with pytest.raises(TinygenError, match=r"energy_gpio.pin.*e\.g\. P1\.08"):
        load_board_file(tmp_path / "nrf_board.yaml")


def test_a_board_moved_between_families_gets_every_error_at_once(tmp_path, capsys):
    data = yaml.safe_load((boards_dir() / "disco_l475vg_iot01a.yaml").read_text())
    data.update(chip="stm32u575zi", family="stm32u5", clock_hz=100_000_000)
    data["console"].update(instance="LPUART1")
    data["memory"][1].update(size="1M")
    path = tmp_path / "disco_l475vg_iot01a.yaml"
    path.write_text(yaml.safe_dump(data))
    assert main(["boards", "--check", str(path)]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    keys = {line.split("key '")[1].split("'")[0] for line in lines}
    assert {"clock_hz", "console.instance", "memory[1]"} <= keys, lines
    assert all(str(path) in line for line in lines)


def test_core_extensions_of_the_new_cores_give_gcc_flags(tmp_path):
    part = _part(tmp_path / "parts", "acme-m85",
                 core={"cpu": "cortex-m85", "fpu": "fpv5-d16", "dsp": True, "mve": True})
    board = load_board_file(_board(tmp_path, str(part)))
    assert board.mve and board.gcc_core_flags() == ["-march=armv8.1-m.main+dsp+mve.fp+fp.dp"]
    part = _part(tmp_path / "parts", "acme-m0", core={"cpu": "cortex-m0", "fpu": "none"})
    board = load_board_file(_board(tmp_path, str(part)))
    assert (board.cpu, board.fpu, board.dsp) == ("cortex-m0", "none", False)
    assert board.gcc_core_flags() == ["-mcpu=cortex-m0"]


USER_PART = """\
# A part tinygen does not ship: the Cortex-M3 of an FPGA image, written by
# its user. Facts as QEMU's mps2-an385 builds them.
part: acme-cm3
vendor: ACME
family: mps2
core: {cpu: cortex-m3, fpu: none}
max_clock_hz: 25000000
fixed_clock_hz: 25000000
memory:
  - {name: CODE, kind: flash, base: 0x00000000, size: 4M}
  - {name: DATA, kind: ram, base: 0x20000000, size: 4M}
uarts:
  - {instance: UART0, base: 0x40004000, driver: cmsdk-uart}
qemu_machine: mps2-an385
"""

USER_BOARD = """\
name: acme_cm3_board
title: ACME Cortex-M3 board
vendor: ACME
family: mps2
chip: acme-cm3
console: {instance: UART0, baud: {performance: 115200, energy: 9600}}
timestamp: systick
emulator: {icount_shift: 0}
"""


@pytest.mark.skipif(__import__("shutil").which("qemu-system-arm") is None
                    or __import__("shutil").which("arm-none-eabi-gcc") is None,
                    reason="needs arm-none-eabi-gcc and qemu-system-arm")
def test_a_part_and_board_from_outside_the_checkout_check_build_and_verify(tmp_path, monkeypatch,
                                                                            capsys):
    """Issue 21's first done-when: nothing under tinygen/ is edited."""
    folder = tmp_path / "my_boards"
    (folder / "parts").mkdir(parents=True)
    (folder / "parts" / "acme-cm3.yaml").write_text(USER_PART)
    (folder / "acme_cm3_board.yaml").write_text(USER_BOARD)
    monkeypatch.setenv("TINYGEN_BOARDS", str(folder))
    assert main(["boards", "--check", str(folder / "acme_cm3_board.yaml")]) == 0
    assert "acme_cm3_board" in capsys.readouterr().out
    assert main(["boards"]) == 0
    assert "acme_cm3_board" in capsys.readouterr().out
    rc = main(["verify", "--board", "acme_cm3_board", "--bench", "kws", "--build",
               str(tmp_path / "build"), "--out", str(tmp_path / "session"), "--quick",
               "--min-seconds", "0.05", "--golden", "2", "--timeout", "120"])
    printed = capsys.readouterr().out
    assert rc == 0, printed[-2000:]
    for check in ("handshake", "protocol conformance", "golden outputs", "latency"):
        assert f"PASS  {check}" in printed
    header = next((tmp_path / "build").rglob("tg_board.h")).read_text()
    assert str(folder / "acme_cm3_board.yaml") in header


def test_tinygen_boards_lists_families_of_at_least_four_vendors(capsys):
    assert main(["boards"]) == 0
    out = capsys.readouterr().out
    vendors = {"STMicroelectronics", "Arm", "Nordic Semiconductor", "Texas Instruments"}
    assert all(f"({v})" in out for v in vendors), out
    for family in ("stm32f4", "nrf51", "nrf52", "stellaris", "mps2"):
        assert f"{family} (" in out
