"""Value: one number, its gradient, and the rule that made it.

A Value is a ``Leaf`` (an input, a parameter, a constant) or a ``Node``, which
an operator made through ``_node`` with its rule's row of the op table
(engine/ops.py). ``steps()`` is backpropagation as a lecture draws it: order
the graph so that each node comes after its inputs, then walk it backwards,
sending each node's gradient to its inputs times the local derivatives.
``backward()`` runs that same loop, written out for speed in engine/fast.py.
Every Value is finite unless ``Value.allow_nonfinite()`` says otherwise.

>>> a, b = Value(2.0, "a"), Value(-3.0, "b")
>>> c = a * b + a; c.backward()
>>> c.data, a.grad, b.grad
(-4.0, -2.0, 2.0)
"""

from __future__ import annotations

import math
from typing import Iterator, NamedTuple

from . import fast, hook
from .args import allow_nonfinite, is_int, nonfinite_ok, number
from .hook import recordings
from .messages import refuse_result, step_failed, step_overflowed
from .ops import OPS, DomainError, choose
from .parts import NOT_COMPUTED, LeafParts, NodeParts, fill_leaf, leaf_class, leaf_kind, leaf_label

__all__ = ["Value", "Leaf", "Node", "Step", "topo", "NOT_COMPUTED", "DomainError"]

ADD, SUB, MUL, DIV, NEG = (OPS[n] for n in ("add", "sub", "mul", "div", "neg"))
POW, POWV, MAX, SPLIT = OPS["pow"], OPS["powv"], OPS["max"], OPS["split"]
EXP, LOG, SIGMOID, TANH, RELU = OPS["exp"], OPS["log"], OPS["sigmoid"], OPS["tanh"], OPS["relu"]
LEAKY_RELU, ELU, SOFTPLUS = OPS["leaky_relu"], OPS["elu"], OPS["softplus"]

_new = object.__new__
_isfinite = math.isfinite


def _node(data, rule, a, b=None, arg=None):
    """The one place a computed node is made: ``data`` is what ``rule`` gives for a (and b)."""
    if data - data:  # nan for inf and nan, 0.0 for every finite float: cheaper than a call
        refuse_result(data, rule, a, b, arg)
    if recordings:  # the replay is recording somewhere: it sees every node made (engine/hook.py)
        data = hook.made(data, a, b)
    v = _new(Node)  # not Node(...): there is nothing left to check
    v.data = data
    v.grad = NOT_COMPUTED
    v.label = ""
    v.rule = rule
    v.arg = arg
    v._a = a
    v._b = b
    return v


def _lift(x, what):
    """A number (never a Value) as a constant leaf: the 2 of ``x * 2``."""
    if x.__class__ is not float or not _isfinite(x):  # a finite float needs no checking
        x = number(x, f"{what} with a Value")
    return fill_leaf(_new(Leaf), x, "", "const")


def topo(*roots) -> list:
    """Every node the roots depend on (roots included), inputs before the nodes that use them.

    Depth-first, first inputs first, with a list as its stack: any depth works.

    >>> x = Value(1.0, "x")
    >>> [v.op or v.kind for v in topo(x * 2 + x)]
    ['input', 'const', 'mul', 'add']
    """
    seen, order = set(), []
    for root in roots:
        stack = [root]
        while stack:
            v = stack.pop()
            if v is None:  # put on the stack under v's inputs: they are all in order now
                order.append(stack.pop())
            elif v not in seen:
                seen.add(v)
                if v.rule is None:
                    order.append(v)
                else:
                    stack += (v, None, *reversed(v.inputs))
    return order


class Step(NamedTuple):
    """One node of the backward pass, as a student would write it down.

    ``grad`` is all that arrived at ``node``; ``local[i]`` is d node / d input i; ``contrib[i]
    = grad * local[i]`` flows along edge i and is added to ``node.inputs[i].grad``.
    """

    node: "Value"
    grad: float
    local: tuple
    contrib: tuple


