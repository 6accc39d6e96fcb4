"""Toy datasets from a seed, a train/validation split and mini-batches.

Every generator returns ``(X, y)``: X a float array of shape (n, 2), y an int
array of n labels (0/1, or 0..k-1 for spirals), shuffled, the same for the
same seed. For the hinge loss turn 0/1 labels into ±1 with ``2 * y - 1``.

>>> X, y = moons(100, noise=0.1, seed=0)
>>> X.shape, sorted(set(y.tolist()))
((100, 2), [0, 1])
>>> X_train, y_train, X_val, y_val = train_val_split(X, y, val_fraction=0.2, seed=0)
>>> len(X_train), len(X_val)
(80, 20)
"""

from __future__ import annotations


import numpy as np

from engine.args import is_int, is_real

__all__ = [
    "moons", "circles", "spirals", "xor", "blobs", "pass_class", "digits",
    "check_dataset", "train_val_split", "batches",
]


def _count(n, what="n", least=1):
    if not is_int(n) or n < least:
        raise ValueError(f"{what} must be an int >= {least}, got {n!r}")
    return int(n)


def _noise(noise, what="noise"):
    if not is_real(noise) or not noise >= 0:
        raise ValueError(f"{what} must be a number >= 0 (a standard deviation), got {noise!r}")
    return float(noise)


def _shuffled(rng, X, y):
    order = rng.permutation(len(y))
    return X[order], y[order].astype(int)


def moons(n=100, noise=0.1, seed=0):
    """Two interleaving half circles (as scikit-learn's make_moons): label 0 the upper one."""
    n, noise, rng = _count(n, least=2), _noise(noise), np.random.default_rng(seed)
    n_upper = n // 2
    t_upper, t_lower = np.linspace(0, np.pi, n_upper), np.linspace(0, np.pi, n - n_upper)
    X = np.concatenate([
        np.stack([np.cos(t_upper), np.sin(t_upper)], 1),
        np.stack([1 - np.cos(t_lower), 0.5 - np.sin(t_lower)], 1),
    ])
    y = np.repeat([0, 1], [n_upper, n - n_upper])
    return _shuffled(rng, X + rng.normal(0, noise, X.shape), y)


def circles(n=100, noise=0.05, factor=0.5, seed=0):
    """A small circle (label 1) inside a large one (label 0); ``factor`` is the radius ratio.

    >>> X, y = circles(200, noise=0.0, seed=1)
    >>> bool(np.allclose(np.hypot(X[y == 1, 0], X[y == 1, 1]), 0.5))
    True
    """
    n, noise, rng = _count(n, least=2), _noise(noise), np.random.default_rng(seed)
    if not is_real(factor) or not 0 < factor < 1:
        raise ValueError(f"circles factor is the inner radius over the outer one and must be in (0, 1), got {factor!r}")
    n_outer = n // 2
    t_outer = np.linspace(0, 2 * np.pi, n_outer, endpoint=False)
    t_inner = np.linspace(0, 2 * np.pi, n - n_outer, endpoint=False)
    X = np.concatenate([
        np.stack([np.cos(t_outer), np.sin(t_outer)], 1),
        factor * np.stack([np.cos(t_inner), np.sin(t_inner)], 1),
    ])
    y = np.repeat([0, 1], [n_outer, n - n_outer])
    return _shuffled(rng, X + rng.normal(0, noise, X.shape), y)


