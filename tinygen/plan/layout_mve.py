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


def mve_layout(m: ir.Model, calls: list[KernelCall]) -> list[KernelCall]:
    """The calls with their constants rearranged for the Helium kernels."""
    out = []
    for call in calls:
        filt = mve_filter(m, call)
        if filt is not None:
            arrays = {**call.arrays, "filter": filt}
            if call.kernel == "tg_depthwise_conv2d_s8" and call.params["depth_multiplier"] == 1:
                arrays["quant"] = depthwise_quant_mve(call.arrays["quant"], call.params["out_c"])
            call = dataclasses.replace(call, arrays=arrays)
        out.append(call)
    return out
