"""Which models ``fit``, ``evaluate`` and ``predict`` replay, and the check that keeps an asked-for replay honest.

A replay runs one recorded sample's graph for every sample and every step: it
assumes the graph and its constants depend on neither the data nor the
parameters. nn's own modules and losses are written so that this holds, so
``batched="auto"`` replays them and only them (``custom`` says what else a
model runs). Other code is replayed only when asked for (``batched=True``),
and then ``Checked`` compares the replay's gradient with the eager engine's
every few epochs and hands training to the eager engine at the first mismatch.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from ..losses import own_vterm
from ..module import ACTIVATIONS, MLP, Dropout, Layer, Maxout, Module, Neuron, get_activation
from ..perceptron import Perceptron

__all__ = ["ReplayFallback", "custom", "Checked", "per_epoch", "check_rows", "agree"]


class ReplayFallback(UserWarning):
    """fit, evaluate or predict used the eager engine instead of the replay; the message says why.

    Said once per call: for a custom module under ``batched="auto"``, for a
    recording that could differ from sample to sample, or for a replay whose
    gradient disagreed with the eager engine's (``Checked``).
    """


# What each of nn's modules holds, as its __init__ and train() leave it: an
# instance with anything else (a replaced _forward, say) runs other code.
_ATTRS = {
    Neuron: {"w", "b", "activation", "_act", "training"},
    Perceptron: {"w", "b", "training"},
    Layer: {"neurons", "activation", "training"},
    MLP: {"layers", "activation", "dropout", "training"},
    Maxout: {"k", "pieces", "training"},
    Dropout: {"p", "_rng", "training"},
}
# Their code as first imported, class by class up to Module: a method
# replaced later (MLP.__call__ = ...) makes the class another's.
# copyreg writes ``__slotnames__`` into a class the first time one of its instances is copied or
# pickled (``copy.deepcopy(model)`` to keep the best model): a cache, not code, so it is left out.
_CACHES = ("__slotnames__",)


def _code(k):
    return {name: v for name, v in vars(k).items() if name not in _CACHES}


_CODE = {k: _code(k) for cls in _ATTRS for k in cls.__mro__[:-1]}
_NAMED = {name: get_activation(name)[1] for name in ACTIVATIONS + ("linear",)}


def _parts(m):
    # The sub-modules m's __call__ runs, each with the class it must have there: as nn composes them.
    if isinstance(m, MLP):
        return [(layer, Layer) for layer in m.layers] + ([] if m.dropout is None else [(m.dropout, Dropout)])
    if isinstance(m, Layer):
        return [(n, Neuron) for n in m.neurons]
    if isinstance(m, Maxout):
        return [(n, Neuron) for n in m.pieces]
    return []


def _foreign(model):
    # ``(part, activation)``: the first module of model (model itself, or one of its parts) whose code
    # is not nn's own, unchanged, and whether only its activation (a callable) is; (None, False) when all is nn's.
    todo = [model]
    while todo:
        m = todo.pop()
        cls = type(m)
        if cls not in _ATTRS or not vars(m).keys() <= _ATTRS[cls] or any(_code(k) != _CODE[k] for k in cls.__mro__[:-1]):
            return m, False
        if cls is Neuron and _NAMED.get(m.activation) is not m.act:
            return m, True
        for part, want in _parts(m):
            if type(part) is not want:
                return part, False
            todo.append(part)
    return None, False


def custom(model: Module, loss=None) -> str | None:
    """What in ``model`` (or ``loss``) is not nn's own code, in words; None when a replay of it is known to be exact.

    Decided by construction, not by running anything: every module of the
    model must be one of nn's classes, its code unchanged since nn was
    imported, holding only what nn puts in it, composed as nn composes them
    (an MLP's layers are Layers of Neurons), each Neuron's activation named;
    and the loss must be one of nn's own (``nn.losses.own_vterm``).

    >>> from nn import MLP, Module, get_loss
    >>> custom(MLP(2, [4, 1], seed=0), get_loss("mse")) is None
    True
    >>> class Twice(Module):
    ...     def __call__(self, x):
    ...         return [2 * x[0]]
    >>> custom(Twice())
    'Twice is a custom module'
    >>> custom(MLP(2, [3, 1], activation=lambda v: v.relu()))
    "the activation '<lambda>' of MLP(2, [3, 1], activation='<lambda>') is custom code (a callable, not a name)"
    """
    part, activation = _foreign(model)
    if activation:
        return f"the activation {part.activation!r} of {model!r} is custom code (a callable, not a name)"
    if part is not None:
        name = type(part).__name__
        return f"{name} is a custom module" if part is model else f"{name} inside {type(model).__name__} is a custom module"
    if loss is not None and own_vterm(loss) is None:
        return f"the loss {getattr(loss, 'name', type(loss).__name__)!r} is custom code"
    return None


class Checked:
    """A replay asked for with ``batched=True`` on custom code, compared with the eager engine as it trains.

    Recording refuses Python control flow on the inputs and parameters, but a
    C function (``math.copysign(1, w.data)``) reads a float without being
    seen. So at the first step, and then at the first step of every
    ``every``-th epoch, the replay's gradient on up to ``samples`` samples of
    the batch is compared with the eager engine's on the same samples. They
    must agree to rounding, for every parameter:
    |replay − eager| ≤ 1e-6·|eager| + 1e-9·max(1, the largest |eager|).
    Rounding is all that may differ: the two sum the same terms in another
    order, and numpy's exp or tanh may differ from Python's in the last bit,
    a few parts in 1e16 per operation. ``rtol`` = 1e-6 leaves ten orders of
    magnitude for that to grow through a graph; ``atol`` covers a gradient
    that sums to nearly 0 from large terms. A constant the replay holds
    stale (a flipped sign, another branch, a new quantum) changes a gradient
    by a sizeable fraction, far above both. On a mismatch nothing of the
    replay's step has been applied: the step is taken with the eager
    gradient of the whole batch, a ``ReplayFallback`` warning names the
    module, and every later step (and validation) runs eagerly from the
    parameters of the moment.

    The cost is one eager pass over ``samples`` samples every ``every``
    epochs. Measured in CPU time (on 2 busy cores): for notebook 11's
    14-layer residual network on 100 points, 15 ms a check against 1.1 ms for
    a replayed epoch and 224 ms for an eager one (the checked replay: about
    4 ms an epoch); for notebook 11's maxout network, 1.2 ms against 0.2 and
    18 ms; on 1,000 points in batches of 32, +8% an epoch. A check every
    epoch would make the replay of a small full-batch model 15 times slower;
    one less often would let a stale replay train longer before it is caught.

    The eager check calls the model's forward: a module that counts its
    calls or draws random numbers sees extra calls (it breaks the replay
    anyway). Constants' ``.grad`` (kind "const") also gets the check's
    share, as nobody reads it.
    """

    every = 5  # epochs between checks: the first step of epochs 1, 6, 11, ...
    samples = 8  # samples of the batch each check compares
    rtol, atol = 1e-6, 1e-9

    def __init__(self, replay, eager, evaluate, params, per_epoch, name):
        # eager(model, loss, X, y, reg) -> BatchResult with gradients in .grad (fit's batch_loss);
        # evaluate(X, y) -> BatchResult with the eager engine, for validation after a fall back.
        self.replay, self.eager, self.eager_evaluate = replay, eager, evaluate
        self.params, self.per_epoch, self.name = params, max(1, per_epoch), name
        self.val = None  # the validation replay, which follows this one's fate
        self.steps = 0
        self.fell = False  # True once a check failed: the eager engine trains from then on
        self._rows = {}  # id(list of leaves) -> (that list, their positions in params or -1)

    @property
    def store(self):
        return self.replay.store

    @store.setter
    def store(self, store):  # fit takes the arrays back from both replays at the end
        self.replay.store = store
        if self.val is not None:
            self.val.store = store

    def __call__(self, model, loss, X, y, reg):
        step, self.steps = self.steps, self.steps + 1
        if self.fell:
            return self._eager_step(model, loss, X, y, reg)
        if step % (self.every * self.per_epoch):
            return self.replay(model, loss, X, y, reg)
        rows = np.unique(np.linspace(0, len(y) - 1, min(len(y), self.samples)).astype(int))
        result, parts = self.replay.gradients(X[rows], y[rows])
        got = self._onto(parts)
        want = self._eager_gradient(model, loss, X[rows], y[rows], reg)
        bad = ~(np.abs(got - want) <= self.rtol * np.abs(want) + self.atol * max(1.0, np.abs(want).max(initial=0.0)))
        if not bad.any():
            if len(rows) == len(y):  # the check's replay was the step's: add it
                self.replay.deliver(parts)
                return result
            return self.replay(model, loss, X, y, reg)
        k = int(np.argmax(bad))
        name = next((n for n, p in model.named_parameters() if p is self.params[k]), f"parameter {k + 1}")
        self.fell = True
        warnings.warn(f"fit stops replaying {self.name} and trains it with the eager engine from here "
                      f"(epoch {step // self.per_epoch + 1}): the replayed gradient of {name} is {got[k]:.6g}, "
                      f"the eager one {want[k]:.6g}, so its forward pass depends on the data or the parameters "
                      f"in a way the recording could not see", ReplayFallback, stacklevel=4)
        return self._eager_step(model, loss, X, y, reg)

    def evaluate(self, X, y):
        """Validation: the validation replay while training replays, the eager engine after a fall back."""
        return self.eager_evaluate(X, y) if self.fell or self.val is None else self.val.evaluate(X, y)

    def _onto(self, parts):
        # The replay's gradient parts [(leaves, gradients)] added up per parameter, in params order.
        total = np.zeros(len(self.params))
        for values, grads in parts:
            got = self._rows.get(id(values))
            if got is None or got[0] is not values:
                at = {id(p): i for i, p in enumerate(self.params)}
                got = self._rows[id(values)] = (values, np.array([at.get(id(v), -1) for v in values], dtype=np.intp))
            rows = got[1]
            keep = rows >= 0
            np.add.at(total, rows[keep], np.asarray(grads, dtype=float)[keep])
        return total

    def _current(self):
        # The Values hold the parameters of the moment (fit may keep them in arrays).
        if self.replay.store is not None:
            self.replay.store.publish()

    def _eager_gradient(self, model, loss, X, y, reg):
        # The eager gradient of these samples, leaving the parameters' .grad as it found them.
        self._current()
        saved = [(p, p.grad, p.passes) for p in self.params]
        for p in self.params:
            p.zero_grad()
        try:
            self.eager(model, loss, X, y, reg)
            return np.array([p.grad for p in self.params], dtype=float)
        finally:
            for p, grad, passes in saved:
                p.grad, p.passes = grad, passes

    def _eager_step(self, model, loss, X, y, reg):
        # The eager engine's step; with fit's arrays, its gradients go there, where the optimizer reads them.
        store = self.replay.store
        if store is None:
            return self.eager(model, loss, X, y, reg)
        self._current()
        for p in self.params:
            p.zero_grad()
        result = self.eager(model, loss, X, y, reg)
        store.grad[: store.held] = [p.grad for p in store.values[: store.held]]
        return result


def per_epoch(n, batch_size) -> int:
    """The number of batches (steps) in an epoch of n samples."""
    return 1 if batch_size is None else math.ceil(n / batch_size)


def check_rows(n):
    """The rows both engines run in ``evaluate`` and ``predict`` for batched=True on custom code.

    >>> check_rows(100).tolist(), check_rows(3).tolist()
    ([0, 14, 28, 42, 56, 70, 84, 99], [0, 1, 2])
    """
    return np.unique(np.linspace(0, n - 1, min(n, Checked.samples)).astype(int))


def agree(got, want, who, model) -> bool:
    """Whether the replay's numbers match the eager engine's to rounding (``Checked``'s bound); if not, say so.

    The recording cannot see a C function read a float that differs from row
    to row (``math.copysign(1, h.data)`` on a hidden value): its one constant
    would then give other rows wrong outputs, in silence but for this.
    """
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    bad = ~(np.abs(got - want) <= Checked.rtol * np.abs(want) + Checked.atol * max(1.0, np.abs(want).max(initial=0.0)))
    if not bad.any():
        return True
    k = int(np.argmax(bad))
    warnings.warn(f"{who} does not replay {type(model).__name__}: on the rows it checked, a replayed number is "
                  f"{got[k]:.6g} where the eager engine gives {want[k]:.6g}, so its forward pass depends on the data "
                  f"in a way the recording could not see; every row is computed with the eager engine",
                  ReplayFallback, stacklevel=3)  # at the call of evaluate or predict
    return False
