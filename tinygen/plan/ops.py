"""The "prepare" half of every operator: derive what the C kernels need.

Each supported operator becomes a KernelCall: the kernel function, its
parameter struct values, its constant arrays (weights, folded biases,
per-channel multipliers and shifts, tables) and the scratch bytes it
needs. All quantization arithmetic mirrors TFLM's Prepare functions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from tinygen.errors import TinygenError
from tinygen.ir import model as ir
from tinygen.plan import lut
from tinygen.plan.fixedpoint import quantize_multiplier, softmax_exp_table, wrap32

# Tap pointers are reserved 8 bytes each so one plan serves 32- and 64-bit targets.
POINTER_BYTES = 8
ADD_LEFT_SHIFT = 20

KERNEL_SOURCES = {
    "tg_conv2d_s8": "conv2d_s8.c",
    "tg_depthwise_conv2d_s8": "depthwise_conv2d_s8.c",
    "tg_fully_connected_s8": "fully_connected_s8.c",
    "tg_avg_pool2d_s8": "pool2d_s8.c",
    "tg_max_pool2d_s8": "pool2d_s8.c",
    "tg_add_s8": "add_s8.c",
    "tg_mul_s8": "mul_s8.c",
    "tg_relu_s8": "relu_s8.c",
    "tg_softmax_s8": "softmax_s8.c",
    "tg_quantize_f32_s8": "affine_quant.c",
    "tg_dequantize_s8_f32": "affine_quant.c",
    "tg_mean_hw_s8": "mean_s8.c",
    "tg_concat_s8": "copy_s8.c",
    "tg_pad_s8": "copy_s8.c",
    "tg_lut_s8": "lut_s8.c",
    "tg_sub_s8": "sub_s8.c",
    "tg_reduce_max_s8": "reduce_max_s8.c",
}
CONCAT_MAX_INPUTS = 8


@dataclass
class KernelCall:
    op_index: int
    kind: str
    kernel: str | None             # C function; None for views (RESHAPE)
    struct: str | None             # parameter struct type
    params: dict[str, object]      # struct fields in declaration order
    inputs: list[int]              # activation tensor indices
    output: int
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    scratch_bytes: int = 0
    macs: int = 0
    summary: str = ""
    # Binary elementwise ops: each operand is an arena tensor (its index) or
    # a constant in ``arrays`` (its array name).
    operands: list[int | str] = field(default_factory=list)
    # A kernel of the operator's DSP variant file offered for this layer
    # (firmware/kernels/dsp/), reading ``dsp_arrays`` instead of ``arrays``;
    # tinygen/plan/variants.py takes it on DSP cores or drops it.
    # scratch_bytes covers both until then.
    dsp_kernel: str | None = None
    dsp_arrays: dict[str, np.ndarray] = field(default_factory=dict)
    portable_scratch: int = 0      # what ``kernel`` needs (scratch_bytes covers both)
    # A slower offered DSP kernel with a smaller scratch, tried before the
    # portable one when dsp_kernel's scratch grows the arena (fit_dsp_scratch):
    # (kernel, arrays, scratch_bytes).
    dsp_fallback: tuple | None = None
    # A variant of dsp_kernel with a larger scratch that reads its stream
    # from flash once per layer (the 3x3 depthwise ring with the stream
    # copied to RAM), taken where the arena stays as it is (take_dsp_upgrades):
    # (kernel, arrays, scratch_bytes).
    dsp_upgrade: tuple | None = None
    # Parts the DSP three-pixel kernel copies its stream to scratch in
    # (tg_conv2d_triples_ram_s8_dsp, fit_stream_copies); more than one means
    # the output may not overlap the input (plan/memory.py input_gaps).
    stream_parts: int = 1
    # A 3x3 depthwise layer of the DSP ring kernels placed by the ring's own
    # in-place rule (plan/memory.py _ring_gap) rather than the portable
    # kernel's: set by fit_compact_copies where its copies need the room.
    ring_in_place: bool = False
    # Settled by tinygen/plan/variants.py for the target: the C function
    # model.c calls (``kernel`` or a variant of it), its variant and its
    # file under firmware/kernels/. ``kernel`` stays the operator's portable
    # kernel, whose access order (plan/memory.py) every variant keeps.
    function: str | None = None
    variant: str = "portable"
    source: str | None = None

    @property
    def const_bytes(self) -> int:
        return int(sum(a.nbytes for a in self.arrays.values()))


def _round_away(v: float) -> int:
    return int(math.floor(abs(v) + 0.5)) * (1 if v >= 0 else -1)


def activation_range(act: str, q: ir.Quantization) -> tuple[int, int]:
    """TFLM CalculateActivationRangeQuantized for int8."""
    scale, zp = np.float32(q.scale), q.zero_point

    def quantize(f: float) -> int:
        return zp + _round_away(float(np.float32(f) / scale))

    lo, hi = -128, 127
    if act == ir.ACT_RELU:
        lo = max(lo, quantize(0.0))
    elif act == ir.ACT_RELU6:
        lo, hi = max(lo, quantize(0.0)), min(hi, quantize(6.0))
    elif act == ir.ACT_RELU_N1_TO_1:
        lo, hi = max(lo, quantize(-1.0)), min(hi, quantize(1.0))
    return lo, hi


def _padding(padding: str, size: int, k: int, stride: int, dilation: int) -> tuple[int, int]:
    """(output size, leading padding) as TFLM computes them."""
    eff = (k - 1) * dilation + 1
    if padding == ir.PAD_SAME:
        out = (size + stride - 1) // stride
    else:
        out = (size + stride - eff) // stride
    return out, max(((out - 1) * stride + eff - size) // 2, 0)


def _multipliers(reals: list[float]) -> tuple[np.ndarray, np.ndarray]:
    pairs = [quantize_multiplier(r) for r in reals]
    # The C requantization relies on non-negative multipliers.
    assert all(p[0] >= 0 for p in pairs), reals
    return (np.array([p[0] for p in pairs], dtype=np.int32),
            np.array([p[1] for p in pairs], dtype=np.int32))


def _channel_scales(w: ir.Tensor, channels: int) -> list[float]:
    s = [float(x) for x in w.quant.scales]
    return s * channels if len(s) == 1 else s


def _folded_bias(m: ir.Model, op: ir.Operator, sums: np.ndarray, in_zp: int) -> np.ndarray:
    channels = len(sums)
    bias = np.zeros(channels, dtype=np.int64)
    if len(op.inputs) > 2 and op.inputs[2] >= 0:
        bias = m.tensors[op.inputs[2]].data.astype(np.int64).reshape(-1)
    return np.array([wrap32(int(b) - in_zp * int(s)) for b, s in zip(bias, sums)], dtype=np.int32)


def _round_up(n: int, to: int) -> int:
    return (n + to - 1) // to * to


def channel_quant(bias: np.ndarray, mult: np.ndarray, shift: np.ndarray, abs_weight_sums,
                  out_zp: int, padded: int, allow_fast: bool = True) -> tuple[np.ndarray, int]:
    """The kernels' tg_chan_quant records, [padded][4] int32, and the fast flag.

    fast = 1 when the cheaper requantization of tg_fixedpoint.h is exact for
    every possible input: the accumulator is bounded by |bias| + 128 *
    sum|w| and must stay below 2^30, every shift must be a right shift
    e >= 1, and h + 2^(e-1) + zero_point * 2^e must fit in int32.
    Padding channels (to whole blocks of 4) get zero records.
    """
    n = len(bias)
    bounds = [abs(int(b)) + 128 * int(s) for b, s in zip(bias, abs_weight_sums)]
    es = [-int(s) for s in shift]
    fast = allow_fast and n > 0 and all(1 <= e <= 23 and b < (1 << 30) and b + (1 << (e - 1)) + (128 << e) < (1 << 31)
                         for e, b in zip(es, bounds))
    q = np.zeros((padded, 4), dtype=np.int32)
    q[:n, 0] = bias
    q[:n, 1] = mult
    if fast:
        q[:n, 2] = es
        q[:n, 3] = [(1 << (e - 1)) + out_zp * (1 << e) for e in es]
    else:
        q[:n, 2] = shift
    return q, int(fast)


def blocked_rows(rows: np.ndarray) -> np.ndarray:
    """[n][len] int8 rows -> the blocked layout of firmware/kernels/tg_rows_dot.h."""
    n, length = rows.shape
    n4, len4 = _round_up(n, 4), _round_up(length, 4)
    padded = np.zeros((n4, len4), dtype=np.int8)
    padded[:n, :length] = rows
    # [block][row in block][chunk][byte] -> [block][chunk][row in block][byte]
    return padded.reshape(n4 // 4, 4, len4 // 4, 4).transpose(0, 2, 1, 3).reshape(-1)


def depthwise_taps(weights: np.ndarray, scale: int = 1) -> np.ndarray:
    """[taps][oc] int8 -> int16 [oc / 4 groups][taps][4] as (c0, c2, c1, c3), times scale.

    Channels are zero-padded to whole groups; see depthwise_conv2d_s8.c.
    """
    taps, oc = weights.shape
    c4 = _round_up(oc, 4)
    padded = np.zeros((taps, c4), dtype=np.int16)
    padded[:, :oc] = weights.astype(np.int16) * scale
    return padded.reshape(taps, c4 // 4, 4)[:, :, [0, 2, 1, 3]].transpose(1, 0, 2).reshape(-1)


# Stream words per channel of tg_depthwise3x3s{1,2}_s8_dsp: the tg_chan_quant
# record (bias, mult, e, rz), then (w0, w1) and (w1, w2) halfword pairs per
# kernel row.
DW3X3_STREAM_WORDS = 10


def dw3x3_dsp_cols(params: dict) -> int:
    """int16 columns per channel in a slot of tg_depthwise3x3s*_s8_dsp's ring:
    the padded input columns under an output row, rounded up to even (the
    kernel reads words; a last single pixel reads one column past its window)."""
    return _round_up((params["out_w"] - 1) * params["stride_w"] + 3, 2)


def dw3x3_dsp_scratch(params: dict) -> int:
    """The ring: 3 input rows, every channel, int16."""
    return 3 * params["in_c"] * dw3x3_dsp_cols(params) * 2


def dw3x3_ram_scratch(params: dict) -> int:
    """tg_depthwise3x3s*_ram_s8_dsp: the ring, then the stream copied to RAM."""
    return dw3x3_dsp_scratch(params) + 4 * DW3X3_STREAM_WORDS * params["in_c"]


def dw3x3_halves_eligible(params: dict) -> bool:
    """Layers tg_depthwise3x3s*_halves_s8_dsp take in dw3x3_dsp_scratch (the
    kernel moves the stream into the input's spent bytes above an output
    below it where they can hold it, else copies it in two halves): two
    groups of channels in whole groups of 4, each group's ring and stream copy
    in the whole ring's bytes ((c / 2) (6 cols + 40) <= 6 c cols: cols >= 8),
    one image (the halves take the batch loop's place) and no clamp after the
    row pass (it takes whole rows, whose other half's bytes may still be
    input)."""
    return (params["in_c"] % 8 == 0 and dw3x3_dsp_cols(params) >= 8
            and params["batches"] == 1
            and params["act_min"] == -128 and params["act_max"] == 127)


def dw3x3_dsp_eligible(params: dict) -> bool:
    """Layers tg_depthwise3x3s{1,2}_s8_dsp compute bit-exactly: 3x3, stride 1 or 2
    in both directions, no dilation, one output per input channel in whole
    groups of 4, fast requantization, and a lower clamp at or above the
    output zero point (so the round-half-away fix for negative values, whose
    outputs all clamp to act_min, can be left out)."""
    return (params["k_h"] == 3 and params["k_w"] == 3 and params["dil_h"] == 1
            and params["dil_w"] == 1 and params["stride_h"] == params["stride_w"]
            and params["stride_w"] in (1, 2) and params["depth_multiplier"] == 1
            and params["out_c"] % 4 == 0 and params["fast"] == 1
            and params["act_min"] >= params["output_zero_point"])


# The fixed right shift of tg_depthwise3x3s*_s8_dsp's requantization (TG_DWR_SHIFT
# in dsp/depthwise_conv2d_s8.c): SSAT's immediate ASR in place of a per-channel
# ASR by register.
DW3X3_SHIFT = 10


def dw3x3_shifted(weights: np.ndarray, quant: np.ndarray,
                  fixed: int = DW3X3_SHIFT) -> tuple[np.ndarray, np.ndarray] | None:
    """Weights and records that let tg_depthwise3x3s*_s8_dsp requantize with
    SMMLA and one SSAT ..., ASR #DW3X3_SHIFT, bit-exactly; None where a channel
    cannot take it.

    The fast requantization is floor((acc * mult + 2^31 + rz * 2^32) / 2^(32 + e))
    (SMMLAR, then a right shift by e). With s = DW3X3_SHIFT - e, weights and bias
    times 2^s and rz' = rz * 2^s + 2^(s - 1), SMMLA (no rounding) then the fixed
    shift divide 2^s times that numerator by 2^(32 + DW3X3_SHIFT): the same
    quotient. It needs 1 <= s (the rounding half becomes an integer), weights
    that stay int16, and accumulators that stay below 2^30.

    weights: [9][oc] as the fast kernels multiply them (doubled); quant: the
    [oc][4] tg_chan_quant records (bias doubled, e, rz); fixed: the kernel's
    fixed shift (DW3X3_SHIFT; RGB_SHIFT for tg_conv2d_rgb3x3s2_s8_dsp).
    """
    oc = weights.shape[1]
    q = quant[:oc].astype(np.int64)
    shift = fixed - q[:, 2]
    if oc == 0 or shift.min() < 1:
        return None
    w = weights.astype(np.int64) << np.minimum(shift, 16)[None, :]
    if w.min() < -(1 << 15) or w.max() >= 1 << 15:
        return None
    bias = q[:, 0] << shift
    rz = (q[:, 3] << shift) + (1 << (shift - 1))
    bound = np.abs(bias) + 128 * np.abs(w).sum(axis=0)
    if bound.max() >= 1 << 30 or (np.abs(rz) + bound).max() >= 1 << 31:
        return None
    q[:, 0], q[:, 3] = bias, rz
    return w.astype(np.int16), q.astype(np.int32)


def dw3x3_dsp_stream(weights: np.ndarray, quant: np.ndarray) -> np.ndarray:
    """The int32 stream of tg_depthwise3x3s{1,2}_s8_dsp (dsp/depthwise_conv2d_s8.c),
    DW3X3_STREAM_WORDS per channel.

    weights: [9][oc] as the kernel multiplies them (doubled in fast mode);
    quant: the [oc][4] tg_chan_quant records (bias doubled likewise).
    """
    oc = weights.shape[1]
    w = (weights.astype(np.int64).reshape(3, 3, oc) & 0xFFFF).transpose(2, 0, 1)
    pairs = np.stack([w[:, :, 0] | (w[:, :, 1] << 16), w[:, :, 1] | (w[:, :, 2] << 16)],
                     axis=2).reshape(oc, 6)
    stream = np.concatenate([quant[:oc].astype(np.int64) & 0xFFFFFFFF, pairs], axis=1).reshape(-1)
    assert stream.size == DW3X3_STREAM_WORDS * oc
    return np.where(stream >= 1 << 31, stream - (1 << 32), stream).astype(np.int32)


def conv_pairs_eligible(params: dict) -> bool:
    """Convolutions tg_conv2d_pairs_s8_dsp computes: fast requantization,
    output channels in whole groups of 4, and whole 4-byte chunks of input
    when it reads pointwise pixels in place."""
    direct = (params["k_h"] == 1 and params["k_w"] == 1 and params["pad_h"] == 0
              and params["pad_w"] == 0)
    return (params["fast"] == 1 and params["out_c"] % 4 == 0
            and (not direct or params["in_c"] % 4 == 0))


def conv_pairs_scratch(params: dict) -> int:
    """Two gathered patches (unless pointwise), then both pixels' int16 inputs."""
    chunks = (params["k_h"] * params["k_w"] * params["in_c"] + 3) // 4
    direct = (params["k_h"] == 1 and params["k_w"] == 1 and params["pad_h"] == 0
              and params["pad_w"] == 0)
    return (0 if direct else 8 * chunks) + 16 * chunks


def conv_triples_eligible(params: dict) -> bool:
    """Convolutions tg_conv2d_triples_s8_dsp computes: fast requantization and
    output channels in whole pairs (any depth: it is zero-padded to whole octs)."""
    return params["fast"] == 1 and params["out_c"] % 2 == 0


def conv_triples_scratch(params: dict) -> int:
    """Three gathered patches of whole octs (unless pointwise with whole octs
    of input channels, read in place), then three pixels' int16 inputs."""
    octs = (params["k_h"] * params["k_w"] * params["in_c"] + 7) // 8
    direct = (params["k_h"] == 1 and params["k_w"] == 1 and params["pad_h"] == 0
              and params["pad_w"] == 0 and params["in_c"] % 8 == 0)
    return (0 if direct else 24 * octs) + 48 * octs


def conv_triples8_scratch(params: dict) -> int:
    """tg_conv2d_triples8_s8_dsp: three int8 patches of whole octs, interleaved
    word by word (input channels in whole words, conv_triples_eligible)."""
    return 24 * ((params["k_h"] * params["k_w"] * params["in_c"] + 7) // 8)


def triples_stream(weights: np.ndarray, quant: np.ndarray) -> np.ndarray:
    """The int32 stream of tg_conv2d_triples_s8_dsp (dsp/conv2d_triples_s8.c):
    per pair of output channels (c0, c1) the two biases, then per oct of depth
    (8 positions, zero-padded), chunk j and half h one word with the bytes
    (c0 d, c1 d, c0 d + 2, c1 d + 2), d = 8 * oct + 4 * j + h, which SXTB16
    and SXTB16 ROR 8 split into the channels' int16 pairs; then (mult, e, rz)
    of c0 and of c1.

    weights: [oc][k] int8 rows; quant: the [>= oc][4] tg_chan_quant records.
    """
    oc, k = weights.shape
    octs = (k + 7) // 8
    padded = np.zeros((oc, 8 * octs), dtype=np.int8)
    padded[:, :k] = weights
    # [block][channel][oct][j][lane][h] -> [block][oct][j][h][lane][channel]
    words = (padded.reshape(oc // 2, 2, octs, 2, 2, 2).transpose(0, 2, 3, 5, 4, 1)
             .reshape(oc // 2, 16 * octs).copy().view("<i4"))
    q = quant[:oc].astype(np.int32).reshape(oc // 2, 2, 4)
    return np.concatenate([q[:, :, 0], words, q[:, :, 1:].reshape(oc // 2, 6)],
                          axis=1).reshape(-1).astype(np.int32)


# tg_triples8r_pass_dsp's records hold a bias in 19 signed bits beside its
# shift (5 bits) in 3 bytes (kws01's largest is 160,424 < 2^18).
COMPACT_BIAS_BITS = 19


def triples8_ram_eligible(params: dict, stream: np.ndarray) -> bool:
    """Layers tg_conv2d_triples8_ram_s8_dsp computes from stream (the layer's
    triples_stream): the triples kernel's (conv_triples_eligible), with an
    activation that needs no negative-value fix (act_min at or above the
    output zero point) and every bias in COMPACT_BIAS_BITS signed bits."""
    limit = 1 << (COMPACT_BIAS_BITS - 1)
    bias = stream.reshape(params["out_c"] // 2, -1)[:, :2]
    return (conv_triples_eligible(params) and params["act_min"] >= params["output_zero_point"]
            and bool(np.all((bias >= -limit) & (bias < limit))))


def triples8_ram_stream(stream: np.ndarray, out_c: int) -> np.ndarray:
    """The int32 stream of tg_conv2d_triples8_ram_s8_dsp from a layer's
    triples_stream (fast form, triples8_ram_eligible): the weight words of
    every block, then per block a 14-byte record: 3 bytes (bias << 5 | e,
    little-endian) of c0 and of c1, then mult of c0 and of c1; padded with
    zeros to whole 16 bytes (the copy's LDM/STM steps). rz is not stored:
    the pass computes it from e and the output zero point."""
    blocks = stream.astype(np.int64).reshape(out_c // 2, -1)
    words = blocks[:, 2:-6].reshape(-1)
    bias = blocks[:, :2].reshape(-1)
    mult, e = blocks[:, [-6, -3]].reshape(-1), blocks[:, [-5, -2]].reshape(-1)
    packed = ((bias & ((1 << COMPACT_BIAS_BITS) - 1)) << 5) | e
    head = np.stack([(packed >> (8 * i)) & 0xFF for i in range(3)], axis=1)
    body = np.stack([(mult >> (8 * i)) & 0xFF for i in range(4)], axis=1)
    records = np.concatenate([head.reshape(-1, 6), body.reshape(-1, 8)], axis=1).reshape(-1)
    tail = np.zeros(_round_up(records.size, 16), dtype=np.uint8)
    tail[:records.size] = records
    return np.concatenate([words.astype(np.int32), tail.view("<i4")]).astype(np.int32)


def triples8_ram_scratch(params: dict, stream: np.ndarray) -> int:
    """tg_conv2d_triples8_ram_s8_dsp's scratch: its stream, three pixels'
    interleaved int8 inputs, a gathered patch unless pointwise with whole
    octs of input channels (read in place)."""
    octs = (params["k_h"] * params["k_w"] * params["in_c"] + 7) // 8
    direct = (params["k_h"] == 1 and params["k_w"] == 1 and params["pad_h"] == 0
              and params["pad_w"] == 0 and params["in_c"] % 8 == 0)
    return 4 * len(stream) + 24 * octs + (0 if direct else 8 * octs)


def rows_dsp_stream(blocked: np.ndarray, quant: np.ndarray, chunks: int) -> np.ndarray:
    """The int32 stream of tg_conv2d_pairs_s8_dsp (dsp/conv2d_s8.c): per block of
    4 rows, the 4 biases, the block's 16-byte chunks of blocked_rows, then
    (mult, e, rz) per row."""
    blocks = quant.shape[0] // 4
    weights = blocked.astype(np.int8).reshape(blocks, chunks * 16).view("<i4")
    q = quant.astype(np.int32).reshape(blocks, 4, 4)
    return np.concatenate([q[:, :, 0], weights, q[:, :, 1:].reshape(blocks, 12)],
                          axis=1).reshape(-1).astype(np.int32)


# Words per block of 4 output channels in the stream of
# tg_conv2d_rgb3x3s{1,2}_s8_dsp (rgb_stream): 4 biases, 3 kernel rows x 5
# int16 weight pairs x 4 channels, then (mult, rz) per channel, the shift
# fixed at RGB_SHIFT.
RGB_BLOCK_WORDS = 4 + 15 * 4 + 8
RGB_SHIFT = 12


def conv_rgb_eligible(params: dict) -> bool:
    """Layers tg_conv2d_rgb3x3s2_s8_dsp (dsp/conv2d_rgb_s8.c) computes
    bit-exactly: a 3x3 convolution at stride 2 of a 3-channel input, no
    dilation, output channels in whole groups of 4, fast requantization and
    a lower clamp at or above the output zero point (the kernel leaves out
    the round-half-away fix for negative values, whose outputs all clamp
    to act_min)."""
    return (params["in_c"] == 3 and params["k_h"] == 3 and params["k_w"] == 3
            and params["stride_h"] == 2 and params["stride_w"] == 2 and params["dil_h"] == 1
            and params["dil_w"] == 1 and params["out_c"] % 4 == 0 and params["fast"] == 1
            and params["act_min"] >= params["output_zero_point"])


def conv_rgb_scratch(params: dict) -> int:
    """The stream copied into RAM, then a ring of 3 widened input rows of
    12 * ceil(out_w / 2) + 4 halfwords."""
    return (4 * RGB_BLOCK_WORDS * (params["out_c"] // 4)
            + 3 * 2 * (12 * ((params["out_w"] + 1) // 2) + 4))


def conv_rgb1_eligible(params: dict) -> bool:
    """Layers tg_conv2d_rgb3x3s1_s8_dsp computes bit-exactly: as
    conv_rgb_eligible, at stride 1."""
    return (params["in_c"] == 3 and params["k_h"] == 3 and params["k_w"] == 3
            and params["stride_h"] == 1 and params["stride_w"] == 1 and params["dil_h"] == 1
            and params["dil_w"] == 1 and params["out_c"] % 4 == 0 and params["fast"] == 1
            and params["act_min"] >= params["output_zero_point"])


def conv_rgb1_scratch(params: dict) -> int:
    """The stream copied into RAM, a ring of 3 rows of 6 * ceil(out_w / 2) + 8
    words (each input row widened twice, interleaved), then one natural
    widened row of as many halfwords after a word of lead."""
    row_words = 6 * ((params["out_w"] + 1) // 2) + 8
    return 4 * RGB_BLOCK_WORDS * (params["out_c"] // 4) + 3 * 4 * row_words + 4 + 2 * row_words


def conv_3x3pair_eligible(params: dict) -> bool:
    """Layers tg_conv2d_3x3pair_s8_dsp (dsp/conv2d_3x3_s8.c) computes
    bit-exactly: a 3x3 convolution at stride 1 of a 16-, 32- or 64-channel
    input or at stride 2 of a 16- or 32-channel one, no dilation, output
    channels in whole groups of 4, fast requantization."""
    s = params["stride_w"]
    return (params["k_h"] == 3 and params["k_w"] == 3 and params["stride_h"] == s
            and params["in_c"] in ((16, 32, 64) if s == 1 else (16, 32) if s == 2 else ())
            and params["dil_h"] == 1 and params["dil_w"] == 1 and params["out_c"] % 4 == 0
            and params["fast"] == 1)


def conv_3x3pair_scratch(params: dict) -> int:
    """3 widened rows of the stride + 3 input pixels under an output pixel pair."""
    return 3 * (params["stride_w"] + 3) * params["in_c"] * 2


def c3x3_stream(weights: np.ndarray, quant: np.ndarray) -> np.ndarray:
    """The int32 stream of tg_conv2d_3x3pair_s8_dsp: per block of 4 output
    channels the 4 biases, then per kernel row and depth position p
    (3 * C / 2 a row for C input channels) one int16 weight pair per
    channel, then (mult, e, rz) per channel. Position p = 2 * chunk + h of a
    row's 3 * C (column, channel) values pairs values 4 * chunk + h and
    4 * chunk + h + 2 (SXTB16's order of the widened inputs). Weights and
    biases are doubled (2 * acc for SMMLAR).

    weights: [oc][9 * C] int8 rows in (row, column, channel) order;
    quant: the [>= oc][4] tg_chan_quant records (fast mode).
    """
    oc, k = weights.shape
    chunks = k // 12                                             # per kernel row
    w = weights.astype(np.int64).reshape(oc, 3, chunks, 4) * 2
    pairs = np.stack([w[..., 0::2], w[..., 1::2]], axis=3) & 0xFFFF   # [oc][row][chunk][h][lo/hi]
    words = (pairs[..., 0] | (pairs[..., 1] << 16)).reshape(oc // 4, 4, 6 * chunks)
    words = words.transpose(0, 2, 1).reshape(oc // 4, 24 * chunks)
    q = quant[:oc].astype(np.int64).reshape(oc // 4, 4, 4)
    stream = np.concatenate([(q[:, :, 0] * 2) & 0xFFFFFFFF, words,
                             q[:, :, 1:].reshape(oc // 4, 12) & 0xFFFFFFFF], axis=1).reshape(-1)
    assert stream.size == (16 + 24 * chunks) * (oc // 4)
    return np.where(stream >= 1 << 31, stream - (1 << 32), stream).astype(np.int32)


def rgb_stream(weights: np.ndarray, quant: np.ndarray) -> np.ndarray | None:
    """The int32 stream of tg_conv2d_rgb3x3s{1,2}_s8_dsp: per block of 4
    output channels the 4 biases, then per kernel row and word j (taps 2j,
    2j + 1 of the row's 9 (column, channel) values, tap 9 zero) one int16
    pair per channel, then (mult, rz) per channel. Weights and biases are
    doubled (the accumulator is then 2 * acc) and scaled, and the records
    made, by dw3x3_shifted(..., RGB_SHIFT), so that SMMLA and one SSAT ...,
    ASR #RGB_SHIFT requantize bit-exactly (the exactness argument is
    dw3x3_shifted's); None where a channel cannot take it.

    weights: [oc][27] int8 rows in (row, column, channel) order;
    quant: the [>= oc][4] tg_chan_quant records (fast mode).
    """
    oc = weights.shape[0]
    q = quant[:oc].astype(np.int64).copy()
    q[:, 0] *= 2
    shifted = dw3x3_shifted(weights.astype(np.int16).T * 2, q, RGB_SHIFT)
    if shifted is None:
        return None
    w, q = shifted
    taps = np.zeros((oc, 3, 10), dtype=np.int64)
    taps[:, :, :9] = w.T.astype(np.int64).reshape(oc, 3, 9)
    taps &= 0xFFFF
    pairs = taps[:, :, 0::2] | (taps[:, :, 1::2] << 16)            # [oc][row][j]
    words = pairs.reshape(oc // 4, 4, 15).transpose(0, 2, 1).reshape(oc // 4, 60)
    q = q.astype(np.int64).reshape(oc // 4, 4, 4)
    stream = np.concatenate([q[:, :, 0] & 0xFFFFFFFF, words,
                             q[:, :, [1, 3]].reshape(oc // 4, 8) & 0xFFFFFFFF],
                            axis=1).reshape(-1)
    assert stream.size == RGB_BLOCK_WORDS * (oc // 4)
    return np.where(stream >= 1 << 31, stream - (1 << 32), stream).astype(np.int32)


# Words per output channel in tg_conv2d_pw8_s8_dsp's stream: bias, 4 weight
# pairs, mult, rz; the requantization's shift is fixed at PW_SHIFT.
PW8_CHANNEL_WORDS = 7
PW_SHIFT = 12


def conv_pw8_eligible(params: dict) -> bool:
    """Layers tg_conv2d_pw8_s8_dsp (dsp/conv2d_narrow_s8.c) computes
    bit-exactly: pointwise, stride 1, no padding, 8 input channels, output
    channels in whole groups of 4, fast requantization and a lower clamp at
    or above the output zero point (no round-half-away fix, as for
    conv_rgb_eligible)."""
    return (params["in_c"] == 8 and params["k_h"] == 1 and params["k_w"] == 1
            and params["stride_h"] == 1 and params["stride_w"] == 1 and params["pad_h"] == 0
            and params["pad_w"] == 0 and params["out_c"] % 4 == 0 and params["fast"] == 1
            and params["act_min"] >= params["output_zero_point"])


def conv_pw8_scratch(params: dict) -> int:
    """The stream copied into RAM."""
    return 4 * PW8_CHANNEL_WORDS * params["out_c"]


def _pw_shifted(weights: np.ndarray, quant: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """[oc][ic] int8 weights and [>= oc][4] tg_chan_quant records (fast mode)
    -> the doubled weights ([oc][ic] as int64) and records (bias, mult, e, rz)
    scaled by dw3x3_shifted(..., PW_SHIFT), so that SMMLA and one SSAT ...,
    ASR #PW_SHIFT requantize bit-exactly; None where a channel cannot take it."""
    q = quant[:weights.shape[0]].astype(np.int64).copy()
    q[:, 0] *= 2
    shifted = dw3x3_shifted(weights.astype(np.int16).T * 2, q, PW_SHIFT)
    if shifted is None:
        return None
    w, q = shifted
    return w.T.astype(np.int64), q.astype(np.int64)


def _words(stream: np.ndarray) -> np.ndarray:
    stream = stream & 0xFFFFFFFF
    return np.where(stream >= 1 << 31, stream - (1 << 32), stream).astype(np.int32)


def pw8_stream(weights: np.ndarray, quant: np.ndarray) -> np.ndarray | None:
    """The int32 stream of tg_conv2d_pw8_s8_dsp: per output channel the bias,
    the weights as int16 pairs (w0, w2), (w1, w3), (w4, w6), (w5, w7) (the
    order SXTB16 splits the input words in), both doubled and scaled by
    _pw_shifted, then mult, rz; None where a channel cannot take the fixed
    shift (the planner keeps the triples kernel).

    weights: [oc][8] int8; quant: the [>= oc][4] tg_chan_quant records (fast mode).
    """
    shifted = _pw_shifted(weights, quant)
    if shifted is None:
        return None
    w, q = shifted
    oc = weights.shape[0]
    w &= 0xFFFF
    pairs = np.stack([w[:, 0] | (w[:, 2] << 16), w[:, 1] | (w[:, 3] << 16),
                      w[:, 4] | (w[:, 6] << 16), w[:, 5] | (w[:, 7] << 16)], axis=1)
    stream = np.concatenate([q[:, :1], pairs, q[:, 1:2], q[:, 3:4]], axis=1).reshape(-1)
    assert stream.size == PW8_CHANNEL_WORDS * oc
    return _words(stream)


# Words per output channel in tg_conv2d_pw16_s8_dsp's stream: bias, 4 weight
# pairs, 2 words for the kernel's partial sums, 4 weight pairs, mult, rz.
PW16_CHANNEL_WORDS = 13


def conv_pw16_eligible(params: dict) -> bool:
    """tg_conv2d_pw16_s8_dsp: conv_pw8_eligible's layers with 16 input channels."""
    return conv_pw8_eligible(dict(params, in_c=8)) and params["in_c"] == 16


def pw16_stream(weights: np.ndarray, quant: np.ndarray) -> np.ndarray | None:
    """The int32 stream of tg_conv2d_pw16_s8_dsp: per output channel the
    bias, the weights of input channels 0-7 as int16 pairs in SXTB16 order
    ((w0, w2), (w1, w3), (w4, w6), (w5, w7)), two zero words (where the
    kernel parks both pixels' sums over channels 0-7), the pairs of channels
    8-15, weights and bias doubled and scaled by _pw_shifted, then mult, rz;
    None where a channel cannot take the fixed shift.

    weights: [oc][16] int8; quant: the [>= oc][4] tg_chan_quant records (fast mode).
    """
    shifted = _pw_shifted(weights, quant)
    if shifted is None:
        return None
    w, q = shifted
    oc = weights.shape[0]
    w &= 0xFFFF
    order = [0, 2, 1, 3, 4, 6, 5, 7, 8, 10, 9, 11, 12, 14, 13, 15]
    pairs = w[:, order[0::2]] | (w[:, order[1::2]] << 16)
    stream = np.concatenate([q[:, :1], pairs[:, :4], np.zeros((oc, 2), dtype=np.int64),
                             pairs[:, 4:], q[:, 1:2], q[:, 3:4]], axis=1).reshape(-1)
    assert stream.size == PW16_CHANNEL_WORDS * oc
    return _words(stream)


def _prefer_dsp(call: KernelCall, kernel: str, stream: np.ndarray, scratch: int) -> None:
    """Offers kernel (reading stream, needing scratch) for call, the kernel
    offered so far, if any, kept as its fallback (fit_dsp_scratch)."""
    fallback = (call.dsp_kernel, call.dsp_arrays, call.scratch_bytes) if call.dsp_kernel else None
    call.dsp_kernel, call.dsp_arrays, call.scratch_bytes = kernel, {"stream": stream}, scratch
    call.dsp_fallback = fallback


def _conv(m: ir.Model, op: ir.Operator, allow_fast: bool = True) -> KernelCall:
    x, w, y = m.tensors[op.inputs[0]], m.tensors[op.inputs[1]], m.tensors[op.outputs[0]]
    o: ir.Conv2DOptions = op.options
    depthwise = op.kind == "DEPTHWISE_CONV_2D"
    n, h, wd, c = x.shape
    if depthwise:
        _, kh, kw, oc = w.shape
        if oc % c:
            raise TinygenError(f"DEPTHWISE_CONV_2D output depth {oc} is not a multiple of "
                               f"input depth {c}")
        dm = oc // c
        weights = w.data.astype(np.int8).reshape(kh * kw, oc)
        sums = weights.astype(np.int64).sum(axis=0)
    else:
        oc, kh, kw, ic = w.shape
        if ic != c:  # grouped: plan/prepare.py sends these to plan/spatial.py
            raise TinygenError(f"CONV_2D operator {op.index}: filter depth {ic} is not the "
                               f"input depth {c} (a grouped convolution, planned by spatial)")
        dm = 1
        weights = w.data.astype(np.int8).reshape(oc, -1)
        sums = weights.astype(np.int64).sum(axis=1)
    oh, pad_h = _padding(o.padding, h, kh, o.stride_h, o.dilation_h)
    ow, pad_w = _padding(o.padding, wd, kw, o.stride_w, o.dilation_w)
    if (n, oh, ow, oc) != tuple(y.shape):
        raise TinygenError(f"{op.kind} output shape {y.shape} disagrees with the computed "
                           f"{(n, oh, ow, oc)}: the model is inconsistent")
    in_s, out_s = float(x.quant.scale), float(y.quant.scale)
    mult, shift = _multipliers([in_s * fs / out_s for fs in _channel_scales(w, oc)])
    lo, hi = activation_range(o.activation, y.quant)
    params = dict(
        batches=n, in_h=h, in_w=wd, in_c=c, out_h=oh, out_w=ow, out_c=oc, k_h=kh, k_w=kw,
        stride_h=o.stride_h, stride_w=o.stride_w, dil_h=o.dilation_h, dil_w=o.dilation_w,
        pad_h=pad_h, pad_w=pad_w, depth_multiplier=dm, input_zero_point=x.quant.zero_point,
        output_zero_point=y.quant.zero_point, act_min=lo, act_max=hi)
    bias = _folded_bias(m, op, sums, x.quant.zero_point)
    if depthwise:
        scratch = kh * kw * POINTER_BYTES + c
        macs = n * oh * ow * oc * kh * kw
        abs_sums = np.abs(weights.astype(np.int64)).sum(axis=0)
        quant, fast = channel_quant(bias, mult, shift, abs_sums, y.quant.zero_point,
                                    _round_up(oc, 4), allow_fast)
        # Fast mode: doubled weights and biases give the kernel 2 * acc directly.
        quant[:, 0] *= 1 + fast
        filt = depthwise_taps(weights, 1 + fast)
    else:
        direct = kh == 1 and kw == 1 and pad_h == 0 and pad_w == 0
        chunks = (kh * kw * c + 3) // 4
        # int8 patch (unless pointwise), then its int16 widening (DSP path).
        scratch = (0 if direct else 4 * chunks) + 8 * chunks
        macs = n * oh * ow * oc * kh * kw * c
        abs_sums = np.abs(weights.astype(np.int64)).sum(axis=1)
        quant, fast = channel_quant(bias, mult, shift, abs_sums, y.quant.zero_point,
                                    _round_up(oc, 4), allow_fast)
        filt = blocked_rows(weights)
    params["fast"] = fast
    arrays = {"filter": filt, "quant": quant.reshape(-1)}
    summary = (f"{kh}x{kw} s{o.stride_h}x{o.stride_w} d{o.dilation_h}x{o.dilation_w} "
               f"{o.padding} {o.activation}" + (f" dm{dm}" if depthwise else ""))
    kernel = "tg_depthwise_conv2d_s8" if depthwise else "tg_conv2d_s8"
    call = KernelCall(op.index, op.kind, kernel, "tg_conv_params", params, [x.index], y.index,
                      arrays, scratch, macs, summary)
    call.portable_scratch = scratch
    pairs = None
    if not depthwise and conv_pairs_eligible(params):
        pairs = ("tg_conv2d_pairs_s8_dsp",
                 {"stream": rows_dsp_stream(filt, quant, (kh * kw * c + 3) // 4)},
                 max(scratch, conv_pairs_scratch(params)))
        call.dsp_kernel, call.dsp_arrays, call.scratch_bytes = pairs
    if not depthwise and conv_triples_eligible(params):
        # Three pixels a pass, the two-pixel kernel kept as the fallback.
        call.dsp_kernel = "tg_conv2d_triples_s8_dsp"
        call.dsp_arrays = {"stream": triples_stream(weights, quant)}
        call.scratch_bytes = max(scratch, conv_triples_scratch(params))
        call.dsp_fallback = pairs
        if c % 4 == 0:
            # From int8 patches: the scratch of the portable kernel's, or less.
            call.dsp_fallback = ("tg_conv2d_triples8_s8_dsp", call.dsp_arrays,
                                 max(scratch, conv_triples8_scratch(params)))
    rgb = (rgb_stream(weights, quant) if not depthwise
           and (conv_rgb_eligible(params) or conv_rgb1_eligible(params)) else None)
    if rgb is not None and conv_rgb_eligible(params):
        # The first layer of an image network: the triples kernel its fallback.
        _prefer_dsp(call, "tg_conv2d_rgb3x3s2_s8_dsp", rgb, max(scratch, conv_rgb_scratch(params)))
    if rgb is not None and conv_rgb1_eligible(params):
        # The same at stride 1 (ic01's first layer).
        _prefer_dsp(call, "tg_conv2d_rgb3x3s1_s8_dsp", rgb, max(scratch, conv_rgb1_scratch(params)))
    if not depthwise and conv_3x3pair_eligible(params):
        # Two pixels' shared inputs widened once, in the portable kernel's
        # scratch (ic01's 3x3 stride-1 layers; 1 and 2 where the arena peaks).
        _prefer_dsp(call, "tg_conv2d_3x3pair_s8_dsp", c3x3_stream(weights, quant),
                    max(scratch, conv_3x3pair_scratch(params)))
    pw = (pw8_stream(weights, quant) if not depthwise and conv_pw8_eligible(params)
          else pw16_stream(weights, quant) if not depthwise and conv_pw16_eligible(params)
          else None)
    if pw is not None:
        # Narrow pointwise: the triples kernel its fallback.
        _prefer_dsp(call, f"tg_conv2d_pw{params['in_c']}_s8_dsp", pw,
                    max(scratch, 4 * pw.size))
    shifted = (dw3x3_shifted(weights.astype(np.int16) * 2, quant)
               if depthwise and dw3x3_dsp_eligible(params) else None)
    if shifted is not None:
        # Rows of exactly 5 pixels take a 5-pixel block, with the stream in
        # flash or in RAM; rows of 6 at stride 1 a 6-pixel block and rows of
        # 3 a 3-pixel block, with the stream in RAM (one requantization
        # record and channel step per row). Without room for the whole
        # stream, layers that can copy it into the ring's scratch in two
        # halves or into their input's spent bytes do (dw3x3_halves_eligible):
        # flash read about once per layer.
        w5 = "w5" if params["out_w"] == 5 else ""
        halves = "_halves" if dw3x3_halves_eligible(params) else ""
        call.dsp_kernel = f"tg_depthwise3x3s{o.stride_w}{w5}{halves}_s8_dsp"
        call.dsp_arrays = {"stream": dw3x3_dsp_stream(*shifted)}
        call.scratch_bytes = max(scratch, dw3x3_dsp_scratch(params))
        block = {3: "w3", 5: "w5", 6: "w6" if o.stride_w == 1 else ""}.get(params["out_w"], "")
        call.dsp_upgrade = (f"tg_depthwise3x3s{o.stride_w}{block}_ram_s8_dsp", call.dsp_arrays,
                            max(scratch, dw3x3_ram_scratch(params)))
    return call


def _fully_connected(m: ir.Model, op: ir.Operator, allow_fast: bool = True) -> KernelCall:
    x, w, y = m.tensors[op.inputs[0]], m.tensors[op.inputs[1]], m.tensors[op.outputs[0]]
    out_d, in_d = w.shape
    if x.elements % in_d:
        raise TinygenError(f"FULLY_CONNECTED input of {x.elements} values does not split into "
                           f"rows of {in_d}")
    batches = x.elements // in_d
    weights = w.data.astype(np.int8)
    sums = weights.astype(np.int64).sum(axis=1)
    in_s, out_s = x.quant.scale, y.quant.scale
    if w.quant.per_channel:
        reals = [float(in_s) * fs / float(out_s) for fs in _channel_scales(w, out_d)]
    else:
        # TFLM multiplies the two float scales in float, then divides in double.
        reals = [float(np.float32(in_s) * np.float32(w.quant.scale)) / float(out_s)] * out_d
    mult, shift = _multipliers(reals)
    lo, hi = activation_range(op.options.activation, y.quant)
    bias = _folded_bias(m, op, sums, x.quant.zero_point)
    quant, fast = channel_quant(bias, mult, shift, np.abs(weights.astype(np.int64)).sum(axis=1),
                                y.quant.zero_point, _round_up(out_d, 4), allow_fast)
    params = dict(batches=batches, in_depth=in_d, out_depth=out_d,
                  output_zero_point=y.quant.zero_point, act_min=lo, act_max=hi, fast=fast)
    arrays = {"filter": blocked_rows(weights), "quant": quant.reshape(-1)}
    # Scratch: the int16 widening of one input row (DSP path).
    return KernelCall(op.index, op.kind, "tg_fully_connected_s8", "tg_fc_params", params,
                      [x.index], y.index, arrays, 8 * ((in_d + 3) // 4), batches * in_d * out_d,
                      f"{in_d}->{out_d} {op.options.activation}")


def _pool(m: ir.Model, op: ir.Operator) -> KernelCall:
    x, y = m.tensors[op.inputs[0]], m.tensors[op.outputs[0]]
    o: ir.Pool2DOptions = op.options
    n, h, w, c = x.shape
    oh, pad_h = _padding(o.padding, h, o.filter_h, o.stride_h, 1)
    ow, pad_w = _padding(o.padding, w, o.filter_w, o.stride_w, 1)
    if (n, oh, ow, c) != tuple(y.shape):
        raise TinygenError(f"{op.kind} output shape {y.shape} disagrees with the computed "
                           f"{(n, oh, ow, c)}")
    if op.kind == "AVERAGE_POOL_2D" and (x.quant.scale != y.quant.scale
                                         or x.quant.zero_point != y.quant.zero_point):
        raise TinygenError("AVERAGE_POOL_2D with different input and output quantization is "
                           "not supported (TFLM requires them equal)")
    lo, hi = activation_range(o.activation, y.quant)
    params = dict(batches=n, in_h=h, in_w=w, channels=c, out_h=oh, out_w=ow, k_h=o.filter_h,
                  k_w=o.filter_w, stride_h=o.stride_h, stride_w=o.stride_w, pad_h=pad_h,
                  pad_w=pad_w, act_min=lo, act_max=hi)
    kernel = "tg_avg_pool2d_s8" if op.kind == "AVERAGE_POOL_2D" else "tg_max_pool2d_s8"
    return KernelCall(op.index, op.kind, kernel, "tg_pool_params", params, [x.index], y.index,
                      summary=f"{o.filter_h}x{o.filter_w} s{o.stride_h}x{o.stride_w} {o.padding}")


def _strides4(shape: tuple[int, ...], out4: tuple[int, ...]) -> list[int]:
    s4 = (1,) * (4 - len(shape)) + tuple(shape)
    strides, acc = [0, 0, 0, 0], 1
    for d in range(3, -1, -1):
        strides[d] = 0 if (s4[d] == 1 and out4[d] != 1) else acc
        acc *= s4[d]
    return strides


def _binary_operands(m: ir.Model, op: ir.Operator) -> tuple[list, list[int], dict]:
    operands, inputs, arrays = [], [], {}
    for pos, index in enumerate(op.inputs[:2]):
        t = m.tensors[index]
        if t.is_const:
            name = f"in{pos + 1}"
            arrays[name] = t.data.astype(np.int8).reshape(-1)
            operands.append(name)
        else:
            inputs.append(index)
            operands.append(index)
    if not inputs:
        raise TinygenError(f"{op.kind} of two constants should have been folded by the "
                           "converter; re-export the model")
    return operands, inputs, arrays


def _broadcast_params(a: ir.Tensor, b: ir.Tensor, y: ir.Tensor) -> dict:
    out4 = (1,) * (4 - len(y.shape)) + tuple(y.shape)
    broadcast = int(tuple(a.shape) != tuple(y.shape) or tuple(b.shape) != tuple(y.shape))
    return dict(shape=dict(size=y.elements, broadcast=broadcast, out_shape=list(out4),
                           in1_strides=_strides4(a.shape, out4),
                           in2_strides=_strides4(b.shape, out4)))


def _add(m: ir.Model, op: ir.Operator) -> KernelCall:
    a, b, y = (m.tensors[op.inputs[0]], m.tensors[op.inputs[1]], m.tensors[op.outputs[0]])
    operands, inputs, arrays = _binary_operands(m, op)
    s1, s2, so = float(a.quant.scale), float(b.quant.scale), float(y.quant.scale)
    twice_max = 2.0 * max(s1, s2)
    m1, sh1 = quantize_multiplier(s1 / twice_max)
    m2, sh2 = quantize_multiplier(s2 / twice_max)
    mo, sho = quantize_multiplier(twice_max / ((1 << ADD_LEFT_SHIFT) * so))
    lo, hi = activation_range(op.options.activation, y.quant)
    params = _broadcast_params(a, b, y)
    params.update(in1_offset=-a.quant.zero_point, in2_offset=-b.quant.zero_point,
                  in1_mult=m1, in1_shift=sh1, in2_mult=m2, in2_shift=sh2,
                  out_mult=mo, out_shift=sho, left_shift=ADD_LEFT_SHIFT,
                  out_offset=y.quant.zero_point, act_min=lo, act_max=hi)
    call = KernelCall(op.index, op.kind, "tg_add_s8", "tg_add_params", params, inputs, y.index,
                      arrays, operands=operands,
                      summary=f"{op.options.activation}" + (" broadcast" if params["shape"]["broadcast"] else ""))
    table = None if params["shape"]["broadcast"] else lut.add_tables(params)
    if table is not None:
        # Each input's rescaled values from a table (issue 22: 51 cycles an
        # element on the Cortex-M4 with tg_add_s8_dsp's three requantizations).
        call.dsp_kernel = "tg_add_table_s8_dsp"
        call.dsp_arrays = {**arrays, "table": table}
    return call


def _sub(m: ir.Model, op: ir.Operator) -> KernelCall:
    """TFLM's int8 SUB: ADD's rescaling, computed in float32 as its Prepare does."""
    a, b, y = (m.tensors[op.inputs[0]], m.tensors[op.inputs[1]], m.tensors[op.outputs[0]])
    operands, inputs, arrays = _binary_operands(m, op)
    f32 = np.float32
    s1, s2, so = f32(a.quant.scale), f32(b.quant.scale), f32(y.quant.scale)
    twice_max = f32(2) * max(s1, s2)
    m1, sh1 = quantize_multiplier(float(s1 / twice_max))
    m2, sh2 = quantize_multiplier(float(s2 / twice_max))
    mo, sho = quantize_multiplier(float(twice_max / (f32(1 << ADD_LEFT_SHIFT) * so)))
    act = getattr(op.options, "activation", ir.ACT_NONE)
    lo, hi = activation_range(act, y.quant)
    params = _broadcast_params(a, b, y)
    params.update(in1_offset=-a.quant.zero_point, in2_offset=-b.quant.zero_point,
                  in1_mult=m1, in1_shift=sh1, in2_mult=m2, in2_shift=sh2,
                  out_mult=mo, out_shift=sho, left_shift=ADD_LEFT_SHIFT,
                  out_offset=y.quant.zero_point, act_min=lo, act_max=hi)
    return KernelCall(op.index, op.kind, "tg_sub_s8", "tg_add_params", params, inputs, y.index,
                      arrays, operands=operands,
                      summary=f"{act}" + (" broadcast" if params["shape"]["broadcast"] else ""))


def _lut(m: ir.Model, op: ir.Operator) -> KernelCall:
    """LOGISTIC, TANH, HARD_SWISH, LEAKY_RELU: a table of TFLM's outputs for every input byte."""
    x, y = m.tensors[op.inputs[0]], m.tensors[op.outputs[0]]
    s_in, zp_in = float(x.quant.scale), x.quant.zero_point
    s_out, zp_out = float(y.quant.scale), y.quant.zero_point
    if op.kind == "LOGISTIC":
        table = lut.logistic_table(s_in, zp_in)
    elif op.kind == "TANH":
        table = lut.tanh_table(s_in, zp_in)
    elif op.kind == "HARD_SWISH":
        table = lut.hard_swish_table(s_in, zp_in, s_out, zp_out)
    else:
        table = lut.leaky_relu_table(s_in, zp_in, s_out, zp_out, op.options.alpha)
    return KernelCall(op.index, op.kind, "tg_lut_s8", "tg_lut_params", dict(size=x.elements),
                      [x.index], y.index, {"table": table}, summary="256-entry table")


def _reduce_max(m: ir.Model, op: ir.Operator) -> KernelCall:
    x, y = m.tensors[op.inputs[0]], m.tensors[op.outputs[0]]
    rank = len(x.shape)
    axes = {int(a) % rank for a in np.asarray(m.tensors[op.inputs[1]].data).reshape(-1)}
    shape4 = [1] * (4 - rank) + list(x.shape)
    reduced = [False] * (4 - rank) + [d in axes for d in range(rank)]
    strides, acc = [0, 0, 0, 0], 1
    for d in range(3, -1, -1):
        if not reduced[d]:
            strides[d] = acc
            acc *= shape4[d]
    params = dict(in_shape=shape4, out_strides=strides, out_size=y.elements)
    return KernelCall(op.index, op.kind, "tg_reduce_max_s8", "tg_reduce_params", params,
                      [x.index], y.index, summary=f"max over axes {sorted(axes)}")


def _mul(m: ir.Model, op: ir.Operator) -> KernelCall:
    a, b, y = (m.tensors[op.inputs[0]], m.tensors[op.inputs[1]], m.tensors[op.outputs[0]])
    operands, inputs, arrays = _binary_operands(m, op)
    mo, sho = quantize_multiplier(float(a.quant.scale) * float(b.quant.scale)
                                  / float(y.quant.scale))
    lo, hi = activation_range(op.options.activation, y.quant)
    params = _broadcast_params(a, b, y)
    params.update(in1_offset=-a.quant.zero_point, in2_offset=-b.quant.zero_point,
                  out_mult=mo, out_shift=sho, out_offset=y.quant.zero_point,
                  act_min=lo, act_max=hi)
    return KernelCall(op.index, op.kind, "tg_mul_s8", "tg_mul_params", params, inputs, y.index,
                      arrays, operands=operands,
                      summary=f"{op.options.activation}" + (" broadcast" if params["shape"]["broadcast"] else ""))


def _relu(m: ir.Model, op: ir.Operator) -> KernelCall:
    x, y = m.tensors[op.inputs[0]], m.tensors[op.outputs[0]]
    if op.kind == "RELU":
        mult, shift = quantize_multiplier(float(x.quant.scale) / float(y.quant.scale))
        lo, hi = activation_range(ir.ACT_RELU, y.quant)
        out_zp = y.quant.zero_point
    else:
        # TFLM clamps RELU6 in the input's quantization without requantizing;
        # (2^30, 1) is an exact identity multiplier.
        mult, shift = 1 << 30, 1
        lo, hi = activation_range(ir.ACT_RELU6, x.quant)
        out_zp = x.quant.zero_point
    params = dict(size=x.elements, input_zero_point=x.quant.zero_point, mult=mult, shift=shift,
                  output_zero_point=out_zp, act_min=lo, act_max=hi)
    return KernelCall(op.index, op.kind, "tg_relu_s8", "tg_clamp_params", params, [x.index],
                      y.index, summary=f"clamp [{lo}, {hi}]")


def _softmax(m: ir.Model, op: ir.Operator) -> KernelCall:
    x, y = m.tensors[op.inputs[0]], m.tensors[op.outputs[0]]
    if y.quant.zero_point != -128 or abs(y.quant.scale - 1.0 / 256) > 1e-3 / 256:
        raise TinygenError("int8 SOFTMAX output must have scale 1/256 and zero point -128 "
                           "(what the TFLite converter produces)")
    depth = x.shape[-1]
    table = softmax_exp_table(float(op.options.beta), float(x.quant.scale))
    return KernelCall(op.index, op.kind, "tg_softmax_s8", "tg_softmax_params",
                      dict(rows=x.elements // depth, depth=depth), [x.index], y.index,
                      {"exp_table": table}, summary=f"beta {op.options.beta:g}")


def _affine(m: ir.Model, op: ir.Operator) -> KernelCall:
    x, y = m.tensors[op.inputs[0]], m.tensors[op.outputs[0]]
    q = y.quant if op.kind == "QUANTIZE" else x.quant
    kernel = "tg_quantize_f32_s8" if op.kind == "QUANTIZE" else "tg_dequantize_s8_f32"
    return KernelCall(op.index, op.kind, kernel, "tg_affine_params",
                      dict(size=x.elements, scale=float(np.float32(q.scale)),
                           zero_point=q.zero_point),
                      [x.index], y.index, summary=f"scale {q.scale:.6g} zp {q.zero_point}")


def _mean(m: ir.Model, op: ir.Operator) -> KernelCall:
    x, y = m.tensors[op.inputs[0]], m.tensors[op.outputs[0]]
    axes = sorted(int(a) % max(len(x.shape), 1) for a in np.asarray(m.tensors[op.inputs[1]].data)
                  .reshape(-1)) if m.tensors[op.inputs[1]].is_const else None
    if len(x.shape) != 4 or axes != [1, 2]:
        raise TinygenError(f"MEAN over axes {axes} of a {len(x.shape)}-D tensor is not supported: "
                           "tinygen averages over height and width of NHWC tensors "
                           "(GlobalAveragePooling2D)")
    n, h, w, c = x.shape
    count = h * w
    mult, shift = quantize_multiplier(float(x.quant.scale) / float(y.quant.scale))
    # TFLM folds 1/count into the multiplier, keeping as many bits as it can.
    extra = min(count.bit_length() - 1, 32, 31 + shift)
    mult = (mult << extra) // count
    shift -= extra
    params = dict(batches=n, hw=count, channels=c,
                  input_offset_sum=wrap32(x.quant.zero_point * count), mult=mult, shift=shift,
                  output_zero_point=y.quant.zero_point)
    return KernelCall(op.index, op.kind, "tg_mean_hw_s8", "tg_mean_params", params, [x.index],
                      y.index, summary=f"mean over {h}x{w}")


def _same_quant(a: ir.Tensor, b: ir.Tensor) -> bool:
    return (a.quant is not None and b.quant is not None and a.quant.scale == b.quant.scale
            and a.quant.zero_point == b.quant.zero_point)


def _concatenation(m: ir.Model, op: ir.Operator) -> KernelCall:
    ins = [m.tensors[i] for i in op.inputs]
    y = m.tensors[op.outputs[0]]
    o: ir.ConcatenationOptions = op.options
    if o.activation != ir.ACT_NONE:
        raise TinygenError("CONCATENATION with a fused activation is not supported")
    if any(t.is_const for t in ins) or len(ins) > CONCAT_MAX_INPUTS:
        raise TinygenError(f"CONCATENATION of constants or of more than {CONCAT_MAX_INPUTS} "
                           "tensors is not supported")
    if not all(_same_quant(t, y) for t in ins):
        raise TinygenError("CONCATENATION inputs with a quantization different from the "
                           "output's are not supported (TFLM int8 requires them equal)")
    axis = o.axis % len(y.shape)
    outer = int(np.prod(y.shape[:axis], dtype=np.int64))
    in_inner = [int(np.prod(t.shape[axis:], dtype=np.int64)) for t in ins]
    params = dict(outer=outer, out_inner=int(np.prod(y.shape[axis:], dtype=np.int64)),
                  count=len(ins), in_inner=in_inner + [0] * (CONCAT_MAX_INPUTS - len(ins)))
    return KernelCall(op.index, op.kind, "tg_concat_s8", "tg_concat_params", params,
                      [t.index for t in ins], y.index, summary=f"axis {axis}, {len(ins)} inputs")


def _pad(m: ir.Model, op: ir.Operator) -> KernelCall:
    x, y = m.tensors[op.inputs[0]], m.tensors[op.outputs[0]]
    pads = m.tensors[op.inputs[1]]
    if not pads.is_const or len(x.shape) > 4:
        raise TinygenError(f"{op.kind} needs constant paddings and at most 4 dimensions")
    if not _same_quant(x, y):
        raise TinygenError(f"{op.kind} with different input and output quantization is not "
                           "supported")
    value = y.quant.zero_point
    if op.kind == "PADV2" and len(op.inputs) > 2 and op.inputs[2] >= 0:
        const = m.tensors[op.inputs[2]]
        if not const.is_const:
            raise TinygenError("PADV2 needs a constant padding value")
        value = int(np.asarray(const.data).reshape(-1)[0])
    lead = 4 - len(x.shape)
    before = [0] * lead + [int(v) for v in np.asarray(pads.data).reshape(-1, 2)[:, 0]]
    params = dict(in_shape=[1] * lead + list(x.shape), out_shape=[1] * lead + list(y.shape),
                  before=before, value=value)
    return KernelCall(op.index, op.kind, "tg_pad_s8", "tg_pad_params", params, [x.index],
                      y.index, summary=f"before {before[lead:]}")


def _reshape(m: ir.Model, op: ir.Operator) -> KernelCall:
    x, y = m.tensors[op.inputs[0]], m.tensors[op.outputs[0]]
    if x.elements != y.elements:
        raise TinygenError(f"RESHAPE from {x.shape} to {y.shape} changes the element count")
    return KernelCall(op.index, op.kind, None, None, {}, [x.index], y.index,
                      summary=f"{x.shape} -> {y.shape} (view)")


_PREPARE = {
    "CONV_2D": _conv, "DEPTHWISE_CONV_2D": _conv, "FULLY_CONNECTED": _fully_connected,
    "AVERAGE_POOL_2D": _pool, "MAX_POOL_2D": _pool, "ADD": _add, "MUL": _mul, "RELU": _relu, "RELU6": _relu, "SOFTMAX": _softmax,
    "QUANTIZE": _affine, "DEQUANTIZE": _affine, "RESHAPE": _reshape, "MEAN": _mean,
    "CONCATENATION": _concatenation, "PAD": _pad, "PADV2": _pad,
    "SUB": _sub, "LOGISTIC": _lut, "TANH": _lut, "HARD_SWISH": _lut, "LEAKY_RELU": _lut,
    "REDUCE_MAX": _reduce_max,
}


_HAS_FAST_REQUANT = {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"}
def fit_dsp_scratch(calls: list[KernelCall], arena_of) -> None:
    """Keeps the DSP convolution kernels' larger scratch from growing the arena.

    arena_of(calls) plans the arena and returns its size. The target is the
    arena with every layer's portable scratch except the 3x3 depthwise
    layers, which keep their ring of 3 int16 input rows (about 6 input rows
    of bytes, small next to the layer's tensors where the arena peaks; vww01
    layers 1 and 3 ran in 1.9 and 1.4 times the instructions without a row
    buffer). While the other DSP kernels' scratch makes the arena larger,
    they are given up largest tensors first: each alone where that shrinks
    the arena, then each for its fallback (the three-pixel convolution from
    int8 patches, or the two-pixel one), then altogether.
    """
    dsp = [c for c in calls if c.dsp_kernel and c.scratch_bytes > c.portable_scratch
           and not c.dsp_kernel.startswith("tg_depthwise3x3")]
    # Layers with the largest tensors first: the arena's peak is likely theirs.
    dsp.sort(key=lambda c: -(c.params["batches"] * (c.params["in_h"] * c.params["in_w"]
                                                     * c.params["in_c"] + c.params["out_h"]
                                                     * c.params["out_w"] * c.params["out_c"])))
    if not dsp:
        return
    wanted = {id(c): c.scratch_bytes for c in dsp}
    for c in dsp:
        c.scratch_bytes = c.portable_scratch
    target = arena_of(calls)
    for c in dsp:
        c.scratch_bytes = wanted[id(c)]
    arena = arena_of(calls)
    # The placer's search (plan/memory.py) is not monotone in one buffer's
    # size, so each layer keeps its DSP kernel only if the arena is then no
    # larger than without it; with none left the arena is the target.
    for c in dsp:
        if arena <= target:
            return
        if c.dsp_fallback is not None:
            kept = (c.dsp_kernel, c.dsp_arrays, c.scratch_bytes)
            c.dsp_kernel, c.dsp_arrays, c.scratch_bytes = c.dsp_fallback
            fallback_arena = arena_of(calls)
            if fallback_arena < arena:
                c.dsp_fallback = None
                arena = fallback_arena
                continue
            c.dsp_kernel, c.dsp_arrays, c.scratch_bytes = kept
        c.scratch_bytes = c.portable_scratch
        portable_arena = arena_of(calls)
        if portable_arena < arena:
            c.dsp_kernel, c.dsp_arrays = None, {}
            arena = portable_arena
        else:
            c.scratch_bytes = wanted[id(c)]
    # Then the slower DSP kernels with smaller scratch, where a layer has one.
    for c in dsp:
        if arena <= target:
            return
        if c.dsp_kernel and c.dsp_fallback is not None:
            c.dsp_kernel, c.dsp_arrays, c.scratch_bytes = c.dsp_fallback
            c.dsp_fallback = None
            arena = arena_of(calls)
    for c in dsp:
        if arena <= target:
            return
        if c.dsp_kernel:
            c.scratch_bytes = c.portable_scratch
            c.dsp_kernel, c.dsp_arrays = None, {}
            arena = arena_of(calls)


def take_dsp_upgrades(calls: list[KernelCall], arena_of) -> None:
    """Takes offered kernels' upgrades (KernelCall.dsp_upgrade: the same
    computation with a larger scratch, reading its stream from flash once per
    layer) layer by layer where the arena then grows no larger; arena_of
    None (one-layer test models) takes them all."""
    arena = arena_of(calls) if arena_of is not None else 0
    for c in calls:
        if not (c.dsp_kernel and c.dsp_upgrade):
            continue
        kept = (c.dsp_kernel, c.dsp_arrays, c.scratch_bytes)
        c.dsp_kernel, c.dsp_arrays, c.scratch_bytes = c.dsp_upgrade
        c.dsp_upgrade = None
        if arena_of is None:
            continue
        grown = arena_of(calls)
        if grown > arena:
            c.dsp_kernel, c.dsp_arrays, c.scratch_bytes = kept
        else:
            arena = grown



TRIPLES_RAM = "tg_conv2d_triples_ram_s8_dsp"
# tg_conv2d_triples_s8_dsp after copying its whole stream to scratch: tens of
# bytes of code where the copying kernel's own pass (MIN_COPY_SAVED_BYTES)
# does not pay, the same pass and order as reading in place.
TRIPLES_COPY = "tg_conv2d_triples_copy_s8_dsp"
# A layer's stream is copied in several parts only where widening each pixel
# triple once per part costs no more than this share of its MAC loop: the
# widening of a chunk costs about what one 2-channel block's MACs on it do.
STREAM_PARTS_COST = 1 / 64
# Copying costs about 0.6 cycles a byte (LDM/STM), reading the stream once
# per pixel triple about 3 a byte (its MACs): a layer of 3 triples (a 3x3
# map: vww01's last two, 96 KB of weights) spends about 6 % of its time on
# the copy, at zero wait states, and reads its weights once instead of 3
# times (213 KB fewer flash bytes per vww01 inference). Layers of 1 or 2
# triples read in place.
MIN_COPY_TRIPLES = 3
# Linking the copying kernel (its pass without the negative-value fix, the
# copy loop, the parameters' copy) adds about 1.25 KB of code: kws01's first
# layer alone on disco_l475vg_iot01a (147 KB fewer bytes read) took its code
# from 11,135 to 12,387 B. A model copies only where its copies together
# save at least this many flash bytes per inference (~200 per byte of code),
# so a small model keeps one pass and its code budget.
MIN_COPY_SAVED_BYTES = 256 * 1024


def copy_stream(call: KernelCall, part_blocks: int) -> None:
    """Turns an offered tg_conv2d_triples_s8_dsp into tg_conv2d_triples_ram_s8_dsp
    copying part_blocks 2-channel blocks of its stream to scratch at a time
    (0: reading it in place)."""
    stream = call.dsp_arrays["stream"]
    blocks = call.params["out_c"] // 2
    block_words = len(stream) // blocks
    part_blocks = min(part_blocks, blocks)
    call.dsp_fallback = (call.dsp_kernel, call.dsp_arrays, call.scratch_bytes)
    call.dsp_kernel = TRIPLES_RAM
    call.dsp_arrays = {"stream": np.concatenate([np.array([part_blocks], dtype=np.int32),
                                                 stream]).astype(np.int32)}
    call.scratch_bytes += 4 * part_blocks * block_words
    call.stream_parts = -(-blocks // part_blocks) if part_blocks else 1


def _uncopy_stream(call: KernelCall) -> None:
    call.dsp_kernel, call.dsp_arrays, call.scratch_bytes = call.dsp_fallback
    call.dsp_fallback, call.stream_parts = None, 1


def _triples(c: KernelCall) -> int:
    """A three-pixel convolution's pixel triples: its passes over the stream."""
    p = c.params
    return -(-(p["batches"] * p["out_h"] * p["out_w"]) // 3)


def fit_stream_copies(calls: list[KernelCall], arena_of) -> None:
    """Reads the three-pixel convolutions' weights from flash once a layer
    where the arena has room (issue 22: the L4's flash wait states and
    prefetch reward fewer, sequential reads).

    tg_conv2d_triples_s8_dsp reads its whole stream (weights, biases,
    requantization records) once per pixel triple. Where the arena, planned
    with the kernels fit_dsp_scratch settled, keeps its size with the stream
    copied into the layer's scratch, the layer takes
    tg_conv2d_triples_ram_s8_dsp: the whole stream, else as few parts as fit
    (each part re-widens every pixel triple: only while that costs at most
    STREAM_PARTS_COST of the layer's MACs, and the output then cannot
    overlap the input). Layers that read the most flash go first; a layer
    that finds no room, or has fewer than MIN_COPY_TRIPLES pixel triples,
    keeps today's order and reads; a model whose copies would save fewer
    than MIN_COPY_SAVED_BYTES of flash reads per inference does not link the
    copying kernel (its code): its layers with room for the whole stream
    take TRIPLES_COPY, the others read in place. Where the model links the copying
    kernel anyway, those take it too, reading in place, for its pass
    without the negative-value fix (a model that copies nothing keeps one
    pass: kws01's code-size budget)."""
    offered = [c for c in calls if c.dsp_kernel == "tg_conv2d_triples_s8_dsp"]
    copied = [c for c in offered if _triples(c) >= MIN_COPY_TRIPLES]
    if not copied:
        return
    arena = arena_of(calls)
    saved = 0
    for c in sorted(copied, key=lambda c: -(_triples(c) - 1) * len(c.dsp_arrays["stream"])):
        blocks = c.params["out_c"] // 2
        for parts in range(1, max(1, int(blocks * STREAM_PARTS_COST) + 1) + 1):
            copy_stream(c, -(-blocks // parts))
            if arena_of(calls) <= arena:
                saved += 4 * (_triples(c) - 1) * (len(c.dsp_arrays["stream"]) - 1)
                break
            _uncopy_stream(c)
    if saved < MIN_COPY_SAVED_BYTES:
        # A whole-stream copy stays, by the in-place kernel's small wrapper.
        for c in offered:
            if c.dsp_kernel == TRIPLES_RAM:
                whole = c.stream_parts == 1
                _uncopy_stream(c)
                if whole:
                    c.dsp_kernel = TRIPLES_COPY
                    c.scratch_bytes += 4 * len(c.dsp_arrays["stream"])
    if any(c.dsp_kernel == TRIPLES_RAM for c in offered):
        for c in offered:
            if c.dsp_kernel != TRIPLES_RAM:
                copy_stream(c, 0)


TRIPLES8_RAM = "tg_conv2d_triples8_ram_s8_dsp"
# The 3x3 depthwise kernels that run tg_dw3x3_ring (dsp/depthwise_conv2d_s8.c),
# whose in-place rule (plan/memory.py _ring_gap) a layer with ring_in_place
# takes; a kernel outside this list keeps the portable kernel's rule.
DW3X3_RING_KERNELS = frozenset(f"tg_depthwise3x3{shape}_s8_dsp" for shape in (
    "s1", "s2", "s1w5", "s2w5", "s1_ram", "s2_ram", "s1w5_ram", "s2w5_ram", "s1w6_ram",
    "s1w3_ram", "s2w3_ram", "s1_halves", "s2_halves", "s1w5_halves", "s2w5_halves"))
# A layer left reading its stream once per pixel triple takes the compact
# copy (TRIPLES8_RAM) even where the arena grows, by at most one byte per
# this many flash bytes it saves per inference: kws01's pointwise layers
# (210 KB each) grow it by 768 B once.
COMPACT_GROWTH_READS = 256


def _compact_copy(c: KernelCall, stream: np.ndarray) -> None:
    """c takes tg_conv2d_triples8_ram_s8_dsp, stream its triples_stream."""
    compact = triples8_ram_stream(stream, c.params["out_c"])
    c.dsp_kernel, c.dsp_arrays = TRIPLES8_RAM, {"stream": compact}
    c.scratch_bytes = max(c.portable_scratch, triples8_ram_scratch(c.params, compact))


def fit_compact_copies(calls: list[KernelCall], arena_of) -> None:
    """Reads from flash once a layer the weights of the three-pixel
    convolutions fit_stream_copies left reading in place (no room for their
    stream and widened inputs), by tg_conv2d_triples8_ram_s8_dsp: its stream
    about a tenth smaller (kws01: 4,544 B per pointwise layer for 5,120), its
    inputs int8, widened in the pass (about a tenth more cycles on the layer).

    Where there are such layers, the 3x3 depthwise layers of the ring kernels
    are placed by the ring's in-place rule first (ring_in_place): a DS-CNN
    chain then no longer steps down by an input row and a half at each
    depthwise layer, which would cost a copy's scratch that much more room
    at every pointwise layer after the first. The copies are taken all
    together where the arena then grows by at most 1/COMPACT_GROWTH_READS
    of the flash bytes they save per inference, else layer by layer (the
    most flash first) on the same terms; where none is, the depthwise
    layers keep the portable kernel's rule. Where that leaves no layer on
    the widened pass but whole-stream copies (TRIPLES_COPY: kws01's first
    layer), those take it too while the arena keeps its size, so the model
    links one pass (kws01's code budget)."""
    def eligible(c: KernelCall) -> bool:
        return triples8_ram_eligible(c.params, c.dsp_arrays["stream"])

    def saves(c: KernelCall) -> int:
        return 4 * (_triples(c) - 1) * len(c.dsp_arrays["stream"])

    readers = [c for c in calls if c.dsp_kernel == "tg_conv2d_triples_s8_dsp"
               and _triples(c) >= MIN_COPY_TRIPLES and eligible(c)]
    if not readers:
        return
    start = arena_of(calls)
    rings = [c for c in calls if c.dsp_kernel in DW3X3_RING_KERNELS]
    for c in rings:
        c.ring_in_place = True
    saved = sum(saves(c) for c in readers)
    kept = {id(c): (c.dsp_kernel, c.dsp_arrays, c.scratch_bytes) for c in readers}
    for c in readers:
        _compact_copy(c, c.dsp_arrays["stream"])
    arena = arena_of(calls)
    if (arena - start) * COMPACT_GROWTH_READS > saved:
        for c in readers:
            c.dsp_kernel, c.dsp_arrays, c.scratch_bytes = kept[id(c)]
        arena, saved = arena_of(calls), 0
        for c in sorted(readers, key=lambda c: -saves(c)):
            gain = saves(c)
            _compact_copy(c, c.dsp_arrays["stream"])
            grown = arena_of(calls)
            if (grown - start) * COMPACT_GROWTH_READS <= saved + gain:
                arena, saved = grown, saved + gain
            else:
                c.dsp_kernel, c.dsp_arrays, c.scratch_bytes = kept[id(c)]
    if not saved:
        for c in rings:
            c.ring_in_place = False
        return
    widened = {"tg_conv2d_triples_s8_dsp", TRIPLES_RAM}
    if any(c.dsp_kernel in widened for c in calls):
        return
    for c in calls:
        if c.dsp_kernel == TRIPLES_COPY and eligible(c):
            copy = (c.dsp_kernel, c.dsp_arrays, c.scratch_bytes)
            _compact_copy(c, copy[1]["stream"])
            if arena_of(calls) > arena:
                c.dsp_kernel, c.dsp_arrays, c.scratch_bytes = copy


TRIPLES16_RAM = "tg_conv2d_triples16_ram_s8_dsp"


def triples16_eligible(params: dict) -> bool:
    """Layers tg_conv2d_triples16_ram_s8_dsp's pass computes: depth in whole
    quads of octs (its loop runs 32 positions a turn) and an activation that
    neither clamps inside int8 nor needs the negative-value fix (act_min is
    -128 and the output zero point too)."""
    octs = (params["k_h"] * params["k_w"] * params["in_c"] + 7) // 8
    return (octs % 4 == 0 and params["act_min"] == -128 and params["act_max"] == 127
            and params["output_zero_point"] == -128)


def widen_stream(call: KernelCall, part_blocks: int) -> None:
    """Turns a tg_conv2d_triples_ram_s8_dsp copying its stream (part_blocks > 0)
    into tg_conv2d_triples16_ram_s8_dsp copying part_blocks 2-channel blocks at
    a time with the weights widened to int16 pairs; the flash stream stays the
    int8 one."""
    stream = call.dsp_arrays["stream"]
    blocks = call.params["out_c"] // 2
    block_words = (len(stream) - 1) // blocks
    octs = (block_words - 8) // 4
    part_blocks = min(part_blocks, blocks)
    rest = call.scratch_bytes - 4 * int(stream[0]) * block_words
    call.dsp_kernel = TRIPLES16_RAM
    call.dsp_arrays = {"stream": np.concatenate([np.array([part_blocks], dtype=np.int32),
                                                 stream[1:]]).astype(np.int32)}
    call.scratch_bytes = rest + 4 * part_blocks * (8 + 8 * octs)
    call.stream_parts = -(-blocks // part_blocks)


def widen_stream_copies(calls: list[KernelCall], arena_of) -> None:
    """Copies the weights of fit_stream_copies' layers widened to int16 pairs
    (tg_conv2d_triples16_ram_s8_dsp: 12 cycles per 12 MACs instead of 13)
    where the arena keeps its size with the twice larger weights in scratch:
    the whole stream, else as few parts as fit_stream_copies would take.
    Layers with the most MACs go first."""
    def macs(c: KernelCall) -> int:
        p = c.params
        return p["batches"] * p["out_h"] * p["out_w"] * p["out_c"] * p["k_h"] * p["k_w"] * p["in_c"]

    copied = [c for c in calls if c.dsp_kernel == TRIPLES_RAM
              and int(c.dsp_arrays["stream"][0]) > 0 and triples16_eligible(c.params)]
    if not copied:
        return
    arena = arena_of(calls)
    for c in sorted(copied, key=lambda c: -macs(c)):
        saved = (c.dsp_kernel, c.dsp_arrays, c.scratch_bytes, c.stream_parts)
        blocks = c.params["out_c"] // 2
        for parts in range(1, max(1, int(blocks * STREAM_PARTS_COST) + 1) + 1):
            widen_stream(c, -(-blocks // parts))
            if arena_of(calls) <= arena:
                break
            c.dsp_kernel, c.dsp_arrays, c.scratch_bytes, c.stream_parts = saved


def prepare_op(m: ir.Model, op: ir.Operator, fast_requant: bool = True) -> KernelCall:
    """One int8 operator's call. fast_requant=False keeps the layer on the
    generic requantization (for tests of that path; the fast one is used
    only where proven exact). plan/prepare.py decides which planner module
    prepares an operator; this one has the closed-division kinds."""
    if op.kind in _HAS_FAST_REQUANT:
        return _PREPARE[op.kind](m, op, fast_requant)
    return _PREPARE[op.kind](m, op)


PREPARE_KINDS = tuple(_PREPARE)
