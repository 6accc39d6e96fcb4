"""Value: one number, its gradient, and the op that made it.

Operators and methods look their rules up in ``engine.ops.OPS``; ``backward``
orders the graph without recursion, applies each node's local rule, and either
changes every gradient or none. Every Value is finite unless
``Value.allow_nonfinite()`` says otherwise.

>>> a, b = Value(2.0, "a"), Value(-3.0, "b")
>>> c = a * b + a
>>> c.backward()
>>> c.data, a.grad, b.grad
(-4.0, -2.0, 2.0)
"""

from __future__ import annotations

import itertools
import math
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Iterator, NamedTuple

from .args import nonfinite_ok as _nonfinite_ok, number as _number
from .ops import CONVENTIONS, OPS, TINY, DomainError, _dpow, _pow

__all__ = ["Value", "Step", "topo", "set_leaves", "NOT_COMPUTED", "DomainError"]


class _Zero(float):
    """A 0.0 with an identity of its own, shown as 0.0.

    The engine tells some zeros apart by identity: NOT_COMPUTED (no pass has
    reached the node), a node zeroed by zero_grad(), and each pass's mark.
    """

    __slots__ = ()

    def __repr__(self):
        return "0.0"


# 0.0 that remembers no backward pass has reached this node yet: it adds like
# 0.0 (so accumulation needs no special case) and lets a renderer show
# "not computed" instead of a misleading 0.
NOT_COMPUTED = _Zero(0.0)
_ZEROED = _Zero(0.0)  # a computed node's grad after zero_grad(): 0 passes

_ADD, _SUB, _MUL, _DIV, _NEG = (OPS[n] for n in ("add", "sub", "mul", "div", "neg"))
_POW, _POWV, _MAX, _SPLIT = OPS["pow"], OPS["powv"], OPS["max"], OPS["split"]
assert _POW.f is _pow
_TANH, _RELU, _SIGMOID, _EXP = OPS["tanh"], OPS["relu"], OPS["sigmoid"], OPS["exp"]
_LOG, _SOFTPLUS, _LEAKY_RELU, _ELU = OPS["log"], OPS["softplus"], OPS["leaky_relu"], OPS["elu"]
# The rules backward writes out, with the row's own rule: backward uses its
# copy only while the row still holds that rule (a test or a convention may
# swap a row's d; the table stays the one source of truth).
_INLINED = tuple((row, row.d) for row in (_ADD, _MUL, _RELU, _TANH, _POW))
_ids = itertools.count()  # creation numbers of leaves (engine.record reads them as _id)
_new = object.__new__
_INT_MAX = 2**53  # ints below it become floats exactly
_isfinite = math.isfinite


# A hook called as hook(symbol, value, other) before a comparison or float()
# hands a node's data to Python code: engine.batch sets it while recording, to
# refuse control flow that could differ per sample. A ContextVar, so that a
# recording in one thread never touches another thread's comparisons.
reading: ContextVar = ContextVar("reading", default=None)


def _read(symbol, value, other=None):
    hook = reading.get()
    if hook is not None:
        hook(symbol, value, other)


def _show(x):
    return f"{x!r:.60}"


def _call_text(op, xs, arg):
    args = ", ".join(map(_show, xs)) + ("" if arg is None else f", {op.params[0] if op.params else 'arg'}={arg!r}")
    return f"{op.name}({args})"


def _refuse_result(data, op, xs, arg):
    # Only reached when an op's output is inf or nan.
    if _nonfinite_ok.get():
        return
    if all(map(_isfinite, xs)):
        what = "overflows a float" if data == data else "is not a number"
        raise OverflowError(
            f"{op.name}: {_call_text(op, xs, arg)} {what} (gives {data!r}); every Value must be finite "
            "(use `with Value.allow_nonfinite():` to show overflow on purpose)"
        )
    raise ValueError(
        f"{op.name}: {_call_text(op, xs, arg)} has an input that is not finite (its .data was set to inf or nan); "
        "set .data to a finite number"
    )


