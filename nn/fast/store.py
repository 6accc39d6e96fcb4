"""The parameters as arrays while ``fit`` trains: a step touches no Value.

>>> from engine import Value
>>> w = Value(1.0, "w", kind="param")
>>> store = Store([w])
>>> store.add([w], np.array([0.5])); store.data[0] = 0.75
>>> store.write_back(); w.data, w.grad, w.passes
(0.75, 0.5, 0)
"""

from __future__ import annotations

import operator

import numpy as np

from engine.fast import write_leaves

__all__ = ["Store"]

_DATA = operator.attrgetter("data")


class Store:
    """Parameters' values and gradients as arrays while ``fit`` trains.

    ``values[:held]`` are the optimizer's parameters, in its order: their
    gradients start each step at 0 (``zero``), as its ``zero_grad`` would
    make them. Other leaves a replay reads (a frozen weight) follow, found as
    they come; their gradients add up over the steps, as ``.grad`` does.
    ``write_back`` hands everything to the Values.

    >>> from engine import Value
    >>> a, b = Value(1.0, kind="param"), Value(2.0, kind="const")
    >>> store = Store([a])
    >>> store.take([b, a]).tolist()
    [2.0, 1.0]
    >>> store.add([a, b], np.array([0.5, 3.0])); store.data[0] = 0.75
    >>> store.write_back(); a.data, a.grad, b.grad
    (0.75, 0.5, 3.0)
    """

    def __init__(self, values):
        self.source = values  # the list it was made from: a replay that asks with it needs no lookups
        self.values = list(values)
        self.held = len(self.values)
        self.at = None  # Value -> position, made the first time a list other than the optimizer's asks
        self.data = np.fromiter(map(_DATA, self.values), dtype=float, count=len(self.values))
        self.grad = np.zeros(len(self.values))
        self._rows = {}  # id(list of Values) -> (that list, its rows, whether distinct): replays ask with the same lists
        self.fresh = False  # every gradient of the optimizer's parameters is 0: zero() has run, nothing added since

    def rows(self, values):
        """Where these Values live in ``data``/``grad``: an index array, or a slice for the optimizer's own list.

        A leaf seen for the first time is added.
        """
        got = self._rows.get(id(values))
        if got is None and (values is self.source or not values
                            or len(values) == self.held and all(map(operator.is_, values, self.values))):
            # The optimizer's own list again (the usual case), or none: no lookups, and a
            # slice, so that reading the parameters every step copies nothing.
            got = self._rows[id(values)] = (values, slice(0, len(values)), True)
        if got is None or got[0] is not values:
            if self.at is None:
                self.at = dict(zip(self.values, range(len(self.values))))
            new = [v for v in dict.fromkeys(values) if v not in self.at]
            if new:
                self.at.update(zip(new, range(len(self.values), len(self.values) + len(new))))
                self.values += new
                self.data = np.concatenate([self.data, [v.data for v in new]])
                self.grad = np.concatenate([self.grad, np.zeros(len(new))])
            rows = np.fromiter(map(self.at.__getitem__, values), dtype=np.intp, count=len(values))
            got = self._rows[id(values)] = (values, rows, not len(rows) or np.bincount(rows).max() == 1)
        return got[1]

    def take(self, values) -> np.ndarray:
        """The Values' data; for the optimizer's own list a view of ``data`` (read it, do not write it)."""
        rows = self.rows(values)  # first: it may grow the arrays
        return self.data[rows]

    def add(self, values, grads):
        rows = self.rows(values)
        self.fresh = False
        if self._rows[id(values)][2]:
            self.grad[rows] += grads
        else:
            np.add.at(self.grad, rows, grads)  # a Value listed twice gets both

    def zero(self):
        self.grad[: self.held] = 0.0
        self.fresh = True

    def publish(self):
        """The values into the Values' ``.data`` (for code that reads them mid-fit)."""
        for v, x in zip(self.values[: self.held], self.data[: self.held].tolist()):
            v.data = x

    def write_back(self):
        """Values and gradients into the Values: the optimizer's as after zero_grad and one backward."""
        mine = self.values if self.held == len(self.values) else self.values[: self.held]  # no copy, usually
        write_leaves(mine, self.data[: self.held].tolist(), self.grad[: self.held].tolist())
        for v, g in zip(self.values[self.held :], self.grad[self.held :].tolist()):
            v.grad += g
        self.grad[self.held :] = 0.0  # handed over: a second write_back adds nothing twice
