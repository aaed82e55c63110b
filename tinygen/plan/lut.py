"""Build-time tables for the int8 elementwise functions (tg_lut_s8).

An int8 unary operator's output depends only on its input byte, so tinygen
runs TFLM's integer arithmetic for each of the 256 inputs here, in exact
Python ints, and the kernel only indexes the table: bit-exact on every core
by construction, and cheaper than TFLM's per-element fixed-point math.
table[x + 128] is the output for input x.

The arithmetic mirrors TFLM's reference int8 kernels and their Prepare
functions (float32 where TFLM computes scales in float): LOGISTIC and TANH
rescale the input to Q4.27 and evaluate gemmlowp's fixed-point logistic /
tanh (exp on negative values, then a Newton-Raphson division); HARD_SWISH
works in int16 with two 16-bit multipliers; LEAKY_RELU requantizes the two
sides of zero with their own multipliers.
"""

from __future__ import annotations

import math

import numpy as np

from tinygen.plan.fixedpoint import (INT32_MAX, exp_on_negative_values, quantize_multiplier,
                                     requantize, rounding_shift_right, shift_left_saturating,
                                     srdhm, wrap32)

INPUTS = np.arange(-128, 128)
# TFLM's int8 LOGISTIC and TANH read their input as Q4.27.
_INPUT_INTEGER_BITS = 4
_F2_ONE = 1 << 29                 # 1.0 in Q2.29
_48_OVER_17 = 1515870810          # in Q2.29
_NEG_32_OVER_17 = -1010580540     # in Q2.29


def _f32(x) -> np.float32:
    return np.float32(x)


def _clamp_s8(v: int) -> int:
    return min(127, max(-128, v))


def _div_toward_zero(n: int, d: int) -> int:
    q = abs(n) // d
    return q if n >= 0 else -q


def _rounding_half_sum(a: int, b: int) -> int:
    s = a + b
    return _div_toward_zero(s + (1 if s >= 0 else -1), 2)


def _newton_reciprocal(half_denominator: int) -> int:
    """x ~ 1 / half_denominator in Q2.29 after gemmlowp's three Newton steps."""
    x = wrap32(_48_OVER_17 + srdhm(half_denominator, _NEG_32_OVER_17))
    for _ in range(3):
        hd_x = srdhm(half_denominator, x)
        one_minus = wrap32(_F2_ONE - hd_x)
        x = wrap32(x + shift_left_saturating(srdhm(x, one_minus), 2))
    return x


def _one_over_one_plus_x(a: int) -> int:
    """1 / (1 + a) for a in Q0.31 in (0, 1); result in Q0.31."""
    x = _newton_reciprocal(_rounding_half_sum(a, INT32_MAX))
    # Q2.29 seen as Q1.30 (halved), rescaled to Q0.31.
    return shift_left_saturating(x, 1)


def _one_minus_x_over_one_plus_x(a: int) -> int:
    x = _newton_reciprocal(_rounding_half_sum(a, INT32_MAX))
    return shift_left_saturating(wrap32(x - _F2_ONE), 2)


def fixed_logistic(a: int) -> int:
    """gemmlowp logistic of a in Q4.27; result in Q0.31."""
    if a == 0:
        return 1 << 30
    r = _one_over_one_plus_x(exp_on_negative_values(-abs(a), _INPUT_INTEGER_BITS))
    return r if a > 0 else wrap32(INT32_MAX - r)


def fixed_tanh(a: int) -> int:
    """gemmlowp tanh of a in Q4.27; result in Q0.31."""
    if a == 0:
        return 0
    # exp(2 * -|a|): the same raw value read with one more integer bit.
    t = _one_minus_x_over_one_plus_x(exp_on_negative_values(-abs(a), _INPUT_INTEGER_BITS + 1))
    return -t if a < 0 else t


def _q4_input(input_scale: float) -> tuple[int, int, int]:
    """(multiplier, left shift, input radius) as TFLM's int8 LOGISTIC/TANH Prepare."""
    real = float(_f32(input_scale)) * float(1 << (31 - _INPUT_INTEGER_BITS))
    q, shift = math.frexp(real)
    mult = int(math.floor(q * (1 << 31) + 0.5))
    # TFLM CalculateInputRadius (validate keeps the shift >= 0).
    radius = ((1 << _INPUT_INTEGER_BITS) - 1) * (1 << (31 - _INPUT_INTEGER_BITS)) >> max(shift, 0)
    return mult, shift, radius


def _sigmoid_like(input_scale: float, input_zero_point: int, fn, out_bits: int,
                  out_zero_point: int) -> np.ndarray:
    mult, shift, radius = _q4_input(input_scale)
    table = np.zeros(256, dtype=np.int8)
    for i, x in enumerate(INPUTS):
        v = int(x) - input_zero_point
        if v <= -radius:
            table[i] = -128
        elif v >= radius:
            table[i] = 127
        else:
            q = fn(requantize(v, mult, shift))
            table[i] = _clamp_s8(rounding_shift_right(q, 31 - out_bits) + out_zero_point)
    return table


def logistic_table(input_scale: float, input_zero_point: int) -> np.ndarray:
    """Output scale 1/256, zero point -128 (what the converter gives LOGISTIC)."""
    return _sigmoid_like(input_scale, input_zero_point, fixed_logistic, 8, -128)


