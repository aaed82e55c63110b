"""Which DUTs serve a command: --jobs, a list of --port, labgrid --place.

Shared by ``tinygen run``, ``verify`` and ``flash``; the commands call these
and keep their own flow.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
from pathlib import Path

from tinygen.boards import Board
from tinygen.errors import TinygenError
from tinygen.runner.shard import check_jobs, split_ports

log = logging.getLogger(__name__)

HELP_TEXT = """\
Several DUTs (accuracy only; latency is measured on one DUT, as the rules say):
  --jobs N             split the dataset over N DUTs: host/emulated boards are
                       started N times; real boards need N ports (--port A,B).
                       Results merge in dataset order into one session, the
                       same as a one-DUT run apart from timing and the 'dut'
                       each inference names. A DUT that stops answering is
                       dropped and its unfinished stimuli rerun on the others
                       (results.json 'reruns', log.txt).
Device labs (labgrid):
  --place NAME[,NAME]  acquire labgrid place(s) from the coordinator in
                       $LG_COORDINATOR (default 127.0.0.1:20408), load the
                       firmware through the place's GDBServer (QEMU gdbstub or
                       pyocd gdbserver), talk over its NetworkSerialPort and
                       release the place at the end, also after a fault,
                       Ctrl-C or SIGTERM. A place held by someone else is
                       refused, naming the holder. Several places = several
                       DUTs for --jobs. See README 'Device labs'.
"""


def add_jobs_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--jobs", type=int, default=None, metavar="N",
                   help="accuracy: split the dataset over N DUTs (default 1, or one per "
                        "--port / --place)")


def add_place_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--place", metavar="NAME[,NAME]",
                   help="labgrid place(s) to acquire, flash and run on (coordinator from "
                        "$LG_COORDINATOR)")


def dut_ports(args: argparse.Namespace, board: Board, build_dir: Path | None,
              stack: contextlib.ExitStack, record=None) -> list[str]:
    """The DUTs' serial URLs given by --port or --place (empty: start them here).

    Places are acquired into ``stack`` (released when it closes) and flashed
    with ``build_dir`` when one is known.
    """
    place_names = getattr(args, "place", None)
    if not place_names:
        return split_ports(args.port)
    if args.port:
        raise TinygenError("--place and --port both say where the DUT is; give one")
    from tinygen.device.labgrid import acquired_places, flash_place, split_places

    places = stack.enter_context(acquired_places(split_places(place_names)))
    urls, emulated = [], set()
    for place in places:
        if record is not None:
            record.note(f"labgrid place {place.name} acquired as {place.holder} on "
                        f"{place.coordinator}: console {place.serial_url}")
        if build_dir is not None:
            done = flash_place(place, board, build_dir)
            log.info("%s", done.text)
            emulated.add(done.emulated)
            if record is not None:
                record.note(done.text)
        urls.append(place.serial_url)
    if len(emulated - {None}) > 1:
        raise TinygenError(f"places {place_names} mix emulated and real boards; one run "
                           "measures one kind of DUT")
    if record is not None:
        record.data["places"] = [{"place": p.name, "url": p.serial_url, "holder": p.holder,
                                  "coordinator": p.coordinator} for p in places]
        # Where the DUT runs decides how its time reads (virtual under QEMU).
        from tinygen.runner.record import session_facts
        real = False in emulated or (None in emulated and not board.is_emulated)
        record.data.update(session_facts(board, record.data.get("mode", "performance"),
                                         urls[0] if real else None, getattr(args, "baud", None)))
    return urls


def jobs_for(args: argparse.Namespace, ports: list[str]) -> int:
    return check_jobs(getattr(args, "jobs", None), ports)
