"""The hand-written C a port compiles: the board's platform code, and the
copies of firmware/ that make a build folder self-contained."""

from __future__ import annotations

import hashlib
import shlex
from pathlib import Path

from tinygen.boards import Board
from tinygen.paths import firmware_dir


def platform_sources(board: Board) -> tuple[list[Path], list[Path], list[str]]:
    """(C sources, include folders, -D flags) of the board's platform code:
    firmware/platform/<family>/ plus common/, or the vendor's own files."""
    fw = firmware_dir() / "platform"
    common = fw / "common"
    if board.is_host:
        return sorted((fw / "host").glob("*.c")), [fw, fw / "host"], []
    if board.platform is not None:
        vendor = board.platform
        sources = list(vendor.sources)
        includes = [fw, *vendor.include_dirs]
        if vendor.common:
            sources = sorted(common.glob("*.c")) + sources
            includes.append(common)
        return sources, includes, [shlex.quote(f"-D{d}") for d in vendor.defines]
    family = fw / board.family
    return (sorted(family.glob("*.c")) + sorted(common.glob("*.c")),
            [fw, family, common], [])


def copy_if_changed(source: Path, dest: Path) -> None:
    data = source.read_bytes()
    if not dest.is_file() or dest.read_bytes() != data:
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)


VENDOR_DIR = Path("platform") / "vendor"   # where a vendor's own platform files are copied


def _vendor_copy_dir(folder: Path) -> Path:
    """platform/vendor/<8 hex digits of the original folder>: one per source folder."""
    return VENDOR_DIR / hashlib.sha256(str(folder).encode()).hexdigest()[:8]


def vendor_firmware(build_dir: Path, sources: list[Path], includes: list[Path],
                    extra_files: list[Path] = ()) -> tuple[list[Path], list[Path], list[Path]]:
    """Copy the hand-written C a build uses into the build folder.

    firmware/<part>/... of the checkout becomes <build dir>/<part>/...
    (harness/, platform/, kernels/); a board's own platform code from
    elsewhere (family: external) goes to platform/vendor/<hash>/, one
    folder per original folder, so its includes still resolve. Sources,
    each include folder's headers (not its subfolders) and extra_files
    (e.g. a vendor linker script) are copied; the returned paths point at
    the copies; paths already inside the build folder stay as they are.
    Files are rewritten only when their bytes differ, so rebuilds stay
    incremental.
    """
    fw = firmware_dir().resolve()
    build_dir = Path(build_dir)
    wanted: set[Path] = set()

    def local(path: Path, is_dir: bool = False) -> Path:
        resolved = Path(path).resolve()
        if resolved == build_dir or build_dir in resolved.parents:
            return Path(path)
        try:
            return build_dir / resolved.relative_to(fw)
        except ValueError:
            folder = resolved if is_dir else resolved.parent
            dest = build_dir / _vendor_copy_dir(folder)
            return dest if is_dir else dest / resolved.name

    def copy(source: Path, dest: Path) -> None:
        if dest != Path(source):
            copy_if_changed(Path(source), dest)
            wanted.add(dest)

    new_includes = []
    for folder in includes:
        dest = local(folder, is_dir=True)
        if dest != Path(folder):
            for header in sorted(Path(folder).glob("*.h")):
                copy(header, dest / header.name)
        new_includes.append(dest)
    new_sources = []
    for source in sources:
        dest = local(source)
        copy(source, dest)
        new_sources.append(dest)
    new_extra = []
    for extra in extra_files:
        dest = local(extra)
        copy(extra, dest)
        new_extra.append(dest)
    for part in sorted(d.name for d in fw.iterdir() if d.is_dir()):
        if (build_dir / part).is_dir():
            for old in sorted((build_dir / part).rglob("*"), reverse=True):
                if old.is_file() and old not in wanted:
                    old.unlink()
                elif old.is_dir() and not any(old.iterdir()):
                    old.rmdir()
    return new_sources, new_includes, new_extra


def vendored_parts() -> tuple[str, ...]:
    """The folders of a build directory that hold copied hand-written C."""
    return tuple(sorted(d.name for d in firmware_dir().iterdir() if d.is_dir()))


def build_relative(path: Path, build_dir: Path) -> str:
    """A path as the build files name it: relative inside the build folder."""
    try:
        return Path(path).relative_to(build_dir).as_posix()
    except ValueError:
        return str(path)
