"""Boards are data: every shipped board validates, and a broken file says
which file, which key and how to fix it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from tinygen.boards import all_boards, load_board, load_board_file
from tinygen.cli import main
from tinygen.errors import TinygenError
from tinygen.paths import boards_dir

REQUIRED_BOARDS = ("nucleo_l4r5zi", "disco_l475vg_iot01a", "mps2_an386", "host")


def test_every_shipped_board_validates():
    names = {b.name for b in all_boards()}
    assert set(REQUIRED_BOARDS) <= names


def test_nucleo_is_the_reference_dut_with_its_published_memory():
    b = load_board("nucleo_l4r5zi")
    assert (b.cpu, b.fpu, b.dsp, b.clock_hz) == ("cortex-m4", "fpv4-sp-d16", True, 120_000_000)
    assert b.flash_bytes == 2 * 1024 * 1024 and b.ram_bytes == 640 * 1024
    assert b.console.instance == "LPUART1" and b.console.tx.pin == "PG7" and b.console.tx.af == 8
    assert b.pyocd_target == "stm32l4r5zitx" and not b.is_emulated


def test_disco_is_both_real_and_emulated_with_two_separate_ram_regions():
    b = load_board("disco_l475vg_iot01a")
    assert b.is_real and b.is_emulated
    assert b.emulator.qemu_machine == "b-l475e-iot01a"
    assert [(r.base, r.size) for r in b.regions("ram")] == [(0x20000000, 96 * 1024), (0x10000000, 32 * 1024)]
    assert b.console.baud_performance == 115200 and b.console.baud_energy == 9600


def test_board_can_be_loaded_by_path(tmp_path):
    src = boards_dir() / "mps2_an386.yaml"
    dst = tmp_path / "mps2_an386.yaml"
    dst.write_text(src.read_text())
    assert load_board(str(dst)).name == "mps2_an386"


def test_a_misspelled_board_name_gets_the_nearest_one_from_load_board():
    """Every caller (build, run, verify, a Python script) gets the suggestion."""
    with pytest.raises(TinygenError, match=r"unknown board 'mps3_an574'; did you mean mps3_an547\?"):
        load_board("mps3_an574")


def test_unknown_board_lists_the_known_ones():
    # No known name is close to this one: the list instead of a guess.
    with pytest.raises(TinygenError, match=r"unknown board 'teapot'.*disco_l475vg_iot01a"):
        load_board("teapot")


def _broken_copy(tmp_path: Path, edit) -> Path:
    data = yaml.safe_load((boards_dir() / "disco_l475vg_iot01a.yaml").read_text())
    edit(data)
    path = tmp_path / "disco_l475vg_iot01a.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize("edit, key, fix", [
    (lambda d: d.setdefault("core", {}).update(cpu="cortex-a53"), "core.cpu", "use one of cortex-m0, cortex-m0plus, cortex-m3, cortex-m4"),
    (lambda d: d.pop("clock_hz"), "clock_hz", "add 'clock_hz:'"),
    (lambda d: d["memory"][1].update(size="lots"), r"memory\[1\].size", "96K"),
    (lambda d: d["console"]["tx"].update(pin="B6"), "console.tx.pin", "PB6"),
    (lambda d: d["console"]["baud"].update(performance="fast"), "console.baud.performance", "whole number"),
    (lambda d: d.update(name="other"), "name", "rename the file"),
    (lambda d: d.update(usb_ids=["0483-374b"]), "usb_ids", "VID:PID"),
    (lambda d: [d.pop("flash"), d.pop("emulator")], "flash", "pyocd_target"),
    (lambda d: d["emulator"].update(icount_shift=-1), "emulator.icount_shift", ">= 0"),
])
def test_malformed_board_names_file_key_and_fix(tmp_path, edit, key, fix):
    path = _broken_copy(tmp_path, edit)
    with pytest.raises(TinygenError) as err:
        load_board_file(path)
    message = str(err.value)
    assert str(path) in message
    assert re.search(f"key '{key}'", message), message
    assert fix in message


def test_invalid_yaml_names_the_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: bad\ncore: {cpu: cortex-m4\n")
    with pytest.raises(TinygenError, match=r"bad.yaml: line \d+ is not valid YAML"):
        load_board_file(path)


def test_cli_boards_json_lists_every_board(capsys):
    assert main(["boards", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {d["name"] for d in data} >= set(REQUIRED_BOARDS)
    disco = next(d for d in data if d["name"] == "disco_l475vg_iot01a")
    assert disco["emulator"] == {"qemu_machine": "b-l475e-iot01a", "icount_shift": 0}


def test_cli_boards_table_shows_how_each_board_runs(capsys):
    assert main(["boards"]) == 0
    out = capsys.readouterr().out
    assert "emulated (qemu b-l475e-iot01a)" in out and "real (pyocd)" in out


def test_cli_check_of_a_malformed_board_is_one_line_and_exit_1(tmp_path, capsys):
    path = _broken_copy(tmp_path, lambda d: d.setdefault("core", {}).update(dsp="yes"))
    assert main(["boards", "--check", str(path)]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "core.dsp" in err and "true or false" in err
