"""Answers: what a key such as "dy/dw" or "∂z/∂w" asks for, and reading the answers given.

Keys are parsed in one bounded pass (no regular expression can backtrack on
"d/d/d/…"); a number keeps the text it was written with, for its significant digits.
"""

from __future__ import annotations

import math
import re
from typing import Mapping, NamedTuple

from engine.args import is_real
from engine.expr import Expr, ExprError

from .errors import kind_of
from .numbers import is_number_text

MAX_ANSWERS = 2000  # per case; each wrong one is explained, so this bounds the report
MAX_KEY = 100  # characters of an answer's key ("dy/dw"); parsed in one pass, never by backtracking

KIND_WORDS = {
    "value": "a forward value",
    "gradient": "a gradient of the output",
    "total": "a total derivative between two nodes",
    "local": "a local derivative",
    "update": "a parameter after one update step",
    "velocity": "a velocity after one update step",
}


class Answer(NamedTuple):
    """One answer: ``key`` as written ("y", "dy/dw"), its kind (see KIND_WORDS), the name
    it is about, the number given, the formula text when written as a formula (else ""),
    the number's literal text when known (its significant digits), and ``of``: the node
    differentiated (the output for a gradient, a for "da/db" and "∂a/∂b"); ``problem``: why it
    cannot be read, when it cannot (the item is then "invalid")."""

    key: str
    kind: str
    name: str
    given: float
    formula: str
    text: str = ""
    of: str = ""
    problem: str = ""  # why the answer cannot be read (it then counts as given, and invalid)
    note: str = ""  # how it was read, when that needs saying ("0,607" as 0.607)

    @property
    def item(self) -> tuple:
        return (self.kind, self.of, self.name)


def parse_key(key: str, output: str, steps: Mapping, names) -> tuple | str:
    """(kind, of, name) of an answer's key, or a sentence saying what is wrong.

    One left-to-right pass, bounded by MAX_KEY: "d/d/d/…" can cost no more than its length.

    >>> steps = {"z": Expr("w*x"), "y": Expr("relu(z)")}
    >>> [parse_key(k, "y", steps, ["w", "x", "z", "y"]) for k in ("y", "dy/dw", "delta(z)", "dz/dw", "∂z/∂w", "w'")]
    [('value', '', 'y'), ('gradient', 'y', 'w'), ('gradient', 'y', 'z'), ('total', 'z', 'w'), ('local', 'z', 'w'), ('update', '', 'w')]
    """
    k = key.strip()
    if len(k) > MAX_KEY:
        return f"the key is {len(k):,} characters long; an answer's key is a name or dA/dB, at most {MAX_KEY}"
    if k.startswith("delta(") and k.endswith(")"):
        name = k[6:-1].strip()
        return ("gradient", output, name) if name in names else f"delta({name}): {name!r} is neither an input nor a step"
    if "/" in k:
        top, _, bottom = k.partition("/")
        top, bottom = top.strip(), bottom.strip()
        if len(top) < 2 or len(bottom) < 2 or top[0] not in "d∂" or bottom[0] not in "d∂" or top[0] != bottom[0]:
            return "a derivative is written dA/dB (total) or ∂A/∂B (local), with node names A and B"
        a, b = top[1:].strip(), bottom[1:].strip()
        for n in (a, b):
            if n not in names:
                return f"{n!r} is neither an input nor a step"
        partial = top[0] == "∂"
        direct = a in steps and b in steps[a].names
        if partial and direct:
            users = sum(b in e.names for e in steps.values())
            if a != output or users > 1:
                return ("local", a, b)
        elif partial and a != output:
            return f"∂{a}/∂{b} is a local derivative, but {a} does not use {b} directly; write d{a}/d{b} for the total derivative"
        if a == output:
            return ("gradient", output, b)
        if not _depends(a, b, steps):
            return f"{a} does not depend on {b} (no path leads from {b} to {a}); dA/dB needs B on a path into A"
        return ("total", a, b)
    if k.endswith("'") and k[:-1].strip() in names:
        return ("update", "", k[:-1].strip())
    if k in names:
        return ("value", "", k)
    if k.startswith("v_") and k[2:] in names:
        return ("velocity", "", k[2:])
    return ""  # not recognised: the caller says what is allowed


