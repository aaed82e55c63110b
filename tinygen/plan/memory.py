"""One arena for every activation, with offsets from tensor lifetimes.

Buffers (tensors, RESHAPE views merged into the tensor they view, and
per-operator scratch) are placed greedily, largest first, at the lowest
offset that does not collide with a buffer alive at the same time. The
no-overlap bound reported next to the planned size is the largest sum of
simultaneously live buffers: without overlapping buffers no placement can
do better than that.

Overlap: an operator whose input dies at it may write its output over that
input where its access order allows. Kernels walk output pixels (or
elements) in order; ``input_gaps`` computes, from the shapes, the smallest
distance D = input offset - output offset at which no output byte lands on
input bytes still to be read: for output pixel p, (p + 1) * out_bytes <=
D + first input byte needed by any later pixel (convolution and
elementwise kernels read pixel p completely before writing it; depthwise
and pooling write channel by channel, so there pixel p itself counts as
"later"). The placement may then put the pair at that distance or more.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

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
    lower_bound_bytes: int       # best any placement without overlapping buffers can do
    buffers: list[Buffer]
    tensor_offsets: dict[int, int]
    scratch_offsets: dict[int, int]
    # (input buffer, output buffer) positions in buffers -> smallest safe
    # input offset - output offset, for the pairs allowed to overlap.
    overlaps: dict[tuple[int, int], int] = field(default_factory=dict)


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


def _window_gap(p: dict, out_bytes_per_pixel: int, strict: bool) -> int:
    """Smallest input-minus-output offset for a windowed NHWC kernel."""
    oy, ox = np.meshgrid(np.arange(p["out_h"]), np.arange(p["out_w"]), indexing="ij")
    iy = np.maximum(oy * p["stride_h"] - p["pad_h"], 0)
    ix = np.maximum(ox * p["stride_w"] - p["pad_w"], 0)
    per_image = (iy * p["in_w"] + ix).reshape(-1) * p["in_c"]
    image_bytes = p["in_h"] * p["in_w"] * p["in_c"]
    first = np.concatenate([per_image + b * image_bytes for b in range(p["batches"])])
    # Lowest input byte that pixel q or any later pixel still reads.
    later = np.minimum.accumulate(first[::-1])[::-1]
    needed = later if strict else np.append(later[1:], np.iinfo(np.int64).max)
    ends = (np.arange(len(first)) + 1) * out_bytes_per_pixel
    return int(max(np.max(ends - needed), 0)) if len(first) else 0


def input_gaps(call: KernelCall) -> dict[int, int]:
    """Input tensor -> smallest (input offset - output offset) that is safe."""
    p = call.params
    if call.kernel == "tg_conv2d_s8":
        return {call.inputs[0]: _window_gap(p, p["out_c"], strict=False)}
    if call.kernel == "tg_depthwise_conv2d_s8":
        return {call.inputs[0]: _window_gap(p, p["out_c"], strict=True)}
    if call.kernel in ("tg_avg_pool2d_s8", "tg_max_pool2d_s8"):
        q = dict(p, in_c=p["channels"])
        return {call.inputs[0]: _window_gap(q, p["channels"], strict=True)}
    if call.kernel == "tg_relu_s8":
        return {call.inputs[0]: 0}
    if call.kernel in ("tg_add_s8", "tg_mul_s8") and not p["shape"]["broadcast"]:
        return {t: 0 for t in call.inputs}
    return {}


def _overlap_rules(calls: list[KernelCall], buffers: list[Buffer]) -> dict[tuple[int, int], int]:
    """(input buffer id, output buffer id) -> smallest safe offset difference."""
    owner = {t: i for i, b in enumerate(buffers) for t in b.tensors}
    rules = {}
    for step, call in enumerate(calls):
        if call.kernel is None or call.output not in owner:
            continue
        out = owner[call.output]
        for tensor, gap in input_gaps(call).items():
            inp = owner.get(tensor)
            if inp is None or inp == out:
                continue
            # Only an input that dies here, into an output born here.
            if buffers[inp].last == step and buffers[out].first == step:
                rules[(inp, out)] = gap
    return rules


def _compatible(a: int, b: int, buffers: list[Buffer], rules) -> bool:
    x, y = buffers[a], buffers[b]
    if not _overlap(x, y):
        return True
    if x.offset + x.size <= y.offset or y.offset + y.size <= x.offset:
        return True
    if (a, b) in rules:
        return x.offset - y.offset >= rules[(a, b)]
    if (b, a) in rules:
        return y.offset - x.offset >= rules[(b, a)]
    return False


def _place(buffers: list[Buffer], rules, order: list[int], leave_room: bool = False) -> int:
    """Greedy: each buffer in order at the lowest offset compatible with those
    already placed (with leave_room, an input that a later output may
    overlap tries offsets with room below it first). Returns the arena size."""
    placed: list[int] = []
    for i in order:
        buf = buffers[i]
        # Room below an input for an output that will overlap it later.
        room = [_align(g) for (a, _), g in rules.items() if a == i]
        candidates = {0, *room}
        for j in placed:
            other = buffers[j]
            candidates.add(_align(other.offset + other.size))
            candidates.update(_align(other.offset + other.size + r) for r in room)
            if (i, j) in rules:      # buf is the input: at least gap after the output
                candidates.add(_align(other.offset + rules[(i, j)]))
            if (j, i) in rules:      # buf is the output: at most gap before the input
                candidates.add(max(0, (other.offset - rules[(j, i)]) // ALIGN * ALIGN))
        floor = max(room) if (leave_room and room) else 0
        for offset in sorted(candidates, key=lambda o: (o < floor, o)):
            buf.offset = offset
            if all(_compatible(i, j, buffers, rules) for j in placed):
                break
        placed.append(i)
    return max((b.offset + b.size for b in buffers), default=0)


def plan_memory(m: ir.Model, calls: list[KernelCall], keep_inputs_alive: bool = True) -> MemoryPlan:
    buffers = _lifetimes(m, calls, keep_inputs_alive)
    rules = _overlap_rules(calls, buffers)
    by_size = sorted(range(len(buffers)), key=lambda k: (-buffers[k].size, buffers[k].first))
    orders = [by_size]
    if rules:
        # Overlap chains place better from the last operator back: each
        # output settles first and its input lines up behind it.
        orders.append(sorted(range(len(buffers)), key=lambda k: (-buffers[k].last, -buffers[k].size)))
        orders.append(sorted(range(len(buffers)), key=lambda k: (buffers[k].first, -buffers[k].size)))
    best = None
    for order in orders:
        for leave_room in ((False, True) if rules else (False,)):
            size = _place(buffers, rules, order, leave_room)
            if best is None or size < best[0]:
                best = (size, [b.offset for b in buffers])
    for b, offset in zip(buffers, best[1]):
        b.offset = offset
    arena = _align(max((b.offset + b.size for b in buffers), default=0))
    steps = max((b.last for b in buffers), default=0) + 1
    lower = max((sum(b.size for b in buffers if b.first <= s <= b.last) for s in range(steps)),
                default=0)
    tensor_offsets = {t: b.offset for b in buffers for t in b.tensors}
    scratch_offsets = {b.scratch_of: b.offset for b in buffers if b.scratch_of is not None}
    used = {k: g for k, g in rules.items()
            if not (buffers[k[0]].offset + buffers[k[0]].size <= buffers[k[1]].offset
                    or buffers[k[1]].offset + buffers[k[1]].size <= buffers[k[0]].offset)}
    return MemoryPlan(max(arena, 16), lower, buffers, tensor_offsets, scratch_offsets, used)
