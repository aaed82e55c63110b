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


def printable(text: str, limit: int = 80) -> str:
    """Text from a file the user gave (a tensor name, a CSV field) made safe
    to put in a one-line message: control and other non-printing characters
    become '?', and past `limit` characters it is cut with '...'."""
    safe = text[:limit + 1]
    if not safe.isprintable():      # the common case is one C call
        safe = "".join(c if c.isprintable() else "?" for c in safe)
    return safe if len(safe) <= limit else safe[:limit] + "..."
