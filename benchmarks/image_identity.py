"""Are the generated sources and firmware images byte-identical to another commit's?

A refactoring must not change what tinygen generates. For every committed
model (kws01, vww01, ic01, ad01) on every board asked for (default: the
disco_l475vg_iot01a, mps2_an386 and host), this builds the firmware twice
into the same folder, once with the tinygen of a baseline commit and once
with this checkout's, and compares sha256 digests of

    sources  every generated or copied file the build compiles from
             (src/, harness/, platform/, kernels/, SConstruct, Makefile)
    images   firmware.elf, firmware.bin, firmware.hex (MCU boards) or the
             firmware executable (host)

build.json, size.json, the map and the logs are left out: they name tool
versions and the manifest's own format, not the code. The same folder is
used for both builds because the images' debug information names it.

    .venv/bin/python benchmarks/image_identity.py --against 4ab7aab
    .venv/bin/python benchmarks/image_identity.py --against main --boards host --benches kws01
    .venv/bin/python benchmarks/image_identity.py --against main --tflm /path/to/tflm-tree
    .venv/bin/python benchmarks/image_identity.py --record digests.json      # this checkout only
    .venv/bin/python benchmarks/image_identity.py --tree /tmp/base --record before.json --work /tmp/w
    .venv/bin/python benchmarks/image_identity.py --compare before.json --work /tmp/w
    .venv/bin/python benchmarks/image_identity.py --sources-only --record tests/foundation/data/generated_sources.json

--sources-only skips the compiler (generate_port only) and compares only
what the generator writes (src/, SConstruct, Makefile), not the copies of
firmware/: what the quick test tests/foundation/test_generated_identity.py
compares against. Exit status 1 when anything differs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[1]
BOARDS = ("disco_l475vg_iot01a", "mps2_an386", "host")
BENCHES = ("kws01", "vww01", "ic01", "ad01")
SOURCE_PARTS = ("src", "harness", "platform", "kernels")
GENERATED_PARTS = ("src",)         # the rest are copies of firmware/
SOURCE_FILES = ("SConstruct", "Makefile")
IMAGES = ("firmware.elf", "firmware.bin", "firmware.hex", "firmware")


def digests(build_dir: Path, parts: tuple[str, ...] = SOURCE_PARTS) -> dict[str, dict[str, str]]:
    """{"sources": {relative path: sha256}, "images": {name: sha256}} of one build folder;
    parts: the folders whose files count as sources."""
    def sha(path: Path) -> str:
        return hashlib.sha256(path.read_bytes()).hexdigest()

    sources = {}
    for part in parts:
        for path in sorted((build_dir / part).rglob("*")):
            if path.is_file() and path.suffix != ".o":
                sources[path.relative_to(build_dir).as_posix()] = sha(path)
    for name in SOURCE_FILES:
        if (build_dir / name).is_file():
            sources[name] = sha(build_dir / name)
    images = {name: sha(build_dir / name) for name in IMAGES if (build_dir / name).is_file()}
    return {"sources": sources, "images": images}


def run_worker(boards: list[str], benches: list[str], work: Path, sources_only: bool,
               jobs: int, tflm: str | None = None) -> dict[str, dict]:
    """Build every (board, bench) with the tinygen this interpreter imports
    (on TFLM built from the tree tflm when given)."""
    from tinygen.port.build import build_firmware
    from tinygen.port.generate import generate_port

    out = {}
    for board in boards:
        for bench in benches:
            folder = work / f"{board}-{bench}"
            shutil.rmtree(folder, ignore_errors=True)
            runtime = {"runtime": "tflm", "tflm": tflm} if tflm else {}
            if sources_only:
                generate_port(board, bench, out_dir=folder, **runtime)
            else:
                build_firmware(board, bench, out_dir=folder, jobs=jobs, **runtime)
            out[f"{board}-{bench}"] = digests(folder, GENERATED_PARTS if sources_only else SOURCE_PARTS)
            print(f"  {board}-{bench}", file=sys.stderr, flush=True)
    return out


def record(tree: Path, args, work: Path) -> dict[str, dict]:
    """Run the worker with tree's tinygen first on the path."""
    with tempfile.NamedTemporaryFile("r", suffix=".json") as result:
        cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", result.name,
               "--boards", ",".join(args.boards), "--benches", ",".join(args.benches),
               "--work", str(work), "--jobs", str(args.jobs)]
        if args.sources_only:
            cmd.append("--sources-only")
        if args.tflm:
            cmd += ["--tflm", str(args.tflm)]
        env = dict(os.environ, PYTHONPATH=str(tree))
        print(f"building with {tree}", file=sys.stderr)
        subprocess.run(cmd, env=env, check=True)
        return json.loads(Path(result.name).read_text())


