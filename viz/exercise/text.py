"""Reading a sheet's text: bounded file reads, TOML, and where each key and number is written.

tomllib gives values but no positions and no digits: 0.20 arrives as 0.2. A light
line scan finds each key's line and the literal text of a bare number, so that
the grader can see the significant digits a student wrote.
"""

from __future__ import annotations

import os
import re
import stat
import tomllib
from pathlib import Path

from engine.args import type_name

from .errors import SheetError

MAX_SHEET_BYTES = 1_000_000  # far above any exercise; keeps a stray 10 MB file fast to refuse

_KEYPART = r'(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|\'[^\']*\')'
_KEYLINE = re.compile(rf"\s*({_KEYPART}(?:\s*\.\s*{_KEYPART})*)\s*=\s*")
_HEADER = re.compile(rf"\s*(\[\[?)\s*({_KEYPART}(?:\s*\.\s*{_KEYPART})*)\s*\]")
_BARE_NUMBER = re.compile(r"([+-]?[0-9][0-9_]*(?:\.[0-9_]*)?(?:[eE][+-]?[0-9]+)?|[+-]?\.[0-9]+)\s*(?:#.*)?")


def key_parts(dotted: str) -> list:
    parts = re.findall(_KEYPART, dotted)
    return [p[1:-1].replace('\\"', '"').replace("\\\\", "\\") if p[0] in "\"'" else p for p in parts]


class Locator:
    """Line numbers of the sheet's keys, and the text of bare numbers, by a light scan of the text."""

    def __init__(self, text: str):
        self.lines = {}
        self.numbers = {}  # key path -> the number as written, e.g. "-0.20"
        arrays = {}  # header path -> index of its latest [[table]]
        table = ()
        for number, line in enumerate(text.splitlines(), start=1):
            header = _HEADER.match(line)
            if header:
                parts = key_parts(header.group(2))
                path = []
                for i, part in enumerate(parts):
                    path.append(part)
                    key = tuple(parts[: i + 1])
                    if header.group(1) == "[[" and i == len(parts) - 1:
                        arrays[key] = arrays.get(key, -1) + 1
                    if key in arrays:
                        path.append(arrays[key])
                table = tuple(path)
                self.lines.setdefault(table, number)
                if isinstance(table[-1], int):  # the first [[cases]] also stands for the whole array
                    self.lines.setdefault(table[:-1], number)
                continue
            key = _KEYLINE.match(line)
            if key:
                path = table + tuple(key_parts(key.group(1)))
                self.lines.setdefault(path, number)
                value = _BARE_NUMBER.fullmatch(line, key.end())
                if value:
                    self.numbers.setdefault(path, value.group(1))

    def line(self, path: tuple) -> int | None:
        for k in range(len(path), 0, -1):
            if path[:k] in self.lines:
                return self.lines[path[:k]]
        return None


def parse_toml(text: str, source: str) -> tuple:
    """(data, locator) of TOML text, or SheetError. A leading byte-order mark is accepted."""
    if not isinstance(text, str):
        raise TypeError(f"the sheet must be a str of TOML text, got {type_name(text)}")
    if len(text) > MAX_SHEET_BYTES:
        raise SheetError(f"{source}: the sheet is {len(text) / 1e6:.1f} million characters long; "
                         f"a sheet may be at most {MAX_SHEET_BYTES / 1e6:g} MB")
    text = text.removeprefix("\ufeff")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise SheetError(f"{source}: not valid TOML: {e}") from None
    except RecursionError:
        raise SheetError(f"{source}: arrays or inline tables nest too deeply for a sheet") from None
    except ValueError as e:  # an integer of more than 4,300 digits: Python refuses to convert it
        raise SheetError(f"{source}: not a number a sheet can hold ({str(e)[:120]}); write numbers "
                         "with at most a few hundred digits") from None
    return data, Locator(text)


def read_text(path) -> str:
    """A sheet file's text: regular files only, at most MAX_SHEET_BYTES + 1 bytes read.

    A symlink to /dev/zero or a FIFO is refused before reading, never read without end.
    """
    path = Path(path)
    try:
        info = os.stat(path)
        if stat.S_ISDIR(info.st_mode):
            raise SheetError(f"{path}: is a directory; give the path of a .toml sheet")
        if not stat.S_ISREG(info.st_mode):
            raise SheetError(f"{path}: is not a regular file (a device, a pipe or a socket); give the path of a .toml sheet")
        if info.st_size > MAX_SHEET_BYTES:
            raise SheetError(f"{path}: the file is {info.st_size / 1e6:.1f} MB; a sheet may be at most {MAX_SHEET_BYTES / 1e6:g} MB")
        # O_NONBLOCK: should the file be swapped for a FIFO after the check, opening it must not hang.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                raise SheetError(f"{path}: is not a regular file; give the path of a .toml sheet")
            data = f.read(MAX_SHEET_BYTES + 1)
        if len(data) > MAX_SHEET_BYTES:
            raise SheetError(f"{path}: the file is larger than {MAX_SHEET_BYTES / 1e6:g} MB, the most a sheet may be")
        return data.decode("utf-8")
    except FileNotFoundError:
        raise SheetError(f"{path}: no such file") from None
    except UnicodeDecodeError as e:
        raise SheetError(f"{path}: not UTF-8 text (byte {e.start}); a sheet is a TOML text file") from None
    except OSError as e:
        raise SheetError(f"{path}: cannot read it: {e.strerror or e}") from None
