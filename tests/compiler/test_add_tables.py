"""tinygen/plan/lut.py add_tables: tg_add_table_s8_dsp's arithmetic, replayed
in Python ints for every pair of input bytes, equals TFLM's ADD (its
rescalings and output requantization, tinygen/plan/fixedpoint.py), and the
planner refuses the table where that arithmetic would overflow.

The C kernel itself runs against the TFLM oracle in
test_kernels_add_emulated.py; this checks the whole 256 x 256 input space,
which an oracle run of a small model cannot reach.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygen.plan.fixedpoint import quantize_multiplier, requantize, wrap32
from tinygen.plan.lut import add_tables
from tinygen.plan.ops import ADD_LEFT_SHIFT

BYTES = np.arange(-128, 128)


def _params(s1: float, s2: float, so: float, z1: int, z2: int, zo: int, lo: int, hi: int) -> dict:
    """An ADD's parameter record as plan/ops.py _add derives it."""
    twice_max = 2.0 * max(s1, s2)
    m1, sh1 = quantize_multiplier(s1 / twice_max)
    m2, sh2 = quantize_multiplier(s2 / twice_max)
    mo, sho = quantize_multiplier(twice_max / ((1 << ADD_LEFT_SHIFT) * so))
    return dict(in1_offset=-z1, in2_offset=-z2, in1_mult=m1, in1_shift=sh1, in2_mult=m2,
                in2_shift=sh2, out_mult=mo, out_shift=sho, left_shift=ADD_LEFT_SHIFT,
                out_offset=zo, act_min=lo, act_max=hi)


def _tflm(p: dict) -> np.ndarray:
    """TFLM's int8 ADD of every (x1, x2), as out[x1 + 128, x2 + 128]."""
    def rescaled(offset, mult, shift):
        return [requantize(wrap32((int(x) + offset) << p["left_shift"]), mult, shift) for x in BYTES]

    r1 = rescaled(p["in1_offset"], p["in1_mult"], p["in1_shift"])
    r2 = rescaled(p["in2_offset"], p["in2_mult"], p["in2_shift"])
    out = np.array([[requantize(a + b, p["out_mult"], p["out_shift"]) + p["out_offset"]
                     for b in r2] for a in r1], dtype=np.int64)
    return np.clip(out, p["act_min"], p["act_max"])


def _kernel(p: dict, table: np.ndarray) -> np.ndarray:
    """dsp/add_s8.c tg_add_table_s8_dsp: two loads, SMMLAR with the zero
    point in its accumulator, the negative-value fix, the shift, SSAT and
    the clamp; every intermediate must be an int32."""
    e = -p["out_shift"]
    s = table[:256].astype(np.int64)[:, None] + table[256:].astype(np.int64)[None, :]
    ra = (1 << (e - 1)) + (p["out_offset"] << e)
    acc = (ra << 32) + s * p["out_mult"] + (1 << 31)
    high = acc >> 32                                  # SMMLAR: Python's >> floors
    v = high + (s >> 31)
    for x in (s, high, v):
        assert np.all((x >= -(1 << 31)) & (x < (1 << 31)))
    return np.clip(np.clip(v >> e, -128, 127), p["act_min"], p["act_max"])


scales = st.floats(1e-4, 1.0)
zero_points = st.integers(-128, 127)


@settings(max_examples=25, derandomize=True, database=None, deadline=None)
@given(s1=scales, s2=scales, ratio=st.floats(0.05, 8.0), z1=zero_points, z2=zero_points,
       zo=zero_points, relu6=st.booleans())
def test_table_add_equals_tflm_for_every_pair_of_bytes(s1, s2, ratio, z1, z2, zo, relu6):
    so = ratio * max(s1, s2)
    lo, hi = (max(-128, zo), min(127, zo + round(6.0 / so))) if relu6 else (-128, 127)
    p = _params(s1, s2, so, z1, z2, zo, lo, hi)
    table = add_tables(p)
    if table is None:
        # Refused only where the output shift or the zero point's fold
        # leaves no room: an output scale well above the inputs'.
        assert -p["out_shift"] < 1 or ratio > 4.0
        return
    assert table.dtype == np.int32 and table.shape == (512,)
    np.testing.assert_array_equal(_kernel(p, table), _tflm(p))


def test_table_of_ic01s_first_residual_add():
    """ic01's layer 3 (scales and zero points of its record)."""
    p = dict(in1_offset=128, in2_offset=27, in1_mult=2098365250, in1_shift=-2,
             in2_mult=1073741824, in2_shift=0, out_mult=1773387132, out_shift=-18,
             left_shift=20, out_offset=-128, act_min=-128, act_max=127)
    table = add_tables(p)
    np.testing.assert_array_equal(_kernel(p, table), _tflm(p))


def test_no_table_where_the_zero_point_fold_would_overflow():
    p = _params(0.01, 0.01, 5.0, 0, 0, 100, -128, 127)
    assert -p["out_shift"] > 22
    assert add_tables(p) is None
