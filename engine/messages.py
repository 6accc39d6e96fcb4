"""What the engine says when a number or a rule fails: each message names the node, its inputs and the way out.

Kept apart from engine/value.py so that the lesson there reads as the
algorithm; every message here is raised at the user's call, and says that no
gradient was changed when a backward pass fails.
"""

from __future__ import annotations

import math

from .args import nonfinite_ok, show

__all__ = ["refuse_result", "step_failed", "step_overflowed"]


def _call(rule, xs, arg):
    named = "" if arg is None else f", {rule.params[0] if rule.params else 'arg'}={arg!r}"
    return f"{rule.name}({', '.join(map(show, xs))}{named})"


def refuse_result(data, rule, a, b, arg):
    """Raise unless non-finite numbers are allowed: ``data`` is what ``rule`` gave for a (and b)."""
    if nonfinite_ok.get():
        return
    xs = [a.data] if b is None else [a.data, b.data]
    if all(map(math.isfinite, xs)):
        what = "is not a number" if math.isnan(data) else "overflows a float"  # math: no read of a watched number
        raise OverflowError(f"{rule.name}: {_call(rule, xs, arg)} {what} (gives {data!r}); every Value must be "
                            "finite (use `with Value.allow_nonfinite():` to show overflow on purpose)")
    raise ValueError(f"{rule.name}: {_call(rule, xs, arg)} has an input that is not finite (its .data was set to "
                     "inf or nan); set .data to a finite number")


def _where(v):
    label = f" (label {v.label!r})" if v.label else ""
    return f"the {v.op} node{label} = {_call(v.rule, [x.data for x in v.inputs], v.arg)} = {v.data!r}"


def step_failed(v, e):
    """The error a rule raised at node v, its message naming the node."""
    message = f"backward: the local derivative of {_where(v)} failed: {e}; no gradient was changed"
    try:
        return type(e)(message)
    except Exception:  # an error type that takes other arguments keeps its own message
        return e


def step_overflowed(v, i, local, grad, total):
    """The error for a gradient that a float cannot hold, sent from node v to its input i."""
    x, d = v.inputs[i], local[i]
    name = f"input {i + 1}" + (f" ({x.label!r})" if x.label else "")
    what = (f"its local derivative d/d({name}) = {v.rule.formula[i]} is {d!r}" if not math.isfinite(d)
            else f"the gradient {grad!r} × {d!r} sent to {name} gives {total!r}")
    return OverflowError(f"backward: at {_where(v)}, {what}, which a float cannot hold; no gradient was changed")