def spirals(n=300, k=3, noise=0.2, seed=0):
    """k arms spiralling out from the centre, one class per arm (labels 0..k-1).

    >>> X, y = spirals(90, k=3, seed=0)
    >>> np.bincount(y).tolist()
    [30, 30, 30]
    """
    n, k, noise, rng = _count(n), _count(k, "k (the number of classes)", 2), _noise(noise), np.random.default_rng(seed)
    sizes = [n // k + (c < n % k) for c in range(k)]
    parts = []
    for c, m in enumerate(sizes):
        r = np.linspace(0.0, 1.0, m)
        # Each arm turns through 4 radians; the noise is on the angle.
        t = np.linspace(c * 2 * np.pi / k, c * 2 * np.pi / k + 4, m) + rng.normal(0, noise, m)
        parts.append(np.stack([r * np.sin(t), r * np.cos(t)], 1))
    y = np.repeat(np.arange(k), sizes)
    return _shuffled(rng, np.concatenate(parts), y)


def xor(n=4, noise=0.0, seed=0):
    """The XOR problem: label 1 where exactly one coordinate is 1.

    ``n=4`` without noise is the truth table; larger n repeats the four
    corners (n must be a multiple of 4) with Gaussian noise around them.

    >>> X, y = xor()
    >>> [(row.tolist(), int(t)) for row, t in zip(X, y)]
    [([0.0, 0.0], 0), ([0.0, 1.0], 1), ([1.0, 0.0], 1), ([1.0, 1.0], 0)]
    """
    n, noise = _count(n, least=4), _noise(noise)
    if n % 4:
        raise ValueError(f"xor n must be a multiple of 4 (the four corners, repeated), got {n}")
    corners = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    X = np.tile(corners, (n // 4, 1))
    y = np.tile([0, 1, 1, 0], n // 4)
    if n == 4 and noise == 0:
        return X, y
    rng = np.random.default_rng(seed)
    return _shuffled(rng, X + rng.normal(0, noise, X.shape), y)


def blobs(n=100, spread=0.5, margin=0.2, seed=0):
    """Two Gaussian blobs that a straight line separates with room to spare.

    Centres (−1, −1) (label 0) and (1, 1) (label 1); points closer than
    ``margin`` to the line x1 + x2 = 0, or on its wrong side, are drawn again,
    so the data is linearly separable for any seed.
    """
    n, spread, rng = _count(n, least=2), _noise(spread, "spread"), np.random.default_rng(seed)
    # The centres lie √2 from the line: a smaller margin keeps over half of every redraw,
    # a larger one would redraw (nearly) for ever.
    if not is_real(margin) or not 0 <= margin < np.sqrt(2):
        raise ValueError(f"blobs margin must be a number in [0, √2 ≈ 1.414) (the centres' distance from the line), got {margin!r}")
    n0 = n // 2
    y = np.repeat([0, 1], [n0, n - n0])
    sign = 2 * y - 1.0
    X = np.empty((n, 2))
    todo = np.arange(n)
    while len(todo):
        X[todo] = sign[todo, None] * 1.0 + rng.normal(0, spread, (len(todo), 2))
        distance = sign[todo] * X[todo].sum(1) / np.sqrt(2)
        todo = todo[distance < margin]
    return _shuffled(rng, X, y)


def pass_class(n=100, noise=True, seed=0):
    """The lectures' "will I pass this class?": lectures attended, hours on the project.

    x1 is the number of lectures attended (0–12), x2 the hours spent on the
    final project (0–12). The chance to pass is σ(0.9·x1 + 0.7·x2 − 10):
    with ``noise`` the label is drawn from it, otherwise it is 1 where the
    chance is at least ½.

    >>> X, y = pass_class(5, noise=False, seed=0)
    >>> bool(((0.9 * X[:, 0] + 0.7 * X[:, 1] >= 10) == (y == 1)).all())
    True
    """
    n, rng = _count(n), np.random.default_rng(seed)
    lectures = rng.integers(0, 13, n).astype(float)
    hours = np.round(rng.uniform(0, 12, n), 1)
    z = 0.9 * lectures + 0.7 * hours - 10
    y = rng.random(n) < 1 / (1 + np.exp(-z)) if noise else z >= 0
    return np.stack([lectures, hours], 1), y.astype(int)


def digits():
    """scikit-learn's bundled handwritten digits: X (1797, 64) in [0, 1], y the digit 0..9.

    8×8 images of 16 grey levels (row by row), shipped inside scikit-learn:
    no download. scikit-learn is an optional extra: ``pip install -e ".[data]"``.

    >>> X, y = digits()
    >>> X.shape, float(X.min()), float(X.max()), sorted(set(y.tolist())) == list(range(10))
    ((1797, 64), 0.0, 1.0, True)
    """
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise ImportError("digits() reads scikit-learn's bundled copy, and scikit-learn is not installed; "
                          'install the data extra: pip install -e ".[data]" (or pip install scikit-learn)') from None
    data = load_digits()
    return data.data / 16.0, data.target.astype(int)


def _real(a, name, what):
    # float() of a complex array keeps the real part with only a warning.
    if a.dtype.kind == "c":
        raise ValueError(f"{what}: {name} holds complex numbers ({a.dtype}); use {name}.real, "
                         f"or the real and imaginary parts as separate features")
    return a


def check_dataset(X, y=None, what="dataset"):
    """X as a 2-D float array (and y as a 1-D array), or a clear error.

    >>> check_dataset([[1.0, float("nan")]], [0])
    Traceback (most recent call last):
    ...
    ValueError: dataset: X has a NaN or infinite value at row 1, column 2; clean or drop that sample
    """
    X = _real(np.asarray(X), "X", what).astype(float, copy=False)
    if X.size == 0:
        raise ValueError(f"{what} is empty: X has no samples; training needs at least one")
    if X.ndim == 1:
        raise ValueError(f"{what}: X must be 2-D (samples × features), got shape {X.shape}; one feature per sample would be X.reshape(-1, 1)")
    if X.ndim != 2:
        raise ValueError(f"{what}: X must be 2-D (samples × features), got shape {X.shape}")
    bad = np.argwhere(~np.isfinite(X))
    if len(bad):
        r, c = bad[0]
        raise ValueError(f"{what}: X has a NaN or infinite value at row {r + 1}, column {c + 1}; clean or drop that sample")
    if y is None:
        return X
    y = _real(np.asarray(y), "y", what)
    if y.ndim != 1 or len(y) != len(X):
        raise ValueError(f"{what}: y must be 1-D with one target per row of X ({len(X)}), got shape {y.shape}")
    if y.dtype.kind not in "biuf":
        raise ValueError(f"{what}: y must hold numbers, got dtype {y.dtype}")
    if y.dtype.kind == "f" and not np.isfinite(y).all():
        i = int(np.argmin(np.isfinite(y)))
        raise ValueError(f"{what}: y has a NaN or infinite value at sample {i + 1}")
    return X, y


def train_val_split(X, y, val_fraction=0.2, seed=0):
    """Shuffle and split into ``(X_train, y_train, X_val, y_val)``."""
    X, y = check_dataset(X, y)
    return checked_split(X, y, val_fraction, seed)


def checked_split(X, y, val_fraction, seed):
    # train_val_split for data check_dataset has passed (fit checks it at its door).
    if not is_real(val_fraction) or not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction!r}")
    n_val = int(round(len(X) * val_fraction))
    if not 0 < n_val < len(X):
        raise ValueError(f"val_fraction={val_fraction} of {len(X)} samples leaves an empty train or validation set")
    order = np.random.default_rng(seed).permutation(len(X))
    val, train = order[:n_val], order[n_val:]
    return X[train], y[train], X[val], y[val]


def batches(X, y, batch_size=None, shuffle=True, seed=None):
    """Yield ``(X_batch, y_batch)`` pairs covering the data once.

    ``batch_size=None`` is one full batch; the last batch may be smaller.
    ``seed`` may be an int or a numpy Generator (the training loop passes its own).

    >>> X, y = np.arange(10.0).reshape(5, 2), np.arange(5)
    >>> [yb.tolist() for _, yb in batches(X, y, batch_size=2, shuffle=False)]
    [[0, 1], [2, 3], [4]]
    """
    X, y = check_dataset(X, y)
    yield from checked_batches(X, y, batch_size, shuffle, seed)


def checked_batches(X, y, batch_size, shuffle, seed):
    # batches for data check_dataset has passed: fit checks it once, not every epoch.
    n = len(X)
    size = n if batch_size is None else _count(batch_size, "batch_size")
    order = np.random.default_rng(seed).permutation(n) if shuffle else np.arange(n)
    for start in range(0, n, size):
        part = order[start:start + size]
        yield X[part], y[part]
