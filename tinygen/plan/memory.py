"""One arena for every activation, with offsets from tensor lifetimes.

Buffers (tensors, RESHAPE views merged into the tensor they view, and
per-operator scratch) are placed by ``place_buffers``: a greedy pass puts
each buffer, in a given order, at the lowest offset compatible with the
buffers alive at the same time, and a small deterministic search over
orders keeps the smallest arena (a few hundred passes at most, well under
a second at build time). The
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

import functools
import random
from dataclasses import dataclass, field

import numpy as np

from tinygen.ir import model as ir
from tinygen.plan.ops import DW3X3_RING_KERNELS, KernelCall

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


def _ring_gap(p: dict) -> int:
    """Smallest input-minus-output offset for the 3x3 depthwise kernels of
    the DSP (dsp/depthwise_conv2d_s8.c tg_dw3x3_ring; for layers the planner
    marked KernelCall.ring_in_place): they read every input
    row once, into a ring of three, and write output row oy after the three
    rows under it, so only input rows from oy * stride - pad + 3 on are still
    to be read (the next image's from its first). In place, or the output up
    to about a row above the input, is safe (kws01: -320, where the portable
    kernel's strict window gap is 448)."""
    r_in, r_out = p["in_w"] * p["in_c"], p["out_w"] * p["out_c"]
    img_in, img_out = p["in_h"] * r_in, p["out_h"] * r_out
    worst = None
    for b in range(p["batches"]):
        for oy in range(p["out_h"]):
            unread = max(oy * p["stride_h"] - p["pad_h"] + 3, 0)
            if unread < p["in_h"]:
                needed = b * img_in + unread * r_in
            elif b + 1 < p["batches"]:
                needed = (b + 1) * img_in
            else:
                continue
            gap = b * img_out + (oy + 1) * r_out - needed
            worst = gap if worst is None else max(worst, gap)
    return 0 if worst is None else worst      # every row read before any is written


def input_gaps(call: KernelCall) -> dict[int, int]:
    """Input tensor -> smallest (input offset - output offset) that is safe."""
    p = call.params
    if call.ring_in_place and (call.dsp_kernel or call.function) in DW3X3_RING_KERNELS:
        return {call.inputs[0]: _ring_gap(p)}
    if call.kernel == "tg_conv2d_s8":
        if call.stream_parts > 1:   # every part reads every pixel's input again
            return {}
        return {call.inputs[0]: _window_gap(p, p["out_c"], strict=False)}
    if call.kernel == "tg_depthwise_conv2d_s8":
        return {call.inputs[0]: _window_gap(p, p["out_c"], strict=True)}
    if call.kernel in ("tg_avg_pool2d_s8", "tg_max_pool2d_s8"):
        q = dict(p, in_c=p["channels"])
        return {call.inputs[0]: _window_gap(q, p["channels"], strict=True)}
    if call.kernel in ("tg_relu_s8", "tg_lut_s8"):
        return {call.inputs[0]: 0}
    if call.kernel in ("tg_add_s8", "tg_mul_s8", "tg_sub_s8") and not p["shape"]["broadcast"]:
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


class _Placer:
    """Decodes a placement order into offsets: each buffer, in order, at the
    lowest offset compatible with the buffers already placed that are alive
    at the same time (with leave_room, an input that a later output may
    overlap tries offsets with room below it first).

    Compatible: disjoint bytes, or an (input, output) pair of the overlap
    rules at no less than its gap. The lowest such offset is always among
    the candidates: 0, the end of a placed buffer (plus the room wanted
    below), a rule partner's offset plus or minus its gap."""

    def __init__(self, buffers: list[Buffer], rules: dict[tuple[int, int], int]):
        n = len(buffers)
        self.sizes = [b.size for b in buffers]
        self.conflicts = [[j for j in range(n) if j != i and _overlap(buffers[i], buffers[j])]
                          for i in range(n)]
        # above[i][j]: i is the input of output j: offset(i) - offset(j) >= gap.
        self.above: list[dict[int, int]] = [{} for _ in range(n)]
        self.below: list[dict[int, int]] = [{} for _ in range(n)]
        for (a, b), gap in rules.items():
            self.above[a][b] = gap
            self.below[b][a] = gap
        self.room = [sorted({_align(g) for g in self.above[i].values()}) for i in range(n)]

    def fits(self, i: int, offset: int, placed: list[int], offsets: list[int]) -> bool:
        end = offset + self.sizes[i]
        for j in placed:
            other = offsets[j]
            if end <= other or other + self.sizes[j] <= offset:
                continue
            gap = self.above[i].get(j)
            if gap is not None and offset - other >= gap:
                continue
            gap = self.below[i].get(j)
            if gap is not None and other - offset >= gap:
                continue
            return False
        return True

    def place(self, i: int, offsets: list[int], leave_room: bool) -> None:
        placed = [j for j in self.conflicts[i] if offsets[j] >= 0]
        room = self.room[i]
        candidates = {0, *room}
        for j in placed:
            end = offsets[j] + self.sizes[j]
            candidates.add(_align(end))
            for r in room:
                candidates.add(_align(end + r))
            gap = self.above[i].get(j)
            if gap is not None:      # i is the input: at least gap after the output
                candidates.add(_align(offsets[j] + gap))
            gap = self.below[i].get(j)
            if gap is not None:      # i is the output: at most gap before the input
                candidates.add(max(0, (offsets[j] - gap) // ALIGN * ALIGN))
        candidates = {o for o in candidates if o >= 0}    # (a negative gap: _ring_gap)
        floor = room[-1] if leave_room and room else 0
        # Past every placed buffer always fits, so a candidate is taken.
        for offset in sorted(candidates, key=lambda o: (o < floor, o)):
            if self.fits(i, offset, placed, offsets):
                offsets[i] = offset
                return

    def decode(self, order: list[int], leave_room: bool, start: int = 0,
               prefix: list[int] | None = None) -> list[int]:
        """Offsets for order; with prefix (offsets of an order that agrees
        with this one before position start), only order[start:] is placed
        again: a buffer's offset depends only on those placed before it."""
        offsets = [-1] * len(self.sizes)
        if prefix is not None:
            for i in order[:start]:
                offsets[i] = prefix[i]
        else:
            start = 0
        for i in order[start:]:
            self.place(i, offsets, leave_room)
        return offsets

    def extent(self, offsets: list[int]) -> int:
        return max((o + s for o, s in zip(offsets, self.sizes)), default=0)


def overlap_bound(buffers: list[Buffer], rules: dict[tuple[int, int], int]) -> int:
    """A lower bound for any placement under the overlap rules.

    At each step, buffers linked by no rule of that step (directly or
    through others) cannot share bytes, so the step needs at least the sum,
    over the groups the rules link, of what each group needs: no less than
    an (input, output) pair needs (both side by side, or overlapping with
    the input at least the gap above the output) and no less than any set
    of its buffers that no rule links pairwise (side by side)."""
    steps = max((b.last for b in buffers), default=-1) + 1
    best = 0
    for s in range(steps):
        live = [i for i, b in enumerate(buffers) if b.first <= s <= b.last]
        active = {(a, b): g for (a, b), g in rules.items()
                  if buffers[b].first == s and buffers[a].last == s}
        linked: dict[int, set[int]] = {i: set() for i in live}
        for a, b in active:
            linked[a].add(b)
            linked[b].add(a)
        seen: set[int] = set()
        total = 0
        for i in live:
            if i in seen:
                continue
            group, todo = [], [i]
            seen.add(i)
            while todo:
                k = todo.pop()
                group.append(k)
                for other in linked[k] - seen:
                    seen.add(other)
                    todo.append(other)
            need = max(buffers[k].size for k in group)
            for (a, b), g in active.items():
                if a in group:
                    pair = buffers[a].size + buffers[b].size
                    need = max(need, min(pair, max(buffers[b].size, g + buffers[a].size)))
            for start in group:          # unlinked sets, greedily from each buffer
                chosen = [start]
                for k in sorted(group, key=lambda k: -buffers[k].size):
                    if k not in chosen and not linked[k] & set(chosen):
                        chosen.append(k)
                need = max(need, sum(buffers[k].size for k in chosen))
            total += need
        best = max(best, total)
    return best


@dataclass
class _Candidate:
    size: int
    offsets: list[int]
    order: list[int]
    leave_room: bool


def place_buffers(buffers: list[Buffer], rules: dict[tuple[int, int], int],
                  iterations: int = 1000, patience: int = 400, budget: int = 20000,
                  seed: int = 0) -> int:
    """Sets every buffer's offset under the overlap rules; returns the arena
    size (the end of the highest buffer).

    The placement is a function of the buffers' sizes and lifetimes, the
    rules and the search settings only, so it is remembered on exactly
    those (``_placement``): planning the same graph again (the DSP scratch
    fitting re-plans it, a build then a verify, a fuzzed model whose
    mutation left the buffers as they were) costs a look-up.
    """
    if not buffers:
        return 0
    layout = tuple((b.size, b.first, b.last) for b in buffers)
    offsets = _placement(layout, tuple(sorted(rules.items())), iterations, patience, budget, seed)
    for b, offset in zip(buffers, offsets):
        b.offset = offset
    return max(b.offset + b.size for b in buffers)


PLACEMENTS_REMEMBERED = 512


@functools.lru_cache(maxsize=PLACEMENTS_REMEMBERED)
def _placement(layout: tuple[tuple[int, int, int], ...], rules: tuple[tuple[tuple[int, int], int], ...],
               iterations: int, patience: int, budget: int, seed: int) -> tuple[int, ...]:
    """The offsets search_placement finds for these (size, first, last) buffers."""
    buffers = [Buffer(f"b{i}", size, first, last) for i, (size, first, last) in enumerate(layout)]
    search_placement(buffers, dict(rules), iterations, patience, budget, seed)
    return tuple(b.offset for b in buffers)


# Searches from further seeds while the arena is above the lower bound: the
# local search can settle in a placement that moving one buffer cannot
# improve. kws01 (the in-place DS-CNN chain, its 3x3 depthwise rings beside
# it) came to 12,912 B from seed 0 and 12,464 B from seed 1: where the chain
# drops below its rings pays for two rings or three, and only a move of
# several buffers at once changes it.
SEARCH_RESTARTS = 4


def search_placement(buffers: list[Buffer], rules: dict[tuple[int, int], int],
                     iterations: int = 1000, patience: int = 400, budget: int = 20000,
                     seed: int = 0) -> int:
    """place_buffers without remembering: the smallest arena of the searches
    from seeds seed, seed + 1, ... (SEARCH_RESTARTS at most, fewer once one
    reaches the lower bound); each search is _search_once."""
    best: list[int] | None = None
    arena = 0
    for k in range(SEARCH_RESTARTS):
        size, bound = _search_once(buffers, rules, iterations, patience, budget, seed + k)
        if best is None or size < arena:
            best, arena = [b.offset for b in buffers], size
        if arena <= bound or not rules:
            break
    assert best is not None
    for b, offset in zip(buffers, best):
        b.offset = offset
    return arena


def _search_once(buffers: list[Buffer], rules: dict[tuple[int, int], int],
                 iterations: int, patience: int, budget: int, seed: int) -> tuple[int, int]:
    """One search: sets the offsets, returns (arena, the aligned lower bound).

    Greedy placement (_Placer) decodes an order. The orders tried are a few
    heuristic ones (largest first, last use first, first use first; each
    also with room left under inputs), each followed by the order of the
    offsets it produced, then a local search: move one buffer next to one
    it shares a step with (mostly buffers alive where the arena peaks) and
    keep the change when the arena does not grow, until the lower bound of
    overlap_bound, `iterations` moves, `patience` moves without a gain, or
    `budget` buffer placements (each move places the buffers from the first
    one it changed; this bounds the time on large graphs, ~1 s at most).
    Deterministic for a given seed (no clock involved).

    Buffers alive at every step and in no rule are left out of the search
    and stacked on top: nothing can share their bytes, so any placement can
    be rearranged with them on top at no cost (remove them, close the gap,
    put them back above). They then drop into a hole if one spans all steps."""
    n = len(buffers)
    if n == 0:
        return 0, 0
    steps = max(b.last for b in buffers) + 1
    in_rules = {i for pair in rules for i in pair}
    pinned = sorted((i for i, b in enumerate(buffers)
                     if b.first == 0 and b.last == steps - 1 and i not in in_rules),
                    key=lambda i: -buffers[i].size)
    free = [i for i in range(n) if i not in set(pinned)]
    placer = _Placer(buffers, rules)
    bound = _align(overlap_bound(buffers, rules)) - sum(buffers[i].size for i in pinned)

    def extent(offsets: list[int]) -> int:
        return max((offsets[i] + placer.sizes[i] for i in free), default=0)

    def run(order: list[int], leave_room: bool, start: int = 0,
            prefix: list[int] | None = None) -> _Candidate:
        offsets = placer.decode(order, leave_room, start, prefix)
        return _Candidate(extent(offsets), offsets, order, leave_room)

    size_key = [(-buffers[k].size, buffers[k].first) for k in range(n)]
    seeds = [sorted(free, key=lambda k: size_key[k])]
    if rules:
        # Overlap chains place better from the last operator back: each
        # output settles first and its input lines up behind it.
        seeds.append(sorted(free, key=lambda k: (-buffers[k].last, -buffers[k].size)))
        seeds.append(sorted(free, key=lambda k: (buffers[k].first, -buffers[k].size)))
        # The same for the large buffers only, small ones filling in after.
        large = max(buffers[k].size for k in free) // 4
        seeds.append(sorted(free, key=lambda k: (buffers[k].size < large, -buffers[k].last,
                                                 -buffers[k].size)))
    best: _Candidate | None = None
    for order in seeds:
        for leave_room in ((False, True) if rules else (False,)):
            first = run(order, leave_room)
            # The same buffers bottom-up: fills holes the first pass left.
            again = run(sorted(order, key=lambda k: (first.offsets[k], size_key[k])), leave_room)
            for cand in (first, again):
                if best is None or cand.size < best.size:
                    best = cand
    assert best is not None
    rng = random.Random(seed)
    movable = [i for i in free if any(j not in pinned for j in placer.conflicts[i])]
    current, critical, stall, placements = best, None, 0, 0
    for _ in range(iterations if rules else 0):
        if best.size <= bound or not movable or stall >= patience or placements > budget:
            break
        if critical is None:
            # Buffers alive where the highest buffer is, and their rule partners.
            top = max(free, key=lambda k: current.offsets[k] + placer.sizes[k])
            near = {k for k in movable if _overlap(buffers[k], buffers[top])}
            near |= {k for k in movable if any(p in near for p in (*placer.above[k], *placer.below[k]))}
            critical = sorted(near)
        i = rng.choice(critical if critical and rng.random() < 0.7 else movable)
        j = rng.choice([k for k in placer.conflicts[i] if k not in pinned])
        order = list(current.order)
        was = order.index(i)
        order.pop(was)
        at = order.index(j) + rng.randrange(2)
        order.insert(at, i)
        leave_room = current.leave_room
        start = min(was, at)
        if rng.random() < 0.1:
            leave_room, start = not leave_room, 0
        cand = run(order, leave_room, start, current.offsets)
        placements += len(order) - start
        stall += 1
        if cand.size <= current.size:
            if cand.size < best.size:
                best, stall = cand, 0
            current, critical = cand, None
    offsets = list(best.offsets)
    for i in pinned:
        placer.place(i, offsets, False)
    for b, offset in zip(buffers, offsets):
        b.offset = offset
    return placer.extent(offsets), bound + sum(buffers[i].size for i in pinned)


def plan_memory(m: ir.Model, calls: list[KernelCall], keep_inputs_alive: bool = True) -> MemoryPlan:
    buffers = _lifetimes(m, calls, keep_inputs_alive)
    rules = _overlap_rules(calls, buffers)
    place_buffers(buffers, rules)
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
