"""tinygen package: a submission tree from real sessions on host and QEMU.

The sessions are real 'tinygen run' sessions (short windows, a small
dataset), so they are not valid for submission: the tree is built with
--force, and the same sessions without it are refused by name.
"""

from __future__ import annotations

import json
import re
import shutil

import pytest

from tinygen.cli import main
from tinygen.submit.system import SYSTEM_KEYS, load_strict

from runner_helpers import write_classifier_dataset

PERFORMANCE = r".* Median throughput is\s+([\d.]+) inf\./sec\..*"
TOP1 = r".* Top[- ]1%?\s?[:=] ([\d.]+)"
AUC = r".* AUC\s?[:=] ([\d.]+)"
BENCH = "kws01"
BOARDS = {"host": ["--min-seconds", "0.2"], "mps2_an386": ["--min-seconds", "0.05"]}


@pytest.fixture(scope="module")
def sessions(firmware, tmp_path_factory):
    """board -> (performance session, accuracy session), real runs."""
    root = tmp_path_factory.mktemp("sessions")
    write_classifier_dataset(root / "data", BENCH, lambda i, d: i % 12, count=6, seed=4)
    made = {}
    for board, window in BOARDS.items():
        build = firmware(board, BENCH)
        perf = root / board / "perf"      # nested and missing: --out creates it, exactly there
        acc = root / board / "acc"
        assert main(["run", "--board", board, "--build", str(build), "--mode", "performance",
                     "--warmup", "1", "--out", str(perf)] + window) == 0
        assert main(["run", "--board", board, "--build", str(build), "--mode", "accuracy",
                     "--dataset", str(root / "data"), "--out", str(acc)]) == 0
        made[board] = (perf, acc)
    return made


def _matches(pattern: str, text: str) -> list[str]:
    return [m.group(1) for m in (re.match(pattern, ln) for ln in text.splitlines()) if m]


def test_run_out_is_the_session_folder_exactly(sessions):
    perf, _ = sessions["host"]
    assert sorted(p.name for p in perf.iterdir()) == ["dut.log", "log.txt", "results.json",
                                                      "results.txt"]


@pytest.mark.parametrize("board", sorted(BOARDS))
def test_forced_tree_from_real_sessions(board, sessions, tmp_path, capsys):
    perf, acc = sessions[board]
    out = tmp_path / "submission"
    system = f"{board}_tinygen"
    rc = main(["package", "--org", "TestOrg", "--system", system, "--status", "preview",
               "--out", str(out), "--force", "test of the tree layout",
               "--field", "Hardware Notes=tested in CI", "--field", "operating system=none",
               str(perf), str(acc)])
    printed = capsys.readouterr().out
    assert rc == 0, printed
    org = out / "closed" / "TestOrg"
    # Layout: exactly the three parts, each result folder exactly the three files.
    assert sorted(p.name for p in out.iterdir()) == ["closed"]
    assert sorted(p.name for p in org.iterdir()) == ["code", "results", "systems"]
    assert [p.name for p in (org / "systems").iterdir()] == [f"{system}.json"]
    res = org / "results" / system / "kws"
    assert sorted(p.name for p in res.iterdir()) == ["accuracy", "performance"]
    for mode in ("accuracy", "performance"):
        assert sorted(p.name for p in (res / mode).iterdir()) == ["log.txt", "results.json",
                                                                   "results.txt"]
    code = org / "code" / system / "kws"
    assert {"Makefile", "SConstruct", "src", "build.json"} <= {p.name for p in code.iterdir()}
    for path in out.rglob("*"):
        assert not path.is_symlink() and path.name != "__pycache__"
        assert not path.is_dir() or any(path.iterdir()), f"empty folder {path}"
    assert not [p for p in out.iterdir() if p.name.startswith("tinygen-package-")]

    # System JSON: official keys in order, no duplicates, filled from the board and build.
    text = (org / "systems" / f"{system}.json").read_text()
    js = load_strict(text)
    assert list(js) == list(SYSTEM_KEYS)
    assert js["Submitter"] == "TestOrg" and js["Division"] == "Closed" and js["Status"] == "Preview"
    assert js["Status"].lower() in ("available", "preview", "rdi")
    assert js["Hardware Notes"] == "tested in CI" and js["Operating System "] == "none"
    assert js["ML Model Compiler(s)"].startswith("tinygen ")
    compiler = "arm-none-eabi-gcc" if board != "host" else ""
    # The optimisation the compiler was given (the host build makes -O2 into -O3).
    level = "-O2" if board != "host" else "-O3"
    assert compiler in js["General Compiler(s)"]
    assert f"optimisation {level};" in js["Software Notes"]
    assert "accepted by --force: test of the tree layout" in js["Software Notes"]
    if board == "mps2_an386":
        assert js["Processor(s) Name"].startswith("32-bit Arm Cortex-M4")
        assert js["Processor(s) Frequencies"] == "25 MHz"

    # Result lines: the checker's patterns read the session's figures.
    p = json.loads((res / "performance" / "results.json").read_text())
    assert _matches(PERFORMANCE, (res / "performance" / "results.txt").read_text()) == [
        f"{p['performance']['median_throughput']:.3f}"]
    a = json.loads((res / "accuracy" / "results.json").read_text())
    acc_text = (res / "accuracy" / "results.txt").read_text()
    assert _matches(TOP1, acc_text) == [f"{a['accuracy']['top1'] * 100:.1f}"]
    assert _matches(AUC, acc_text) == ([f"{a['accuracy']['auc']:.3f}"]
                                       if a["accuracy"]["auc"] is not None else [])
    # The reasons the sessions are not valid went with them.
    assert p["submission"]["valid"] is False
    assert p["submission"]["accepted_by"] == "--force: test of the tree layout"
    assert any(r.startswith("short windows") for r in p["submission"]["reasons"])
    assert any(r.startswith("partial dataset: 6 of the official 1000")
               for r in a["submission"]["reasons"])
    assert "accepted although not valid" in printed


