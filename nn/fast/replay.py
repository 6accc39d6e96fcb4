"""``fit``'s fast path: one sample's graph recorded once and replayed over every batch.

``Replay`` does ``batch_loss``'s work with ``engine.replay``. A model whose
layers are known (an ``MLP``, a ``Layer`` or a ``Neuron`` with a named
activation, as this package builds them) runs its layers as matrix products
(``engine.replay.dense``). Under one of nn's own losses nothing is recorded at all
(the loss's array twin, ``vterm``, gives its terms and gradients); under
another loss only the loss is. Any other model is recorded node by node.
``Store`` (nn/fast/store.py) keeps the parameters' values and gradients as
arrays while ``fit`` trains, so that a step touches no Value; the Values get
them back when ``fit`` returns (or stops on an error).

>>> from nn import MLP, SGD, get_loss
>>> from nn.data import moons
>>> X, y = moons(50, seed=0)
>>> model = MLP(2, [8, 1], seed=0)
>>> replay = Replay(model, get_loss("bce_with_logits"), None)
>>> replay.dense is not None, replay.tape    # an MLP under nn's loss: matrix products, nothing recorded
(True, None)
>>> r = replay(model, replay.loss, X, y, None)   # what batch_loss(...) gives, gradients in .grad
>>> round(r.loss, 6) == round(float(get_loss("bce_with_logits")(
...     [model(x) for x in X.tolist()], y.tolist()).data), 6)
True
"""

from __future__ import annotations

import math
from typing import Callable, NamedTuple

import numpy as np

from engine import Value
from engine.replay import ReplayError, trace
from engine.replay import Dense

from ..losses import Loss, own_vterm
from ..module import Module
from .views import Views, finite

_SUM = np.add.reduce

__all__ = ["Replay", "Outputs", "BatchResult"]


class BatchResult(NamedTuple):
    """What one batch gives back to the loop: plain numbers, no graph."""

    loss: float  # the data loss (mean over the batch), without the penalty
    scores: np.ndarray  # raw model outputs, shape (batch, outputs)


def _outs(out) -> list:
    # One sample's output as a list (a model may return a bare Value).
    return [out] if isinstance(out, Value) else list(out)


