"""tg_add_table_s8_dsp and tg_add_s8_dsp (firmware/kernels/dsp/add_s8.c) on
the Cortex-M4, bit-exact with TFLM.

Random residual additions (an input plus a 1x1 convolution of it, with and
without RELU) and random input ranges, so both inputs' scales, zero points
and the output's vary, built for mps2-an386 with the DSP kernel target,
run under QEMU and compared with the TFLM oracle; the plan must have
chosen the table kernel where plan/lut.py add_tables gives a table, else
tg_add_s8_dsp. An odd element count runs the table kernel's byte tail.
Broadcasts keep the portable kernel (not here).
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import example, given, settings

from kernel_oracle import assert_bit_exact, oracle_cases
from test_kernels_emulated import SETTINGS, _check, pytestmark, run_on_qemu  # noqa: F401
from test_ops_oracle import add_specs
from tinygen.ir import load_model
from tinygen.plan import plan_model
from tinygen.plan.lut import add_tables

RESIDUAL = dict(op="add", shape=(8, 8, 6), broadcast=False, act="relu", lo=-2.0, hi=3.0,
                seed=71, wscale=0.5)


@settings(max_examples=6, **SETTINGS)
@given(spec=add_specs().map(lambda s: dict(s, broadcast=False)))
@example(spec=RESIDUAL)
@example(spec=dict(RESIDUAL, act=None, lo=-0.05, hi=0.1, wscale=2.0, seed=72))
@example(spec=dict(RESIDUAL, shape=(5, 7, 3), lo=-1.0, hi=0.5, seed=73))
def test_dsp_add_on_cortex_m4_matches_tflm(model_cache, tmp_path, spec):
    plan = plan_model(load_model(model_cache.single_op(spec)), layout="dsp")
    add = next(c for c in plan.calls if c.kind == "ADD")
    table = add_tables(add.params)
    assert add.function == ("tg_add_table_s8_dsp" if table is not None else "tg_add_s8_dsp")
    if spec in (RESIDUAL,):
        assert add.function == "tg_add_table_s8_dsp"
    _check(model_cache, tmp_path, spec, requant=(True,))


def test_broadcast_add_keeps_the_portable_kernel(model_cache):
    spec = dict(RESIDUAL, broadcast=True)
    plan = plan_model(load_model(model_cache.single_op(spec)), layout="dsp")
    assert "tg_add_s8" in [c.function for c in plan.calls]


def _with_output_zero_point(tflite: Path, zero_point: int, out: Path) -> Path:
    """tflite with its ADD output's zero point moved: with RELU the
    activation range then starts above -128 (converters put it at -128)."""
    import flatbuffers
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

    model = schema.ModelT.InitFromObj(schema.Model.GetRootAs(tflite.read_bytes(), 0))
    graph = model.subgraphs[0]
    add = next(o for o in graph.operators
               if model.operatorCodes[o.opcodeIndex].builtinCode == schema.BuiltinOperator.ADD)
    graph.tensors[add.outputs[0]].quantization.zeroPoint = [zero_point]
    builder = flatbuffers.Builder(1 << 16)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    out.write_bytes(bytes(builder.Output()))
    return out


def test_table_add_clamps_a_narrow_activation_range(model_cache, tmp_path):
    """The table kernel's bytewise clamp (act_min above -128), word and tail
    elements (105 of them), against the TFLM oracle."""
    spec = dict(RESIDUAL, shape=(5, 7, 3), seed=74)
    tflite = _with_output_zero_point(Path(model_cache.single_op(spec)), -90,
                                     tmp_path / "narrow.tflite")
    plan = plan_model(load_model(tflite), layout="dsp")
    add = next(c for c in plan.calls if c.kind == "ADD")
    assert add.function == "tg_add_table_s8_dsp" and add.params["act_min"] == -90
    inputs, expected = oracle_cases(tflite, spec["seed"])
    got = run_on_qemu(tflite, inputs, tmp_path / "run", True)
    assert_bit_exact(got, expected, f"{spec} with output zero point -90")
