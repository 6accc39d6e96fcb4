"""Value: one number, its gradient, and the op that made it.

Operators and methods look their rules up in ``engine.ops.OPS``; ``backward``
orders the graph without recursion and applies each node's local rule.

>>> a, b = Value(2.0, "a"), Value(-3.0, "b")
>>> c = a * b + a
>>> c.backward()
>>> c.data, a.grad, b.grad
(-4.0, -2.0, 2.0)
"""

from __future__ import annotations

import itertools
import numbers
from contextvars import ContextVar
from operator import attrgetter
from typing import Iterator, NamedTuple

from .ops import OPS, DomainError

__all__ = ["Value", "Step", "topo", "NOT_COMPUTED", "DomainError"]


class _NotComputed(float):
    """0.0 that remembers no backward pass has reached this node yet.

    It adds like 0.0 (so accumulation needs no special case) and lets a
    renderer show "not computed" instead of a misleading 0.
    """

    __slots__ = ()

    def __repr__(self):
        return "0.0"


NOT_COMPUTED = _NotComputed(0.0)

_ADD, _SUB, _MUL, _DIV, _NEG = (OPS[n] for n in ("add", "sub", "mul", "div", "neg"))
_POW, _POWV, _MAX, _SPLIT = OPS["pow"], OPS["powv"], OPS["max"], OPS["split"]
_ids = itertools.count()
_new = object.__new__
_by_id = attrgetter("_id")


# A hook called as hook(symbol, value, other) before a comparison or float()
# hands a node's data to Python code: engine.batch sets it while recording, to
# refuse control flow that could differ per sample. A ContextVar, so that a
# recording in one thread never touches another thread's comparisons.
reading: ContextVar = ContextVar("reading", default=None)


def _read(symbol, value, other=None):
    hook = reading.get()
    if hook is not None:
        hook(symbol, value, other)


def _node(data, op, a=None, b=None, arg=None):
    # The one place non-leaf nodes are built; it skips __init__'s checks
    # because data here always comes from a rule of the op table.
    v = _new(Value)
    v.data = data
    v.grad = NOT_COMPUTED
    v.label = ""
    v._op = op
    v._a = a
    v._b = b
    v._arg = arg
    v._id = next(_ids)
    v._passes = 0
    return v


def _number(x, what):
    # A plain number as a float, or a TypeError naming what was received.
    if isinstance(x, float):
        return x
    if isinstance(x, numbers.Real):
        return float(x)
    raise TypeError(f"{what} needs a real number (int or float), got {type(x).__name__} {x!r:.60}")


def _lift(x, what):
    # A Value as is; a number as a constant leaf.
    if isinstance(x, Value):
        return x
    return _node(_number(x, f"{what} with a Value"), None, arg="const")


def topo(*roots) -> list:
    """Every node the roots depend on (roots included), inputs before users.

    Iterative: a node is always created after its inputs, so creation order
    restricted to the reachable nodes is a topological order.

    >>> x = Value(1.0, "x")
    >>> [v.op or v.kind for v in topo(x * 2 + x)]
    ['input', 'const', 'mul', 'add']
    """
    seen = set(roots)
    nodes = list(seen)
    add = seen.add
    push = nodes.append
    for v in nodes:  # `nodes` grows while we walk it: a breadth-first sweep
        a = v._a
        if a is not None:
            if a not in seen:
                add(a)
                push(a)
            b = v._b
            if b is not None and b not in seen:
                add(b)
                push(b)
    nodes.sort(key=_by_id)
    return nodes


class Step(NamedTuple):
    """One node of the backward pass, as a student would write it down.

    ``grad`` is the total gradient arriving at ``node``; ``local[i]`` is
    d node / d input_i; ``contrib[i] = grad * local[i]`` is what flows along
    edge i and is added to ``node.inputs[i].grad``.
    """

    node: "Value"
    grad: float
    local: tuple
    contrib: tuple


