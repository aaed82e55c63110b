"""What several commands take the same way: a --board by name, with a suggestion."""

from __future__ import annotations

import difflib
from pathlib import Path

from tinygen.boards import Board, board_names, load_board
from tinygen.errors import TinygenError


def board_arg(name: str) -> Board:
    """--board NAME (or a YAML path); a misspelled name gets the nearest known one."""
    if Path(name).suffix not in (".yaml", ".yml"):
        known = board_names()
        if name not in known:
            near = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
            if near:
                raise TinygenError(f"unknown board '{name}'; did you mean {near[0]}? "
                                   "(tinygen boards lists them all)")
    return load_board(name)