def _node(data, op, a, b=None, arg=None):
    # The one place computed nodes are built; it skips __init__'s checks
    # because data here always comes from a rule of the op table.
    if data - data:  # nan exactly when data is inf or nan: the cheapest finiteness test
        _refuse_result(data, op, (a.data,) if b is None else (a.data, b.data), arg)
    v = _new(Value)
    v.data = data
    v.grad = NOT_COMPUTED
    v.label = ""
    v._op = op
    v._a = a
    v._b = b
    v._arg = arg
    return v


def _unary(op, x, arg=None):
    return _node(op.f(x.data, arg), op, x, None, arg)


def _lift(x, what):
    # A Value as is; a number as a constant leaf.
    if isinstance(x, Value):
        return x
    v = _new(Value)
    # A finite float needs no checking; anything else is checked (and the message built) by _number.
    v._leaf(x if x.__class__ is float and not x - x else _number(x, f"{what} with a Value"), "", "const")
    return v


def topo(*roots) -> list:
    """Every node the roots depend on (roots included), inputs before users.

    Depth-first and iterative, so any depth works; first inputs come first.

    >>> x = Value(1.0, "x")
    >>> [v.op or v.kind for v in topo(x * 2 + x)]
    ['input', 'const', 'mul', 'add']
    """
    seen = set()
    order = []
    for root in roots:
        stack = [root]
        while stack:
            v = stack.pop()
            if v is None:  # pushed below v: v's inputs are all in order now
                order.append(stack.pop())
            elif v not in seen:
                seen.add(v)
                if v._op is None:
                    order.append(v)
                    continue
                stack += (v, None) if v._b is None else (v, None, v._b)
                stack.append(v._a)
    return order


def set_leaves(leaves, data, grads):
    """Give leaves new data and gradients at once, each as after ``zero_grad()`` and one gradient (0 passes).

    What a trainer that kept parameters in arrays hands back; 66,817 leaves
    take a few milliseconds. Numbers go in unchecked: they come from arrays
    the trainer checked.

    >>> w = Value(1.0, "w", kind="param")
    >>> set_leaves([w], [0.5], [2.0]); w.data, w.grad, w.passes
    (0.5, 2.0, 0)
    """
    for v, x, g in zip(leaves, data, grads):
        if v._op is not None:
            raise TypeError(f"set_leaves: {v!r} is computed by {v._op.name}, not a leaf")
        v.data = x
        v.grad = g
        v._b = 0


def _walk(root, mark):
    """The pass's nodes: (computed nodes, inputs before users; leaves; old grads).

    Like topo, but it marks instead of keeping a set: a computed node's grad
    becomes this pass's `mark` (a fresh 0.0, where the pass starts anyway), a
    leaf's pass count n becomes ~n = −n−1 < 0 until the pass ends. The grads
    it overwrites are returned so that a failed pass can put them back.
    """
    order, leaves, saved = [], [], []
    if root._op is None:
        root._b = ~root._b
        return order, [root], saved
    if root.grad is not NOT_COMPUTED:
        saved.append((root, root.grad))
    root.grad = mark
    # The top of the stack is emitted once both its inputs are marked; an
    # unmarked computed input is marked and stacked first. Peeking instead of
    # pushing an exit marker halves the list operations of a plain DFS.
    stack = [root]
    push, emit = stack.append, order.append
    while stack:
        v = stack[-1]
        a = v._a
        if a.grad is not mark:
            if a._op is not None:
                if a.grad is not NOT_COMPUTED:
                    saved.append((a, a.grad))
                a.grad = mark
                push(a)
                continue
            if a._b >= 0:
                a._b = ~a._b
                leaves.append(a)
        b = v._b
        if b is not None and b.grad is not mark:
            if b._op is not None:
                if b.grad is not NOT_COMPUTED:
                    saved.append((b, b.grad))
                b.grad = mark
                push(b)
                continue
            if b._b >= 0:
                b._b = ~b._b
                leaves.append(b)
        emit(stack.pop())
    return order, leaves, saved


