"""Recognising the common slips: what a wrong answer matches, read from the graph and the op table.

A hint is (kind, tutor text, exam text), the kind a key of ``grade.MISTAKES``:
the tutor text has numbers, the exam text none. ``accepts`` is the one test
of "right" (the sheet's tolerance); ``formula_holds`` checks a submitted
formula at inputs near the student's.
"""

from __future__ import annotations

import math

from engine import OPS
from engine.expr import Expr, ExprError

from .numbers import fmt
from .vary import nearby

MAX_NAMES = 60  # candidate variables tried for a "wrong variable" hint


def accepts(solution, a, given: float, correct: float) -> bool:
    """Whether ``given`` for the answer ``a`` is right against ``correct`` (the sheet's tolerance).

    A step is small beside its weight: for a parameter after an update the 1% is of the step
    (w − w'), or the digits written."""
    tol = solution.sheet.tolerance_for(a.item)
    if a.kind == "update" and tol.legacy is None:
        w = solution.values[a.name]
        return tol.accepts(w - given, None, w - correct, solution.scale) or tol.written(given, a.text, correct)
    return tol.accepts(given, a.text, correct, solution.scale)


def formula_holds(solution, a) -> bool:
    """Whether a submitted formula (of the inputs) is right at other inputs near these, on the
    same side of every kink: a formula that matches at one point only is not the formula.
    The nearby inputs depend on the key and these inputs only, so a class shares them."""
    expr = Expr(a.formula)
    if not expr.names:
        return True  # arithmetic of numbers: the same everywhere
    if solution.near is None:
        solution.near = nearby(solution, "")
    for other in solution.near:
        try:
            value = expr.value({n: x for n, x in other.case.inputs.items() if n in expr.names})
        except ExprError:
            return False
        if not accepts(other, a._replace(text=""), value, other.correct(a)):
            return False
    return True


def _ancestors(node) -> set:
    return set(node.topo())


