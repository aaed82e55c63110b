"""Damaged session and build folders given to `tinygen package` (issue 25).

Each case corrupts a copy of real sessions (a host build of kws01, a
performance and an accuracy run by the real runner, made once by
benchmarks/fuzz_sessions.make_seeds) the way the issue's campaign did, and
`tinygen package` must end in one line and exit 1: no traceback. The last
test is the fixed-seed smoke of the session fuzzer.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from tinygen.cli import main

ROOT = Path(__file__).resolve().parents[2]


def _module(name: str):
    spec = importlib.util.spec_from_file_location(f"tinygen_bench_{name}",
                                                  ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


fuzz = _module("fuzz_sessions")


@pytest.fixture(scope="module")
def seeds(tmp_path_factory):
    return fuzz.make_seeds(tmp_path_factory.mktemp("session-seeds"))


@pytest.fixture
def copies(seeds, tmp_path):
    """(perf, acc, build): fresh copies, the sessions naming the copied build."""
    build = tmp_path / "build"
    shutil.copytree(seeds / "build", build, ignore=shutil.ignore_patterns("obj"))
    out = []
    for name in fuzz.SESSIONS:
        shutil.copytree(seeds / name, tmp_path / name)
        data = json.loads((tmp_path / name / "results.json").read_text())
        data["build"] = data["firmware"]["build"] = str(build)
        (tmp_path / name / "results.json").write_text(json.dumps(data))
        out.append(tmp_path / name)
    return out[0], out[1], build


def _package(copies, tmp_path, capsys) -> tuple[int, str]:
    perf, acc, _ = copies
    rc = main(["package", "--org", "O", "--system", "s", "--out", str(tmp_path / "tree"),
               "--force", "test", str(perf), str(acc)])
    return rc, capsys.readouterr().err.strip()


def _refused(copies, tmp_path, capsys, *words: str) -> str:
    rc, err = _package(copies, tmp_path, capsys)
    assert rc == 1, err
    assert err.startswith("tinygen: error: ") and "\n" not in err and len(err) < 600, err
    for word in words:
        assert word in err, err
    assert not (tmp_path / "tree" / "closed").exists()      # nothing half written
    return err


def _edit(folder: Path, change) -> None:
    path = folder / "results.json"
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def test_the_undamaged_copies_package(copies, tmp_path, capsys):
    rc, err = _package(copies, tmp_path, capsys)
    assert rc == 0, err
    assert (tmp_path / "tree" / "closed" / "O" / "code" / "s" / "kws" / "build.json").is_file()


@pytest.mark.parametrize("text, words", [
    ("[1, 2]", "a list of 2 items where a JSON object belongs"),
    ("null", "null where a JSON object belongs"),
    ('"text"', "the text 'text' where a JSON object belongs"),
    ("5", "the number 5 where a JSON object belongs"),
    ("[" * 100000 + "]" * 100000, "nests deeper than 32 levels"),
    ('{"a":' * 40 + "1" + "}" * 40, "nests deeper than 32 levels"),
    ('{"mode": NaN}', "NaN is not a JSON number"),
    ("{", "not valid JSON"),
])
def test_results_json_that_is_no_record(copies, tmp_path, capsys, text, words):
    (copies[0] / "results.json").write_text(text)
    _refused(copies, tmp_path, capsys, "perf/results.json", words, "run the session again")


def test_results_json_in_another_encoding_or_huge(copies, tmp_path, capsys):
    (copies[0] / "results.json").write_bytes("{}".encode("utf-16"))
    _refused(copies, tmp_path, capsys, "not UTF-8 text")
    with (copies[0] / "results.json").open("ab") as f:
        f.truncate(65 * 1024 * 1024)       # sparse: never read whole
    _refused(copies, tmp_path, capsys, "larger than 64 MB")


@pytest.mark.parametrize("path, value, words", [
    (("bench",), 5, "'bench' is the number 5 where text belongs"),
    (("bench",), "x\ny", "unknown benchmark 'x\\ny'"),
    (("error",), {"a": 1}, "'error' is an object of 1 keys where text belongs"),
    (("mode",), ["performance"], "'mode' is a list of 1 items"),
    (("performance",), "fast", "'performance' is the text 'fast' where an object belongs"),
    (("accuracy",), 3, "'accuracy' is the number 3 where an object belongs"),
    (("performance", "windows"), "abc", "'performance.windows' is the text 'abc' where a list"),
    (("performance", "windows", 0), None, "'performance.windows[0]' is null where an object"),
    (("performance", "windows", 0, "seconds"), "x", "'performance.windows[0].seconds' is the text"),
    (("performance", "min_seconds"), [1], "'performance.min_seconds' is a list"),
    (("firmware",), "abc", "'firmware' is the text 'abc' where an object belongs"),
    (("firmware", "build"), 5, "'firmware.build' is the number 5 where a path belongs"),
    (("firmware", "build"), "/tmp/\x00x", "'firmware.build' is the text '/tmp/\\x00x'"),
    (("firmware", "image_sha256"), 5, "'firmware.image_sha256' is the number 5"),
    (("board",), "../../etc/board.yaml", "names no board"),
    (("dataset",), {}, "'dataset' is an object of 0 keys where a path belongs"),
])
def test_wrong_typed_fields_of_results_json(copies, tmp_path, capsys, path, value, words):
    def change(data):
        holder = data
        for step in path[:-1]:
            holder = holder[step]
        holder[path[-1]] = value
    _edit(copies[0], change)
    _refused(copies, tmp_path, capsys, "session perf", words)


def test_an_accuracy_window_field_of_the_wrong_type(copies, tmp_path, capsys):
    _edit(copies[1], lambda d: d["accuracy"].update(measured="all"))
    _refused(copies, tmp_path, capsys, "session acc", "'accuracy.measured' is the text 'all'")


def test_an_error_over_lines_is_reported_on_one(copies, tmp_path, capsys):
    _edit(copies[0], lambda d: d.update(status="failed", error="first\nsecond" + "x" * 5000))
    rc = main(["package", "--org", "O", "--system", "s", "--out", str(tmp_path / "tree"),
               str(copies[0]), str(copies[1])])
    err = capsys.readouterr().err.strip()
    assert rc == 1 and "\n" not in err and len(err) < 2000, err
    assert "failed: first\\nsecond" in err


def _manifest(build: Path, change) -> None:
    data = json.loads((build / "build.json").read_text())
    change(data)
    (build / "build.json").write_text(json.dumps(data))


@pytest.mark.parametrize("key, value, words", [
    ("outputs", [1], "'outputs' is a list of 1 items where an object belongs"),
    ("outputs", {"executable": 5}, "'outputs': 'executable' is the number 5 where a path"),
    ("sources", "abc", "'sources' is the text 'abc' where a list belongs"),
    ("sources", [1], "'sources[0]' is the number 1 where a path belongs"),
    ("ldflags", [5], "'ldflags[0]' is the number 5 where text belongs"),
    ("model", [1], "'model' is a list of 1 items where an object belongs"),
    ("model", {"path": 5}, "'model.path' is the number 5 where a path belongs"),
    ("model", {"macros": [1]}, "'model.macros' is a list"),
    ("cold_cflags", {"flags": "x"}, "'cold_cflags.flags' is the text 'x' where a list"),
    ("tools", {"cc": 1}, "'tools': 'cc' is the number 1"),
    # Fuzz finding (seed 25, mutant 3646): a null compiler was a TypeError in system.py.
    ("tools", {"cc": None}, "'tools': 'cc' is null where text belongs"),
    # Fuzz finding (seed 25, mutant 10350): no tools was a template error in the export.
    ("tools", {}, "names no compiler ('tools' is empty)"),
    ("manifest_version", "x", "manifest version 'x'"),
])
def test_wrong_typed_fields_of_build_json(copies, tmp_path, capsys, key, value, words):
    _manifest(copies[2], lambda d: d.__setitem__(key, value))
    _refused(copies, tmp_path, capsys, "build.json", words)


@pytest.mark.parametrize("text, words", [
    ("[1]", "a list of 1 items where a JSON object belongs"),
    ("[" * 100000, "nests deeper than 32 levels"),
    ("{", "not valid JSON"),
])
def test_build_json_that_is_no_manifest(copies, tmp_path, capsys, text, words):
    (copies[2] / "build.json").write_text(text)
    _refused(copies, tmp_path, capsys, "build.json", words)


def test_a_symlink_loop_in_the_build_folder(copies, tmp_path, capsys):
    os.symlink(".", copies[2] / "src" / "loop")
    _refused(copies, tmp_path, capsys, "src/loop in the build folder is a symbolic link")


def test_a_fifo_in_the_build_folder_is_never_opened(copies, tmp_path, capsys):
    os.mkfifo(copies[2] / "src" / "fifo")
    _refused(copies, tmp_path, capsys, "src/fifo in the build folder is not a regular file")


def test_a_build_file_that_is_a_folder(copies, tmp_path, capsys):
    """Fuzz finding (seed 1, mutant 257): SConstruct a folder gave IsADirectoryError."""
    (copies[2] / "SConstruct").unlink()
    (copies[2] / "SConstruct").mkdir()
    _refused(copies, tmp_path, capsys, "lacks SConstruct")


def test_a_huge_image_is_refused_without_reading_it(copies, tmp_path, capsys):
    os.truncate(copies[2] / "firmware", 2 << 30)      # sparse
    _refused(copies, tmp_path, capsys, "larger than 1024 MB, which no firmware image is")


def test_a_recorded_build_folder_that_is_a_symlink_loop(copies, tmp_path, capsys):
    loop = tmp_path / "loop"
    os.symlink("loop", loop)
    for folder in copies[:2]:
        _edit(folder, lambda d: (d.update(build=str(loop)), d["firmware"].update(build=str(loop))))
    _refused(copies, tmp_path, capsys, "no build folder for kws01")


def test_session_files_that_are_no_files(copies, tmp_path, capsys):
    (copies[0] / "log.txt").unlink()
    os.mkfifo(copies[0] / "log.txt")
    _refused(copies, tmp_path, capsys, "session perf lacks log.txt")
    (copies[0] / "log.txt").unlink()
    os.symlink("log.txt", copies[0] / "log.txt")
    _refused(copies, tmp_path, capsys, "session perf lacks log.txt")


SMOKE_MUTANTS = 120
SMOKE_SEED = 1


def test_smoke_campaign_finds_nothing(seeds):
    counts, found = fuzz.campaign(SMOKE_MUTANTS, SMOKE_SEED, seeds)
    assert not found, found
    assert sum(counts.values()) == SMOKE_MUTANTS
    assert counts["ok"] > 10 and counts["refused"] > SMOKE_MUTANTS // 3, counts


def test_session_mutants_are_reproducible_by_index(seeds, tmp_path):
    maker = fuzz.Mutant(seeds, tmp_path / "m")
    first = maker.make(SMOKE_SEED, 17)[2]
    assert maker.make(SMOKE_SEED, 17)[2] == first
    assert (seeds / "build" / "build.json").read_text() == json.dumps(maker.manifest, indent=2) + "\n"
