"""Losses: the mean over samples of a per-sample term, built from engine ops.

Each loss is called as ``loss(outputs, targets)``: ``outputs`` holds one
model output per sample (a Value, or the list a Layer/MLP returns) and
``targets`` one label or value per sample. The result is a Value, so
``backward()`` sends gradients through the loss into the model. Targets are
checked first: labels the loss cannot use are an error that says what it expects.

>>> from engine import Value
>>> loss = mse([Value(0.5), Value(2.0)], [1.0, 1.0])
>>> loss.data
0.625
>>> get_loss("hinge")([Value(0.3)], [0])
Traceback (most recent call last):
...
ValueError: hinge loss expects labels -1 or +1, got 0 at sample 1 (for 0/1 labels use 2*y - 1)
"""

from __future__ import annotations

import math

import numpy as np

from engine import Value
from engine.args import is_real, type_name
from engine.ops import OPS

__all__ = [
    "Loss", "mse", "half_squared_error", "bce", "bce_with_logits", "hinge", "softmax_cross_entropy",
    "l1_penalty", "l2_penalty", "LOSSES", "get_loss",
]


def _row(out, i) -> list:
    # One sample's output as a list of Values (a bare Value is one output).
    if isinstance(out, Value):
        return [out]
    if isinstance(out, (list, tuple)) and out and all(isinstance(v, Value) for v in out):
        return list(out)
    raise TypeError(f"loss: output {i + 1} must be a Value or a non-empty list of Values, got {out!r:.60}")


def _mean(terms: list) -> Value:
    return sum(terms[1:], terms[0]) * (1.0 / len(terms))


# The array twins below (``vterm``) take every sample at once: scores S
# (samples × outputs) and targets T. They run the same ops as ``term``, in the
# same order, through the op table's vf/vd, so a replay that uses them gets
# the eager terms and gradients up to rounding; ``seed`` is the gradient each
# term receives (1/n for a mean over n samples), applied first, as backward does.
_ADD, _MAX, _LOG, _EXP, _POW, _RELU, _SOFTPLUS = (
    OPS[name] for name in ("add", "max", "log", "exp", "pow", "relu", "softplus"))


def _fold(columns):
    # Left to right, as Python's sum and _mean add.
    total = columns[0]
    for c in columns[1:]:
        total = _ADD.vf(total, c, None)
    return total


class Loss:
    """A named loss: checks the targets, builds one term per sample, averages.

    Subclasses give ``term(outs, target)`` (a Value for one sample, ``outs``
    a list of Values), ``check(target)`` and ``predict(scores)`` (class labels
    from an array of raw outputs, or None when the loss is a regression loss).
    ``term`` also takes a Value as the target (except softmax_cross_entropy,
    whose target picks an output), so one sample's graph can be recorded with
    a placeholder target and replayed over a batch.
    """

    name = ""
    expects = ""

    def __call__(self, outputs, targets) -> Value:
        outputs, targets = list(outputs), list(targets)
        if not outputs:
            raise ValueError(f"{self.name} loss needs at least one sample, got none")
        if len(outputs) != len(targets):
            raise ValueError(f"{self.name} loss got {len(outputs)} outputs but {len(targets)} targets; one target per output")
        rows = [_row(o, i) for i, o in enumerate(outputs)]
        ts = [self.check(t, i) for i, t in enumerate(targets)]
        return _mean([self.term(r, t) for r, t in zip(rows, ts)])

    def check(self, t, i):
        """The target of sample i as the term wants it, or a ValueError."""
        if not is_real(t) or not math.isfinite(t):
            raise ValueError(f"{self.name} loss expects {self.expects}, got {t!r} at sample {i + 1}")
        return float(t)

    def check_scores(self, scores: np.ndarray):
        """A ValueError if raw outputs of shape (n, k) are outside what the loss reads."""

    def predict(self, scores: np.ndarray):
        """Class labels from raw outputs of shape (n, k), or None for regression."""
        return None

    def correct(self, scores: np.ndarray, y) -> int | None:
        """How many labels ``predict`` gives equal their targets y (as ``check`` accepts them); None for regression.

        >>> hinge.correct(np.array([[0.5], [-2.0], [0.0]]), np.array([1.0, 1.0, -1.0]))
        2
        """
        labels = self.predict(scores)
        return None if labels is None else int(np.count_nonzero(labels == y))

    def __repr__(self):
        return f"<loss {self.name}>"