class _Pass:
    """One backward pass's bookkeeping: what to commit, or to put back."""

    __slots__ = ("root", "seed", "order", "leaves", "olds", "saved", "counted")

    def __init__(self, root, seed):
        self.root, self.seed = root, seed
        self.order, self.leaves, self.saved = _walk(root, _Zero(0.0))
        self.olds = [v.grad for v in self.leaves]
        self.counted = False
        if root._op is None:
            root.grad += seed
        else:
            root.grad = seed

    def commit(self):
        for v in self.leaves:
            v._b = -v._b  # −(~n) = n + 1: one more pass summed in its grad
        self.counted = True

    def undo(self):
        for v in self.order:
            v.grad = NOT_COMPUTED
        for v, g in self.saved:
            v.grad = g
        for v, g in zip(self.leaves, self.olds):
            v.grad = g
            v._b = v._b - 1 if self.counted else ~v._b

    def finite(self):
        # A non-finite gradient anywhere reaches a leaf: every rule multiplies
        # the incoming gradient (inf·0 is nan), so checking leaves suffices.
        # A constant's gradient may overflow (x / 1e-170): nobody reads it.
        for v in self.leaves:
            g = v.grad
            if g - g and v._arg != "const":
                return False
        return True

    def fail(self, error=None):
        """Put every gradient back, then raise an error naming the node that failed."""
        self.undo()
        _explain(self.order, self.root, self.seed, error)


def _where(v):
    label = f" (label {v.label!r})" if v.label else ""
    return f"the {v._op.name} node{label} = {_call_text(v._op, [x.data for x in v.inputs], v._arg)} = {v.data!r}"


def _explain(order, root, seed, error):
    # Replays the pass into a scratch dict (the graph is not touched) to find
    # the first rule that raises or gives a non-finite number, and names it.
    grads = {root: seed + (root.grad if root._op is None else 0.0)}
    for v in reversed(order):
        g = grads.get(v, 0.0)
        xs = v.inputs
        try:
            local = v._op.d(*[x.data for x in xs], v.data, v._arg)
        except (ArithmeticError, ValueError) as e:
            message = f"backward: the local derivative of {_where(v)} failed: {e}; no gradient was changed"
            try:
                named = type(e)(message)
            except Exception:  # an error type that takes other arguments keeps its own message
                raise e from None
            raise named from e
        for i, (x, d) in enumerate(zip(xs, local)):
            c = g * d
            total = grads.get(x, x.grad if x._op is None else 0.0) + c
            if not (_isfinite(d) and _isfinite(c) and _isfinite(total)) and x._arg != "const":
                name = f"input {i + 1}" + (f" ({x.label!r})" if x.label else "")
                what = (f"its local derivative d/d({name}) = {v._op.formula[i]} is {d!r}" if not _isfinite(d)
                        else f"the gradient {g!r} × {d!r} sent to {name} gives {total!r}")
                raise OverflowError(
                    f"backward: at {_where(v)}, {what}, which a float cannot hold; no gradient was changed"
                )
            grads[x] = total
    if error is not None:
        raise error
    raise OverflowError("backward: a gradient overflowed a float; no gradient was changed")


def _chosen(conventions):
    # {op name: (where the choice applies, the local derivatives there)} from
    # {convention name: choice}, e.g. {"relu_at_0": 1}: see engine.ops.CONVENTIONS.
    if not conventions:
        return {}
    if not isinstance(conventions, dict):
        raise TypeError(f"conventions must be a dict such as {{'relu_at_0': 1}}, got {type(conventions).__name__}")
    chosen = {}
    for name, choice in conventions.items():
        c = CONVENTIONS.get(name)
        if c is None:
            raise ValueError(f"unknown convention {name!r}; known: {', '.join(map(repr, CONVENTIONS))}")
        if isinstance(choice, bool) or choice not in c.choices:
            raise ValueError(f"convention {name!r} takes one of {', '.join(map(repr, c.choices))}, got {choice!r}")
        chosen[c.op] = (c.applies, c.choices[choice])
    return chosen


