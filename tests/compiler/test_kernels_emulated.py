"""The DSP-extension kernels on the core that has them, bit-exact with TFLM.

The host tests (test_ops_oracle.py) run the portable C. Here random
one-operator models (convolution, depthwise, fully connected) are compiled
for the Cortex-M4 with the DSP kernel target (firmware/kernels/dsp/), linked
with a bare-metal runner (fixtures/qemu_model_main.c), run under QEMU
mps2-an386 and compared with the TFLM oracle on the same inputs; a plan that
compiled no DSP variant fails (kernel_oracle.run_bare_metal). Each model also runs with
the generic requantization forced (fast_requant=False) so both paths of the
DSP kernels meet the oracle.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, example, given, settings

from kernel_oracle import assert_bit_exact, oracle_cases, run_bare_metal
from test_ops_oracle import conv_specs, fc_specs
from tinygen.codegen import generate_model_sources, write_sources
from tinygen.ir import load_model
from tinygen.plan import plan_model

ARM_FLAGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-O2", "-mcpu=cortex-m4", "-mthumb",
             "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16", "-ffunction-sections",
             "-fdata-sections"]
# No shrinking: each example costs a conversion, a cross build and a QEMU run.
SETTINGS = dict(deadline=None, derandomize=True, database=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])

pytestmark = pytest.mark.skipif(
    shutil.which("arm-none-eabi-gcc") is None or shutil.which("qemu-system-arm") is None,
    reason="needs arm-none-eabi-gcc and qemu-system-arm (scripts/setup.sh installs both)")


def run_on_qemu(tflite: Path, inputs: list[np.ndarray], out: Path,
                fast_requant: bool) -> list[np.ndarray]:
    """Outputs of the DSP build of tflite for each input, from QEMU mps2-an386.

    fit_scratch=False: in a one-layer model any scratch grows the arena, and
    the planner would otherwise keep the portable kernels the test is not about."""
    plan = plan_model(load_model(tflite), fast_requant=fast_requant, fit_scratch=False,
                      layout="dsp")
    src = write_sources(plan, out)
    assert not src.input_is_float and not src.output_is_float
    return run_bare_metal(src, inputs, out, flags=ARM_FLAGS, machine="mps2-an386",
                          linker_script="qemu_model.ld", variant="dsp")


def _check(model_cache, tmp_path, spec, requant=(True, False)):
    tflite = model_cache.single_op(spec)
    inputs, expected = oracle_cases(tflite, spec["seed"])
    for fast in requant:
        got = run_on_qemu(tflite, inputs, tmp_path / f"fast{int(fast)}", fast)
        assert_bit_exact(got, expected, f"{spec} (fast requantization {fast})")


@settings(max_examples=6, **SETTINGS)
@given(spec=conv_specs(depthwise=False))
def test_dsp_conv2d_on_cortex_m4_matches_tflm(model_cache, tmp_path, spec):
    _check(model_cache, tmp_path, spec)


# Interior pixels of a multiple-of-4-channel layer take the tap-offset path.
INTERIOR_DW = dict(op="dwconv", shape=(9, 7, 8), kernel=(3, 3), stride=1, dilation=1,
                   padding="same", act="relu", lo=-1.0, hi=1.5, seed=5, wscale=0.3,
                   per_tensor=False, dm=1)


# 3x3 layers at stride 1 and 2 take tg_depthwise3x3s{1,2}_s8_dsp (a ring of
# channel-planar int16 input rows, 4-, 5-, 2- and 1-pixel blocks): output
# widths of every remainder mod 4 with none, one and two 4-pixel blocks, odd and
# even input widths (an odd one converts its last column alone), SAME and
# VALID, 4 to 68 channels, a clamped activation (RELU6), input zero points
# from several ranges, and two batches (the ring restarts per image).
# Convolutions with whole pairs of output channels take
# tg_conv2d_triples_s8_dsp (three pixels per pass; its own cases are in
# test_kernels_triples_emulated.py; it falls back to its int8-patch form or
# to the two-pixel kernel where its scratch would grow the arena): gathered and pointwise
# inputs, odd chunk counts, an odd pixel count (the last pixel pairs with
# itself), and no activation (the negative-value fix). Only the fast
# requantization reaches these kernels, so only it runs here.
PAIRS = [
    dict(INTERIOR_DW, shape=(6, 7, 8), seed=11),
    dict(INTERIOR_DW, shape=(5, 7, 12), padding="valid", seed=12, per_tensor=True),
    dict(INTERIOR_DW, shape=(9, 11, 8), stride=2, padding="valid", act="relu6", seed=14,
         wscale=1.0),
    dict(INTERIOR_DW, shape=(8, 8, 4), stride=2, seed=13),
    dict(INTERIOR_DW, shape=(7, 5, 16), seed=15, lo=0.0, hi=6.0),
    dict(INTERIOR_DW, shape=(9, 5, 64), seed=16, lo=-3.0, hi=0.5),
    dict(INTERIOR_DW, shape=(6, 9, 68), padding="valid", act="relu6", seed=17, wscale=1.0),
    dict(INTERIOR_DW, shape=(11, 9, 12), stride=2, seed=18, per_tensor=True),
    dict(INTERIOR_DW, shape=(8, 12, 8), stride=2, seed=19, lo=-0.2, hi=4.0),
    dict(INTERIOR_DW, shape=(3, 3, 36), seed=20),
    dict(INTERIOR_DW, shape=(10, 3, 4), stride=2, padding="valid", seed=23),
    dict(INTERIOR_DW, shape=(5, 6, 8), seed=24, batch=2),
    dict(INTERIOR_DW, shape=(4, 9, 8), seed=25),
    dict(INTERIOR_DW, shape=(5, 18, 4), stride=2, seed=26),
    # Rows of exactly 6 pixels at stride 1: the 6-pixel block
    # (tg_depthwise3x3s1w6_ram_s8_dsp), SAME and VALID, the clamp, two images.
    dict(INTERIOR_DW, shape=(6, 6, 12), seed=29),
    dict(INTERIOR_DW, shape=(5, 8, 8), padding="valid", act="relu6", seed=30, wscale=1.0),
    dict(INTERIOR_DW, shape=(4, 6, 20), seed=31, batch=2, lo=-3.0, hi=0.5),
    # Rows of exactly 3 pixels at stride 1 and 2 (tg_depthwise3x3s{1,2}w3_ram_s8_dsp).
    dict(INTERIOR_DW, shape=(3, 3, 16), seed=32),
    dict(INTERIOR_DW, shape=(5, 5, 8), padding="valid", act="relu6", seed=33, wscale=1.0),
    dict(INTERIOR_DW, shape=(6, 6, 12), stride=2, seed=34, batch=2),
    dict(INTERIOR_DW, shape=(7, 7, 8), stride=2, padding="valid", act="relu6", seed=35),
    # Rows of 4k and 8k pixels (the 4-pixel blocks alone, tg_dw3x3_row_s{1,2}x{4,8}) with
    # input rows of 8 pixels or more (the fill's 4-pixel steps), and rows of 5
    # at stride 2 (tg_depthwise3x3s2w5_*).
    dict(INTERIOR_DW, shape=(5, 8, 12), seed=36, batch=2),
    dict(INTERIOR_DW, shape=(6, 10, 8), padding="valid", act="relu6", seed=37, wscale=1.0),
    dict(INTERIOR_DW, shape=(7, 16, 8), stride=2, seed=38),
    dict(INTERIOR_DW, shape=(4, 12, 8), seed=39),
    dict(INTERIOR_DW, shape=(3, 16, 4), seed=40),
    dict(op="conv", shape=(5, 7, 3), kernel=(3, 3), stride=2, dilation=1, padding="same",
         act="relu", lo=-1.0, hi=1.5, seed=21, wscale=0.3, per_tensor=False, filters=8),
    dict(op="conv", shape=(3, 5, 8), kernel=(1, 1), stride=1, dilation=1, padding="valid",
         act=None, lo=-1.0, hi=1.5, seed=22, wscale=1.0, per_tensor=True, filters=12),
    # The pixel walk: a pair that spans two images (15 pixels each), and a
    # strided pointwise layer with an odd pixel count.
    dict(op="conv", shape=(3, 5, 4), kernel=(3, 3), stride=1, dilation=1, padding="same",
         act="relu6", lo=-1.0, hi=1.5, seed=27, wscale=0.5, per_tensor=False, filters=8,
         batch=2),
    dict(op="conv", shape=(5, 5, 8), kernel=(1, 1), stride=2, dilation=1, padding="valid",
         act="relu", lo=-1.0, hi=1.5, seed=28, wscale=0.5, per_tensor=False, filters=16),
]


def _dsp_kernel_chosen(tmp_path, spec, model_cache) -> bool:
    src = generate_model_sources(model_cache.single_op(spec), tmp_path / "probe",
                                 fit_scratch=False, layout="dsp")
    text = src.model_c.read_text()
    return ("tg_depthwise3x3s" in text or "tg_conv2d_pairs_s8_dsp(" in text
            or "tg_conv2d_triples_s8_dsp(" in text or "tg_conv2d_rgb3x3s2_s8_dsp(" in text)


@pytest.mark.parametrize("spec", PAIRS, ids=lambda s: (f"{s['op']}-{s['shape']}-k{s['kernel']}"
                                                        f"-s{s['stride']}-{s['padding']}"
                                                        f"-b{s.get('batch', 1)}"))
def test_dsp_pixel_pair_kernels_on_cortex_m4_match_tflm(model_cache, tmp_path, spec):
    assert _dsp_kernel_chosen(tmp_path, spec, model_cache), "the pixel-pair kernel was not chosen"
    _check(model_cache, tmp_path, spec, requant=(True,))


# Average pooling over channels in groups of 4 sums 4 channels per SXTAB16
# pair: a window clipped by SAME padding, and a global one.
AVGPOOLS = [
    dict(op="avgpool", shape=(7, 6, 8), pool=(3, 3), stride=2, padding="same", lo=-1.0, hi=1.5,
         seed=31),
    dict(op="avgpool", shape=(12, 5, 4), pool=(12, 5), stride=1, padding="valid", lo=-2.0,
         hi=0.5, seed=32),
]


@pytest.mark.parametrize("spec", AVGPOOLS, ids=["3x3-same", "global"])
def test_dsp_average_pool_on_cortex_m4_matches_tflm(model_cache, tmp_path, spec):
    _check(model_cache, tmp_path, spec, requant=(True,))


@settings(max_examples=6, **SETTINGS)
@given(spec=conv_specs(depthwise=True))
@example(spec=INTERIOR_DW)
@example(spec=dict(INTERIOR_DW, shape=(11, 10, 4), kernel=(3, 2), stride=2, act="relu6", seed=6))
@example(spec=dict(INTERIOR_DW, kernel=(2, 3), stride=1, dilation=2, padding="valid", act=None,
                   seed=7))
def test_dsp_depthwise_conv2d_on_cortex_m4_matches_tflm(model_cache, tmp_path, spec):
    _check(model_cache, tmp_path, spec)


@settings(max_examples=4, **SETTINGS)
@given(spec=fc_specs())
def test_dsp_fully_connected_on_cortex_m4_matches_tflm(model_cache, tmp_path, spec, monkeypatch):
    # These layers are small: the planner gives the DSP kernel layers of
    # FC_DSP_MIN_MACS or more (its code pays there); here it takes all.
    from tinygen.plan import variants
    monkeypatch.setattr(variants, "FC_DSP_MIN_MACS", 0)
    _check(model_cache, tmp_path, spec)