class Replay:
    """``batch_loss``'s work done by ``engine.replay``: the graph recorded once, replayed over each batch.

    One sample's loss term is recorded with placeholders for the inputs (or,
    when the model's layers are known, for its outputs: ``dense``) and the
    target; known layers under one of nn's losses record nothing (``vterm``,
    the loss's array twin). ``penalty``'s L1/L2 gradient is added in bulk,
    another ``reg`` is recorded with the term. A loss whose target must be a plain number
    (softmax_cross_entropy picks an output with it) gets, for up to
    ``most_mixed`` distinct targets, one recording whose target is a one-hot
    row, else one recording per target value, each replayed over the samples
    with that target. Batches go in chunks of ``chunk`` samples. Gradients
    equal ``batch_loss``'s up to rounding; it is what ``fit`` uses with
    ``batched=True`` (or "auto"). With a ``store`` it reads and writes arrays
    instead of the Values.

    >>> from nn import Neuron, get_loss
    >>> n = Neuron(1, activation="linear", seed=0); n.w[0].data = 2.0
    >>> r = Replay(n, get_loss("mse"), None)(n, get_loss("mse"), np.array([[1.0], [2.0]]), np.array([1.0, 5.0]), None)
    >>> r.loss, r.scores.tolist(), n.w[0].grad
    (1.0, [[2.0], [4.0]], -1.0)
    """

    most_mixed = 16  # up to this many distinct targets share one recording (one-hot rows)
    most_targets = 64  # more distinct targets than this are not recorded one by one
    chunk = 8192  # samples replayed at once: about 25 kB per neuron of the model

    def __init__(self, model: Module, loss: Loss, reg: Callable | None, *, lower=True, params=None, checked=False):
        self.model, self.loss, self.reg = model, loss, reg
        # ``penalty``'s λ1·Σ|p| + λ2·Σp² is the same for every sample: its
        # gradient, λ1·sign(p) + 2λ2·p, is added in bulk once per batch
        # instead of recording two nodes per parameter into every replay.
        self.bulk = reg is not None and hasattr(reg, "l1") and hasattr(reg, "l2")
        # ``params``: model.parameters(), when the caller has the list already;
        # ``checked``: they are known to be leaves (the optimizer's own list).
        lowered = model._dense(params) if lower and (reg is None or self.bulk) else None
        self.dense = Dense(*lowered, checked=checked) if lowered else None
        self.params = self.dense.leaves if self.dense else params if params is not None else model.parameters()
        self.store = None  # set by fit: values and gradients live there while it trains
        self._views = None  # the known layers as views of the store's arrays (``Views``), made for its store
        # One of nn's own losses on known layers is not recorded either: its
        # array twin gives the same terms and gradients (nn.losses.vterm).
        self.vterm = own_vterm(loss) if self.dense is not None else None
        self.tape = None if self.vterm else self._trace(self._sample, has_aux=True)
        self.by_target = None  # {target: tape} once the target is known not to be a placeholder
        self.mixed = None  # or one tape for a few targets, each sample's target a one-hot row over
        self.targets = None  # ... these target values (an array), as the loss reads them (a list)

    def _trace(self, fn, **kw):
        # With dense layers the recording starts at the model's outputs, whose
        # gradients (argument 0) go back through the layers.
        tape = trace(fn, params=() if self.dense else self.params, argnums=(0,) if self.dense else (), **kw)
        tape.read = self._read
        return tape

    def _read(self, values):
        if self.store is not None:
            return self.store.take(values)
        return np.array([v.data for v in values], dtype=float)

    def _sample(self, x, t):
        return self._recorded(x, lambda outs: self.loss.term(outs, t))

    def _recorded(self, x, term_of):
        # ``(total, [term, *outputs])`` of one sample; x is the model's input,
        # or its outputs with dense layers. The bulk penalty is not recorded
        # (``_replay`` adds its gradient once per batch).
        outs = x if self.dense is not None else _outs(self.model(x))
        term = term_of(outs)
        total = term + self.reg(self.model) if self.reg is not None and not self.bulk else term
        return total, [term, *outs]

    def _tape_for(self, target):
        if target not in self.by_target:
            t = self.loss.check(target, 0)
            self.by_target[target] = self._trace(lambda x: self._sample(x, t), has_aux=True, reduce="sum")
        return self.by_target[target]

    def _mixed_sample(self, x, onehot):
        # Σ_k onehot_k · term(out, target_k): with a one-hot row, exactly the
        # term of the sample's own target (adding zeros changes no bit, and
        # the other targets' terms get a gradient of exactly 0), so one
        # recording of the model serves every target.
        def term(outs):
            parts = [h * self.loss.term(outs, t) for h, t in zip(onehot, self.targets[1])]
            return sum(parts[1:], parts[0])

        return self._recorded(x, term)

    def _onehot(self, y):
        targets = self.targets[0]
        onehot = (y[:, None] == targets[None, :]).astype(float)
        if not onehot.any(axis=1).all():
            raise ReplayError(f"{self.loss.name}: a target outside the {len(targets)} recorded ones")
        return onehot

    def _split(self, y):
        targets = _distinct(y)
        if len(targets) > self.most_targets:
            raise ReplayError(f"{self.loss.name}: the target cannot be a placeholder and there are "
                              f"{len(targets)} distinct targets, more than {self.most_targets} recordings")
        return [(self._tape_for(t.item()), np.flatnonzero(y == t)) for t in targets]

    def _front(self, X):
        # What the tapes read: the inputs, or the dense layers' outputs.
        if self.dense is None:
            return X
        self._width(X)
        return self.dense.forward(X, self._read(self.params))

    def _width(self, X):
        if X.shape[1] != self.dense.nin:
            raise ValueError(f"{self.model!r} expects {self.dense.nin} inputs per sample, got {X.shape[1]}")

    def check(self, X, y, samples=32):
        """Record, compile and verify now, on up to ``samples`` samples spread over (X, y); ReplayError says why not.

        The recording itself refuses Python control flow on the inputs and the
        parameters (``engine.replay.record``); with one recording per target, every
        target of y is recorded here, so training never meets a new one. Known
        layers under one of nn's losses record nothing: only X's width is checked.
        """
        if self.vterm is not None:
            return self._width(X)  # nothing recorded, nothing to verify: the first batch computes as eager would
        rows = _spread(len(y), samples)
        Z = self._front(X[rows])
        if self.by_target is None:
            try:
                return self.tape.forward(Z, y[rows])
            except (ReplayError, TypeError):
                self.by_target = {}
        targets = _distinct(y)
        if len(targets) <= self.most_mixed:
            self.targets = targets, [self.loss.check(t, 0) for t in targets.tolist()]
            self.mixed = self._trace(self._mixed_sample, has_aux=True)
            return self.mixed.forward(Z, self._onehot(y[rows]))
        for tape, rows in self._split(y):
            rows = rows[_spread(len(rows), samples)]
            tape.forward(self._front(X[rows]))

    def _replay(self, X, y, backward):
        # Rows of [term, *outputs] per sample, and with ``backward`` the
        # gradients of the mean term (and the bulk penalty's) as parts
        # (leaves, gradients). Big batches go in chunks, so memory stays
        # bounded however many samples there are; every chunk's gradients are
        # computed before any is added (all or nothing).
        n, auxes, parts = len(y), [], []
        chunk = self._chunk if self.vterm is None else self._twin
        for lo in range(0, n, self.chunk):
            aux, got = chunk(X[lo : lo + self.chunk], y[lo : lo + self.chunk], backward, n, lo)
            auxes.append(aux)
            parts += got
        if backward and self.bulk:
            parts.append((self.params, self._penalty()))
        return (auxes[0] if len(auxes) == 1 else np.concatenate(auxes)), parts

    def _twin(self, X, y, backward, n, first):
        # _chunk's work with the loss's array twin: no tape at all.
        Z = self._front(X)
        with np.errstate(all="ignore"):  # checked below, with the sample named
            terms, G = self.vterm(Z, y, 1.0 / n)
        if not (np.isfinite(terms).all() and np.isfinite(G).all()):
            self._explain(Z, y, terms, G, first)
        aux = np.empty((len(y), 1 + Z.shape[1]))
        aux[:, 0], aux[:, 1:] = terms, Z
        return aux, [(self.params, self.dense.backward(G))] if backward else []

    def _explain(self, Z, y, terms, G, first):
        # A term or gradient past float's range: the eager term says it, in its words, at that sample.
        s = int(np.argmax(~(np.isfinite(terms) & np.isfinite(G).all(axis=1))))
        try:
            self.loss.term([Value(x) for x in Z[s].tolist()], self.loss.check(y[s].item(), s)).backward()
        except (ArithmeticError, ValueError) as e:
            raise type(e)(f"sample {first + s}: {e}") from None
        raise OverflowError(f"sample {first + s}: the gradient of the {self.loss.name} loss for outputs "
                            f"{Z[s].tolist()!r:.200} is past the range of a float")

    def _chunk(self, X, y, backward, n, first=0):
        # ``(aux, [(leaves, gradients), ...])`` for these samples, as parts of a
        # batch of n (``first``: the chunk's first sample, which _twin's errors name).
        Z = self._front(X)
        if self.by_target is None:
            try:
                self.tape.forward(Z, y)
            except (ReplayError, TypeError):
                self.by_target = {}
            else:
                return self.tape.aux, self._grads([(self.tape, None)], len(y) / n, len(y)) if backward else []
        if self.mixed is not None:
            tape = self.mixed
            tape.forward(Z, self._onehot(y))
            return tape.aux, self._grads([(tape, None)], len(y) / n, len(y)) if backward else []
        aux, tapes = None, self._split(y)
        for tape, rows in tapes:
            tape.forward(Z[rows])
            if aux is None:
                aux = np.empty((len(y), tape.aux.shape[1]))
            aux[rows] = tape.aux
        return aux, self._grads(tapes, 1.0 / n, len(y)) if backward else []

    def _grads(self, tapes, seed, n):
        # Each tape's leaf gradients; with dense layers, the gradients of the
        # outputs too, taken back through the layers in one pass.
        parts, G = [], None
        for tape, rows in tapes:
            parts.append(tape.gradients(seed))
            if self.dense is not None:
                if G is None:
                    G = np.zeros((n, self.dense.nout))
                G[slice(None) if rows is None else rows] = tape.arg_grads[0]
        if G is not None:
            parts.append((self.params, self.dense.backward(G)))
        return parts

    def _penalty(self, out=None, p=None):
        # The gradient of penalty's λ1·Σ|p| + λ2·Σp², parameter by parameter; ``out``: an array to write it in
        # (a step then allocates no new array of every parameter: at width 256 a fresh 534 kB array
        # costs page faults of its own); ``p``: the parameters' values, when the caller has them.
        if p is None:
            p = np.asarray(self._read(self.params), dtype=float)
        if self.reg.l2:
            grads = np.multiply(2.0 * self.reg.l2, p, out=out)  # 2.0 * l2 * p, the same product
        elif out is None:
            grads = np.zeros_like(p)
        else:
            grads = out
            grads[...] = 0.0
        if self.reg.l1:
            grads += self.reg.l1 * np.sign(p)  # max(p, −p) splits a tie at 0 evenly: 0
        return grads

    def deliver(self, parts):
        """Add gradient parts [(leaves, gradients)] into the store, or else into the Values' ``.grad``."""
        if self.store is not None:
            for values, grads in parts:
                self.store.add(values, grads)
            return
        if parts:  # parts over the same leaves are added first: one pass over the Values
            values = parts[0][0]
            if all(p is values or p == values for p, _ in parts):
                parts = [(values, sum(g for _, g in parts))]
        for values, grads in parts:
            for v, g in zip(values, grads.tolist()):
                v.grad += g

    def __call__(self, model, loss, X, y, reg) -> BatchResult:
        views = self._views_for(len(y))
        if views is not None:
            return self._direct(views, X, y)
        aux, parts = self._replay(X, y, backward=True)
        self.loss.check_scores(aux[:, 1:])  # what the eager Loss checks before its graph
        loss = _mean(aux[:, 0])  # before any gradient is added: its sum may overflow
        self.deliver(parts)
        return BatchResult(loss, aux[:, 1:].copy())

    def _views_for(self, n):
        # ``Views`` when fit's store holds the known layers as nn lays them out, its gradients are all 0
        # (fit's step has just zeroed them) and the batch is one chunk (bigger batches go chunk by chunk,
        # every chunk's gradients computed before any is added).
        store = self.store
        if store is None or self.vterm is None or n > self.chunk or not store.fresh:
            return None
        if self._views is None or self._views[0] is not store:
            self._views = (store, Views.of(self.dense, store, self.params), np.empty(len(self.params)))
        return self._views[1]

    def _direct(self, views, X, y):
        # __call__'s work for one chunk through ``views``: the same operations in the same order as
        # _replay/_twin, deliver and the BatchResult, without gathering the weights or scattering their
        # gradients, and without the rows of aux. The errors come at the same points, with the same
        # words, and no gradient is left added unless every check passes.
        self._width(X)
        n = len(y)
        with np.errstate(all="ignore"):  # every result is checked, and an error names what overflowed
            Z = views.run(X)
            terms, G = self.vterm(Z, y, 1.0 / n)
            total = _SUM(terms)
            added = views.write(G)
            # The terms and their gradients G are checked only when a cheap aggregate is not finite: a
            # term that is not finite makes their sum so, and a gradient, the last layer's bias gradient
            # (G's column sum, through the layer's activation), which ``write`` checks with the others.
            # Then in _twin's order: the loss's error first, then the weights' gradients'.
            ok = added and math.isfinite(total) or finite(terms) and finite(G)
        if not ok:
            views.clear()  # nothing added after all
            self._explain(Z, y, terms, G, 0)  # raises, as _twin does, outside the errstate
        if not added:
            views.clear()
            raise views.overflow()
        try:
            self.loss.check_scores(Z)
            if not math.isfinite(total):
                _summed(total, terms)  # the eager Loss's error for a sum past float's range
        except Exception:
            views.clear()
            raise
        if self.bulk:
            data, grad = views.flat
            grad += self._penalty(out=self._views[2], p=data)  # store.add(self.params, ...) without its lookups
        # float(aux[:, 0].mean()) as __call__ computes it: the same sum, divided by n.
        return BatchResult(float(total) / n, Z)

    def gradients(self, X, y):
        """``(BatchResult, parts)``: what a call computes, its gradients as parts [(leaves, gradients)] added nowhere.

        ``deliver(parts)`` then does what the call would have done
        (``nn.fast.choose.Checked`` compares them with the eager engine's first).
        """
        aux, parts = self._replay(X, y, backward=True)
        self.loss.check_scores(aux[:, 1:])
        return BatchResult(_mean(aux[:, 0]), aux[:, 1:].copy()), parts

    def evaluate(self, X, y) -> BatchResult:
        """Forward only: the loss added up sample by sample as ``Loss`` does, and the raw outputs.

        >>> from nn import Neuron, get_loss
        >>> n = Neuron(1, activation="linear", seed=0); n.w[0].data = 2.0
        >>> r = Replay(n, get_loss("mse"), None).evaluate(np.array([[1.0], [2.0]]), np.array([1.0, 5.0]))
        >>> from engine import NOT_COMPUTED
        >>> r.loss, r.scores.tolist(), n.w[0].grad is NOT_COMPUTED   # no backward pass
        (1.0, [[2.0], [4.0]], True)
        """
        aux, _ = self._replay(X, y, backward=False)
        self.loss.check_scores(aux[:, 1:])
        terms = aux[:, 0].tolist()
        # The eager loss sums left to right, then scales by 1/n: so does this.
        return BatchResult(_summed(sum(terms[1:], terms[0]), terms) * (1.0 / len(terms)), aux[:, 1:].copy())