def _local(v, chosen):
    xs = [x.data for x in v.inputs]
    choice = chosen.get(v._op.name) if chosen else None
    if choice is not None and choice[0](*xs):
        return choice[1]
    return v._op.d(*xs, v.data, v._arg)


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

    # Seven slots and no per-node id: 88 bytes a node plus its two floats.
    # Inputs sit in two slots rather than a tuple: one fewer object per node
    # to allocate and for the cyclic collector to walk (see benchmarks/).
    __slots__ = ("data", "grad", "label", "_op", "_a", "_b", "_arg")

    def __init__(self, data, label="", *, kind="input"):
        data = _number(data, "Value")
        if not isinstance(label, str):
            raise TypeError(f"Value label must be a str, got {type(label).__name__}")
        if kind not in ("input", "param", "const"):
            raise ValueError(f"Value kind must be 'input', 'param' or 'const', got {kind!r}")
        self._leaf(data, label, kind)

    def _leaf(self, data, label, kind):
        self.data = data
        self.grad = NOT_COMPUTED
        self.label = label
        self._op = None
        # A leaf has no inputs, so its input slots hold its own bookkeeping:
        # _a its creation number, _b how many passes its grad sums (see passes).
        self._a = next(_ids)
        self._b = 0
        self._arg = kind

    @staticmethod
    @contextmanager
    def allow_nonfinite():
        """Let inf and nan into Values inside a ``with`` block (to show overflow on purpose).

        >>> with Value.allow_nonfinite():
        ...     y = Value(1e308) * 10
        >>> y.data
        inf
        """
        token = _nonfinite_ok.set(True)
        try:
            yield
        finally:
            _nonfinite_ok.reset(token)

    # --- what the node is ---------------------------------------------------------

    @property
    def op(self) -> str:
        """The op's name from the table, or "" for a leaf."""
        return self._op.name if self._op else ""

    @property
    def rule(self):
        """The op table's row that made this node (an ``engine.Op``), or None for a leaf.

        >>> (Value(2.0) * 3).rule.formula
        ('y', 'x')
        """
        return self._op

    def local(self, conventions=None) -> tuple:
        """d self / d input for each input, from the op table's rule: what backward multiplies by.

        ``conventions`` picks a rule where the table has a choice (see
        ``engine.ops.CONVENTIONS``), e.g. ``{"relu_at_0": 1}``.

        >>> x = Value(0.0)
        >>> x.relu().local(), x.relu().local({"relu_at_0": 1})
        ((0.0,), (1.0,))
        """
        if self._op is None:
            return ()
        return _local(self, _chosen(conventions))

    @property
    def inputs(self) -> tuple:
        """The input Values in order, duplicates kept: ``(a * a).inputs`` has two."""
        if self._op is None:
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
    def _id(self):
        # A leaf's creation number: engine.record tells the leaves made before a
        # recording (the parameters) by it. A computed node stores none; inf
        # puts it after every mark, so it is never taken for a parameter.
        return self._a if self._op is None else math.inf

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
        if self._op is None:
            return self._b
        return 0 if self.grad is NOT_COMPUTED or self.grad is _ZEROED else 1

    @passes.setter
    def passes(self, n):
        # Only to put a graph back as it was (viz.steps replays a pass, then
        # restores it). A computed node's count follows its grad: 0 marks it
        # unreached (restore its grad afterwards), 1 reached.
        if isinstance(n, bool) or not isinstance(n, int) or n < 0 or (self._op is not None and n > 1):
            raise ValueError(f"passes must be an int >= 0 (0 or 1 for a computed node), got {n!r}")
        if self._op is None:
            self._b = n
        elif n == 0 and self.passes:
            self.grad = NOT_COMPUTED
        elif n == 1 and not self.passes:
            self.grad = 0.0

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

    # --- arithmetic ---------------------------------------------------------------

    def __add__(self, other):
        # +, × and ** build their node in place, one slot a line (cheaper than
        # a call to _node, or than one tuple assignment): most nodes are these.
        if other.__class__ is not Value:
            other = _lift(other, "+")
        data = self.data + other.data
        if data - data:
            _refuse_result(data, _ADD, (self.data, other.data), None)
        v = _new(Value)
        v.data = data
        v.grad = NOT_COMPUTED
        v.label = ""
        v._op = _ADD
        v._a = self
        v._b = other
        v._arg = None
        return v

    def __radd__(self, other):
        other = _lift(other, "+")
        return _node(other.data + self.data, _ADD, other, self)

    def __mul__(self, other):
        if other.__class__ is not Value:
            other = _lift(other, "*")
        data = self.data * other.data
        if data - data:
            _refuse_result(data, _MUL, (self.data, other.data), None)
        v = _new(Value)
        v.data = data
        v.grad = NOT_COMPUTED
        v.label = ""
        v._op = _MUL
        v._a = self
        v._b = other
        v._arg = None
        return v

    def __rmul__(self, other):
        other = _lift(other, "*")
        return _node(other.data * self.data, _MUL, other, self)

    def __sub__(self, other):
        if other.__class__ is not Value:
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
        if other.__class__ is Value:
            return _node(_POWV.f(self.data, other.data, None), _POWV, self, other)
        # x**2's int exponent is the common case: converted here, without a call.
        k = (other if other.__class__ is float else float(other) if other.__class__ is int and -_INT_MAX < other < _INT_MAX
             else _number(other, "** (the exponent)"))
        x = self.data
        try:
            # _POW.f is _pow; a positive base has a real power for every k, so
            # the common case skips its checks (an overflow calls it to be named).
            # Otherwise through the row, which engine.record wraps while it records.
            data = x**k if x > 0 else _POW.f(x, k)
        except OverflowError:
            data = _POW.f(x, k)
        if data - data:
            _refuse_result(data, _POW, (x,), k)
        v = _new(Value)
        v.data = data
        v.grad = NOT_COMPUTED
        v.label = ""
        v._op = _POW
        v._a = self
        v._b = None
        v._arg = k
        return v

    def __rpow__(self, other):
        base = _lift(other, "** (the base)")
        return _node(_POWV.f(base.data, self.data, None), _POWV, base, self)

    # --- functions -----------------------------------------------------------------

    # Each function is the row's forward rule handed to _node.

    def exp(self):
        """e^x. ``Value(0.0).exp().data`` is 1.0."""
        return _node(_EXP.f(self.data, None), _EXP, self)

    def log(self):
        """Natural log; the input must be > 0."""
        return _unary(_LOG, self)

    def sigmoid(self):
        """1 / (1 + e^−x), without overflow for any finite x."""
        return _node(_SIGMOID.f(self.data, None), _SIGMOID, self)

    def tanh(self):
        """(e^x − e^−x) / (e^x + e^−x); ``Value(1000.0).tanh().data`` is 1.0."""
        return _node(_TANH.f(self.data, None), _TANH, self)

    def relu(self):
        """max(x, 0); its derivative at 0 is taken as 0.

        >>> x = Value(0.0)
        >>> x.relu().backward()
        >>> x.grad
        0.0
        """
        # Built in place like + and ×, with the row's f written out (every
        # hidden unit has a relu; tests/test_ops.py checks the copy agrees).
        x = self.data
        # x - x is 0.0 for a finite x, and keeps the tag engine.record puts on recorded data.
        data = x if x > 0 else x - x
        if data - data:
            _refuse_result(data, _RELU, (self.data,), None)
        v = _new(Value)
        v.data = data
        v.grad = NOT_COMPUTED
        v.label = ""
        v._op = _RELU
        v._a = self
        v._b = None
        v._arg = None
        return v

    def leaky_relu(self, alpha=0.01):
        """x for x > 0, else alpha·x; ``Value(-2.0).leaky_relu(0.1).data`` is -0.2."""
        return _unary(_LEAKY_RELU, self, _number(alpha, "leaky_relu alpha"))

    def elu(self, alpha=1.0):
        """x for x > 0, else alpha·(e^x − 1); ``Value(0.0).elu().data`` is 0.0."""
        return _unary(_ELU, self, _number(alpha, "elu alpha"))

    def softplus(self):
        """log(1 + e^x), stable for large |x|."""
        return _unary(_SOFTPLUS, self)

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
        return tuple(_node(self.data, _SPLIT, self, None, i) for i in range(n))

    # --- the backward pass ---------------------------------------------------------

    def topo(self) -> list:
        """Every node this one depends on, inputs before the nodes that use them."""
        return topo(self)

    def steps(self, grad=1.0, conventions=None) -> Iterator[Step]:
        """Run the backward pass one node at a time, yielding a Step for each.

        Each step has already been applied when it is yielded, so after the
        last one every gradient equals what ``backward()`` gives. A step that
        would fail puts back every gradient the pass changed, then raises.

        >>> x = Value(2.0, "x")
        >>> y = (x * 3).relu()
        >>> [(s.node.op, s.grad, s.local, s.contrib) for s in y.steps()]
        [('relu', 1.0, (1.0,), (1.0,)), ('mul', 1.0, (3.0, 2.0), (3.0, 2.0))]

        ``conventions`` picks a rule where the table has a choice (see ``local``).
        """
        chosen = _chosen(conventions)
        run = _Pass(self, _number(grad, "backward grad"))
        run.commit()  # the pass counts from its start: a step-through may stop early
        for v in reversed(run.order):
            g = v.grad
            ins = v.inputs
            try:
                local = _local(v, chosen)
            except (ArithmeticError, ValueError) as e:
                run.fail(e)
            contrib = tuple(g * d for d in local)
            if not all(x._arg == "const" or _isfinite(x.grad + c) for x, c in zip(ins, contrib)):
                if not _nonfinite_ok.get():
                    run.fail()
            for x, c in zip(ins, contrib):
                x.grad += c
            yield Step(v, g, local, contrib)

    def backward(self, grad=1.0, conventions=None):
        """Fill in d self / d v for every node v of the graph, or change nothing.

        The same sequence as ``steps()``, without building a Step per node.
        Leaf gradients accumulate across calls (call ``zero_grad()`` between
        training steps); interior nodes show the latest pass. When a rule
        fails or a gradient overflows, every gradient is put back as it was
        and the error names the node.

        >>> w = Value(3.0, "w")
        >>> y = w * w
        >>> y.backward(); w.grad
        6.0
        >>> y.backward(); w.grad
        12.0
        >>> y.zero_grad(); w.grad
        0.0

        ``conventions`` picks a rule where the table has a choice (see ``local``).
        """
        if conventions:
            for _ in self.steps(grad, conventions):
                pass
            return
        run = _Pass(self, _number(grad, "backward grad"))
        order = run.order
        # The common rules are written out (an `is` test on the op row costs
        # less than a call and a tuple); the rest go through the table.
        add, mul, relu, tanh, pow_ = (row if row.d is d else None for row, d in _INLINED)
        try:
            for v in reversed(order):
                op = v._op
                g = v.grad
                a = v._a
                if op is add:
                    a.grad += g
                    v._b.grad += g
                elif op is mul:
                    b = v._b
                    a.grad += g * b.data
                    b.grad += g * a.data
                elif op is relu:
                    # A branch, not g·(x > 0): float × bool takes a slower path. g·0.0 keeps its sign.
                    if a.data > 0:
                        a.grad += g
                    else:
                        a.grad += g * 0.0
                elif op is pow_:
                    x, y, k = a.data, v.data, v._arg
                    # k·x^(k−1) as k·(y/x), as ops._dpow does when y has not underflowed (and k ≠ 0)
                    a.grad += g * (k * (y / x) if k and x and (y >= TINY or y <= -TINY) else _dpow(x, y, k)[0])
                elif op is tanh:
                    a.grad += g * (1.0 - v.data * v.data)
                elif v._b is None:
                    a.grad += g * op.d(a.data, v.data, v._arg)[0]
                else:
                    b = v._b
                    da, db = op.d(a.data, b.data, v.data, v._arg)
                    a.grad += g * da
                    b.grad += g * db
        except (ArithmeticError, ValueError) as e:
            run.fail(e)
        except BaseException:  # an interrupt, say: no node to name, but every gradient goes back
            run.undo()
            raise
        if not run.finite() and not _nonfinite_ok.get():
            run.fail()
        run.commit()

    def zero_grad(self):
        """Set the gradient of every node in this graph to 0.0 (and its count of passes to 0)."""
        if self._op is None:  # a parameter, from an optimizer's zero_grad: no walk
            self.grad = 0.0
            self._b = 0
            return
        for v in topo(self):
            if v._op is None:
                v.grad = 0.0
                v._b = 0
            else:
                v.grad = _ZEROED
