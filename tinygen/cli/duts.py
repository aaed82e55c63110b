"""The options that say where the DUTs are: --port, --jobs, --place, the energy bench.

Shared by ``tinygen run`` and ``verify``; they become the runner's
``DutOptions`` and ``EnergyOptions``.
"""

from __future__ import annotations

import argparse

from tinygen.runner.lifecycle import DutOptions, EnergyOptions

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


def dut_options(args: argparse.Namespace) -> DutOptions:
    return DutOptions(port=args.port, place=getattr(args, "place", None),
                      jobs=getattr(args, "jobs", None), timeout=args.timeout,
                      chunk_bytes=args.chunk_bytes, baud=args.baud)


def energy_options(args: argparse.Namespace) -> EnergyOptions:
    return EnergyOptions(emon=args.emon, emon_port=args.emon_port, interface=args.interface,
                         interface_port=args.interface_port, voltage=args.voltage)