def _vsquares(S, T, scale, seed):
    # Σ_k (o_k − t)² · scale per sample, and its gradient.
    D = S - T[:, None]
    P = _POW.vf(D, 2)
    return _fold(P.T) * scale, (seed * scale) * _POW.vd(D, P, 2)[0]


class _MSE(Loss):
    """Mean squared error: the mean of (t − o)² over samples and outputs."""

    name, expects = "mse", "finite real targets"

    def term(self, outs, t):
        return _mean([(o - t) ** 2 for o in outs])

    def vterm(self, S, T, seed):
        return _vsquares(S, T, 1.0 / S.shape[1], seed)


class _HalfSquared(Loss):
    """½·Σ_k (t − o_k)² per sample, averaged over samples (the delta rule's error)."""

    name, expects = "half_squared_error", "finite real targets"

    def term(self, outs, t):
        squares = [(o - t) ** 2 for o in outs]
        return sum(squares[1:], squares[0]) * 0.5

    def vterm(self, S, T, seed):
        return _vsquares(S, T, 0.5, seed)


def _one_column(loss, S):
    if S.shape[1] != 1:
        _single(loss, [None] * S.shape[1])  # its error, worded as eager's
    return S[:, 0]


def _binary(loss, t, i):
    if not is_real(t) or not 0.0 <= t <= 1.0:
        raise ValueError(f"{loss.name} loss expects {loss.expects}, got {t!r} at sample {i + 1}")
    return float(t)


def _is_zero(t):
    # A Value target (a placeholder a batched recorder passes) is never skipped.
    return not isinstance(t, Value) and t == 0.0


def _single(loss, outs):
    if len(outs) != 1:
        raise ValueError(f"{loss.name} loss expects one output per sample, got {len(outs)} (for several classes use softmax_cross_entropy)")
    return outs[0]


class _BCE(Loss):
    """Binary cross-entropy of probabilities p in (0, 1): −[t·log p + (1 − t)·log(1 − p)].

    Probabilities are kept at least 1e-12 away from 0 and 1 (by ``max``) so
    that a saturated sigmoid gives a large finite loss instead of log 0.
    Prefer ``bce_with_logits`` on raw scores: it needs no clamping.
    """

    name, expects = "bce", "targets in [0, 1] (labels 0 or 1)"
    eps = 1e-12

    check = _binary

    def __call__(self, outputs, targets) -> Value:
        outputs = list(outputs)
        if outputs:
            self.check_scores(np.array([[_single(self, _row(o, i)).data] for i, o in enumerate(outputs)]))
        return super().__call__(outputs, targets)

    def check_scores(self, scores):
        # Raw scores outside [0, 1] would be clamped to 1e-12 silently: no gradient, no learning.
        bad = np.flatnonzero(~((scores[:, 0] >= 0.0) & (scores[:, 0] <= 1.0)))
        if len(bad):
            raise ValueError(f"bce loss expects probabilities in [0, 1] (e.g. a sigmoid output), got {float(scores[bad[0], 0])!r} "
                             f"at sample {bad[0] + 1}; for raw scores use bce_with_logits")

    def term(self, outs, t):
        p = _single(self, outs)
        # A term whose weight is 0 is left out rather than multiplied by 0.
        logs = []
        if not _is_zero(t):
            logs.append(t * p.max(self.eps).log())
        if isinstance(t, Value) or t != 1.0:
            logs.append((1.0 - t) * (1.0 - p).max(self.eps).log())
        return -sum(logs[1:], logs[0])

    def vterm(self, S, T, seed):
        p, g = _one_column(self, S), -seed  # the negation's gradient, as backward computes it
        parts, grad = [], np.zeros_like(p)
        for weight, x, sign, used in ((T, p, 1.0, T != 0.0), (1.0 - T, 1.0 - p, -1.0, T != 1.0)):
            m = _MAX.vf(x, self.eps, None)
            parts.append(np.where(used, weight * _LOG.vf(m, None), 0.0))  # a left-out log adds exactly 0
            dx = ((g * weight) * _LOG.vd(m, m, None)[0]) * _MAX.vd(x, self.eps, m, None)[0]
            grad += np.where(used, dx * sign, 0.0)
        return -(parts[0] + parts[1]), grad[:, None]

    def predict(self, scores):
        return (scores[:, 0] > 0.5).astype(int)


