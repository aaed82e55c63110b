"""tg_conv2d_triples_s8_dsp (firmware/kernels/dsp/conv2d_triples_s8.c) on the
Cortex-M4, bit-exact with TFLM.

Random one-layer convolutions whose output channels come in pairs (the
kernel's eligibility) are compiled for mps2-an386 with TG_USE_DSP, run
under QEMU and compared with the TFLM oracle (the machinery of
test_kernels_emulated.py). The cases cover what the kernel does by
itself: depths that are and are not whole octs (zero-padded), pointwise
layers read in place and gathered ones, a last group of one or two pixels,
groups spanning images, strides, dilation, every activation (the
negative-value fix and the bytewise clamp).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kernel_oracle import assert_bit_exact, oracle_cases, run_bare_metal
from test_kernels_emulated import ARM_FLAGS, SETTINGS, _check
from test_ops_oracle import acts, input_range, seeds
from tinygen.codegen import generate_model_sources, write_sources
from tinygen.ir import load_model
from tinygen.plan import plan_model


def _chosen(tmp_path, spec, model_cache) -> bool:
    src = generate_model_sources(model_cache.single_op(spec), tmp_path / "probe",
                                 fit_scratch=False, layout="dsp")
    return "tg_conv2d_triples_s8_dsp(" in src.model_c.read_text()


def _conv(shape, filters, kernel=(1, 1), stride=1, padding="valid", act="relu", seed=1,
          per_tensor=False, batch=1, dilation=1, lo=-1.0, hi=1.5, wscale=0.5):
    return dict(op="conv", shape=shape, kernel=kernel, stride=stride, dilation=dilation,
                padding=padding, act=act, lo=lo, hi=hi, seed=seed, wscale=wscale,
                per_tensor=per_tensor, filters=filters, batch=batch)


TRIPLES = [
    # Pointwise, whole octs read in place: 9 pixels (whole triples), 10 (a
    # last single pixel), 8 (a last pair), odd and even oct counts.
    _conv((3, 3, 16), 8, seed=41),
    _conv((2, 5, 24), 6, act=None, seed=42, per_tensor=True),
    _conv((2, 4, 8), 10, act="relu6", seed=43, wscale=1.0),
    _conv((3, 3, 64), 4, seed=44, lo=-3.0, hi=0.5),
    # Pointwise depths that are not whole octs: gathered, zero-padded.
    _conv((4, 3, 12), 2, seed=45),
    _conv((3, 5, 3), 8, act="relu6", seed=46),
    # Strided pointwise (ResNet shortcut), and groups spanning two images.
    _conv((5, 5, 8), 16, stride=2, seed=47),
    _conv((3, 5, 8), 4, seed=48, batch=2),
    # Gathered windows: the first layer of vww01 and kws01 in small, SAME
    # borders, VALID, dilation, a wide kernel on one channel.
    _conv((7, 7, 3), 8, kernel=(3, 3), stride=2, padding="same", seed=49),
    _conv((6, 5, 16), 6, kernel=(3, 3), padding="same", act=None, seed=50),
    _conv((7, 6, 4), 2, kernel=(3, 3), padding="valid", act="relu6", seed=51, batch=2),
    _conv((8, 7, 2), 4, kernel=(2, 3), dilation=2, padding="same", seed=52),
    _conv((12, 6, 1), 12, kernel=(5, 4), stride=2, padding="same", seed=53, wscale=1.0),
]


@pytest.mark.parametrize("spec", TRIPLES, ids=lambda s: (f"{s['shape']}-k{s['kernel']}"
                                                          f"-s{s['stride']}-f{s['filters']}"
                                                          f"-b{s['batch']}"))
def test_triples_kernel_on_cortex_m4_matches_tflm(model_cache, tmp_path, spec, monkeypatch):
    # 3x3 stride-2 layers of 3 channels and pointwise ones of 8 or 16 take the
    # first-layer and narrow kernels (dsp/conv2d_rgb_s8.c, conv2d_narrow_s8.c)
    # where they can; the triples kernel stays their fallback.
    from tinygen.plan import ops
    monkeypatch.setattr(ops, "conv_rgb_eligible", lambda params: False)
    monkeypatch.setattr(ops, "conv_pw8_eligible", lambda params: False)
    monkeypatch.setattr(ops, "conv_pw16_eligible", lambda params: False)
    assert _chosen(tmp_path, spec, model_cache), "the triples kernel was not chosen"
    _check(model_cache, tmp_path, spec, requant=(True,))


@st.composite
def triples_specs(draw):
    h, w = draw(st.integers(1, 9)), draw(st.integers(1, 9))
    c = draw(st.sampled_from([1, 3, 4, 8, 16, 20, 32]))
    k = draw(st.sampled_from([(1, 1), (1, 1), (3, 3), (2, 3)]))
    stride = draw(st.integers(1, 2))
    padding = "same" if k[0] > h or k[1] > w else draw(st.sampled_from(["same", "valid"]))
    lo, hi = draw(input_range())
    return _conv((h, w, c), 2 * draw(st.integers(1, 9)), kernel=k, stride=stride,
                 padding=padding, act=draw(acts), seed=draw(seeds), lo=lo, hi=hi,
                 per_tensor=draw(st.booleans()), batch=draw(st.integers(1, 2)),
                 wscale=draw(st.sampled_from([0.05, 0.3, 1.0])))


@settings(max_examples=8, **SETTINGS)
@given(spec=triples_specs())
def test_triples_kernel_random_layers_match_tflm(model_cache, tmp_path, spec):
    # Layers the planner cannot prove fast requantization for keep the
    # generic kernel; the oracle is then met by that one.
    _check(model_cache, tmp_path, spec, requant=(True,))


# Gathered layers with input channels in whole words whose widened inputs
# would grow the arena take tg_conv2d_triples8_s8_dsp (int8 patches,
# interleaved): in a one-layer model every scratch does, so the planner's
# own fitting (fit_scratch) picks it. Whole octs of depth (its scratch is
# then the portable kernel's), a last single pixel and pair, SAME borders,
# stride 2 (ic01's downsampling), dilation, two images, the clamp.
TRIPLES8 = [
    # 6 and 2 output channels: whole groups of 4 would take the pixel-pair
    # kernel (dsp/conv2d_3x3_s8.c).
    _conv((5, 5, 16), 6, kernel=(3, 3), padding="same", seed=61),
    _conv((6, 7, 8), 6, kernel=(3, 3), stride=2, padding="same", act="relu6", seed=62),
    _conv((4, 4, 32), 2, kernel=(3, 3), padding="same", act=None, seed=63, batch=2),
    _conv((7, 6, 8), 2, kernel=(2, 2), dilation=2, padding="valid", seed=64, wscale=1.0),
]


@pytest.mark.parametrize("spec", TRIPLES8, ids=lambda s: (f"{s['shape']}-k{s['kernel']}"
                                                           f"-s{s['stride']}-f{s['filters']}"
                                                           f"-b{s['batch']}"))
def test_int8_patch_triples_kernel_on_cortex_m4_matches_tflm(model_cache, tmp_path, spec):
    tflite = model_cache.single_op(spec)
    plan = plan_model(load_model(tflite), layout="dsp")
    assert [c.function for c in plan.calls] == ["tg_conv2d_triples8_s8_dsp"]
    src = write_sources(plan, tmp_path)
    inputs, expected = oracle_cases(tflite, spec["seed"])
    got = run_bare_metal(src, inputs, tmp_path, flags=ARM_FLAGS, machine="mps2-an386",
                         linker_script="qemu_model.ld", variant="dsp")
    assert_bit_exact(got, expected, f"{spec}")


# The pixel-pair kernel is now only a fallback (layers whose input channels
# are not whole words and whose triples scratch would grow the arena):
# with the triples kernel ruled out it is chosen again, and must still meet
# the oracle (its gather copies rows of 3 and 9 bytes, not whole words).
PAIRS_FALLBACK = [
    _conv((7, 7, 3), 8, kernel=(3, 3), stride=2, padding="same", seed=81),
    _conv((5, 6, 5), 4, kernel=(3, 3), padding="same", act="relu6", seed=82),
]


@pytest.mark.parametrize("spec", PAIRS_FALLBACK, ids=["3ch-3x3-s2", "5ch-3x3"])
def test_pixel_pair_fallback_on_cortex_m4_matches_tflm(model_cache, tmp_path, spec,
                                                       monkeypatch):
    from tinygen.plan import ops
    monkeypatch.setattr(ops, "conv_triples_eligible", lambda params: False)
    monkeypatch.setattr(ops, "conv_rgb_eligible", lambda params: False)
    src = generate_model_sources(model_cache.single_op(spec), tmp_path / "probe",
                                 fit_scratch=False, layout="dsp")
    assert "tg_conv2d_pairs_s8_dsp(" in src.model_c.read_text()
    _check(model_cache, tmp_path, spec, requant=(True,))


# tg_conv2d_triples_ram_s8_dsp copies the stream to scratch, whole or in
# parts of some 2-channel blocks, and runs every pixel against each part
# (or, with parts of 0 blocks, reads it in place).
# In a one-layer model no copy fits the arena, so the planner's fitting is
# replaced by one that copies every offered layer in parts of the given
# size: one part (the order of the kernel it wraps), parts that do not
# divide the blocks (a short last part), gathered windows, a last single
# pixel and pair, two images, the clamp.
RAM_PARTS = [
    (_conv((3, 3, 16), 8, seed=91), 4),
    (_conv((2, 5, 24), 10, act=None, seed=92, per_tensor=True), 2),
    (_conv((4, 2, 8), 14, act="relu6", seed=93, wscale=1.0), 3),
    (_conv((5, 5, 8), 6, kernel=(3, 3), padding="same", seed=94), 1),
    (_conv((3, 5, 3), 8, kernel=(3, 3), stride=2, padding="same", seed=95, batch=2), 3),
    # ReLU above a high output zero point (the pass without the negative-value
    # fix, and the clamp) and no activation (the fix).
    (_conv((3, 4, 16), 6, seed=96, lo=-3.0, hi=0.5), 2),
    (_conv((4, 3, 8), 4, act=None, seed=97, lo=-3.0, hi=0.5, wscale=1.0), 1),
    # No copy (0 blocks): the stream read in place, with either pass.
    (_conv((3, 3, 16), 8, seed=98), 0),
    (_conv((2, 4, 8), 6, act=None, seed=99, lo=-3.0, hi=0.5), 0),
]


@pytest.mark.parametrize("spec,part", RAM_PARTS, ids=lambda v: (
    f"{v['shape']}-k{v['kernel']}-f{v['filters']}-b{v['batch']}" if isinstance(v, dict)
    else f"part{v}"))
def test_stream_copying_triples_kernel_on_cortex_m4_matches_tflm(model_cache, tmp_path, spec,
                                                                 part, monkeypatch):
    assert _check_copying(model_cache, tmp_path, spec, part, monkeypatch), "no copying kernel"


@settings(max_examples=6, **SETTINGS)
@given(spec=triples_specs(), part=st.integers(0, 5))
def test_stream_copying_triples_kernel_random_layers_match_tflm(model_cache, tmp_path, spec, part):
    with pytest.MonkeyPatch.context() as monkeypatch:
        _check_copying(model_cache, tmp_path, spec, part, monkeypatch)


def _check_copying(model_cache, tmp_path, spec, part, monkeypatch):
    from tinygen.plan import ops, variants

    def copy_all(calls, arena_of):
        for c in calls:
            if c.dsp_kernel == "tg_conv2d_triples_s8_dsp":
                ops.copy_stream(c, part)

    monkeypatch.setattr(variants, "fit_dsp_scratch", lambda calls, arena_of: None)
    monkeypatch.setattr(variants, "fit_stream_copies", copy_all)
    # The first-layer, narrow and pixel-pair kernels would take some of these layers.
    for eligible in ("conv_rgb_eligible", "conv_pw8_eligible", "conv_pw16_eligible",
                     "conv_rgb1_eligible", "conv_3x3pair_eligible"):
        monkeypatch.setattr(ops, eligible, lambda params: False)
    tflite = model_cache.single_op(spec)
    plan = plan_model(load_model(tflite), layout="dsp")
    if plan.calls[0].function != "tg_conv2d_triples_ram_s8_dsp":
        # Only layers the triples kernel takes (fast requantization) copy.
        assert plan.calls[0].function != "tg_conv2d_triples_s8_dsp"
        return False
    if plan.calls[0].stream_parts > 1:
        assert not plan.memory.overlaps, "parts re-read the input: no overlap"
    src = write_sources(plan, tmp_path)
    inputs, expected = oracle_cases(tflite, spec["seed"])
    got = run_bare_metal(src, inputs, tmp_path, flags=ARM_FLAGS, machine="mps2-an386",
                         linker_script="qemu_model.ld", variant="dsp")
    assert_bit_exact(got, expected, f"{spec} part {part}")
    return True


# tg_conv2d_triples16_ram_s8_dsp widens the weights to int16 pairs as it
# copies them (ops.py widen_stream): depths of whole quads of octs (32, 64,
# 96, 128 positions, a gathered 3x3 window of 32 channels: each of the
# passes), ReLU at the output
# zero point -128 (no fix, no clamp), whole and short last parts, a last
# single pixel and pair, two images.
WIDE_PARTS = [
    (_conv((3, 3, 32), 8, seed=111), 4),
    (_conv((2, 5, 64), 6, seed=112, per_tensor=True), 1),
    (_conv((4, 4, 32), 4, seed=113, batch=2), 2),
    (_conv((5, 4, 32), 4, kernel=(3, 3), padding="same", seed=114), 1),
    (_conv((3, 4, 96), 10, seed=115, wscale=1.0), 3),
    (_conv((2, 3, 128), 4, seed=116), 2),
    # ic01's first layer in small: 27 positions zero-padded to one quad.
    (_conv((5, 5, 3), 8, kernel=(3, 3), padding="same", seed=117), 4),
    # Many blocks over few pixels (a long widening copy, one or two triples).
    (_conv((1, 3, 32), 64, seed=118), 32),
    (_conv((2, 2, 64), 40, seed=119, wscale=1.0), 20),
]


@pytest.mark.parametrize("spec,part", WIDE_PARTS, ids=lambda v: (
    f"{v['shape']}-k{v['kernel']}-f{v['filters']}-b{v['batch']}" if isinstance(v, dict)
    else f"part{v}"))
def test_widening_triples_kernel_on_cortex_m4_matches_tflm(model_cache, tmp_path, spec, part,
                                                           monkeypatch):
    from tinygen.plan import ops, variants

    def widen_all(calls, arena_of):
        for c in calls:
            if c.dsp_kernel == "tg_conv2d_triples_s8_dsp":
                ops.copy_stream(c, part)
                assert ops.triples16_eligible(c.params), spec
                ops.widen_stream(c, part)

    monkeypatch.setattr(variants, "fit_dsp_scratch", lambda calls, arena_of: None)
    monkeypatch.setattr(variants, "fit_stream_copies", widen_all)
    monkeypatch.setattr(variants, "widen_stream_copies", lambda calls, arena_of: None)
    for eligible in ("conv_rgb_eligible", "conv_rgb1_eligible", "conv_3x3pair_eligible",
                     "conv_pw8_eligible", "conv_pw16_eligible"):
        monkeypatch.setattr(ops, eligible, lambda params: False)
    tflite = model_cache.single_op(spec)
    plan = plan_model(load_model(tflite), layout="dsp")
    assert plan.calls[0].function == "tg_conv2d_triples16_ram_s8_dsp"
    if plan.calls[0].stream_parts > 1:
        assert not plan.memory.overlaps, "parts re-read the input: no overlap"
    src = write_sources(plan, tmp_path)
    inputs, expected = oracle_cases(tflite, spec["seed"])
    got = run_bare_metal(src, inputs, tmp_path, flags=ARM_FLAGS, machine="mps2-an386",
                         linker_script="qemu_model.ld", variant="dsp")
    assert_bit_exact(got, expected, f"{spec} part {part}")
