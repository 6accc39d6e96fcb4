"""What a Leaf and a Node answer besides data and grad: their kind and their passes.

engine/value.py declares each class's slots (slots must sit in the class
itself); how a new leaf's slots are filled in, the properties that read
them and the checks of what a user assigns are here, apart from the lesson. A leaf's ``kind`` is 'input', 'param' or 'const'
(a user may change it: ``b.kind = 'const'`` freezes b); a node's is 'op'.
``passes`` counts the backward passes summed in a leaf's grad; a node shows
the latest pass only, so its count is 0 or 1. A leaf's ``id`` numbers leaves
in the order they were made (engine.replay tells a graph's own constants by it).

>>> from engine import Value
>>> w = Value(3.0, kind="param")
>>> y = w * w
>>> y.backward(); y.backward()
>>> (w.kind, w.passes), (y.kind, y.passes)
(('param', 2), ('op', 1))
"""

from __future__ import annotations

import itertools

from .args import is_int, type_name

__all__ = ["NOT_COMPUTED", "KINDS", "leaf_kind", "leaf_label", "fill_leaf", "leaf_class", "LeafParts", "NodeParts"]

# A gradient no backward pass has reached yet. It is 0.0, so a pass can add to
# it, but an object of its own, so that a drawing can tell "not computed" from 0.
NOT_COMPUTED = float("0.0")

KINDS = ("input", "param", "const")


def leaf_kind(kind) -> str:
    """``kind`` if a leaf can be of it, else a ValueError naming the three."""
    if kind not in KINDS:
        raise ValueError(f"a leaf's kind is 'input', 'param' or 'const', got {kind!r}")
    return kind


_ids = itertools.count()  # leaves are numbered as they are made (Leaf.id)


def leaf_label(label) -> str:
    """``label`` if it is a str, else a TypeError."""
    if not isinstance(label, str):
        raise TypeError(f"Value label must be a str, got {type_name(label)}")
    return label


def fill_leaf(v, data, label, kind):
    """Fill in a new leaf ``v``: no rule, no inputs; no passes yet; the next id."""
    v.data = data
    v.grad = NOT_COMPUTED
    v.label = label
    v.rule = None
    v._kind = kind
    v._passes = 0
    v.id = next(_ids)
    return v


def leaf_class(cls, data):
    """``cls``, when ``Value.__new__`` may make one of it: a leaf class, or any class with no data (copy, pickle)."""
    if issubclass(cls, LeafParts) or data is None:
        return cls
    if issubclass(cls, NodeParts):
        raise TypeError("Node: operators make nodes (x * w, x.relu()); Value(2.0) makes a leaf")
    raise TypeError(f"{cls.__name__}: to make leaves of your own, subclass engine.Leaf, not Value")


def _passes(n, most=None) -> int:
    if not is_int(n) or n < 0 or (most is not None and n > most):
        raise ValueError(f"passes must be an int >= 0 (0 or 1 for a computed node), got {n!r}")
    return int(n)


class LeafParts:
    """A leaf's ``kind`` and ``passes``, held in its slots ``_kind`` and ``_passes``."""

    __slots__ = ()

    @property
    def kind(self) -> str:
        """'input', 'param' or 'const'; assign one to change it."""
        return self._kind

    @kind.setter
    def kind(self, kind):
        self._kind = leaf_kind(kind)

    @property
    def passes(self) -> int:
        """The backward passes summed in ``grad`` since the leaf was made or zeroed."""
        return self._passes

    @passes.setter
    def passes(self, n):
        self._passes = _passes(n)


class NodeParts:
    """A node's ``kind``, always 'op', and ``passes``, read from whether its grad was computed."""

    __slots__ = ()

    @property
    def kind(self) -> str:
        """Always 'op' (a leaf's is 'input', 'param' or 'const')."""
        return "op"

    @kind.setter
    def kind(self, kind):
        raise ValueError("only a leaf's kind can be set, to 'input', 'param' or 'const'; not a computed node's")

    @property
    def passes(self) -> int:
        """1 once a backward pass reached this node, else 0 (it shows the latest pass only)."""
        return 0 if self.grad is NOT_COMPUTED else 1

    @passes.setter
    def passes(self, n):
        if _passes(n, most=1) == 0:
            self.grad = NOT_COMPUTED
        elif self.grad is NOT_COMPUTED:
            self.grad = 0.0
