"""tg_depthwise3x3s{1,2}[w5]_halves_s8_dsp (firmware/kernels/dsp/depthwise_conv2d_s8.c)
on the Cortex-M4, bit-exact with TFLM: the 3x3 depthwise ring in the scratch
of the kernels that read their stream in place, copying the stream into RAM
so that flash is read about once per layer (tinygen/plan/ops.py
dw3x3_halves_eligible). Planned without keeping the input alive, the output
lies over the input where the planner's in-place rule lets it: where the
input's bytes above the output's end can hold the stream (stride 2, the
output a quarter of the input), the stream moves there once their rows are
in the ring; elsewhere, the output whole pixels below the input, the ring
takes half the channels at a time with each half's stream beside it; else
one group reads in place. The cases: each pass these reach (5-pixel rows at
stride 1 and 2, the tail blocks, 4k and 8k pixels with input rows of 8 or
more, whose fill takes 4 pixels a step), SAME and VALID, 8 to 64 channels.
"""

from __future__ import annotations

import pytest

from kernel_oracle import assert_bit_exact, oracle_cases, run_bare_metal
from test_kernels_emulated import ARM_FLAGS, INTERIOR_DW
from tinygen.codegen import write_sources
from tinygen.ir import load_model
from tinygen.plan import plan_model
from tinygen.plan.ops import dw3x3_dsp_scratch

HALVES = [
    dict(INTERIOR_DW, shape=(6, 5, 16), seed=71),                               # s1w5
    dict(INTERIOR_DW, shape=(7, 7, 8), padding="valid", seed=72),               # s1w5, VALID
    dict(INTERIOR_DW, shape=(9, 10, 8), stride=2, seed=73),                     # s2w5
    dict(INTERIOR_DW, shape=(5, 7, 8), seed=74, lo=-3.0, hi=0.5),               # s1, tail 3
    dict(INTERIOR_DW, shape=(4, 12, 24), seed=75),                              # s1x4, quads
    dict(INTERIOR_DW, shape=(7, 16, 16), stride=2, seed=76),                    # s2x8, quads
    dict(INTERIOR_DW, shape=(25, 5, 64), seed=77),                              # kws01's shape
]


def _plan_halves(model_cache, spec, monkeypatch):
    """spec's one-layer model planned for the DSP kernels without the input
    kept alive and without the whole stream's copy (in a one-layer model it
    would fit): the kernel that copies within the ring's scratch."""
    from tinygen.plan import variants

    monkeypatch.setattr(variants, "take_dsp_upgrades", lambda calls, arena_of: None)
    tflite = model_cache.single_op(spec)
    return tflite, plan_model(load_model(tflite), layout="dsp", keep_inputs_alive=False)


def _assert_bit_exact_on_m4(tflite, plan, spec, tmp_path):
    """plan's generated C run bare-metal on QEMU's Cortex-M4 against TFLM."""
    src = write_sources(plan, tmp_path)
    inputs, expected = oracle_cases(tflite, spec["seed"])
    got = run_bare_metal(src, inputs, tmp_path, flags=ARM_FLAGS, machine="mps2-an386",
                         linker_script="qemu_model.ld", variant="dsp")
    assert_bit_exact(got, expected, f"{spec}")


@pytest.mark.parametrize("spec", HALVES, ids=lambda s: f"{s['shape']}-s{s['stride']}-{s['padding']}")
def test_depthwise_stream_copied_once_per_layer_matches_tflm(model_cache, tmp_path, spec,
                                                        monkeypatch):
    tflite, plan = _plan_halves(model_cache, spec, monkeypatch)
    call = plan.calls[0]
    assert call.function.startswith("tg_depthwise3x3s") and "_halves_" in call.function
    assert call.scratch_bytes == dw3x3_dsp_scratch(call.params)
    # Which copy the kernel makes (tg_dw3x3_ring's test, in bytes).
    p, mem = call.params, plan.memory
    inp, out = mem.tensor_offsets[call.inputs[0]], mem.tensor_offsets[call.output]
    spare = -(-(out + p["out_h"] * p["out_w"] * p["out_c"]) // 4) * 4
    moves = inp < spare and spare + 40 * p["in_c"] <= inp + p["in_h"] * p["in_w"] * p["in_c"]
    assert (inp - out) % p["in_c"] == 0 and moves == (p["stride_w"] == 2)
    _assert_bit_exact_on_m4(tflite, plan, spec, tmp_path)


@pytest.mark.parametrize("spec", [HALVES[0], HALVES[5]], ids=lambda s: f"{s['shape']}")
def test_output_not_whole_pixels_below_the_input_reads_the_stream_in_place(
        model_cache, tmp_path, spec, monkeypatch):
    # The input moved 8 bytes up (half a pixel of 16 channels): still far
    # enough above the output for the ring, but the first half's outputs
    # would land on bytes of the second half's channels, so the kernel runs
    # one group reading its stream from flash.
    tflite, plan = _plan_halves(model_cache, spec, monkeypatch)
    call = plan.calls[0]
    mem = plan.memory
    inp = mem.tensor_offsets[call.inputs[0]]
    assert mem.tensor_offsets[call.output] < inp
    for t, off in mem.tensor_offsets.items():
        if t != call.output and off >= inp:
            mem.tensor_offsets[t] = off + 8
    mem.scratch_offsets = {k: v + 8 if v >= inp else v for k, v in mem.scratch_offsets.items()}
    mem.arena_bytes += 16
    assert (mem.tensor_offsets[call.inputs[0]] - mem.tensor_offsets[call.output]) % 16 == 8
    _assert_bit_exact_on_m4(tflite, plan, spec, tmp_path)


@pytest.mark.parametrize("spec", [HALVES[0], HALVES[6]], ids=lambda s: f"{s['shape']}")
def test_halves_with_the_output_over_the_input_by_the_rings_rule_match_tflm(
        model_cache, tmp_path, spec, monkeypatch):
    # The ring's own in-place rule (plan/memory.py _ring_gap, as kws01's
    # layers take it between compact pointwise copies): the output at the
    # input's offset; each half writes its own channels of pixels it has read.
    from tinygen.plan import variants

    def ring_in_place(calls, arena_of):
        for c in calls:
            c.ring_in_place = True

    monkeypatch.setattr(variants, "fit_compact_copies", ring_in_place)
    tflite, plan = _plan_halves(model_cache, spec, monkeypatch)
    call = plan.calls[0]
    assert "_halves_" in call.function
    assert plan.memory.tensor_offsets[call.inputs[0]] == plan.memory.tensor_offsets[call.output]
    _assert_bit_exact_on_m4(tflite, plan, spec, tmp_path)
