"""The checks check_engine runs on a student's Value class, each a function of the class.

Ops are checked one by one against their row of the op table (forward rule
``f`` and local derivatives ``d`` at a few inputs, edges included), then
graphs against gradflow's own engine: a value used twice in one op, a value
used along several paths, shared nodes in an order where a depth-first or a
breadth-first walk is wrong, a second backward(), a neuron, a deep chain. Each
check returns ``(status, message)``: 'ok', 'note' (right, with something to
say) or 'failed'. They run inside bounds.Bounds, so they may loop or blow up.

>>> from engine import Value
>>> check_op(Value, "mul", chain=True)
('ok', 'right at a = 2, b = -3 and 2 more inputs, with numbers on either side, and with an upstream gradient')
"""

from __future__ import annotations

import operator
import sys
from typing import Callable, NamedTuple

from ..ops import CONVENTIONS, OPS
from ..value import Value
from .bounds import progress
from .explain import Fail, attempt, close, num, number_of, one_branch, same, slip

__all__ = ["SPELLINGS", "ORDER", "has_op", "check_make", "check_op", "check_graph", "check_twice", "check_again",
           "check_neuron", "check_deep", "verdict", "PATHS", "ORDERED"]


class Spelling(NamedTuple):
    """How an op of the table is written on a Value: the method a class defines, and the expression."""

    method: str  # "__mul__", "tanh"
    show: str  # "a * b", "x.tanh()"
    call: Callable  # (inputs..., arg) -> the op's output


_SYMBOLS = {"add": ("__add__", "+", operator.add), "sub": ("__sub__", "-", operator.sub),
            "mul": ("__mul__", "*", operator.mul), "div": ("__truediv__", "/", operator.truediv)}


def _spellings() -> dict:
    spelled = {name: Spelling(method, f"a {symbol} b", lambda a, b, k, f=f: f(a, b))
               for name, (method, symbol, f) in _SYMBOLS.items()}
    spelled["neg"] = Spelling("__neg__", "-x", lambda x, k: -x)
    spelled["pow"] = Spelling("__pow__", "x ** k", lambda x, k: x ** k)
    for name, row in OPS.items():  # every function of one input without a parameter: x.exp(), x.tanh(), ...
        if row.arity == 1 and not row.params and name not in spelled:
            spelled[name] = Spelling(name, f"x.{name}()", lambda x, k, name=name: getattr(x, name)())
    return spelled


SPELLINGS = _spellings()
# * and + first (the other operators are often built from them, as in micrograd; * first, since the other
# checks send an upstream gradient through `* 3`), then the table's order.
ORDER = ("mul", "add", "neg", "sub", "pow", "div") + tuple(n for n in OPS if n in SPELLINGS and n not in _SYMBOLS
                                                        and n not in ("neg", "pow"))

# Where each op is checked: (inputs, the op's constant, in words where that is an edge). Chosen away from
# kinks except on purpose, and inside each op's domain (log's input > 0).
POINTS = {
    "add": [((2.0, -3.0), None, "")],
    "sub": [((2.0, -3.0), None, "")],
    "mul": [((2.0, -3.0), None, ""), ((-1.5, 4.0), None, ""), ((0.5, 0.0), None, "")],
    "div": [((3.0, -2.0), None, ""), ((-1.0, 0.25), None, "")],
    "neg": [((2.0,), None, "")],
    "pow": [((3.0,), 2.0, ""), ((-2.0,), 3.0, "with a negative base"), ((-1.5,), 2.0, "with a negative base"),
            ((4.0,), 0.5, ""), ((2.0,), -1.0, "")],
    "log": [((0.5,), None, ""), ((3.0,), None, "")],
    "relu": [((1.5,), None, ""), ((-2.0,), None, "where its input was negative"), ((0.0,), None, "at the kink x = 0")],
}
DEFAULT_POINTS = [((0.0,), None, ""), ((0.7,), None, ""), ((-1.5,), None, "")]


def has_op(cls, name) -> bool:
    """Whether the class defines the op's method (a subclass's inherited one counts)."""
    return callable(getattr(cls, SPELLINGS[name].method, None))


def _make(cls, x, name):
    v = attempt(f"{cls.__name__}({num(x)})", cls, x)
    number_of(v, "data", name)
    return v


