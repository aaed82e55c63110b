"""The board schema refuses what is wrong, with the file, the key and the fix.

Each case is a board a new user wrote (issue 12): a clock the machine does
not run, a clock above the part's maximum, a base address of another UART,
an FPU the core cannot have, a typo in a key, an instance the chip lacks.
Every refusal is one TinygenError naming the key and saying what to write.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tinygen.boards import all_boards, load_board_file
from tinygen.cli import main
from tinygen.errors import TinygenError
from tinygen.paths import boards_dir, project_root


def _copy(tmp_path: Path, board: str, edit) -> Path:
    data = yaml.safe_load((boards_dir() / f"{board}.yaml").read_text())
    edit(data)
    path = tmp_path / f"{board}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _l476(data):
    """A NUCLEO-L476RG written from the disco file: another stm32l4 part."""
    data.update(name="disco_l475vg_iot01a", chip="stm32l476rg")
    data.pop("emulator")


# (board to start from, edit, key named, fix named)
WRONG_BOARDS = [
    pytest.param("mps2_an505", lambda d: d.update(clock_hz=25_000_000),
                 "clock_hz", "set clock_hz: 20000000", id="an505-clock-is-20MHz-in-qemu"),
    pytest.param("disco_l475vg_iot01a", lambda d: d.update(clock_hz=120_000_000),
                 "clock_hz", "at most clock_hz: 80000000", id="120MHz-on-an-80MHz-part"),
    pytest.param("disco_l475vg_iot01a", lambda d: [_l476(d), d.update(clock_hz=120_000_000)],
                 "clock_hz", "at most clock_hz: 80000000", id="120MHz-on-l476"),
    pytest.param("disco_l475vg_iot01a", lambda d: d["console"].update(instance="USART2", base=0x40013800),
                 "console.base", "set base: 0x40004400 or instance: USART1",
                 id="usart1-base-with-usart2"),
    pytest.param("disco_l475vg_iot01a", lambda d: d.setdefault("core", {}).update(fpu="fpv5-d16"),
                 "core.fpu", "use one of none, fpv4-sp-d16", id="m4-with-fpv5-d16"),
    pytest.param("disco_l475vg_iot01a", lambda d: d.update(energy_gpoi=d.pop("energy_gpio")),
                 "energy_gpoi", "did you mean 'energy_gpio'?", id="typo-energy_gpoi"),
    pytest.param("disco_l475vg_iot01a", lambda d: d["console"].update(instance="USART7"),
                 "console.instance", "use one of USART1, USART2", id="usart7-does-not-exist"),
    pytest.param("disco_l475vg_iot01a", lambda d: d.update(timestamp="dwt"),
                 "timestamp", "use timestamp: systick", id="dwt-under-qemu"),
    pytest.param("mps2_an386", lambda d: d.setdefault("core", {}).update(fpv="none"),
                 "core.fpv", "did you mean 'fpu'?", id="nested-typo"),
    pytest.param("mps2_an386", lambda d: d.setdefault("core", {}).update(dsp=False),
                 "core.dsp", "set dsp: true", id="m4-always-has-dsp"),
    pytest.param("mps2_an386", lambda d: d.setdefault("core", {}).update(mve=True),
                 "core.mve", "remove mve:", id="helium-on-m4"),
    pytest.param("mps3_an547", lambda d: d.setdefault("core", {}).update(fpu="fpv5-sp-d16"),
                 "core.fpu", "use one of none, fpv5-d16", id="m55-has-fpv5-d16"),
    pytest.param("mps2_an505", lambda d: d.setdefault("core", {}).update(fpu="fpv5-d16"),
                 "core.fpu", "use one of none, fpv5-sp-d16", id="m33-has-single-precision"),
    pytest.param("mps2_an505", lambda d: d.update(chip="mps2-an386", core={"cpu": "cortex-m33"}),
                 "core.cpu", "set cpu: cortex-m4", id="chip-and-core-disagree"),
    pytest.param("mps2_an505", lambda d: d["memory"][0].update(base=0x00000000),
                 r"memory\[0\]", "not inside mps2-an505's flash", id="an505-code-outside-its-map"),
    pytest.param("mps2_an500", lambda d: d["emulator"].update(qemu_machine="mps2-an386"),
                 "emulator.qemu_machine", "set qemu_machine: mps2-an500", id="wrong-machine"),
    pytest.param("mps2_an386", lambda d: d.update(energy_gpio={"pin": "PA4"}),
                 "energy_gpio", "remove energy_gpio:", id="energy-pin-mps2-cannot-drive"),
    pytest.param("nucleo_l4r5zi", lambda d: d.update(chip="stm32l4r5"),
                 "chip", "did you mean 'stm32l4r5zi'?", id="unknown-chip"),
    pytest.param("nucleo_l4r5zi", lambda d: d.update(clock_hz=100_000_000),
                 "clock_hz", "multiple of 8 MHz", id="pll-cannot-make-it"),
    pytest.param("nucleo_l4r5zi", lambda d: d["console"]["tx"].pop("af"),
                 "console.tx.af", "alternate function", id="pin-without-af"),
    pytest.param("nucleo_l4r5zi", lambda d: d["console"].update(driver="stm32-usart"),
                 "console.driver", "set driver: stm32-lpuart", id="lpuart-driver"),
    pytest.param("nucleo_h7a3zi_q", lambda d: d["memory"][1].update(size="2M"),
                 r"memory\[1\]", "not inside stm32h7a3zi's ram", id="h7-ram-too-big"),
    pytest.param("nucleo_u575zi_q", lambda d: d.update(clock_hz=170_000_000),
                 "clock_hz", "at most clock_hz: 160000000", id="u5-above-160MHz"),
    pytest.param("host", lambda d: d.update(timestamp="systick"),
                 "timestamp", "use timestamp: host-clock", id="host-has-no-systick"),
    pytest.param("mps2_an386", lambda d: d.update(platform={"sources": ["x.c"]}),
                 "platform", "set family: external", id="platform-needs-external"),
]


@pytest.mark.parametrize("board, edit, key, fix", WRONG_BOARDS)
def test_wrong_board_is_one_line_per_error_naming_key_and_fix(tmp_path, board, edit, key, fix):
    path = _copy(tmp_path, board, edit)
    with pytest.raises(TinygenError) as err:
        load_board_file(path)
    lines = str(err.value).splitlines()
    assert all(line.startswith(f"{path}: key ") for line in lines), lines
    assert any(re.search(f"key '{key}'", line) and fix in line for line in lines), lines


def test_boards_check_and_build_of_usart7_end_in_one_line_not_a_traceback(tmp_path, capsys):
    path = _copy(tmp_path, "disco_l475vg_iot01a", lambda d: d["console"].update(instance="USART7"))
    assert main(["boards", "--check", str(path)]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "console.instance" in err
    assert main(["build", "--board", str(path), "--bench", "kws", "--out", str(tmp_path / "b")]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "USART7" in err and "Traceback" not in err


def test_console_base_may_be_left_to_the_chip_table(tmp_path):
    path = _copy(tmp_path, "disco_l475vg_iot01a", lambda d: d["console"].pop("base", None))
    assert load_board_file(path).console.base == 0x40013800


def test_every_shipped_board_names_a_known_chip_and_agrees_with_it():
    for board in all_boards():
        if board.is_host:
            continue
        assert board.chip, board.name


@pytest.mark.parametrize("command", [
    ["inspect", "models/vww01.tflite"],
    ["doctor"],
    ["boards"],
])
def test_closed_pipe_ends_quietly(command):
    """`tinygen inspect ... | head -1` must not end in a BrokenPipeError."""
    cli = subprocess.Popen([sys.executable, "-m", "tinygen", *command], cwd=project_root(),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # Close the read end before the command writes anything: every write
    # then meets a closed pipe, as after `head -1` has exited.
    cli.stdout.close()
    _, err = cli.communicate(timeout=120)
    assert b"Traceback" not in err and b"BrokenPipe" not in err, err.decode()


def test_optional_core_extensions_change_the_compiler_flags(tmp_path):
    """dsp: false on an M33 and mve: false on an M55 are not no-ops."""
    from tinygen.port.generate import toolchain_for
    m33 = load_board_file(_copy(tmp_path, "mps2_an505", lambda d: d.setdefault("core", {}).update(dsp=False)))
    assert "-mcpu=cortex-m33+nodsp" in toolchain_for(m33, "O2").cflags
    m55 = load_board_file(_copy(tmp_path, "mps3_an547", lambda d: d.setdefault("core", {}).update(mve=False)))
    assert "-mcpu=cortex-m55+nomve" in toolchain_for(m55, "O2").cflags
    m55_mve = load_board_file(boards_dir() / "mps3_an547.yaml")
    assert m55_mve.mve and "-mcpu=cortex-m55" in toolchain_for(m55_mve, "O2").cflags
