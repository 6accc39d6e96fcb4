"""Saying what is wrong in a student's engine, in the student's own terms.

A wrong local derivative is compared with the usual slips, each computed from
the op table's row (never a formula written again here): the upstream gradient
passed on unchanged, the two inputs' derivatives swapped, the input used where
the rule needs the output, a flipped sign, gradient let through where the rule
blocks it. A wrong gradient in a graph is compared with one branch's share.

>>> from engine.ops import OPS
>>> slip(OPS["mul"], (2.0, -3.0), (1.0, 1.0), (-3.0, 2.0))
'sends each input the upstream gradient unchanged'
>>> slip(OPS["tanh"], (0.7,), (0.51,), OPS["tanh"].d(0.7, 0.6043677771171636, None))
'computes its local derivative from the input x where the rule 1 − tanh²(x) needs the output (out.data)'
"""

from __future__ import annotations

import math

from .bounds import student_line

__all__ = ["Fail", "num", "close", "same", "attempt", "number_of", "slip", "one_branch"]


class Fail(Exception):
    """A check's verdict: its message says what is wrong, in the student's terms."""


def num(x) -> str:
    """A number as a student would write it: 2 for 2.0, six significant digits otherwise.

    >>> num(-3.0), num(0.60436777711), num(1e-12)
    ('-3', '0.604368', '1e-12')
    """
    x = float(x)
    if x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return f"{x:.6g}"


def close(got, want) -> bool:
    """Equal to about 7 digits (absolutely near 0)."""
    return abs(got - want) <= 1e-7 * max(1.0, abs(want))


def same(got, want) -> bool:
    return len(got) == len(want) and all(close(g, w) for g, w in zip(got, want))


def attempt(what: str, fn, *args, hint=""):
    """``fn(*args)``, the student's code; an error it raises becomes a Fail that names ``what`` and the line.

    ``hint`` is added to a TypeError (an operator Python could not find).
    """
    try:
        return fn(*args)
    except (MemoryError, RecursionError):
        raise
    except Exception as e:  # noqa: BLE001 - whatever the student's code raises is the finding
        line = student_line(e.__traceback__)
        hint = hint if isinstance(e, TypeError) else ""
        raise Fail(f"{what} raised {type(e).__name__}: {str(e)[:200]}{hint}" + (f" ({line})" if line else "")) from None


def number_of(v, attr: str, name: str) -> float:
    """``v.data`` or ``v.grad`` as a float, or a Fail saying what it is instead."""
    try:
        x = getattr(v, attr)
    except AttributeError:
        raise Fail(f"{name} has no .{attr}: a Value keeps its number in .data and its gradient in .grad") from None
    if x is None:
        raise Fail(f"{name}.{attr} is None: start .grad at 0 (backward adds to it)" if attr == "grad"
                   else f"{name}.data is None")
    if hasattr(x, "data") and not isinstance(x, (int, float)):
        raise Fail(f"{name}.{attr} is a {type(x).__name__}, not a number: in `_backward`, multiply numbers "
                   "(out.grad, other.data), not Values")
    try:
        return float(x)
    except (TypeError, ValueError):
        raise Fail(f"{name}.{attr} is {type(x).__name__} {x!r:.40}, not a number") from None


def slip(row, xs, got, want, where="", arg=None) -> str:
    """What a student's local derivatives ``got`` (upstream 1) do, against the row's ``want`` at ``xs``."""
    wrong = [i for i, (g, w) in enumerate(zip(got, want)) if not close(g, w)]
    i = wrong[0] if wrong else 0
    if all(g == 0 for g in got):
        return "sends no gradient to its inputs (they stay 0): does it set `out._backward`, and does backward() call it?"
    if close(want[i], 0.0):
        return f"passes gradient {where or 'where its local derivative is 0'}"
    if same(got, (1.0,) * len(got)):
        return "sends each input the upstream gradient unchanged" if len(got) > 1 else \
            "passes the upstream gradient on unchanged"
    if len(xs) == 2 and same(got, want[::-1]):
        return "gives each input the other input's local derivative (swapped)"
    if len(xs) == 1:
        try:
            as_input = row.d(xs[0], xs[0], arg)
        except (ArithmeticError, ValueError):
            as_input = None
        if as_input is not None and same(got, as_input):
            return (f"computes its local derivative from the input x where the rule {row.formula[0]} "
                    "needs the output (out.data)")
    if same(got, tuple(-w for w in want)):
        return "has the sign of its local derivative flipped"
    return f"gives the local derivative {num(got[i])} where {row.formula[i]} is {num(want[i])}"


def one_branch(got: float, shares) -> bool:
    """The gradient a node got is one branch's share, not the sum of all of them (`=` for `+=`)."""
    total = math.fsum(shares)
    return len(shares) > 1 and not close(got, total) and any(close(got, s) for s in shares)
