"""Rows of cells as aligned text columns, for the tables the command line and the checker print.

>>> print("\\n".join(columns([("node", "data"), ("x", 2), ("relu(x)", 2)])))
node     data
x        2
relu(x)  2
"""

from __future__ import annotations


def columns(rows, indent: str = "") -> list:
    """One line per row, each cell padded to its column's widest, two spaces between columns;
    trailing spaces dropped so a blank last cell leaves no tail."""
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    return [indent + "  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