class Outputs:
    """``predict``'s work done by ``engine.replay`` (or ``engine.replay.dense`` for known layers), batch by batch.

    >>> from nn import Neuron
    >>> n = Neuron(2, activation="linear", seed=0); n.w[0].data, n.w[1].data, n.b.data = 1.0, 2.0, 0.5
    >>> Outputs(n)(np.array([[1.0, 1.0], [0.0, 3.0]])).tolist()
    [[3.5], [6.5]]
    """

    def __init__(self, model: Module):
        self.model = model
        lowered = model._dense()
        self.dense = Dense(*lowered) if lowered else None
        self.tape = None if self.dense else trace(self._sample, params=model.parameters())

    def _sample(self, x):
        return _outs(self.model(x))

    def _run(self, X):
        if self.dense is None:
            return self.tape.forward(X)
        if X.shape[1] != self.dense.nin:
            raise ValueError(f"{self.model!r} expects {self.dense.nin} inputs per sample, got {X.shape[1]}")
        return self.dense.forward(X, self.dense.values())

    def check(self, X, samples=32):
        """Record, compile and verify now, on up to ``samples`` rows spread over X; ReplayError says why not."""
        self._run(X[_spread(len(X), samples)])

    def __call__(self, X) -> np.ndarray:
        step = Replay.chunk  # bounded memory, as in training
        return np.concatenate([self._run(X[lo : lo + step]) for lo in range(0, len(X), step)])


