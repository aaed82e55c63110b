"""tinygen dataset: get the official accuracy sets (fetch the published, build the rest)."""

from __future__ import annotations

import argparse
from pathlib import Path

from tinygen.benches import BENCHMARKS, bench_names, get_bench
from tinygen.errors import TinygenError

DEFAULT_ROOT = Path("datasets")


def _sources_text() -> str:
    from tinygen.zoo.datasets import OFFICIAL_SETS

    lines = []
    for b in BENCHMARKS:
        info = OFFICIAL_SETS.get(b.id)
        if info is None:
            continue
        how = "fetch" if info.published else "build"
        counts = b.accuracy_label_files
        if info.label_names and counts:
            split = ", ".join(f"{n} {name}" for n, name in zip(counts, info.label_names))
        elif counts and len(set(counts)) == 1:
            split = f"{counts[0]} per class"
        else:
            split = ""
        size = f"{b.accuracy_files} files" + (f" ({split})" if split else "")
        lines.append(f"  {b.id:<6} {how:<5} {size}\n         from {info.source}")
    return "\n".join(lines)


DATASET_DESCRIPTION = """\
The official MLPerf Tiny accuracy sets, in the EEMBC runner layout
(DIR/<model id>/ holding the stimulus .bin files and y_labels.csv) that
'tinygen run --mode accuracy --dataset DIR' and 'tinygen verify --dataset DIR'
read. EEMBC publishes them in its energyrunner repository, datasets/<id>/:
kws01's feature files themselves; for ic01, vww01 and ad01 only y_labels.csv
(the official file names and labels), the stimuli being converted from the
source set, which you obtain yourself under its own licence.

official sets:
{sources}

A quality target is checked only over the full official set: a partial set
gives "not checked" and a session that is not valid for submission.
"""

FETCH_DESCRIPTION = """\
Download a published set (kws01) into DIR/<id>/: y_labels.csv, then each
file it lists, with progress. Resumable: complete files are kept, a broken
download resumes from its .part on the next run. Files are checked against
tinygen's sha256 list for the set when it has one (models/datasets/<id>.sha256)
or against --sha256 FILE; SHA256SUMS records what was fetched.

examples:
  tinygen dataset fetch --bench kws                 writes ./datasets/kws01/
  tinygen dataset fetch --bench kws --url ~/energyrunner/datasets
  tinygen dataset fetch --bench kws --url file:///mnt/mirror/datasets -o /data
"""

