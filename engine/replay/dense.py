"""Dense layers whose weights are leaf Values, run on whole batches: the replay's front end.

A layer of neurons ``act(b_i + Σ_j w_ij·x_j)`` is known before anything is
recorded when the model says so (``nn``'s MLP does): its weights are a matrix
of leaf Values and its activation a row of the op table. ``Dense`` runs such a
stack as ``H = act(H_prev @ Wᵀ + b)``, one matrix product per layer, forward
and backward, reading the weights from an array of the leaves' values. Only
what follows the stack (the loss) is recorded, which makes recording cost a
few nodes instead of two per weight. Samples are rows here.

Two ReLU neurons over two inputs, each neuron's weights then its bias (as
``nn``'s ``parameters()`` lists them):

>>> from engine import Value
>>> leaves = [Value(x) for x in (1.0, -1.0, 0.0, 0.5, 2.0, -1.0)]
>>> stack = Dense(leaves, [([[0, 1], [3, 4]], [2, 5], "relu")])
>>> data = stack.values()                    # the leaves' .data
>>> stack.forward(np.array([[1.0, 2.0], [3.0, 1.0]]), data).tolist()
[[0.0, 3.5], [2.0, 2.5]]
>>> stack.backward(np.ones((2, 2))).tolist()  # d(sum of the outputs)/d leaf, summed over the samples
[3.0, 1.0, 1.0, 4.0, 3.0, 2.0]
"""

from __future__ import annotations

import operator

import numpy as np

from ..ops import OPS

__all__ = ["Dense"]

_OP = operator.attrgetter("rule")


class Dense:
    """``leaves``: the weights and biases, leaf Values; ``layers``: ``(W, b, act)`` per layer, first to last.

    ``W`` is an integer array, one row per neuron and one column per input,
    saying which leaf each weight is; ``b`` likewise for the biases, or None;
    ``act`` the name of a unary op of the table, ``(name, arg)`` for one with
    a constant (leaky_relu's alpha), or None (linear). A Value listed twice
    in ``leaves`` (a shared weight) gets a gradient in each place: whoever
    adds them into ``.grad`` adds both.
    """

    def __init__(self, leaves, layers, *, checked=False):
        # A list is kept, not copied. ``checked``: the caller knows every one
        # is a leaf (an optimizer's parameters, whose kind "param" a computed
        # Value cannot have); the pass over 66,817 Values costs 1.5 ms.
        self.leaves = leaves if type(leaves) is list else list(leaves)
        if not checked and any(map(_OP, self.leaves)):
            computed = next(v for v in self.leaves if v.rule is not None)
            raise TypeError(f"Dense: a weight must be a leaf Value, got the result of {computed.rule.name} ({computed!r})")
        self.layers, width = [], None
        for n, (W, b, act) in enumerate(layers, 1):
            W = np.asarray(W, dtype=np.intp)
            if W.ndim != 2 or not W.size or (width is not None and W.shape[1] != width):
                raise ValueError(f"Dense: layer {n} needs a (neurons × {width or 'inputs'}) array of weights")
            b = None if b is None else np.asarray(b, dtype=np.intp)
            if b is not None and b.shape != (len(W),):
                raise ValueError(f"Dense: layer {n} has {len(W)} neurons but {len(b)} biases")
            for ix in (W, b):
                if ix is not None and not (0 <= ix.min() and ix.max() < len(self.leaves)):
                    raise ValueError(f"Dense: layer {n} names a leaf outside 0..{len(self.leaves) - 1}")
            name, arg = act if isinstance(act, tuple) else (act, None)
            op = OPS.get(name) if name is not None else None
            if name is not None and (op is None or op.arity != 1):
                raise ValueError(f"Dense: the activation of layer {n} must be a unary op of the table, got {act!r}")
            self.layers.append((W, b, op, arg))
            width = len(W)
        used = np.concatenate([ix.ravel() for W, b, _, _ in self.layers for ix in (W, b) if ix is not None])
        if np.bincount(used).max() > 1:
            raise ValueError("Dense: a position of leaves is used twice; list a shared Value once per place")
        self.nin, self.nout = self.layers[0][0].shape[1], width
        self._kept = None

    def values(self):
        """The leaves' ``.data`` as an array (what ``forward`` reads)."""
        return np.array([v.data for v in self.leaves], dtype=float)

    def forward(self, X, data):
        """The last layer's outputs for every row of X (samples × inputs), with the leaves' values ``data``."""
        H, kept = np.asarray(X, dtype=float), []
        with np.errstate(all="ignore"):  # checked below, once per layer, with the sample named
            for n, (Wi, bi, op, arg) in enumerate(self.layers, 1):
                W = data[Wi]
                Z = H @ W.T
                if bi is not None:
                    Z += data[bi]
                if not np.isfinite(Z).all():
                    s, j = np.argwhere(~np.isfinite(Z))[0]
                    raise OverflowError(
                        f"sample {s}: add: the weighted sum of neuron {j + 1} of layer {n} ({len(W)} neurons over "
                        f"{W.shape[1]} inputs) overflows a float (inputs up to {np.abs(H[s]).max():.3g}, weights up "
                        f"to {np.abs(W[j]).max():.3g})")
                out = Z if op is None else op.vf(Z, arg)
                kept.append((H, W, Z, out))
                H = out
        self._kept = kept
        return H

    def backward(self, G):
        """Gradients of the leaves (``leaves`` order), given d(loss)/d(outputs) G for the last forward's samples."""
        if self._kept is None:
            raise RuntimeError("Dense.backward: run forward first")
        grads = np.zeros(len(self.leaves))
        with np.errstate(all="ignore"):
            for n in range(len(self.layers) - 1, -1, -1):
                (Wi, bi, op, arg), (H, W, Z, out) = self.layers[n], self._kept[n]
                if op is not None:
                    G = G * op.vd(Z, out, arg)[0]
                grads[Wi] += G.T @ H  # positions never repeat (a shared Value is listed once per place)
                if bi is not None:
                    grads[bi] += G.sum(axis=0)
                if n:
                    G = G @ W
        if not np.isfinite(grads).all():
            raise OverflowError("backward: a weight's gradient (summed over the samples) is past the range of a "
                                "float; no gradient was changed")
        return grads