class _BCELogits(Loss):
    """Binary cross-entropy from a raw score z: softplus(z) − t·z.

    The same as ``bce(sigmoid(z), t)`` since −log σ(z) = softplus(−z) and
    −log(1 − σ(z)) = softplus(z); softplus is stable for any z.
    """

    name, expects = "bce_with_logits", "targets in [0, 1] (labels 0 or 1)"
    check = _binary

    def term(self, outs, t):
        z = _single(self, outs)
        return z.softplus() if _is_zero(t) else z.softplus() - t * z

    def vterm(self, S, T, seed):
        z = _one_column(self, S)
        sp = _SOFTPLUS.vf(z, None)
        # t = 0 leaves t·z out; subtracting 0·z = ±0 changes no bit.
        return sp - T * z, (seed * _SOFTPLUS.vd(z, sp, None)[0] + (-seed) * T)[:, None]

    def predict(self, scores):
        return (scores[:, 0] > 0).astype(int)


class _Hinge(Loss):
    """Max-margin loss as in micrograd's demo: relu(1 − y·score), labels ±1."""

    name, expects = "hinge", "labels -1 or +1"

    def check(self, t, i):
        if not is_real(t) or t not in (-1, 1):
            hint = " (for 0/1 labels use 2*y - 1)" if is_real(t) and t in (0, 1) else ""
            raise ValueError(f"hinge loss expects labels -1 or +1, got {t!r} at sample {i + 1}{hint}")
        return float(t)

    def term(self, outs, t):
        return (1 + -t * _single(self, outs)).relu()

    def vterm(self, S, T, seed):
        # term's 1 + (−t)·o is 1 − t·o to the bit ((−t)·o is −(t·o), and a + (−b) is a − b), and
        # backward's (seed·relu′)·(−t) is ((−seed)·relu′)·t (a sign moved from one factor to the
        # other changes no bit, zeros' signs included): the same numbers without negating T twice.
        z = 1.0 - T * _one_column(self, S)
        out = _RELU.vf(z, None)
        return out, (((-seed) * _RELU.vd(z, out, None)[0]) * T)[:, None]

    def predict(self, scores):
        return np.where(scores[:, 0] > 0, 1, -1)

    def correct(self, scores, y):
        if type(self) is not _Hinge:  # a subclass may predict or check otherwise
            return super().correct(scores, y)
        # predict's label is 1 exactly where the score is > 0, and every target is ±1 (check).
        return int(np.count_nonzero((scores[:, 0] > 0) == (y > 0)))


