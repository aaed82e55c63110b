"""The TFLM tree check and the operator table: fast, nothing is compiled."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conftest import tinygen
from tinygen.benches import get_bench
from tinygen.codegen.tflm_glue import (
    KERNELS_CMSIS_NN, KERNELS_REFERENCE, library_sources, load_tree, model_operators,
    resolve_operators,
)
from tinygen.errors import TinygenError


def test_missing_tree_names_the_option(tmp_path):
    with pytest.raises(TinygenError, match=r"does not exist; pass --tflm DIR"):
        load_tree(tmp_path / "nowhere")


def test_runtime_tflm_needs_a_tree():
    with pytest.raises(TinygenError, match=r"--runtime tflm needs --tflm DIR"):
        load_tree(None)


def test_a_folder_without_tflm_is_refused(tmp_path):
    (tmp_path / "tensorflow").mkdir()
    with pytest.raises(TinygenError, match=r"is not a TFLM tree \(no tensorflow/lite/micro/"):
        load_tree(tmp_path)


def test_kernel_set_is_read_from_the_tree(ref_tree, cmsisnn_tree):
    assert load_tree(ref_tree).kernels == KERNELS_REFERENCE
    assert load_tree(cmsisnn_tree).kernels == KERNELS_CMSIS_NN


def test_library_holds_the_models_kernels_and_no_others(ref_tree, cmsisnn_tree):
    ops = model_operators(get_bench("kws").model_path)
    ref = load_tree(ref_tree)
    ref_sources = library_sources(ref, resolve_operators(ref, ops))
    assert "tensorflow/lite/micro/kernels/conv.cc" in ref_sources
    assert "tensorflow/lite/micro/kernels/add.cc" not in ref_sources   # kws has no ADD
    assert not [s for s in ref_sources if s.startswith(("signal/", "third_party/"))]
    cmsis = load_tree(cmsisnn_tree)
    cmsis_sources = library_sources(cmsis, resolve_operators(cmsis, ops))
    assert "tensorflow/lite/micro/kernels/cmsis_nn/conv.cc" in cmsis_sources
    assert "tensorflow/lite/micro/kernels/conv.cc" not in cmsis_sources
    assert any(s.startswith("third_party/cmsis_nn/Source/") for s in cmsis_sources)


def _tree_without(src: Path, dest: Path, dropped: str) -> Path:
    """A tree of links to src's files, minus one kernel (nothing is copied)."""
    for path in src.rglob("*"):
        rel = path.relative_to(src)
        if path.is_dir() or rel.as_posix() == dropped:
            continue
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(path, dest / rel)
    listing = dest / "TFLM_SOURCES.txt"
    lines = [ln for ln in (src / "TFLM_SOURCES.txt").read_text().splitlines() if ln != dropped]
    listing.unlink()
    listing.write_text("\n".join(lines) + "\n")
    return dest


def test_an_operator_the_tree_lacks_is_named(ref_tree, tmp_path):
    tree = load_tree(_tree_without(ref_tree, tmp_path / "tree",
                                   "tensorflow/lite/micro/kernels/softmax.cc"))
    with pytest.raises(TinygenError, match=r"lacks operator SOFTMAX \(.*softmax\.cc"):
        resolve_operators(tree, model_operators(get_bench("kws").model_path))


def test_an_operator_outside_the_table_is_named(ref_tree):
    with pytest.raises(TinygenError, match=r"operator BATCH_MATMUL has no TFLM kernel known"):
        resolve_operators(load_tree(ref_tree), ["CONV_2D", "BATCH_MATMUL"])


def test_cli_refuses_tflm_dir_without_the_runtime(ref_tree):
    done = tinygen("build", "--board", "host", "--bench", "kws", "--tflm", str(ref_tree))
    assert done.returncode == 1
    assert "--tflm DIR is for --runtime tflm" in done.stderr


def test_cli_missing_tree_is_one_line(tmp_path):
    done = tinygen("build", "--board", "host", "--bench", "kws", "--runtime", "tflm",
                   "--tflm", str(tmp_path / "nope"), "--out", str(tmp_path / "b"))
    assert done.returncode == 1
    assert "does not exist; pass --tflm DIR" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_open_auto_encoders_operators_resolve(ref_tree):
    """--runtime tflm builds the convolutional auto-encoder of models/open/:
    TFLM's TRANSPOSE_CONV and RESIZE_BILINEAR kernels come from the tree."""
    model = Path(__file__).resolve().parents[2] / "models" / "open" / "conv_autoencoder.tflite"
    ops = resolve_operators(load_tree(ref_tree), model_operators(model))
    stems = {op.stems[0] for op in ops}
    assert {"transpose_conv", "resize_bilinear", "conv"} <= stems