def _summed(total, terms) -> float:
    # ``total``, the sum of a batch's loss terms, when it is finite. Past float's range it is an
    # error in the eager engine, where the Loss adds the terms up as Values (nn.losses), each of
    # them finite: the same sum of Values raises it here, in its words. It gives inf only where
    # the engine lets inf through (``Value.allow_nonfinite()``), as the eager loss then does.
    if not math.isfinite(total):
        values = terms.tolist() if isinstance(terms, np.ndarray) else terms
        sum(map(Value, values[1:]), Value(values[0]))
    return total


def _mean(terms) -> float:
    # ``float(terms.mean())``, the loss as the replay reports it: the same sum, divided by n.
    with np.errstate(over="ignore"):  # _summed says what overflowed
        total = _SUM(terms)
    return float(_summed(total, terms)) / len(terms)


def _spread(n, samples):
    # Up to ``samples`` row indices spread evenly over 0..n-1, first and last included.
    return _distinct(np.linspace(0, n - 1, min(n, samples)).astype(int))


def _distinct(a):
    # np.unique's sorted distinct values; np.unique's first call imports numpy.ma, 14 ms of a 20 ms set-up.
    a = np.sort(a)
    return a[np.concatenate(([True], a[1:] != a[:-1]))] if len(a) else a
