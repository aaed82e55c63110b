"""What the rest of the build needs to know about a generated model.

Both code generators (tinygen's own, tinygen.codegen, and TFLM's glue,
tinygen.codegen.tflm_glue) return these facts with the sources they write, so
no later stage re-reads the generated C. ``macros()`` gives the values of
the TG_MODEL_* macros model.h defines, written as model.h writes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tinygen.render import c_float


@dataclass(frozen=True)
class ModelFacts:
    input_elements: int
    input_is_float: bool
    input_scale: float
    input_zero_point: int
    output_elements: int
    output_is_float: bool
    output_scale: float
    output_zero_point: int
    arena_bytes: int                 # TG_MODEL_ARENA_BYTES: the arena model.c/the glue declares
    macs: int
    ops: int                         # operators the model times in a profiling build
    # Engine-specific macros, in model.h's order: name (without TG_MODEL_) -> value.
    extra_before: tuple[tuple[str, str], ...] = field(default=())
    extra_after: tuple[tuple[str, str], ...] = field(default=())

    def macros(self) -> dict[str, str]:
        """TG_MODEL_* name -> value as model.h spells it, in model.h's order."""
        body = [("INPUT_ELEMENTS", str(int(self.input_elements))),
                ("INPUT_IS_FLOAT", str(int(self.input_is_float))),
                ("INPUT_SCALE", c_float(self.input_scale)),
                ("INPUT_ZERO_POINT", str(int(self.input_zero_point))),
                ("OUTPUT_ELEMENTS", str(int(self.output_elements))),
                ("OUTPUT_IS_FLOAT", str(int(self.output_is_float))),
                ("OUTPUT_SCALE", c_float(self.output_scale)),
                ("OUTPUT_ZERO_POINT", str(int(self.output_zero_point))),
                ("ARENA_BYTES", str(int(self.arena_bytes))),
                ("MACS", str(int(self.macs)))]
        named = [*self.extra_before, *body, *self.extra_after, ("OPS", str(int(self.ops)))]
        return {f"TG_MODEL_{name}": value for name, value in named}
