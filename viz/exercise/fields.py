"""Each table of a sheet, read and checked: a number, the tolerance, [vary], [update], the conventions.

Every reader takes ``fail`` (an ``errors.Failer``), which raises a SheetError
naming the line and the key; ``step_order`` puts the [graph]'s steps after
the steps they use, or names a cycle.

>>> from viz.exercise.errors import Failer
>>> read_tolerance(Failer("<sheet>", None), ("tolerance",), {"rel": 0.05})
Tolerance(rel=0.05, abs=0.0, digits=True, legacy=None)
"""

from __future__ import annotations

import math
from typing import NamedTuple

from engine.args import is_real
from engine.expr import check_name
from engine.ops import CONVENTIONS

from .errors import kind_of
from .numbers import DEFAULT_REL, Tolerance, fmt

__all__ = ["Update", "TOLERANCE_KEYS", "read_number", "unknown_key", "read_table", "read_tolerance", "read_vary",
           "read_update", "read_conventions", "check_input_name", "step_order"]

TOLERANCE_KEYS = ("rel", "abs", "digits")


class Update(NamedTuple):
    """One optimizer step. ``form = "pytorch"`` (PyTorch's SGD, the default): v' = μ·v + g,
    w' = w − η·v'; ``form = "lecture"`` (deck 004): V' = γ·V + η·g, w' = w − V'. Without
    momentum both are w' = w − η·g."""

    lr: float
    momentum: float
    velocity: dict
    form: str = "pytorch"

    def rule(self) -> str:
        lr, mu = fmt(self.lr), fmt(self.momentum)
        if self.momentum and self.form == "lecture":
            return f"V' = {mu}·V + {lr}·g, then w' = w − V' (g = the output's gradient; the lecture's form)"
        if self.momentum:
            return f"v' = {mu}·v + g, then w' = w − {lr}·v' (g = the output's gradient; PyTorch's form)"
        return f"w' = w − {lr}·g (g = the output's gradient)"


def read_number(fail, path, x) -> float:
    if not is_real(x):
        fail(path, f"an input's value must be a number, got {kind_of(x)} {x!r:.40}")
    x = float(x) if abs(x) < 1e308 else math.inf  # a huge TOML integer would overflow float()
    if not math.isfinite(x):
        fail(path, f"an input's value must be a finite number, got {x}")
    return x


def unknown_key(fail, path, key, allowed):
    import difflib

    near = difflib.get_close_matches(str(key), list(allowed), n=1)
    hint = f" (did you mean {near[0]!r}?)" if near else ""
    fail(path + (key,), f"unknown key {key!r}{hint}; the keys allowed here are: {', '.join(allowed)}")


def read_table(fail, path, x, what):
    if not isinstance(x, dict):
        fail(path, f"must be a table of {what}, got {kind_of(x)}")
    return x


def read_tolerance(fail, path, x) -> Tolerance:
    if isinstance(x, dict):
        for k in x:
            if k not in TOLERANCE_KEYS:
                unknown_key(fail, path, k, TOLERANCE_KEYS)
        rel, abs_, digits = x.get("rel", DEFAULT_REL), x.get("abs", 0.0), x.get("digits", True)
        for name, v in (("rel", rel), ("abs", abs_)):
            if not is_real(v) or not 0 <= v < math.inf:
                fail(path + (name,), f"must be a number ≥ 0 such as 0.01, got {v!r:.40}")
        if not isinstance(digits, bool):
            fail(path + ("digits",), f"must be true or false, got {digits!r:.40}")
        return Tolerance(float(rel), float(abs_), digits)
    if not is_real(x) or not 0 < x < math.inf:
        fail(path, f"must be a positive number such as 1e-3 (the old rule) or a table {{rel = 0.01, abs = 0}}, got {x!r:.40}")
    return Tolerance(legacy=float(x))


