"""Datasets: shapes, labels, reproducibility, the geometry each one promises; splits and batches."""

import math

import numpy as np
import pytest

from nn import batches, blobs, check_dataset, circles, moons, pass_class, spirals, train_val_split, xor

GENERATORS = [
    (moons, dict(n=101, noise=0.1), 2),
    (circles, dict(n=101, noise=0.05), 2),
    (spirals, dict(n=101, k=4), 4),
    (xor, dict(n=100, noise=0.1), 2),
    (blobs, dict(n=101), 2),
    (pass_class, dict(n=101), 2),
]


@pytest.mark.parametrize("make, options, k", GENERATORS, ids=[g[0].__name__ for g in GENERATORS])
def test_shapes_labels_and_seeds(make, options, k):
    X, y = make(**options, seed=3)
    n = options["n"]
    assert X.shape == (n, 2) and X.dtype == float and y.shape == (n,) and y.dtype.kind == "i"
    assert set(y.tolist()) == set(range(k))
    assert np.isfinite(X).all()
    X2, y2 = make(**options, seed=3)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)
    X3, _ = make(**options, seed=4)
    assert not np.array_equal(X, X3)


def test_moons_without_noise_lie_on_their_half_circles():
    X, y = moons(60, noise=0.0, seed=0)
    upper, lower = X[y == 0], X[y == 1]
    assert np.allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0) and (upper[:, 1] >= -1e-12).all()
    assert np.allclose(np.hypot(lower[:, 0] - 1, lower[:, 1] - 0.5), 1.0) and (lower[:, 1] <= 0.5 + 1e-12).all()


def test_circles_radii():
    X, y = circles(80, noise=0.0, factor=0.3, seed=0)
    r = np.hypot(X[:, 0], X[:, 1])
    assert np.allclose(r[y == 0], 1.0) and np.allclose(r[y == 1], 0.3)


def test_spirals_balanced_classes():
    _, y = spirals(300, k=3, seed=0)
    assert np.bincount(y).tolist() == [100, 100, 100]


def test_xor_truth_table_and_noisy_version():
    X, y = xor()
    assert X.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]] and y.tolist() == [0, 1, 1, 0]
    X, y = xor(400, noise=0.05, seed=0)
    corner = np.round(X).astype(int)
    assert (corner[:, 0] ^ corner[:, 1] == y).all()


def test_blobs_are_linearly_separable_with_margin():
    for seed in range(5):
        X, y = blobs(200, spread=1.0, margin=0.3, seed=seed)
        distance = (2 * y - 1) * X.sum(1) / math.sqrt(2)
        assert distance.min() >= 0.3


def test_pass_class_features_and_trend():
    X, y = pass_class(2000, seed=0)
    lectures, hours = X[:, 0], X[:, 1]
    assert set(np.unique(lectures)) <= set(range(13)) and hours.min() >= 0 and hours.max() <= 12
    # more lectures and more project hours: more passes
    assert y[lectures >= 9].mean() > y[lectures <= 3].mean()
    assert y[hours >= 9].mean() > y[hours <= 3].mean()
    X, y = pass_class(200, noise=False, seed=1)
    assert ((0.9 * X[:, 0] + 0.7 * X[:, 1] - 10 >= 0) == (y == 1)).all()


def test_train_val_split_partitions_the_data():
    X = np.arange(40.0).reshape(20, 2)
    y = np.arange(20)
    Xt, yt, Xv, yv = train_val_split(X, y, val_fraction=0.25, seed=1)
    assert len(yt) == 15 and len(yv) == 5
    assert sorted(yt.tolist() + yv.tolist()) == list(range(20))
    assert (Xt[:, 0] == 2 * yt).all() and (Xv[:, 0] == 2 * yv).all()
    with pytest.raises(ValueError, match=r"val_fraction must be in \(0, 1\)"):
        train_val_split(X, y, val_fraction=1.0)
    with pytest.raises(ValueError, match=r"val_fraction must be in \(0, 1\), got '0.2'"):
        train_val_split(X, y, val_fraction="0.2")
    with pytest.raises(ValueError, match="leaves an empty"):
        train_val_split(X[:2], y[:2], val_fraction=0.1)


def test_batches_cover_the_data_once_and_shuffle_with_a_seed():
    X, y = np.arange(14.0).reshape(7, 2), np.arange(7)
    parts = list(batches(X, y, batch_size=3, seed=0))
    assert [len(yb) for _, yb in parts] == [3, 3, 1]
    assert sorted(np.concatenate([yb for _, yb in parts]).tolist()) == list(range(7))
    assert [yb.tolist() for _, yb in batches(X, y, batch_size=3, seed=0)] == [yb.tolist() for _, yb in parts]
    (Xb, yb), = batches(X, y, shuffle=False)
    assert yb.tolist() == list(range(7))
    with pytest.raises(ValueError, match="batch_size must be an int >= 1, got 0"):
        list(batches(X, y, batch_size=0))


# --- bad input -------------------------------------------------------------------


def test_empty_dataset_is_a_clear_error():
    with pytest.raises(ValueError, match="is empty: X has no samples"):
        check_dataset(np.zeros((0, 2)), [])
    with pytest.raises(ValueError, match="is empty"):
        list(batches([], []))


def test_nan_in_the_data_is_a_clear_error():
    X = np.ones((4, 2))
    X[2, 1] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite value at row 3, column 2"):
        check_dataset(X, [0, 1, 0, 1])
    with pytest.raises(ValueError, match="y has a NaN or infinite value at sample 2"):
        check_dataset(np.ones((3, 2)), [0.0, np.nan, 1.0])


def test_mismatched_or_misshapen_data():
    with pytest.raises(ValueError, match=r"one target per row of X \(3\)"):
        check_dataset(np.ones((3, 2)), [0, 1])
    with pytest.raises(ValueError, match="must be 2-D"):
        check_dataset(np.ones(3), [0, 1, 0])
    with pytest.raises(ValueError, match="must hold numbers"):
        check_dataset(np.ones((2, 2)), ["a", "b"])


@pytest.mark.parametrize("make, options", [
    (moons, dict(n=1)), (circles, dict(factor=1.5)), (circles, dict(factor="0.5")), (spirals, dict(k=1)),
    (xor, dict(n=6)), (moons, dict(noise=-1)), (blobs, dict(spread=math.nan)), (blobs, dict(margin=2.0)), (pass_class, dict(n=0)),
])
def test_bad_generator_options(make, options):
    # The message names the option that was wrong.
    with pytest.raises(ValueError, match=next(iter(options))):
        make(**options)
