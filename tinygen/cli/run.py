"""tinygen run: measure latency or accuracy on a DUT with the MLPerf Tiny protocol."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from tinygen.benches import get_bench
from tinygen.boards import load_board
from tinygen.errors import TinygenError
from tinygen.runner.connect import find_build_dir, manifest_bench, open_session, read_manifest
from tinygen.runner.dataset import load_dataset, random_stimuli
from tinygen.runner.measure import PerformanceConfig, check_model, run_accuracy, run_performance
from tinygen.runner.record import (SessionRecord, default_session_dir, firmware_identity,
                                   session_facts)

log = logging.getLogger(__name__)

DESCRIPTION = """\
Run the MLPerf Tiny measurement protocol against a device under test (DUT)
and keep the session in a folder: log.txt (time-stamped transcript of every
line to and from the DUT), results.txt (human summary) and results.json
(everything, including each inference's output vector).

performance: for each of 5 stimuli, download it, time a short run, then run
  'infer N W' with N chosen so that the timed window lasts >= --min-seconds
  (10 s officially) and holds >= --min-inferences; throughput comes from the
  DUT's own timestamps; the score is the median of the 5 windows
  ("Median throughput is 20.929 inf./sec."). ad01 uses the first window of
  each file. With no --dataset, 5 seeded random stimuli are used.
accuracy: one inference per stimulus (per 2560-byte window for ad01, the
  file's score being the mean of its windows); top-1 for kws/vww/ic, AUC for
  ad, and whether the benchmark's quality target is met.

Where the DUT is:
  host and emulated boards are started for the run (the host firmware as a
  process, QEMU for emulated boards) from --build (default
  build/<board>-<bench>-performance, as written by 'tinygen build');
  real boards are found by their USB VID:PID (board YAML usb_ids), or give
  --port (/dev/ttyACM0, COM3, socket://host:port, /dev/pts/N). --port also
  works for a DUT you started yourself ('tinygen flash').

Dataset layout (EEMBC runner): a folder per model id (kws01/, ...) holding
the stimulus .bin files and y_labels.csv (the folder itself also works).
Rows: 'file,number_of_classes,true_class' (kws01 490 bytes int8, vww01 27648
bytes RGB, ic01 3072 bytes RGB) or, for ad01, 'file,2,label,2560,512'
(label 0 normal / 1 anomaly; float32 little-endian, sliding windows of 2560
bytes, stride 512). The whole dataset is checked before the run starts.

Energy mode (GPIO timestamps, an energy monitor and the isolating interface
board) is not measured by tinygen: build with --mode energy and use the
EEMBC EnergyRunner; this command refuses energy-mode firmware.

Ctrl-C or a DUT fault stops the run; what was measured stays in the session
folder (status 'interrupted' or 'failed').

examples:
  tinygen run --board host --bench kws --mode performance
  tinygen run --board disco_l475vg_iot01a --bench ad --mode accuracy --dataset data/
  tinygen run --board nucleo_l4r5zi --mode performance --port /dev/ttyACM0
"""


def add_dut_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--port", metavar="URL",
                   help="the DUT's serial port or pyserial URL; default: start host/emulated "
                        "boards, find real boards by USB id")
    p.add_argument("--timeout", type=float, default=10.0, metavar="S",
                   help="seconds a protocol command may take (infer gets more) (default 10)")
    p.add_argument("--chunk-bytes", type=int, default=None, metavar="N",
                   help="bytes per 'db' line (default 31 as the official host; 26 through "
                        "the energy interface board)")
    p.add_argument("--baud", type=int, default=None,
                   help="baud rate for real serial ports (default: the board's performance baud)")
    p.add_argument("--out", type=Path, metavar="DIR",
                   help="session folder, used exactly as given (created if missing; a session "
                        "there before is replaced) (default sessions/<time>-<board>-<bench>-<mode>)")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="measure latency or accuracy on a DUT",
                       description=DESCRIPTION,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--board", required=True, help="board name (tinygen boards) or YAML path")
    p.add_argument("--mode", required=True, choices=("performance", "accuracy"))
    p.add_argument("--bench", help="benchmark (kws, vww, ic, ad); default: from the build's "
                                   "build.json or the DUT's model id")
    p.add_argument("--build", type=Path, metavar="DIR",
                   help="firmware build folder: started for host/emulated boards; with --port, "
                        "recorded as the firmware the DUT runs (for 'tinygen package')")
    p.add_argument("--dataset", type=Path, metavar="DIR",
                   help="dataset folder (EEMBC layout); required for accuracy")
    add_dut_options(p)
    p.add_argument("--min-seconds", type=float, default=10.0, metavar="S",
                   help="performance: each timed window lasts at least this, DUT time (default 10)")
    p.add_argument("--min-inferences", type=int, default=10, metavar="N",
                   help="performance: each window holds at least this many inferences (default 10)")
    p.add_argument("--warmup", type=int, default=10, metavar="W",
                   help="performance: warm-up inferences before each window (default 10)")
    p.add_argument("--seed", type=int, default=0,
                   help="seed of the random stimuli used without --dataset (default 0)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    board = load_board(args.board)
    bench = get_bench(args.bench) if args.bench else None
    if args.mode == "accuracy" and args.dataset is None:
        raise TinygenError("accuracy mode needs a dataset; pass --dataset DIR (EEMBC layout, "
                           "see tinygen run --help)")
    if args.min_seconds <= 0 or args.min_inferences < 1 or args.warmup < 0:
        raise TinygenError("--min-seconds must be > 0, --min-inferences >= 1, --warmup >= 0")
    build_dir = None
    if args.port is None and (board.is_host or board.is_emulated):
        build_dir = find_build_dir(board, bench, args.build)
        built = manifest_bench(read_manifest(build_dir))
        if bench is not None and built is not None and built.id != bench.id:
            raise TinygenError(f"{build_dir} holds a {built.id} build, not {bench.id}; "
                               "pass the matching --build or --bench")
        bench = bench or built
    dataset = load_dataset(bench, args.dataset) if (bench and args.dataset) else None
    out = args.out or default_session_dir(board.name, bench.id if bench else "dut", args.mode)
    with SessionRecord(out) as record:
        record.data.update(session_facts(board, args.mode, args.port, args.baud),
                           bench=bench.id if bench else None,
                           build=str(build_dir or args.build) if (build_dir or args.build) else None,
                           firmware=firmware_identity(build_dir or args.build),
                           dataset=str(dataset.folder) if dataset else None)
        log.info("session folder: %s", record.folder)
        try:
            with open_session(board, build_dir, args.port, record, timeout=args.timeout,
                              chunk_bytes=args.chunk_bytes, baud=args.baud) as dut:
                if bench is None:
                    bench = get_bench(dut.profile()[1])
                    record.data["bench"] = bench.id
                    if args.dataset:
                        dataset = load_dataset(bench, args.dataset)
                check_model(dut, bench, record)
                record.save()
                if args.mode == "performance":
                    stimuli = (dataset.performance_stimuli() if dataset
                               else random_stimuli(bench, 5, seed=args.seed))
                    cfg = PerformanceConfig(min_seconds=args.min_seconds,
                                            min_inferences=args.min_inferences,
                                            warmup=args.warmup,
                                            short=args.min_seconds < 10.0)
                    run_performance(dut, bench, stimuli, record, cfg,
                                    base_timeout=args.timeout)
                else:
                    run_accuracy(dut, bench, dataset, record, timeout=args.timeout)
        except KeyboardInterrupt:
            record.finish("interrupted", "stopped by Ctrl-C")
            log.info("interrupted; what was measured is in %s", record.folder)
            raise
        except TinygenError as exc:
            record.finish("failed", str(exc))
            log.info("what was measured before the error is in %s", record.folder)
            raise
        record.finish("complete")
        print((record.folder / "results.txt").read_text(), end="")
        log.info("session folder: %s", record.folder)
    return 0
