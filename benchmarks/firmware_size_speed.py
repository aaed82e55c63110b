"""Firmware size and speed per benchmark and board.

For every benchmark and board: build the real firmware (tinygen's port,
compiled model, harness, platform code), report flash and RAM bytes from
the size report, and on the emulated boards run `infer N 0` under QEMU with
-icount shift=S. The DUT's own m-lap-us stamps around the N inferences give
virtual time; with shift=S one instruction is 2**S ns, so

    instructions per inference = (t_end - t_start) [us] * 1000 / 2**S / N

(The SysTick interrupt adds about 20 instructions per emulated millisecond,
under 0.01 %.) Instructions per MAC divides by TG_MODEL_MACS from the
generated model.h.

Estimated cycles (tinygen/runner/cycles.py): one more inference runs with
QEMU's block trace and every executed instruction is priced with the
core's published timings (Cortex-M4: its TRM; the other cores are rougher
sketches, labelled in the output), at zero wait states; ms@clock is those
cycles at the board clock. Flash bytes read: a third run logs the
registers before every load of the inference and sums the bytes whose
address is in the board's flash regions (slow: --no-flash skips it).
Boards without an emulator (nucleo_l4r5zi) get sizes only; a benchmark
that does not fit a board (microbit's 16 KB of RAM) gets a row saying by
how many bytes.

Further models of a bench (--extra kws=PATH,...: say the int16x8 keyword
spotter tests/compiler/fixtures/kws01_s16.tflite) get rows of their own,
labelled with the file's name.

Official MLCommons models found in --official DIR (default
../shared/reference-models beside the checkout, when present; files named
<bench id>_*.tflite) get rows of their own, marked with a * after the bench.
The open-division models of models/open/ (tinygen/zoo/open_models.py: the
convolutional auto-encoder on ad01's input, the MobileNetV3-small-like
person detector on vww01's) get rows labelled ad+cae and vww+mnv3
(--no-open leaves them out).

    .venv/bin/python benchmarks/firmware_size_speed.py
    .venv/bin/python benchmarks/firmware_size_speed.py --benches ad,ic --inferences 20
    .venv/bin/python benchmarks/firmware_size_speed.py --official /path/to/models
    .venv/bin/python benchmarks/firmware_size_speed.py --benches ad,vww --boards mps2_an386
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
from pathlib import Path

import numpy as np

from tinygen.benches import INPUT_FLOAT32_QUANTIZE, get_bench
from tinygen.boards import load_board
from tinygen.device.launch import start_dut
from tinygen.device.session import DutSession
from tinygen.errors import TinygenError
from tinygen.paths import models_dir
from tinygen.port.build import build_firmware
from tinygen.runner.cycles import CORE_TIMINGS, core_timing, flash_reads, price, trace_build

DEFAULT_BOARDS = ("disco_l475vg_iot01a", "mps2_an386", "mps3_an547", "nucleo_l4r5zi",
                  # Issue 21's families and cores: Cortex-M3 (Arm, TI), STM32F4 under
                  # QEMU, Cortex-M0 (nRF51), and the real F446 and nRF52840 (sizes only).
                  "mps2_an385", "lm3s6965evb", "netduinoplus2", "microbit", "nucleo_f446re",
                  "nrf52840dk")
# Helium bar (issue 11): the Cortex-M55 at least 2x fewer instructions than the M4.
RATIO_BOARDS = ("mps2_an386", "mps3_an547")
DEFAULT_OFFICIAL = Path(__file__).resolve().parents[1].parent / "shared" / "reference-models"
DEFAULT_BENCHES = ("kws", "vww", "ic", "ad")
# Row labels of the open-division models (models/open/<name>.tflite).
OPEN_LABELS = {"conv_autoencoder": "+cae", "mobilenet_v3_person": "+mnv3"}


def open_models(bench) -> list[tuple[str, Path]]:
    """(label, file) of the committed open-division models that take bench's input."""
    from tinygen.zoo.open_models import OPEN_MODELS

    return [(bench.short + OPEN_LABELS[name], models_dir() / "open" / f"{name}.tflite")
            for name, (_, bench_id, _) in OPEN_MODELS.items() if bench_id == bench.id]


