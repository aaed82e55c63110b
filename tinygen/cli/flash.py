"""tinygen flash: put a built firmware on its board, or start it where it runs."""

from __future__ import annotations

import argparse
import logging
import threading
from pathlib import Path

from tinygen.benches import get_bench
from tinygen.boards import Board, load_board
from tinygen.device.flash import flash_image
from tinygen.device.labgrid import acquired_places, flash_place
from tinygen.device.launch import serve_pty, start_dut, time_mapping
from tinygen.errors import TinygenError
from tinygen.port.manifest import locate_build

log = logging.getLogger(__name__)

DESCRIPTION = """\
Put the firmware built by 'tinygen build' on its board.

  real boards      pyocd programs firmware.elf through the board's ST-LINK,
                   reads it back to verify it, and resets the board; then talk
                   to it on its USB serial port ('tinygen run --board B').
  emulated boards  QEMU runs firmware.elf until Ctrl-C. Its console is a TCP
                   server, printed as a pyserial URL (socket://127.0.0.1:PORT);
                   the guest starts when the first client connects, so the
                   boot banner is never lost. Connect with
                     tinygen run --board B --port socket://127.0.0.1:PORT ...
                     python -m serial.tools.miniterm socket://127.0.0.1:PORT
                   With --pty the console is offered as a pseudo-terminal
                   (/dev/pts/N) bridged to that socket instead, for tools that
                   open a plain serial device such as the official MLPerf Tiny
                   runner; the boot banner is read first, so nothing stale
                   waits when a client opens it.
  host             the firmware runs as a process until Ctrl-C and prints the
                   pseudo-terminal it speaks on (/dev/pts/N); its boot banner
                   is read first (the official runner would take it for the
                   answer to its first command).

A board that is both real and emulated (disco_l475vg_iot01a) is programmed
with pyocd unless --emulate is given.

  labgrid place    --place NAME acquires the place from the coordinator in
                   $LG_COORDINATOR, loads firmware.elf through its GDBServer
                   (pyocd gdbserver or a QEMU gdbstub), verifies it, prints the
                   place's console URL and holds the place until Ctrl-C (or
                   SIGTERM), then releases it. See README 'Device labs'.

Time under emulation: QEMU runs with -icount shift=S,align=off,sleep=off
(S from the board YAML, 0 for every shipped board), so guest time is a pure
function of the instruction count: every instruction advances the virtual
clock by 2**S ns, whatever the host's speed. The firmware's SysTick counts
the board's clock (80 MHz on the B-L475E, 25 MHz on MPS2) in virtual time,
so with S = 0 a difference of T us between two m-lap-us stamps is exactly
T * 1000 instructions: an emulated board is a 1-instruction-per-ns machine.
The real board at F MHz executes about one instruction per cycle plus flash
wait states and load/store stalls, so its time is roughly
instructions / F us: multiply emulated microseconds by 1000 / F (12.5 at
80 MHz) for a first estimate of the real board's time. Idle time (waiting
for the host) is skipped, so the clock jumps while nothing runs.

Which build: --build DIR, else build/<board>-<bench id>-<mode> when --bench
is given, else the only build of the board under build/.

Errors name their fix: no build ('tinygen build ...'), QEMU missing or too
old, pyocd target pack missing ('pyocd pack install stm32l4r5zitx'), no
probe connected, several probes (--probe UID).

examples:
  tinygen flash --board nucleo_l4r5zi --bench vww
  tinygen flash --board disco_l475vg_iot01a --bench kws --emulate
  tinygen flash --board mps2_an386 --build build/mps2_an386-ic01-performance
  tinygen flash --board host --bench ad
  tinygen flash --board mps2_an386 --bench kws --pty
  LG_COORDINATOR=lab:20408 tinygen flash --board disco_l475vg_iot01a --bench kws --place disco-1
"""


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "flash", help="program a real board (pyocd) or start an emulated/host DUT",
        description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--board", required=True, help="board name (tinygen boards) or YAML path")
    parser.add_argument("--build", type=Path, metavar="DIR",
                        help="build folder holding firmware.elf (or the host executable)")
    parser.add_argument("--bench", help="benchmark, to find the default build folder")
    parser.add_argument("--mode", choices=("performance", "energy"), default="performance",
                        help="build mode, to find the default build folder (default performance)")
    parser.add_argument("--emulate", action="store_true",
                        help="run a board that is both real and emulated under QEMU")
    parser.add_argument("--pty", action="store_true",
                        help="emulated boards: offer the console as a pseudo-terminal "
                             "(for the official runner) instead of a TCP socket")
    parser.add_argument("--probe", metavar="UID", help="debug probe unique id (see 'pyocd list')")
    parser.add_argument("--pack", type=Path, metavar="FILE",
                        help="CMSIS .pack file for the target, instead of an installed pack")
    parser.add_argument("--log", type=Path, metavar="FILE",
                        help="where QEMU's or the host process's own output goes "
                             "(default BUILD/dut.log)")
    parser.add_argument("--place", metavar="NAME",
                        help="labgrid place to acquire, flash and hold until Ctrl-C")
    parser.set_defaults(handler=run)


