"""tinygen inspect: what the compiler makes of a .tflite model."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from tinygen.boards import load_board
from tinygen.errors import TinygenError
from tinygen.ir import SUPPORTED, load_model, operator_support, read_folded
from tinygen.ir.validate_s16 import SUPPORTED_S16
from tinygen.plan import plan_model
from tinygen.port.aot import kernel_target
from tinygen.text import format_table


EPILOG = f"""\
what you see:
  one row per operator after build-time folding (SHAPE/STRIDED_SLICE/PACK
  shape arithmetic from open-batch models is evaluated and disappears):
  its input and output shapes, its parameters (kernel, stride, dilation,
  padding, fused activation) and its multiply-accumulates. Below the table:
  total MACs, bytes of constants placed in flash (weights, folded biases,
  per-channel multipliers and shifts, tables) and the activation arena:
  planned size next to the no-overlap bound (largest sum of tensors alive
  at the same time: the best placement that never overlaps two live
  tensors; the planner beats it where an operator may write its output over
  the input it consumes). The planner keeps the graph input alive for the whole
  inference, because the benchmark runs many inferences on one loaded
  input; --no-keep-input shows what the arena would be without that.

supported operators (int8, per-tensor or per-channel weights):
  {', '.join(SUPPORTED)}
int16x8 models (16-bit activations, 8-bit weights, float32 graph edges):
  {', '.join(SUPPORTED_S16)}

a model tinygen cannot compile gets one row per operator instead, saying
whether tinygen compiles it and, for each one it does not, what to change in
the model or the converter; then the refusal, and a non-zero exit.

