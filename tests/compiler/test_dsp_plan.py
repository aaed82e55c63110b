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


@pytest.mark.parametrize("name", ["vww01"])
def test_dsp_scratch_grows_the_arena_only_by_the_depthwise_rings(name):
    # (kws01's compact stream copies grow it: test_kws01_convolutions_...)
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


def test_kws01_convolutions_copy_compact_streams_and_link_one_pass(monkeypatch):
    # Issue 22: kws01's pointwise layers work in place over an 8,000-byte
    # tensor with no room for their 5 KB streams and widened inputs; their
    # compact streams (4,544 B) and int8 inputs fit where the depthwise
    # layers run in place by their ring's rule, growing the arena by less
    # than 1/COMPACT_GROWTH_READS of the flash reads they save. The first
    # layer then takes the same kernel, so kws01 links one three-pixel pass.
    from tinygen.plan import variants
    from tinygen.plan.ops import COMPACT_GROWTH_READS, TRIPLES8_RAM
    m = load_model(MODELS / "kws01.tflite")
    plan = plan_model(m, layout="dsp")
    convs = [c for c in plan.calls if c.kind == "CONV_2D"]
    assert len(convs) == 5 and {c.function for c in convs} == {TRIPLES8_RAM}
    assert all(c.scratch_bytes >= 4 * len(c.arrays["stream"]) for c in convs)
    assert [4 * len(c.arrays["stream"]) for c in convs[1:]] == [4096 + 448] * 4
    assert all(c.ring_in_place for c in plan.calls if c.kind == "DEPTHWISE_CONV_2D")
    monkeypatch.setattr(variants, "fit_compact_copies", lambda calls, arena_of: None)
    before = plan_model(m, layout="dsp")
    assert [c.function for c in before.calls if c.kind == "CONV_2D"] == (
        ["tg_conv2d_triples_copy_s8_dsp"] + ["tg_conv2d_triples_s8_dsp"] * 4)
    saved = sum(4 * 41 * len(c.arrays["stream"]) for c in before.calls[2::2][:4])
    growth = plan.memory.arena_bytes - before.memory.arena_bytes
    assert 0 < growth * COMPACT_GROWTH_READS <= saved


@pytest.mark.parametrize("name", ["vww01", "ic01"])
def test_models_that_copy_their_streams_keep_their_kernels_and_depthwise_rule(name):
    plan = plan_model(load_model(MODELS / f"{name}.tflite"), layout="dsp")
    assert not any(c.ring_in_place for c in plan.calls)
    assert not any(c.function == "tg_conv2d_triples8_ram_s8_dsp" for c in plan.calls)


def test_ring_gap_is_the_rows_the_ring_has_read():
    from tinygen.plan.memory import _ring_gap
    kws = dict(batches=1, in_h=25, in_w=5, in_c=64, out_h=25, out_w=5, out_c=64,
               stride_h=1, pad_h=1)
    # Output row oy is written once input rows up to oy + 1 are in the ring:
    # it may sit a row (320 bytes) above its input row.
    assert _ring_gap(kws) == -320
    # 8x8x4 VALID at stride 2: row oy written with rows up to 2 oy + 2 read.
    s2 = dict(batches=1, in_h=8, in_w=8, in_c=4, out_h=3, out_w=3, out_c=4,
              stride_h=2, pad_h=0)
    assert _ring_gap(s2) == 12 - 3 * 32
    # Two images: the first image's last rows must not reach the second's.
    two = dict(s2, batches=2)
    assert _ring_gap(two) == max(12 - 96, 36 - 256)


