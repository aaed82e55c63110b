"""tg_format_float, the port's float printer (no newlib printf): compiled
for the host into a shared library and checked against exact decimal
arithmetic over random float32 values; tg_vformat's 64-bit integers
(done with 32-bit divisions only) against Python's formatting."""

from __future__ import annotations

import ctypes
import re
import subprocess
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from tinygen.paths import firmware_dir


@pytest.fixture(scope="module")
def fmt(tmp_path_factory):
    lib = tmp_path_factory.mktemp("print") / "libtgprint.so"
    subprocess.run(["cc", "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC",
                    "-o", str(lib), str(firmware_dir() / "harness" / "tg_print.c")],
                   check=True, timeout=120)
    so = ctypes.CDLL(str(lib))
    so.tg_format_float.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_float, ctypes.c_uint]
    so.tg_format_float.restype = ctypes.c_size_t

    def call(value: float, decimals: int, cap: int = 64) -> str:
        buf = ctypes.create_string_buffer(cap)
        n = so.tg_format_float(buf, cap, value, decimals)
        assert n == len(buf.value)
        return buf.value.decode()
    return call


@settings(max_examples=400, deadline=None)
@given(st.floats(width=32, min_value=-1e7, max_value=1e7, allow_nan=False),
       st.integers(min_value=0, max_value=6))
def test_fixed_point_text_is_the_value_rounded_to_the_decimals(fmt, value, decimals):
    text = fmt(value, decimals)
    pattern = r"-?\d+" + (rf"\.\d{{{decimals}}}" if decimals else "")
    assert re.fullmatch(pattern, text), text
    exact = Decimal(float(np.float32(value)))
    # Half a unit in the last printed digit, plus float32 arithmetic error.
    tolerance = Decimal(5) / Decimal(10) ** (decimals + 1) + abs(exact) * Decimal(2) ** -21 \
        + Decimal(10) ** -(decimals + 5)
    assert abs(Decimal(text) - exact) <= tolerance


@pytest.mark.parametrize("value, decimals, text", [
    (0.0, 6, "0.000000"),
    (-0.0, 3, "0.000"),
    (-0.0000001, 3, "0.000"),          # rounds to zero: no "-0.000"
    (0.99999994, 6, "1.000000"),       # the carry into the whole part
    (-2.5, 0, "-3"),                   # half away from zero
    (0.00390625, 6, "0.003906"),
    (123.5, 1, "123.5"),
    (float("nan"), 6, "nan"),
    (float("inf"), 6, "inf"),
    (float("-inf"), 2, "-inf"),
    (1e19, 2, "inf"),                  # beyond 2^63: reported, not wrapped
    (2.0 ** 40, 1, "1099511627776.0"),
])
def test_edge_values(fmt, value, decimals, text):
    assert fmt(value, decimals) == text


def test_output_is_cut_at_the_capacity_and_terminated(fmt):
    assert fmt(123456.75, 2, cap=5) == "1234"


@pytest.fixture(scope="module")
def fmt_u64(tmp_path_factory):
    lib = tmp_path_factory.mktemp("print64") / "libtgprint64.so"
    shim = Path(__file__).parent / "fixtures" / "print" / "tg_format_u64.c"
    subprocess.run(["cc", "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC",
                    f"-I{firmware_dir() / 'harness'}", "-o", str(lib), str(shim),
                    str(firmware_dir() / "harness" / "tg_print.c")], check=True, timeout=120)
    so = ctypes.CDLL(str(lib))
    so.tg_format_u64.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p,
                                 ctypes.c_ulonglong]
    so.tg_format_u64.restype = ctypes.c_size_t

    def call(fmt: str, value: int) -> str:
        buf = ctypes.create_string_buffer(64)
        assert so.tg_format_u64(buf, 64, fmt.encode(), value) == len(buf.value)
        return buf.value.decode()
    return call


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.integers(0, 2 ** 64 - 1), st.integers(0, 2 ** 32 + 5),
                 st.sampled_from([0, 2 ** 32 - 1, 2 ** 32, 2 ** 63, 2 ** 64 - 1])))
def test_64_bit_integers_print_like_printf(fmt_u64, value):
    assert fmt_u64("%llu", value) == str(value)
    assert fmt_u64("%llx", value) == f"{value:x}"
    assert fmt_u64("%016llX", value) == f"{value:016X}"
    signed = value - 2 ** 64 if value >= 2 ** 63 else value
    assert fmt_u64("%lld", value) == str(signed)
