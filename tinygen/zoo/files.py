"""Writing model files atomically: a temporary file beside the target,
renamed into place only when complete."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import IO

from tinygen.errors import TinygenError

# mkstemp creates owner-only files; a model file is ordinary data.
FILE_MODE = 0o644


def open_temp_beside(dest: Path) -> tuple[IO[bytes], Path]:
    """An open temporary file in dest's folder, and its path."""
    if not dest.parent.is_dir():
        raise TinygenError(f"folder {dest.parent} does not exist; create it or choose another -o")
    try:
        fd, name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    except OSError as exc:
        raise TinygenError(f"cannot write in {dest.parent}: {exc.strerror}; "
                           "choose another -o") from None
    return os.fdopen(fd, "wb"), Path(name)


def publish(tmp: Path, dest: Path) -> None:
    """Move a complete temporary file into place."""
    os.chmod(tmp, FILE_MODE)
    try:
        os.replace(tmp, dest)
    except OSError as exc:
        raise TinygenError(f"cannot write {dest}: {exc.strerror}; choose another -o") from None


def write_atomically(dest: Path, data: bytes) -> None:
    out, tmp = open_temp_beside(Path(dest))
    try:
        with out:
            out.write(data)
        publish(tmp, Path(dest))
    finally:
        tmp.unlink(missing_ok=True)