def _backward(out, show):
    if not callable(getattr(out, "backward", None)):
        raise Fail(f"{show} has no backward() to call")
    attempt(f"backward() of {show}", out.backward)


def _value(out, method, show, cls):
    if not hasattr(out, "backward") or not hasattr(out, "grad"):
        raise Fail(f"your `{method}` returns {type(out).__name__} {out!r:.40} for {show}, not a Value: "
                   f"make the result with {cls.__name__}(...) so that backward can reach its inputs")
    return out


def check_make(cls):
    """``cls(2.0)``: its data is 2.0, its grad starts at 0, it has backward()."""
    progress(f"{cls.__name__}(2.0)")
    v = _make(cls, 2.0, "x")
    data, grad = number_of(v, "data", "x"), number_of(v, "grad", "x")
    if data != 2.0:
        raise Fail(f"x = {cls.__name__}(2.0) has x.data = {num(data)}; keep the number given: 2")
    if grad != 0:
        raise Fail(f"x = {cls.__name__}(2.0) starts with x.grad = {num(grad)}; start at 0: backward adds to it")
    if not callable(getattr(v, "backward", None)):
        raise Fail(f"your {cls.__name__} has no backward(): add one that fills in .grad for every node")
    return "ok", f"{cls.__name__}(2.0) has data 2 and grad 0"


def _where(names, xs, arg):
    at = ", ".join(f"{n} = {num(x)}" for n, x in zip(names, xs))
    return at + (f", k = {num(arg)}" if arg is not None else "")


def check_op(cls, name, chain):
    """One op: its forward and local derivatives at POINTS, a number on either side, and (``chain``) upstream ≠ 1."""
    row, spelling = OPS[name], SPELLINGS[name]
    names = ("a", "b") if row.arity == 2 else ("x",)
    notes = []
    points = POINTS.get(name, DEFAULT_POINTS)
    for xs, arg, where in points:
        show = spelling.show.replace(" k", f" {num(arg)}") if arg is not None else spelling.show
        at = _where(names, xs, arg)
        progress(f"{show} at {at}")
        leaves = [_make(cls, x, n) for x, n in zip(xs, names)]
        out = _value(attempt(f"your `{spelling.method}` ({show} at {at})", spelling.call, *leaves, arg),
                     spelling.method, show, cls)
        data, want = number_of(out, "data", show), row.f(*xs, arg)
        if not close(data, want):
            raise Fail(f"your `{spelling.method}` gives {show} = {num(data)} at {at}; expected {num(want)}")
        _backward(out, show)
        got, expected = tuple(number_of(v, "grad", n) for v, n in zip(leaves, names)), row.d(*xs, want, arg)
        if same(got, expected):
            continue
        convention = _convention(name, xs, got, expected)
        if convention:
            notes.append(convention)
            continue
        i = next(i for i, (g, w) in enumerate(zip(got, expected)) if not close(g, w))
        raise Fail(f"your `{spelling.method}` {slip(row, xs, got, expected, where, arg)}; {row.gate} "
                   f"({at}: you gave {names[i]}.grad = {num(got[i])}, expected {num(expected[i])})")
    said = f"right at {_where(names, *points[0][:2])}" + (f" and {len(points) - 1} more inputs" if len(points) > 1 else "")
    if row.arity == 2:
        missing = _with_numbers(cls, name)
        if missing:  # an op the class does not have is skipped, not failed (as for a missing method)
            notes.append(missing)
            said += ", with a number on the right"
        else:
            said += ", with numbers on either side"
    if chain:
        _upstream(cls, name, points[0])
        said += ", and with an upstream gradient"
    else:
        said += "; with an upstream gradient: not checked (that needs a working `__mul__`)"
    return ("note", f"{said}; {'; '.join(notes)}") if notes else ("ok", said)


def _convention(name, xs, got, expected) -> str:
    # At a kink the lectures differ (engine.ops.CONVENTIONS): any listed choice is right, and said.
    for convention in CONVENTIONS.values():
        if convention.op == name and convention.applies(*xs) and any(same(got, c) for c in convention.choices.values()):
            return (f"your {convention.words} is {num(got[0])} where gradflow takes {num(expected[0])}: "
                    "both are conventions the lectures use")
    return ""


