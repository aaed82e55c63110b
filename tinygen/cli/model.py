"""tinygen model: build the untrained reference models, fetch the official ones."""

from __future__ import annotations

import argparse
import hashlib
import os
import re
from pathlib import Path

from tinygen.benches import bench_names, get_bench
from tinygen.errors import TinygenError
from tinygen.zoo.fetch import URL_ENV, fetch_model

MODEL_DESCRIPTION = """\
Models for the MLPerf Tiny benchmarks (kws, vww, ic, ic2, ad).

  build  rebuild an UNTRAINED reference-architecture model (random seeded
         weights, exact layers, int8) with TensorFlow, as committed in models/
  fetch  download the official TRAINED model from MLCommons, checked
         against its pinned sha256
"""

BUILD_DESCRIPTION = """\
Build the reference architecture of a benchmark from Keras and convert it to
a full-int8 .tflite (int8 input and output), as committed in models/.

The weights are UNTRAINED: seeded random initialisation, batch-norm
statistics set from seeded random input. The model has the reference
layers, shapes, operators, parameter count and MACs, so it serves porting,
latency and memory work; its predictions are meaningless (use
'tinygen model fetch' for the trained official model).

Same bench and seed give the same bytes with the same TensorFlow version.
Needs TensorFlow: pip install -e '.[models]'.

examples:
  tinygen model build --bench kws                 rewrite models/kws01.tflite
  tinygen model build --bench ad -o /tmp/ad.tflite
"""

FETCH_DESCRIPTION = """\
Download the official trained MLPerf Tiny model of a benchmark from the
MLCommons 'tiny' repository at a pinned commit, and keep it only if its
sha256 matches the pinned one (see 'tinygen benches --json'). The file is
written atomically: on any failure nothing is left behind.

--url (or the TINYGEN_MODEL_URL environment variable) replaces the download
base: either a folder mirroring the repository layout (the official path is
appended) or the full address of a .tflite file; http(s)://, file:// or a
local path.

examples:
  tinygen model fetch --bench ic                  writes ./ic01_official.tflite
  tinygen model fetch --bench vww -o models/vww_trained.tflite
  tinygen model fetch --bench ad --url http://mirror.local/tiny
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "model",
        help="build untrained reference models or fetch the official ones",
        description=MODEL_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.set_defaults(handler=lambda args: _usage(p))
    actions = p.add_subparsers(dest="model_action", metavar="ACTION")

    b = actions.add_parser(
        "build",
        help="build an UNTRAINED reference-architecture int8 model (needs TensorFlow)",
        description=BUILD_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    b.add_argument("--bench", required=True, metavar="B",
                   help=f"benchmark: {', '.join(bench_names())}")
    b.add_argument("-o", "--output", type=Path, metavar="PATH",
                   help="file or existing folder to write the .tflite to "
                        "(default: the committed models/<id>.tflite)")
    from tinygen.zoo.builders import DEFAULT_SEED  # no TensorFlow at import
    b.add_argument("--seed", type=int, default=DEFAULT_SEED,
                   help="seed of the weights and of the representative data "
                        f"(default {DEFAULT_SEED}, the committed models' seed)")
    b.set_defaults(handler=run_build)

    f = actions.add_parser(
        "fetch",
        help="download the official TRAINED model, checked against its sha256",
        description=FETCH_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    f.add_argument("--bench", required=True, metavar="B",
                   help=f"benchmark: {', '.join(bench_names())}")
    f.add_argument("-o", "--output", type=Path, metavar="PATH",
                   help="file or existing folder to write the .tflite to "
                        "(default: ./<id>_official.tflite)")
    f.add_argument("--url", metavar="URL",
                   help="download base or file address (default: $TINYGEN_MODEL_URL, "
                        "else the pinned MLCommons commit)")
    f.add_argument("--timeout", type=float, metavar="S", default=30.0,
                   help="seconds to wait for the connection and for each read (default 30)")
    f.set_defaults(handler=run_fetch)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _output_path(requested: Path | None, default: Path) -> Path:
    """-o may name the file or an existing folder to put it in."""
    if requested is None:
        return default
    return requested / default.name if requested.is_dir() else requested


def run_build(args: argparse.Namespace) -> int:
    from tinygen.zoo.builders import build_model
    from tinygen.zoo.files import write_atomically
    from tinygen.zoo.stats import model_stats

    bench = get_bench(args.bench)
    output = _output_path(args.output, bench.model_path)
    data = build_model(bench.id, seed=args.seed)
    write_atomically(output, data)
    stats = model_stats(data)
    print(f"{output}: {bench.id} {bench.architecture} (UNTRAINED, seed {args.seed})")
    print(f"  {len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()}")
    print(f"  {stats.params} parameters (paper {bench.paper_params}), "
          f"{stats.macs} MACs (paper {bench.paper_macs})")
    print(f"  operators: {', '.join(sorted(stats.op_counts))}")
    return 0


def _address(url: str | None) -> str | None:
    """--url as an address: a local file or folder becomes file://..."""
    if not url or re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", url):
        return url
    path = Path(url).expanduser()
    if not path.exists():
        raise TinygenError(f"--url {url} is neither an address (http(s)://..., file://...) nor "
                           "an existing file or folder; give the mirror's address or a local path")
    address = path.resolve().as_uri()
    # A folder is a mirror of the repository layout: the official path goes under it.
    return address + "/" if path.is_dir() else address


def run_fetch(args: argparse.Namespace) -> int:
    bench = get_bench(args.bench)
    if args.timeout <= 0:
        raise TinygenError("--timeout must be a positive number of seconds")
    output = _output_path(args.output, Path(f"{bench.id}_official.tflite"))
    digest = fetch_model(bench, output, base=_address(args.url or os.environ.get(URL_ENV)),
                         timeout_s=args.timeout)
    print(f"{output}: official {bench.id} model, sha256 {digest} (verified)")
    return 0
