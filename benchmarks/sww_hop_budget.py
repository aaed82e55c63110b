"""sww01 per board: instructions per 32 ms hop for the features and the
full-window inference, the duty cycle at the board's clock and the
estimated power.

For every emulated board: build the streaming firmware twice (features
only, and features + the model), stream 2 s of a synthetic word through
QEMU's emulated audio source and read the processing pin's on-time in
executed instructions (tinygen.stream.measure). Real-board time is
estimated as instructions / clock (one instruction per cycle; flash wait
states and stalls ignored); duty cycle = that over 32 ms. Estimated power
= the board's power: block (run current per MHz x clock x supply) x duty
cycle: the idle current between hops is not modelled (WFI in run mode
would add to it), so this is a lower bound, labelled estimated.

The incremental (cached-activation) plan is not built yet: its column
says so.

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
from tinygen.stream.measure import measure_hop_instructions
from tinygen.stream.port import build_stream_firmware, hop_budget_cycles

BOARDS = ("disco_l475vg_iot01a", "mps2_an386", "mps3_an547")


def measure(board_name: str, model: Path | None) -> dict:
    board = load_board(board_name)
    with tempfile.TemporaryDirectory(prefix="tinygen-sww-bench-") as tmp:
        feats = build_stream_firmware(board, model, out_dir=Path(tmp) / "features",
                                      features_only=True)
        _, feat_mean, _ = measure_hop_instructions(board, Path(feats.build_dir))
        full = build_stream_firmware(board, model, out_dir=Path(tmp) / "full")
        _, full_mean, full_max = measure_hop_instructions(board, Path(full.build_dir))
    budget = hop_budget_cycles(board)
    duty = full_mean / budget
    active_w = board_load(board).active_w
    return {"board": board.name, "clock_mhz": board.clock_hz / 1e6,
            "features": feat_mean, "inference": full_mean - feat_mean, "hop": full_mean,
            "hop_max": full_max, "budget": budget, "duty": duty,
            "power_mw_estimated": active_w * min(duty, 1.0) * 1e3,
            "fits": full_max <= budget}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--boards", default=",".join(BOARDS))
    p.add_argument("--model", type=Path, help="sww01 .tflite (default: the committed untrained one)")
    p.add_argument("--json", type=Path, help="also write the rows here")
    args = p.parse_args(argv)
    rows = [measure(b, args.model) for b in args.boards.split(",")]
    print(f"{'board':<22}{'MHz':>5}{'features':>11}{'inference':>11}{'hop':>11}"
          f"{'budget':>11}{'duty':>8}{'est. mW':>9}  incremental")
    for r in rows:
        print(f"{r['board']:<22}{r['clock_mhz']:>5g}{r['features']:>11,}{r['inference']:>11,}"
              f"{r['hop']:>11,}{r['budget']:>11,}{r['duty']:>8.1%}{r['power_mw_estimated']:>9.2f}"
              f"  not built{'' if r['fits'] else '   (over budget)'}")
    print("instructions per hop (processing pin on-time in QEMU); duty and power are estimated "
          "(1 instruction ~ 1 cycle; run current x duty, idle current not modelled)")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