def stimulus(bench, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    if bench.input_format == INPUT_FLOAT32_QUANTIZE:
        return rng.uniform(-2.0, 2.0, bench.input_elements).astype("<f4").tobytes()
    return rng.integers(0, 256, bench.input_bytes, dtype=np.uint8).tobytes()


def measure(board, build_dir: Path, bench, inferences: int) -> float:
    """Instructions per inference from the DUT's own timestamps."""
    with start_dut(board, build_dir) as dut, DutSession(dut.url, timeout=600) as session:
        session.wait_ready(timeout=60)
        session.load(stimulus(bench, 1))
        session.infer(1, 0)  # first run: caches nothing, but checks it works
        result = session.infer(inferences, 0)
    ns = (result.end_us - result.start_us) * 1000
    return ns / (2 ** board.emulator.icount_shift) / inferences


def measure_row(board, bench, label: str, model: Path, out: Path, inferences: int,
                flash: bool = True) -> dict:
    built = build_firmware(board, bench, model_path=model, out_dir=out)
    macs = int(str(built.port.model_macros.get("TG_MODEL_MACS", "0")).rstrip("uUlL") or 0)
    parts = built.size.parts
    code = sum(parts.get(p, {}).get("flash", 0) for p in ("harness", "kernels", "platform", "libc"))
    row = {"board": board.name, "bench": label, "model": str(model),
           "flash": built.size.flash_bytes, "ram": built.size.ram_bytes,
           "weights": parts.get("weights", {}).get("flash", 0), "code": code,
           "arena": parts.get("arena", {}).get("ram", 0), "macs": macs, "instructions": None,
           "cycles": None, "flash_read": None}
    if board.is_emulated:
        row["instructions"] = measure(board, out, bench, inferences)
        if board.cpu not in CORE_TIMINGS:      # no cycle model (Cortex-M0, M3): instructions only
            return row
        transitions = trace_build(board, out, stimulus(bench, 1))
        estimate = price(transitions, core_timing(board.cpu))
        row.update(cycles=estimate.cycles, traced_instructions=estimate.instructions,
                   confidence=estimate.confidence)
        if flash:
            row["flash_read"] = flash_reads(board, out, stimulus(bench, 1), transitions).to_dict()
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--boards", default=",".join(DEFAULT_BOARDS))
    parser.add_argument("--benches", default=",".join(DEFAULT_BENCHES))
    parser.add_argument("--inferences", type=int, default=10, help="N in 'infer N 0'")
    parser.add_argument("--out", type=Path, help="build folders (default: a temporary folder)")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    parser.add_argument("--no-flash", action="store_true",
                        help="skip the (slow) count of flash bytes read per inference")
    parser.add_argument("--no-open", action="store_true",
                        help="leave out the open-division models of models/open/")
    parser.add_argument("--official", type=Path, default=DEFAULT_OFFICIAL,
                        help="folder of official models <bench id>_*.tflite (default: %(default)s)")
    parser.add_argument("--extra", default="",
                        help="more models, BENCH=PATH[,BENCH=PATH]: a row each, labelled with "
                             "the file's name")
    args = parser.parse_args(argv)
    extra = [item.split("=", 1) for item in args.extra.split(",") if item]
    logging.basicConfig(level=logging.WARNING, format="%(message)s")

    rows = []
    with tempfile.TemporaryDirectory(prefix="tinygen-size-speed-") as tmp:
        root = args.out or Path(tmp)
        for board_name in args.boards.split(","):
            board = load_board(board_name)
            for bench_name in args.benches.split(","):
                bench = get_bench(bench_name)
                models = [(bench.id, models_dir() / f"{bench.id}.tflite")]
                if args.official and args.official.is_dir():
                    models += [(bench.id + "*", m)
                               for m in sorted(args.official.glob(f"{bench.id}_*.tflite"))]
                if not args.no_open:
                    models += open_models(bench)
                models += [(Path(path).stem, Path(path)) for name, path in extra
                           if get_bench(name).id == bench.id]
                for label, model in models:
                    out = root / f"{board.name}-{label.rstrip('*').replace('+', '-')}-{len(rows)}"
                    try:
                        row = measure_row(board, bench, label, model, out, args.inferences,
                                          flash=not args.no_flash)
                    except TinygenError as exc:   # does not fit: say by how much
                        print(f"{board.name:22} {label:8} refused: {exc}", flush=True)
                        continue
                    rows.append(row)
                    print_row(row, board.clock_hz, header=len(rows) == 1)
    print_ratios(rows)
    for board_name in args.boards.split(","):
        board = load_board(board_name)
        if board.is_emulated and board.cpu in CORE_TIMINGS:
            timing = core_timing(board.cpu)
            print(f"{board.name}: est. cycles = {timing.basis}; {timing.confidence} confidence")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


def print_ratios(rows: list[dict]) -> None:
    """Instructions per inference on the M4 board over those on the M55 board."""
    m4, m55 = RATIO_BOARDS
    counts = {(r["board"], r["bench"]): r["instructions"] for r in rows if r["instructions"]}
    for bench in dict.fromkeys(r["bench"] for r in rows):
        if (m4, bench) in counts and (m55, bench) in counts:
            print(f"{bench:8} {m4} / {m55}: {counts[(m4, bench)]:,.0f} / "
                  f"{counts[(m55, bench)]:,.0f} instructions = "
                  f"{counts[(m4, bench)] / counts[(m55, bench)]:.2f}x", flush=True)


def print_row(row: dict, clock_hz: int, header: bool) -> None:
    if header:
        print(f"{'board':22} {'bench':8} {'flash B':>9} {'ram B':>8} {'weights':>8} {'code':>7} "
              f"{'arena':>7} {'MACs':>10} {'instr/inf':>12} {'instr/MAC':>9} {'est.cycles':>12} "
              f"{'cyc/MAC':>7} {'ms@clock':>9} {'flash rd B':>11}")
    instr, cycles = row["instructions"], row["cycles"]
    if instr is None:
        speed = f"{'-':>12} {'-':>9} {'-':>12} {'-':>7} {'-':>9}"
    else:
        macs = row["macs"] or float("nan")
        ms = (cycles or instr) / clock_hz * 1000
        speed = (f"{instr:12,.0f} {instr / macs:9.2f} "
                 + (f"{cycles:12,d} {cycles / macs:7.2f} " if cycles else f"{'-':>12} {'-':>7} ")
                 + f"{ms:9.2f}")
    flash = row.get("flash_read")
    read = f"{flash['flash_bytes']:11,d}" if flash else f"{'-':>11}"
    print(f"{row['board']:22} {row['bench']:8} {row['flash']:9,d} {row['ram']:8,d} "
          f"{row['weights']:8,d} {row['code']:7,d} {row['arena']:7,d} {row['macs']:10,d} {speed} "
          f"{read}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
