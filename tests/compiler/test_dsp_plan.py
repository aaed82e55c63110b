"""How the planner hands layers to the DSP-extension kernels (tinygen/plan/ops.py).

The kernels themselves are checked against TFLM on QEMU in
test_kernels_emulated.py; here: their streams hold what the kernels read,
and their scratch grows the arena over the portable kernels' plan only by
the 3x3 depthwise rings.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tinygen.ir import load_model
from tinygen.plan import plan_model
from tinygen.plan.memory import plan_memory
from tinygen.plan.ops import (DW3X3_SHIFT, DW3X3_STREAM_WORDS, PW8_CHANNEL_WORDS,
                              PW16_CHANNEL_WORDS, PW_SHIFT, RGB_BLOCK_WORDS, RGB_SHIFT,
                              dw3x3_dsp_cols, dw3x3_dsp_scratch, dw3x3_dsp_stream,
                              dw3x3_ram_scratch, dw3x3_shifted, pw8_stream, pw16_stream,
                              rgb_stream, rows_dsp_stream, copy_stream,
                              fit_dsp_scratch)
from tinygen.plan.prepare import prepare

MODELS = Path(__file__).resolve().parents[2] / "models"


@pytest.mark.parametrize("name", ["kws01", "vww01"])
def test_dsp_scratch_grows_the_arena_only_by_the_depthwise_rings(name):
    m = load_model(MODELS / f"{name}.tflite")
    bound = prepare(m)
    for c in bound:
        if not (c.dsp_kernel or "").startswith("tg_depthwise3x3"):
            c.scratch_bytes = c.portable_scratch or c.scratch_bytes
    fitted = plan_model(m, layout="dsp")
    assert fitted.memory.arena_bytes <= plan_memory(m, bound, True).arena_bytes
    assert any(c.function in ("tg_conv2d_triples_s8_dsp", "tg_conv2d_triples_ram_s8_dsp")
               for c in fitted.calls)


def test_vww01_convolutions_copy_their_streams_where_the_arena_has_room():
    # Issue 22: vww01's three-pixel convolutions read their weights from
    # flash once, at the arena of today's plan; the last two too (3x3 maps,
    # 3 pixel triples each: 213 KB fewer bytes read per inference), the
    # 256->256 one in two parts of 34 KB.
    m = load_model(MODELS / "vww01.tflite")
    plan = plan_model(m, layout="dsp")
    convs = [c for c in plan.calls if c.kind == "CONV_2D"]
    # The first three take kernels of their own, which copy their streams too
    # (dsp/conv2d_rgb_s8.c, conv2d_narrow_s8.c).
    assert [c.function for c in convs[:3]] == ["tg_conv2d_rgb3x3s2_s8_dsp",
                                               "tg_conv2d_pw8_s8_dsp", "tg_conv2d_pw16_s8_dsp"]
    convs = convs[3:]
    # Those with room for their weights widened to int16 pairs copy them so
    # (tg_conv2d_triples16_ram_s8_dsp): all but the last, at today's arena
    # (the 128->256 one on the 3x3 map in two parts).
    assert [c.function for c in convs] == (["tg_conv2d_triples16_ram_s8_dsp"] * (len(convs) - 1)
                                           + ["tg_conv2d_triples_ram_s8_dsp"])
    parts = [int(c.arrays["stream"][0]) for c in convs]
    assert all(parts) and [c.stream_parts for c in convs[-2:]] == [2, 2]
    for c, part in zip(convs, parts):
        blocks = c.params["out_c"] // 2
        assert c.stream_parts == (-(-blocks // part) if part else 1)
        block_words = (len(c.arrays["stream"]) - 1) // blocks
        if c.function == "tg_conv2d_triples16_ram_s8_dsp":
            block_words = 2 * block_words - 8           # the weights twice as large
        assert c.scratch_bytes >= 4 * part * block_words
    bound = prepare(m)
    for c in bound:
        if not (c.dsp_kernel or "").startswith("tg_depthwise3x3"):
            c.scratch_bytes = c.portable_scratch or c.scratch_bytes
    assert plan.memory.arena_bytes <= plan_memory(m, bound, True).arena_bytes


def test_kws01_first_layer_copies_its_stream_without_the_copying_kernel():
    # Its first layer's 3.5 KB stream fits the arena beside the 8,000-byte
    # output; reading it once saves 147 KB of flash reads per inference, too
    # little for the copying kernel's ~1.25 KB of code (MIN_COPY_SAVED_BYTES):
    # the in-place kernel's wrapper copies it, the other layers read in place.
    from tinygen.plan.ops import MIN_COPY_SAVED_BYTES
    m = load_model(MODELS / "kws01.tflite")
    plan = plan_model(m, layout="dsp")
    first = plan.calls[0]
    assert first.function == "tg_conv2d_triples_copy_s8_dsp"
    assert first.scratch_bytes >= 4 * len(first.arrays["stream"])
    assert not any(c.function == "tg_conv2d_triples_ram_s8_dsp" for c in plan.calls)
    triples = -(-first.params["out_h"] * first.params["out_w"] // 3)
    assert 4 * (triples - 1) * len(first.arrays["stream"]) < MIN_COPY_SAVED_BYTES
    calls = prepare(m)

    def arena_of(cs):
        return plan_memory(m, cs, True).arena_bytes

    fit_dsp_scratch(calls, arena_of)
    arena = arena_of(calls)
    copy_stream(calls[0], first.params["out_c"] // 2)
    assert arena_of(calls) <= arena == plan.memory.arena_bytes


def test_kws01_pointwise_layers_keep_their_order_without_room_for_a_copy():
    # Each 1x1 layer works in place over an 8,000-byte tensor: its 5 KB stream
    # would grow the arena, and in parts the output could not overlap the input.
    plan = plan_model(load_model(MODELS / "kws01.tflite"), layout="dsp")
    pointwise = [c for c in plan.calls if c.kind == "CONV_2D" and c.params["k_h"] == 1]
    assert len(pointwise) == 4
    assert {c.function for c in pointwise} == {"tg_conv2d_triples_s8_dsp"}


@pytest.mark.parametrize("name", ["kws01", "vww01"])
def test_every_3x3_depthwise_layer_keeps_its_dsp_kernel_and_ring(name):
    plan = plan_model(load_model(MODELS / f"{name}.tflite"), layout="dsp")
    dw = [c for c in plan.calls if c.kind == "DEPTHWISE_CONV_2D"]
    assert dw
    for c in dw:
        stride = c.params["stride_w"]
        assert c.function in (f"tg_depthwise3x3s{stride}_s8_dsp",
                              f"tg_depthwise3x3s{stride}_ram_s8_dsp",
                              f"tg_depthwise3x3s{stride}w5_s8_dsp",
                              f"tg_depthwise3x3s{stride}w5_ram_s8_dsp",
                              "tg_depthwise3x3s1w6_ram_s8_dsp",
                              f"tg_depthwise3x3s{stride}w3_ram_s8_dsp")
        assert c.source == "dsp/depthwise_conv2d_s8.c"
        assert c.scratch_bytes >= (dw3x3_ram_scratch(c.params) if "_ram_" in c.function
                                   else dw3x3_dsp_scratch(c.params))


@pytest.mark.parametrize("name", ["kws01", "vww01"])
def test_depthwise_stream_copies_to_ram_leave_the_arena_as_it_was(name, monkeypatch):
    m = load_model(MODELS / f"{name}.tflite")
    with_copies = plan_model(m, layout="dsp")
    from tinygen.plan import variants
    monkeypatch.setattr(variants, "take_dsp_upgrades", lambda calls, arena_of: None)
    without = plan_model(m, layout="dsp")
    assert with_copies.memory.arena_bytes <= without.memory.arena_bytes
    copies = [c.function for c in with_copies.calls if "_ram_" in (c.function or "")]
    # vww01's late layers have room for their streams; kws01's arena has none.
    assert bool(copies) == (name == "vww01")


def test_rgb_stream_scales_each_channel_to_the_fixed_shift_exactly():
    rng = np.random.default_rng(7)
    oc = 8
    weights = rng.integers(-128, 128, size=(oc, 27)).astype(np.int8)
    e = np.array([8, 8, 9, 9, 8, 9, 9, 10])                          # vww01's first layer's
    quant = np.stack([rng.integers(-2**14, 2**14, size=oc), rng.integers(2**30, 2**31 - 1, size=oc),
                      e, -(127 << (e - 1))], axis=1).astype(np.int32)
    stream = rgb_stream(weights, quant).reshape(2, RGB_BLOCK_WORDS)
    s = RGB_SHIFT - e[4:]
    assert stream[1, :4].tolist() == ((2 * quant[4:, 0].astype(np.int64)) << s).tolist()
    halves = stream[1, 4:64].view(np.int16).reshape(3, 5, 4, 2)   # row, word, channel, half
    w = weights[4:].astype(np.int64).reshape(4, 3, 9) * 2
    assert halves[2, 1, 3].tolist() == [w[3, 2, 2] << s[3], w[3, 2, 3] << s[3]]
    assert halves[0, 4, 0].tolist() == [w[0, 0, 8] << s[0], 0]       # tap 9 is zero
    records = stream[1, 64:].reshape(4, 2).astype(np.int64)
    assert records[:, 0].tolist() == quant[4:, 1].tolist()
    # SMMLA then ASR #RGB_SHIFT against SMMLAR then ASR by e, over accumulators.
    for k in range(4):
        c = 4 + k
        mult, rz = int(quant[c, 1]), int(quant[c, 3])
        for acc in rng.integers(-2**21, 2**21, size=200).tolist() + [0, 1, -1]:
            want = (2 * acc * mult + (1 << 31) + (rz << 32)) >> (32 + int(e[c]))
            got = ((acc << (int(s[k]) + 1)) * mult + (int(records[k, 1]) << 32)) >> 32 >> RGB_SHIFT
            assert got == want
    # A shift the fixed one cannot take: no stream (the planner keeps the triples kernel).
    quant[0, 2] = RGB_SHIFT
    assert rgb_stream(weights, quant) is None


def _pw_quant(rng, oc: int, e: list[int]) -> np.ndarray:
    e = np.array(e)
    return np.stack([rng.integers(-2**14, 2**14, size=oc), rng.integers(2**30, 2**31 - 1, size=oc),
                     e, (1 << (e - 1)) - (128 << e)], axis=1).astype(np.int32)


def _pw_requantizes_exactly(quant, s, mult_rz, rng) -> None:
    # SMMLA then ASR #PW_SHIFT against SMMLAR then ASR by e, over accumulators.
    for c in range(len(s)):
        mult, rz, e = int(quant[c, 1]), int(quant[c, 3]), int(quant[c, 2])
        assert int(mult_rz[c, 0]) == mult
        for acc in rng.integers(-2**21, 2**21, size=200).tolist() + [0, 1, -1]:
            want = (2 * acc * mult + (1 << 31) + (rz << 32)) >> (32 + e)
            got = ((acc << (int(s[c]) + 1)) * mult + (int(mult_rz[c, 1]) << 32)) >> 32 >> PW_SHIFT
            assert got == want


def test_pw8_stream_is_bias_sxtb16_ordered_pairs_then_mult_rz_scaled_to_the_fixed_shift():
    rng = np.random.default_rng(6)
    weights = rng.integers(-128, 128, size=(4, 8)).astype(np.int8)
    quant = _pw_quant(rng, 4, [6, 9, 8, 7])                         # vww01's 8 -> 16 layer's range
    stream = pw8_stream(weights, quant).reshape(4, PW8_CHANNEL_WORDS)
    s = PW_SHIFT - quant[:, 2].astype(np.int64)
    assert stream[:, 0].tolist() == ((2 * quant[:, 0].astype(np.int64)) << s).tolist()
    halves = stream[:, 1:5].view(np.int16).reshape(4, 8).astype(np.int64)
    w = weights.astype(np.int64) * 2
    assert halves.tolist() == (w[:, [0, 2, 1, 3, 4, 6, 5, 7]] << s[:, None]).tolist()
    _pw_requantizes_exactly(quant, s, stream[:, 5:], rng)
    # A shift the fixed one cannot take: no stream (the planner keeps the triples kernel).
    quant[0, 2] = PW_SHIFT
    assert pw8_stream(weights, quant) is None


def test_depthwise_ring_columns_cover_the_padded_window_rounded_to_words():
    p = dict(out_w=5, stride_w=1, in_c=8)
    assert dw3x3_dsp_cols(p) == 8           # 7 padded columns, even
    assert dw3x3_dsp_cols(dict(p, out_w=24, stride_w=2)) == 50
    assert dw3x3_dsp_scratch(p) == 3 * 8 * 8 * 2


def test_depthwise_stream_is_quant_record_then_weight_pairs_per_channel():
    rng = np.random.default_rng(3)
    oc = 8
    weights = rng.integers(-256, 255, size=(9, oc)).astype(np.int16)
    quant = rng.integers(-2**31, 2**31, size=(oc, 4)).astype(np.int64).astype(np.int32)
    stream = dw3x3_dsp_stream(weights, quant).reshape(oc, DW3X3_STREAM_WORDS)
    assert stream[:, :4].tolist() == quant.tolist()
    halves = stream[:, 4:].view(np.int16).reshape(oc, 3, 4)    # little-endian halfwords
    w = weights.reshape(3, 3, oc).transpose(2, 0, 1)
    assert halves[:, :, 0].tolist() == w[:, :, 0].tolist()    # k01 = (w0, w1)
    assert halves[:, :, 1].tolist() == w[:, :, 1].tolist()
    assert halves[:, :, 2].tolist() == w[:, :, 1].tolist()    # k12 = (w1, w2)
    assert halves[:, :, 3].tolist() == w[:, :, 2].tolist()


def test_depthwise_shift_folding_requantizes_as_the_fast_path_bit_for_bit():
    # SMMLA + SSAT ..., ASR #DW3X3_SHIFT on the rescaled weights, bias and rz
    # against SMMLAR + ASR #e on the originals, over random windows.
    rng = np.random.default_rng(7)
    oc = 16
    weights = (rng.integers(-127, 128, size=(9, oc)) * 2).astype(np.int16)
    es = np.arange(oc) % 7 + DW3X3_SHIFT - 7
    quant = np.zeros((oc, 4), dtype=np.int64)
    quant[:, 0] = rng.integers(-20000, 20000, size=oc) * 2
    quant[:, 1] = rng.integers(1 << 30, (1 << 31) - 1, size=oc)
    quant[:, 2] = es
    quant[:, 3] = (1 << (es - 1)) - 128 * (1 << es)
    shifted = dw3x3_shifted(weights, quant.astype(np.int32))
    assert shifted is not None
    w2, q2 = (a.astype(np.int64) for a in shifted)
    x = rng.integers(-128, 128, size=(500, 9))
    for ch in range(oc):
        acc = quant[ch, 0] + x @ weights[:, ch].astype(np.int64)
        want = (acc * quant[ch, 1] + (1 << 31) + (quant[ch, 3] << 32)) >> (32 + es[ch])
        acc2 = q2[ch, 0] + x @ w2[:, ch]
        got = ((acc2 * q2[ch, 1] + (q2[ch, 3] << 32)) >> 32) >> DW3X3_SHIFT
        assert got.tolist() == want.tolist()
    # A shift of DW3X3_SHIFT or more leaves no room; one that would push the
    # weights out of int16 neither.
    assert dw3x3_shifted(weights, np.where(np.arange(4) == 2, DW3X3_SHIFT, quant)
                         .astype(np.int32)) is None
    assert dw3x3_shifted(weights, np.where(np.arange(4) == 2, DW3X3_SHIFT - 8, quant)
                         .astype(np.int32)) is None


def test_depthwise_fixed_shift_is_the_kernels():
    text = (Path(__file__).resolve().parents[2] / "firmware/kernels/dsp/depthwise_conv2d_s8.c"
            ).read_text()
    assert f'#define TG_DWR_SHIFT "{DW3X3_SHIFT}"' in text


def test_rows_stream_is_biases_weights_records_per_block():
    chunks = 2
    blocked = np.arange(2 * chunks * 16, dtype=np.int64).astype(np.int8)
    quant = np.arange(8 * 4, dtype=np.int32).reshape(8, 4)
    stream = rows_dsp_stream(blocked, quant, chunks).reshape(2, -1)
    assert stream[1, :4].tolist() == quant[4:, 0].tolist()
    assert stream[1, 4:4 + 2 * chunks * 2].view(np.int8).tolist() == blocked[32:].tolist()
    assert stream[1, -12:].tolist() == quant[4:, 1:].reshape(-1).tolist()


def test_triples_stream_packs_channel_pairs_per_two_depth_positions():
    from tinygen.plan.ops import triples_stream
    rng = np.random.default_rng(5)
    oc, k = 4, 11                                 # 2 octs, the second zero-padded
    weights = rng.integers(-128, 128, size=(oc, k)).astype(np.int8)
    quant = rng.integers(-2**31, 2**31, size=(oc, 4)).astype(np.int64).astype(np.int32)
    stream = triples_stream(weights, quant).reshape(oc // 2, -1)
    assert stream.shape[1] == 2 + 4 * 2 + 6
    padded = np.zeros((oc, 16), dtype=np.int8)
    padded[:, :k] = weights
    for b in range(oc // 2):
        c0, c1 = padded[2 * b], padded[2 * b + 1]
        assert stream[b, :2].tolist() == quant[2 * b:2 * b + 2, 0].tolist()
        assert stream[b, -6:].tolist() == quant[2 * b:2 * b + 2, 1:].reshape(-1).tolist()
        words = stream[b, 2:-6].view(np.int8).reshape(-1, 4)
        for i, word in enumerate(words):               # word i: oct i // 4, chunk, half
            d = 8 * (i // 4) + 4 * ((i // 2) % 2) + i % 2
            assert word.tolist() == [c0[d], c1[d], c0[d + 2], c1[d + 2]]


def test_ic01_convs_take_their_dsp_kernels_without_growing_the_arena():
    # Layer 0 the stride-1 first-layer kernel, the 3x3 layers the pixel-pair
    # kernel (in the portable kernel's scratch: layers 1 and 2 are where the
    # arena peaks), the 1x1 stride-2 ones the three-pixel kernel, their
    # streams copied whole by its wrapper (together they save 152 KB of
    # flash reads, under ops.py MIN_COPY_SAVED_BYTES for the copying kernel).
    plan = plan_model(load_model(MODELS / "ic01.tflite"), layout="dsp")
    kernels = [c.function for c in plan.calls if c.kind == "CONV_2D"]
    assert kernels == (["tg_conv2d_rgb3x3s1_s8_dsp"] + ["tg_conv2d_3x3pair_s8_dsp"] * 4
                       + ["tg_conv2d_triples_copy_s8_dsp"] + ["tg_conv2d_3x3pair_s8_dsp"] * 2
                       + ["tg_conv2d_triples_copy_s8_dsp"])
    bound = prepare(load_model(MODELS / "ic01.tflite"))
    for c in bound:
        if not (c.dsp_kernel or "").startswith("tg_depthwise3x3"):
            c.scratch_bytes = c.portable_scratch or c.scratch_bytes
    assert plan.memory.arena_bytes <= plan_memory(load_model(MODELS / "ic01.tflite"), bound,
                                                  True).arena_bytes


def test_pw16_stream_is_bias_sxtb16_ordered_pairs_then_mult_rz_scaled_to_the_fixed_shift():
    rng = np.random.default_rng(7)
    weights = rng.integers(-128, 128, size=(4, 16)).astype(np.int8)
    quant = _pw_quant(rng, 4, [6, 8, 7, 6])                         # vww01's 16 -> 32 layer's range
    stream = pw16_stream(weights, quant).reshape(4, PW16_CHANNEL_WORDS)
    s = PW_SHIFT - quant[:, 2].astype(np.int64)
    assert stream[:, 0].tolist() == ((2 * quant[:, 0].astype(np.int64)) << s).tolist()
    # The kernel's two partial sums sit between the two halves' weights.
    assert stream[:, 5:7].tolist() == [[0, 0]] * 4
    halves = np.concatenate([stream[:, 1:5], stream[:, 7:11]], axis=1).view(np.int16)
    w = weights.astype(np.int64) * 2
    order = [0, 2, 1, 3, 4, 6, 5, 7, 8, 10, 9, 11, 12, 14, 13, 15]
    assert halves.reshape(4, 16).astype(np.int64).tolist() == (w[:, order] << s[:, None]).tolist()
    _pw_requantizes_exactly(quant, s, stream[:, 11:], rng)
    quant[3, 2] = PW_SHIFT - 8                                      # 2 * 127 << 8 leaves int16
    assert pw16_stream(weights, quant) is None


def test_only_models_with_a_large_fully_connected_layer_take_the_dsp_kernel():
    # kws01's one 64->12 classifier keeps the portable kernel (the DSP pass's
    # code would not pay); ad01's 640-wide layers link the pass, so all its
    # layers take it, the 1,024-MAC bottleneck ones too.
    from tinygen.plan.variants import FC_DSP_MIN_MACS
    for name, dsp in (("kws01", False), ("ad01", True)):
        plan = plan_model(load_model(MODELS / f"{name}.tflite"), layout="dsp")
        fc = [c for c in plan.calls if c.kind == "FULLY_CONNECTED"]
        assert {c.function == "tg_fully_connected_s8_dsp" for c in fc} == {dsp}
        assert any(c.macs < FC_DSP_MIN_MACS for c in fc)
