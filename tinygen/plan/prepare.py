"""Which planner module prepares each operator: the one place that knows them all.

- operators on int16 activations: ``plan/ops_s16.py`` (int16x8);
- the spatial operators of users' own models (transposed and grouped
  convolution, resize, tile, run-time strided slice): ``plan/spatial.py``;
- everything else (the closed-division kinds and the LUT activations):
  ``plan/ops.py``.

The two others build on ops.py's helpers, so none of them imports another's
dispatch and there is no cycle between them.
"""

from __future__ import annotations

from tinygen.ir import model as ir
from tinygen.plan import ops, ops_s16, spatial
from tinygen.plan.ops import KernelCall


def prepare_op(m: ir.Model, op: ir.Operator, fast_requant: bool = True) -> KernelCall:
    """The call of one operator. fast_requant=False keeps the int8
    convolutions on the generic requantization (tests of that path)."""
    if ops_s16.is_s16(m, op):
        return ops_s16.prepare_op(m, op)
    if spatial.is_grouped(m, op):
        return spatial.grouped_conv(m, op)
    if op.kind in spatial.PREPARE:
        return spatial.PREPARE[op.kind](m, op)
    return ops.prepare_op(m, op, fast_requant)


def prepare(m: ir.Model, fast_requant: bool = True) -> list[KernelCall]:
    """Every operator's call, in execution order."""
    return [prepare_op(m, op, fast_requant) for op in m.operators]