class Slips:
    """The slips a wrong answer of one solved case matches.

    ``given`` and ``ok`` hold the case's answers by item, and whether each is
    right: a gradient is also judged against the student's own upstream answers.
    """

    def __init__(self, solution, given: dict, ok: dict):
        self.solution = solution
        self._given = given
        self._ok = ok

    def _accepts(self, a, value) -> bool:
        return accepts(self.solution, a, a.given, value)

    def hints(self, a) -> list:
        """(kind, tutor text, exam text) for each slip the answer matches, read from the graph."""
        s = self.solution
        correct = s.correct(a)
        out = []
        if a.kind == "value":
            sign = [("sign", "the sign is flipped", "the sign is flipped")] if correct and self._accepts(a, -correct) else []
            return sign + (self._forward_hints(a) if a.name in s.sheet.steps else [])
        if a.kind != "gradient":
            if correct != 0 and self._accepts(a, -correct):
                out.append(("sign", "the sign is flipped", "the sign is flipped"))
            return out + self._other_hints(a, correct)
        y = s.sheet.output
        if a.name == y or a.name not in s.reaches:
            return out
        terms = [(st, s.grads[st], s.local[st][a.name]) for st in s.uses[a.name]]
        # Did the mistake come from above? Recompute with the student's own upstream answers.
        theirs = {st: self._given["gradient", y, st].given for st in s.uses[a.name] if ("gradient", y, st) in self._given}
        upstream_wrong = [st for st in theirs if not self._ok["gradient", y, st]]
        if upstream_wrong:
            own = sum(theirs.get(st, g) * d for st, g, d in terms)
            named = ", ".join(f"d{y}/d{st}" for st in upstream_wrong)
            if self._accepts(a, own):
                text = f"your d{y}/d{a.name} follows correctly from your {named}, which is wrong: fix {named} first"
                out.append(("upstream", text, text))
            else:
                out.append(("upstream", f"your {named} is wrong too; fix it first", f"your {named} is wrong too; fix it first"))
        if a.given != 0 and self._accepts(a, -correct):
            out.append(("sign", "the sign is flipped", "the sign is flipped"))
        if len(terms) > 1:
            for st, g, d in terms:
                if self._accepts(a, g * d):
                    text = (f"that is only the path through {st}; {a.name} is used by "
                            f"{', '.join(x for x, _, _ in terms)}, and {OPS['split'].gate}")
                    out.append(("split", text, text))
                    break
        elif terms:
            st, g, d = terms[0]
            if d != 1 and g != 0 and self._accepts(a, g) and not self._accepts(a, correct):
                out.append(("local", f"that is d{y}/d{st} alone; multiply it by the local derivative "
                                     f"d{st}/d{a.name} = {fmt(d)}",
                            f"that is d{y}/d{st} alone; multiply it by the local derivative d{st}/d{a.name}"))
        if not any(kind in ("sign", "split", "local") for kind, _, _ in out):
            out += self._gate_hints(a, correct) or self._sigmoid_hints(a, correct)
        return out

    def _other_hints(self, a, correct) -> list:
        # Local vs total derivatives, and the usual slips of one optimizer step.
        s = self.solution
        candidates = []
        if a.kind == "local":
            candidates = [("partial", s.total(a.of, a.name),
                           f"that is the total derivative d{a.of}/d{a.name}; ∂{a.of}/∂{a.name} is the step's own "
                           "derivative with its other inputs held fixed")]
        elif a.kind == "total" and a.name in s.local.get(a.of, {}):
            candidates = [("partial", s.local[a.of][a.name],
                           f"that is only the direct use of {a.name} in {a.of}; the total derivative adds every "
                           f"path from {a.name} to {a.of}")]
        elif a.kind == "update":
            candidates = self._update_slips(a)
        elif a.kind == "velocity" and s.sheet.update.momentum:
            candidates = self._velocity_slips(a)
        for kind, value, text in candidates:
            if value != correct and self._accepts(a, value):
                return [(kind, text, text)]
        return []

    def _update_slips(self, a) -> list:
        # What the step subtracts, and the same without the learning rate where it belongs.
        s, u = self.solution, self.solution.sheet.update
        w, g, v0 = s.values[a.name], s.grads[a.name], u.velocity.get(a.name, 0.0)
        taken = w - s.updated(a.name)
        unscaled = u.momentum * v0 + g if u.momentum else g
        what = ("the velocity V'" if u.form == "lecture" else "lr times the velocity v'") if u.momentum else \
            "lr times the gradient"
        out = [("update", w + taken, f"the step went up the gradient: subtract {what}"),
               ("update", w - unscaled, f"the learning rate is missing: subtract {what}")]
        if u.momentum:
            out.append(("update", w - u.lr * g, "momentum is missing: the step uses the velocity, not the gradient alone"))
        return out

    def _velocity_slips(self, a) -> list:
        s, u = self.solution, self.solution.sheet.update
        g, v0 = s.grads[a.name], u.velocity.get(a.name, 0.0)
        if u.form == "lecture":
            return [("update", u.lr * g, "momentum is missing: V' = momentum·V + lr·g"),
                    ("update", u.momentum * v0 + g, "that is PyTorch's form (v' = momentum·v + g); this sheet uses "
                                                   "the lecture's, V' = momentum·V + lr·g, with the step w' = w − V'")]
        pytorch = "this sheet uses PyTorch's, v' = momentum·v + g, with the step w' = w − lr·v'"
        return [("update", g, "momentum is missing: v' = momentum·v + g"),
                ("update", u.momentum * v0 + u.lr * g, f"that is the lecture's form (V' = momentum·V + lr·g); {pytorch}"),
                ("update", u.momentum * v0 - u.lr * g,
                 f"that is the other momentum convention (v' = momentum·v − lr·g); {pytorch}")]

    def _gate_hints(self, a, correct) -> list:
        # A slip at one gate changes one edge's contribution: correct − contrib + grad · (the wrong local).
        s = self.solution
        out = []
        for index, i in s.edges[a.name]:
            step = s.sequence[index]
            node = step.node
            swap = lambda local: correct - step.contrib[i] + step.grad * local  # noqa: E731
            if step.grad == 0:
                continue
            if node.op == "mul":
                other = node.inputs[1 - i]
                mine = node.inputs[i]
                right = s.describe(other)
                if mine.data != other.data and self._accepts(a, swap(mine.data)):
                    out.append(("product", f"you multiplied by {a.name} itself; a product sends each input the "
                                           f"gradient times the other input (here {right} = {fmt(other.data)})",
                                f"you multiplied by {a.name} itself; a product sends each input the gradient "
                                f"times the other input (here {right})"))
                    return out
                for v_name in list(s.values)[:MAX_NAMES]:
                    v = s.values[v_name]
                    if v_name in (a.name, right) or v in (other.data, mine.data, 0.0, 1.0, -1.0):
                        continue
                    if self._accepts(a, swap(v)):
                        text = (f"you used {v_name} where {right} belongs: the product sends {a.name} the gradient "
                                f"times its other input, {right}")
                        out.append(("variable", text, text))
                        return out
            elif node.op == "max" and node.inputs[0].data != node.inputs[1].data:
                if self._accepts(a, swap(0.5)):
                    winner = s.describe(node.inputs[0] if node.inputs[0].data > node.inputs[1].data else node.inputs[1])
                    text = (f"you split the gradient half and half at the max; {OPS['max'].gate}: with no tie, "
                            f"all of it goes to the larger input ({winner}) and none to the other")
                    out.append(("max", text, text))
                    return out
        return out

    def _sigmoid_hints(self, a, correct) -> list:
        # σ′ dropped: the answer is the correct one divided by the local derivative of a sigmoid on its way.
        s = self.solution
        start = s.nodes[a.name]
        for step in s.sequence:
            node = step.node
            if node.op not in ("sigmoid", "tanh") or not step.local[0]:
                continue
            if self._accepts(a, correct / step.local[0]) and start in _ancestors(node):
                where = s.owner.get(node, s.name_of.get(node, ""))
                fn = "σ" if node.op == "sigmoid" else "tanh"
                rule = "σ′ = σ·(1 − σ)" if node.op == "sigmoid" else "tanh′ = 1 − tanh²"
                return [("sigmoid", f"the {fn} in {where} was skipped: multiply by its local derivative {rule} "
                                    f"= {fmt(step.local[0])}",
                         f"the {fn} in {where} was skipped: multiply by its local derivative {rule}")]
        return []

    def _forward_hints(self, a) -> list:
        s = self.solution
        expr = s.sheet.steps[a.name]
        theirs = {n: self._given["value", "", n].given for n in expr.names
                  if ("value", "", n) in self._given and not self._ok["value", "", n]}
        if not theirs:
            return [("step", f"its inputs are right ({', '.join(f'{n} = {fmt(s.values[n])}' for n in expr.names)}), "
                             "so the mistake is in this step",
                     "its inputs are right, so the mistake is in this step")]
        named = ", ".join(theirs)
        try:
            own = expr.value({n: theirs.get(n, s.values[n]) for n in expr.names})
        except ValueError:
            own = math.nan
        if self._accepts(a, own):
            text = f"your value follows correctly from your {named}, which is wrong: fix {named} first"
        else:
            text = f"your {named} is wrong too; fix it first"
        return [("upstream", text, text)]
