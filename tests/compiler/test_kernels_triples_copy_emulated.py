"""tg_conv2d_triples_copy_s8_dsp (firmware/kernels/dsp/conv2d_triples_s8.c)
on the Cortex-M4, bit-exact with TFLM: the in-place three-pixel kernel
after copying its whole stream into scratch (tinygen/plan/ops.py
fit_stream_copies, for models whose copies do not pay for the copying
kernel's own code: kws01's first layer). The cases: the first layer of
kws01 in small (a wide kernel on one channel, SAME, stride 2), a gathered
3x3 window with a last single pixel, pointwise read in place with the
output over the input, no activation (the negative-value fix), two images.
"""

from __future__ import annotations

import pytest

from kernel_oracle import assert_bit_exact, oracle_cases, run_bare_metal
from test_kernels_emulated import ARM_FLAGS
from test_kernels_triples_emulated import _conv
from tinygen.codegen import write_sources
from tinygen.ir import load_model
from tinygen.plan import plan_model

COPIED = [
    _conv((12, 6, 1), 12, kernel=(5, 4), stride=2, padding="same", seed=61, wscale=1.0),
    _conv((5, 5, 8), 6, kernel=(3, 3), padding="same", seed=62),
    _conv((3, 4, 16), 8, seed=63),
    _conv((3, 3, 16), 4, act=None, seed=64, lo=-3.0, hi=0.5, batch=2),
]


@pytest.mark.parametrize("spec", COPIED, ids=lambda s: f"{s['shape']}-k{s['kernel']}-s{s['seed']}")
def test_whole_stream_copy_before_the_in_place_kernel_matches_tflm(model_cache, tmp_path, spec,
                                                                   monkeypatch):
    from tinygen.plan import ops, variants

    def copy_whole(calls, arena_of):
        for c in calls:
            if c.dsp_kernel == "tg_conv2d_triples_s8_dsp":
                c.dsp_kernel = ops.TRIPLES_COPY
                c.scratch_bytes += 4 * len(c.dsp_arrays["stream"])

    # In a one-layer model no copy fits the arena: every offered layer copies.
    monkeypatch.setattr(variants, "fit_dsp_scratch", lambda calls, arena_of: None)
    monkeypatch.setattr(variants, "fit_stream_copies", copy_whole)
    for eligible in ("conv_rgb_eligible", "conv_pw8_eligible", "conv_pw16_eligible"):
        monkeypatch.setattr(ops, eligible, lambda params: False)
    tflite = model_cache.single_op(spec)
    plan = plan_model(load_model(tflite), layout="dsp")
    assert plan.calls[0].function == "tg_conv2d_triples_copy_s8_dsp"
    src = write_sources(plan, tmp_path)
    inputs, expected = oracle_cases(tflite, spec["seed"])
    got = run_bare_metal(src, inputs, tmp_path, flags=ARM_FLAGS, machine="mps2-an386",
                         linker_script="qemu_model.ld", variant="dsp")
    assert_bit_exact(got, expected, f"{spec}")