def test_invalid_sessions_are_refused_by_name(sessions, tmp_path, capsys):
    perf, acc = sessions["mps2_an386"]
    out = tmp_path / "submission"
    rc = main(["package", "--org", "TestOrg", "--system", "s", "--out", str(out),
               str(perf), str(acc)])
    err = capsys.readouterr().err
    assert rc == 1
    assert "not valid for submission: perf: " in err and "| acc: " in err
    assert "emulated board: figures come from QEMU" in err
    assert "partial dataset: 6 of the official 1000 stimuli" in err
    assert "quality target not checked: not checked: 6 of 1000 stimuli" in err
    assert "--force REASON" in err
    assert not out.exists() or not any(out.rglob("*.json"))


def test_missing_required_run_is_refused(sessions, tmp_path, capsys):
    perf, _ = sessions["host"]
    rc = main(["package", "--org", "TestOrg", "--system", "s", "--open", "--out",
               str(tmp_path / "o"), str(perf)])
    assert rc == 0   # accepted in the open division, and said so
    js = load_strict(next((tmp_path / "o" / "open" / "TestOrg" / "systems").iterdir()).read_text())
    assert js["Division"] == "Open" and "missing kws accuracy" in js["Software Notes"]
    rc = main(["package", "--org", "TestOrg", "--system", "s2", "--out", str(tmp_path / "c"),
               str(perf)])
    assert rc == 1 and "missing required runs: kws accuracy" in capsys.readouterr().err


def test_verify_sessions_and_rebuilt_code_are_refused(sessions, tmp_path, capsys):
    perf, acc = sessions["host"]
    fake = tmp_path / "verify"
    shutil.copytree(perf, fake)
    data = json.loads((fake / "results.json").read_text())
    (fake / "results.json").write_text(json.dumps(dict(data, mode="verify")))
    assert main(["package", "--org", "O", "--system", "s", "--out", str(tmp_path / "a"),
                 "--force", "x", str(fake)]) == 1
    assert "is a verify session, not a performance, accuracy or energy run" in capsys.readouterr().err
    # A session whose recorded image is not the one in its build folder: never packaged.
    other = tmp_path / "other"
    shutil.copytree(perf, other)
    data["firmware"]["image_sha256"] = "0" * 64
    (other / "results.json").write_text(json.dumps(data))
    assert main(["package", "--org", "O", "--system", "s", "--out", str(tmp_path / "b"),
                 "--force", "x", str(other), str(acc)]) == 1
    assert "ran another image than the one now in" in capsys.readouterr().err


