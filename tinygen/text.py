"""Plain-text output shared by the commands and stages that print tables."""

from __future__ import annotations

from collections.abc import Collection, Sequence


def format_table(rows: Sequence[Sequence[str]], right: Collection[int] = ()) -> str:
    """Rows of text cells as columns two spaces apart, each as wide as its
    widest cell; the columns numbered in `right` are right-aligned (figures).
    Trailing spaces are dropped."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(c.rjust(w) if i in right else c.ljust(w)
                  for i, (c, w) in enumerate(zip(r, widths))).rstrip()
        for r in rows
    )
