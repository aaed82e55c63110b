"""Stage 2: IR -> plan (kernel parameters and the memory arena).

``plan_model(model)`` runs every operator's build-time "prepare" half and
places all activations in one arena.
"""

from __future__ import annotations

from dataclasses import dataclass

from tinygen.ir import Model, Tensor
from tinygen.plan.memory import MemoryPlan, plan_memory
from tinygen.plan.ops import KernelCall
from tinygen.plan.prepare import prepare
from tinygen.plan.streaming import StreamingPlan, plan_streaming
from tinygen.plan.variants import KERNEL_SOURCES, TARGETS, choose_variants, target_name

__all__ = ["ModelPlan", "plan_model", "KernelCall", "MemoryPlan", "KERNEL_SOURCES", "LAYOUTS",
           "StreamingPlan", "plan_streaming"]
# The kernel targets plan_model's layout= takes (tinygen/plan/variants.py).
LAYOUTS = tuple(TARGETS)


@dataclass
class ModelPlan:
    model: Model
    calls: list[KernelCall]
    memory: MemoryPlan
    input: Tensor            # graph input as the caller fills it (int8 or float32)
    output: Tensor
    input_quant_scale: float
    input_quant_zero_point: int
    output_quant_scale: float
    output_quant_zero_point: int
    # A streaming build's per-hop step (tinygen.plan.streaming), when asked
    # for and the model fits; else None and stream_note says why.
    stream: StreamingPlan | None = None
    stream_note: str = "not a streaming build"
    target: str = "portable"  # the kernel target the calls were settled for (plan/variants.py)

    @property
    def macs(self) -> int:
        return sum(c.macs for c in self.calls)

    @property
    def weight_bytes(self) -> int:
        return sum(c.const_bytes for c in self.calls)

    @property
    def kernel_sources(self) -> list[str]:
        """The files under firmware/kernels/ the calls' functions are in."""
        return sorted({c.source for c in self.calls if c.source})


def _quant_of(m: Model, t: Tensor, producer_kind: str) -> tuple[float, int]:
    """Scale/zero point of an int8 tensor, or of the int8 side of a float edge."""
    if t.quant is not None and t.dtype == "int8":
        return float(t.quant.scale), t.quant.zero_point
    for op in m.operators:
        if producer_kind == "QUANTIZE" and op.kind == "QUANTIZE" and op.inputs[0] == t.index:
            q = m.tensors[op.outputs[0]].quant
            return float(q.scale), q.zero_point
        if producer_kind == "DEQUANTIZE" and op.kind == "DEQUANTIZE" and op.outputs[0] == t.index:
            q = m.tensors[op.inputs[0]].quant
            return float(q.scale), q.zero_point
    return 1.0, 0


def plan_model(m: Model, keep_inputs_alive: bool = True, fast_requant: bool = True,
               layout: str = "portable", fit_scratch: bool = True,
               streaming: bool = False) -> ModelPlan:
    """layout: the kernel target whose variants the calls use
    (tinygen/plan/variants.py TARGETS): "portable" (the portable C only: the
    host and cores without the DSP extension), "dsp" (Cortex-M4/M7/M33),
    "mve" (Helium, Cortex-M55, with tinygen/plan/layout_mve.py's constants)
    or "host" (AVX2 hosts). The generated C runs only on such a target.
    fit_scratch=False keeps every offered DSP kernel's scratch even where it
    grows the arena (tests of those kernels on one-layer models, where any
    scratch does).
    streaming=True also plans the per-hop step of a streaming benchmark
    (tinygen.plan.streaming) when the model fits it."""
    target = target_name(layout)
    calls = choose_variants(
        m, prepare(m, fast_requant), target,
        (lambda cs: plan_memory(m, cs, keep_inputs_alive).arena_bytes) if fit_scratch else None)
    memory = plan_memory(m, calls, keep_inputs_alive)
    inp, out = m.input_tensors[0], m.output_tensors[0]
    in_s, in_zp = _quant_of(m, inp, "QUANTIZE")
    out_s, out_zp = _quant_of(m, out, "DEQUANTIZE")
    stream, note = plan_streaming(calls) if streaming else (None, "not a streaming build")
    return ModelPlan(m, calls, memory, inp, out, in_s, in_zp, out_s, out_zp, stream, note,
                     target)