def _depends(a: str, b: str, steps: Mapping) -> bool:
    """Whether the step a uses b, directly or through other steps (an explicit stack: no recursion)."""
    todo, seen = [a], set()
    while todo:
        n = todo.pop()
        if n in seen or n not in steps:
            continue
        seen.add(n)
        if b in steps[n].names:
            return True
        todo.extend(steps[n].names)
    return False


def nonfinite(sheet, solution):
    """(key, value) of the first item whose correct value is NaN or infinite here, else None."""
    for (kind, of, name), key in sheet.all_items.items():
        value = solution.correct(Answer(key, kind, name, 0.0, "", "", of))
        if not math.isfinite(value):
            return key, value
    return None


def item_of(fail, path, key, sheet) -> tuple:
    """The item (kind, of, name) a key of the sheet names (in items, [points], [tolerance], formula); a bad key fails."""
    if not isinstance(key, str):
        fail(path, f"an answer's key must be a string, got {key!r:.40}")
    parsed = parse_key(key, sheet.output, sheet.steps, sheet.solutions[0].values)
    if isinstance(parsed, str):
        fail(path, _key_problem(parsed, sheet))
    return parsed


def _key_problem(problem: str, sheet) -> str:
    return problem or (f"an answer is NAME (a forward value), d{sheet.output}/dNAME or delta(NAME) (a gradient of "
                       f"the output), dA/dB (a total derivative), ∂A/∂B (a local derivative)"
                       + (", NAME' or v_NAME (after the [update] step)" if sheet.update else "")
                       + f", for names among {', '.join(list(sheet.solutions[0].values)[:30])}")


class Invalid(ValueError):
    """An answer that cannot be read; the message says why, in the student's own terms."""


_COMMA = re.compile(r"\s*[+-]?[0-9]+,[0-9]+\s*")


def read_given(given, written: str | None, names: Mapping | None, *, comma: bool = True, finite: bool = True) -> tuple:
    """(number, formula, text, note) of one answer as given, or Invalid saying why.

    ``names`` maps the names a formula may use to their values; None allows none (an answer
    is then a number, or arithmetic of numbers such as "1/150"). ``written`` is a bare
    number's literal text (its significant digits); ``comma`` reads "0,607" as 0.607;
    ``finite=False`` lets a NaN or infinite number through (to be marked wrong).

    >>> read_given("-0.20", None, None)
    (-0.2, '', '-0.20', '')
    >>> read_given("0,607", None, None)[0::3]
    (0.607, "read '0,607' as 0.607 (a decimal comma)")
    >>> read_given("q", None, None)
    Traceback (most recent call last):
    ...
    viz.exercise.answers.Invalid: an answer here is a number, or arithmetic of numbers; 'q' is a name
    """
    if isinstance(given, str):
        if len(given) > 10_000:
            raise Invalid(f"the answer is {len(given):,} characters long; at most 10,000")
        note = ""
        if _COMMA.fullmatch(given):
            if not comma:
                raise Invalid(f"{given.strip()!r} has a decimal comma; this sheet takes a decimal point: "
                              f"{given.strip().replace(',', '.')}")
            note = f"read {given.strip()!r} as {given.strip().replace(',', '.')} (a decimal comma)"
            given = given.replace(",", ".")
        if is_number_text(given):  # a number in quotes keeps its digits: "-0.20"
            number = float(given.strip().replace("_", ""))
            if not math.isfinite(number):
                raise Invalid(f"{given.strip()[:40]!r} is not a finite number")
            return number, "", given.strip(), note
        try:
            expr = Expr(given)
        except ExprError as e:
            raise Invalid(f"{given.strip()[:80]!r} is neither a number nor arithmetic of numbers: {e}") from None
        outside = [n for n in expr.names if names is None or n not in names]
        if outside:
            if not names:
                raise Invalid(f"an answer here is a number, or arithmetic of numbers; {outside[0]!r} is a name")
            raise Invalid(f"a formula here may use only {', '.join(names)}; {outside[0]!r} is not one of them")
        try:
            number = expr.value(names or {})
        except ExprError as e:
            raise Invalid(f"{given.strip()[:80]!r} cannot be computed: {e}") from None
        if not math.isfinite(number):
            raise Invalid(f"{given.strip()[:80]!r} is {number}, not a finite number")
        return number, given.strip(), "", note
    if not is_real(given):
        what = "a formula" if names else "arithmetic of numbers"
        raise Invalid(f"an answer must be a number, or {what} in quotes, got {kind_of(given)}")
    try:
        number = float(given)
    except OverflowError:  # an integer past the largest float
        raise Invalid(f"the number {str(given)[:12]}... ({len(str(given))} digits) is too large for a float") from None
    if finite and not math.isfinite(number):
        raise Invalid(f"{given} is not a finite number")
    text = written if written is not None else (str(given) if isinstance(given, int) else repr(number))
    return number, "", text, ""