def read_vary(fail, raw, leaves, top_inputs) -> dict:
    raw = read_table(fail, ("vary",), raw, "inputs to vary (x = {min = -3, max = 3, step = 1})")
    out = {}
    for name, spec in raw.items():
        path = ("vary", name)
        if name not in leaves:
            fail(path, f"{name!r} is not an input of the graph; the inputs are {', '.join(leaves)}")
        if isinstance(spec, list):
            values = [read_number(fail, path, v) for v in spec]
        elif isinstance(spec, dict):
            for k in spec:
                if k not in ("min", "max", "step"):
                    unknown_key(fail, path, k, ("min", "max", "step"))
            for k in ("min", "max"):
                if k not in spec:
                    fail(path, f"needs {k}: write {{min = -3, max = 3, step = 1}}")
            lo, hi = read_number(fail, path + ("min",), spec["min"]), read_number(fail, path + ("max",), spec["max"])
            step = read_number(fail, path + ("step",), spec.get("step", 1))
            if step <= 0 or hi < lo:
                fail(path, f"needs min ≤ max and step > 0, got min = {fmt(lo)}, max = {fmt(hi)}, step = {fmt(step)}")
            count = int(math.floor((hi - lo) / step + 1e-9)) + 1
            if count > 100_000:
                fail(path, f"gives {count:,} values; at most 100,000")
            values = [round(lo + i * step, 12) for i in range(count)]
        else:
            fail(path, f"must be {{min = -3, max = 3, step = 1}} or a list of values, got {kind_of(spec)}")
        values = list(dict.fromkeys(values))
        if not values:
            fail(path, "has no values to draw from")
        if name in top_inputs:  # the sheet's own number comes first: it is the teacher's worked case
            base = float(top_inputs[name])
            values = [base] + [v for v in values if v != base] if base in values else values
        out[name] = tuple(values)
    return out


def read_update(fail, raw, leaves):
    if raw is None:
        return None
    raw = read_table(fail, ("update",), raw, "update settings (lr = 0.1)")
    for k in raw:
        if k not in ("lr", "momentum", "velocity", "form"):
            unknown_key(fail, ("update",), k, ("lr", "momentum", "velocity", "form"))
    form = raw.get("form", "pytorch")
    if form not in ("pytorch", "lecture"):
        fail(("update", "form"), f"must be \"pytorch\" (v' = μ·v + g, w' = w − η·v') or \"lecture\" "
                                 f"(V' = γ·V + η·g, w' = w − V'), got {form!r:.40}")
    if "lr" not in raw:
        fail(("update",), "needs lr, the learning rate, e.g. lr = 0.1")
    lr = read_number(fail, ("update", "lr"), raw["lr"])
    momentum = read_number(fail, ("update", "momentum"), raw.get("momentum", 0.0))
    if not 0 <= momentum < 1:
        fail(("update", "momentum"), f"must be in [0, 1), got {fmt(momentum)}")
    velocity = read_table(fail, ("update", "velocity"), raw.get("velocity", {}), "initial velocities (w = 0)")
    for name, v in velocity.items():
        if name not in leaves:
            fail(("update", "velocity", name), f"{name!r} is not an input of the graph")
    return Update(lr, momentum, {n: read_number(fail, ("update", "velocity", n), v) for n, v in velocity.items()}, form)


def read_conventions(fail, raw) -> dict:
    raw = read_table(fail, ("conventions",), raw, "conventions ({relu_at_0 = 1})")
    out = {}
    for k, v in raw.items():
        if k not in CONVENTIONS:
            unknown_key(fail, ("conventions",), k, CONVENTIONS)
        allowed = list(CONVENTIONS[k].choices)
        if not (is_real(v) or isinstance(v, str)) or v not in allowed:
            shown = ", ".join(f'"{a}"' if isinstance(a, str) else fmt(a) for a in allowed)
            fail(("conventions", k), f"must be one of {shown}, got {v!r:.40}")
        out[k] = allowed[allowed.index(v)]  # the table's own spelling: 1.0 is the choice 1
    return out


def check_input_name(fail, path, name, steps):
    why = check_name(name)
    if why:
        fail(path, why)
    if name in steps:
        fail(path, f"{name!r} is both an input and a step; rename one of them")


def step_order(steps: dict, fail) -> list:
    """Steps in an order where each comes after the steps it uses; a cycle is an error."""
    deps = {s: [n for n in e.names if n in steps] for s, e in steps.items()}
    state, order = {}, []
    for root in steps:
        if root in state:
            continue
        state[root] = "open"
        stack = [(root, iter(deps[root]))]
        while stack:  # an explicit stack: a long chain of steps must not hit the recursion limit
            node, todo = stack[-1]
            for dep in todo:
                seen = state.get(dep)
                if seen == "open":
                    path = [n for n, _ in stack]
                    cycle = path[path.index(dep):] + [dep]
                    fail(("graph", dep), f"a cycle between steps: {' → '.join(cycle)}; "
                                         "a step may only use inputs and steps that do not depend on it")
                if seen is None:
                    state[dep] = "open"
                    stack.append((dep, iter(deps[dep])))
                    break
            else:
                stack.pop()
                state[node] = "done"
                order.append(node)
    return order
