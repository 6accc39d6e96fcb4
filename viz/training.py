"""The training runs behind ``gradflow train`` and ``gradflow demo``: an MLP on one of nn's datasets,
on the digits, and micrograd's demo network on moons.

nn (and numpy) are imported when a run starts, so the command line loads this
module without them.
"""

from __future__ import annotations

# digits (scikit-learn's 8×8 images) trains MLP(64, [32, 10]) on the full batch: its own defaults.
DIGITS = dict(hidden="32", epochs=150, lr=0.02, test_fraction=0.2)

__all__ = ["train", "train_digits", "micrograd_demo", "pick_sample", "DIGITS"]


def _dataset(name, samples, seed):
    import nn

    make = getattr(nn, name)
    return make(samples, seed=seed) if samples else make(seed=seed)


def train(dataset, *, samples=None, hidden=(16, 16), activation="relu", epochs=30, lr=0.1, seed=0, progress=True):
    """Train an MLP on one of nn's datasets with Adam; returns (model, X, y, history, loss name)."""
    import numpy as np

    import nn

    X, y = _dataset(dataset, samples, seed)
    classes = len(np.unique(y))
    loss = "softmax_cross_entropy" if classes > 2 else "bce_with_logits"
    model = nn.MLP(2, [*hidden, classes if classes > 2 else 1], activation=activation, seed=seed)
    history = nn.fit(model, X, y, loss=loss, optimizer=nn.Adam(model.parameters(), lr=lr), epochs=epochs,
                     progress=progress, seed=seed)
    return model, X, y, history, loss


def train_digits(*, hidden=(32,), epochs=150, lr=0.02, seed=0, progress=True):
    """MLP(64, [*hidden, 10]) on the digits, 20% held out; returns (model, X_test, y_test, predicted, history)."""
    import nn

    X, y = nn.digits()
    X_train, y_train, X_test, y_test = nn.train_val_split(X, y, val_fraction=DIGITS["test_fraction"], seed=seed)
    model = nn.MLP(64, [*hidden, 10], seed=seed)
    history = nn.fit(model, X_train, y_train, loss="softmax_cross_entropy",
                     optimizer=nn.Adam(model.parameters(), lr=lr), epochs=epochs, progress=progress, seed=seed)
    predicted = nn.predict(model, X_test).argmax(axis=1)
    return model, X_test, y_test, predicted, history


def micrograd_demo(epochs=100, progress=True):
    """micrograd's demo: MLP(2, [16, 16, 1]) on 100 moons, hinge + 1e-4·L2, SGD 1.0 → 0.1.

    Returns (model, X, y, history, loss name, penalty).
    """
    import nn

    X, y = nn.moons(100, noise=0.1, seed=0)
    y = 2 * y - 1  # the hinge loss wants labels ±1
    model = nn.MLP(2, [16, 16, 1], seed=0)
    optimizer = nn.SGD(model.parameters(), lr=1.0)
    history = nn.fit(model, X, y, loss="hinge", optimizer=optimizer, epochs=epochs, l2=1e-4,
                     schedule=nn.LinearDecay(optimizer, end=0.1, steps=epochs), progress=progress)
    return model, X, y, history, "hinge", nn.penalty(l2=1e-4)


def pick_sample(model, X, y):
    """The sample the demo draws: the first whose hinge loss sends gradient back (margin y·score < 1).

    Returns (index, margin); when every sample is beyond the margin, the one
    nearest to it (its gradient is 0, and the demo says so).
    """
    margins = [float(t) * model(row)[0].data for row, t in zip(X.tolist(), y.tolist())]
    inside = [i for i, m in enumerate(margins) if m < 1]
    i = inside[0] if inside else min(range(len(margins)), key=margins.__getitem__)
    return i, margins[i]