class _SoftmaxCE(Loss):
    """Cross-entropy of a softmax over k raw scores; the target is a class index.

    −log softmax(z)_c = log Σ_j e^(z_j − m) + m − z_c with m = max_j z_j: the
    shift keeps every exponent ≤ 0 and leaves the value and gradient unchanged.
    m is built with the engine's max op rather than read off the data, so the
    same graph is right for any sample (the gradient through m sums to zero).
    """

    name, expects = "softmax_cross_entropy", "class indices 0, 1, ..., k-1"

    def check(self, t, i):
        # Finite first: int() of NaN or infinity would raise its own, unrelated error.
        if not is_real(t) or not math.isfinite(t) or t != int(t) or t < 0:
            raise ValueError(f"softmax_cross_entropy expects {self.expects}, got {t!r} at sample {i + 1}")
        return int(t)

    def term(self, outs, c):
        if c >= len(outs):
            raise ValueError(f"softmax_cross_entropy: class {c} is out of range for {len(outs)} outputs (valid: 0..{len(outs) - 1})")
        m = outs[0]
        for o in outs[1:]:
            m = m.max(o)
        total = sum([(o - m).exp() for o in outs[1:]], (outs[0] - m).exp())
        return total.log() + m - outs[c]

    def vterm(self, S, T, seed):
        n, k = S.shape
        C = T.astype(int)
        bad = (C < 0) | (C >= k) | (C != T)
        if bad.any():  # the error eager raises, worded as there
            i = int(np.argmax(bad))
            self.term([Value(0.0)] * k, self.check(T[i].item(), i))
        rows, maxes = np.arange(n), [S[:, 0]]
        for j in range(1, k):
            maxes.append(_MAX.vf(maxes[-1], S[:, j], None))
        m = maxes[-1]
        E = [_EXP.vf(S[:, j] - m, None) for j in range(k)]
        total = _fold(E)
        term = _ADD.vf(_LOG.vf(total, None), m, None) - S[rows, C]
        # Backward: through log and the sum to each e^(z_j − m), then to z_j
        # and (negated) to m, which also gets the seed from "+ m"; m's
        # gradient goes back down the chain of max ops.
        gt = seed * _LOG.vd(total, total, None)[0]
        G = np.empty((n, k))
        gm = np.full(n, float(seed))
        for j in range(k):
            G[:, j] = gt * E[j]
            gm -= G[:, j]
        G[rows, C] -= seed
        for j in range(k - 1, 0, -1):
            d_prev, d_j = _MAX.vd(maxes[j - 1], S[:, j], maxes[j], None)
            G[:, j] += gm * d_j
            gm = gm * d_prev
        G[:, 0] += gm
        return term, G

    def predict(self, scores):
        return np.argmax(scores, axis=1)


mse = _MSE()
half_squared_error = _HalfSquared()
bce = _BCE()
bce_with_logits = _BCELogits()
hinge = _Hinge()
softmax_cross_entropy = _SoftmaxCE()

LOSSES: dict[str, Loss] = {f.name: f for f in (mse, half_squared_error, bce, bce_with_logits, hinge, softmax_cross_entropy)}

_OWN_CODE = {type(f): (type(f).term, type(f).vterm, type(f).check) for f in LOSSES.values()}


def own_vterm(loss):
    """``loss.vterm`` when ``loss`` is one of the losses above, unchanged (its class, code and settings), else None.

    A replay may then skip recording the loss: the twin computes the same terms and gradients.

    >>> own_vterm(hinge) is not None, own_vterm(Loss())
    (True, None)
    """
    cls = type(loss)
    if _OWN_CODE.get(cls) != (getattr(cls, "term", None), getattr(cls, "vterm", None), cls.check) or vars(loss):
        return None
    return loss.vterm


def get_loss(spec) -> Loss:
    """A loss by name (or a Loss, returned as is).

    >>> get_loss("mse").name
    'mse'
    >>> get_loss("cross_entropy")
    Traceback (most recent call last):
    ...
    ValueError: unknown loss 'cross_entropy'; valid names: mse, half_squared_error, bce, bce_with_logits, hinge, softmax_cross_entropy
    """
    if isinstance(spec, Loss):
        return spec
    if isinstance(spec, str):
        if spec not in LOSSES:
            raise ValueError(f"unknown loss {spec!r}; valid names: {', '.join(LOSSES)}")
        return LOSSES[spec]
    raise TypeError(f"loss must be a name (one of {', '.join(LOSSES)}) or a Loss, got {type_name(spec)}")


def _params(params) -> list:
    ps = params.parameters() if hasattr(params, "parameters") else list(params)
    if not ps:
        raise ValueError("penalty: no parameters given")
    return ps


def l2_penalty(params) -> Value:
    """Σ p² over the parameters (a Module or Values); multiply by λ yourself.

    >>> l2_penalty([Value(3.0), Value(-4.0)]).data
    25.0
    """
    ps = _params(params)
    return sum((p * p for p in ps[1:]), ps[0] * ps[0])


def l1_penalty(params) -> Value:
    """Σ |p| over the parameters, with |p| = max(p, −p) (gradient 0 at p = 0).

    >>> l1_penalty([Value(3.0), Value(-4.0)]).data
    7.0
    """
    ps = _params(params)
    return sum((p.max(-p) for p in ps[1:]), ps[0].max(-ps[0]))
