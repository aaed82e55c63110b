"""build.json is read and written only through tinygen.port.manifest."""

from __future__ import annotations

import json

import pytest

from tinygen.benches import get_bench
from tinygen.boards import load_board
from tinygen.errors import TinygenError
from tinygen.port.manifest import (MANIFEST_VERSION, BuildManifest, FlagSet, ModelEntry,
                                   StreamEntry, default_build_dir, locate_build, read_manifest, write_manifest)


def _manifest(**changes) -> BuildManifest:
    base = dict(board="host", bench="kws01", mode="performance", opt="O2", tinygen="0.1.0",
                model=ModelEntry(path="/m/kws01.tflite", sha256="ab", macros={"TG_MODEL_OPS": "12"}),
                cflags=["-O3"], lto_cflags=FlagSet(flags=["-flto"], sources=["src/model.c"]),
                outputs={"executable": "firmware"})
    return BuildManifest(**{**base, **changes})


def test_a_written_manifest_reads_back_equal(tmp_path):
    manifest = _manifest(runtime="tflm", engine_details={"kernels": "reference"},
                         size={"flash_bytes": 1, "ram_bytes": 2})
    write_manifest(tmp_path, manifest)
    data = json.loads((tmp_path / "build.json").read_text())
    assert data["manifest_version"] == MANIFEST_VERSION and data["tflm"] == {"kernels": "reference"}
    assert read_manifest(tmp_path) == manifest


def test_a_streaming_builds_entry_reads_back_and_others_have_none(tmp_path):
    entry = StreamEntry(log_hops=94, incremental=False,
                        plan="full-window inference every hop (826,368 MACs)",
                        note="op 0: only pointwise (1x1) convolutions run per row")
    write_manifest(tmp_path, _manifest(bench="sww01", stream=entry))
    assert read_manifest(tmp_path).stream == entry
    write_manifest(tmp_path, _manifest())
    assert "stream" not in json.loads((tmp_path / "build.json").read_text())
    assert read_manifest(tmp_path).stream is None


def test_a_manifest_without_a_version_is_version_1_and_reads(tmp_path):
    old = _manifest().to_dict()
    del old["manifest_version"]
    old["tflm"] = None
    (tmp_path / "build.json").write_text(json.dumps(old))
    read = read_manifest(tmp_path)
    assert read.board == "host" and read.benchmark == get_bench("kws01")
    assert read.image_name == "firmware" and read.engine_details is None


def test_a_newer_manifest_is_refused_naming_the_fix(tmp_path):
    (tmp_path / "build.json").write_text(json.dumps({**_manifest().to_dict(),
                                                    "manifest_version": MANIFEST_VERSION + 1}))
    with pytest.raises(TinygenError, match="newer than this tinygen reads.*rebuild the firmware"):
        read_manifest(tmp_path)


def test_a_folder_without_a_manifest_names_the_build_command(tmp_path):
    with pytest.raises(TinygenError, match=r"holds no build.json; build the firmware first \(tinygen build"):
        read_manifest(tmp_path)


def test_an_export_keeps_the_model_file_name_not_its_path():
    exported = _manifest().exported_copy()
    assert exported.exported and exported.model.path is None and exported.model.file == "kws01.tflite"
    assert "path" not in exported.to_dict()["model"] and exported.to_dict()["exported"] is True


def test_a_build_folder_is_the_given_one_else_the_benchmarks_default(tmp_path):
    board, bench = load_board("host"), get_bench("kws")
    assert locate_build(board, bench, tmp_path) == tmp_path
    assert locate_build(board, bench, None, "energy") == default_build_dir(board, bench, "energy")
    assert default_build_dir(board, bench, "energy").name == "host-kws01-energy"
