"""Whole models, bit-exact with TFLM on many random inputs."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import COMMITTED_MODELS, REFERENCE_MODELS
from tfmodels import WHOLE_MODELS
from tinygen.codegen import generate_model_sources
from tinygen.ir import load_model
from tinygen.ir.reader import read_tflite

RANDOM_INPUTS = 20


@pytest.mark.parametrize("name", ["kws01", "vww01", "ic01", "ad01"])
def test_committed_model_matches_tflm(compiler, name):
    path = COMMITTED_MODELS / f"{name}.tflite"
    if not path.exists():
        pytest.skip(f"{path} not built yet")
    inputs = 6 if name == "vww01" else RANDOM_INPUTS
    assert compiler.compare(path, inputs) == inputs


@pytest.mark.parametrize("name", ["ic01_resnet8_int8", "ad01_fc_autoencoder_int8"])
def test_official_model_matches_tflm(compiler, name):
    path = REFERENCE_MODELS / f"{name}.tflite"
    if not path.exists():
        pytest.skip("official reference models not present")
    assert compiler.compare(path, RANDOM_INPUTS) == RANDOM_INPUTS


@pytest.mark.parametrize("name", sorted(WHOLE_MODELS))
def test_keras_model_matches_tflm(model_cache, compiler, name):
    path = model_cache.whole(name)
    assert compiler.compare(path, RANDOM_INPUTS, seed=3) == RANDOM_INPUTS


def test_open_batch_shape_arithmetic_is_folded(model_cache, compiler):
    path = model_cache.whole("open_batch_flatten")
    raw_kinds = [op.kind for op in read_tflite(path).operators]
    assert {"SHAPE", "STRIDED_SLICE", "PACK"} <= set(raw_kinds)
    kinds = [op.kind for op in load_model(path).operators]
    assert kinds == ["CONV_2D", "RESHAPE", "FULLY_CONNECTED", "SOFTMAX"]
    assert compiler.compare(path, 8) == 8


def test_float_io_model_quantizes_and_dequantizes_like_tflm(model_cache, compiler, tmp_path):
    path = model_cache.whole("fc_autoencoder", float_io=True)
    kinds = [op.kind for op in load_model(path).operators]
    assert kinds[0] == "QUANTIZE" and kinds[-1] == "DEQUANTIZE"
    src = generate_model_sources(path, tmp_path)
    header = src.model_h.read_text()
    assert "#define TG_MODEL_INPUT_IS_FLOAT    1" in header
    assert "#define TG_MODEL_OUTPUT_IS_FLOAT   1" in header
    assert compiler.compare(path, RANDOM_INPUTS) == RANDOM_INPUTS


def test_float_input_rounds_half_away_from_zero_like_tflm(model_cache, compiler):
    """Inputs exactly halfway between two quantized steps."""
    from tflite_micro.python.tflite_micro import runtime

    path = model_cache.whole("fc_autoencoder", float_io=True)
    host = compiler.host_model(path)
    oracle = runtime.Interpreter.from_file(str(path))
    scale = float(np.float32(load_model(path).tensors[load_model(path).operators[0].outputs[0]]
                             .quant.scale))
    steps = np.arange(-40, 40, dtype=np.float32)
    x = ((steps + np.float32(0.5)) * np.float32(scale)).astype(np.float32).reshape(1, 80)
    oracle.set_input(x, 0)
    oracle.invoke()
    np.testing.assert_array_equal(host.run(x), np.asarray(oracle.get_output(0)).reshape(-1))
