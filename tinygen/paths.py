"""Where the project's data folders live.

tinygen is installed in editable mode from its checkout (see README), so
the data folders (boards/, templates/, firmware/, models/) sit beside the
package. TINYGEN_ROOT overrides this for unusual layouts.
"""

from __future__ import annotations

import os
from pathlib import Path

from tinygen.errors import TinygenError


def project_root() -> Path:
    override = os.environ.get("TINYGEN_ROOT")
    root = Path(override) if override else Path(__file__).resolve().parent.parent
    if not (root / "boards").is_dir():
        raise TinygenError(
            f"tinygen data folders not found under {root}: install tinygen from its "
            "checkout with 'pip install -e .' or set TINYGEN_ROOT to the checkout"
        )
    return root


def boards_dir() -> Path:
    return project_root() / "boards"


def templates_dir() -> Path:
    return project_root() / "templates"


def firmware_dir() -> Path:
    return project_root() / "firmware"


def models_dir() -> Path:
    return project_root() / "models"


def make_folder(path: Path | str, what: str, fix: str) -> Path:
    """Create an output folder (and its parents), or one TinygenError naming
    the folder, why it cannot be created, and ``fix`` (e.g. "pass another
    --out DIR").

    A path under a regular file, a read-only or virtual filesystem (/proc,
    /sys) and a missing permission all end here instead of in a traceback.
    """
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        if not os.access(path, os.W_OK | os.X_OK):
            raise PermissionError(13, "Permission denied")
    except OSError as exc:
        raise TinygenError(f"cannot create the {what} {path}: {_folder_problem(path, exc)}; "
                           f"{fix}") from exc
    return path


def _folder_problem(path: Path, exc: OSError) -> str:
    """Why mkdir failed, said about the folder the user gave or its first existing parent."""
    for parent in (path, *path.parents):
        if parent.exists() or parent.is_symlink():
            if not parent.is_dir():
                return f"{parent} is a file, not a folder"
            if parent != path:
                # ENOENT under an existing folder: a virtual filesystem (/proc).
                return f"{parent} takes no new folders ({exc.strerror or exc})"
            break
    return exc.strerror or str(exc)
