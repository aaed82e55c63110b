"""The host build's two kernel variants, each bit-exact with TFLM.

On the host, convolution, depthwise and fully connected layers run the
vector-extension loops of firmware/kernels/tg_host_simd.h; TG_NO_HOST_SIMD=1
forces the portable scalar C, the code a core without DSP extension runs.
Here both are built with the flags of tinygen's host build (-O3
-march=native, from tinygen.port) and compared with the TFLM oracle on
one-operator models whose shapes hit every remainder of the vector loops
(rows not a multiple of 4 or 8, depths not a multiple of 4, channels not
a multiple of 8), with padding, strides, dilation and both requantization
forms.
(test_ops_oracle.py runs the vector variant at -O2 -march=native over random
shapes.)
"""

from __future__ import annotations

import subprocess
from pathlib import Path
import numpy as np
import pytest

from hostlib import HOST_CFLAGS, HostModel
from kernel_oracle import assert_bit_exact, oracle_cases
from tinygen.boards import load_board
from tinygen.codegen import generate_model_sources, kernels_dir
from tinygen.port.generate import toolchain_for

FIXTURES = Path(__file__).parent / "fixtures"

BASE = dict(act=None, lo=-1.0, hi=1.5, wscale=0.3, per_tensor=False, dilation=1)
SPECS = [
    # convolution: rows (filters) 1, 5, 9, 12 around the 4- and 8-row blocks,
    # window depth (kernel h * w * channels) 2, 27, 30, 144: every remainder mod 4
    dict(BASE, op="conv", shape=(5, 5, 3), kernel=(3, 3), stride=1, padding="same", filters=9,
         seed=1),
    dict(BASE, op="conv", shape=(7, 7, 5), kernel=(2, 3), stride=2, padding="valid", filters=5,
         seed=3, act="relu6", per_tensor=True),
    dict(BASE, op="conv", shape=(4, 4, 2), kernel=(1, 1), stride=1, padding="same", filters=1,
         seed=4, act="relu"),
    dict(BASE, op="conv", shape=(6, 6, 16), kernel=(3, 3), stride=1, padding="same", filters=12,
         seed=5, dilation=2),
    # depthwise: channels 12 and 19 (groups of 8, then a 4- and a 3-channel tail)
    dict(BASE, op="dwconv", shape=(7, 5, 12), kernel=(3, 3), stride=2, padding="valid", dm=1,
         seed=7, act="relu6"),
    dict(BASE, op="dwconv", shape=(5, 6, 19), kernel=(2, 4), stride=1, padding="same", dm=1,
         seed=8, per_tensor=True),
    # fully connected: units 19 and 8, depth 48 and 7
    dict(BASE, op="fc", shape=(48,), units=19, seed=10, act="relu"),
    dict(BASE, op="fc", shape=(7,), units=8, seed=11),
]


def host_build_flags() -> list[str]:
    """tinygen's host build flags, less the warnings HOST_CFLAGS brings."""
    return [f for f in toolchain_for(load_board("host"), "O2").cflags
            if not f.startswith(("-W", "-std="))]


def host_has_avx2() -> bool:
    """Whether the host build's flags let the compiler use AVX2 (tg_host_simd.h's condition)."""
    done = subprocess.run(["gcc", *host_build_flags(), "-dM", "-E", "-x", "c", "/dev/null"],
                          capture_output=True, text=True, timeout=60, check=True)
    return "#define __AVX2__ 1" in done.stdout


VARIANTS = {"vector": [], "portable": ["-DTG_NO_HOST_SIMD=1"]}
# (variant, fast_requant): the vector loops with both requantization forms
# (the planner's proven shortcut and TFLM's generic one), the portable C with
# the default.
BUILDS = [("vector", True), ("vector", False), ("portable", True)]


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_host_build_selects_the_variant(tmp_path, variant):
    """The host build's flags pick the vector loops; TG_NO_HOST_SIMD the portable C."""
    if variant == "vector" and not host_has_avx2():
        pytest.skip("this CPU has no AVX2: the host build runs the portable C only")
    want = 1 if variant == "vector" else 0
    flags = [f for f in HOST_CFLAGS if f != "-shared"] + host_build_flags() + VARIANTS[variant]
    done = subprocess.run(["gcc", *flags, f"-DTG_WANT_HOST_SIMD={want}", f"-I{kernels_dir()}",
                           "-c", str(FIXTURES / "host_simd_probe.c"), "-o", str(tmp_path / "p.o")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: f"{s['op']}-{s['seed']}")
def test_both_host_variants_match_tflm(model_cache, tmp_path, spec):
    tflite = model_cache.single_op(spec)
    inputs, expected = oracle_cases(tflite, spec["seed"])
    builds = BUILDS if host_has_avx2() else [b for b in BUILDS if b[0] == "portable"]
    for variant, fast in builds:
        out = tmp_path / f"{variant}-{'fast' if fast else 'generic'}"
        src = generate_model_sources(tflite, out, fast_requant=fast)
        host = HostModel(src, out / "libmodel.so", cflags=host_build_flags() + VARIANTS[variant])
        assert_bit_exact([host.run(x) for x in inputs], expected,
                         f"{variant} (fast_requant={fast})")
