"""viz.plots: history curves, decision boundaries, gradient size per layer."""

import math

import numpy as np
import pytest

pytest.importorskip("matplotlib")

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from engine import Value  # noqa: E402
from viz import plots  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_history_from_a_dict_and_from_nn():
    from nn import MLP, fit, xor

    series = plots.history_series({"loss": [3, 2], "accuracy": [0.5, 1], "val_loss": [], "val_accuracy": [math.nan]})
    assert series == {"loss": [3.0, 2.0], "acc": [0.5, 1.0]}
    X, y = xor()
    model = MLP(2, [4, 1], seed=0)
    history = fit(model, X, y, loss="bce_with_logits", epochs=3, val=(X, y), progress=False)
    fig = plots.plot_history(history)
    loss_ax, acc_ax = fig.axes
    assert [line.get_label() for line in loss_ax.lines] == ["training", "validation"]
    assert list(loss_ax.lines[0].get_ydata()) == history.loss
    assert list(acc_ax.lines[1].get_ydata()) == history.val_acc


def test_history_without_accuracy_has_one_panel_and_bad_histories_say_why():
    assert len(plots.plot_history({"loss": [1.0, 0.5]}).axes) == 1
    with pytest.raises(ValueError, match="no loss curve"):
        plots.plot_history({"accuracy": [0.5]})
    with pytest.raises(TypeError, match="list of numbers"):
        plots.plot_history({"loss": ["a lot"]})


def test_decision_boundary_regions_follow_the_model():
    # A "model" whose boundary is the line x1 = x2: class 1 below it.
    def model(x):
        return [x[0] - x[1]]

    X = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 0.5], [0.2, 1.5]])
    y = np.array([1, 0, 1, 0])
    grid = np.array([[1.0, -1.0], [-1.0, 1.0]])
    scores = plots._scores(lambda x: [Value(1.0) * x[0] - x[1]], grid)
    assert scores.tolist() == [[2.0], [-2.0]]
    assert plots._labels(scores, None, 0.0).tolist() == [1, 0]
    fig = plots.plot_decision_boundary(model, X, y, resolution=20)
    ax = fig.axes[0]
    assert ax.get_title() == "decision boundary" and len(ax.collections) >= 3


def test_decision_boundary_of_a_trained_mlp_uses_the_loss_rule():
    from nn import MLP, get_loss, spirals

    X, y = spirals(60, k=3, seed=0)
    model = MLP(2, [8, 3], seed=0)
    fig = plots.plot_decision_boundary(model, X, y, loss="softmax_cross_entropy", resolution=30)
    assert fig.axes[0].get_legend() is not None
    labels = plots._labels(plots._scores(model, X), "softmax_cross_entropy", 0.0)
    eager = np.array([[o.data for o in model(row)] for row in X.tolist()])
    assert (labels == get_loss("softmax_cross_entropy").predict(eager)).all()


def test_decision_boundary_bad_input():
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        plots.plot_decision_boundary(lambda x: [x[0]], np.zeros((4, 3)), np.zeros(4))
    with pytest.raises(ValueError, match="resolution"):
        plots.plot_decision_boundary(lambda x: [x[0]], np.zeros((4, 2)), np.zeros(4), resolution=1)


def test_gradients_vanish_through_sigmoid_layers():
    from nn import MLP

    model = MLP(2, [8, 8, 8, 8, 1], activation="sigmoid", seed=0)
    out = model([0.5, -0.5])[0]
    out.backward()
    mags = plots.grad_magnitudes(model)
    assert list(mags) == ["layer1", "layer2", "layer3", "layer4", "layer5"]
    assert mags["layer1"] < mags["layer3"] < mags["layer5"]  # each σ' ≤ 1/4 shrinks the gradient
    relu = MLP(2, [8, 8, 8, 8, 1], activation="relu", seed=0)
    relu([0.5, -0.5])[0].backward()
    fig = plots.plot_grad_magnitudes({"sigmoid": model, "relu": relu})
    ax = fig.axes[0]
    assert ax.get_yscale() == "log" and [line.get_label() for line in ax.lines] == ["sigmoid", "relu"]
    with pytest.raises(TypeError, match="Module or a dict"):
        plots.grad_magnitudes(42)
    with pytest.raises(ValueError, match="call loss.backward\\(\\) first"):
        plots.grad_magnitudes(MLP(2, [3, 1], seed=0))
