"""Solving one case: the graph, its backward step sequence, every value and derivative, and why.

The engine's backward step sequence is the one source of the gradients; the
named chain, the paths and the gate lines are read from it.
"""

from __future__ import annotations

import math
import re
from typing import NamedTuple

from engine import OPS, DomainError, Value
from engine.ops import CONVENTIONS
from engine.expr import ExprError

from ..terminal import columns
from .errors import Failer
from .numbers import factor, fmt, json_number

MAX_GATE_LINES = 12  # a name used 5,000 times explains its first uses and counts the rest
MAX_TEXT = 80  # characters kept of an unnamed node's source text
_ENGINE_FAILURES = (ExprError, DomainError, ZeroDivisionError, OverflowError, ValueError)


class _ShortTexts(dict):
    # The engine hands over each node's source text; a long sum's prefixes would be quadratic in memory.
    def __setitem__(self, key, value):
        super().__setitem__(key, value if len(value) <= MAX_TEXT else value[: MAX_TEXT - 1] + "…")


def _assignments(names, data) -> str:
    return ", ".join(f"{n} = {fmt(data(n))}" for n in list(names)[:20]) + (", …" if len(names) > 20 else "")


class Case(NamedTuple):
    """One variant of the exercise: its inputs and answers."""

    name: str
    description: str
    inputs: dict
    answers: tuple  # of Answer


