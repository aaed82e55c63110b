"""How the planner hands layers to the DSP-extension kernels (tinygen/plan/ops.py).

The kernels themselves are checked against TFLM on QEMU in
test_kernels_emulated.py; here: their streams hold what the kernels read,
and their scratch never grows the arena over the portable kernels' plan.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tinygen.ir import load_model
from tinygen.plan import plan_model
from tinygen.plan.memory import plan_memory
from tinygen.plan.ops import DW3X3_STREAM_WORDS, prepare, rows_dsp_stream

MODELS = Path(__file__).resolve().parents[2] / "models"


@pytest.mark.parametrize("name", ["kws01", "vww01"])
def test_dsp_scratch_does_not_grow_the_arena(name):
    m = load_model(MODELS / f"{name}.tflite")
    portable = prepare(m)
    for c in portable:
        c.scratch_bytes = c.portable_scratch or c.scratch_bytes
    fitted = plan_model(m)
    assert fitted.memory.arena_bytes <= plan_memory(m, portable, True).arena_bytes
    assert any(c.dsp_kernel for c in fitted.calls)


def test_kws01_narrows_row_buffers_instead_of_dropping_the_dsp_kernel():
    plan = plan_model(load_model(MODELS / "kws01.tflite"))
    dw = [c for c in plan.calls if c.kind == "DEPTHWISE_CONV_2D"]
    assert all(c.dsp_kernel == "tg_depthwise3x3s1_s8_dsp" for c in dw)
    segments = [int(c.dsp_arrays["stream"][0]) for c in dw]
    assert min(segments) < max(segments) == dw[0].params["out_w"], segments


def test_depthwise_stream_has_the_segment_then_whole_groups():
    plan = plan_model(load_model(MODELS / "vww01.tflite"), fit_scratch=False)
    for c in plan.calls:
        if c.dsp_kernel and c.kind == "DEPTHWISE_CONV_2D":
            stream = c.dsp_arrays["stream"]
            assert stream[0] == c.params["out_w"]
            groups = c.params["out_c"] // 4
            assert stream.size == 1 + DW3X3_STREAM_WORDS[c.params["stride_w"]] * groups


def test_rows_stream_is_biases_weights_records_per_block():
    chunks = 2
    blocked = np.arange(2 * chunks * 16, dtype=np.int64).astype(np.int8)
    quant = np.arange(8 * 4, dtype=np.int32).reshape(8, 4)
    stream = rows_dsp_stream(blocked, quant, chunks).reshape(2, -1)
    assert stream[1, :4].tolist() == quant[4:, 0].tolist()
    assert stream[1, 4:4 + 2 * chunks * 2].view(np.int8).tolist() == blocked[32:].tolist()
    assert stream[1, -12:].tolist() == quant[4:, 1:].reshape(-1).tolist()
