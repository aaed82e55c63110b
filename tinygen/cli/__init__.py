"""The tinygen command line.

Each command lives in its own module in this package and exposes
``register(subparsers)``, which adds its parser and sets ``handler`` to a
function taking the parsed arguments and returning an exit code.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

from tinygen import __version__
from tinygen.errors import TinygenError

# Display order in --help. A module missing from a partial checkout is
# skipped so that the rest of the CLI keeps working.
COMMAND_MODULES = (
    "boards",
    "benches",
    "doctor",
    "model",
    "dataset",
    "inspect",
    "build",
    "flash",
    "run",
    "verify",
    "profile",
    "package",
    "report",
    "sww_stream",
)

DESCRIPTION = """\
tinygen ports the MLPerf Tiny benchmark to microcontrollers.

From a board description and an int8 .tflite model it generates the
benchmark's submitter-implemented C API and the inference code, builds the
firmware, flashes it (pyocd on real boards, QEMU for emulated ones) and runs
the MLPerf Tiny measurement protocol against it.

typical use:
  tinygen boards                                  list the boards
  tinygen benches                                 list the benchmarks
  tinygen doctor                                  check the toolchain
  tinygen build --board nucleo_l4r5zi --bench vww
  tinygen verify --board disco_l475vg_iot01a --bench kws
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tinygen",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"tinygen {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="count", default=0,
        help="more detail on stderr (-vv for debug)",
    )
    parser.add_argument(
        "--boards", metavar="DIR", action="append", default=[],
        help="a folder of your own board files (and their parts/ folder), searched before "
             "tinygen's own; repeat for more (the same as adding it to TINYGEN_BOARDS)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"tinygen.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"tinygen.cli.{name}":
                continue
            raise
        module.register(sub)
    return parser


def _configure_logging(verbosity: int) -> None:
    level = logging.WARNING
    if verbosity == 0:
        level = logging.INFO
    elif verbosity >= 1:
        level = logging.DEBUG
    logging.basicConfig(level=level, format="%(message)s", stream=sys.stderr)


def _add_board_folders(folders: list[str]) -> None:
    """--boards DIR: the folders go in front of TINYGEN_BOARDS, where boards
    and parts are looked up by name (tinygen.chips.user_dirs)."""
    for folder in folders:
        if not os.path.isdir(folder):
            raise TinygenError(f"--boards {folder}: not a folder; give the folder that holds "
                               "your board .yaml files")
    current = os.environ.get("TINYGEN_BOARDS", "")
    os.environ["TINYGEN_BOARDS"] = os.pathsep.join([*folders, *([current] if current else [])])


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass  # stdout is not a real file (tests capture it): nothing to flush


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(args.verbose)
    if args.boards:
        try:
            _add_board_folders(args.boards)
        except TinygenError as exc:
            print(f"tinygen: error: {exc}", file=sys.stderr)
            return 2
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        code = int(args.handler(args) or 0)
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        # The reader went away (tinygen inspect ... | head): not an error of
        # ours. Point stdout at /dev/null so the interpreter's final flush
        # does not raise again, and exit quietly.
        _silence_stdout()
        return 0
    except TinygenError as exc:
        print(f"tinygen: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("tinygen: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
