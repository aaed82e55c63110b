"""Streaming (incremental) inference for sww01-shaped models.

The rules allow caching activations between hops. A model whose layers run
over the time axis, VALID depthwise convolutions (k x 1) each followed by a
pointwise (1 x 1) convolution, then a fully connected layer and a softmax,
needs per hop only the newest time row of every layer: each depthwise
layer reads the last k rows of the layer before it, kept in a ring (a
window shifted by one row per hop). sww01: 826,368 MACs per full window,
46,528 per hop.

This module reads the compiled model (src/model.c: its operator comments,
parameter records and the calls in tg_model_invoke) and appends to it
``tg_model_stream_reset`` and ``tg_model_stream_step``: the same kernel
calls with the same weights and requantization, on one output row. So
every row equals the full-window row bit for bit, and the rings start as
the full window starts after `start`: every input row int8 0, so every row
of every layer equal to the one computed from zeros. verify compares every
hop's output with the TFLM oracle on the full window.

``plan`` returns None with the reason when the model does not fit the
pattern; the build then runs the full window and says why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_OP = re.compile(r"^/\* op (\d+): (\w+)(.*?)\*/", re.M)
_PARAMS = re.compile(r"static const (tg_\w+_params) tg_op(\d+)_params = \{(.*?)\};", re.S)
_FIELD = re.compile(r"\.(\w+)\s*=\s*(-?\d+)")
_S8 = re.compile(r"TG_S8\((\d+)\)")


@dataclass(frozen=True)
class Layer:
    index: int
    kind: str            # DW, PW, FC, SOFTMAX
    fields: dict
    call: str            # the call text from tg_model_invoke


@dataclass(frozen=True)
class Plan:
    layers: tuple[Layer, ...]
    input_rows: int
    input_channels: int
    full_macs: int
    step_macs: int

    def describe(self) -> str:
        return (f"incremental: {self.step_macs:,} MACs per hop instead of {self.full_macs:,} "
                f"(depthwise windows of {', '.join(str(l.fields['k_h']) for l in self.layers if l.kind == 'DW')}"
                " rows)")


def _calls(model_c: str) -> dict[int, str]:
    body = model_c[model_c.index("void tg_model_invoke(void)"):]
    body = body[body.index("TG_OP_BEGIN();") + len("TG_OP_BEGIN();"):]
    calls, start = {}, 0
    for m in re.finditer(r"TG_OP_END\((\d+)\);", body):
        calls[int(m.group(1))] = body[start:m.start()].strip()
        start = m.end()
    return calls


def plan(model_c: str) -> tuple[Plan | None, str]:
    """(plan, why): the incremental plan of a compiled model, or None and the reason."""
    kinds = {int(i): (k, rest) for i, k, rest in _OP.findall(model_c)}
    params = {int(i): dict((k, int(v)) for k, v in _FIELD.findall(body))
              for _, i, body in _PARAMS.findall(model_c)}
    try:
        calls = _calls(model_c)
    except ValueError:
        return None, "the compiled model has no tg_model_invoke to take the calls from"
    layers: list[Layer] = []
    for i in sorted(kinds):
        kind, rest = kinds[i]
        if "(view)" in rest:
            continue
        f = params.get(i, {})
        call = calls.get(i, "")
        if kind == "DEPTHWISE_CONV_2D":
            ok = (f.get("in_w") == f.get("out_w") == f.get("k_w") == 1 and f.get("stride_h") == 1
                  and f.get("dil_h") == 1 and f.get("pad_h") == 0 and f.get("depth_multiplier") == 1
                  and f["out_h"] == f["in_h"] - f["k_h"] + 1)
            if not ok:
                return None, f"op {i}: the depthwise convolution is not a VALID k x 1 one over time"
            layers.append(Layer(i, "DW", f, call))
        elif kind == "CONV_2D":
            if not (f.get("k_h") == f.get("k_w") == 1 and f.get("in_w") == 1
                    and f.get("in_h") == f.get("out_h") and f.get("stride_h") == 1):
                return None, f"op {i}: only pointwise (1x1) convolutions run per row"
            layers.append(Layer(i, "PW", f, call))
        elif kind == "FULLY_CONNECTED":
            layers.append(Layer(i, "FC", f, call))
        elif kind == "SOFTMAX":
            layers.append(Layer(i, "SOFTMAX", f, call))
        else:
            return None, f"op {i}: {kind} has no per-row form"
    shape = [l.kind for l in layers]
    pairs = (len(shape) - 2) // 2
    if pairs < 1 or shape != ["DW", "PW"] * pairs + ["FC", "SOFTMAX"]:
        return None, ("the model is not depthwise-over-time + pointwise blocks followed by "
                      f"a fully connected layer and softmax ({' '.join(shape)})")
    rows = layers[0].fields["in_h"]
    for a, b in zip(layers, layers[1:]):
        if a.kind == "DW" and b.fields["in_h"] != a.fields["out_h"]:
            return None, f"op {b.index} does not read op {a.index}'s rows"
        if a.kind == "PW" and b.kind == "DW" and b.fields["in_h"] != a.fields["out_h"]:
            return None, f"op {b.index} does not read op {a.index}'s rows"
    last_dw = layers[2 * pairs - 2]
    if last_dw.fields["out_h"] != 1:
        return None, "the last depthwise layer leaves more than one time row"
    if any(not l.call for l in layers):
        return None, "a layer's kernel call was not found in tg_model_invoke"
    full = step = 0
    for l in layers:
        f = l.fields
        if l.kind == "DW":
            full += f["out_h"] * f["out_c"] * f["k_h"]
            step += f["out_c"] * f["k_h"]
        elif l.kind == "PW":
            full += f["out_h"] * f["out_c"] * f["in_c"]
            step += f["out_c"] * f["in_c"]
        elif l.kind == "FC":
            full += f["in_depth"] * f["out_depth"]
            step += f["in_depth"] * f["out_depth"]
    return Plan(tuple(layers), rows, layers[0].fields["in_c"], full, step), "fits"


def _rewrite(call: str, index: int, src: str, dst: str, own_params: bool = True) -> str:
    """The op's call(s) on our buffers: the params copy, input, output; the
    scratch area stays in the arena (unused otherwise). Each call statement
    (the #if branches of a kernel choice) is rewritten on its own."""
    def one(m: re.Match) -> str:
        slots = iter([src, dst])

        def sub(s: re.Match) -> str:
            return next(slots, s.group(0))
        text = _S8.sub(sub, m.group(0))
        return text.replace(f"&tg_op{index}_params", f"&tg_sp{index}") if own_params else text
    return re.sub(r"tg_\w+\(&tg_op%d_params.*?\);" % index, one, call, flags=re.S)


def step_code(p: Plan) -> str:
    """C appended to model.c (templates/stream/incremental.c.j2):
    tg_model_stream_reset and tg_model_stream_step."""
    from tinygen.stream.port import render
    pairs = [(p.layers[i], p.layers[i + 1]) for i in range(0, len(p.layers) - 2, 2)]
    fc, sm = p.layers[-2], p.layers[-1]
    k0 = pairs[0][0].fields["k_h"]
    blocks = []
    for n, (dw, pw) in enumerate(pairs):
        c_out = pw.fields["out_c"]
        k_next = pairs[n + 1][0].fields["k_h"] if n + 1 < len(pairs) else 0
        dst = f"(int8_t *)(tg_ring{n} + {(k_next - 1) * c_out})" if k_next else "tg_last"
        src = (f"(int8_t *)(window + {(p.input_rows - k0) * dw.fields['in_c']})" if n == 0
               else f"tg_ring{n - 1}")
        zero_src = "(int8_t *)tg_zero_rows" if n == 0 else f"tg_ring{n - 1}"
        blocks.append({
            "n": n, "dw": dw, "pw": pw, "c_out": c_out, "k_next": k_next,
            "dw_call": _rewrite(dw.call, dw.index, src, f"tg_dw{n}"),
            "pw_call": _rewrite(pw.call, pw.index, f"tg_dw{n}", dst),
            "dw_zero_call": _rewrite(dw.call, dw.index, zero_src, f"tg_dw{n}"),
            "pw_zero_call": _rewrite(pw.call, pw.index, f"tg_dw{n}", dst),
        })
    return render("incremental.c.j2", plan=p, blocks=blocks, k0_bytes=k0 * p.input_channels,
                  logits=fc.fields["out_depth"],
                  fc_call=_rewrite(fc.call, fc.index, "tg_last", "tg_logits", own_params=False),
                  softmax_call=_rewrite(sm.call, sm.index, "tg_logits", "out", own_params=False))
