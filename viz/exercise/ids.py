"""Student ids and the files written for them: one student, one id, one file, nothing overwritten.

An id is normalised once, where it is read (NFKC; control and zero-width
characters removed; spaces at the ends dropped), and compared case-insensitively:
"Ada", "ada" and "ada\\u200b" are one student. Each id gets a readable file name
of its own (letters of any script kept); where two ids would share a name, each
gets a short suffix from its own id. Files are written only where none exists,
so a run never replaces a key, a roster or another run's work.

>>> normal("  Ada\\u200b "), same("Ada", "ada"), shown("x\\x1b[2J")
('Ada', True, 'x\\\\x1b[2J')
>>> file_names(["a b", "a_b", "a/b", "zoë"])
{'a b': 'a_b-c8687a', 'a_b': 'a_b', 'a/b': 'a_b-c14cdd', 'zoë': 'zoë'}
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import sys
import unicodedata
from pathlib import Path

from .errors import SheetError
from .text import read_text

MAX_ID = 100  # characters of a student id
MAX_STUDENTS = 10_000
MAX_NAME = 60  # characters of a file name made from an id, before its suffix
_RESERVED = {".", "..", "con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}


def normal(student: str) -> str:
    """The id as it is kept: NFKC, without control or format (zero-width) characters, stripped."""
    text = unicodedata.normalize("NFKC", student)
    return "".join(c for c in text if unicodedata.category(c) not in ("Cc", "Cf")).strip()


def canonical(student: str) -> str:
    """What two ids are compared by (and what a student's [vary] draw is made from)."""
    return normal(student).casefold()


def same(a: str, b: str) -> bool:
    return canonical(a) == canonical(b)


def shown(text: str, most: int = MAX_ID + 20) -> str:
    """Text safe to print or write: control characters as escapes, one line, bounded."""
    out = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)
    return out if len(out) <= most else out[:most] + "…"


def problem(student) -> str:
    """Why a (normalised) id cannot be used, or ""."""
    if not isinstance(student, str) or not student:
        return "the id is empty"
    if len(student) > MAX_ID:
        return f"the id {shown(student, 20)} is {len(student)} characters long; at most {MAX_ID}"
    return ""


def _base(student: str) -> str:
    name = re.sub(r"[^\w.-]", "_", normal(student), flags=re.UNICODE)[:MAX_NAME].strip(".")
    return "student" if not name or name.casefold() in _RESERVED else name


def _suffix(student: str, length: int = 6) -> str:
    return hashlib.sha256(canonical(student).encode("utf-8")).hexdigest()[:length]


def file_names(students) -> dict:
    """id -> a file stem of its own. An id keeps its plain name when it is the only one with it
    (compared case-insensitively, as on many file systems) or is written exactly so; the others
    sharing that name get a suffix of six hex digits from their own id."""
    groups = {}
    for s in students:
        groups.setdefault(_base(s).casefold(), []).append(s)
    out = {}
    for members in groups.values():
        for s in members:
            plain = len(members) == 1 or s == _base(s)
            out[s] = _base(s) if plain else f"{_base(s)}-{_suffix(s)}"
    # Plain names are kept first; a suffixed name that meets another's name takes more digits.
    taken = {}
    for s, name in out.items():
        if name == _base(s):
            taken.setdefault(name.casefold(), s)
    for s, name in out.items():
        length = 6
        while name.casefold() in taken and taken[name.casefold()] != s:
            length += 2
            name = f"{_base(s)}-{_suffix(s, length)}"
        out[s] = name
        taken[name.casefold()] = s
    return out


def read_roster(path) -> tuple:
    """(ids, refused) from a file of student ids: one per line, or a CSV with an ``id``
    (or ``student``) column. ``refused`` holds (line number, the reason) for each id that
    cannot be used (too long, empty, the same student again); the others are kept."""
    text = read_text(path).removeprefix("\ufeff")
    numbered = [(n, ln) for n, ln in enumerate(text.splitlines(), start=1)
                if ln.strip() and not ln.lstrip().startswith("#")]
    if numbered and "," in numbered[0][1]:
        reader = csv.DictReader(io.StringIO("\n".join(ln for _, ln in numbered)))
        column = next((c for c in reader.fieldnames or [] if c.strip().lower() in ("id", "student")), None)
        if column is None:
            raise SheetError(f"{shown(str(path))}: a CSV of students needs an 'id' or 'student' column; "
                             f"its columns are {shown(', '.join(reader.fieldnames or []))}")
        rows = [(n, (row.get(column) or "")) for (n, _), row in zip(numbered[1:], reader)]
    else:
        rows = numbered
    ids, refused, seen = [], [], {}
    for n, raw in rows:
        student = normal(raw)
        why = problem(student)
        if not why and canonical(student) in seen:
            why = f"{shown(student)!r} is the same student as line {seen[canonical(student)]}"
        if why:
            refused.append((n, why))
            continue
        seen[canonical(student)] = n
        ids.append(student)
    if not ids and not refused:
        raise SheetError(f"{shown(str(path))}: no student ids found")
    if len(ids) > MAX_STUDENTS:
        raise SheetError(f"{shown(str(path))}: {len(ids):,} students; at most {MAX_STUDENTS:,}")
    return ids, refused


# --- writing only new files ------------------------------------------------------------------


class Writer:
    """Writes the files of one run, each only where no file exists; ``taken`` says which of the
    planned paths already exist (or name an input of the run) before anything is written."""

    def __init__(self, protected=()):
        self.protected = {_real(p) for p in protected}
        self.written = set()

    def taken(self, paths) -> list:
        """(path, why) for each planned path that must not be written."""
        out = []
        for p in paths:
            if _real(p) in self.protected:
                out.append((p, "it is one of this run's inputs (the key, the roster or a submission)"))
            elif _real(p) not in self.written and os.path.lexists(p):
                out.append((p, "it exists already; this command writes only new files"))
        return out

    def refuse(self, command: str, paths, hint: str) -> bool:
        """Say which planned paths must not be written (the first five), and whether any; nothing is
        written when one is."""
        taken = self.taken(paths)
        for path, why in taken[:5]:
            print(f"gradflow {command}: will not write {shown(str(path))}: {why}", file=sys.stderr)
        if taken:
            more = f" (and {len(taken) - 5} more)" if len(taken) > 5 else ""
            print(f"gradflow {command}: nothing written{more}; {hint}", file=sys.stderr)
        return bool(taken)

    def write(self, path, text: str):
        """Write ``text`` to a new file at ``path``, whole or not at all (FileExistsError if there is one)."""
        path = Path(path)
        if _real(path) in self.protected:
            raise FileExistsError(f"{shown(str(path))} is one of this run's inputs")
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(text, encoding="utf-8")
        try:
            if _real(path) in self.written:
                os.replace(tmp, path)
            else:
                _link(tmp, path, text)
        finally:
            if tmp.exists():
                tmp.unlink()
        self.written.add(_real(path))


def _link(tmp: Path, path: Path, text: str):
    try:
        os.link(tmp, path)  # fails if the path exists, even if it appeared a moment ago
    except FileExistsError:
        raise
    except OSError:  # a file system without hard links: create the file exclusively instead
        with open(path, "x", encoding="utf-8") as f:
            f.write(text)


def _real(path) -> str:
    return os.path.realpath(os.fspath(path))


def index_csv(rows) -> str:
    """index.csv: student, file, one row each."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["student", "file"])
    for student, name in rows:
        w.writerow([cell(student), name])
    return buf.getvalue()


def cell(text: str) -> str:
    # A spreadsheet runs a cell that starts with = + - @ as a formula: quote it as text.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
