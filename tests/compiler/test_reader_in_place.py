"""The model reader reads the flatbuffer in place (tinygen/ir/reader.py):
what it reads is what the generated flatbuffers accessors read, and an
offset that leaves the file is a refusal, never a read of other bytes."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from conftest import COMMITTED_MODELS
from tinygen.errors import TinygenError
from tinygen.ir.reader import read_tflite
from tinygen.text import printable

tflite = pytest.importorskip("tflite")

MODELS = sorted(COMMITTED_MODELS.glob("*.tflite"))


def _ints(table, field: str) -> list[int]:
    if getattr(table, field + "Length")() == 0:
        return []
    return [int(v) for v in getattr(table, field + "AsNumpy")()]


@pytest.mark.parametrize("path", MODELS, ids=[p.stem for p in MODELS])
def test_reads_what_the_flatbuffers_accessors_read(path: Path):
    model = read_tflite(path)
    fb = tflite.Model.GetRootAsModel(path.read_bytes(), 0)
    sg = fb.Subgraphs(0)
    assert len(model.tensors) == sg.TensorsLength()
    for t, ref in zip(model.tensors, (sg.Tensors(i) for i in range(sg.TensorsLength()))):
        assert t.shape == tuple(_ints(ref, "Shape"))
        assert t.name == printable(ref.Name().decode())     # names are shown cut
        q = ref.Quantization()
        if q is not None and q.ScaleLength():
            assert np.array_equal(t.quant.scales, q.ScaleAsNumpy())
            assert np.array_equal(t.quant.zero_points, q.ZeroPointAsNumpy())
            assert t.quant.axis == q.QuantizedDimension()
        buf = fb.Buffers(ref.Buffer())
        if buf.DataLength():
            assert t.data.tobytes() == buf.DataAsNumpy().tobytes()
            assert t.data.flags.owndata and t.data.flags.writeable
        else:
            assert t.data is None
    assert len(model.operators) == sg.OperatorsLength()
    for op, ref in zip(model.operators, (sg.Operators(i) for i in range(sg.OperatorsLength()))):
        code = fb.OperatorCodes(ref.OpcodeIndex())
        assert op.kind == {v: k for k, v in vars(tflite.BuiltinOperator).items()
                           if isinstance(v, int)}[max(code.BuiltinCode(),
                                                      code.DeprecatedBuiltinCode())]
        assert op.inputs == _ints(ref, "Inputs") and op.outputs == _ints(ref, "Outputs")
    assert model.inputs == _ints(sg, "Inputs") and model.outputs == _ints(sg, "Outputs")


def test_options_match_the_accessors():
    """Slots differ per options table (depthwise puts depth_multiplier at
    10, bilinear resize starts at 8): checked on every convolution and pool
    of the committed models."""
    seen = set()
    for path in MODELS:
        model = read_tflite(path)
        fb = tflite.Model.GetRootAsModel(path.read_bytes(), 0)
        sg = fb.Subgraphs(0)
        for op in model.operators:
            ref = sg.Operators(op.index)
            table = ref.BuiltinOptions()
            if op.kind in ("CONV_2D", "DEPTHWISE_CONV_2D"):
                cls = (tflite.Conv2DOptions if op.kind == "CONV_2D"
                       else tflite.DepthwiseConv2DOptions)
                o = cls()
                o.Init(table.Bytes, table.Pos)
                assert (op.options.stride_h, op.options.stride_w) == (o.StrideH(), o.StrideW())
                assert (op.options.dilation_h, op.options.dilation_w) == (
                    o.DilationHFactor(), o.DilationWFactor())
                if op.kind == "DEPTHWISE_CONV_2D":
                    assert op.options.depth_multiplier == o.DepthMultiplier()
                seen.add(op.kind)
            elif op.kind in ("AVERAGE_POOL_2D", "MAX_POOL_2D"):
                o = tflite.Pool2DOptions()
                o.Init(table.Bytes, table.Pos)
                assert (op.options.filter_h, op.options.filter_w) == (
                    o.FilterHeight(), o.FilterWidth())
                assert (op.options.stride_h, op.options.stride_w) == (o.StrideH(), o.StrideW())
                seen.add(op.kind)
    assert {"CONV_2D", "DEPTHWISE_CONV_2D"} <= seen


def _refusal(tmp_path: Path, data: bytes) -> str:
    path = tmp_path / "bad.tflite"
    path.write_bytes(data)
    with pytest.raises(TinygenError) as exc:
        read_tflite(path)
    assert "\n" not in str(exc.value)
    return str(exc.value)


def test_a_vtable_before_the_file_start_is_refused(tmp_path: Path):
    """struct would read a negative position from the file's end."""
    raw = bytearray((COMMITTED_MODELS / "kws01.tflite").read_bytes())
    root = struct.unpack_from("<I", raw, 0)[0]
    struct.pack_into("<i", raw, root, root + 64)        # vtable at -64
    assert "truncated or corrupt (bad offset)" in _refusal(tmp_path, bytes(raw))


def test_a_vector_longer_than_the_file_is_refused(tmp_path: Path):
    raw = bytearray((COMMITTED_MODELS / "kws01.tflite").read_bytes())
    fb = tflite.Model.GetRootAsModel(bytes(raw), 0)
    t = fb.Subgraphs(0).Tensors(0)
    at = t._tab.Vector(t._tab.Offset(4)) - 4          # the shape vector's length
    struct.pack_into("<I", raw, at, 0x7FFFFFFF)
    assert "truncated or corrupt (bad offset)" in _refusal(tmp_path, bytes(raw))


def test_a_truncated_file_is_refused_in_one_line_at_every_cut(tmp_path: Path):
    raw = (COMMITTED_MODELS / "kws01.tflite").read_bytes()
    refused = 0
    for cut in range(8, len(raw), len(raw) // 97):
        path = tmp_path / "cut.tflite"
        path.write_bytes(raw[:cut])
        try:
            read_tflite(path)       # the cut may only drop bytes nothing refers to
        except TinygenError as exc:
            assert "\n" not in str(exc) and "cut.tflite" in str(exc)
            refused += 1
    assert refused > 90