def test_names_with_spaces_are_refused(sessions, tmp_path, capsys):
    perf, acc = sessions["host"]
    assert main(["package", "--org", "My Org", "--system", "s", "--out", str(tmp_path),
                 "--force", "x", str(perf), str(acc)]) == 1
    assert "--org 'My Org' must be letters" in capsys.readouterr().err


def test_latest_sessions_of_a_board_by_default(sessions, tmp_path, capsys):
    perf, acc = sessions["host"]
    rc = main(["package", "--org", "O", "--system", "s", "--board", "host", "--sessions-root",
               str(perf.parent), "--out", str(tmp_path / "t"), "--force", "latest"])
    assert rc == 0, capsys.readouterr().err
    results = tmp_path / "t" / "closed" / "O" / "results" / "s" / "kws"
    assert sorted(p.name for p in results.iterdir()) == ["accuracy", "performance"]
    assert (results / "accuracy" / "log.txt").read_text() == (acc / "log.txt").read_text()


def test_system_json_for_the_reference_board():
    from tinygen.boards import load_board
    from tinygen.submit.system import system_description, system_json_text

    from tinygen.port.manifest import BuildManifest

    manifest = BuildManifest(board="nucleo_l4r5zi", bench="kws01", mode="performance", opt="O2",
                             cflags=["-mcpu=cortex-m4", "-O2"],
                             tools={"arm-none-eabi-gcc": "arm-none-eabi-gcc 12.2.1"})
    js = load_strict(system_json_text(system_description(
        load_board("nucleo_l4r5zi"), "MyOrg", "closed", "rdi", [manifest],
        {"SoC Memory type": "SRAM", "Board storage type": "none"})))
    assert list(js) == list(SYSTEM_KEYS) and "system_type" not in js   # the checker needs it absent
    assert js["Status"] == "RDI" and js["Division"] == "Closed"
    assert js["Board Name"] == "NUCLEO-L4R5ZI" and js["SoC Name"] == "STM32L4R5ZI"
    assert js["Processor(s) Name"] == "32-bit Arm Cortex-M4 (DSP + FPU)"
    assert js["Processor(s) Frequencies"] == "120 MHz"
    assert js["Processor memory type and capacity"] == "640KB RAM"
    assert js["Processor storage type and capacity"] == "2MB FLASH"
    assert js["SoC Memory type"] == "SRAM" and js["Board storage type"] == "none"
    assert js["General Compiler(s)"] == "arm-none-eabi-gcc 12.2.1"
    assert "compiler flags: -mcpu=cortex-m4 -O2" in js["Software Notes"]


def test_strict_json_refuses_duplicate_keys():
    with pytest.raises(ValueError, match="duplicate key 'Status'"):
        load_strict('{"Status": "Available", "Status": "Preview"}')


def test_two_systems_share_one_tree_and_none_is_overwritten(sessions, tmp_path, capsys):
    out = tmp_path / "tree"
    for board in sorted(BOARDS):
        assert main(["package", "--org", "O", "--system", board, "--out", str(out),
                     "--force", "two systems", *map(str, sessions[board])]) == 0
    org = out / "closed" / "O"
    assert sorted(p.name for p in (org / "systems").iterdir()) == ["host.json", "mps2_an386.json"]
    assert sorted(p.name for p in (org / "results").iterdir()) == ["host", "mps2_an386"]
    before = (org / "systems" / "host.json").read_text()
    assert main(["package", "--org", "O", "--system", "host", "--out", str(out),
                 "--force", "again", *map(str, sessions["host"])]) == 1
    assert "already exist; choose another --system" in capsys.readouterr().err
    assert (org / "systems" / "host.json").read_text() == before
