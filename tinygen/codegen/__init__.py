"""Stage 3: plan -> C sources (model.c, model.h) from templates/model/.

``generate_model_sources(model_path, out_dir)`` is the entry point the
firmware build uses.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from tinygen.codegen.facts import ModelFacts
from tinygen.ir import load_model
from tinygen.paths import firmware_dir
from tinygen.plan import ModelPlan, StreamingPlan, plan_model
from tinygen.plan.variants import variant_dirs
from tinygen.render import c_array, c_float, c_value, render

__all__ = ["ModelFacts", "ModelSources", "c_array", "c_float", "c_value", "generate_model_sources",
           "kernels_dir", "render_context", "write_sources"]

log = logging.getLogger(__name__)

_CTYPES = {"int8": "int8_t", "int16": "int16_t", "int32": "int32_t", "int64": "int64_t",
           "uint16": "uint16_t", "float32": "float"}


@dataclass
class ModelSources:
    model_c: Path
    model_h: Path
    kernel_sources: list[Path]     # the firmware/kernels/ files the plan calls
    include_dirs: list[Path]       # out_dir, firmware/kernels and its variant folders used
    arena_bytes: int
    lower_bound_bytes: int
    weight_bytes: int
    macs: int
    input_elements: int
    output_elements: int
    input_is_float: bool
    output_is_float: bool
    facts: ModelFacts
    # The streaming step model.c holds (tg_model_stream_step), or None and why not.
    stream: StreamingPlan | None = None
    stream_note: str = "not a streaming build"
    target: str = "portable"       # the kernel target (tinygen/plan/variants.py)


def kernels_dir() -> Path:
    return firmware_dir() / "kernels"


def _c_args(call, sym: dict, offsets: dict, scratch: int) -> list[str] | None:
    """The C arguments after the parameter record of a call that lists them
    (the int16x8 kernels, tinygen/plan/ops_s16.py), else None."""
    spec = getattr(call, "c_args", None)
    if not spec:
        return None
    out = []
    for kind, what in spec:
        if kind == "const":
            out.append(sym[what])
        elif kind == "scratch":
            out.append(f"(void *)(tg_arena + {scratch})")
        else:
            ctype = call.c_in if kind == "in" else call.c_out
            const = "const " if kind == "in" else ""
            out.append(f"({const}{ctype} *)({const}void *)(tg_arena + {offsets[what]})")
    return out


def render_context(plan: ModelPlan) -> dict:
    mem = plan.memory
    ops = []
    for call in plan.calls:
        prefix = f"tg_op{call.op_index}"
        arrays, sym = [], {}
        for name, values in call.arrays.items():
            symbol = f"{prefix}_{name}"
            sym[name] = symbol
            arrays.append(dict(symbol=symbol, ctype=_CTYPES[values.dtype.name],
                               count=int(values.size), data=values))
        # kernel: the function the plan settled on (tinygen/plan/variants.py);
        # base: the operator's portable kernel, whose arguments it takes
        # unless it reads a stream of its own.
        ops.append(dict(
            args=_c_args(call, sym, mem.tensor_offsets, mem.scratch_offsets.get(call.op_index, 0)),
            index=call.op_index, kind=call.kind, summary=call.summary, kernel=call.function,
            base=call.kernel, variant=call.variant, struct=call.struct, params=call.params,
            pname=f"{prefix}_params", arrays=arrays, sym=sym, out=mem.tensor_offsets[call.output],
            in0=mem.tensor_offsets[call.inputs[0]],
            ins=[mem.tensor_offsets[t] for t in call.inputs],
            operands=[dict(const=True, symbol=sym[o], offset=0) if isinstance(o, str)
                      else dict(const=False, symbol="", offset=mem.tensor_offsets[o])
                      for o in call.operands],
            in1=mem.tensor_offsets[call.inputs[1]] if len(call.inputs) > 1 else 0,
            scratch=mem.scratch_offsets.get(call.op_index, 0)))
    return dict(
        model_name=plan.model.name, ops=ops, macs=plan.macs, weight_bytes=plan.weight_bytes,
        arena_bytes=mem.arena_bytes, lower_bound_bytes=mem.lower_bound_bytes,
        input_offset=mem.tensor_offsets[plan.input.index],
        output_offset=mem.tensor_offsets[plan.output.index],
        input_elements=plan.input.elements, output_elements=plan.output.elements,
        input_is_float=int(plan.input.dtype == "float32"),
        output_is_float=int(plan.output.dtype == "float32"),
        input_scale=plan.input_quant_scale, input_zero_point=plan.input_quant_zero_point,
        output_scale=plan.output_quant_scale, output_zero_point=plan.output_quant_zero_point,
        stream=plan.stream, op_at={op["index"]: op for op in ops}, target=plan.target,
        uses_s16=any(op["args"] for op in ops))


def write_sources(plan: ModelPlan, out_dir: Path) -> ModelSources:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ctx = render_context(plan)
    model_c, model_h = out_dir / "model.c", out_dir / "model.h"
    model_h.write_text(render("model/model.h.j2", **ctx))
    model_c.write_text(render("model/model.c.j2", **ctx))
    log.debug("wrote %s and %s", model_c, model_h)
    kdir = kernels_dir()
    return ModelSources(
        model_c=model_c, model_h=model_h,
        kernel_sources=[kdir / name for name in plan.kernel_sources],
        include_dirs=[out_dir, kdir, *(kdir / d for d in variant_dirs(plan.calls))],
        arena_bytes=plan.memory.arena_bytes,
        lower_bound_bytes=plan.memory.lower_bound_bytes, weight_bytes=plan.weight_bytes,
        macs=plan.macs, input_elements=plan.input.elements,
        output_elements=plan.output.elements, input_is_float=bool(ctx["input_is_float"]),
        output_is_float=bool(ctx["output_is_float"]), facts=model_facts(ctx),
        stream=plan.stream, stream_note=plan.stream_note, target=plan.target)


def model_facts(ctx: dict) -> ModelFacts:
    """The facts model.h states, from the context it is rendered with."""
    return ModelFacts(
        input_elements=ctx["input_elements"], input_is_float=bool(ctx["input_is_float"]),
        input_scale=ctx["input_scale"], input_zero_point=ctx["input_zero_point"],
        output_elements=ctx["output_elements"], output_is_float=bool(ctx["output_is_float"]),
        output_scale=ctx["output_scale"], output_zero_point=ctx["output_zero_point"],
        arena_bytes=ctx["arena_bytes"], macs=ctx["macs"], ops=len(ctx["ops"]))


def generate_model_sources(model_path: Path, out_dir: Path, *,
                           keep_inputs_alive: bool = True,
                           fast_requant: bool = True,
                           layout: str = "portable",
                           fit_scratch: bool = True,
                           streaming: bool = False) -> ModelSources:
    """Compile a .tflite model into model.c/model.h in out_dir; layout names
    the kernel target (tinygen.plan.LAYOUTS: which variants the calls use). streaming=True adds
    the per-hop step of a streaming benchmark (tg_model_stream_reset and
    tg_model_stream_step) when the model fits it (ModelSources.stream_note
    says why not)."""
    plan = plan_model(load_model(Path(model_path)), keep_inputs_alive=keep_inputs_alive,
                      fast_requant=fast_requant, layout=layout, fit_scratch=fit_scratch,
                      streaming=streaming)
    return write_sources(plan, out_dir)
