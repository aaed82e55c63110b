"""int16x8 operators (16-bit activations, 8-bit weights), bit-exact with TFLM.

Host property tests: one-operator Keras models converted with TFLite's
EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8 over random
shapes and input ranges (so scales vary), float32 graph edges as the
converter leaves them, compiled for the host and compared with the TFLM
oracle. Emulated: a random chain of every int16 kernel in one model, and the
committed 16x8 DS-CNN keyword spotter (fixtures/kws01_s16.tflite, built by
tinygen/zoo/int16.py), on the Cortex-M4 (QEMU mps2-an386) and the Cortex-M55
(mps3-an547).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from kernel_oracle import assert_bit_exact, run_bare_metal
from test_kernels_emulated import ARM_FLAGS
from test_kernels_mve import ARM_FLAGS as M55_FLAGS
from test_ops_oracle import (SETTINGS, add_specs, conv_specs, fc_specs, mul_specs, pool_specs,
                             seeds, softmax_specs, unary_specs)
from tinygen.codegen import write_sources
from tinygen.errors import TinygenError
from tinygen.ir import load_model
from tinygen.ir.reader import read_tflite
from tinygen.plan import plan_model

KWS_S16 = Path(__file__).parent / "fixtures" / "kws01_s16.tflite"
INPUTS = 4


def _s16(spec: dict) -> dict:
    spec = dict(spec, int16=True)
    if spec["op"] == "dwconv":
        # TensorFlow 2.21's 16x8 converter aborts on per-tensor depthwise
        # weights ("Quantized dimension ... do not match").
        spec["per_tensor"] = False
    return spec


def _check(model_cache, compiler, spec: dict) -> None:
    path = model_cache.single_op(_s16(spec))
    kinds = {t.dtype for t in read_tflite(path).tensors}
    assert "int16" in kinds, f"{spec} did not convert to int16 activations"
    assert compiler.compare(path, INPUTS, seed=spec["seed"]) == INPUTS


@settings(max_examples=4, **SETTINGS)
@given(spec=conv_specs(depthwise=False))
def test_s16_conv2d_matches_tflm(model_cache, compiler, spec):
    _check(model_cache, compiler, spec)


@settings(max_examples=4, **SETTINGS)
@given(spec=conv_specs(depthwise=True))
def test_s16_depthwise_conv2d_matches_tflm(model_cache, compiler, spec):
    _check(model_cache, compiler, spec)


@settings(max_examples=3, **SETTINGS)
@given(spec=fc_specs())
def test_s16_fully_connected_matches_tflm(model_cache, compiler, spec):
    _check(model_cache, compiler, spec)


@settings(max_examples=2, **SETTINGS)
@given(spec=st.one_of(pool_specs("avgpool"), pool_specs("maxpool")))
def test_s16_pooling_matches_tflm(model_cache, compiler, spec):
    _check(model_cache, compiler, spec)


@settings(max_examples=3, **SETTINGS)
@given(spec=st.one_of(add_specs(), mul_specs()))
def test_s16_add_and_mul_with_broadcasting_match_tflm(model_cache, compiler, spec):
    _check(model_cache, compiler, spec)


@settings(max_examples=3, **SETTINGS)
@given(spec=softmax_specs())
def test_s16_softmax_matches_tflm(model_cache, compiler, spec):
    _check(model_cache, compiler, spec)


@settings(max_examples=3, **SETTINGS)
@given(spec=st.one_of(unary_specs("sigmoid"), unary_specs("tanh")))
def test_s16_logistic_and_tanh_match_tflm(model_cache, compiler, spec):
    _check(model_cache, compiler, spec)


def test_s16_kws_model_matches_tflm_on_the_host(compiler):
    """The committed 16x8 DS-CNN (float32 edges, int64 biases): no TensorFlow needed."""
    assert compiler.compare(KWS_S16, 4, seed=3) == 4


def test_s16_kws_model_plans_two_byte_tensors_and_int64_biases():
    plan = plan_model(load_model(KWS_S16))
    conv = next(c for c in plan.calls if c.kernel == "tg_conv2d_s16")
    assert conv.arrays["bias"].dtype == np.int64
    model = plan.model
    # The arena holds the largest pair of live int16 tensors (2 bytes each).
    assert plan.memory.arena_bytes >= 2 * (25 * 5 * 64) * 2
    assert {model.tensors[c.output].dtype for c in plan.calls} >= {"int16", "float32"}


def test_s16_graph_input_of_int16_is_refused_with_the_converter_setting(model_cache):
    """int16 graph I/O (inference_input_type=tf.int16) has no harness byte format."""
    from tfmodels import convert, single_op, _keras

    def build() -> bytes:
        tf = __import__("tensorflow")
        _keras().utils.set_random_seed(1)
        model, lo, hi = single_op(dict(op="fc", shape=(6,), units=3, act=None, lo=-1.0,
                                       hi=1.0, seed=1))
        conv = tf.lite.TFLiteConverter.from_keras_model(model)
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
        conv.representative_dataset = lambda: ([np.full((1, 6), v, np.float32)]
                                               for v in np.linspace(-1, 1, 8))
        conv.target_spec.supported_ops = [
            tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8]
        conv.inference_input_type = tf.int16
        conv.inference_output_type = tf.int16
        return conv.convert()
    path = model_cache.get("s16-int16-io", build)
    with pytest.raises(TinygenError) as exc:
        load_model(path)
    assert "int16" in str(exc.value) and "float32" in str(exc.value)
    assert "\n" not in str(exc.value)


# ---- emulated cores -----------------------------------------------------------

emulated = pytest.mark.skipif(
    shutil.which("arm-none-eabi-gcc") is None or shutil.which("qemu-system-arm") is None,
    reason="needs arm-none-eabi-gcc and qemu-system-arm (scripts/setup.sh installs both)")


def float_cases(tflite: Path, seed: int, count: int = 3):
    """(float inputs, TFLM outputs) for a model with float32 edges."""
    from tflite_micro.python.tflite_micro import runtime

    oracle = runtime.Interpreter.from_file(str(tflite))
    shape = oracle.get_input_details(0)["shape"]
    rng = np.random.default_rng(seed)
    inputs = [np.round(rng.uniform(-128, 127, size=shape)).astype(np.float32)
              if tflite == KWS_S16 else rng.uniform(-2, 2, size=shape).astype(np.float32)
              for _ in range(count)]
    expected = []
    for x in inputs:
        oracle.set_input(x, 0)
        oracle.invoke()
        expected.append(np.asarray(oracle.get_output(0)).reshape(-1))
    return inputs, expected


def run_emulated(tflite: Path, inputs, out: Path, core: str):
    """The model planned for the core's kernel target (dsp, mve), built with
    the core's flags and run under QEMU. The int16 convolutions take their
    DSP variant on both cores (Helium cores have the DSP extension too); the
    other int16 layers the portable C."""
    target = "dsp" if core == "m4" else "mve"
    plan = plan_model(load_model(tflite), layout=target)
    s16 = [c for c in plan.calls if c.kernel and "_s16" in c.kernel]
    assert {c.variant for c in s16 if c.kernel == "tg_conv2d_s16"} == {"dsp"}
    assert {c.variant for c in s16 if c.kernel != "tg_conv2d_s16"} == {"portable"}
    plan.target = "dsp"   # the variant folder run_bare_metal checks the kernel files against
    src = write_sources(plan, out / core)
    if core == "m4":
        return run_bare_metal(src, inputs, out / core, flags=ARM_FLAGS, machine="mps2-an386",
                              linker_script="qemu_model.ld", variant="dsp", dtype=np.float32)
    return run_bare_metal(src, inputs, out / core, flags=M55_FLAGS, machine="mps3-an547",
                          linker_script="qemu_model_an547.ld", variant="dsp", dtype=np.float32)


def _chain(spec: dict):
    """Every int16 kernel in one model: conv, depthwise, residual ADD, broadcast
    MUL by a logistic gate, TANH, max and average pooling, dense, softmax."""
    from tfmodels import _keras, randomize_weights

    keras = _keras()
    L = keras.layers
    h, w, c = spec["shape"]
    inp = keras.Input(shape=(h, w, c), batch_size=1)
    x = L.Conv2D(c, spec["kernel"], padding="same")(inp)
    y = L.DepthwiseConv2D(3, padding="same", depth_multiplier=1)(x)
    x = L.Add()([x, y])
    gate = L.Activation("sigmoid")(L.AveragePooling2D((h, w))(L.Conv2D(c, 1)(x)))
    x = L.Activation("tanh")(L.Multiply()([x, gate]))
    x = L.MaxPooling2D(2, padding="same")(x)
    x = L.Flatten()(L.AveragePooling2D(2, padding="same")(x))
    out = L.Softmax()(L.Dense(spec["units"])(x))
    model = keras.Model(inp, out)
    randomize_weights(model, np.random.default_rng(spec["seed"]), spec["wscale"])
    return model


@st.composite
def chain_specs(draw):
    return dict(shape=(draw(st.integers(3, 7)), draw(st.integers(3, 7)), draw(st.integers(1, 6))),
                kernel=draw(st.sampled_from([1, 3])), units=draw(st.integers(2, 10)),
                wscale=draw(st.sampled_from([0.3, 0.8])), lo=draw(st.floats(-3.0, -0.1)),
                hi=draw(st.floats(0.1, 3.0)), seed=draw(seeds))


CHAIN = dict(shape=(5, 6, 4), kernel=3, units=7, wscale=0.5, lo=-2.0, hi=1.5, seed=5)


def _chain_model(model_cache, spec: dict) -> Path:
    from tfmodels import _keras, convert

    def build() -> bytes:
        _keras().utils.set_random_seed(spec["seed"])
        return convert(_chain(spec), spec["lo"], spec["hi"], spec["seed"], int16=True)
    return model_cache.get("s16-chain:" + repr(sorted(spec.items())), build)


@settings(max_examples=1, **SETTINGS)
@given(spec=chain_specs())
@example(spec=CHAIN)
def test_s16_chain_matches_tflm_on_host(model_cache, compiler, spec):
    path = _chain_model(model_cache, spec)
    kinds = {op.kind for op in read_tflite(path).operators}
    assert {"ADD", "MUL", "LOGISTIC", "TANH", "MAX_POOL_2D", "SOFTMAX"} <= kinds, kinds
    assert compiler.compare(path, INPUTS, seed=spec["seed"]) == INPUTS


@emulated
@settings(max_examples=1, **SETTINGS)
@given(spec=chain_specs())
@example(spec=CHAIN)
def test_s16_chain_on_cortex_m4_and_m55_matches_tflm(model_cache, tmp_path_factory, spec):
    path = _chain_model(model_cache, spec)
    inputs, expected = float_cases(path, spec["seed"])
    assert np.unique(np.concatenate(expected)).size > 1, "a constant output proves little"
    out = tmp_path_factory.mktemp("s16chain")
    assert_bit_exact(run_emulated(path, inputs, out, "m4"), expected, f"{spec} on mps2-an386")
    assert_bit_exact(run_emulated(path, inputs, out, "m55"), expected, f"{spec} on mps3-an547")


@emulated
def test_s16_kws_model_on_cortex_m4_and_m55_matches_tflm(tmp_path):
    inputs, expected = float_cases(KWS_S16, 7, 2)
    assert_bit_exact(run_emulated(KWS_S16, inputs, tmp_path, "m4"), expected,
                     "kws01_s16 on mps2-an386")
    assert_bit_exact(run_emulated(KWS_S16, inputs, tmp_path, "m55"), expected,
                     "kws01_s16 on mps3-an547")


# ---- validation and inspect ------------------------------------------------------

def _edited_kws(edit):
    from tinygen.ir import read_folded
    from tinygen.ir.validate import validate

    model = read_folded(KWS_S16)
    edit(model)
    with pytest.raises(TinygenError) as exc:
        validate(model)
    message = str(exc.value)
    assert "\n" not in message
    return message


def test_s16_activation_with_a_zero_point_is_refused():
    def edit(m):
        t = next(t for t in m.tensors if t.dtype == "int16" and not t.is_const
                 and t.index not in m.inputs)
        t.quant.zero_points = np.array([3])
    assert "zero point 3" in _edited_kws(edit)


def test_s16_softmax_output_scale_other_than_1_over_32768_is_refused():
    def edit(m):
        op = next(o for o in m.operators if o.kind == "SOFTMAX")
        m.tensors[op.outputs[0]].quant.scales = np.array([1.0 / 256], dtype=np.float32)
    assert "1/32768" in _edited_kws(edit)


def test_s16_operator_without_an_int16_form_is_refused_with_the_fix():
    def edit(m):
        op = next(o for o in m.operators if o.kind == "AVERAGE_POOL_2D")
        op.kind = "RELU6"       # one input, one output: only its int16 form is missing
    message = _edited_kws(edit)
    assert "int16" in message and "EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16" in message


def test_s16_inspect_lists_int16_kernels_and_every_operator_supported():
    from tinygen.cli.inspect import describe, support

    info = describe(KWS_S16)
    assert info["activations"] == "int16"
    assert {layer["kernel"] for layer in info["operators"]} >= {
        "tg_conv2d_s16", "tg_depthwise_conv2d_s16", "tg_fully_connected_s16",
        "tg_avg_pool2d_s16", "tg_softmax_s16", "tg_quantize_f32_s16", "tg_dequantize_s16_f32"}
    assert all(row["supported"] for row in support(KWS_S16)["operators"])


@emulated
@settings(max_examples=3, **SETTINGS)
@given(spec=conv_specs(depthwise=False))
@example(spec=dict(op="conv", shape=(6, 5, 7), kernel=(3, 2), stride=1, dilation=1,
                   padding="same", act="relu", lo=-1.5, hi=2.0, seed=9, wscale=0.3,
                   per_tensor=False, filters=6))
def test_s16_dsp_conv2d_on_cortex_m4_matches_tflm(model_cache, tmp_path_factory, spec):
    """tg_conv2d_s16_dsp (SMLAD on repacked int16 pairs) over random shapes:
    patch lengths with every remainder mod 4, filters beyond whole groups of 4."""
    path = model_cache.single_op(_s16(spec))
    inputs, expected = float_cases(path, spec["seed"])
    assert_bit_exact(run_emulated(path, inputs, tmp_path_factory.mktemp("s16conv"), "m4"),
                     expected, f"{spec} on mps2-an386")


# ---- the whole port ---------------------------------------------------------------

@pytest.mark.parametrize("board", ["host", pytest.param("disco_l475vg_iot01a",
                                                        marks=[emulated, pytest.mark.slow])])
def test_s16_kws_model_passes_verify_quick(board, tmp_path, capsys):
    """`tinygen verify --model` with the 16x8 KWS model: the harness feeds its
    float input, golden outputs agree with the TFLM oracle to the printed
    precision (far finer than one int16 step), on the host and the emulated M4."""
    import json

    from tinygen.cli import main

    out = tmp_path / "session"
    rc = main(["verify", "--board", board, "--bench", "kws", "--model", str(KWS_S16),
               "--build", str(tmp_path / "build"), "--out", str(out), "--quick",
               "--golden", "3"])
    printed = capsys.readouterr().out
    assert rc == 0, printed
    assert "PASS  golden outputs" in printed and "float outputs equal to print precision" in printed
    results = json.loads((out / "results.json").read_text())
    assert results["status"] == "passed" and all(g["match"] for g in results["golden"])
