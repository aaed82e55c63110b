"""One arena for every activation, with offsets from tensor lifetimes.

Buffers (tensors, RESHAPE views merged into the tensor they view, and
per-operator scratch) are placed greedily, largest first, at the lowest
offset that does not collide with a buffer alive at the same time. The
lower bound reported next to the planned size is the largest sum of
simultaneously live buffers: no placement can do better than that.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tinygen.ir import model as ir
from tinygen.plan.ops import KernelCall

ALIGN = 8


def _align(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


@dataclass
class Buffer:
    name: str
    size: int
    first: int   # first step (operator position) it is alive
    last: int    # last step it is alive
    tensors: list[int] = field(default_factory=list)
    scratch_of: int | None = None
    offset: int = -1


@dataclass
class MemoryPlan:
    arena_bytes: int
    lower_bound_bytes: int
    buffers: list[Buffer]
    tensor_offsets: dict[int, int]
    scratch_offsets: dict[int, int]


def _lifetimes(m: ir.Model, calls: list[KernelCall], keep_inputs_alive: bool) -> list[Buffer]:
    steps = len(calls)
    root: dict[int, int] = {}

    def find(t: int) -> int:
        while t in root:
            t = root[t]
        return t

    for call in calls:
        if call.kernel is None:           # a view shares its input's storage
            root[call.output] = find(call.inputs[0])
    span: dict[int, list[int]] = {}

    def touch(t: int, step: int) -> None:
        r = find(t)
        lo_hi = span.setdefault(r, [step, step])
        lo_hi[0], lo_hi[1] = min(lo_hi[0], step), max(lo_hi[1], step)

    for i in m.inputs:
        touch(i, 0)
        if keep_inputs_alive:
            touch(i, steps - 1)
    for step, call in enumerate(calls):
        for t in call.inputs:
            touch(t, step)
        touch(call.output, step)
    for o in m.outputs:
        touch(o, steps - 1)
    members: dict[int, list[int]] = {}
    for t in {t for c in calls for t in c.inputs + [c.output]} | set(m.inputs) | set(m.outputs):
        members.setdefault(find(t), []).append(t)
    buffers = []
    for r, (first, last) in span.items():
        size = max(m.tensors[t].nbytes for t in members[r])
        buffers.append(Buffer(m.tensors[r].name, size, first, last, sorted(members[r])))
    for step, call in enumerate(calls):
        if call.scratch_bytes:
            buffers.append(Buffer(f"scratch of op {call.op_index} ({call.kind})",
                                  call.scratch_bytes, step, step, [], call.op_index))
    return buffers


def _overlap(a: Buffer, b: Buffer) -> bool:
    return a.first <= b.last and b.first <= a.last


def plan_memory(m: ir.Model, calls: list[KernelCall], keep_inputs_alive: bool = True) -> MemoryPlan:
    buffers = _lifetimes(m, calls, keep_inputs_alive)
    placed: list[Buffer] = []
    for buf in sorted(buffers, key=lambda b: (-b.size, b.first)):
        offset = 0
        for other in sorted((p for p in placed if _overlap(p, buf)), key=lambda p: p.offset):
            if offset + buf.size <= other.offset:
                break
            offset = max(offset, _align(other.offset + other.size))
        buf.offset = offset
        placed.append(buf)
    arena = _align(max((b.offset + b.size for b in buffers), default=0))
    steps = max((b.last for b in buffers), default=0) + 1
    lower = max((sum(b.size for b in buffers if b.first <= s <= b.last) for s in range(steps)),
                default=0)
    tensor_offsets = {t: b.offset for b in buffers for t in b.tensors}
    scratch_offsets = {b.scratch_of: b.offset for b in buffers if b.scratch_of is not None}
    return MemoryPlan(max(arena, 16), lower, buffers, tensor_offsets, scratch_offsets)