class Solution:
    """One case, computed: the graph, every named value and gradient, and why.

    ``nodes`` maps each input and step name to its Value (labelled with the
    name); ``values`` and ``grads`` hold the numbers; ``sequence`` is the
    engine's backward step sequence; ``local[S][N]`` is the local derivative
    dS/dN of step S with respect to a name N it uses directly.
    """

    def __init__(self, sheet, case):
        self.sheet = sheet
        self.case = case
        out = sheet.output
        self.nodes = {}
        for name, x in case.inputs.items():
            self.nodes[name] = Value(x, name, kind="param" if name in sheet.params else "input")
        self.texts = _ShortTexts()  # unnamed node -> the source text that made it
        self.owner = {}  # node -> the step it was made in
        fail = Failer(sheet.source, sheet.locator)
        prefix = f"case {case.name!r}: " if len(sheet.cases) > 1 else ""
        if sheet.vary and case.name == "" and case is not sheet.cases[0]:
            prefix = f"with the inputs {_assignments(case.inputs, case.inputs.get)}: "
        self.prefix = prefix
        for name, expr in sheet.steps.items():
            made = _ShortTexts()
            try:
                node = expr.evaluate(self.nodes, made)
            except _ENGINE_FAILURES as e:
                fail(("graph", name), f"{prefix}{e}; with {_assignments(expr.names, self._data)}")
            if not math.isfinite(node.data):
                fail(("graph", name), f"{prefix}the value overflows to {node.data}; with "
                                      f"{_assignments(expr.names, self._data)}")
            node.label = name
            for v in made:
                self.owner[v] = name
            self.texts.update(made)
            self.nodes[name] = node
        self.name_of = {v: n for n, v in self.nodes.items()}
        self.root = self.nodes[out]
        self.values = {n: v.data for n, v in self.nodes.items()}

        # The engine's step sequence is the one source of the gradients and their order, with the
        # local derivatives the sheet's conventions choose (ReLU′(0) = 1, say) where one applies.
        # Non-finite gradients are let through here so that the check below can name the item.
        try:
            with Value.allow_nonfinite():
                self.sequence = list(self.root.steps(conventions=sheet.conventions))
        except _ENGINE_FAILURES as e:
            fail(("graph", out), f"{prefix}the backward pass fails: {e}; the exercise's numbers are out of range")
        # Steps sitting where a convention applies (a ReLU at 0): the report names the rule used.
        self.kinks = [st for st in self.sequence if _kink(st.node)]
        self.grads = {n: float(v.grad) for n, v in self.nodes.items()}
        reached = set(self.root.topo())
        self.reaches = {n for n, v in self.nodes.items() if v in reached}
        self.edges = {n: [] for n in self.nodes}  # name -> [(index in sequence, input position)]
        done = {}
        for index, step in enumerate(self.sequence):
            done[step.node] = index
            for i, v in enumerate(step.node.inputs):
                if v in self.name_of:
                    self.edges[self.name_of[v]].append((index, i))
        # When each name's gradient is complete: a step's at its own Step, a leaf's at its last edge.
        # (A leaf's gradient is complete just after the Step of its last edge, hence the half.)
        late = len(self.sequence)
        complete = {n: done.get(v, late) if v.op else max((i for i, _ in self.edges[n]), default=late) + 0.5
                    for n, v in self.nodes.items()}
        # sorted() is stable, so names completed together keep their forward order.
        self.backward_order = sorted(self.nodes, key=complete.get)
        self.backward_rank = {n: i for i, n in enumerate(self.backward_order)}
        self.forward_rank = {n: i for i, n in enumerate(self.nodes)}

        # Local derivatives of each step with respect to the names it uses, on a fresh copy
        # of the step alone, so that paths through other steps are not mixed in.
        self.local = {}
        self.uses = {n: [] for n in self.nodes}
        for name, expr in sheet.steps.items():
            leaves = {n: Value(self.values[n], n) for n in expr.names}
            try:
                top = expr.evaluate(leaves)
            except _ENGINE_FAILURES as e:
                fail(("graph", name), f"{prefix}its local derivatives fail: {e}")
            try:
                # As above, a non-finite local derivative is let through for the check that names it.
                with Value.allow_nonfinite():
                    top.backward(conventions=sheet.conventions)
                self.local[name] = {n: float(v.grad) for n, v in leaves.items()}
            except _ENGINE_FAILURES as e:
                fail(("graph", name), f"{prefix}its local derivatives fail: {e}")
            for n in expr.names:
                self.uses[n].append(name)
        finite = [abs(x) for x in (*self.values.values(), *self.grads.values()) if math.isfinite(x)]
        self.scale = max(finite, default=1.0) or 1.0  # the sheet's largest value: the floor for a correct 0
        self._totals = {}
        self.near = None  # Solutions at inputs near these (vary.nearby), made once for every formula answer

    def _data(self, name):
        return self.nodes[name].data

    # -- the answer kinds ------------------------------------------------------------------

    def total(self, a: str, b: str) -> float:
        """da/db through every path, from the local derivatives of the named steps."""
        if a not in self._totals:
            d = {a: 1.0}
            for step in reversed(list(self.sheet.steps)):
                if step in d:
                    for n, local in self.local[step].items():
                        d[n] = d.get(n, 0.0) + d[step] * local
            self._totals[a] = d
        return self._totals[a].get(b, 0.0)

    def velocity(self, name: str) -> float:
        """v' after one step: PyTorch's μ·v + g, or the lecture's γ·V + η·g (see Update)."""
        u = self.sheet.update
        g = self.grads[name] if u.form == "pytorch" else u.lr * self.grads[name]
        return u.momentum * u.velocity.get(name, 0.0) + g if u.momentum else g

    def updated(self, name: str) -> float:
        u = self.sheet.update
        return self.values[name] - (u.lr * self.velocity(name) if u.form == "pytorch" else self.velocity(name))

    def correct(self, a) -> float:
        """The correct number for an answer (any kind)."""
        kind = a.kind
        if kind == "value":
            return self.values[a.name]
        if kind == "gradient":
            return self.grads[a.name]
        if kind == "total":
            return self.total(a.of, a.name)
        if kind == "local":
            return self.local[a.of][a.name]
        if kind == "update":
            return self.updated(a.name)
        return self.velocity(a.name)

    # -- words and numbers --------------------------------------------------------------

    def describe(self, v: Value) -> str:
        """How a node is written: its name, its source text, or its number."""
        if v in self.name_of:
            return self.name_of[v]
        if v in self.texts:
            return self.texts[v]
        if not v.op:
            return fmt(v.data)
        return OPS[v.op].symbol

    def _operand(self, v: Value) -> str:
        s = self.describe(v)
        return s if re.fullmatch(r"[\w.]+", s) or _enclosed(s) else f"({s})"

    def formula(self, node: Value, i: int) -> str:
        """The op table's local derivative for input i, in this node's own terms."""
        op = OPS[node.op]
        subst = {"x": self._operand(node.inputs[0])}
        if len(node.inputs) > 1:
            subst["y"] = self._operand(node.inputs[1])
        if node.arg is not None and op.params:
            subst["k"] = subst["α"] = fmt(node.arg)
        return re.sub(r"(?<![A-Za-z_])([xyk])(?![A-Za-z_])|α", lambda m: subst.get(m.group(0), m.group(0)),
                      op.formula[i])

    def chain(self, name: str) -> str:
        """dy/dN as the sum over the steps that use N of dy/dS · dS/dN, with numbers."""
        y = self.sheet.output
        if name == y:
            return f"d{y}/d{y} = 1 (the backward pass starts with the output's gradient with respect to itself)"
        if name not in self.reaches:
            return f"d{y}/d{name} = 0 ({name} is not on any path to {y})"
        terms = [(s, self.grads[s], self.local[s][name]) for s in self.uses[name]]
        shown, hidden = terms[:MAX_GATE_LINES], len(terms) - MAX_GATE_LINES
        more = f" + … ({hidden} more)" if hidden > 0 else ""
        # The output's own local derivative is written ∂y/∂N, so it cannot be read as the dy/dN being defined.
        symbols = " + ".join(f"d{y}/d{s} · " + (f"∂{s}/∂{name}" if s == y else f"d{s}/d{name}") for s, _, _ in shown)
        numbers = " + ".join(f"{factor(g)} · {factor(d)}" for _, g, d in shown)
        return f"d{y}/d{name} = {symbols}{more} = {numbers}{more} = {fmt(self.grads[name])}"

    def path(self, name: str) -> str | None:
        """When N reaches the output along one path only: dy/dN as the product of every
        local derivative on it, the δ chain of the lectures written out. Else None.
        """
        y = self.sheet.output
        path = [name]
        while path[-1] != y:
            onward = [s for s in self.uses[path[-1]] if s in self.reaches]
            if len(onward) != 1 or path[-1] not in self.reaches:
                return None
            path.append(onward[0])
        if len(path) < 4:
            return None  # one or two steps: the chain already says it all
        pairs = list(zip(path[1:], path))
        symbols = " · ".join(f"∂{s}/∂{n}" if s == y else f"d{s}/d{n}" for s, n in reversed(pairs))
        numbers = " · ".join(factor(self.local[s][n]) for s, n in reversed(pairs))
        return f"along the path: d{y}/d{name} = {symbols} = {numbers} = {fmt(self.grads[name])}"

    def gates(self, name: str) -> list:
        """One line per edge leaving N in the step sequence: the gate, its rule, its numbers."""
        lines = []
        edges = self.edges[name]
        for index, i in edges[:MAX_GATE_LINES]:
            step = self.sequence[index]
            node = step.node
            op = OPS[node.op]
            where = self.owner.get(node, "")
            inside = f" in {where} = {self.sheet.steps[where].text[:MAX_TEXT]}" if where else ""
            lines.append(
                f"{name} enters the {op.symbol} gate{inside} ({op.gate}); local derivative "
                f"∂{self._operand(node)}/∂{name} = {_evaluated(self.formula(node, i), step.local[i])}; "
                f"{fmt(step.grad)} arrives from above, so {name} receives "
                f"{factor(step.grad)} · {factor(step.local[i])} = {fmt(step.contrib[i])}"
            )
        if len(edges) > MAX_GATE_LINES:
            lines.append(f"… and {len(edges) - MAX_GATE_LINES:,} more uses of {name} (not shown)")
        if len(edges) > 1:
            parts = " + ".join(factor(self.sequence[index].contrib[i]) for index, i in edges[:MAX_GATE_LINES])
            more = " + …" if len(edges) > MAX_GATE_LINES else ""
            lines.append(f"{name} is used {len(edges)} times: {OPS['split'].gate}: "
                         f"{parts}{more} = {fmt(self.grads[name])}")
        return lines

    def forward(self, name: str) -> str:
        """How N's forward value is computed: the op and its inputs, with numbers."""
        if name not in self.sheet.steps:
            role = "parameter" if name in self.sheet.params else "input"
            return f"{name} is an {role}; its value is given: {fmt(self.values[name])}"
        node = self.nodes[name]
        op = OPS[node.op]
        ins = " and ".join(f"{self.describe(v)} = {fmt(v.data)}" for v in node.inputs)
        extra = f" with {op.params[0]} = {fmt(node.arg)}" if op.params and node.arg is not None else ""
        return (f"{name} = {self.sheet.steps[name].text[:MAX_TEXT]}: the {op.name} ({op.symbol}) gate of {ins}{extra} "
                f"gives {fmt(node.data)}")

    def explain_total(self, a) -> list:
        """How a total, local or update answer is computed, with numbers."""
        if a.kind == "local":
            node = self.nodes[a.of]
            return [f"∂{a.of}/∂{a.name} is the local derivative of the step {a.of} = "
                    f"{self.sheet.steps[a.of].text[:MAX_TEXT]} with respect to {a.name} alone, the other inputs held fixed: "
                    f"{fmt(self.local[a.of][a.name])}" + (f" ({OPS[node.op].gate})" if node.op else "")]
        if a.kind == "total":
            users = [st for st in self.uses[a.name] if st == a.of or self.total(a.of, st) != 0][:MAX_GATE_LINES]
            symbols = " + ".join(("" if st == a.of else f"d{a.of}/d{st} · ") + f"∂{st}/∂{a.name}" for st in users) or "0"
            numbers = " + ".join(("" if st == a.of else f"{factor(self.total(a.of, st))} · ")
                                 + factor(self.local[st][a.name]) for st in users) or "0"
            return [f"d{a.of}/d{a.name} = {symbols} = {numbers} = {fmt(self.total(a.of, a.name))} "
                    f"(the total derivative adds every path from {a.name} to {a.of})"]
        u = self.sheet.update
        g = f"d{self.sheet.output}/d{a.name}"
        v0, grad = factor(u.velocity.get(a.name, 0.0)), factor(self.grads[a.name])
        lecture = u.form == "lecture"
        if a.kind == "velocity":
            shape = f"momentum · v + lr · g = {fmt(u.momentum)} · {v0} + {fmt(u.lr)} · {grad}" if lecture else \
                f"momentum · v + g = {fmt(u.momentum)} · {v0} + {grad}"
            return [f"v_{a.name} = {shape} = {fmt(self.velocity(a.name))} (g = {g}; {u.rule()})"]
        if lecture:
            step, shown = ("v'", factor(self.velocity(a.name))) if u.momentum else ("lr · g", f"{fmt(u.lr)} · {grad}")
            return [f"{a.name}' = {a.name} − {step} = {fmt(self.values[a.name])} − {shown} = {fmt(self.updated(a.name))} "
                    f"(g = {g} = {fmt(self.grads[a.name])}; {u.rule()})"]
        step = "v'" if u.momentum else "g"
        return [f"{a.name}' = {a.name} − lr · {step} = {fmt(self.values[a.name])} − {fmt(u.lr)} · "
                f"{factor(self.velocity(a.name))} = {fmt(self.updated(a.name))} (g = {g} = {fmt(self.grads[a.name])}; "
                f"{u.rule()})"]

    def text(self) -> str:
        """The full solution of this case: a table of values and gradients, then every chain."""
        y = self.sheet.output
        rows = [("name", "role", "value", f"d{y}/dname", "")]
        for name in self.nodes:
            role = ("output" if name == y else "step") if name in self.sheet.steps else \
                ("param" if name in self.sheet.params else "input")
            expr = f"{name} = {self.sheet.steps[name].text[:MAX_TEXT]}" if name in self.sheet.steps else ""
            rows.append((name, role, fmt(self.values[name]), fmt(self.grads[name]), expr))
        lines = columns(rows, "  ")
        if self.kinks:
            lines.append(self.convention_note())
        lines.append("")
        lines.append("backward, in the order the engine completes each gradient:")
        for name in self.backward_order:
            lines.append("  " + self.chain(name))
            if self.path(name):
                lines.append("    " + self.path(name))
            lines.extend("      " + g for g in self.gates(name))
        extra = [a for a in self.case.answers if a.kind in ("total", "local", "update", "velocity")]
        if extra:
            lines.append("")
            lines.append("other answers the sheet asks for:")
            for a in extra:
                lines += [f"  {a.key} = {fmt(self.correct(a))}", *("    " + s for s in self.explain_total(a))]
        return "\n".join(lines)

    def convention_note(self) -> str:
        """Which convention this solution used, when a step sits exactly where one applies."""
        where = ", ".join(sorted({self.owner.get(st.node, self.name_of.get(st.node, "?")) for st in self.kinks}))
        notes = []
        for key, rule in CONVENTIONS.items():
            if any(st.node.op == rule.op for st in self.kinks):
                notes.append(convention_words(key, self.sheet.conventions))
        first = self.kinks[0].node
        at = "a tie" if first.op == "max" else f"its kink (input {fmt(first.inputs[0].data)})"
        return f"convention: {'; '.join(notes)}: the {OPS[first.op].symbol} in {where} sits on {at}"
    def to_dict(self) -> dict:
        y = self.sheet.output
        return {
            "name": self.case.name,
            "inputs": {n: json_number(x) for n, x in self.case.inputs.items()},
            "values": {n: json_number(self.values[n]) for n in self.nodes},
            "gradients": {f"d{y}/d{n}": json_number(self.grads[n]) for n in self.nodes},
            "chains": [self.chain(n) for n in self.backward_order],
            "answers": {a.key: json_number(self.correct(a)) for a in self.case.answers},
        }

    def draw(self, highlight=None, **options):
        """The case's graph drawn with values and gradients (see ``viz.draw``)."""
        from ..draw import draw

        title = options.pop("title", self.sheet.title + (f" ({self.case.name})" if self.case.name else ""))
        return draw(self.root, highlight=highlight, title=title, **options)