def _run_until_interrupted(board: Board, build: Path, log_path: Path | None,
                           pty: bool = False) -> int:
    with start_dut(board, build, log_path=log_path) as dut:
        if board.is_host or pty:
            with serve_pty(dut) as endpoint:
                what = (f"{board.name} firmware running (pid {dut.process.pid})" if board.is_host
                        else f"QEMU {board.emulator.qemu_machine} bridged to a pseudo-terminal")
                print(f"{what} on {endpoint.path}", flush=True)
                print(f"  boot banner read ({len(endpoint.banner)} lines): a client that opens "
                      f"{endpoint.path} finds nothing stale")
                print(f"  connect: tinygen run --board {board.name} --port {endpoint.path} "
                      "--mode performance")
                if not board.is_host:
                    print(f"  time: {time_mapping(board)}")
                print(f"  output of the process: {dut.log_path}; Ctrl-C stops it", flush=True)
                try:
                    code = dut.wait()
                except KeyboardInterrupt:
                    print("stopping")
                    return 0
            log.info("%s exited with code %s", dut.command[0], code)
            return 0 if code == 0 else 1
        else:
            print(f"QEMU {board.emulator.qemu_machine} is waiting for its console client on {dut.url}")
            print(f"  connect: tinygen run --board {board.name} --port {dut.url} --mode performance")
            print(f"       or: python -m serial.tools.miniterm {dut.url}")
            print(f"  time: {time_mapping(board)}")
        print(f"  output of the process: {dut.log_path}; Ctrl-C stops it")
        try:
            code = dut.wait()
        except KeyboardInterrupt:
            print("stopping")
            return 0
    log.info("%s exited with code %s", dut.command[0], code)
    return 0 if code == 0 else 1


def _flash_place(board: Board, build: Path, name: str) -> int:
    with acquired_places([name]) as places:
        place = places[0]
        print(flash_place(place, board, build).text)
        print(f"  console: {place.serial_url}; held as {place.holder} until Ctrl-C")
        print(f"  connect: tinygen run --board {board.name} --port {place.serial_url} ...")
        try:
            threading.Event().wait()  # until Ctrl-C or SIGTERM (KeyboardInterrupt)
        except KeyboardInterrupt:
            print(f"releasing {place.name}")
    return 0


def run(args: argparse.Namespace) -> int:
    board = load_board(args.board)
    build = locate_build(board, get_bench(args.bench) if args.bench else None, args.build, args.mode)
    if args.place:
        return _flash_place(board, build, args.place)
    if board.is_host or (board.is_emulated and (args.emulate or args.pty or not board.is_real)):
        return _run_until_interrupted(board, build, args.log, pty=args.pty)
    if args.emulate or args.pty:
        raise TinygenError(f"{board.name} is not emulated here; drop --emulate/--pty to program "
                           "it with pyocd")

    try:
        result = flash_image(board, build, probe=args.probe, pack=args.pack)
    except TinygenError as exc:
        if board.is_emulated and "no debug probe" in str(exc):
            raise TinygenError(f"{exc}; or run it under QEMU with --emulate") from exc
        raise
    print(f"programmed and verified {result.bytes_verified} bytes of {result.image} on "
          f"{board.name} ({result.target}) through probe {result.probe}; the board is running")
    return 0