def _with_numbers(cls, name) -> str:
    # a + 2.0 and 2.0 + a: a number on the right goes to __add__, on the left to __radd__.
    # A class without the reflected method skips the second: "" when both ran, else what was skipped.
    row, spelling = OPS[name], SPELLINGS[name]
    for left in (False, True):
        x, k = (2.0, 1.5)
        xs = (k, x) if left else (x, k)
        symbol = spelling.show.split()[1]
        show = f"{num(k)} {symbol} a" if left else f"a {symbol} {num(k)}"
        method = "__r" + spelling.method[2:] if left else spelling.method
        if left and getattr(cls, method, None) is None:
            return f"{show} not checked: your class has no `{method}` (Python calls it when a number stands on the left)"
        progress(f"{show} at a = {num(x)}")
        a = _make(cls, x, "a")
        call = (lambda: spelling.call(k, a, None)) if left else (lambda: spelling.call(a, k, None))
        hint = f" (define `{method}`: Python calls it when a number stands on the left)" if left else \
            f" (turn a number into a {cls.__name__} first)"
        out = attempt(show, call, hint=hint)
        out = _value(out, method, show, cls)
        data, want = number_of(out, "data", show), row.f(*xs, None)
        if not close(data, want):
            raise Fail(f"{show} gives {num(data)} at a = {num(x)}; expected {num(want)} (your `{method}`)")
        _backward(out, show)
        got, expected = number_of(a, "grad", "a"), row.d(*xs, want, None)[1 if left else 0]
        if not close(got, expected):
            raise Fail(f"in {show} at a = {num(x)} you gave a.grad = {num(got)}, expected {num(expected)} "
                       f"(your `{method}`); {row.gate}")
    return ""


def _upstream(cls, name, point):
    # op(...) * 3: the op's step must multiply its local derivative by the gradient arriving from above.
    row, spelling = OPS[name], SPELLINGS[name]
    xs, arg, _ = point
    names = ("a", "b") if row.arity == 2 else ("x",)
    show = spelling.show.replace(" k", f" {num(arg)}") if arg is not None else spelling.show
    show = f"({show}) * 3" if " " in show else f"{show} * 3"
    at = _where(names, xs, arg)
    progress(f"{show} at {at}")
    leaves = [_make(cls, x, n) for x, n in zip(xs, names)]
    out = attempt(f"{show} at {at}", lambda: spelling.call(*leaves, arg) * 3.0)
    _backward(_value(out, spelling.method, show, cls), show)
    got = tuple(number_of(v, "grad", n) for v, n in zip(leaves, names))
    local = row.d(*xs, row.f(*xs, arg), arg)
    expected = tuple(3.0 * d for d in local)
    if same(got, expected):
        return
    i = next(i for i, (g, w) in enumerate(zip(got, expected)) if not close(g, w))
    if same(got, local):
        raise Fail(f"your `{spelling.method}` ignores the gradient arriving from above: multiply the local "
                   f"derivative by out.grad ({show} at {at}: 3 arrives, so {names[i]}.grad = 3 · {num(local[i])} = "
                   f"{num(expected[i])}; you gave {num(got[i])})")
    raise Fail(f"in {show} at {at} you gave {names[i]}.grad = {num(got[i])}, expected {num(expected[i])}: your "
               f"`{spelling.method}` must multiply the gradient arriving from above (3) by {row.formula[i]}")


# --- graphs, against gradflow's own engine --------------------------------------------------


class Graph(NamedTuple):
    """A graph built the same way on the student's class and on gradflow's Value."""

    inputs: dict  # leaf name -> number
    build: Callable  # leaves -> {node name: node}, the output last
    shows: str  # the graph in words
    uses: tuple  # the ops it needs


def _build(graph, cls):
    if cls is Value:
        leaves = {n: Value(x, n) for n, x in graph.inputs.items()}
        return leaves, graph.build(leaves)
    leaves = {n: _make(cls, x, n) for n, x in graph.inputs.items()}
    return leaves, attempt(f"building {graph.shows}", graph.build, leaves)


def _expected(graph, passes=1):
    """gradflow's leaf gradients after ``passes`` passes, each leaf's shares (one per edge), the nodes' gradients
    and who uses whom (node name -> its inputs' names)."""
    leaves, nodes = _build(graph, Value)
    names = {id(v): n for n, v in {**leaves, **nodes}.items()}
    out = list(nodes.values())[-1]
    shares = {n: [] for n in leaves}
    for _ in range(passes):
        for step in out.steps():
            for x, c in zip(step.node.inputs, step.contrib):
                if x.rule is None and id(x) in names:
                    shares[names[id(x)]].append(c)
    wiring = {n: {names.get(id(x)) for x in v.inputs} for n, v in nodes.items()}
    return {n: v.grad for n, v in leaves.items()}, shares, {n: v.grad for n, v in nodes.items()}, wiring


