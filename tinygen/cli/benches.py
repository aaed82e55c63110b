"""tinygen benches: list the MLPerf Tiny benchmarks."""

from __future__ import annotations

import argparse
import json

from tinygen.benches import ALL_BENCHMARKS, METRIC_AUC, Benchmark
from tinygen.text import format_table


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "benches",
        help="list the MLPerf Tiny benchmarks",
        description=(
            "List the MLPerf Tiny closed-division benchmarks (v1.4: kws, vww, ic, ic2, ad "
            "single-stream, sww streaming): input the host sends, what the DUT reports, "
            "quality target. Use the short name (kws, vww, ic, ic2, ad, sww) or the model id "
            "(kws01, ...) wherever a command takes --bench."
        ),
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=run)


def _target(b: Benchmark) -> str:
    if b.is_streaming:
        return f"FN <= {b.fn_max}, FP <= {b.fp_max} over the {b.long_test_words}-word long test"
    if b.metric == METRIC_AUC:
        return f"AUC >= {b.target:g}"
    return f"top-1 >= {b.target:.0%} ({b.accuracy_stimuli} stimuli)"


def _host_sends(b: Benchmark) -> str:
    if b.is_streaming:  # the interface board plays audio; the DUT makes the features
        return "16 kHz audio (interface board)"
    return f"{b.input_bytes} B {b.input_format}"


def run(args: argparse.Namespace) -> int:
    if args.json:
        print(json.dumps([b.to_dict() for b in ALL_BENCHMARKS], indent=2))
        return 0
    rows = [("bench", "id", "scenario", "model", "input", "host sends", "target")]
    for b in ALL_BENCHMARKS:
        rows.append((
            b.short, b.id, b.scenario, b.architecture,
            "int8 " + "x".join(map(str, b.input_shape)),
            _host_sends(b), _target(b),
        ))
    print(format_table(rows))
    print("\nThe committed models in models/ are untrained reference architectures: "
          "use them for port verification, latency and memory, not accuracy "
          "(tinygen model fetch gets the official trained ones).")
    return 0