def sheet_answers(raw: Mapping, path: tuple, sheet, values: dict, fail, locator) -> tuple:
    """The answers of a sheet the student or teacher wrote themselves (a key, a self-check
    sheet, ``check(answers)``): a formula may use any input or step; a bad one is a SheetError."""
    out = []
    seen = {}
    if len(raw) > MAX_ANSWERS:
        fail(path, f"has {len(raw):,} answers; a sheet may have at most {MAX_ANSWERS:,}")
    for key, given in raw.items():
        where = path + (key,)
        if not isinstance(key, str):
            fail(where, f"an answer's key must be a string, got {key!r:.40}")
        parsed = parse_key(key, sheet.output, sheet.steps, values)
        if isinstance(parsed, str):
            fail(where, _key_problem(parsed, sheet))
        kind, of, name = parsed
        if kind in ("update", "velocity") and not sheet.update:
            fail(where, f"{key!r} is an answer after an update step, but the sheet has no [update] table (lr = 0.1)")
        if parsed in seen:
            fail(where, f"the same answer as {seen[parsed]!r}; give each answer once")
        seen[parsed] = key
        written = locator.numbers.get(where) if locator else None
        try:
            number, formula, text, note = read_given(given, written, values, comma=sheet.comma, finite=False)
        except Invalid as e:
            fail(where, str(e))
        out.append(Answer(key, kind, name, number, formula, text, of, note=note))
    return tuple(out)


def submitted(raw: Mapping, sheet, solution, locator=None, path=("answers",)) -> tuple:
    """(answers, ignored) of a submission, each answer judged on its own: one that cannot be
    read, or an item given under two keys, is an Answer with ``problem`` set and costs that item
    only. Keys the sheet does not ask for are ignored (listed). A formula may name the sheet's
    inputs only, and only for the items the sheet says take one (``formula``)."""
    by_item, ignored = {}, []
    for key, given in list(raw.items())[:MAX_ANSWERS]:
        if not isinstance(key, str):
            raise TypeError(f"grade: an answer's key must be a str such as 'dy/dw', got {key!r:.40}")
        parsed = parse_key(key, sheet.output, sheet.steps, solution.values)
        if isinstance(parsed, tuple) and parsed in sheet.all_items:
            by_item.setdefault(parsed, []).append((key, given))
        else:
            ignored.append(key)
    ignored += [str(k) for k in list(raw)[MAX_ANSWERS:]]
    out = []
    for (kind, of, name), given in by_item.items():
        key = given[0][0]
        if len(given) > 1:
            keys = " and ".join(repr(k) for k, _ in given)
            out.append(Answer(key, kind, name, math.nan, "", "", of, f"given twice, as {keys}: give each answer once"))
            continue
        allowed = sheet.formula_names((kind, of, name), solution)
        written = locator.numbers.get(path + (key,)) if locator else None
        try:
            number, formula, text, note = read_given(given[0][1], written, allowed, comma=sheet.comma)
        except Invalid as e:
            out.append(Answer(key, kind, name, math.nan, "", "", of, str(e)))
            continue
        out.append(Answer(key, kind, name, number, formula, text, of, note=note))
    return tuple(out), ignored