def _kink(node) -> bool:
    """Whether a node sits where a convention chooses its local derivatives (a ReLU at 0, a max tie)."""
    return any(node.op == rule.op and rule.applies(*(v.data for v in node.inputs)) for rule in CONVENTIONS.values())


def convention_words(key: str, chosen: dict, advice: bool = True) -> str:
    """A convention as this sheet takes it: "ReLU′(0) = 1 (this sheet's convention)"; with
    ``advice``, gradflow's own choice says how a sheet would choose the other."""
    rule = CONVENTIONS[key]
    names = list(rule.choices)
    value = chosen.get(key, names[0])
    if rule.op == "max":
        said = {"half": "At a tie, max splits the gradient half and half",
                "first": "At a tie, max sends the whole gradient to its first input"}[value]
    else:
        said = f"{rule.words} = {fmt(value)}"
    if key in chosen:
        return f"{said} (this sheet's convention)"
    return f"{said} (gradflow's; a sheet may say conventions = {{{key} = {_toml(names[-1])}}})" if advice else said


def _toml(value) -> str:
    return f'"{value}"' if isinstance(value, str) else fmt(value)


def _enclosed(s: str) -> bool:
    # "(a - b)" is; "(a) - (b)" is not.
    if not (s.startswith("(") and s.endswith(")")):
        return False
    depth = 0
    for i, ch in enumerate(s):
        depth += (ch == "(") - (ch == ")")
        if depth == 0:
            return i == len(s) - 1
    return False


def _evaluated(formula: str, x: float) -> str:
    number = fmt(x)
    return number if formula.replace("−", "-") == number else f"{formula} = {number}"


class SolutionSet:
    """The solution of every case of a sheet (what ``gradflow check --solve`` prints)."""

    def __init__(self, sheet):
        self.sheet = sheet
        self.cases = sheet.solutions

    def text(self) -> str:
        out = [f"Solution: {self.sheet.title}"]
        if self.sheet.description:
            out.append(self.sheet.description)
        for s in self.cases:
            inputs = _assignments(s.case.inputs, s.case.inputs.get)
            out += ["", f"case {s.case.name!r} ({inputs})" if s.case.name else f"inputs: {inputs}", s.text()]
        return "\n".join(out)

    __str__ = text

    def to_dict(self) -> dict:
        return {"title": self.sheet.title, "output": self.sheet.output, "cases": [s.to_dict() for s in self.cases]}

    def to_json(self) -> str:
        import json

        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)

    def _repr_html_(self):
        from html import escape

        return f"<pre>{escape(self.text())}</pre>"