class Value:
    """A scalar in a computation graph, with its gradient: ``Value(3.0)`` makes a ``Leaf``;
    an operator or function on Values makes a ``Node`` (its ``rule``, inputs and ``arg``)."""

    __slots__ = ()  # Leaf and Node declare all theirs: slots here too would cost every node a GC level

    def __new__(cls, data=None, label="", *, kind="input"):
        # Value(2.0) makes a Leaf; copy and pickle call cls.__new__(cls) with no data, then fill in the slots.
        return _new(Leaf if cls is Value else leaf_class(cls, data))

    def __init__(self, data, label="", *, kind="input"):
        fill_leaf(self, number(data, "Value"), leaf_label(label), leaf_kind(kind))

    allow_nonfinite = staticmethod(allow_nonfinite)  # `with Value.allow_nonfinite():` lets inf and nan in

    # --- what the node is ---------------------------------------------------------
    @property
    def op(self) -> str:
        """The op's name from the table, or "" for a leaf."""
        return self.rule.name if self.rule else ""

    def local(self, conventions=None) -> tuple:
        """d self / d input for each input, by the op table's rule: what backward multiplies by.

        ``conventions`` picks a rule where lectures differ (``engine.ops.CONVENTIONS``):
        >>> x = Value(0.0); x.relu().local(), x.relu().local({"relu_at_0": 1})
        ((0.0,), (1.0,))
        """
        return () if self.rule is None else _local(self, choose(conventions))

    def __repr__(self):
        label = f", label={self.label!r}" if self.label else ""
        op = f", op={self.op!r}" if self.rule else ""
        return f"Value(data={self.data!r}, grad={self.grad!r}{op}{label})"

    # <, <=, >, >= and float() read data (so that `if loss < 0.1` works), showing each
    # read to a recording (engine/hook.py); equality stays identity, for sets and dicts.
    __lt__, __le__, __gt__, __ge__, __float__ = hook.lt, hook.le, hook.gt, hook.ge, hook.to_float
    __hash__ = object.__hash__

    # --- operators: each computes its data and makes the node with _node -----------
    def __add__(self, other):
        other = other if isinstance(other, Value) else _lift(other, "+")
        return _node(self.data + other.data, ADD, self, other)

    def __radd__(self, other):  # 2 + x: 2 becomes a constant leaf, the first input, as written
        return _lift(other, "+") + self

    def __sub__(self, other):
        other = other if isinstance(other, Value) else _lift(other, "-")
        return _node(self.data - other.data, SUB, self, other)

    def __rsub__(self, other):  # 2 - x: 2 becomes a constant leaf, the first input, as written
        return _lift(other, "-") - self

    def __mul__(self, other):
        other = other if isinstance(other, Value) else _lift(other, "*")
        return _node(self.data * other.data, MUL, self, other)

    def __rmul__(self, other):  # 2 * x: 2 becomes a constant leaf, the first input, as written
        return _lift(other, "*") * self

    def __truediv__(self, other):
        other = other if isinstance(other, Value) else _lift(other, "/")
        return _node(DIV.f(self.data, other.data, None), DIV, self, other)  # the row names a division by 0

    def __rtruediv__(self, other):
        return _lift(other, "/") / self

    def __neg__(self):
        return _node(-self.data, NEG, self)

    def __pos__(self):
        return self

    def __pow__(self, k):
        if isinstance(k, Value):
            return _node(POWV.f(self.data, k.data, None), POWV, self, k)
        k = k if k.__class__ is float else number(k, "** (the exponent)")  # x**2's 2 becomes 2.0
        x = self.data
        try:  # the row's f written out for a positive base, as for relu (tests/test_ops.py holds them equal)
            data = x**k if x > 0.0 else POW.f(x, k)
        except OverflowError:
            data = POW.f(x, k)  # which names the overflow
        return _node(data, POW, self, None, k)

    def __rpow__(self, base):
        return _lift(base, "** (the base)") ** self

    # --- functions: each applies its row's forward rule f --------------------------
    def exp(self):
        """e^x. ``Value(0.0).exp().data`` is 1.0."""
        return _node(EXP.f(self.data, None), EXP, self)

    def log(self):
        """Natural log; the input must be > 0."""
        return _node(LOG.f(self.data, None), LOG, self)

    def sigmoid(self):
        """1 / (1 + e^−x), without overflow for any finite x."""
        return _node(SIGMOID.f(self.data, None), SIGMOID, self)

    def tanh(self):
        """(e^x − e^−x) / (e^x + e^−x); ``Value(1000.0).tanh().data`` is 1.0."""
        return _node(TANH.f(self.data, None), TANH, self)

    def relu(self):
        """max(x, 0); its derivative at 0 is taken as 0 (``local`` shows how to take 1)."""
        x = self.data  # the row's f written out: every hidden unit has one (tests/test_ops.py holds them equal)
        return _node(x if x > 0.0 else 0.0, RELU, self)

    def leaky_relu(self, alpha=0.01):
        """x for x > 0, else alpha·x; ``Value(-2.0).leaky_relu(0.1).data`` is -0.2."""
        alpha = number(alpha, "leaky_relu alpha")
        return _node(LEAKY_RELU.f(self.data, alpha), LEAKY_RELU, self, None, alpha)

    def elu(self, alpha=1.0):
        """x for x > 0, else alpha·(e^x − 1); ``Value(0.0).elu().data`` is 0.0."""
        alpha = number(alpha, "elu alpha")
        return _node(ELU.f(self.data, alpha), ELU, self, None, alpha)

    def softplus(self):
        """log(1 + e^x), stable for large |x|."""
        return _node(SOFTPLUS.f(self.data, None), SOFTPLUS, self)

    def max(self, other):
        """The larger of two; a tie sends half the gradient to each.

        >>> a, b = Value(2.0), Value(2.0); a.max(b).backward(); a.grad, b.grad
        (0.5, 0.5)
        """
        other = other if isinstance(other, Value) else _lift(other, "max")
        return _node(MAX.f(self.data, other.data, None), MAX, self, other)

    def split(self, n=2):
        """n branches carrying this value; their gradients add up here.

        >>> x = Value(3.0); p, q = x.split(); (p * 2 + q * 5).backward(); x.grad
        7.0
        """
        if not is_int(n) or n < 1:
            raise ValueError(f"split: n must be an int >= 1 (the number of branches), got {n!r}")
        return tuple(_node(self.data, SPLIT, self, None, i) for i in range(n))

    # --- the backward pass ---------------------------------------------------------
    def topo(self) -> list:
        """Every node this one depends on, inputs before the nodes that use them."""
        return topo(self)

    def steps(self, grad=1.0, conventions=None) -> Iterator[Step]:
        """Run the backward pass one node at a time, yielding each Step once it is applied.

        A step that would fail (a rule's domain, an overflow) puts back every
        gradient the pass changed, then raises an error naming its node.
        ``conventions``: as for ``local``.

        >>> x = Value(2.0, "x"); y = (x * 3).relu()
        >>> [(s.node.op, s.grad, s.local, s.contrib) for s in y.steps()]
        [('relu', 1.0, (1.0,), (1.0,)), ('mul', 1.0, (3.0, 2.0), (3.0, 2.0))]
        """
        chosen, seed, check = choose(conventions), number(grad, "backward grad"), not nonfinite_ok.get()
        order = topo(self)
        saved = [(v, v.grad, v.passes) for v in order]  # to put back if a step fails
        for v in order:
            if v.rule is None:
                v.passes += 1  # this pass is summed in a leaf's grad (counted now: a step-through may stop early)
            else:
                v.grad = 0.0  # a computed node shows this pass only
        self.grad = seed if self.rule else self.grad + seed
        for v in reversed(order):
            if v.rule is None:
                continue
            try:
                local = _local(v, chosen)
            except (ArithmeticError, ValueError) as e:
                raise _undo(saved, step_failed(v, e)) from e
            g = v.grad
            contrib = tuple(g * d for d in local)
            for i, (x, c) in enumerate(zip(v.inputs, contrib)):
                x.grad += c
                if check and not _isfinite(x.grad) and x.kind != "const":  # a constant's grad nobody reads
                    raise _undo(saved, step_overflowed(v, i, local, g, x.grad))
            yield Step(v, g, local, contrib)

    def backward(self, grad=1.0, conventions=None):
        """Fill in d self / d v for every node v of the graph, or change nothing: ``steps()`` run to the end.

        engine/fast.py runs the same sequence, written out for speed. Leaf
        gradients add up across calls (``zero_grad()`` between training
        steps); computed nodes show the latest pass.

        >>> w = Value(3.0, "w"); y = w * w
        >>> y.backward(); w.grad
        6.0
        >>> y.backward(); w.grad
        12.0
        >>> y.zero_grad(); w.grad
        0.0
        """
        seed = number(grad, "backward grad")
        if conventions:
            for _ in self.steps(seed, conventions):
                pass
            return
        failed = fast.backward(self, seed, NOT_COMPUTED, not nonfinite_ok.get())
        if failed is not None:  # nothing was changed: steps() runs the pass again to name the node
            saved = [(v, v.grad, v.passes) for v in topo(self)]
            for _ in self.steps(seed):
                pass
            raise _undo(saved, failed)  # steps() got through where the fast pass did not: keep neither

    def zero_grad(self):
        """Every leaf of this graph back to grad 0.0 and 0 passes; computed nodes to not computed."""
        for v in (self,) if self.rule is None else topo(self):  # a parameter (an optimizer's zero_grad): no walk
            if v.rule is None:
                v.grad, v.passes = 0.0, 0
            else:
                v.grad = NOT_COMPUTED


