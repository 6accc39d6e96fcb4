"""Per-student inputs: drawn from ``[vary]``, the same for one (key, student id) everywhere.

A draw is a SHA-256 of the key's fingerprint (what decides its numbers: inputs,
[vary], graph, seed; not its title or comments), the id (compared as ``ids``
compares them), the attempt and the input's name: no ``hash()`` (salted per
process) and no ``random`` seeding (which changed across Python versions). A draw
that lands on a degenerate point (a ReLU on its kink, a tie in max, a zero
divisor, a log of ≤ 0, a non-finite value) is redrawn.

``nearby`` draws other inputs on the same side of every kink, where a formula
answer must hold too.
"""

from __future__ import annotations

import hashlib

from .answers import nonfinite
from .errors import SheetError
from .ids import canonical
from .solve import Case, Solution

MAX_ATTEMPTS = 200
NEARBY = 4  # other draws a formula answer must hold at
NEARBY_ATTEMPTS = 40


def _number(digest: bytes, attempt: int, student: str, name: str) -> int:
    h = hashlib.sha256(b"\0".join([digest, str(attempt).encode(), student.encode("utf-8"), name.encode("utf-8")]))
    return int.from_bytes(h.digest()[:8], "big")


def _pick(digest: bytes, attempt: int, student: str, name: str, count: int) -> int:
    return _number(digest, attempt, student, name) % count


def degenerate(solution) -> str:
    """Why these inputs make the exercise ambiguous, or "" when they do not."""
    for step in solution.sequence:
        node = step.node
        if node.op in ("relu", "leaky_relu") and node.inputs[0].data == 0:
            return "a ReLU sits on its kink"
        if node.op == "max" and node.inputs[0].data == node.inputs[1].data:
            return "a max has a tie"
    bad = nonfinite(solution.sheet, solution)
    return f"the correct value of {bad[0]} is {bad[1]}" if bad else ""


def inputs_for(sheet, student: str) -> dict:
    """The inputs of ``student`` on a key with ``[vary]`` (deterministic, never degenerate).

    >>> from viz.exercise import loads
    >>> key = loads('[inputs]\\nx = 1\\nw = 1\\n[vary]\\nx = [-2, -1, 0, 1, 2]\\n[graph]\\ny = "relu(w*x)"\\n')
    >>> inputs_for(key, "ada") == inputs_for(key, "ada"), inputs_for(key, "ada")["x"] != 0
    (True, True)
    """
    return draw(sheet, student).case.inputs


def draw(sheet, student: str):
    """The Solution at ``student``'s inputs: the first draw that is not degenerate."""
    digest = sheet.fingerprint.encode()
    student = canonical(student)
    base = sheet.cases[0].inputs
    why = ""
    for attempt in range(MAX_ATTEMPTS):
        inputs = dict(base)
        for name, values in sheet.vary.items():
            inputs[name] = values[_pick(digest, attempt, student, name, len(values))]
        try:
            solution = Solution(sheet, Case("", "", inputs, ()))
            why = degenerate(solution)
        except SheetError as e:  # a zero divisor, a log of ≤ 0, an overflow: draw again
            why = str(e)
        if not why:
            return solution
    raise SheetError(f"{sheet.source}: vary: no draw of {MAX_ATTEMPTS} avoids a degenerate point ({why}); "
                     "widen the ranges in [vary]")


def branches(solution) -> tuple:
    """Which side of its kink each ReLU-like step and max is on: a formula holds piecewise."""
    out = []
    for step in solution.sequence:
        node = step.node
        if node.op in ("relu", "leaky_relu", "elu"):
            out.append(node.inputs[0].data > 0)
        elif node.op == "max":
            out.append(node.inputs[0].data >= node.inputs[1].data)
    return tuple(out)


def nearby(solution, salt: str, count: int = NEARBY) -> list:
    """Up to ``count`` Solutions at inputs near this one's (each moved by 5-20% of its size,
    at least 0.025), on the same side of every kink, none degenerate; deterministic per salt."""
    sheet = solution.sheet
    digest = sheet.fingerprint.encode()
    pattern = branches(solution)
    found = []
    for attempt in range(NEARBY_ATTEMPTS):
        if len(found) == count:
            break
        inputs = {}
        for name, x in solution.case.inputs.items():
            u = _number(digest, attempt, salt, name) / 2**64 * 2 - 1  # in [-1, 1)
            size = max(abs(x), 0.5)
            inputs[name] = x + (0.05 + 0.15 * abs(u)) * size * (1 if u >= 0 else -1)
        try:
            other = Solution(sheet, Case("", "", inputs, ()))
            if degenerate(other) or branches(other) != pattern:
                continue
        except SheetError:
            continue
        found.append(other)
    return found
