"""The spatial kernels on the emulated Cortex-M4 and M55, bit-exact with the oracle.

One random model chains grouped CONV_2D, TRANSPOSE_CONV, a STRIDED_SLICE
crop, RESIZE_BILINEAR (random coordinate rule) and RESIZE_NEAREST_NEIGHBOR,
so each example costs one conversion and one cross build per core: the DSP
build under QEMU mps2-an386 and the Helium build under mps3-an547 (both run
the DSP variants of the grouped and transposed convolutions; a leading 1x1
convolution has a Helium variant), compared with TFLM on the same inputs. TILE, which TFLM has no kernel for,
is compared with TensorFlow Lite's interpreter.
"""

from __future__ import annotations

import numpy as np
from hypothesis import example, given, settings

from kernel_oracle import assert_bit_exact, oracle_cases
from test_kernels_emulated import SETTINGS, pytestmark, run_on_qemu  # noqa: F401
from test_kernels_mve import run_on_m55
from test_ops_oracle import spatial_chain_specs

CHAIN = dict(op="spatial_chain", shape=(4, 3, 2), filters=3, padding="same",
             rule="half_pixel", size=(7, 5), size2=(9, 8), conv=True, lo=-2.0, hi=3.0, seed=9)


def _on_both_cores(tflite, tmp_path, seed: int, what: str, oracle: str = "tflm") -> None:
    inputs, expected = oracle_cases(tflite, seed, oracle=oracle)
    assert np.unique(np.concatenate(expected)).size > 1, "a constant output proves little"
    assert_bit_exact(run_on_qemu(tflite, inputs, tmp_path / "m4", True), expected,
                     f"{what} on mps2-an386")
    assert_bit_exact(run_on_m55(tflite, inputs, tmp_path / "m55", True), expected,
                     f"{what} on mps3-an547")


@settings(max_examples=1, **SETTINGS)
@given(spec=spatial_chain_specs())
@example(spec=CHAIN)
def test_spatial_kernels_on_cortex_m4_and_m55_match_tflm(model_cache, tmp_path, spec):
    _on_both_cores(model_cache.single_op(spec), tmp_path, spec["seed"], str(spec))


def test_tile_on_cortex_m4_and_m55_matches_tflite(model_cache, tmp_path):
    spec = dict(op="tile", shape=(3, 2, 3), multiples=[1, 2, 3, 2], conv=True, lo=-1.0, hi=1.5,
                seed=4)
    _on_both_cores(model_cache.single_op(spec), tmp_path, 4, "tile", oracle="tflite")
