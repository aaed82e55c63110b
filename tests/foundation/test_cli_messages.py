"""Messages a user meets before any firmware runs: one line, naming the fix.

Each test is a real command line (the tinygen process, or main() in this
one) with real files and folders: an output folder that cannot be created,
a misspelled board, a dataset given as a file, a local model mirror, a real
board with nothing plugged in, the emulated clock check, the quality target.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tinygen.boards import load_board
from tinygen.cli import main
from tinygen.errors import TinygenError
from tinygen.paths import make_folder

ROOT = Path(__file__).resolve().parents[2]


def _tinygen(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "tinygen", *args], capture_output=True,
                          text=True, timeout=120, env=env, cwd=cwd)


@pytest.fixture
def a_file(tmp_path) -> Path:
    path = tmp_path / "a-file"
    path.write_text("a regular file, not a folder\n")
    return path


def _one_line_error(proc: subprocess.CompletedProcess) -> str:
    err = proc.stderr.strip()
    assert proc.returncode == 1, (proc.stdout, err)
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    assert err.startswith("tinygen: error: ")
    return err


# ---------------------------------------------------------------- output folders

@pytest.mark.parametrize("where, why", [
    ("under-a-file", "is a file, not a folder"),
    ("/proc/tinygen-test/out", "/proc takes no new folders"),
    ("/sys/tinygen-test", "/sys takes no new folders"),
])
def test_make_folder_says_why_and_the_fix(where, why, a_file):
    path = a_file / "out" if where == "under-a-file" else Path(where)
    if where.startswith("/") and not Path("/", path.parts[1]).is_dir():
        pytest.skip(f"no /{path.parts[1]} here")
    with pytest.raises(TinygenError) as caught:
        make_folder(path, "build folder", "pass another --out DIR")
    text = str(caught.value)
    assert text.startswith(f"cannot create the build folder {path}: ")
    assert why in text and text.endswith("; pass another --out DIR")


@pytest.mark.parametrize("argv, folder, fix", [
    (["build", "--board", "host", "--bench", "kws", "--out", "{f}/build"], "build folder",
     "pass another --out DIR"),
    (["build", "--board", "host", "--bench", "kws", "--export", "{f}/export"], "export folder",
     "pass another --export DIR"),
    (["profile", "--board", "mps2_an386", "--bench", "kws", "--out", "{f}/profile"],
     "build folder", "pass another --out DIR"),
    (["verify", "--board", "host", "--bench", "kws", "--build", "{f}/verify"], "build folder",
     "pass another --build DIR"),
    (["run", "--board", "host", "--bench", "kws", "--mode", "performance",
      "--port", "socket://127.0.0.1:9", "--out", "{f}/session"], "session folder",
     "choose another with --out DIR"),
], ids=["build-out", "build-export", "profile-out", "verify-build", "run-out"])
def test_output_folder_under_a_file_is_one_line_before_any_work(argv, folder, fix, a_file):
    argv = [a.replace("{f}", str(a_file)) for a in argv]
    proc = _tinygen(*argv)
    err = _one_line_error(proc)
    target = next(a for a in argv if a.startswith(str(a_file)))
    assert f"cannot create the {folder} {target}: {a_file} is a file, not a folder" in err
    assert err.endswith(fix)
    assert proc.stdout == ""          # nothing built, nothing printed before


def test_export_into_proc_is_refused_before_building(tmp_path):
    proc = _tinygen("build", "--board", "host", "--bench", "kws", "--out", str(tmp_path / "b"),
                    "--export", "/proc/tinygen-export")
    err = _one_line_error(proc)
    assert "cannot create the export folder /proc/tinygen-export: /proc takes no new folders" in err
    assert not (tmp_path / "b" / "build.json").exists()


# ---------------------------------------------------------------- boards, datasets, models

def test_misspelled_board_gets_a_suggestion_and_nothing_before_it():
    proc = _tinygen("build", "--board", "disco_l457vg_iot01a", "--bench", "kws")
    err = _one_line_error(proc)
    assert "unknown board 'disco_l457vg_iot01a'; did you mean disco_l475vg_iot01a?" in err
    assert "building" not in proc.stdout + proc.stderr


@pytest.mark.parametrize("argv", [
    ["run", "--mode", "performance"],
    ["verify", "--bench", "kws"],
    ["profile", "--bench", "kws"],
    ["flash", "--bench", "kws"],
    ["package", "--org", "O", "--system", "s", "--out", "unused"],
], ids=lambda a: a[0])
def test_every_board_option_suggests_the_nearest_board(argv, capsys):
    assert main([*argv, "--board", "mps2_an368"]) == 1
    assert "unknown board 'mps2_an368'; did you mean mps2_an386?" in capsys.readouterr().err


def test_far_off_board_name_still_lists_the_boards(capsys):
    assert main(["run", "--board", "no_such_thing", "--mode", "performance"]) == 1
    err = capsys.readouterr().err
    assert "unknown board 'no_such_thing'; known boards: " in err and "did you mean" not in err


def test_dataset_given_as_a_file_is_named_as_a_file(tmp_path, capsys):
    labels = tmp_path / "kws01" / "y_labels.csv"
    labels.parent.mkdir()
    labels.write_text("tst_000000_Stop_7.bin,12,7\n")
    rc = main(["run", "--board", "host", "--bench", "kws", "--mode", "accuracy",
               "--dataset", str(labels), "--port", "socket://127.0.0.1:9",
               "--out", str(tmp_path / "s")])
    err = capsys.readouterr().err
    assert rc == 1
    assert f"--dataset {labels} is a file; pass the folder that holds y_labels.csv" in err
    assert f"--dataset {labels.parent}" in err and "does not exist" not in err
    assert not (tmp_path / "s").exists()


# The official model, where the shared tools keep it beside the checkout (if anywhere).
REFERENCE_AD01 = next((p / "shared" / "reference-models" / "ad01_fc_autoencoder_int8.tflite"
                       for p in ROOT.parents
                       if (p / "shared" / "reference-models" / "ad01_fc_autoencoder_int8.tflite"
                           ).is_file()), Path("/nonexistent/ad01_fc_autoencoder_int8.tflite"))


@pytest.mark.parametrize("form", ["folder", "file"])
def test_model_fetch_takes_a_local_path_like_file_urls(form, tmp_path, capsys):
    """--url /path/to/mirror (the repository layout) or /path/to/model.tflite."""
    from tinygen.benches import get_bench

    if not REFERENCE_AD01.is_file():
        pytest.skip(f"official ad01 model not present at {REFERENCE_AD01}")
    bench = get_bench("ad")
    mirror = tmp_path / "mirror"
    copy = mirror / bench.official_path
    copy.parent.mkdir(parents=True)
    copy.write_bytes(REFERENCE_AD01.read_bytes())
    dest = tmp_path / "ad.tflite"
    url = str(mirror) if form == "folder" else str(copy)
    assert main(["model", "fetch", "--bench", "ad", "--url", url, "-o", str(dest)]) == 0
    assert dest.read_bytes() == copy.read_bytes()
    assert "(verified)" in capsys.readouterr().out


# ---------------------------------------------------------------- real board, nothing attached

def test_real_board_with_nothing_attached_says_nothing_was_measured(tmp_path):
    from serial.tools import list_ports

    if any(p.vid == 0x0483 for p in list_ports.comports()):
        pytest.skip("an ST-LINK is plugged in here")
    out = tmp_path / "s"
    proc = _tinygen("run", "--board", "nucleo_l4r5zi", "--mode", "performance",
                    "--out", str(out))
    assert proc.returncode == 1
    assert "no serial port with USB id" in proc.stderr
    assert "nothing was measured" in proc.stderr
    assert "what was measured before the error" not in proc.stderr
    summary = (out / "results.txt").read_text()
    assert "None" not in summary
    assert "Benchmark : not known (no --bench given" in summary
    assert json.loads((out / "results.json").read_text())["status"] == "failed"


# ---------------------------------------------------------------- figures said as they are

def test_clock_check_suggests_the_nominal_clock():
    from tinygen.runner.connect import check_emulated_clock, nominal_clock_hz

    assert nominal_clock_hz(167_940_000) == 168_000_000
    assert nominal_clock_hz(20_000_000) == 20_000_000
    assert nominal_clock_hz(24_990_000) == 25_000_000
    board = load_board("mps2_an386")
    with pytest.raises(TinygenError) as caught:
        check_emulated_clock(board, ["e-[tinygen clock check: clock_hz 25000000, "
                                     "machine 167940000]"])
    text = str(caught.value)
    assert text.endswith("set clock_hz: 168000000") and "about 167.94 MHz" in text


def test_quality_target_is_said_as_its_metric(capsys):
    from tinygen.benches import get_bench
    from tinygen.runner.measure import quality_verdict

    met, said = quality_verdict(get_bench("kws"), {"measured": 20, "total": 20, "top1": 0.5})
    assert met is None
    assert said == ("not checked: 20 of 1000 stimuli (top-1 50.0%; the target 90% is defined "
                    "over the full official set)")
    met, said = quality_verdict(get_bench("ad"), {"measured": 5, "total": 5, "auc": 0.9})
    assert "target 0.85" in said
    assert main(["benches"]) == 0
    printed = capsys.readouterr().out
    assert "top-1 >= 90% (1000 stimuli)" in printed and "AUC >= 0.85" in printed