def _student(cls, graph, passes=1):
    """The student's leaf gradients after ``passes`` backward() calls, and the steps their backward ran (spied)."""
    leaves, nodes = _build(graph, cls)
    calls = _spy(nodes)
    out_name, out = list(nodes.items())[-1]
    for _ in range(passes):
        _backward(_value(out, "backward", graph.shows, cls), out_name)
    return {n: number_of(v, "grad", n) for n, v in leaves.items()}, calls


def _spy(nodes) -> list:
    # Wrap each computed node's `_backward` (micrograd's interface), to see the order backward runs them in.
    calls = []
    for name, node in nodes.items():
        step = getattr(node, "_backward", None)
        if not callable(step) or not hasattr(node, "__dict__"):
            return []

        def spied(step=step, name=name, node=node):
            try:
                calls.append((name, float(node.grad)))
            except (TypeError, ValueError):
                calls.append((name, float("nan")))
            return step()

        try:
            node._backward = spied
        except (AttributeError, TypeError):
            return []
    return calls


def _at(graph):
    return ", ".join(f"{n} = {num(x)}" for n, x in graph.inputs.items())


def check_graph(cls, graph: Graph):
    """The graph's leaf gradients against gradflow's; the first wrong one explained."""
    progress(graph.shows)
    want, shares, want_nodes, wiring = _expected(graph)
    got, calls = _student(cls, graph)
    wrong = [n for n in got if not close(got[n], want[n])]
    if not wrong:
        return "ok", f"right in {graph.shows}"
    n = wrong[0]
    gave = f"{graph.shows} at {_at(graph)}: you gave {n}.grad = {num(got[n])}, expected {num(want[n])}"
    if one_branch(got[n], shares[n]):
        raise Fail(f"a value used twice gets only one branch's gradient: in your `_backward` use `+=`, not `=` ({gave})")
    _order(calls, wiring, want_nodes, gave)
    raise Fail(f"wrong gradients in {gave}")


def _order(calls, wiring, want_nodes, gave):
    # From the spied steps: one that ran twice, never, or before its node's gradient was complete.
    if not calls:
        return
    ran = [name for name, _ in calls]
    for name in wiring:
        if ran.count(name) > 1:
            raise Fail(f"your backward runs the step of {name} {ran.count(name)} times (once for each path to it): "
                       f"visit each node once, in topological order ({gave})")
    for k, (name, grad) in enumerate(calls):
        if not close(grad, want_nodes[name]):
            later = [m for m in ran[k + 1:] if name in wiring[m]]
            if later:
                raise Fail(f"your backward visits {name} before every node that uses it has sent its gradient "
                           f"({name}'s step ran with {name}.grad = {num(grad)}, before {later[0]}'s step; all of it "
                           f"is {num(want_nodes[name])}): order the nodes topologically, each after every node that "
                           f"uses it ({gave})")
    missing = [name for name in wiring if name not in ran]
    if missing:
        raise Fail(f"your backward never runs the step of {missing[0]} ({gave})")


def _graph(shows, inputs, uses, build):
    return Graph(inputs, build, shows, uses)


def _diamond(v):
    # s is used by u, v and out: a depth-first walk that lists a node when it first meets it runs s's step
    # before u's or v's, and a breadth-first walk reaches s (an input of out) before u and v.
    s = v["a"] * v["b"]
    u, w = s * v["c"], s + v["d"]
    p = u * w
    return {"s": s, "u": u, "v": w, "p": p, "out": p * s}


def _neuron(act):
    def build(v):
        n = v["x1"] * v["w1"] + v["x2"] * v["w2"] + v["b"]
        return {"n": n, "o": getattr(n, act)()}
    return build


TWICE = (_graph("y = a * a", {"a": 3.0}, ("mul",), lambda v: {"y": v["a"] * v["a"]}),
         _graph("y = a + a", {"a": 3.0}, ("add",), lambda v: {"y": v["a"] + v["a"]}))
