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
