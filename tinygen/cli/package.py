"""tinygen package: assemble an MLPerf Tiny submission tree from measured sessions."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from tinygen.boards import load_board
from tinygen.errors import TinygenError
from tinygen.submit.tree import PackageOptions, latest_sessions, load_session, package

log = logging.getLogger(__name__)

DESCRIPTION = """\
Assemble the tree a submitter hands to MLCommons from session folders
written by 'tinygen run' (name them, or give --board to take the latest
one per benchmark and mode under --sessions-root):

  <division>/<org>/systems/<system>.json
  <division>/<org>/code/<system>/<bench>/        the firmware's sources, SConstruct
                                                 and Makefile: rebuilds the measured
                                                 image with only the cross compiler
                                                 (<bench>_energy/: the energy-mode build)
  <division>/<org>/results/<system>/<bench>/{performance,accuracy,energy}/
                                                 log.txt, results.txt, results.json

Bench folders are kws, vww, ic, ic2, ad. Performance and accuracy are required
per benchmark, energy is optional. The system JSON uses the official keys;
tinygen fills the board, core, clock, memory, compiler, flags and its own
version, --field sets any key ("Hardware Notes=3.3 V, SMPS off").

Validity: a session is refused, by name and with its reasons, when it is
not valid for submission (interrupted or failed, fewer than 5 windows,
windows shorter than 10 s, part of the dataset, the wrong mode or baud, a
host or emulated DUT), when its quality target is not met over the full
official set (closed division), or when a benchmark lacks a required run.
--open (open division) or --force REASON accepts them and records the
reasons (results.json "submission", the system's "Software Notes").
Code that differs from what was measured (a rebuilt image) is always
refused.

examples:
  tinygen run --board nucleo_l4r5zi --bench kws --mode performance --out s/kws-perf
  tinygen run --board nucleo_l4r5zi --bench kws --mode accuracy --dataset data/ --out s/kws-acc
  tinygen package --org MyOrg --system nucleo_l4r5zi_tinygen --out submission s/kws-perf s/kws-acc
  tinygen package --org MyOrg --system l4r5 --board nucleo_l4r5zi --out submission
  tinygen package --org MyOrg --system ci --out /tmp/t --force "CI smoke test" s/*
"""


def _field(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"--field takes KEY=VALUE, got '{text}'")
    return key.strip(), value.strip()


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("package", help="assemble an MLPerf Tiny submission tree from sessions",
                       description=DESCRIPTION,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("sessions", nargs="*", type=Path, metavar="SESSION",
                   help="session folders (tinygen run --out DIR); default: the latest per "
                        "benchmark and mode of --board under --sessions-root")
    p.add_argument("--org", required=True, help="submitting organisation (no spaces)")
    p.add_argument("--system", required=True, help="system name, the system JSON's file name")
    p.add_argument("--division", choices=("closed", "open"), default="closed",
                   help="division (default closed)")
    p.add_argument("--open", action="store_true",
                   help="open division: same as --division open; invalid sessions are "
                        "accepted and their reasons recorded")
    p.add_argument("--status", choices=("available", "preview", "rdi"), default="available",
                   help="the system's availability (default available)")
    p.add_argument("--out", type=Path, required=True, metavar="DIR",
                   help="where the tree goes (DIR/<division>/<org>/...)")
    p.add_argument("--board", help="with no SESSION: take the latest sessions of this board")
    p.add_argument("--sessions-root", type=Path, default=Path("sessions"), metavar="DIR",
                   dest="sessions_root", help="where --board looks for sessions (default sessions/)")
    p.add_argument("--build", type=Path, action="append", default=[], metavar="DIR",
                   help="firmware build folder a session ran, when it recorded none (--port "
                        "runs); repeat per benchmark")
    p.add_argument("--force", metavar="REASON",
                   help="accept invalid sessions in the closed division; REASON is recorded")
    p.add_argument("--field", type=_field, action="append", default=[], metavar="KEY=VALUE",
                   help="set a system JSON key (official keys match up to case and spacing)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.force is not None and not args.force.strip():
        raise TinygenError("--force needs a reason, e.g. --force 'CI smoke test'")
    if args.sessions:
        sessions = [load_session(folder) for folder in args.sessions]
    elif args.board:
        sessions = latest_sessions(args.sessions_root, load_board(args.board).name)
    else:
        raise TinygenError("name the session folders to package, or give --board to take the "
                           "latest ones under --sessions-root")
    opts = PackageOptions(org=args.org, system=args.system, out=args.out,
                          division="open" if args.open else args.division, status=args.status,
                          force=args.force, builds=tuple(args.build), fields=tuple(args.field))
    result = package(sessions, opts)
    print(f"submission tree for {opts.system} in {result.root}")
    print(f"  system  {result.system_json}")
    for bench, folder in sorted(result.code.items()):
        print(f"  code    {bench:<4} {folder}")
    for (bench, mode), folder in sorted(result.results.items()):
        print(f"  results {bench:<4} {mode:<11} {folder}")
    for name, reasons in result.accepted_invalid.items():
        print(f"  accepted although not valid: {name}: {'; '.join(reasons)}")
    if result.missing:
        print(f"  accepted although missing: {', '.join(result.missing)} (required runs)")
    return 0
