"""The host build's two kernel targets, each bit-exact with TFLM.

On an AVX2 host, convolution, depthwise and fully connected layers run the
vector-extension loops of firmware/kernels/host/ (the plan's "host"
target); the "portable" target is the scalar C a core without DSP
extension runs. Here both are built with the flags of tinygen's host build
(-O3 -march=native, from tinygen.port) and compared with the TFLM oracle on
one-operator models whose shapes hit every remainder of the vector loops
(rows not a multiple of 4 or 8, depths not a multiple of 4, channels not
a multiple of 8), with padding, strides, dilation and both requantization
forms.
(test_ops_oracle.py runs the host's target at -O2 -march=native over random
shapes.)
"""

from __future__ import annotations

import subprocess
import numpy as np
import pytest

from hostlib import HostModel
from kernel_oracle import assert_bit_exact, oracle_cases
from tinygen.boards import load_board
from tinygen.codegen import generate_model_sources
from tinygen.port.aot import kernel_target
from tinygen.port.generate import toolchain_for

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
    """Whether the host build's flags let the compiler use AVX2."""
    done = subprocess.run(["gcc", *host_build_flags(), "-dM", "-E", "-x", "c", "/dev/null"],
                          capture_output=True, text=True, timeout=60, check=True)
    return "#define __AVX2__ 1" in done.stdout


# (target, fast_requant): the vector loops with both requantization forms
# (the planner's proven shortcut and TFLM's generic one), the portable C with
# the default.
BUILDS = [("host", True), ("host", False), ("portable", True)]


def test_host_build_takes_the_vector_kernels_exactly_when_the_compiler_targets_avx2():
    host = load_board("host")
    want = "host" if host_has_avx2() else "portable"
    assert kernel_target(host) == want == kernel_target(host, toolchain_for(host, "O3"))
    # Debugging builds (-O0/-O1) have no -march=native: the portable C.
    assert kernel_target(host, toolchain_for(host, "O1")) == "portable"


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: f"{s['op']}-{s['seed']}")
def test_both_host_variants_match_tflm(model_cache, tmp_path, spec):
    tflite = model_cache.single_op(spec)
    inputs, expected = oracle_cases(tflite, spec["seed"])
    builds = BUILDS if host_has_avx2() else [b for b in BUILDS if b[0] == "portable"]
    for target, fast in builds:
        out = tmp_path / f"{target}-{'fast' if fast else 'generic'}"
        src = generate_model_sources(tflite, out, fast_requant=fast, layout=target)
        assert all((k.parent.name == "host") == (target == "host") for k in src.kernel_sources
                   if k.stem in ("conv2d_s8", "depthwise_conv2d_s8", "fully_connected_s8"))
        host = HostModel(src, out / "libmodel.so", cflags=host_build_flags())
        assert_bit_exact([host.run(x) for x in inputs], expected,
                         f"{target} (fast_requant={fast})")
