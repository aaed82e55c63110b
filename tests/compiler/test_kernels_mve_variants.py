"""The Helium variants of firmware/kernels/mve/ on the Cortex-M55, bit-exact with TFLM.

Average and max pooling, mean, softmax and broadcast addition, and the
convolution and depthwise variants' paths that test_kernels_mve.py's
examples do not reach (gathered receptive fields, planar records): random
one-operator models planned for the mve target, which gives their calls
the Helium variant (tinygen/plan/variants.py), built for
the Cortex-M55 and run under QEMU mps3-an547 against the TFLM oracle (the
runner of test_kernels_mve.py). Each test first checks that the generated
model.c calls the variant, so a plan that fell back to the portable kernel
fails. The random shapes are small (QEMU's M55 is slow); the explicit
examples reach whole vector groups plus a predicated tail, windows clipped
by padding, and the average's lane-by-lane division for windows of more
than 509 values.
"""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings

from kernel_oracle import assert_bit_exact, oracle_cases
from test_kernels_emulated import SETTINGS
from test_kernels_mve import needs_m55, run_on_m55
from test_kernels_mve import _check as check_both_forms
from test_ops_oracle import add_specs, mean_specs, pool_specs, softmax_specs
from tinygen.codegen import generate_model_sources

pytestmark = needs_m55


def _calls(model_cache, tmp_path, spec, function: str):
    tflite = model_cache.single_op(spec)
    src = generate_model_sources(tflite, tmp_path / "plan", layout="mve")
    assert f"{function}(" in src.model_c.read_text(), f"{spec}: model.c does not call {function}"


def _check(model_cache, tmp_path, spec, function: str):
    _calls(model_cache, tmp_path, spec, function)
    tflite = model_cache.single_op(spec)
    inputs, expected = oracle_cases(tflite, spec["seed"])
    got = run_on_m55(tflite, inputs, tmp_path / "m55", True)
    assert_bit_exact(got, expected, f"{spec} on mps3-an547")


# 21 channels: 5 whole groups of 4 and a tail of 1 (average), a group of 16
# and a tail of 5 (max); 3x3 windows with SAME padding clip at the borders.
WIDE_POOL = dict(op="avgpool", shape=(7, 6, 21), pool=(3, 3), stride=2, padding="same",
                 lo=-3.0, hi=2.0, seed=51)


@settings(max_examples=2, **SETTINGS)
@given(spec=pool_specs("avgpool"))
@example(spec=WIDE_POOL)
# One 24x24 window (576 values): the lane-by-lane division.
@example(spec=dict(WIDE_POOL, shape=(24, 24, 5), pool=(24, 24), stride=1, padding="valid"))
def test_mve_average_pool_matches_tflm(model_cache, tmp_path, spec):
    _check(model_cache, tmp_path, spec, "tg_avg_pool2d_s8_mve")


@settings(max_examples=2, **SETTINGS)
@given(spec=pool_specs("maxpool"))
@example(spec=dict(WIDE_POOL, op="maxpool", seed=52))
def test_mve_max_pool_matches_tflm(model_cache, tmp_path, spec):
    _check(model_cache, tmp_path, spec, "tg_max_pool2d_s8_mve")


@settings(max_examples=2, **SETTINGS)
@given(spec=mean_specs())
# 19 channels: one group of 16 in registers, then 3 under predicates.
@example(spec=dict(op="mean", shape=(5, 4, 19), keepdims=True, conv=False, lo=-2.0, hi=3.0,
                   seed=53))
def test_mve_mean_matches_tflm(model_cache, tmp_path, spec):
    _check(model_cache, tmp_path, spec, "tg_mean_hw_s8_mve")


@settings(max_examples=2, **SETTINGS)
@given(spec=softmax_specs())
@example(spec=dict(op="softmax", shape=(37,), dense=False, units=4, lo=-20.0, hi=12.0, seed=54))
def test_mve_softmax_matches_tflm(model_cache, tmp_path, spec):
    _check(model_cache, tmp_path, spec, "tg_softmax_s8_mve")


@settings(max_examples=2, **SETTINGS)
@given(spec=add_specs().filter(lambda s: s["broadcast"]))
@example(spec=dict(op="add", shape=(3, 5, 7), broadcast=True, act="relu", lo=-2.0, hi=3.0,
                   seed=55, wscale=0.5))
def test_mve_broadcast_add_matches_tflm(model_cache, tmp_path, spec):
    _check(model_cache, tmp_path, spec, "tg_add_s8_mve")


# Receptive fields of up to 64 depth positions come by gathered loads, the
# border lanes by predicated compares: 3x3 over 3 channels with stride 2
# (27 positions, vww01's first layer), 10x4 over 1 channel (kws01's), and
# 2x3 over 5 channels with dilation 2 (30); narrow 1x1 layers run pixel pairs.
SMALL_CONV = dict(op="conv", shape=(9, 8, 3), kernel=(3, 3), stride=2, dilation=1,
                  padding="same", act="relu", lo=-1.0, hi=2.0, seed=61, wscale=0.3,
                  per_tensor=False, filters=10)


@pytest.mark.parametrize("spec", [
    SMALL_CONV,
    dict(SMALL_CONV, shape=(13, 6, 1), kernel=(10, 4), filters=7, seed=62),
    dict(SMALL_CONV, shape=(9, 9, 5), kernel=(2, 3), stride=1, dilation=2, act=None, seed=63),
    # 1x1 over 8 channels, rows of 5 pixels: pairs sharing the weight loads, then an odd one
    dict(SMALL_CONV, shape=(4, 5, 8), kernel=(1, 1), stride=1, padding="valid", filters=6,
         seed=64),
], ids=["3x3x3-s2", "10x4x1", "2x3x5-d2", "1x1x8-pairs"])
def test_mve_conv_gathered_fields_match_tflm(model_cache, tmp_path, spec):
    _calls(model_cache, tmp_path, spec, "tg_conv2d_s8_mve")
    check_both_forms(model_cache, tmp_path, spec)


# 8 channels (one group of 8, no group of 16) and 28 (16, 8, then 4):
# the planar records of fast mode and the generic records.
@pytest.mark.parametrize("channels", [8, 28])
def test_mve_depthwise_groups_match_tflm(model_cache, tmp_path, channels):
    spec = dict(op="dwconv", shape=(6, 5, channels), kernel=(3, 3), stride=1, dilation=1,
                padding="same", act="relu6", lo=-1.0, hi=1.5, seed=64 + channels, wscale=0.3,
                per_tensor=False, dm=1)
    _calls(model_cache, tmp_path, spec, "tg_depthwise_conv2d_s8_mve")
    check_both_forms(model_cache, tmp_path, spec)
