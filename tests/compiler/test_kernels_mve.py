"""The Helium (MVE) kernels on the Cortex-M55, bit-exact with TFLM.

Random one-operator models (convolution, depthwise, fully connected, add) are
planned with the MVE constant layout (tinygen/plan/layout_mve.py), compiled
for the Cortex-M55 with the mve kernel target (firmware/kernels/mve/, as
tinygen/port plans for boards with mve: true), linked with the bare-metal
runner of test_kernels_emulated.py, run under QEMU mps3-an547 (which
emulates Helium) and compared with the TFLM oracle. A plan that compiled no
MVE variant fails (kernel_oracle.run_bare_metal). Every model also runs
with the generic requantization forced (fast_requant=False).

The random shapes are small (the paths for depths up to 32); the explicit
examples reach what they miss: longer rows (whole VMLADAVA chunks plus a
predicated tail), depthwise groups of 16 and 8 channels with a partial
group after them, interior pixels, several row blocks.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import example, given, settings

from kernel_oracle import assert_bit_exact, oracle_cases, run_bare_metal
from test_kernels_emulated import SETTINGS
from test_ops_oracle import add_specs, conv_specs, fc_specs
from tinygen.codegen import generate_model_sources
from tinygen.plan.layout_mve import blocked_rows_mve, depthwise_quant_mve

ARM_FLAGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-O2", "-mcpu=cortex-m55", "-mthumb",
             "-mfloat-abi=hard", "-mfpu=fpv5-d16",
             "-ffunction-sections", "-fdata-sections"]

needs_m55 = pytest.mark.skipif(
    shutil.which("arm-none-eabi-gcc") is None or shutil.which("qemu-system-arm") is None,
    reason="needs arm-none-eabi-gcc and qemu-system-arm (scripts/setup.sh installs both)")


def test_mve_rows_put_16_depth_positions_of_4_rows_together():
    rows = np.arange(6 * 20, dtype=np.int64).reshape(6, 20).astype(np.int8)
    flat = blocked_rows_mve(rows)
    # 2 blocks of 4 rows (2 padding rows), 2 chunks of 16 (12 padding bytes).
    assert flat.size == 8 * 32
    blocks = flat.reshape(2, 2, 4, 16)     # [block][chunk][row in block][byte]
    assert (blocks[1, 1, 1, :4] == rows[5, 16:]).all() and not blocks[1, 1, 1, 4:].any()
    assert (blocks[0, 0, 2] == rows[2, :16]).all() and not blocks[1, :, 2:].any()


def test_mve_depthwise_records_follow_the_even_odd_accumulators():
    quant = np.arange(20 * 4, dtype=np.int32)   # 20 channels (17 + padding to 4s)
    recs = depthwise_quant_mve(quant, 17).reshape(-1, 4)[:, 0] // 4
    assert list(recs) == [0, 2, 4, 6, 1, 3, 5, 7, 8, 10, 12, 14, 9, 11, 13, 15, 16, 17, 18, 19]


def run_on_m55(tflite: Path, inputs: list[np.ndarray], out: Path,
               fast_requant: bool) -> list[np.ndarray]:
    """Outputs of the MVE build of tflite for each input, from QEMU mps3-an547."""
    src = generate_model_sources(tflite, out, fast_requant=fast_requant, layout="mve")
    return run_bare_metal(src, inputs, out, flags=ARM_FLAGS, machine="mps3-an547",
                          linker_script="qemu_model_an547.ld", variant="mve")


def _check(model_cache, tmp_path, spec):
    tflite = model_cache.single_op(spec)
    inputs, expected = oracle_cases(tflite, spec["seed"])
    for fast in (True, False):
        got = run_on_m55(tflite, inputs, tmp_path / f"fast{int(fast)}", fast)
        assert_bit_exact(got, expected, f"{spec} (fast requantization {fast})")


# 3x3x20 = 180 depth positions: 11 whole chunks of 16 and a tail of 4; 9
# filters: two whole row blocks and a partial one.
DEEP_CONV = dict(op="conv", shape=(6, 5, 20), kernel=(3, 3), stride=1, dilation=1,
                 padding="same", act="relu", lo=-2.0, hi=1.0, seed=11, wscale=0.3,
                 per_tensor=False, filters=9)


@needs_m55
@settings(max_examples=2, **SETTINGS)
@given(spec=conv_specs(depthwise=False))
@example(spec=DEEP_CONV)
# Pointwise, 24 deep: the two-chunk path with the input kept in registers.
@example(spec=dict(DEEP_CONV, shape=(4, 4, 24), kernel=(1, 1), padding="valid", act=None,
                   filters=6, seed=12))
def test_mve_conv2d_on_cortex_m55_matches_tflm(model_cache, tmp_path, spec):
    _check(model_cache, tmp_path, spec)


# 36 channels: two groups of 16, then a predicated group of 4; 26: 16, 8, 2.
WIDE_DW = dict(op="dwconv", shape=(7, 6, 36), kernel=(3, 3), stride=1, dilation=1,
               padding="same", act="relu6", lo=-1.0, hi=1.5, seed=21, wscale=0.3,
               per_tensor=False, dm=1)


@needs_m55
@settings(max_examples=2, **SETTINGS)
@given(spec=conv_specs(depthwise=True))
@example(spec=WIDE_DW)
@example(spec=dict(WIDE_DW, shape=(9, 8, 26), kernel=(2, 3), stride=2, act=None, seed=22))
@example(spec=dict(WIDE_DW, shape=(6, 6, 7), dm=3, dilation=2, padding="valid", seed=23))
def test_mve_depthwise_conv2d_on_cortex_m55_matches_tflm(model_cache, tmp_path, spec):
    _check(model_cache, tmp_path, spec)


@needs_m55
@settings(max_examples=2, **SETTINGS)
@given(spec=fc_specs())
@example(spec=dict(op="fc", shape=(100,), units=19, act="relu", lo=-3.0, hi=2.0, seed=31,
                   wscale=0.3, per_tensor=True))
def test_mve_fully_connected_on_cortex_m55_matches_tflm(model_cache, tmp_path, spec):
    _check(model_cache, tmp_path, spec)


# 105 elements: 26 steps of 4 and a predicated tail of 1; broadcasts take the
# scalar path.
@needs_m55
@settings(max_examples=2, **SETTINGS)
@given(spec=add_specs())
@example(spec=dict(op="add", shape=(3, 5, 7), broadcast=False, act="relu", lo=-2.0, hi=3.0,
                   seed=41, wscale=0.5))
def test_mve_add_on_cortex_m55_matches_tflm(model_cache, tmp_path, spec):
    _check(model_cache, tmp_path, spec)