class Value:
    """A scalar node in a computation graph.

    >>> x = Value(3.0, "x")
    >>> y = (x ** 2).log()
    >>> y.backward()
    >>> round(y.data, 4), round(x.grad, 4)
    (2.1972, 0.6667)
    """

    # Inputs sit in two slots rather than a tuple: one fewer object per node
    # to allocate and for the cyclic collector to walk (see benchmarks/).
    __slots__ = ("data", "grad", "label", "_op", "_a", "_b", "_arg", "_id", "_passes")

    def __init__(self, data, label="", *, kind="input"):
        self.data = _number(data, "Value")
        self.grad = NOT_COMPUTED
        if not isinstance(label, str):
            raise TypeError(f"Value label must be a str, got {type(label).__name__}")
        self.label = label
        self._op = None
        self._a = self._b = None
        if kind not in ("input", "param", "const"):
            raise ValueError(f"Value kind must be 'input', 'param' or 'const', got {kind!r}")
        self._arg = kind
        self._id = next(_ids)
        self._passes = 0

    # --- what the node is ---------------------------------------------------------

    @property
    def op(self) -> str:
        """The op's name from the table, or "" for a leaf."""
        return self._op.name if self._op else ""

    @property
    def inputs(self) -> tuple:
        """The input Values in order, duplicates kept: ``(a * a).inputs`` has two."""
        if self._a is None:
            return ()
        return (self._a,) if self._b is None else (self._a, self._b)

    @property
    def arg(self):
        """The op's constant parameter (exponent, alpha, branch), or None."""
        return self._arg if self._op else None

    @property
    def kind(self) -> str:
        """'op' for a computed node; for a leaf 'input', 'param' or 'const'."""
        return "op" if self._op else self._arg

    @kind.setter
    def kind(self, kind):
        if self._op or kind not in ("input", "param", "const"):
            raise ValueError(f"only a leaf's kind can be set, to 'input', 'param' or 'const'; got {kind!r}")
        self._arg = kind

    @property
    def passes(self) -> int:
        """Backward passes summed in ``grad``: for a leaf, passes since creation or ``zero_grad()``;
        for a computed node, 1 once a pass reached it (it shows the latest pass only), else 0.

        A drawing reads it to say when leaf gradients add up several passes.

        >>> w = Value(3.0, "w")
        >>> y = w * w
        >>> w.passes, y.passes
        (0, 0)
        >>> y.backward(); y.backward(); w.passes, y.passes
        (2, 1)
        >>> y.zero_grad(); w.passes
        0
        """
        return self._passes

    @passes.setter
    def passes(self, n):
        # Only to put a graph back as it was (viz.steps replays a pass, then restores it).
        self._passes = int(n)

    def __repr__(self):
        name = f", label={self.label!r}" if self.label else ""
        op = f", op={self.op!r}" if self._op else ""
        return f"Value(data={self.data!r}, grad={self.grad!r}{op}{name})"

    def __float__(self):
        _read("float()", self)
        return float(self.data)

    # Comparisons read the data (so `if loss < 0.1` works); equality stays
    # identity so that Values can live in sets and dicts.
    def __lt__(self, other):
        _read("<", self, other)
        return self.data < (other.data if isinstance(other, Value) else other)

    def __le__(self, other):
        _read("<=", self, other)
        return self.data <= (other.data if isinstance(other, Value) else other)

    def __gt__(self, other):
        _read(">", self, other)
        return self.data > (other.data if isinstance(other, Value) else other)

    def __ge__(self, other):
        _read(">=", self, other)
        return self.data >= (other.data if isinstance(other, Value) else other)

    __hash__ = object.__hash__

    # --- arithmetic (the hot path: + and × are written out) ---------------------

    def __add__(self, other):
        if other.__class__ is not Value:
            other = _lift(other, "+")
        return _node(self.data + other.data, _ADD, self, other)

    def __radd__(self, other):
        other = _lift(other, "+")
        return _node(other.data + self.data, _ADD, other, self)

    def __mul__(self, other):
        if other.__class__ is not Value:
            other = _lift(other, "*")
        return _node(self.data * other.data, _MUL, self, other)

    def __rmul__(self, other):
        other = _lift(other, "*")
        return _node(other.data * self.data, _MUL, other, self)

    def __sub__(self, other):
        other = _lift(other, "-")
        return _node(self.data - other.data, _SUB, self, other)

    def __rsub__(self, other):
        other = _lift(other, "-")
        return _node(other.data - self.data, _SUB, other, self)

    def __truediv__(self, other):
        other = _lift(other, "/")
        return _node(_DIV.f(self.data, other.data, None), _DIV, self, other)

    def __rtruediv__(self, other):
        other = _lift(other, "/")
        return _node(_DIV.f(other.data, self.data, None), _DIV, other, self)

    def __neg__(self):
        return _node(-self.data, _NEG, self)

    def __pos__(self):
        return self

    def __pow__(self, other):
        if isinstance(other, Value):
            return _node(_POWV.f(self.data, other.data, None), _POWV, self, other)
        k = _number(other, "** (the exponent)")
        return _node(_POW.f(self.data, k), _POW, self, arg=k)

    def __rpow__(self, other):
        base = _lift(other, "** (the base)")
        return _node(_POWV.f(base.data, self.data, None), _POWV, base, self)

    # --- functions -----------------------------------------------------------------

    def _unary(self, op, arg=None):
        return _node(op.f(self.data, arg), op, self, arg=arg)

    def exp(self):
        """e^x. ``Value(0.0).exp().data`` is 1.0."""
        return self._unary(OPS["exp"])

    def log(self):
        """Natural log; the input must be > 0."""
        return self._unary(OPS["log"])

    def sigmoid(self):
        """1 / (1 + e^−x), without overflow for any finite x."""
        return self._unary(OPS["sigmoid"])

    def tanh(self):
        """(e^x − e^−x) / (e^x + e^−x); ``Value(1000.0).tanh().data`` is 1.0."""
        return self._unary(OPS["tanh"])

    def relu(self):
        """max(x, 0); its derivative at 0 is taken as 0.

        >>> x = Value(0.0)
        >>> x.relu().backward()
        >>> x.grad
        0.0
        """
        return self._unary(OPS["relu"])

    def leaky_relu(self, alpha=0.01):
        """x for x > 0, else alpha·x; ``Value(-2.0).leaky_relu(0.1).data`` is -0.2."""
        return self._unary(OPS["leaky_relu"], _number(alpha, "leaky_relu alpha"))

    def elu(self, alpha=1.0):
        """x for x > 0, else alpha·(e^x − 1); ``Value(0.0).elu().data`` is 0.0."""
        return self._unary(OPS["elu"], _number(alpha, "elu alpha"))

    def softplus(self):
        """log(1 + e^x), stable for large |x|."""
        return self._unary(OPS["softplus"])

    def max(self, other):
        """The larger of two; a tie sends half the gradient to each.

        >>> a, b = Value(2.0), Value(2.0)
        >>> a.max(b).backward()
        >>> a.grad, b.grad
        (0.5, 0.5)
        """
        other = _lift(other, "max")
        return _node(_MAX.f(self.data, other.data, None), _MAX, self, other)

    def split(self, n=2):
        """n branches carrying this value; their gradients add up here.

        >>> x = Value(3.0)
        >>> p, q = x.split()
        >>> (p * 2 + q * 5).backward()
        >>> x.grad
        7.0
        """
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"split: n must be an int >= 1 (the number of branches), got {n!r}")
        return tuple(_node(self.data, _SPLIT, self, arg=i) for i in range(n))

    # --- the backward pass ---------------------------------------------------------

    def topo(self) -> list:
        """Every node this one depends on, inputs before the nodes that use them."""
        return topo(self)

    def _start(self, grad):
        grad = _number(grad, "backward grad")  # before any gradient is touched
        order = self.topo()
        for v in order:
            if v._op is not None:
                v.grad = 0.0  # only this pass's gradient flows through interior nodes
                v._passes = 1
            else:
                v._passes += 1  # leaves accumulate: count what is summed in their grad
        self.grad += grad
        order.reverse()
        return order

    def steps(self, grad=1.0) -> Iterator[Step]:
        """Run the backward pass one node at a time, yielding a Step for each.

        Each step has already been applied when it is yielded, so after the
        last one every gradient equals what ``backward()`` gives.

        >>> x = Value(2.0, "x")
        >>> y = (x * 3).relu()
        >>> [(s.node.op, s.grad, s.local, s.contrib) for s in y.steps()]
        [('relu', 1.0, (1.0,), (1.0,)), ('mul', 1.0, (3.0, 2.0), (3.0, 2.0))]
        """
        for v in self._start(grad):
            op = v._op
            if op is None:
                continue
            g = v.grad
            ins = v.inputs
            local = op.d(*[x.data for x in ins], v.data, v._arg)
            contrib = tuple(g * d for d in local)
            for x, c in zip(ins, contrib):
                x.grad += c
            yield Step(v, g, local, contrib)

    def backward(self, grad=1.0):
        """Fill in d self / d v for every node v of the graph.

        The same sequence as ``steps()``, without building a Step per node.
        Leaf gradients accumulate across calls (call ``zero_grad()`` between
        training steps); interior nodes show the latest pass.

        >>> w = Value(3.0, "w")
        >>> y = w * w
        >>> y.backward(); w.grad
        6.0
        >>> y.backward(); w.grad
        12.0
        >>> y.zero_grad(); w.grad
        0.0
        """
        for v in self._start(grad):
            op = v._op
            if op is None:
                continue
            g = v.grad
            a = v._a
            b = v._b
            if b is None:
                a.grad += g * op.d(a.data, v.data, v._arg)[0]
            else:
                da, db = op.d(a.data, b.data, v.data, v._arg)
                a.grad += g * da
                b.grad += g * db

    def zero_grad(self):
        """Set the gradient of every node in this graph to 0.0 (and its count of passes to 0)."""
        for v in self.topo():
            v.grad = 0.0
            v._passes = 0