def test_compact_stream_is_weight_words_then_packed_records():
    from tinygen.plan.ops import triples8_ram_eligible, triples8_ram_stream, triples_stream
    rng = np.random.default_rng(7)
    oc, k = 4, 11
    weights = rng.integers(-128, 128, size=(oc, k)).astype(np.int8)
    quant = np.array([[-5000, 1 << 30, 7, 0], [131071, 2**31 - 1, 1, 0],
                      [-131072, 1234567890, 23, 0], [0, 1 << 30, 9, 0]], dtype=np.int32)
    full = triples_stream(weights, quant)
    compact = triples8_ram_stream(full, oc)
    blocks = full.reshape(oc // 2, -1)
    words = blocks[:, 2:-6].reshape(-1)
    assert compact[:len(words)].tolist() == words.tolist()
    records = compact[len(words):].view(np.uint8)
    assert len(records) == 32 and not records[28:].any()      # 2 x 14 bytes, padded to 16
    for b in range(oc // 2):
        r = records[14 * b:14 * b + 14]
        for i in range(2):
            bias, mult, e = quant[2 * b + i, :3]
            packed = int.from_bytes(bytes(r[3 * i:3 * i + 3]), "little")
            assert packed & 31 == e
            assert ((packed >> 5) ^ (1 << 18)) - (1 << 18) == bias      # 19 signed bits
            assert int.from_bytes(bytes(r[6 + 4 * i:10 + 4 * i]), "little") == mult
    params = dict(fast=1, out_c=oc, act_min=-128, output_zero_point=-128)
    assert triples8_ram_eligible(params, full)
    assert not triples8_ram_eligible(dict(params, output_zero_point=-100), full)
    big = quant.copy()
    big[0, 0] = 1 << 18
    assert not triples8_ram_eligible(params, triples_stream(weights, big))


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
                              f"tg_depthwise3x3s{stride}_halves_s8_dsp",
                              f"tg_depthwise3x3s{stride}w5_halves_s8_dsp",
                              "tg_depthwise3x3s1w6_ram_s8_dsp",
                              f"tg_depthwise3x3s{stride}w3_ram_s8_dsp")
        assert c.source == "dsp/depthwise_conv2d_s8.c"
        assert c.scratch_bytes >= (dw3x3_ram_scratch(c.params) if "_ram_" in c.function
                                   else dw3x3_dsp_scratch(c.params))


@pytest.mark.parametrize("name", ["kws01", "vww01"])
def test_depthwise_layers_without_room_for_a_copy_copy_their_streams_in_halves(name):
    # kws01's four layers (in two halves of the channels, in the ring's
    # scratch) and vww01's stride-2 layer on its 48x48 map (moved into the
    # input's spent bytes above its output) read their streams from flash
    # about once per layer; the output lies whole pixels below the input, so
    # the halves may run.
    plan = plan_model(load_model(MODELS / f"{name}.tflite"), layout="dsp")
    halves = [c for c in plan.calls if "_halves_" in (c.function or "")]
    assert len(halves) == {"kws01": 4, "vww01": 1}[name]
    offsets = plan.memory.tensor_offsets
    for c in halves:
        assert c.scratch_bytes == dw3x3_dsp_scratch(c.params)
        assert (offsets[c.inputs[0]] - offsets[c.output]) % c.params["in_c"] == 0
    assert not [c for c in plan.calls if c.kind == "DEPTHWISE_CONV_2D"
                and c.function.startswith("tg_depthwise3x3") and "_ram_" not in c.function
                and "_halves_" not in c.function]


@pytest.mark.parametrize("name", ["kws01", "vww01"])
def test_depthwise_stream_copies_to_ram_leave_the_arena_as_it_was(name, monkeypatch):
    m = load_model(MODELS / f"{name}.tflite")
    with_copies = plan_model(m, layout="dsp")
    from tinygen.plan import variants
    monkeypatch.setattr(variants, "take_dsp_upgrades", lambda calls, arena_of: None)
    without = plan_model(m, layout="dsp")
    assert with_copies.memory.arena_bytes <= without.memory.arena_bytes
    copies = [c.function for c in with_copies.calls
              if c.kind == "DEPTHWISE_CONV_2D" and "_ram_" in (c.function or "")]
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


def test_the_ring_rule_names_only_kernels_that_run_the_ring():
    # plan/memory.py _ring_gap holds for tg_dw3x3_ring's order only: every
    # kernel in DW3X3_RING_KERNELS is one whose body calls it.
    from tinygen.plan.ops import DW3X3_RING_KERNELS
    from tinygen.plan.variants import DSP_KERNEL_SOURCES
    kernels = Path(__file__).resolve().parents[2] / "firmware" / "kernels"
    for name in DW3X3_RING_KERNELS:
        text = (kernels / DSP_KERNEL_SOURCES[name]).read_text()
        body = text[text.index(f"void {name}("):]
        assert "tg_dw3x3_ring(" in body[:body.index("\n}\n")], name
