"""backward(), written out for speed: the same loop as ``Value.steps()``.

``Value.steps()`` in engine/value.py is the lesson: order the graph, then send
each node's gradient to its inputs times its local derivatives. This is that
sequence, node for node, with three tricks that make it several times faster
(tests/test_fast.py keeps the two equal on random graphs, with every rule of
the table patched in turn):

- ordering marks a node as seen by giving its grad a 0.0 object of this pass's
  own, where the pass starts anyway: no set of seen nodes to build and search;
- add, mul, relu, tanh and pow's rules are written out (an ``is`` test costs less
  than a call and a tuple), while their row still holds the rule copied here;
- nothing is checked node by node: every rule multiplies the incoming gradient
  (inf·0 is nan), so a non-finite gradient always reaches a leaf, and the
  leaves are checked once at the end.

When anything fails, every gradient is put back as it was and ``backward``
returns the error; ``Value.backward`` then runs ``steps()``, which names the node.
"""

from __future__ import annotations

import math

from .ops import OPS, TINY

__all__ = ["backward", "write_leaves"]

ADD, MUL, RELU, TANH, POW = OPS["add"], OPS["mul"], OPS["relu"], OPS["tanh"], OPS["pow"]
# Each written-out rule with the row's own: a row whose d was swapped (a test,
# a convention) goes through the table instead.
WRITTEN_OUT = tuple((row, row.d) for row in (ADD, MUL, RELU, TANH, POW))
_isfinite = math.isfinite


def order(root, mark, unreached):
    """(computed nodes, inputs before users; {leaf: its grad before the pass}; [(node, old grad)]).

    The same order as ``engine.value.topo``. A computed node's grad becomes
    ``mark`` as it is found; the grads it held are returned, to put back.
    """
    nodes, leaves, saved = [], {}, []
    if root.rule is None:
        return nodes, {root: root.grad}, saved
    if root.grad is not unreached:
        saved.append((root, root.grad))
    root.grad = mark
    # ``v`` waits to be emitted until both its inputs are marked; an unmarked
    # computed input is marked and taken up first, while v waits on the
    # stack. Keeping the top in a local (not stack[-1], which Python does not
    # specialise) and never pushing an exit marker halve topo's list work;
    # a node taken back from the stack has its first input done, so only its
    # second is looked at again.
    stack, v = [], root
    push, pop, emit = stack.append, stack.pop, nodes.append
    while True:
        # Down the first inputs: each unmarked computed one is marked and taken up first.
        a = v._a
        while a.rule is not None and a.grad is not mark:
            if a.grad is not unreached:
                saved.append((a, a.grad))
            a.grad = mark
            push(v)
            v = a
            a = v._a
        if a.rule is None and a not in leaves:
            leaves[a] = a.grad
        # v's first input is done, and so is that of every node popped below.
        while True:
            b = v._b
            if b is not None and b.grad is not mark:
                if b.rule is not None:
                    if b.grad is not unreached:
                        saved.append((b, b.grad))
                    b.grad = mark
                    push(v)
                    v = b
                    break
                if b not in leaves:
                    leaves[b] = b.grad
            emit(v)
            if not stack:
                return nodes, leaves, saved
            v = pop()


def backward(root, seed, unreached, check):
    """Run the backward pass from ``root``: None when done, or the error, with nothing changed.

    ``unreached`` is engine.value's NOT_COMPUTED; ``check`` says whether a
    non-finite gradient fails the pass.
    """
    mark = float("0.0")  # a new object: this pass's own 0.0
    nodes, leaves, saved = order(root, mark, unreached)
    if root.rule is None:
        root.grad += seed
    else:
        root.grad = seed
    add, mul, relu, tanh, pow_ = (row if row.d is d else None for row, d in WRITTEN_OUT)
    try:
        for v in reversed(nodes):
            rule = v.rule
            g = v.grad
            a = v._a
            if rule is add:
                a.grad += g
                v._b.grad += g
            elif rule is mul:
                b = v._b
                a.grad += g * b.data
                b.grad += g * a.data
            elif rule is relu:
                # A branch, not g·(x > 0): float × bool takes a slower path. g·0.0 keeps g's sign.
                if a.data > 0.0:
                    a.grad += g
                else:
                    a.grad += g * 0.0
            elif rule is pow_:
                x, y, k = a.data, v.data, v.arg
                # k·x^(k−1) as k·(y/x), as the row does while y has not underflowed (the row handles k = 0, x = 0)
                a.grad += g * (k * (y / x) if k and x and (y >= TINY or y <= -TINY) else rule.d(x, y, k)[0])
            elif rule is tanh:
                a.grad += g * (1.0 - v.data * v.data)
            elif v._b is None:
                a.grad += g * rule.d(a.data, v.data, v.arg)[0]
            else:
                b = v._b
                da, db = rule.d(a.data, b.data, v.data, v.arg)
                a.grad += g * da
                b.grad += g * db
    except (ArithmeticError, ValueError) as e:
        _put_back(nodes, leaves, saved, unreached)
        return e
    except BaseException:  # an interrupt, say: no node to name, but every gradient goes back
        _put_back(nodes, leaves, saved, unreached)
        raise
    if check:
        for v in leaves:
            g = v.grad
            if not _isfinite(g) and v.kind != "const":  # a constant's grad (x / 1e-170) nobody reads
                _put_back(nodes, leaves, saved, unreached)
                return OverflowError("backward: a gradient overflowed a float; no gradient was changed")
    for v in leaves:
        v._passes += 1  # the slot under Leaf.passes: its setter's check is for users
    return None


def _put_back(nodes, leaves, saved, unreached):
    for v in nodes:
        v.grad = unreached
    for v, g in saved:
        v.grad = g
    for v, g in leaves.items():
        v.grad = g


def write_leaves(leaves, data, grads):
    """Give each leaf its number and gradient, with no backward pass counted in it yet.

    ``v.data, v.grad, v.passes = x, g, 0`` for each, without the passes
    setter's checks: fit hands its arrays back to 66,817 parameters at once
    (the setter took 150 ms of that). ``leaves`` must be Leaf objects.

    >>> from engine import Value
    >>> w = Value(1.0, kind="param"); w.passes = 3
    >>> write_leaves([w], [0.5], [2.0]); w.data, w.grad, w.passes
    (0.5, 2.0, 0)
    """
    for v, x, g in zip(leaves, data, grads):
        v.data = x
        v.grad = g
        v._passes = 0
