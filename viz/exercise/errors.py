"""How a bad sheet is reported: SheetError names the file, the line and key, and the problem."""

from __future__ import annotations

import re


class SheetError(ValueError):
    """An invalid sheet. The message names the file, the line and key when known, and the problem."""

    def __init__(self, message: str, *, key: str = "", line: int | None = None):
        super().__init__(message)
        self.key = key
        self.line = line


def keypath(path: tuple) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part + 1}]"
        else:
            part = part if isinstance(part, str) else repr(part)
            shown = part if re.fullmatch(r"[A-Za-z0-9_-]+", part) else '"' + part.replace('\\', '\\\\').replace('"', '\\"') + '"'
            out += ("." if out else "") + shown
    return out


class Failer:
    """Raises SheetError for a key path, with the line the locator found for it."""

    def __init__(self, source, locator):
        self.source = source
        self.locator = locator

    def __call__(self, path: tuple, problem: str):
        line = self.locator.line(path) if self.locator and path else None
        where = f", line {line}" if line else ""
        key = keypath(path)
        raise SheetError(f"{self.source}{where}: {key + ': ' if key else ''}{problem}", key=key, line=line)


def kind_of(x) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string", dict: "a table",
            list: "an array"}.get(type(x), type(x).__name__)
