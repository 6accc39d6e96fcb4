"""Known layers run straight on a ``Store``'s arrays: weights read as views, gradients written in place.

``engine.replay.Dense`` names every weight by its position in a list of
leaves, so each step gathers the weights out of the parameters' array
(``data[W]``) and scatters their gradients back (``grads[W] += ...``): at
width 256 that is 66,817 indexed reads and writes a step, about as long as
the matrix products themselves at n = 100. nn lays a layer's parameters out
neuron by neuron, k weights then the bias, so in the ``Store``'s array a
layer is a block of shape (neurons, k + 1): its weights are the view
``block[:, :k]`` and its biases ``block[:, k]``, read and written without a
copy. ``Views`` does ``Dense.forward`` and ``Dense.backward`` on those views,
the same operations on the same numbers in the same order (the matrix
products only see another row stride, and write the weights' gradients
straight into the store), so the results are the same bits.

It is made only when every layer is laid out that way in the store (``of``
returns None otherwise, and ``Dense`` does the work). Errors are ``Dense``'s
own, and no gradient is left added when one is raised: a forward pass past
float's range (in any layer: every layer's sums are checked) is run again by
``Dense``, which names the sample; a gradient past it puts the layers'
gradients back to 0 and raises ``Dense.backward``'s words.

>>> from nn import MLP
>>> from nn.fast import Store
>>> from engine.replay import Dense
>>> model = MLP(2, [3, 1], seed=0)
>>> params = model.parameters()
>>> dense, store = Dense(*model._dense(params)), Store(params)
>>> views = Views.of(dense, store, params)
>>> X = np.array([[0.5, -1.0], [2.0, 0.25]])
>>> bool((views.forward(X) == dense.forward(X, dense.values())).all())
True
>>> G = np.array([[1.0], [-0.5]])
>>> store.zero(); views.backward(G); bool((store.grad == dense.backward(G)).all())
True
"""

from __future__ import annotations

import numpy as np

from ..optim import finite

__all__ = ["Views", "finite"]

_SUM = np.add.reduce
_MATMUL = np.matmul  # one name, so that a test can stand in for a BLAS that gives −0.0


def _block(ix, b, start):
    # (neurons, k) weights and their biases as nn lays them out from ``start``: row j is
    # start + (k + 1)·j + (0..k−1), its bias start + (k + 1)·j + k.
    m, k = ix.shape
    first = start + (k + 1) * np.arange(m)
    return b is not None and np.array_equal(ix, first[:, None] + np.arange(k)) and np.array_equal(b, first + k)


