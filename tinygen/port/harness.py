"""An external benchmark harness (--harness DIR) in place of tinygen's own.

The official MLPerf Tiny harness is laid out as an api/ folder; its files
go to <build dir>/harness_api/api/ with the port's generated
submitter_implemented.h beside them, found first on the include path.
"""

from __future__ import annotations

from pathlib import Path

from tinygen.errors import TinygenError
from tinygen.paths import firmware_dir
from tinygen.port.firmware import copy_if_changed

# The external harness's files inside the build folder: <api>/ is named like
# the official repository's folder, so that its `#include "api/..."` works.
HARNESS_API_DIR = Path("harness_api") / "api"
HARNESS_HEADER = "internally_implemented.h"
HARNESS_SOURCES = ("internally_implemented.cpp", "internally_implemented.cc",
                   "internally_implemented.c")


def external_harness(path: Path | str) -> tuple[Path, Path]:
    """(header, source) of a harness laid out like the official api/ folder."""
    root = Path(path).expanduser().resolve()
    if not root.is_dir():
        raise TinygenError(f"harness folder {root} does not exist; pass --harness DIR laid out "
                           "like the MLPerf Tiny repository's api/ folder")
    header = root / HARNESS_HEADER
    source = next((root / n for n in HARNESS_SOURCES if (root / n).is_file()), None)
    if not header.is_file() or source is None:
        raise TinygenError(f"{root} is not a benchmark harness: it needs {HARNESS_HEADER} and "
                           f"{' or '.join(HARNESS_SOURCES)} (the official api/ folder has them)")
    return header, source


def install_harness(build_dir: Path, src_dir: Path, files: tuple[Path, Path]) -> Path:
    """Copy the harness into harness_api/api/ with the generated
    submitter_implemented.h (the template one of its folder is not used);
    returns the copy of its source."""
    api_dir = build_dir / HARNESS_API_DIR
    if api_dir.is_dir():
        for stale in api_dir.iterdir():
            stale.unlink()
    api_dir.mkdir(parents=True, exist_ok=True)
    for f in files:
        copy_if_changed(f, api_dir / f.name)
    copy_if_changed(src_dir / "submitter_implemented.h", api_dir / "submitter_implemented.h")
    return api_dir / files[1].name


def tinygen_harness_source() -> Path:
    """The source of tinygen's own harness that an external one replaces."""
    return firmware_dir() / "harness" / "internally_implemented.c"
