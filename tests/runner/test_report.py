"""tinygen report renders real sessions into one self-contained page.

The sessions are real host-board runs (kws01 performance and accuracy, ad01
accuracy), a real energy run on an emulated board (simulated instruments)
and a real profile on an emulated board; the page is checked for
its content here and, when Chromium is installed (scripts/setup.sh --dev),
opened in headless Chromium, which must log no console message (the page's
Content-Security-Policy forbids any network load, so one would be logged).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tinygen.cli import main
from tinygen.report import collect, render_report
from tinygen.report.page import roc_points

from runner_helpers import classifier_bench, write_ad01_dataset, write_classifier_dataset

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run",
                  "--enable-logging=stderr", "--v=0"]


@pytest.fixture(scope="module")
def sessions(firmware, tmp_path_factory):
    root = tmp_path_factory.mktemp("report")
    kws = classifier_bench()
    kws_build = firmware("host", kws)
    ad_build = firmware("host", "ad01")
    write_classifier_dataset(root / "data", kws, lambda i, d: i % 3, count=9, seed=4)
    write_ad01_dataset(root / "data", [2, 2, 2, 2], [0, 0, 1, 1], (-2.0, 2.0), seed=5)
    out = {name: root / name for name in ("kws-perf", "kws-acc", "ad-acc")}
    assert main(["run", "--board", "host", "--build", str(kws_build), "--mode", "performance",
                 "--min-seconds", "0.2", "--warmup", "1", "--out", str(out["kws-perf"])]) == 0
    assert main(["run", "--board", "host", "--build", str(kws_build), "--mode", "accuracy",
                 "--dataset", str(root / "data"), "--out", str(out["kws-acc"])]) == 0
    assert main(["run", "--board", "host", "--build", str(ad_build), "--mode", "accuracy",
                 "--dataset", str(root / "data"), "--out", str(out["ad-acc"])]) == 0
    energy_build = firmware("disco_l475vg_iot01a", "ad01", "energy")
    out["energy"] = root / "energy"
    assert main(["run", "--board", "disco_l475vg_iot01a", "--build", str(energy_build),
                 "--mode", "energy", "--min-seconds", "0.05", "--warmup", "1",
                 "--out", str(out["energy"])]) == 0
    profile = root / "profile-ad"
    assert main(["profile", "--board", "mps2_an386", "--bench", "ad", "--out", str(profile)]) == 0
    out["profile"] = profile
    return kws, out


@pytest.fixture(scope="module")
def page(sessions, tmp_path_factory) -> tuple[str, Path]:
    _, out = sessions
    html = tmp_path_factory.mktemp("page") / "report.html"
    assert main(["report", *map(str, out.values()), "-o", str(html)]) == 0
    return html.read_text(), html


def test_sessions_of_a_board_are_one_system_with_every_bench(sessions):
    kws, out = sessions
    systems = collect(list(out.values()))
    host = next(s for s in systems if s.name == "host")
    assert host.benches == sorted([kws, "ad01"])
    assert {e.kind for e in host.entries} == {"performance", "accuracy"}
    # The energy run's and the profile's boards are systems of their own.
    assert [s.name for s in systems] == ["disco_l475vg_iot01a", "host", "mps2_an386"]


def test_page_holds_every_section(page, sessions):
    html, _ = page
    kws, _ = sessions
    for text in ("System host", f"{kws} performance on host", f"{kws} accuracy on host",
                 "ad01 accuracy on host", "ad01 profile on mps2_an386",
                 "ad01 energy on disco_l475vg_iot01a", "SIMULATED instruments",
                 "data:image/png;base64,", "energy window 5",
                 "Build: flash and RAM by part", "Latency windows", "true \\ predicted",
                 "ROC curve", "Per-layer profile", "FULLY_CONNECTED",
                 "not valid for submission",
                 "host board: the firmware ran as a native process, not on a microcontroller",
                 "partial dataset: 9 of the official"):
        assert text in html, text
    assert "<script" not in html and "http://" not in html.replace(
        'xmlns="http://www.w3.org/2000/svg"', "")


def test_roc_corners_follow_the_scores():
    labels = {"a": 1, "b": 0, "c": 1, "d": 0}
    scores = {"a": 0.9, "b": 0.8, "c": 0.7, "d": 0.1}
    assert roc_points(labels, scores) == [(0.0, 0.0), (0.0, 0.5), (0.5, 0.5), (0.5, 1.0), (1.0, 1.0)]
    assert roc_points({"a": 1}, {"a": 0.5}) == []


def test_a_folder_without_sessions_is_one_line(tmp_path, capsys):
    assert main(["report", str(tmp_path), "-o", str(tmp_path / "r.html")]) == 1
    assert "no results.json or profile.json under" in capsys.readouterr().err


@pytest.mark.parametrize("content", [b"[1, 2]", b"null", b"\xff\xfe", b"[" * 100_000, b'{"a": NaN}'])
def test_a_damaged_session_record_is_one_line(tmp_path, capsys, content):
    session = tmp_path / "s"
    session.mkdir()
    (session / "results.json").write_bytes(content)
    assert main(["report", str(session), "-o", str(tmp_path / "r.html")]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "is it a tinygen session?" in err, err
    assert not (tmp_path / "r.html").exists()


def _chromium(url: str, tmp_path: Path) -> subprocess.CompletedProcess:
    exe = shutil.which("chromium")
    if exe is None:
        pytest.skip("chromium is not installed (scripts/setup.sh --dev installs it)")
    return subprocess.run([exe, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
                           "--dump-dom", url], capture_output=True, text=True, timeout=180,
                          check=False)


def _console(stderr: str) -> list[str]:
    return [ln for ln in stderr.splitlines() if ":CONSOLE" in ln]


def test_page_opens_in_headless_chromium_without_console_messages(page, sessions, tmp_path):
    _, html = page
    kws, _ = sessions
    done = _chromium(html.as_uri(), tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert _console(done.stderr) == []
    dom = done.stdout
    assert f"{kws} performance on host" in dom and "ad01 accuracy on host" in dom
    assert dom.count("<svg") >= 6


def test_the_console_check_catches_a_network_load(tmp_path):
    """The same check on a page that tries to fetch an image does see it."""
    bad = tmp_path / "bad.html"
    page = render_report([])
    bad.write_text(page.replace("</body>", '<img src="http://192.0.2.1/x.png"></body>'))
    done = _chromium(bad.as_uri(), tmp_path)
    assert any("192.0.2.1" in ln for ln in _console(done.stderr)), done.stderr[-2000:]


def test_a_submission_tree_is_reported_per_system(sessions, tmp_path):
    kws, out = sessions
    assert main(["package", "--org", "Org", "--system", "host_tg", "--out", str(tmp_path / "tree"),
                 "--force", "report test", str(out["kws-perf"]), str(out["kws-acc"])]) == 0
    systems = collect([tmp_path / "tree"])
    assert [s.name for s in systems] == ["host_tg"]
    assert systems[0].description["Submitter"] == "Org"
    html = render_report(systems)
    assert "System host_tg" in html and f"{kws} accuracy on host" in html
    assert "Processor(s) Name" in html
