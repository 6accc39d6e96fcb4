"""Which nodes belong together in a drawing: neurons by parameter name, and the boxes a big graph folds into.

``groups(order)`` reads parameter names like ``layer1.neuron3.w2``;
``Folding`` decides which nodes a drawing shows one by one and which fold
into one box per neuron, per layer or per long chain of one op.

>>> parent("layer1.neuron3"), parent("loss")
('layer1', 'loss')
"""

from __future__ import annotations

import re
from collections import deque

__all__ = ["groups", "parent", "natural", "Folding"]


def parent(name: str) -> str:
    """The name one level up: a neuron's layer (``layer1.neuron3`` -> ``layer1``)."""
    return name.rsplit(".", 1)[0] if "." in name else name


def groups(order: list) -> dict:
    """Which neuron each node belongs to, from parameter names like ``layer1.neuron3.w2``.

    A parameter belongs to its name's prefix (``layer1.neuron3``); an op node
    joins the group of a parameter it reads directly, or the group all of its
    inputs share. Inputs, constants and the loss stay outside.

    >>> from engine import Value
    >>> w, b, x = Value(1.0, "n1.w1", kind="param"), Value(0.5, "n1.b", kind="param"), Value(2.0, "x1")
    >>> y = (b + w * x).relu()
    >>> loss = (y - 1.0) ** 2
    >>> sorted({g for g in groups(loss.topo()).values()}), len(groups(loss.topo()))
    (['n1'], 5)
    """
    owner = {}
    # Terms that read parameters alone (p*p of an L2 penalty) and their sums: such a
    # sum is the penalty's, not a neuron's, even when its first terms share a neuron.
    penalty = set()
    for v in order:
        if v.rule is None:
            if v.kind == "param" and "." in v.label:
                owner[v] = parent(v.label)
            continue
        ins = v.inputs
        if all((x.rule is None and x.kind == "param") or x in penalty for x in ins):
            penalty.add(v)
        found = None
        for x in ins:
            if x.rule is None and x in owner:
                found = owner[x]
                break
        if found is None and not all(x in penalty for x in ins):
            first = owner.get(ins[0])
            if first is not None and all(owner.get(x) == first for x in ins):
                found = first
        if found is not None:
            owner[v] = found
    return owner


def natural(key: str):
    """A sort key that puts layer2 before layer10 and neuron9 before neuron11.

    >>> sorted(["layer1.neuron11", "layer1.neuron2", "layer10", "layer2"], key=natural)
    ['layer1.neuron2', 'layer1.neuron11', 'layer2', 'layer10']
    """
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", key) if part]


class Folding:
    """Which nodes a drawing folds into boxes, and the note that says so.

    ``unit`` maps each folded node to its box's key (a neuron ``layer1.neuron3``,
    a layer ``layer1``, ``"+ chain 1"`` for a long run of one op, or ``"earlier
    nodes"``); ``note`` says what was folded ("" when every node is drawn);
    ``chains`` holds the keys of the chain boxes. ``collapse`` is as ``draw``
    takes it: None folds only above ``max_nodes``.

    >>> from engine import Value
    >>> x = Value(1.0, "x")
    >>> y = x + 1 + 2 + 3 + 4
    >>> f = Folding(y.topo(), y, {}, None, 8)  # 9 nodes: above 8, so folded
    >>> len(f.unit), f.chains, f.drawn()
    (3, {'+ chain 1'}, 7)
    """

    def __init__(self, order, root, owner, collapse, max_nodes):
        self.order, self.root, self.owner = order, root, owner
        self.collapse, self.max_nodes = collapse, max_nodes
        self.chains = set()
        self.unit, self.note = self.units()

    def units(self):
        # node -> box key for folded nodes; the note saying what was folded.
        n, auto = len(self.order), self.collapse is None
        if self.collapse is False or (auto and n <= self.max_nodes):
            return {}, ""
        level = self.collapse or "neuron"
        if self.owner:
            unit = self.fold(level)
            if auto and level == "neuron" and self.drawn(unit) > self.max_nodes:
                level, unit = "layer", self.fold("layer")
            chains = len(self.chains)
            note = f"{n:,} nodes: drawn as {len(set(unit.values())):,} boxes, one per {level}" + (
                f" and {chains} for long chains of one op" if chains else ""
            )
        else:
            unit = self.fold_chains({})
            note = f"{n:,} nodes: no parameter names like layer1.neuron3.w2 to group by; long chains folded"
        if auto and self.drawn(unit) > self.max_nodes:
            unit = self.truncate()
            note = f"{n:,} nodes: the {self.drawn(unit) - 1:,} nearest the output are drawn, the rest folded into one box"
        if auto:
            note += " (draw(..., collapse=False) draws every node)"
        return unit, note

    def fold(self, level):
        unit = {v: (g if level == "neuron" else parent(g)) for v, g in self.owner.items() if v is not self.root}
        # A constant read only inside one box belongs to it.
        users = {}
        for v in self.order:
            for x in v.inputs:
                if x.kind == "const":
                    users.setdefault(x, set()).add(unit.get(v))
        for x, us in users.items():
            if len(us) == 1 and None not in us:
                unit[x] = next(iter(us))
        return self.fold_chains(unit)

    def fold_chains(self, unit):
        # Long runs of one op outside any neuron (the sum of an L2 penalty over
        # every weight, a mean over samples) fold into one box each.
        readers = {}
        for v in self.order:
            for x in v.inputs:
                readers[x] = readers.get(x, 0) + 1
        prev, has_next = {}, set()
        for v in self.order:
            if v in unit or v.rule is None:
                continue
            for x in v.inputs:
                if x.rule is v.rule and x not in unit and readers[x] == 1 and x not in has_next:
                    prev[v] = x
                    has_next.add(x)
                    break
        count = 0
        for v in reversed(self.order):
            if v not in prev or v in has_next:
                continue
            chain = [v]
            while chain[-1] in prev:
                chain.append(prev[chain[-1]])
            if len(chain) >= 3:
                count += 1
                key = f"{v.rule.symbol} chain {count}"
                self.chains.add(key)
                for x in chain:
                    if x is not self.root:
                        unit[x] = key
        return unit

    def drawn(self, unit=None):
        """How many nodes and boxes are drawn (with ``unit``, or this folding's own)."""
        unit = self.unit if unit is None else unit
        return len(self.order) - len(unit) + len(set(unit.values()))

    def truncate(self):
        # Keep the nodes nearest the output (breadth-first from the root), fold the rest.
        keep, queue = {self.root}, deque([self.root])
        budget = self.max_nodes - 1
        while queue and len(keep) < budget:
            v = queue.popleft()
            for x in v.inputs:
                if x not in keep and len(keep) < budget:
                    keep.add(x)
                    queue.append(x)
        return {v: "earlier nodes" for v in self.order if v not in keep}