def compare(before: dict[str, dict], after: dict[str, dict]) -> list[str]:
    """One line per configuration; differences listed by file."""
    lines = []
    for key in sorted(set(before) | set(after)):
        if key not in before or key not in after:
            lines.append(f"{key}: only in {'after' if key in after else 'before'}")
            continue
        diffs = []
        for kind in ("sources", "images"):
            b, a = before[key].get(kind, {}), after[key].get(kind, {})
            diffs += [f"{kind[:-1]} {name}" for name in sorted(set(b) | set(a)) if b.get(name) != a.get(name)]
        counted = f"{len(after[key]['sources'])} sources, {len(after[key]['images'])} images"
        lines.append(f"{key}: {'identical' if not diffs else 'DIFFERENT'} ({counted})"
                     + "".join(f"\n    {d}" for d in diffs))
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--against", metavar="COMMIT", help="baseline commit to compare with")
    parser.add_argument("--record", metavar="FILE", type=Path,
                        help="write this checkout's digests to FILE")
    parser.add_argument("--compare", metavar="FILE", type=Path,
                        help="compare this checkout's digests with FILE")
    parser.add_argument("--boards", default=",".join(BOARDS))
    parser.add_argument("--benches", default=",".join(BENCHES))
    parser.add_argument("--sources-only", action="store_true",
                        help="generate the ports without compiling them")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--tflm", type=Path, metavar="DIR",
                        help="build on the TFLM runtime from this exported tree instead")
    parser.add_argument("--work", type=Path, help="build folder root (default: a temporary one)")
    parser.add_argument("--tree", type=Path, default=CHECKOUT,
                        help="the tinygen checkout to build with (default: this one)")
    parser.add_argument("--worker", metavar="FILE", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.boards = [b for b in args.boards.split(",") if b]
    args.benches = [b for b in args.benches.split(",") if b]

    if args.worker:
        Path(args.worker).write_text(json.dumps(
            run_worker(args.boards, args.benches, args.work, args.sources_only, args.jobs,
                       str(args.tflm) if args.tflm else None), indent=1))
        return 0
    if not (args.against or args.record or args.compare):
        parser.error("give --against COMMIT, --record FILE or --compare FILE")
    work = args.work or Path(tempfile.mkdtemp(prefix="tg-identity-"))
    before = None
    if args.against:
        base = Path(tempfile.mkdtemp(prefix="tg-baseline-")) / "tree"
        subprocess.run(["git", "-C", str(CHECKOUT), "worktree", "add", "--detach", str(base),
                        args.against], check=True, capture_output=True)
        try:
            before = record(base, args, work)
        finally:
            subprocess.run(["git", "-C", str(CHECKOUT), "worktree", "remove", "--force", str(base)],
                           check=False)
    elif args.compare:
        before = json.loads(args.compare.read_text())
    after = record(args.tree.resolve(), args, work)
    if args.record:
        args.record.parent.mkdir(parents=True, exist_ok=True)
        args.record.write_text(json.dumps(after, indent=1, sort_keys=True) + "\n")
    if before is None:
        return 0
    lines = compare(before, after)
    print("\n".join(lines))
    different = sum("DIFFERENT" in line or "only in" in line for line in lines)
    print(f"{len(lines) - different} of {len(lines)} configurations identical")
    return 1 if different else 0


if __name__ == "__main__":
    sys.exit(main())