def _local(v, chosen):
    # The row's local derivatives at v, or the ones a convention chose where it applies.
    xs = [x.data for x in v.inputs]
    choice = chosen.get(v.rule.name)
    if choice is not None and choice[0](*xs):
        return choice[1]
    return v.rule.d(*xs, v.data, v.arg)


def _undo(saved, error):
    # Every gradient and pass count back as it was before the pass; then the error to raise.
    for v, g, n in saved:
        if v.rule is None:
            v.passes = n
        v.grad = g
    return error


class Leaf(Value, LeafParts):
    """A Value no op made: its ``kind`` is 'input', 'param' or 'const' (engine/parts.py has the rest)."""

    # rule is None, yet in a slot: every backward pass reads it, and a slot is read faster than a class attribute.
    __slots__ = ("data", "grad", "label", "rule", "_kind", "_passes", "id")
    arg = None
    inputs = ()


class Node(Value, NodeParts):
    """A Value an op made: the op table's ``rule``, its ``inputs`` and the op's ``arg``."""

    # The inputs sit in two slots (_b is None for one input), not in a tuple: one object fewer a node.
    __slots__ = ("data", "grad", "label", "rule", "arg", "_a", "_b")

    @property
    def inputs(self) -> tuple:
        """The input Values in order, duplicates kept: ``(a * a).inputs`` has two."""
        return (self._a,) if self._b is None else (self._a, self._b)