class Views:
    """``Dense``'s forward and backward on a ``Store``'s arrays, for layers laid out as nn lays them."""

    def __init__(self, dense, store, spans):
        self.dense, self.store, self.spans = dense, store, spans  # spans: (start, neurons, k, op, arg) per layer
        self.end = spans[-1][0] + spans[-1][1] * (spans[-1][2] + 1)  # the layers fill grad[:end], one after another
        self.hidden = sum(m for _, m, _, _, _ in spans[:-1])  # a sample's weighted sums before the last layer
        self._sums = (0, np.empty(0), [])  # (samples, the hidden layers' sums, one (samples × neurons) view each)
        self._room_for = np.empty(0)  # the array they are kept in, for the most samples so far
        self._bind()

    @classmethod
    def of(cls, dense, store, params):
        """Views of ``dense``'s layers in ``store``, or None when they are not laid out as nn lays them.

        ``params`` must be the store's own list (rows 0..held−1) and ``dense``'s leaves.
        """
        if dense is None or store is None or dense.leaves is not params or len(params) != store.held:
            return None
        rows = store.rows(params)
        if not (isinstance(rows, slice) and rows.start == 0 and rows.stop == store.held):
            return None
        spans, at = [], 0
        for W, b, op, arg in dense.layers:
            if not _block(W, b, at):  # one block after another from 0: the gradients fill grad[:end]
                return None
            spans.append((at, W.shape[0], W.shape[1], op, arg))
            at += W.size + len(b)
        return cls(dense, store, spans)

    def _bind(self):
        # The views, made again if the store's arrays were replaced (a new leaf concatenated).
        data, grad = self.store.data, self.store.grad
        self._arrays = data, grad
        self.flat = data[: self.store.held], grad[: self.store.held]  # the optimizer's parameters, values and gradients
        self.layers, self.grads = [], []
        for start, m, k, op, arg in self.spans:
            block = data[start : start + m * (k + 1)].reshape(m, k + 1)
            gblock = grad[start : start + m * (k + 1)].reshape(m, k + 1)
            self.layers.append((block[:, :k], block[:, :k].T, block[:, k], op, arg))
            self.grads.append((gblock[:, :k], gblock[:, k]))
        self._kept = None

    def forward(self, X):
        """The last layer's outputs for every row of X, with the store's values (``Dense.forward``)."""
        with np.errstate(all="ignore"):  # checked, with the sample named
            return self.run(X)

    def run(self, X):
        # forward's work, under the caller's np.errstate(all="ignore"). The hidden layers' weighted sums
        # go into one array kept from step to step (read only until the next forward pass: no new array,
        # no fresh pages a step), the last layer's into a new one (the outputs the caller keeps); both
        # are checked once, at the end: a sum past float's range in any layer (which an activation may
        # hide: ReLU makes −inf 0) sends the batch to ``Dense``, which names the sample.
        if self._arrays[0] is not self.store.data or self._arrays[1] is not self.store.grad:
            self._bind()
        H, kept = np.asarray(X, dtype=float), []
        n, sums, into = self._sums if self._sums[0] == len(H) else self._room(len(H))
        for W, WT, b, op, arg in self.layers:
            Z = _MATMUL(H, WT, out=into[len(kept)]) if len(kept) < len(into) else H @ WT  # H @ W.T
            Z += b
            out = Z if op is None else op.vf(Z, arg)
            kept.append((H, W, Z, out))
            H = out
        if not (finite(Z) and (not self.hidden or finite(sums))):
            self._kept = None
            return self.dense.forward(X, self.store.data[: self.store.held])  # raises, naming the sample
        self._kept = kept
        return H

    def _room(self, n):
        # The hidden layers' sums for n samples, in the array kept for them (made bigger when n is).
        if len(self._room_for) < n * self.hidden:
            self._room_for = np.empty(n * self.hidden)
        sums, into, at = self._room_for[: n * self.hidden], [], 0
        for _, m, _, _, _ in self.spans[:-1]:
            into.append(sums[at : at + n * m].reshape(n, m))
            at += n * m
        self._sums = n, sums, into
        return self._sums

    def write(self, G) -> bool:
        """``Dense.backward`` given d(loss)/d(outputs) G, into the store's ``grad``, whose gradients must all be 0.

        Run under np.errstate(all="ignore"). Returns whether every gradient is finite; if not,
        ``clear`` and ``overflow`` are next (``backward`` does both).

        The weights' gradients are written by their matrix products straight into the store (no array
        of them, no add), then the whole block gets + 0.0, which is what 0 + g gave: −0.0 becomes 0.0,
        every other number is left as it is. The biases' sums are added, as before.
        """
        if self._kept is None:
            raise RuntimeError("Views.write: run forward first")
        for n in range(len(self.layers) - 1, -1, -1):
            (_, _, _, op, arg), (H, W, Z, out), (into_w, into_b) = self.layers[n], self._kept[n], self.grads[n]
            if op is not None:
                G = G * op.vd(Z, out, arg)[0]
            _MATMUL(G.T, H, out=into_w)
            into_b += _SUM(G, axis=0)  # G.sum(axis=0), without the method's dispatch (into a strided
            # view, a sum's out= is slower than this add: 2x at 1,000 × 256)
            if n:
                G = G @ W
        block = self.store.grad[: self.end]
        block += 0.0
        self.store.fresh = False
        return finite(block)  # one check of the whole block instead of one per layer

    @staticmethod
    def overflow():
        return OverflowError("backward: a weight's gradient (summed over the samples) is past the range of a "
                             "float; no gradient was changed")

    def clear(self):
        """Put the layers' gradients back to 0, as ``write`` found them."""
        self.store.grad[: self.end] = 0.0
        self.store.fresh = True

    def backward(self, G):
        """``write``, into a store whose gradients are all 0; all or none: a gradient past float's range puts
        every one back to 0 and raises ``Dense``'s error."""
        if not self.store.fresh:
            raise RuntimeError("Views.backward: the store's gradients are not all 0 (Store.zero() first)")
        with np.errstate(all="ignore"):
            if not self.write(G):
                self.clear()
                raise self.overflow()
