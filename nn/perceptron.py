"""Rosenblatt's perceptron and Widrow's ADALINE: one linear unit, two learning rules.

The unit computes z = w · x + b and outputs 1 if z ≥ 0, else 0. Its two rules:

- perceptron: on a misclassified sample, w += η·x for a positive one and
  w −= η·x for a negative one (η = 1 classically); correct samples change nothing.
- delta (LMS): after every sample, w += η·(d − z)·x with d = +1 for the
  positive class and −1 for the negative one. This is gradient descent on
  ½(d − z)², which the engine can confirm (see ``delta_update``).

>>> from nn.data import blobs, xor
>>> p = Perceptron(2, seed=0)
>>> p.learn(*blobs(40, seed=0)).converged
True
>>> Perceptron(2, seed=0).learn(*xor(), epochs=50).converged
False
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from engine import Value
from engine.args import is_real

from .data import check_dataset
from .module import positive_int, as_inputs, Linear
from .optim import positive

__all__ = ["Perceptron", "Learned", "RULES"]

RULES = ("perceptron", "delta")


class Learned(NamedTuple):
    """The outcome of ``Perceptron.learn``."""

    converged: bool  # an epoch ended with every sample right
    epochs: int  # epochs run
    errors: list  # misclassified samples in each epoch (counted as the epoch ran)


class Perceptron(Linear):
    """One linear threshold unit: parameters ``w`` (one per input) and ``b``.

    Calling it on a sample builds the graph of the score z = w · x + b (a
    Value); ``predict`` applies the step. Labels are 0 and 1.

    >>> p = Perceptron(2, seed=0)
    >>> p.w[0].data, p.w[1].data, p.b.data = 1.0, 1.0, -1.5
    >>> p([1.0, 1.0]).data, p.predict([[1.0, 1.0], [1.0, 0.0]]).tolist()
    (0.5, [1, 0])
    """

    def __init__(self, nin, *, seed=None):
        nin = positive_int(nin, "Perceptron nin (number of inputs)")
        # Small random start: the rules work from any weights, and random
        # ones make the hyperplane's first move visible.
        super().__init__(np.random.default_rng(seed).uniform(-0.5, 0.5, nin))

    def __call__(self, x) -> Value:
        return self._affine(as_inputs(x, self.nin, f"Perceptron({self.nin})"))

    def score(self, X) -> np.ndarray:
        """z = w · x + b for each row of X, computed with numpy (no graph)."""
        X = check_dataset(X, what="Perceptron input")
        if X.shape[1] != self.nin:
            raise ValueError(f"Perceptron({self.nin}) expects {self.nin} inputs per sample, got {X.shape[1]}")
        return X @ np.array([w.data for w in self.w]) + self.b.data

    def predict(self, X) -> np.ndarray:
        """The step output, 1 where z ≥ 0 and 0 elsewhere, for each row of X."""
        return (self.score(X) >= 0).astype(int)

    def perceptron_update(self, x, label, lr=1.0) -> tuple[list, float]:
        """Apply the perceptron rule for one sample; return the change (Δw, Δb).

        >>> p = Perceptron(2, seed=0)
        >>> p.w[0].data, p.w[1].data, p.b.data = 0.0, 0.0, -1.0
        >>> p.perceptron_update([2.0, 3.0], 1)  # positive but scored −1: add x
        ([2.0, 3.0], 1.0)
        >>> p.perceptron_update([2.0, 3.0], 1)  # now right: no change
        ([0.0, 0.0], 0.0)
        """
        x, label, lr = self._sample(x, label, lr)
        z = self._z(x)
        predicted = 1 if z >= 0 else 0
        if predicted == label:
            return [0.0] * self.nin, 0.0
        sign = 1.0 if label == 1 else -1.0
        return self._apply([sign * lr * xi for xi in x], sign * lr)

    def delta_update(self, x, label, lr=0.1) -> tuple[list, float]:
        """Apply the delta (LMS) rule for one sample; return the change (Δw, Δb).

        Δw_i = η·(d − z)·x_i with d = ±1 the target; since
        d/dw_i ½(d − z)² = −(d − z)·x_i, this is one gradient-descent step.

        >>> p = Perceptron(2, seed=0)
        >>> p.w[0].data, p.w[1].data, p.b.data = 0.5, 0.0, 0.0
        >>> p.delta_update([1.0, 2.0], 1, lr=0.1)  # d − z = 1 − 0.5
        ([0.05, 0.1], 0.05)
        """
        x, label, lr = self._sample(x, label, lr)
        error = (1.0 if label == 1 else -1.0) - self._z(x)
        return self._apply([lr * error * xi for xi in x], lr * error)

    def learn(self, X, y, rule="perceptron", epochs=100, lr=None, shuffle=False, seed=None) -> Learned:
        """Sweep the data with one rule until an epoch has no mistakes, or ``epochs`` run out.

        ``lr`` defaults to 1 for the perceptron rule and 0.01 for the delta rule.
        """
        if rule not in RULES:
            raise ValueError(f"unknown perceptron rule {rule!r}; valid: {', '.join(RULES)}")
        X, y = check_dataset(X, y, "Perceptron data")
        if X.shape[1] != self.nin:
            raise ValueError(f"Perceptron({self.nin}) expects {self.nin} inputs per sample, got {X.shape[1]}")
        labels = [self._label(t, i) for i, t in enumerate(y.tolist())]
        lr = positive((1.0 if rule == "perceptron" else 0.01) if lr is None else lr, "Perceptron learning rate lr")
        epochs = positive_int(epochs, "Perceptron epochs")
        update = self.perceptron_update if rule == "perceptron" else self.delta_update
        rng = np.random.default_rng(seed)
        rows = X.tolist()
        errors = []
        for epoch in range(1, epochs + 1):
            order = rng.permutation(len(rows)) if shuffle else range(len(rows))
            wrong = 0
            for i in order:
                wrong += (1 if self._z(rows[i]) >= 0 else 0) != labels[i]
                update(rows[i], labels[i], lr)
            errors.append(wrong)
            if wrong == 0:
                return Learned(True, epoch, errors)
        return Learned(False, epochs, errors)

    # --- helpers ------------------------------------------------------------------

    def _z(self, x):
        return sum(w.data * xi for w, xi in zip(self.w, x)) + self.b.data

    def _apply(self, dw, db):
        for w, d in zip(self.w, dw):
            w.data += d
        self.b.data += db
        return dw, db

    def _sample(self, x, label, lr):
        xs = [v.data if isinstance(v, Value) else v for v in as_inputs(x, self.nin, f"Perceptron({self.nin})")]
        return xs, self._label(label, 0), positive(lr, "Perceptron learning rate lr")

    @staticmethod
    def _label(t, i):
        if not is_real(t) or t not in (0, 1):
            raise ValueError(f"Perceptron labels must be 0 or 1, got {t!r} at sample {i + 1}")
        return int(t)

    def __repr__(self):
        return f"Perceptron({self.nin})"
