"""tinygen boards: list the boards tinygen can target."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from tinygen.boards import all_boards, load_board_file
from tinygen.text import format_table


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "boards",
        help="list the boards tinygen can target",
        description=(
            "List the boards in boards/*.yaml: core, clock, memory and how each "
            "one runs (real hardware through pyocd, emulated by QEMU, or a native "
            "process). A board is data: add a YAML file to add a board; "
            "--check validates one file."
        ),
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--check", metavar="FILE", type=Path,
                   help="validate one board YAML file and print what it describes")
    p.set_defaults(handler=run)


def _kib(n: int) -> str:
    return f"{n // 1024} KiB" if n % (1024 * 1024) else f"{n // (1024 * 1024)} MiB"


def run(args: argparse.Namespace) -> int:
    boards = [load_board_file(args.check)] if args.check else all_boards()
    if args.json:
        print(json.dumps([b.to_dict() for b in boards], indent=2))
        return 0
    rows = [("board", "family (vendor)", "core", "clock", "flash", "ram", "runs as")]
    for b in boards:
        family = (f"{b.family} ({b.family_info.vendor})" if b.family_info and not b.is_host
                  else b.family)
        if b.is_host:
            rows.append((b.name, family, "native", "-", "-", "-", b.kinds))
            continue
        rows.append((
            b.name,
            family,
            b.cpu + ("F" if b.fpu != "none" else "") + ("+MVE" if b.mve else ""),
            f"{b.clock_hz / 1e6:g} MHz",
            _kib(b.flash_bytes),
            _kib(b.ram_bytes) if len(b.regions("ram")) == 1
            else " + ".join(_kib(r.size) for r in b.regions("ram")),
            b.kinds,
        ))
    print(format_table(rows))
    return 0
