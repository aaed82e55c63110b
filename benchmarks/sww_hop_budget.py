"""sww01 per board: instructions per 32 ms hop for the features, the
full-window and the incremental inference, the duty cycle at the board's
clock and the estimated power.

For every emulated board: build the streaming firmware three times
(features only, features + full window, features + incremental), stream 2 s of a synthetic word through
QEMU's emulated audio source and read the processing pin's on-time in
executed instructions (tinygen.runner.sww_hops). Real-board time is
estimated as instructions / clock (one instruction per cycle; flash wait
states and stalls ignored); duty cycle = that over 32 ms. Estimated power
= the board's power: block (run current per MHz x clock x supply) x duty
cycle: the idle current between hops is not modelled (WFI in run mode
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
from tinygen.runner.sww_hops import measure_hop_instructions

BOARDS = ("disco_l475vg_iot01a", "mps2_an386", "mps3_an547")


def measure(board_name: str, model: Path | None) -> dict:
    board = load_board(board_name)
    with tempfile.TemporaryDirectory(prefix="tinygen-sww-bench-") as tmp:
        feats = build_stream_firmware(board, model, out_dir=Path(tmp) / "features",
                                      features_only=True)
        _, feat_mean, _ = measure_hop_instructions(board, Path(feats.build_dir))
        full = build_stream_firmware(board, model, out_dir=Path(tmp) / "full", incremental=False)
        _, full_mean, full_max = measure_hop_instructions(board, Path(full.build_dir))
        inc = build_stream_firmware(board, model, out_dir=Path(tmp) / "incremental")
        _, inc_mean, inc_max = measure_hop_instructions(board, Path(inc.build_dir))
    budget = hop_budget_cycles(board)
    active_w = board_load(board).active_w
    row = {"board": board.name, "clock_mhz": board.clock_hz / 1e6, "features": feat_mean,
           "budget": budget}
    for name, mean, worst in (("full", full_mean, full_max), ("incremental", inc_mean, inc_max)):
        duty = mean / budget
        row[name] = {"inference": mean - feat_mean, "hop": mean, "hop_max": worst, "duty": duty,
                     "power_mw_estimated": active_w * min(duty, 1.0) * 1e3, "fits": worst <= budget}
    return row


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--boards", default=",".join(BOARDS))
    p.add_argument("--model", type=Path, help="sww01 .tflite (default: the committed untrained one)")
    p.add_argument("--json", type=Path, help="also write the rows here")
    args = p.parse_args(argv)
    rows = [measure(b, args.model) for b in args.boards.split(",")]
    print(f"{'board':<22}{'MHz':>5}{'features':>10}{'budget':>11}  "
          f"{'full-window: inference':>23}{'duty':>8}{'est. mW':>9}  "
          f"{'incremental: inference':>23}{'duty':>8}{'est. mW':>9}")
    for r in rows:
        f, i = r["full"], r["incremental"]
        print(f"{r['board']:<22}{r['clock_mhz']:>5g}{r['features']:>10,}{r['budget']:>11,}  "
              f"{f['inference']:>23,}{f['duty']:>8.1%}{f['power_mw_estimated']:>9.2f}  "
              f"{i['inference']:>23,}{i['duty']:>8.1%}{i['power_mw_estimated']:>9.2f}"
              + ("" if f["fits"] else "  (full window over budget)"))
    print("instructions per hop (processing pin on-time in QEMU); duty and power are estimated "
          "(1 instruction ~ 1 cycle; run current x duty, idle current not modelled)")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
