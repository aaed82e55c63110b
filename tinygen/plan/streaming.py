"""The incremental streaming plan: which layers run one time row per hop.

A streaming benchmark (sww01) infers on a window of feature rows shifted by
one row per hop, and the rules allow caching activations between hops. A
model whose layers run over the time axis, VALID depthwise convolutions
(k x 1) each followed by a pointwise (1 x 1) convolution, then a fully
connected layer and a softmax, needs per hop only the newest time row of
every layer: each depthwise layer reads the last k rows of the layer before
it, kept in a ring (a window shifted by one row per hop). sww01: 826,368
MACs per full window, 46,040 per hop.

``plan_streaming(calls)`` decides it from the kernel calls the planner
prepared (their shapes and kernels), never from generated C; the code
generator renders the per-hop step from the result with the same kernels,
weights and requantization as the full window (templates/model/stream.c.j2),
so every row equals the full-window row bit for bit. A model off the
pattern gets None and the reason; the build then runs the full window and
says why.
"""

from __future__ import annotations

from dataclasses import dataclass

from tinygen.plan.ops import KernelCall


@dataclass(frozen=True)
class StreamBlock:
    """A depthwise-over-time layer and the pointwise layer after it."""

    depthwise: KernelCall
    pointwise: KernelCall
    rows: int            # k: time rows the depthwise layer reads per output row
    ring_rows: int       # rows of this block's output the next block keeps (its k); 0: last block

    @property
    def channels(self) -> int:
        """Channels of the block's output row (the pointwise layer's)."""
        return int(self.pointwise.params["out_c"])


@dataclass(frozen=True)
class StreamingPlan:
    blocks: tuple[StreamBlock, ...]
    dense: KernelCall                # the fully connected layer on the last row
    softmax: KernelCall
    input_rows: int                  # rows of the model's input window
    input_channels: int
    full_macs: int                   # per full window
    step_macs: int                   # per hop

    @property
    def window_rows(self) -> tuple[int, ...]:
        return tuple(b.rows for b in self.blocks)

    @property
    def logits(self) -> int:
        return int(self.dense.params["out_depth"])

    def describe(self) -> str:
        return (f"incremental: {self.step_macs:,} MACs per hop instead of {self.full_macs:,} "
                f"(depthwise windows of {', '.join(str(k) for k in self.window_rows)} rows)")


def _depthwise_over_time(p: dict) -> bool:
    return (p.get("in_w") == p.get("out_w") == p.get("k_w") == 1 and p.get("stride_h") == 1
            and p.get("dil_h") == 1 and p.get("pad_h") == 0 and p.get("depth_multiplier") == 1
            and p["out_h"] == p["in_h"] - p["k_h"] + 1)


def _pointwise(p: dict) -> bool:
    return (p.get("k_h") == p.get("k_w") == 1 and p.get("in_w") == 1
            and p.get("in_h") == p.get("out_h") and p.get("stride_h") == 1)


def plan_streaming(calls: list[KernelCall]) -> tuple[StreamingPlan | None, str]:
    """(plan, why): the incremental plan of a prepared model, or None and the reason."""
    layers: list[tuple[str, KernelCall]] = []
    for call in calls:
        if call.kernel is None:          # a view (RESHAPE): no code, no rows of its own
            continue
        p = call.params
        if call.kind == "DEPTHWISE_CONV_2D":
            if not _depthwise_over_time(p):
                return None, (f"op {call.op_index}: the depthwise convolution is not a VALID "
                              "k x 1 one over time")
            layers.append(("DW", call))
        elif call.kind == "CONV_2D":
            if not _pointwise(p):
                return None, f"op {call.op_index}: only pointwise (1x1) convolutions run per row"
            layers.append(("PW", call))
        elif call.kind == "FULLY_CONNECTED":
            layers.append(("FC", call))
        elif call.kind == "SOFTMAX":
            layers.append(("SOFTMAX", call))
        else:
            return None, f"op {call.op_index}: {call.kind} has no per-row form"
    shape = [kind for kind, _ in layers]
    pairs = (len(shape) - 2) // 2
    if pairs < 1 or shape != ["DW", "PW"] * pairs + ["FC", "SOFTMAX"]:
        return None, ("the model is not depthwise-over-time + pointwise blocks followed by "
                      f"a fully connected layer and softmax ({' '.join(shape)})")
    ops = [call for _, call in layers]
    for a, b in zip(ops[:2 * pairs], ops[1:2 * pairs]):
        if b.params["in_h"] != a.params["out_h"]:
            return None, f"op {b.op_index} does not read op {a.op_index}'s rows"
    if ops[2 * pairs - 2].params["out_h"] != 1:
        return None, "the last depthwise layer leaves more than one time row"
    blocks = []
    for n in range(pairs):
        dw, pw = ops[2 * n], ops[2 * n + 1]
        ring = int(ops[2 * n + 2].params["k_h"]) if n + 1 < pairs else 0
        blocks.append(StreamBlock(dw, pw, int(dw.params["k_h"]), ring))
    dense, softmax = ops[-2], ops[-1]
    full = step = 0
    for b in blocks:
        dw, pw = b.depthwise.params, b.pointwise.params
        full += dw["out_h"] * dw["out_c"] * dw["k_h"] + pw["out_h"] * pw["out_c"] * pw["in_c"]
        step += dw["out_c"] * dw["k_h"] + pw["out_c"] * pw["in_c"]
    full += dense.params["in_depth"] * dense.params["out_depth"]
    step += dense.params["in_depth"] * dense.params["out_depth"]
    first = blocks[0].depthwise.params
    return StreamingPlan(tuple(blocks), dense, softmax, int(first["in_h"]), int(first["in_c"]),
                         int(full), int(step)), "fits"
