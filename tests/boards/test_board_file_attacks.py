"""Board and part files under attack (issue 25, the board-file findings).

A fuzzing campaign of `tinygen boards --check` found tracebacks, hangs and
bad messages. Each finding is a case here: the file is refused quickly by
one TinygenError whose lines are one line each and of bounded length
(never the repr of an expanded value), or, for values later stages depend
on (baud, memory region names, RAM size), refused here instead of failing
in C or the linker.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

from tinygen.boards import load_board_file
from tinygen.chips import load_part_file
from tinygen.cli import main
from tinygen.errors import TinygenError
from tinygen.paths import boards_dir

MAX_LINE = 600


def _refused(path: Path, match: str, loader=load_board_file) -> str:
    start = time.monotonic()
    with pytest.raises(TinygenError) as err:
        loader(path)
    assert time.monotonic() - start < 2.0
    message = str(err.value)
    for line in message.splitlines():
        assert len(line) < MAX_LINE, line[:200]
    assert match in message, message[:500]
    return message


def _disco(tmp_path: Path, edit) -> Path:
    data = yaml.safe_load((boards_dir() / "disco_l475vg_iot01a.yaml").read_text())
    edit(data)
    path = tmp_path / "disco_l475vg_iot01a.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
    f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
    f"*{chr(97 + i)}]\n" for i in range(9)) + "name: *j\n"


def test_a_yaml_alias_bomb_is_refused_at_once(tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(BOMB)
    assert len(BOMB) < 2048
    message = _refused(path, "YAML alias")
    assert "\n" not in message and len(message) < 200


def test_a_part_file_alias_bomb_is_refused_too(tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(BOMB)
    _refused(path, "YAML alias", loader=load_part_file)


def test_deep_nesting_is_refused_without_recursion_error(tmp_path):
    path = tmp_path / "deep.yaml"
    path.write_text("name: " + "[" * 5000 + "]" * 5000 + "\n")
    _refused(path, "nests deeper than")


def test_non_utf8_bytes_are_refused_by_name(tmp_path):
    path = tmp_path / "latin.yaml"
    path.write_bytes(b"name: caf\xe9\n")
    _refused(path, "not UTF-8 text")


def test_an_oversized_file_is_refused_without_reading_it_all(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text("notes: '" + "x" * (1 << 20) + "'\n")
    _refused(path, "larger than")


def test_a_yaml_syntax_error_is_one_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: bad\nconsole: {driver: x\n  baud: [\n")
    message = _refused(path, "is not valid YAML")
    assert "\n" not in message


def test_a_key_with_a_newline_is_shown_on_one_line(tmp_path):
    path = _disco(tmp_path, lambda d: d.update({"evil\nkey\rx": 1}))
    message = _refused(path, "unknown key")
    assert len(message.splitlines()) == 1


def test_a_huge_value_is_never_printed_whole(tmp_path):
    path = _disco(tmp_path, lambda d: d.update(title=["x" * 1000] * 100, timestamp="y" * 10_000))
    _refused(path, "timestamp")


@pytest.mark.parametrize("edit, key, fix", [
    (lambda d: d["console"]["baud"].update(performance=2 ** 64), "console.baud.performance",
     "use a value <= 12000000"),
    (lambda d: d["console"]["baud"].update(energy=0), "console.baud.energy", ">= 300"),
    (lambda d: d["memory"][0].update(name="*"), "memory[0].name", "letters, digits and '_'"),
    (lambda d: d["memory"][1].update(name="SRAM 2"), "memory[1].name", "e.g. SRAM2"),
    (lambda d: [d["memory"][1].update(size=5), d["memory"][2].update(size=5)],
     "memory", "less than the 8 KB"),
    (lambda d: d["memory"][0].update(base=2 ** 40), "memory[0].base", "<= 4294967295"),
    (lambda d: d["memory"][0].update(size="99999999999"), "memory[0].size", "cannot read size"),
    (lambda d: d["console"].update(instance="USART1\nUSART2"), "console.instance",
     "one short line"),
    (lambda d: d.update(name='a"b'), "name", "letters, digits"),
    (lambda d: d.update(usb_ids="0483:374b" * 1000), "usb_ids", "VID:PID"),
    (lambda d: d["emulator"].update(icount_shift=2 ** 70), "emulator.icount_shift", "0 (1 ns"),
])
def test_values_later_stages_depend_on_are_range_checked(tmp_path, edit, key, fix):
    path = _disco(tmp_path, edit)
    message = _refused(path, fix)
    assert f"key '{key}'" in message, message


def test_boards_check_of_a_bomb_ends_in_one_line_and_exit_1(tmp_path, capsys):
    path = tmp_path / "bomb.yaml"
    path.write_text(BOMB)
    assert main(["boards", "--check", str(path)]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and len(err) < 300 and "Traceback" not in err


def test_a_control_character_is_a_named_yaml_error(tmp_path):
    path = tmp_path / "ctrl.yaml"
    path.write_text("name: a\x05b\n")
    message = _refused(path, "is not valid YAML")
    assert "\n" not in message


def test_fuzzing_smoke_ends_in_boards_or_one_line_refusals():
    """A fixed-seed slice of benchmarks/fuzz_board_files.py: no traceback,
    no hang, no unbounded message."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "fuzz_board_files", Path(__file__).parents[2] / "benchmarks" / "fuzz_board_files.py")
    fuzz = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fuzz)
    counts = fuzz.campaign(mutants=120, seed=1)
    assert set(counts) <= {"ok", "refused"}, counts
    assert counts["refused"] > 60
