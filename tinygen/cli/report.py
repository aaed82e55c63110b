"""tinygen report: one HTML page for runs, profiles and submission trees."""

from __future__ import annotations

import argparse
from pathlib import Path

from tinygen.errors import TinygenError

DESCRIPTION = """\
Write one self-contained HTML page (inline CSS and SVG, energy traces
embedded; it opens without a network) for the runs under the paths given:
session folders (tinygen run / verify --out), profiling builds (tinygen
profile writes profile.json) or a whole submission tree.

Per system, all benches side by side (latency, accuracy, energy, flash/RAM,
validity); per run: board, build (flash and RAM by part), latency windows,
accuracy (confusion matrix and per class; the ROC curve for ad01), per-layer
profile bars, energy traces, the checks of a verify session, and whether
the run is valid for submission and why not.

examples:
  tinygen report sessions/kws-perf sessions/kws-acc -o kws.html
  tinygen report submission/ -o submission.html
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="one HTML page for runs or a submission tree",
                       description=DESCRIPTION,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("paths", nargs="+", type=Path, metavar="SESSION",
                   help="session folder, profile build or submission tree")
    p.add_argument("-o", "--out", type=Path, default=Path("report.html"), metavar="FILE",
                   help="the HTML file to write (default ./report.html)")
    p.add_argument("--title", help="page title (default: the systems' names)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from tinygen.report import collect, write_report

    systems = collect(args.paths)
    out = args.out
    if out.is_dir():
        out = out / "report.html"
    if not out.parent.is_dir():
        raise TinygenError(f"folder {out.parent} does not exist; create it or choose another -o")
    try:
        write_report(systems, out, args.title)
    except OSError as exc:
        raise TinygenError(f"cannot write {out}: {exc.strerror}; choose another -o") from None
    runs = sum(len(s.entries) for s in systems)
    print(f"{out}: {runs} run{'s' if runs != 1 else ''} of "
          f"{', '.join(s.name for s in systems)}")
    return 0
