"""What run, verify and profile tell a user about the firmware they point at.

Real builds (host and QEMU), real command lines: a build for another board
is refused by name before anything starts, and profile keeps its session
like every other command that reaches a DUT.
"""

from __future__ import annotations

import json

import pytest

from tinygen.cli import main


@pytest.mark.parametrize("argv", [
    ["run", "--mode", "performance"],
    ["run", "--mode", "accuracy", "--dataset", "{data}"],
    ["run", "--mode", "energy"],
    ["verify", "--bench", "kws", "--no-build", "--quick"],
], ids=["performance", "accuracy", "energy", "verify"])
def test_build_for_another_board_is_refused_by_name(argv, firmware, tmp_path, capsys):
    """The issue's case: --board mps2_an386 with a build made for another board
    used to start it and report a silent DUT."""
    from runner_helpers import write_classifier_dataset

    build = firmware("host", "kws01")
    write_classifier_dataset(tmp_path / "data", "kws01", lambda i, d: 0, count=2, seed=1)
    argv = [a.replace("{data}", str(tmp_path / "data")) for a in argv]
    rc = main([*argv, "--board", "mps2_an386", "--build", str(build),
               "--out", str(tmp_path / "s")])
    err = capsys.readouterr().err.strip()
    assert rc == 1 and len(err.splitlines()) == 1, err
    assert f"{build} holds a build for host, not mps2_an386; pass --board host" in err
    assert not (tmp_path / "s").exists()      # refused before a session or a DUT started


def test_profile_keeps_a_session_like_run_and_verify(tmp_path, capsys):
    """Per-layer profiling runs in the runner's session lifecycle: the table on
    stdout, the transcript in log.txt and the rows in results.json."""
    session = tmp_path / "s"
    rc = main(["profile", "--board", "mps2_an386", "--bench", "ad", "--inferences", "2",
               "--out", str(tmp_path / "b"), "--session", str(session)])
    printed = capsys.readouterr().out
    assert rc == 0, printed
    assert "ad01 on mps2_an386: virtual time under QEMU" in printed and "total" in printed
    data = json.loads((session / "results.json").read_text())
    assert data["status"] == "complete" and data["mode"] == "profile"
    rows = data["rows"]
    assert rows and all(r["instructions"] > 0 for r in rows)
    assert abs(sum(r["share"] for r in rows) - 1.0) < 1e-6
    assert "> infer 2 0%" in (session / "log.txt").read_text()
    assert "total" in (session / "results.txt").read_text()
    # tinygen report reads the same rows from the build folder.
    assert json.loads((tmp_path / "b" / "profile.json").read_text())["rows"] == rows


def test_profile_on_a_core_without_a_cycle_model_still_measures_instructions(tmp_path, capsys):
    """The Cortex-M3 has no cycle table: profile says so and still prints the
    instructions per operator (it used to stop with an error after the run)."""
    rc = main(["profile", "--board", "mps2_an385", "--bench", "ad", "--inferences", "1",
               "--out", str(tmp_path / "b"), "--session", str(tmp_path / "s")])
    printed = capsys.readouterr().out
    assert rc == 0, printed
    assert "no cycle model for cortex-m3" in printed and "total" in printed
    rows = json.loads((tmp_path / "s" / "results.json").read_text())["rows"]
    assert rows and all(r["instructions"] > 0 and r["cycles"] is None for r in rows)
    assert "stack high-water mark" in printed
