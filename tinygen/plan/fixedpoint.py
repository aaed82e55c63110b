"""TFLM's integer requantization arithmetic, done exactly in Python ints.

Used at build time to derive multipliers and shifts, and to tabulate the
softmax exponential; the C kernels implement the same operations.
"""

from __future__ import annotations

import functools
import math

import numpy as np

INT32_MIN = -(1 << 31)
INT32_MAX = (1 << 31) - 1


def wrap32(x: int) -> int:
    return ((x + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)


# Cached: a model's per-channel scales recur in every plan of it (a fuzz
# campaign plans the same seeds' channels a million times).
@functools.lru_cache(maxsize=1 << 16)
def quantize_multiplier(real: float) -> tuple[int, int]:
    """real ~= mult * 2^(shift - 31), mult in [2^30, 2^31) (TFLM QuantizeMultiplier)."""
    if real == 0.0:
        return 0, 0
    q, shift = math.frexp(real)
    # std::round: half away from zero.
    q_fixed = int(math.floor(abs(q) * (1 << 31) + 0.5)) * (1 if q >= 0 else -1)
    if q_fixed == (1 << 31):
        q_fixed //= 2
        shift += 1
    if shift < -31:
        shift, q_fixed = 0, 0
    if shift > 30:
        shift, q_fixed = 30, (1 << 31) - 1
    return q_fixed, shift


def srdhm(a: int, b: int) -> int:
    """Saturating rounding doubling high multiply of two int32."""
    if a == INT32_MIN and b == INT32_MIN:
        return INT32_MAX
    ab = a * b
    nudge = (1 << 30) if ab >= 0 else 1 - (1 << 30)
    v = ab + nudge
    q = abs(v) >> 31
    return q if v >= 0 else -q


def rounding_shift_right(x: int, exponent: int) -> int:
    mask = (1 << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> exponent) + (1 if remainder > threshold else 0)


def shift_left_saturating(x: int, exponent: int) -> int:
    threshold = (1 << (31 - exponent)) - 1
    if x > threshold:
        return INT32_MAX
    if x < -threshold:
        return INT32_MIN
    return x << exponent


def requantize(x: int, mult: int, shift: int) -> int:
    if shift > 0:
        return srdhm(wrap32(x << shift), mult)
    return rounding_shift_right(srdhm(x, mult), -shift)


# Fixed-point exp(x) for x <= 0, x in Q5.26, result in Q0.31.

def _exp_quarter_interval(a: int) -> int:
    """exp(a) for a in [-1/4, 0), a and result in Q0.31."""
    constant_term = 1895147668          # exp(-1/8)
    one_third = 715827883
    x = wrap32(a + (1 << 28))           # a + 1/8
    x2 = srdhm(x, x)
    x3 = srdhm(x2, x)
    x4 = srdhm(x2, x2)
    x4_over_4 = rounding_shift_right(x4, 2)
    poly = rounding_shift_right(wrap32(srdhm(wrap32(x4_over_4 + x3), one_third) + x2), 1)
    return wrap32(constant_term + srdhm(constant_term, wrap32(x + poly)))


_EXP_BARREL = ((-2, 1672461947), (-1, 1302514674), (0, 790015084), (1, 290630308),
               (2, 39332535), (3, 720401), (4, 242))


def exp_on_negative_values(a: int, integer_bits: int = 5) -> int:
    fractional_bits = 31 - integer_bits
    one_quarter = 1 << (fractional_bits - 2)
    mask = one_quarter - 1
    a_mod_quarter_minus_quarter = wrap32((a & mask) - one_quarter)
    result = _exp_quarter_interval(shift_left_saturating(a_mod_quarter_minus_quarter, integer_bits))
    remainder = wrap32(a_mod_quarter_minus_quarter - a)
    for exponent, multiplier in _EXP_BARREL:
        if integer_bits > exponent:
            if remainder & (1 << (fractional_bits + exponent)):
                result = srdhm(result, multiplier)
    if a == 0:
        result = INT32_MAX
    return result


SOFTMAX_SCALED_DIFF_INTEGER_BITS = 5


def softmax_params(beta: float, input_scale: float) -> tuple[int, int, int]:
    """(input_multiplier, input_left_shift, diff_min) as TFLM prepares them."""
    bits = SOFTMAX_SCALED_DIFF_INTEGER_BITS
    real = min(beta * input_scale * (1 << (31 - bits)), float((1 << 31) - 1))
    mult, shift = quantize_multiplier(real)
    max_input_rescaled = (1.0 * ((1 << bits) - 1) * (1 << (31 - bits)) / (1 << shift))
    diff_min = -int(math.floor(max_input_rescaled))
    return mult, shift, diff_min


def softmax_exp_table(beta: float, input_scale: float) -> np.ndarray:
    """table[d] = exp of the rescaled difference -d, or 0 when -d < diff_min."""
    return np.array(_softmax_exp_table(beta, input_scale), dtype=np.int32)


@functools.lru_cache(maxsize=256)
def _softmax_exp_table(beta: float, input_scale: float) -> tuple[int, ...]:
    mult, shift, diff_min = softmax_params(beta, input_scale)
    table = [0] * 256
    for d in range(256):
        diff = -d
        if diff >= diff_min:
            rescaled = srdhm(wrap32(diff * (1 << shift)), mult)
            table[d] = exp_on_negative_values(rescaled)
    return tuple(table)
