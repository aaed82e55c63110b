"""tg_conv2d_triples8_ram_s8_dsp (firmware/kernels/dsp/conv2d_triples_s8.c)
on the Cortex-M4, bit-exact with TFLM: the three-pixel kernel with its
whole stream copied into scratch in the compact form (tinygen/plan/ops.py
triples8_ram_stream: the weight words, then 14-byte records of bias and
shift in 3 bytes and the multiplier) and its int8 inputs widened in the
pass (fit_compact_copies: kws01's layers). The cases: kws01's first layer
in small (a wide kernel on one channel, SAME, stride 2, an odd oct count),
pointwise layers read in place with the output over the input (whole
triples, a last single pixel, a last pair, 64 channels as kws01's), a
gathered 3x3 window on channels that are not whole words (the depth
zero-padded), strided pointwise (walked), two images, RELU6 (the clamp
after the layer), negative biases, an output zero point above -128.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from kernel_oracle import assert_bit_exact, oracle_cases, run_bare_metal
from test_kernels_emulated import ARM_FLAGS, SETTINGS
from test_kernels_triples_emulated import _conv, triples_specs
from tinygen.codegen import write_sources
from tinygen.ir import load_model
from tinygen.plan import plan_model

COMPACT = [
    _conv((12, 6, 1), 12, kernel=(5, 4), stride=2, padding="same", seed=71, wscale=1.0),
    _conv((3, 3, 16), 8, seed=72),
    _conv((2, 5, 24), 6, act="relu6", seed=73, wscale=1.0),
    _conv((2, 4, 8), 10, seed=74, lo=-3.0, hi=0.5),
    _conv((5, 5, 64), 64, seed=75, wscale=0.3),
    _conv((5, 5, 5), 6, kernel=(3, 3), padding="same", seed=76),
    _conv((5, 5, 8), 16, stride=2, seed=77),
    _conv((3, 5, 8), 4, seed=78, batch=2),
]


def _compact_plan(model_cache, spec, monkeypatch):
    """The one-layer model of spec with its convolution on the compact copy
    where it is eligible (in a one-layer model no copy fits the arena: the
    planner's fitting steps are left out)."""
    from tinygen.plan import ops, variants

    def compact_all(calls, arena_of):
        for c in calls:
            if (c.dsp_kernel == "tg_conv2d_triples_s8_dsp"
                    and ops.triples8_ram_eligible(c.params, c.dsp_arrays["stream"])):
                ops._compact_copy(c, c.dsp_arrays["stream"])

    with monkeypatch.context() as patched:
        patched.setattr(variants, "fit_dsp_scratch", lambda calls, arena_of: None)
        patched.setattr(variants, "fit_stream_copies", lambda calls, arena_of: None)
        patched.setattr(variants, "fit_compact_copies", compact_all)
        for eligible in ("conv_rgb_eligible", "conv_pw8_eligible", "conv_pw16_eligible",
                         "conv_3x3pair_eligible", "conv_rgb1_eligible"):
            patched.setattr(ops, eligible, lambda params: False)
        tflite = model_cache.single_op(spec)
        return tflite, plan_model(load_model(tflite), layout="dsp")


def _run(tflite, plan, spec, tmp_path) -> None:
    src = write_sources(plan, tmp_path)
    inputs, expected = oracle_cases(tflite, spec["seed"])
    got = run_bare_metal(src, inputs, tmp_path, flags=ARM_FLAGS, machine="mps2-an386",
                         linker_script="qemu_model.ld", variant="dsp")
    assert_bit_exact(got, expected, f"{spec}")


@pytest.mark.parametrize("spec", COMPACT, ids=lambda s: f"{s['shape']}-k{s['kernel']}-s{s['seed']}")
def test_compact_stream_copy_with_int8_inputs_matches_tflm(model_cache, tmp_path, spec,
                                                           monkeypatch):
    tflite, plan = _compact_plan(model_cache, spec, monkeypatch)
    assert plan.calls[0].function == "tg_conv2d_triples8_ram_s8_dsp"
    _run(tflite, plan, spec, tmp_path)


@settings(max_examples=8, **SETTINGS)
@given(spec=triples_specs())
def test_compact_stream_copy_random_layers_match_tflm(model_cache, tmp_path, spec, monkeypatch):
    # Layers that are not eligible (no fast requantization, an activation
    # below the output zero point, a bias past 19 bits) keep their kernel;
    # the oracle is then met by that one.
    tflite, plan = _compact_plan(model_cache, spec, monkeypatch)
    _run(tflite, plan, spec, tmp_path)