with --board the layers are planned for that board's core, as `tinygen
build` plans them: the kernel each layer calls (DSP-extension kernels on
Cortex-M4/M7/M33, Helium on the M55, portable C elsewhere), the scratch it
takes in the arena, and the arena and weights against the board's largest
RAM region and its flash. Code, stack and the harness are not counted here:
`tinygen build` measures the whole image.

examples:
  tinygen inspect models/kws01.tflite
  tinygen inspect models/kws01.tflite --board disco_l475vg_iot01a
  tinygen inspect models/vww01.tflite --json | jq .arena_bytes
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "inspect",
        help="show operators, shapes, MACs and memory of a .tflite model",
        description=(
            "Load an int8 .tflite model the way the compiler does and report what "
            "it will generate: operators, shapes, parameters, MACs per layer and in "
            "total, planned arena against its no-overlap bound, and flash for weights. "
            "A model tinygen cannot compile is refused with the reason and the fix."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("model", type=Path, metavar="MODEL", help="an int8 .tflite file")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--board", metavar="NAME",
                   help="plan for this board's core: the kernel and scratch of each layer, "
                        "and the arena and weights against its memory (see `tinygen boards`)")
    p.add_argument("--no-keep-input", action="store_true",
                   help="let the planner reuse the input tensor's memory once it is consumed")
    p.set_defaults(handler=run)


def describe(path: Path, keep_input: bool = True, board=None) -> dict:
    """What inspect reports; board (a Board) plans for its core's kernels."""
    model = load_model(path)
    target = kernel_target(board) if board is not None else "portable"
    plan = plan_model(model, keep_inputs_alive=keep_input, layout=target)
    layers = []
    for call in plan.calls:
        layers.append(dict(
            index=call.op_index, op=call.kind,
            inputs=[list(model.tensors[t].shape) for t in call.inputs],
            output=list(model.tensors[call.output].shape),
            params=call.summary, macs=call.macs, const_bytes=call.const_bytes,
            kernel=call.kernel, function=call.function, variant=call.variant,
            scratch_bytes=call.scratch_bytes))
    info = dict(
        model=str(path), description=model.description, operators=layers,
        macs=plan.macs, weight_bytes=plan.weight_bytes,
        arena_bytes=plan.memory.arena_bytes, lower_bound_bytes=plan.memory.lower_bound_bytes,
        activations="int16" if any(t.dtype == "int16" for t in model.tensors) else "int8",
        input=dict(shape=list(plan.input.shape), dtype=plan.input.dtype,
                   scale=plan.input_quant_scale, zero_point=plan.input_quant_zero_point),
        output=dict(shape=list(plan.output.shape), dtype=plan.output.dtype,
                    scale=plan.output_quant_scale, zero_point=plan.output_quant_zero_point),
        keep_input_alive=keep_input, target=target)
    if board is not None:
        info["board"] = dict(name=board.name, cpu=board.cpu, flash_bytes=board.flash_bytes,
                             largest_ram_region_bytes=max((r.size for r in board.regions("ram")),
                                                          default=0))
    return info


def support(path: Path) -> dict:
    """Per operator: compiled or not, and what to change (for models load_model refuses)."""
    model = read_folded(path)
    rows = []
    for op, fix in operator_support(model):
        rows.append(dict(index=op.index, op=op.kind,
                         inputs=[list(model.tensors[t].shape) for t in op.inputs if t >= 0],
                         output=list(model.tensors[op.outputs[0]].shape),
                         supported=fix is None, fix=fix or ""))
    return dict(model=str(path), operators=rows)


def _print_support(path: Path, as_json: bool, error: TinygenError) -> None:
    try:
        info = support(path)
    except Exception:                # noqa: BLE001 - the table is extra; the refusal says why
        return
    if as_json:
        info["error"] = str(error)
        print(json.dumps(info, indent=2))
        return
    rows = [("#", "operator", "output", "supported")]
    for r in info["operators"]:
        rows.append((str(r["index"]), r["op"], _shape(r["output"]),
                     "yes" if r["supported"] else f"no: {r['fix']}"))
    print(f"model {info['model']}")
    print(format_table(rows))


def _shape(s: list[int]) -> str:
    return "x".join(str(d) for d in s) or "scalar"


def run(args: argparse.Namespace) -> int:
    board = load_board(args.board) if args.board else None
    try:
        info = describe(args.model, keep_input=not args.no_keep_input, board=board)
    except TinygenError as e:
        if Path(args.model).is_file():
            _print_support(args.model, args.json, e)
        raise
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    on_board = "board" in info
    rows = [("#", "operator", "input", "output", "parameters", "MACs")
            + (("kernel", "scratch B") if on_board else ())]
    for layer in info["operators"]:
        rows.append((str(layer["index"]), layer["op"],
                     " + ".join(_shape(s) for s in layer["inputs"]), _shape(layer["output"]),
                     layer["params"], f"{layer['macs']:,}")
                    + ((layer["function"] or "(view)", f"{layer['scratch_bytes']:,}")
                       if on_board else ()))
    print(f"model {info['model']}")
    if info["description"]:
        print(f"about {info['description']}")
    print(format_table(rows, right={5, 7} if on_board else {5}))
    i, o = info["input"], info["output"]
    print(f"input   {_shape(i['shape'])} {i['dtype']} (scale {i['scale']:.6g}, "
          f"zero point {i['zero_point']})")
    print(f"output  {_shape(o['shape'])} {o['dtype']} (scale {o['scale']:.6g}, "
          f"zero point {o['zero_point']})")
    print(f"MACs    {info['macs']:,} ({info['activations']} activations)")
    print(f"flash   {info['weight_bytes']:,} bytes of weights and constants")
    bound = info["lower_bound_bytes"]
    print(f"arena   {info['arena_bytes']:,} bytes planned, no-overlap bound {bound:,} bytes"
          + ("" if info["keep_input_alive"] else " (input memory reused)"))
    if on_board:
        b = info["board"]
        ram, flash = b["largest_ram_region_bytes"], b["flash_bytes"]
        print(f"board   {b['name']} ({b['cpu']}, {info['target']} kernels): arena "
              f"{_share(info['arena_bytes'], ram)} of its largest RAM region ({ram:,} B),\n"
              f"        weights {_share(info['weight_bytes'], flash)} of its flash ({flash:,} B); "
              "code, stack and harness: see tinygen build")
    return 0


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f} %" if whole else "n/a"
