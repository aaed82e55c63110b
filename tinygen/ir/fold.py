"""Build-time evaluation of shape arithmetic.

A Keras model whose batch size is left open converts Flatten/Reshape into
SHAPE -> STRIDED_SLICE -> PACK -> RESHAPE, computing the new shape at run
time. tinygen knows every shape at build time, so it evaluates those
operators here and turns their results into constants; RESHAPE then only
needs its (static) output shape.
"""

from __future__ import annotations

import logging

import numpy as np

from tinygen.ir import model as ir

log = logging.getLogger(__name__)

FOLDABLE = ("SHAPE", "STRIDED_SLICE", "PACK", "CONCATENATION", "CAST", "SQUEEZE",
            "EXPAND_DIMS", "RESHAPE")


def strided_slice(x: np.ndarray, begin, end, strides, o: ir.StridedSliceOptions) -> np.ndarray:
    if o.ellipsis_mask or o.new_axis_mask:
        raise ValueError("ellipsis/new-axis masks")
    slices = []
    for d in range(len(begin)):
        b = None if o.begin_mask >> d & 1 else int(begin[d])
        e = None if o.end_mask >> d & 1 else int(end[d]) + (int(begin[d]) if o.offset else 0)
        s = int(strides[d])
        if o.shrink_axis_mask >> d & 1:
            slices.append(int(begin[d]))
        else:
            slices.append(slice(b, e, s))
    return np.asarray(x[tuple(slices)])


def _evaluate(m: ir.Model, op: ir.Operator) -> np.ndarray | None:
    ins = [m.tensors[i] for i in op.inputs if i >= 0]
    out = m.tensors[op.outputs[0]]
    if op.kind == "SHAPE":
        return np.array(ins[0].shape, dtype=out.dtype)
    if not all(t.is_const for t in ins):
        return None
    if op.kind == "STRIDED_SLICE":
        return strided_slice(ins[0].data, ins[1].data, ins[2].data, ins[3].data, op.options)
    if op.kind == "PACK":
        return np.stack([t.data for t in ins], axis=op.options.axis)
    if op.kind == "CONCATENATION":
        return np.concatenate([t.data for t in ins], axis=op.options.axis)
    if op.kind in ("CAST", "SQUEEZE", "EXPAND_DIMS", "RESHAPE"):
        return ins[0].data.astype(out.dtype).reshape(out.shape)
    return None


def fold_constants(m: ir.Model) -> ir.Model:
    """Evaluate constant shape arithmetic; drop RESHAPE's shape operand."""
    changed = True
    while changed:
        changed = False
        for op in list(m.operators):
            if op.kind not in FOLDABLE:
                continue
            if op.kind == "RESHAPE" and not m.tensors[op.inputs[0]].is_const:
                continue
            out = m.tensors[op.outputs[0]]
            try:
                value = _evaluate(m, op)
                if value is None:
                    continue
                data = np.asarray(value).astype(out.dtype).reshape(out.shape)
            except (ValueError, IndexError, TypeError, AttributeError, OverflowError):
                # Left in place: validate refuses the operator by name.
                continue
            out.data = data
            m.operators.remove(op)
            log.debug("folded %s into constant %s = %s", op.kind, out.name, out.data.tolist())
            changed = True
    for op in m.operators:
        if op.kind == "RESHAPE":
            op.inputs = op.inputs[:1]
    for i, op in enumerate(m.operators):
        op.index = i
    return m
