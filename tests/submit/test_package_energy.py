"""An energy session goes into <bench>/energy/ with its own energy-mode build.

Slow (about a minute: two builds, three emulated runs): pytest -m slow tests/submit.
The energy run uses tinygen's simulated LPM01A and interface board (the
instruments cannot be had here), so the session says "simulated instruments".
"""

from __future__ import annotations

import json
import re

import pytest

from tinygen.cli import main
from tinygen.port.build import build_firmware

from runner_helpers import model_path, write_ad01_dataset

BOARD, BENCH = "disco_l475vg_iot01a", "ad01"


@pytest.mark.slow
def test_energy_session_and_its_build_go_into_the_tree(tmp_path, capsys):
    from tinygen.benches import get_bench
    from tinygen.runner.oracle import Oracle

    perf_build = build_firmware(BOARD, BENCH, model_path=model_path(BENCH),
                                out_dir=tmp_path / "b-perf", jobs=2).build_dir
    energy_build = build_firmware(BOARD, BENCH, model_path=model_path(BENCH), mode="energy",
                                  out_dir=tmp_path / "b-energy", jobs=2).build_dir
    oracle = Oracle(model_path(BENCH), get_bench(BENCH))
    write_ad01_dataset(tmp_path / "data", [1, 1, 1, 1], [0, 1, 0, 1], oracle.input_float_range, 3)
    s = {m: tmp_path / m for m in ("performance", "accuracy", "energy")}
    assert main(["run", "--board", BOARD, "--build", str(perf_build), "--mode", "performance",
                 "--min-seconds", "0.05", "--warmup", "1", "--out", str(s["performance"])]) == 0
    assert main(["run", "--board", BOARD, "--build", str(perf_build), "--mode", "accuracy",
                 "--dataset", str(tmp_path / "data"), "--out", str(s["accuracy"])]) == 0
    assert main(["run", "--board", BOARD, "--build", str(energy_build), "--mode", "energy",
                 "--emon", "lpm01a", "--min-seconds", "0.05", "--out", str(s["energy"])]) == 0
    capsys.readouterr()
    out = tmp_path / "tree"
    assert main(["package", "--org", "O", "--system", "disco", "--out", str(out),
                 "--force", "energy layout", *map(str, s.values())]) == 0
    org = out / "closed" / "O"
    assert sorted(p.name for p in (org / "results" / "disco" / "ad").iterdir()) == [
        "accuracy", "energy", "performance"]
    assert sorted(p.name for p in (org / "code" / "disco").iterdir()) == ["ad", "ad_energy"]
    assert json.loads((org / "code" / "disco" / "ad_energy" / "build.json").read_text())["mode"] \
        == "energy"
    text = (org / "results" / "disco" / "ad" / "energy" / "results.txt").read_text()
    assert len(re.findall(r"^\d{4}\.\d{6} ulp-mlperf: Median energy cost is [\d.]+ uJ/inf\.",
                          text, re.MULTILINE)) == 1
    reasons = json.loads((org / "results" / "disco" / "ad" / "energy" / "results.json")
                         .read_text())["submission"]["reasons"]
    assert any(r.startswith("simulated instruments") for r in reasons)
