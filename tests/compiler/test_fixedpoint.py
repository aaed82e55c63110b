"""Facts about the build-time quantization arithmetic."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from tinygen.plan.fixedpoint import (
    INT32_MAX, INT32_MIN, quantize_multiplier, requantize, rounding_shift_right,
    softmax_exp_table, srdhm,
)


@settings(max_examples=300, derandomize=True, database=None)
@given(real=st.floats(1e-9, 1e4))
def test_quantize_multiplier_reconstructs_the_real_multiplier(real):
    mult, shift = quantize_multiplier(real)
    assert (1 << 30) <= mult < (1 << 31)
    assert math.isclose(mult * 2.0 ** (shift - 31), real, rel_tol=2.0 ** -30)


def test_quantize_multiplier_of_a_power_of_two_is_exact():
    assert quantize_multiplier(0.5) == (1 << 30, 0)
    assert quantize_multiplier(0.25) == (1 << 30, -1)
    assert quantize_multiplier(0.0) == (0, 0)


def test_quantize_multiplier_carries_when_rounding_reaches_two_to_the_31():
    almost_one = 1.0 - 2.0 ** -40
    assert quantize_multiplier(almost_one) == (1 << 30, 1)


def test_doubling_high_multiply_saturates_only_for_min_times_min():
    assert srdhm(INT32_MIN, INT32_MIN) == INT32_MAX
    assert srdhm(INT32_MIN, INT32_MAX) == -INT32_MAX


@settings(max_examples=300, derandomize=True, database=None)
@given(x=st.integers(INT32_MIN, INT32_MAX), e=st.integers(1, 31))
def test_rounding_shift_right_rounds_half_away_from_zero(x, e):
    exact = x / 2 ** e
    expected = math.floor(abs(exact) + 0.5) * (1 if x >= 0 else -1)
    assert rounding_shift_right(x, e) == expected


@settings(max_examples=300, derandomize=True, database=None)
@given(x=st.integers(-(1 << 24), 1 << 24), real=st.floats(1e-6, 0.99))
def test_requantize_is_within_one_step_of_the_real_product(x, real):
    mult, shift = quantize_multiplier(real)
    assert abs(requantize(x, mult, shift) - x * real) <= 1.0


def test_softmax_exp_table_decreases_from_one_to_zero():
    table = softmax_exp_table(1.0, 0.1)
    assert table[0] == INT32_MAX
    assert all(int(a) >= int(b) for a, b in zip(table, table[1:]))
    # exp(-d * 0.1) in Q0.31, within a few units of the real value
    for d in (1, 10, 50):
        assert abs(int(table[d]) / 2 ** 31 - math.exp(-0.1 * d)) < 1e-6