def tanh_table(input_scale: float, input_zero_point: int) -> np.ndarray:
    """Output scale 1/128, zero point 0 (what the converter gives TANH)."""
    return _sigmoid_like(input_scale, input_zero_point, fixed_tanh, 7, 0)


# ---- HARD_SWISH: TFLM's int16 arithmetic -----------------------------------

def _srdhm16(a: int, b: int) -> int:
    if a == b == -(1 << 15):
        return (1 << 15) - 1
    ab = a * b
    nudge = (1 << 14) if ab >= 0 else 1 - (1 << 14)
    return _div_toward_zero(ab + nudge, 1 << 15)


def _doubling_high_mul16(a: int, b: int) -> int:
    """Doubling high multiply without rounding (truncating toward zero)."""
    if a == b == -(1 << 15):
        return (1 << 15) - 1
    ab = a * b
    q = abs(ab) >> 15
    return q if ab >= 0 else -q


def _sat_left_shift16(v: int, amount: int) -> int:
    return min((1 << 15) - 1, max(-(1 << 15), v * (1 << amount)))


def _to_int16_multiplier(m32: int) -> int:
    if m32 >= INT32_MAX - (1 << 15):
        return (1 << 15) - 1
    return (m32 + (1 << 15)) >> 16


def hard_swish_multipliers(input_scale: float, output_scale: float) -> tuple[int, int, int, int]:
    """(output multiplier int16, its exponent, reluish multiplier int16, its exponent)."""
    hires = _f32(_f32(1.0 / 128.0) * _f32(input_scale))
    out_m, out_e = quantize_multiplier(float(_f32(hires / _f32(output_scale))))
    rel_m, rel_e = quantize_multiplier(float(_f32(hires / _f32(3.0 / 32768.0))))
    return _to_int16_multiplier(out_m), out_e, _to_int16_multiplier(rel_m), rel_e


def hard_swish_table(input_scale: float, input_zero_point: int, output_scale: float,
                     output_zero_point: int) -> np.ndarray:
    out_m, out_e, rel_m, rel_e = hard_swish_multipliers(input_scale, output_scale)
    table = np.zeros(256, dtype=np.int8)
    for i, x in enumerate(INPUTS):
        hires = (int(x) - input_zero_point) * 128
        pre_out = _srdhm16(hires, out_m)
        reluish = hires
        if rel_e > 0:
            reluish = _sat_left_shift16(reluish, rel_e - 1)
        reluish = _srdhm16(reluish, rel_m)
        if rel_e > 0:
            reluish = _sat_left_shift16(reluish, 1)
        if rel_e < 0:
            reluish = rounding_shift_right(reluish, -rel_e)
        reluish = (reluish + (1 << 15)) >> 1
        out = rounding_shift_right(_doubling_high_mul16(reluish, pre_out), -out_e)
        table[i] = _clamp_s8(out + output_zero_point)
    return table


# ---- LEAKY_RELU ---------------------------------------------------------------

def leaky_relu_table(input_scale: float, input_zero_point: int, output_scale: float,
                     output_zero_point: int, alpha: float) -> np.ndarray:
    s_in, s_out = _f32(input_scale), _f32(output_scale)
    alpha_m, alpha_s = quantize_multiplier(float(_f32(_f32(s_in * _f32(alpha)) / s_out)))
    id_m, id_s = quantize_multiplier(float(_f32(s_in / s_out)))
    negative = alpha_m < 0
    alpha_m = abs(alpha_m)
    table = np.zeros(256, dtype=np.int8)
    for i, x in enumerate(INPUTS):
        v = int(x) - input_zero_point
        if v >= 0:
            out = requantize(v, id_m, id_s)
        else:
            out = requantize(v, alpha_m, alpha_s)
            out = -out if negative else out
        table[i] = _clamp_s8(out + output_zero_point)
    return table


# ---- ADD (tg_add_table_s8_dsp) --------------------------------------------------

def _add_rescaled(offset: int, mult: int, shift: int, left_shift: int) -> list[int]:
    """An ADD input's value on the common scale, for every input byte."""
    return [requantize(wrap32((int(x) + offset) << left_shift), mult, shift) for x in INPUTS]


def add_tables(p: dict) -> np.ndarray | None:
    """tg_add_table_s8_dsp's table for an ADD's parameter record (plan/ops.py
    _add), or None where that kernel's arithmetic would not be exact.

    table[x + 128] is twice input 1's rescaled value for byte x and
    table[256 + x + 128] twice input 2's. The kernel requantizes their sum
    2s with SMMLAR, which is TFLM's requantization only for |s| < 2^29 and
    an output shift of at least 1 (dsp/add_s8.c), and folds the output zero
    point into SMMLAR's accumulator, so that sum must stay within int32."""
    t1 = _add_rescaled(p["in1_offset"], p["in1_mult"], p["in1_shift"], p["left_shift"])
    t2 = _add_rescaled(p["in2_offset"], p["in2_mult"], p["in2_shift"], p["left_shift"])
    e = -p["out_shift"]
    s_max = max(abs(v) for v in t1) + max(abs(v) for v in t2)
    if e < 1 or s_max >= 1 << 29:
        return None
    # |SMMLAR| <= |2s * mult| / 2^32 + 1 + 2^(e-1) + |zero point| * 2^e, then the fix's 1.
    high = (2 * s_max * p["out_mult"] >> 32) + 2 + (1 << (e - 1)) + 128 * (1 << e)
    if high > INT32_MAX:
        return None
    return np.array([2 * v for v in t1 + t2], dtype=np.int32)
