"""Constant layouts of the Helium (MVE) kernels, firmware/kernels/mve/.

The planner's default layouts suit the portable and DSP-extension kernels
(4x4 blocked rows, depthwise taps in SXTB16 order). Helium wants 16
consecutive depth positions of a convolution / fully connected row
together, so one VMLADAVA.S8 takes them: rows in TFLite order, in blocks of
4 rows x 16 bytes, so 4 rows stream from one pointer. Depthwise taps become
int16 [tap][out_c], so a widening load takes 8 consecutive channels, with
the per-channel records of each group of 8 in the even/odd order the
kernel accumulates in. The records' values (biases, multipliers, shifts)
and the fast-requantization proof are unchanged.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from tinygen.ir import model as ir
from tinygen.plan.ops import KernelCall

ROW_KERNELS = {"tg_conv2d_s8", "tg_fully_connected_s8"}
def blocked_rows_mve(rows: np.ndarray) -> np.ndarray:
    """[n][len] int8 -> blocks of 4 rows x chunks of 16 bytes, each chunk row 0's
    16 bytes then rows 1, 2, 3; zero-padded to whole blocks and chunks."""
    n, length = rows.shape
    n4, len16 = -(-n // 4) * 4, -(-length // 16) * 16
    padded = np.zeros((n4, len16), dtype=np.int8)
    padded[:n, :length] = rows
    return padded.reshape(n4 // 4, 4, len16 // 16, 16).transpose(0, 2, 1, 3).reshape(-1)


def mve_filter(m: ir.Model, call: KernelCall) -> np.ndarray | None:
    """The MVE layout of a call's filter, or None when the call has none."""
    if call.kernel not in ROW_KERNELS and call.kernel != "tg_depthwise_conv2d_s8":
        return None
    op = next(o for o in m.operators if o.index == call.op_index)
    w = m.tensors[op.inputs[1]].data.astype(np.int8)
    if call.kernel in ROW_KERNELS:
        return blocked_rows_mve(w.reshape(w.shape[0], -1))
    # [1][k_h][k_w][out_c] -> [tap][out_c]; doubled like the bias in fast mode.
    taps = w.reshape(-1, w.shape[-1]).astype(np.int16)
    return (taps * (1 + int(call.params["fast"]))).reshape(-1)


def depthwise_quant_mve(quant: np.ndarray, out_c: int) -> np.ndarray:
    """tg_chan_quant records (flat int32) with each whole group of 8 channels in
    the order (0, 2, 4, 6, 1, 3, 5, 7) of the kernel's even/odd accumulators."""
    recs = quant.reshape(-1, 4).copy()
    whole = out_c // 8 * 8
    order = np.arange(whole).reshape(-1, 8)[:, [0, 2, 4, 6, 1, 3, 5, 7]].reshape(-1)
    recs[:whole] = recs[order]
    return recs.reshape(-1)


GATHER_CHUNKS = 4      # TG_CONV_ROWS_GATHER of mve/conv2d_s8.c


def conv_rows_scratch(p: dict) -> int:
    """Scratch of tg_conv2d_s8_mve (firmware/kernels/mve/conv2d_s8.c):
    the int32 sums of one pixel, then unless the layer is 1x1 without
    padding (read in place) its receptive field and, up to GATHER_CHUNKS
    chunks of 16 depth positions, the gather plan (48 bytes per 8)."""
    direct = p["k_h"] == 1 and p["k_w"] == 1 and p["pad_h"] == 0 and p["pad_w"] == 0
    sums = 4 * (-(-int(p["out_c"]) // 4) * 4)
    if direct:
        # two pixels at a time when their inputs fit one chunk
        return sums * (2 if int(p["in_c"]) <= 16 else 1)
    chunks = -(-int(p["k_h"] * p["k_w"] * p["in_c"]) // 16)
    # the patch in whole chunks; the gather plan of small ones (GATHER_CHUNKS)
    return sums + 16 * chunks + (96 * chunks if chunks <= GATHER_CHUNKS else 0)


def planar_records(quant: np.ndarray) -> np.ndarray:
    """tg_chan_quant records (flat int32) as the Helium convolution and
    depthwise (multiplier 1) kernels read them
    in fast mode: per group of 4 channels, the 4 biases, the 4 multipliers,
    the 4 negated shifts (VSHL by -e shifts right), then the 4 rounding terms
    (for depthwise in depthwise_quant_mve's order)."""
    groups = quant.reshape(-1, 4, 4).transpose(0, 2, 1).copy()   # [group][field][lane]
    groups[:, 2, :] = -groups[:, 2, :]
    return groups.reshape(-1)


def depthwise_rows_scratch(p: dict) -> int:
    """Scratch of tg_depthwise_conv2d_s8_mve with multiplier 1 (mve/depthwise_conv2d_s8.c):
    the int32 sums of two pixels, the tap words and offsets, the zero-point row."""
    return 8 * (-(-int(p["out_c"]) // 4) * 4) + 8 * int(p["k_h"] * p["k_w"]) + int(p["in_c"])


def rows_scratch(call: KernelCall):
    """The scratch rule of the call's Helium kernel when it works in two
    phases on planar records (mve/conv2d_s8.c; mve/depthwise_conv2d_s8.c
    with multiplier 1), else None."""
    if call.kernel == "tg_conv2d_s8":
        return conv_rows_scratch
    if call.kernel == "tg_depthwise_conv2d_s8" and call.params["depth_multiplier"] == 1:
        return depthwise_rows_scratch
    return None


def mve_layout(m: ir.Model, calls: list[KernelCall]) -> list[KernelCall]:
    """The calls with their constants rearranged, and their scratch sized,
    for the Helium kernels."""
    out = []
    for call in calls:
        filt = mve_filter(m, call)
        if filt is not None:
            arrays = {**call.arrays, "filter": filt}
            if call.kernel == "tg_depthwise_conv2d_s8" and call.params["depth_multiplier"] == 1:
                arrays["quant"] = depthwise_quant_mve(call.arrays["quant"], call.params["out_c"])
            call = dataclasses.replace(call, arrays=arrays)
        scratch = rows_scratch(call)
        if scratch is not None:
            call = dataclasses.replace(call, scratch_bytes=scratch(call.params))
            if call.params["fast"]:
                arrays = {**call.arrays, "quant": planar_records(call.arrays["quant"])}
                call = dataclasses.replace(call, arrays=arrays)
        out.append(call)
    return out