PATHS = _graph("out = u * v, u = a * b, v = a + b", {"a": 2.0, "b": -3.0}, ("add", "mul"),
               lambda v: {"u": (u := v["a"] * v["b"]), "v": (w := v["a"] + v["b"]), "out": u * w})
ORDERED = _graph("out = p * s, p = u * v, u = s * c, v = s + d, s = a * b", {"a": 1.5, "b": -2.0, "c": 0.5, "d": 4.0},
                 ("add", "mul"), _diamond)
AGAIN = (_graph("y = a * b", {"a": 2.0, "b": -3.0}, ("mul",), lambda v: {"y": v["a"] * v["b"]}),
         _graph("y = m * c, m = a * b", {"a": 2.0, "b": -3.0, "c": 0.5}, ("mul",), lambda v: {"m": (m := v["a"] * v["b"]), "y": m * v["c"]}))
NEURON = {"x1": 2.0, "x2": 0.0, "w1": -3.0, "w2": 1.0, "b": 6.8813735870195432}  # micrograd's neuron


def check_twice(cls):
    """a * a and a + a: a value used twice in one op gets the sum of both edges."""
    for graph in TWICE:
        check_graph(cls, graph)
    return "ok", "right in a * a and a + a"


def check_again(cls):
    """Two backward() calls: leaf gradients add up; on a deeper graph a difference is a note (micrograd's own)."""
    graph, deeper = AGAIN
    progress(f"backward() twice on {graph.shows}")
    once, twice = _expected(graph, 1)[0]["a"], _expected(graph, 2)[0]["a"]
    got = _student(cls, graph, 2)[0]["a"]
    if close(got, once):
        raise Fail(f"your second backward() left a.grad at {num(got)}, as after the first: gradients add up across "
                   f"backward() calls ({num(twice)} after two on {graph.shows} at {_at(graph)}); do not reset .grad "
                   "inside backward(), reset it between training steps")
    if not close(got, twice):
        raise Fail(f"after two backward() calls on {graph.shows} at {_at(graph)} you gave a.grad = {num(got)}, "
                   f"expected {num(twice)} (the sum of both passes)")
    said = f"gradients add up over two backward() calls on {graph.shows}"
    progress(f"backward() twice on {deeper.shows}")
    want, got = _expected(deeper, 2)[0]["a"], _student(cls, deeper, 2)[0]["a"]
    if not close(got, want):
        return "note", (f"{said}; on {deeper.shows} two calls give a.grad = {num(got)}, not {num(want)}: your computed "
                        "nodes keep the first pass's gradient and send it again (micrograd does the same); between "
                        "two passes on one graph, zero every node's grad, or build the graph anew")
    return "ok", said + ", and on a deeper graph"


def check_neuron(cls, act):
    """act(x1*w1 + x2*w2 + b), micrograd's neuron, against gradflow."""
    return check_graph(cls, _graph(f"o = (x1*w1 + x2*w2 + b).{act}()", NEURON, ("add", "mul", act), _neuron(act)))


def check_deep(cls, depth=None):
    """A chain deeper than Python's recursion limit: right, or a note when backward recurses (as micrograd's)."""
    limit = sys.getrecursionlimit()
    depth = depth or 2 * limit
    progress(f"a chain {depth:,} deep: y = x + 1 + 1 + ...")
    x = _make(cls, 0.5, "x")
    y = x
    for _ in range(depth):
        y = attempt("x + 1", operator.add, y, 1.0)
    try:
        _backward(y, f"a chain {depth:,} deep")
    except RecursionError:
        return "note", (f"backward() on a chain {depth:,} nodes deep hit Python's recursion limit ({limit:,}): a "
                        "recursive topological sort (as in micrograd) stops there. Fine for small graphs; a list used "
                        "as a stack works at any depth")
    got = number_of(x, "grad", "x")
    if not close(got, 1.0):
        raise Fail(f"on a chain {depth:,} deep (y = x + 1 + 1 + ...) you gave x.grad = {num(got)}, expected 1")
    return "ok", f"right on a chain {depth:,} nodes deep"


def verdict(fn, *args):
    """``fn(*args)`` as (status, message): a Fail or an error the check did not expect becomes 'failed'."""
    try:
        return fn(*args)
    except Fail as e:
        return "failed", str(e)
    except RecursionError:
        return "failed", "hit Python's recursion limit on a small graph (a method that calls itself?)"