BUILD_DESCRIPTION = """\
Convert the official stimuli of ic01, ic02, vww01 or ad01 from your copy of
the source set, with the official file names and labels (from the published
y_labels.csv, fetched from energyrunner unless --labels gives it):

  ic01/ic02  --source cifar-10-batches-py/ (CIFAR-10 python version, its
             test_batch): 32x32 RGB bytes in HWC order; byte-identical
  vww01      --source the COCO 2014 / Visual Wake Words images (any folder
             tree; matched by the 12-digit COCO id): RGB resized to 96x96
             with Lanczos antialiasing; not byte-identical in general (JPEG
             decoder, resize filter)
  ad01       --source the ToyADMOS car clips (ToyCar/test/*.wav): log-mel
             spectrogram frames 50..249 as float32 (librosa 0.6 settings);
             not byte-identical (float rounding in the last bits)

examples:
  tinygen dataset build --bench ic --source ~/cifar-10-batches-py
  tinygen dataset build --bench ad --source ~/dcase/ToyCar --labels y_labels.csv
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "dataset",
        help="get the official accuracy sets (fetch kws01, build ic01/vww01/ad01)",
        description=DATASET_DESCRIPTION.format(sources=_sources_text()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.set_defaults(handler=lambda args: _usage(p))
    actions = p.add_subparsers(dest="dataset_action", metavar="ACTION")

    f = actions.add_parser("fetch", help="download a published set (kws01), resumably",
                           description=FETCH_DESCRIPTION,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    f.add_argument("--bench", required=True, metavar="B",
                   help=f"benchmark: {', '.join(bench_names())}")
    f.add_argument("-o", "--out", type=Path, default=DEFAULT_ROOT, metavar="DIR",
                   help="datasets folder; the set goes to DIR/<id>/ (default ./datasets)")
    f.add_argument("--url", metavar="URL",
                   help="energyrunner datasets/ address: http(s)://, file:// or a local "
                        "folder (default: $TINYGEN_DATASET_URL, else energyrunner on GitHub)")
    f.add_argument("--sha256", type=Path, metavar="FILE",
                   help="sha256sum-format list to check the files against")
    f.add_argument("--timeout", type=float, metavar="S", default=30.0,
                   help="seconds to wait for the connection and for each read (default 30)")
    f.set_defaults(handler=run_fetch)

    b = actions.add_parser("build", help="convert ic01/vww01/ad01 from your copy of the source set",
                           description=BUILD_DESCRIPTION,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    b.add_argument("--bench", required=True, metavar="B",
                   help=f"benchmark: {', '.join(bench_names())}")
    b.add_argument("--source", required=True, type=Path, metavar="PATH",
                   help="your copy of the source set (see above)")
    b.add_argument("--labels", metavar="FILE|URL",
                   help="the official y_labels.csv (default: fetched from --url)")
    b.add_argument("-o", "--out", type=Path, default=DEFAULT_ROOT, metavar="DIR",
                   help="datasets folder; the set goes to DIR/<id>/ (default ./datasets)")
    b.add_argument("--url", metavar="URL",
                   help="energyrunner datasets/ address for y_labels.csv (as for fetch)")
    b.add_argument("--timeout", type=float, metavar="S", default=30.0,
                   help="seconds to wait for the connection and for each read (default 30)")
    b.set_defaults(handler=run_build)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _set_summary(bench, folder: Path) -> str:
    """What the written set is, against the official size."""
    from tinygen.runner.dataset import load_dataset

    ds = load_dataset(bench, folder)
    count = len(ds.files)
    if bench.accuracy_files and count < bench.accuracy_files:
        return (f"{count} of the official {bench.accuracy_files} files: a partial set "
                "(quality targets 'not checked', not valid for submission)")
    return f"{count} files, the official set size"


def run_fetch(args: argparse.Namespace) -> int:
    from tinygen.zoo.datasets import fetch_dataset

    bench = get_bench(args.bench)
    if args.timeout <= 0:
        raise TinygenError("--timeout must be a positive number of seconds")
    report = fetch_dataset(bench, args.out, base=args.url, sums_path=args.sha256,
                           timeout_s=args.timeout)
    pin = ("every file matched its pinned sha256" if report.pinned
           else f"UNPINNED: tinygen has no sha256 list for {bench.id}; {report.sums_file} "
                "records what was fetched")
    print(f"{report.folder}: {bench.id}, {report.fetched} fetched, "
          f"{report.files - report.fetched} already complete; {pin}")
    print(f"  {_set_summary(bench, report.folder)}")
    return 0


def run_build(args: argparse.Namespace) -> int:
    from tinygen.zoo.dataset_build import build_dataset
    from tinygen.zoo.datasets import fetch_labels

    bench = get_bench(args.bench)
    if args.timeout <= 0:
        raise TinygenError("--timeout must be a positive number of seconds")
    folder = args.out / bench.id
    if args.labels and "://" not in args.labels:
        labels = Path(args.labels).expanduser()
        if not labels.is_file():
            raise TinygenError(f"labels file {labels} does not exist; give the official "
                               "y_labels.csv (energyrunner datasets/<id>/)")
    else:
        labels = fetch_labels(bench, folder, args.labels or args.url, timeout_s=args.timeout)
    report = build_dataset(bench, args.source, labels, args.out)
    print(f"{report.folder}: {bench.id}, {report.files} stimuli built from {args.source}; "
          f"{report.note}")
    print(f"  {_set_summary(bench, report.folder)}")
    return 0
