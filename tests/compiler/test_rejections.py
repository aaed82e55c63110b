"""Every model tinygen cannot compile is refused with one clear line."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from tfmodels import _keras, _tf, convert
from tinygen.errors import TinygenError
from tinygen.ir import SUPPORTED, load_model


def _save(tmp_path, name, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _one_line(exc: pytest.ExceptionInfo) -> str:
    text = str(exc.value)
    assert "\n" not in text
    return text


def test_missing_file_is_refused(tmp_path):
    with pytest.raises(TinygenError) as exc:
        load_model(tmp_path / "nope.tflite")
    assert "cannot read model" in _one_line(exc)


def test_non_flatbuffer_is_refused(tmp_path):
    path = _save(tmp_path, "text.tflite", b"this is not a model at all, just text\n" * 4)
    with pytest.raises(TinygenError) as exc:
        load_model(path)
    assert "not a TFLite flatbuffer" in _one_line(exc)


def test_truncated_file_is_refused(tmp_path, model_cache):
    full = model_cache.whole("fc_autoencoder").read_bytes()
    for cut in (len(full) // 2, len(full) - 100, 40):
        path = _save(tmp_path, f"cut{cut}.tflite", full[:cut])
        with pytest.raises(TinygenError) as exc:
            load_model(path)
        assert "truncated or corrupt" in _one_line(exc)


def _dense_model(shape=(16,), batch_size=1):
    keras = _keras()
    inp = keras.Input(shape=shape, batch_size=batch_size)
    return keras.Model(inp, keras.layers.Dense(4, activation="relu")(inp))


def test_float_model_is_refused(tmp_path):
    path = _save(tmp_path, "float.tflite", convert(_dense_model(), -1, 1, 0, quantize=False))
    with pytest.raises(TinygenError) as exc:
        load_model(path)
    msg = _one_line(exc)
    assert "float model" in msg and "TFLITE_BUILTINS_INT8" in msg


def test_int16x8_model_compiles(tmp_path):
    """16-bit activations are compiled now (tests/compiler/test_ops_s16.py
    proves them and their refusals: int16 graph edges, operators without an
    int16 form)."""
    path = _save(tmp_path, "int16.tflite", convert(_dense_model(), -1, 1, 0, int16=True))
    model = load_model(path)
    assert "int16" in {t.dtype for t in model.tensors}


def test_dynamic_shape_is_refused(tmp_path):
    model = _dense_model(shape=(None, 16), batch_size=None)
    path = _save(tmp_path, "dyn.tflite", convert(model, -1, 1, 0, quantize=False))
    with pytest.raises(TinygenError) as exc:
        load_model(path)
    assert "dynamic shape" in _one_line(exc)


def test_unsupported_operator_is_refused_by_name(tmp_path):
    keras = _keras()
    inp = keras.Input(shape=(4, 3, 2), batch_size=1)
    x = keras.layers.Permute((2, 1, 3))(inp)
    out = keras.layers.Multiply()([x, x])
    path = _save(tmp_path, "transpose.tflite", convert(keras.Model(inp, out), -1, 1, 0))
    with pytest.raises(TinygenError) as exc:
        load_model(path)
    msg = _one_line(exc)
    assert "unsupported operator(s) TRANSPOSE;" in msg and "MUL" in msg
    assert all(op in msg for op in SUPPORTED)


def test_more_than_one_subgraph_is_refused(tmp_path):
    tf = _tf()

    class Branchy(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([1, 4], tf.float32)])
        def __call__(self, x):
            return tf.cond(tf.reduce_sum(x) > 0, lambda: x * 2.0, lambda: x - 1.0)

    module = Branchy()
    conv = tf.lite.TFLiteConverter.from_concrete_functions(
        [module.__call__.get_concrete_function()], module)
    path = _save(tmp_path, "cond.tflite", conv.convert())
    with pytest.raises(TinygenError) as exc:
        load_model(path)
    assert "subgraphs" in _one_line(exc)


def test_cli_prints_the_refusal_on_one_line(tmp_path, capsys):
    from tinygen.cli import main

    path = _save(tmp_path, "bad.tflite", np.arange(64, dtype=np.uint8).tobytes())
    assert main(["inspect", str(path)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("tinygen: error:")


def test_two_input_model_is_refused(tmp_path):
    keras = _keras()
    a = keras.Input(shape=(8,), batch_size=1)
    b = keras.Input(shape=(8,), batch_size=1)
    out = keras.layers.Add()([keras.layers.Dense(8)(a), keras.layers.Dense(8)(b)])
    model = keras.Model([a, b], out)
    tf = _tf()
    rng = np.random.default_rng(0)

    def representative():
        for _ in range(8):
            yield [rng.uniform(-1, 1, (1, 8)).astype(np.float32) for _ in range(2)]

    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = representative
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = conv.inference_output_type = tf.int8
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Statistics for quantized inputs")
        data = conv.convert()
    path = _save(tmp_path, "two.tflite", data)
    with pytest.raises(TinygenError) as exc:
        load_model(path)
    assert "single-input single-output" in _one_line(exc)


def _float_island_model(tmp_path):
    """SIN has no int8 kernel: without TFLITE_BUILTINS_INT8 the converter keeps it in
    float between DEQUANTIZE and QUANTIZE; a TRANSPOSE (Permute) follows."""
    keras, tf = _keras(), _tf()
    L = keras.layers
    inp = keras.Input(shape=(6, 6, 3), batch_size=1)
    x = L.Conv2D(4, 1)(keras.ops.sin(L.Conv2D(4, 3, padding="same")(inp)))
    model = keras.Model(inp, L.Permute((2, 1, 3))(x))
    rng = np.random.default_rng(0)
    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = lambda: ([rng.uniform(-1, 1, (1, 6, 6, 3)).astype(np.float32)]
                                           for _ in range(8))
    conv.inference_input_type = conv.inference_output_type = tf.int8
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Statistics for quantized inputs")
        return _save(tmp_path, "island.tflite", conv.convert())


def test_float_island_is_refused_with_the_converter_setting_that_removes_it(tmp_path, capsys):
    from tinygen.cli import main

    path = _float_island_model(tmp_path)
    with pytest.raises(TinygenError) as exc:
        load_model(path)
    msg = _one_line(exc)
    assert "float island" in msg and "SIN" in msg and "TFLITE_BUILTINS_INT8" in msg
    # inspect: one row per operator, whether it compiles, and what to change.
    capsys.readouterr()              # the converter's own printing
    assert main(["inspect", str(path), "--json"]) == 1
    rows = json.loads(capsys.readouterr().out)["operators"]
    assert [(r["op"], r["supported"]) for r in rows] == [
        ("CONV_2D", True), ("DEQUANTIZE", False), ("SIN", False), ("QUANTIZE", False),
        ("CONV_2D", True), ("TRANSPOSE", False)]
    assert "TFLITE_BUILTINS_INT8" in rows[1]["fix"] and "NHWC" in rows[5]["fix"]
    assert all("\n" not in r["fix"] for r in rows)
    assert main(["inspect", str(path)]) == 1
    text = capsys.readouterr().out
    assert "no: transposes are not compiled" in text and "yes" in text
