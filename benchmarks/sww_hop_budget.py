"""sww01 per board: instructions per 32 ms hop for the features, the
full-window and the incremental inference, the duty cycle at the board's
clock and the estimated power.

For every emulated board: build the streaming firmware three times
(features only, features + full window, features + incremental), stream 2 s of a synthetic word through
QEMU's emulated audio source and read the processing pin's on-time in
executed instructions (tinygen.runner.sww_hops). Real-board time is
estimated with the cycle model (tinygen.runner.cycles): a traced run's
first hop (features and inference) priced with the core's timings gives
cycles per instruction, times the measured instructions per hop (zero
flash wait states); the duty cycle = that over 32 ms, printed beside the
one-instruction-per-cycle figure. Estimated power = the board's power:
block (run current per MHz x clock x supply) x duty cycle (the cycle
model's): the idle current between hops is not modelled (WFI in run mode
would add to it), so this is a lower bound, labelled estimated.

Both inference plans are measured: the full window every hop, and the
incremental plan (tinygen.plan.streaming: the newest row of each layer,
46 k instead of 826 k MACs per hop for sww01).

    .venv/bin/python benchmarks/sww_hop_budget.py
    .venv/bin/python benchmarks/sww_hop_budget.py --model ../shared/reference-models/sww01_str_ww_ref_model.tflite
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from tinygen.boards import load_board
from tinygen.device.sim.bench import board_load
from tinygen.port.sww_build import build_stream_firmware, hop_budget_cycles
from tinygen.runner.sww_hops import hop_cycles_per_instruction, measure_hop_instructions

BOARDS = ("disco_l475vg_iot01a", "mps2_an386", "mps3_an547")


def measure(board_name: str, model: Path | None) -> dict:
    board = load_board(board_name)
    with tempfile.TemporaryDirectory(prefix="tinygen-sww-bench-") as tmp:
        feats = build_stream_firmware(board, model, out_dir=Path(tmp) / "features",
                                      features_only=True)
        _, feat_mean, _ = measure_hop_instructions(board, Path(feats.build_dir))
        full = build_stream_firmware(board, model, out_dir=Path(tmp) / "full", incremental=False)
        _, full_mean, full_max = measure_hop_instructions(board, Path(full.build_dir))
        full_cpi, what = hop_cycles_per_instruction(board, Path(full.build_dir))
        inc = build_stream_firmware(board, model, out_dir=Path(tmp) / "incremental")
        _, inc_mean, inc_max = measure_hop_instructions(board, Path(inc.build_dir))
        inc_cpi, _ = hop_cycles_per_instruction(board, Path(inc.build_dir))
    budget = hop_budget_cycles(board)
    active_w = board_load(board).active_w
    row = {"board": board.name, "clock_mhz": board.clock_hz / 1e6, "features": feat_mean,
           "budget": budget, "cycle_model": what}
    for name, mean, worst, cpi in (("full", full_mean, full_max, full_cpi),
                                   ("incremental", inc_mean, inc_max, inc_cpi)):
        cycles = mean * cpi
        duty = cycles / budget
        row[name] = {"inference": mean - feat_mean, "hop": mean, "hop_max": worst,
                     "duty_1cpi": mean / budget, "cycles_per_instruction_estimated": cpi,
                     "hop_cycles_estimated": int(round(cycles)), "duty_estimated": duty,
                     "power_mw_estimated": active_w * min(duty, 1.0) * 1e3,
                     "fits": worst * cpi <= budget}
    return row


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--boards", default=",".join(BOARDS))
    p.add_argument("--model", type=Path, help="sww01 .tflite (default: the committed untrained one)")
    p.add_argument("--json", type=Path, help="also write the rows here")
    args = p.parse_args(argv)
    rows = [measure(b, args.model) for b in args.boards.split(",")]
    print(f"{'board':<22}{'MHz':>5}{'features':>10}{'budget':>11}  "
          f"{'full-window: inference':>23}{'duty 1cpi':>10}{'est. cyc':>11}{'est. duty':>10}"
          f"{'est. mW':>9}  {'incremental: inference':>23}{'duty 1cpi':>10}{'est. cyc':>11}"
          f"{'est. duty':>10}{'est. mW':>9}")
    for r in rows:
        cells = []
        for p in (r["full"], r["incremental"]):
            cells.append(f"{p['inference']:>23,}{p['duty_1cpi']:>10.1%}"
                         f"{p['hop_cycles_estimated']:>11,}{p['duty_estimated']:>10.1%}"
                         f"{p['power_mw_estimated']:>9.2f}")
        print(f"{r['board']:<22}{r['clock_mhz']:>5g}{r['features']:>10,}{r['budget']:>11,}  "
              + "  ".join(cells) + ("" if r["full"]["fits"] else "  (full window over budget)"))
    print("instructions per hop (processing pin on-time in QEMU); duty 1cpi: one instruction "
          "per cycle; est. cyc / est. duty: the cycle model's estimate (a traced hop's cycles "
          "per instruction x instructions; zero flash wait states); power estimated from the "
          "estimated duty (run current x duty, idle current not modelled)")
    for r in rows:
        print(f"{r['board']}: cycle model: {r['cycle_model']}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
