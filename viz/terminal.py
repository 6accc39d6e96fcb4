"""What the `gradflow` command prints: tables as aligned columns, usage errors as one short line.

Shared by viz/cli/ and the checker (viz/exercise/), which starts without the drawing code.

>>> print("\\n".join(columns([("node", "data"), ("x", 2), ("relu(x)", 2)])))
node     data
x        2
relu(x)  2
>>> one_line("bad\\nname\\x1b[31m")
'bad\\\\nname\\\\x1b[31m'
"""

from __future__ import annotations

import argparse


def columns(rows, indent: str = "") -> list:
    """One line per row, each cell padded to its column's widest, two spaces between columns;
    trailing spaces dropped so a blank last cell leaves no tail."""
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    return [indent + "  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]


def one_line(message: str, most: int = 300) -> str:
    # Arguments may hold line breaks, terminal escapes or be huge: an error stays one short line.
    message = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in message)
    return message if len(message) <= most else message[:most] + "…"


class Parser(argparse.ArgumentParser):
    # argparse prints the usage too; one line is easier to read in a terminal and a log.
    def error(self, message):
        self.exit(2, f"{self.prog}: error: {one_line(message)} (see {self.prog} --help)\n")
