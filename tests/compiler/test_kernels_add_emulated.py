"""tg_add_s8_dsp (firmware/kernels/dsp/add_s8.c) on the Cortex-M4, bit-exact with TFLM.

Random residual additions (an input plus a 1x1 convolution of it, with and
without RELU) and random input ranges, so both inputs' scales, zero points
and the output's vary, built for mps2-an386 with the DSP kernel target,
run under QEMU and compared with the TFLM oracle; the plan must have
chosen the DSP variant. Broadcasts keep the portable kernel (not here).
"""

from __future__ import annotations

from hypothesis import example, given, settings

from test_kernels_emulated import SETTINGS, _check, pytestmark  # noqa: F401
from test_ops_oracle import add_specs
from tinygen.ir import load_model
from tinygen.plan import plan_model

RESIDUAL = dict(op="add", shape=(8, 8, 6), broadcast=False, act="relu", lo=-2.0, hi=3.0,
                seed=71, wscale=0.5)


@settings(max_examples=6, **SETTINGS)
@given(spec=add_specs().map(lambda s: dict(s, broadcast=False)))
@example(spec=RESIDUAL)
@example(spec=dict(RESIDUAL, act=None, lo=-0.05, hi=0.1, wscale=2.0, seed=72))
def test_dsp_add_on_cortex_m4_matches_tflm(model_cache, tmp_path, spec):
    plan = plan_model(load_model(model_cache.single_op(spec)), layout="dsp")
    assert "tg_add_s8_dsp" in [c.function for c in plan.calls]
    _check(model_cache, tmp_path, spec, requant=(True,))


def test_broadcast_add_keeps_the_portable_kernel(model_cache):
    spec = dict(RESIDUAL, broadcast=True)
    plan = plan_model(load_model(model_cache.single_op(spec)), layout="dsp")
    assert "tg_add_s8" in [c.function for c in plan.calls]
