"""Answers: what a key such as "dy/dw" or "∂z/∂w" asks for, and reading the answers given.

Keys are parsed in one bounded pass (no regular expression can backtrack on
"d/d/d/…"); a number keeps the text it was written with, for its significant digits.
"""

from __future__ import annotations

import math
from typing import Mapping, NamedTuple

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
    differentiated (the output for a gradient, a for "da/db" and "∂a/∂b")."""

    key: str
    kind: str
    name: str
    given: float
    formula: str
    text: str = ""
    of: str = ""

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


def _item_of(fail, path, key, sheet) -> tuple:
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


def _answers(raw: Mapping, path: tuple, sheet, values: dict, fail, locator) -> tuple:
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
        text = ""
        if isinstance(given, str):
            if len(given) > 10_000:
                fail(where, f"the formula is {len(given):,} characters long; at most 10,000")
            if is_number_text(given):  # a number in quotes keeps its digits: "-0.20"
                number, formula, text = float(given.strip().replace("_", "")), "", given.strip()
            else:
                try:
                    number = Expr(given).value(values)
                except ExprError as e:
                    fail(where, f"the formula {given!r:.80}: {e}")
                formula = given.strip()
        elif isinstance(given, bool) or not isinstance(given, (int, float)):
            fail(where, f"an answer must be a number or a formula in quotes, got {kind_of(given)}")
        elif isinstance(given, int) and abs(given) >= 1e308:
            fail(where, f"the number {str(given)[:12]}... ({len(str(given))} digits) is too large for a float")
        else:
            number, formula = float(given), ""
            written = locator.numbers.get(where) if locator else None
            text = written if written is not None else (str(given) if isinstance(given, int) else repr(float(given)))
        out.append(Answer(key, kind, name, number, formula, text, of))
    return tuple(out)
