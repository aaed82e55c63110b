"""The table and elementwise kernels on the emulated Cortex-M4 and M55, bit-exact with TFLM.

One random model chains every new int8 operator (HARD_SWISH, LEAKY_RELU,
TANH, LOGISTIC, SUB with and without broadcast, REDUCE_MAX over random
axes), so each example costs one conversion and one cross build per core:
the DSP build under QEMU mps2-an386 and the Helium build under mps3-an547,
both compared with the TFLM oracle on the same inputs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from hypothesis import example, given, settings

from kernel_oracle import assert_bit_exact, oracle_cases
from test_kernels_emulated import SETTINGS, pytestmark, run_on_qemu  # noqa: F401
from test_kernels_mve import run_on_m55
from test_ops_oracle import elementwise_chain_specs

CHAIN = dict(op="elementwise_chain", shape=(5, 7, 6), axes=[1, 2], keepdims=False,
             lo=-9.0, hi=7.5, seed=3, alpha=0.2, broadcast=True)


@settings(max_examples=2, **SETTINGS)
@given(spec=elementwise_chain_specs())
@example(spec=CHAIN)
def test_elementwise_kernels_on_cortex_m4_and_m55_match_tflm(model_cache, tmp_path, spec):
    tflite = model_cache.single_op(spec)
    inputs, expected = oracle_cases(tflite, spec["seed"])
    assert np.unique(np.concatenate(expected)).size > 1, "a constant output proves little"
    got = run_on_qemu(tflite, inputs, tmp_path / "m4", True)
    assert_bit_exact(got, expected, f"{spec} on mps2-an386")
    got = run_on_m55(tflite, inputs, tmp_path / "m55", True)
    assert_bit_exact(got, expected, f"{spec} on mps3-an547")


def test_mobilenet_v3_block_on_cortex_m4_and_m55_matches_tflm(tmp_path):
    """The committed MobileNetV3-style block (fixtures/, built by tfmodels.py)."""
    tflite = Path(__file__).parent / "fixtures" / "mobilenet_v3_block.tflite"
    inputs, expected = oracle_cases(tflite, 11)
    assert_bit_exact(run_on_qemu(tflite, inputs, tmp_path / "m4", True), expected,
                     "mobilenet_v3_block on mps2-an386")
    assert_bit_exact(run_on_m55(tflite, inputs, tmp_path / "m55", True), expected,
                     "mobilenet_v3_block on mps3-an547")
