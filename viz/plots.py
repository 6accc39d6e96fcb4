"""Plots for training: loss and accuracy curves, decision boundaries, gradient size per layer.

matplotlib is imported when a plot is made, not when ``viz`` is. Each
function draws into ``ax`` when given one, else into a new figure, and
returns the figure.

>>> history = {"loss": [0.9, 0.5, 0.3], "accuracy": [0.5, 0.8, 0.9]}
>>> fig = plot_history(history)
>>> [ax.get_title() for ax in fig.axes]
['loss', 'accuracy']
"""

from __future__ import annotations

import math

import numpy as np

from engine import NOT_COMPUTED
from engine.args import is_int, type_name

__all__ = ["plot_history", "plot_decision_boundary", "grad_magnitudes", "plot_grad_magnitudes", "history_series",
           "plot_misclassified"]

# Names a history may use for each curve; nn's History uses the first ones.
_KEYS = {
    "loss": ("loss", "train_loss"),
    "acc": ("acc", "accuracy", "train_acc", "train_accuracy"),
    "val_loss": ("val_loss",),
    "val_acc": ("val_acc", "val_accuracy"),
}


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("plots need matplotlib: pip install matplotlib (or gradflow[plots])") from None
    return plt


def _axes(ax, ncols=1, size=(5.0, 3.6)):
    if ax is not None:
        axes = list(ax) if isinstance(ax, (list, tuple, np.ndarray)) else [ax]
        if len(axes) != ncols:
            raise ValueError(f"this plot needs {ncols} axes, got {len(axes)}")
        return axes[0].figure, axes
    plt = _pyplot()
    fig, axes = plt.subplots(1, ncols, figsize=(size[0] * ncols, size[1]), squeeze=False)
    return fig, list(axes[0])


def history_series(history) -> dict:
    """The curves of a training history as ``{"loss": [...], "acc": [...], ...}``.

    Takes nn's ``History`` or a dict of lists (``accuracy`` and ``val_accuracy``
    are accepted too); empty or all-NaN curves are dropped.

    >>> history_series({"loss": [1.0, 0.5], "val_accuracy": [0.5, 0.75]})
    {'loss': [1.0, 0.5], 'val_acc': [0.5, 0.75]}
    """
    get = history.get if isinstance(history, dict) else (lambda k, default=None: getattr(history, k, default))
    found = {}
    for name, keys in _KEYS.items():
        for key in keys:
            values = get(key, None)
            if values is None:
                continue
            try:
                values = [float(v) for v in values]
            except (TypeError, ValueError):
                raise TypeError(f"history[{key!r}] must be a list of numbers") from None
            if values and not all(math.isnan(v) for v in values):
                found[name] = values
            break
    if "loss" not in found and "val_loss" not in found:
        raise ValueError(
            "the history has no loss curve; give nn's History or a dict with a 'loss' list "
            "(and optionally 'accuracy', 'val_loss', 'val_accuracy')"
        )
    return found


def plot_history(history, ax=None, *, loss=None):
    """Loss (left) and accuracy (right, when recorded) per epoch, training and validation.

    ``loss`` names the loss in the title ("hinge loss"); the legend sits under the axes, off the curves.
    """
    series = history_series(history)
    has_acc = "acc" in series or "val_acc" in series
    fig, axes = _axes(ax, 2 if has_acc else 1)
    panels = [("loss", axes[0])] + ([("accuracy", axes[1])] if has_acc else [])
    for title, a in panels:
        key = "loss" if title == "loss" else "acc"
        for prefix, label in (("", "training"), ("val_", "validation")):
            values = series.get(prefix + key)
            if values:
                a.plot(range(1, len(values) + 1), values, label=label, linestyle="-" if not prefix else "--")
        named = loss if loss is None or "loss" in loss else f"{loss} loss"
        a.set_title(named if title == "loss" and loss else title)
        a.set_xlabel("epoch")
        if title == "loss" and all(v > 0 for k in ("loss", "val_loss") for v in series.get(k, [])):
            a.set_yscale("log")
        if title == "accuracy":
            a.set_ylim(-0.02, 1.02)
        a.grid(alpha=0.3)
        if len(a.get_lines()) > 1:  # one curve needs no legend; two get one under the axes, off the data
            a.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, frameon=False)
    fig.tight_layout()
    return fig


# --- decision boundaries -----------------------------------------------------------


def _scores(model, points):
    # Replay one recorded graph over the whole grid (engine.replay): thousands
    # of points in one pass. Models that branch on values fall back to one
    # eager pass per point.
    from engine import Value

    try:
        from engine.replay import ReplayError, trace

        out = trace(lambda x: model(x)).forward(points)
        return np.asarray(out, dtype=float).reshape(len(points), -1)
    except (ImportError, ReplayError, TypeError):
        rows = []
        for p in points.tolist():
            out = model(p)
            out = out if isinstance(out, (list, tuple)) else [out]
            rows.append([o.data if isinstance(o, Value) else float(o) for o in out])
        return np.array(rows, dtype=float)


def _labels(scores, loss, threshold):
    if loss is not None:
        from nn import get_loss

        return np.asarray(get_loss(loss).predict(scores))
    if scores.shape[1] > 1:
        return scores.argmax(axis=1)
    return (scores[:, 0] > threshold).astype(int)


def plot_decision_boundary(model, X, y, ax=None, *, loss=None, threshold=None, resolution=150, margin=0.5,
                           mark=None, mark_label="marked sample"):
    """The regions a 2-input classifier assigns to each class, with the data on top.

    ``model`` takes one sample (a list of two numbers) and returns a Value or a
    list of Values, as nn's MLP does. Labels come from ``loss``'s rule when a
    loss is named (as in training), else from the largest output, or for one
    output from ``score > threshold`` (0, or 0.5 for a sigmoid output layer).
    ``mark`` (a point x₁, x₂) is drawn as a star, named ``mark_label`` in the legend.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"a decision boundary needs 2-D inputs: X of shape (n, 2), got shape {X.shape}")
    if len(y) != len(X):
        raise ValueError(f"X has {len(X)} samples but y has {len(y)} labels")
    if not is_int(resolution) or not 2 <= resolution <= 1000:
        raise ValueError(f"resolution must be an int from 2 to 1000 (grid points per side), got {resolution!r}")
    if threshold is None:
        layers = getattr(model, "layers", None)
        threshold = 0.5 if layers and getattr(layers[-1], "activation", None) == "sigmoid" else 0.0
    lo, hi = X.min(axis=0) - margin, X.max(axis=0) + margin
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution))
    grid = np.column_stack([gx.ravel(), gy.ravel()])
    scores = _scores(model, grid)
    regions = _labels(scores, loss, threshold).reshape(gx.shape)
    classes = np.unique(np.concatenate([np.unique(y), np.unique(regions)]))
    index = {c: i for i, c in enumerate(classes.tolist())}
    fig, (a,) = _axes(ax, 1, size=(5.0, 4.4))
    plt = _pyplot()
    cmap = plt.get_cmap("coolwarm" if len(classes) <= 2 else "tab10")
    colors = [cmap(i / max(1, len(classes) - 1)) if len(classes) <= 2 else cmap(i) for i in range(len(classes))]
    from matplotlib.colors import ListedColormap

    a.contourf(gx, gy, np.vectorize(index.get)(regions), levels=np.arange(len(classes) + 1) - 0.5,
               cmap=ListedColormap(colors), alpha=0.3)
    if scores.shape[1] == 1 and loss is None:
        a.contour(gx, gy, scores[:, 0].reshape(gx.shape), levels=[threshold], colors="k", linewidths=1)
    for c in classes.tolist():
        mask = y == c
        if mask.any():
            a.scatter(X[mask, 0], X[mask, 1], color=colors[index[c]], edgecolor="k", s=22, label=f"class {c}")
    if mark is not None:
        mx, my = (float(v) for v in mark)
        a.scatter([mx], [my], marker="*", s=260, color="gold", edgecolor="k", linewidths=1.2, zorder=5, label=mark_label)
        lo, hi = np.minimum(lo, [mx - margin, my - margin]), np.maximum(hi, [mx + margin, my + margin])
    a.set_xlim(lo[0], hi[0])
    a.set_ylim(lo[1], hi[1])
    a.set_xlabel("x₁ (first input)")
    a.set_ylabel("x₂ (second input)")
    a.set_title("decision boundary")
    a.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=3, fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


# --- gradient size per layer -------------------------------------------------------


def grad_magnitudes(model) -> dict:
    """Mean |grad| of the parameters of each layer, in order.

    Layers are the first part of the parameter names (``layer1.neuron3.w2``
    belongs to ``layer1``). ``model`` is a Module with ``named_parameters()``,
    or a dict name -> Value.

    >>> from engine import Value
    >>> a, b = Value(1.0, kind="param"), Value(1.0, kind="param")
    >>> a.grad, b.grad = 0.5, -1.5
    >>> grad_magnitudes({"layer1.neuron1.w1": a, "layer1.neuron1.b": b})
    {'layer1': 1.0}
    """
    if hasattr(model, "named_parameters"):
        named = list(model.named_parameters())
    elif isinstance(model, dict):
        named = list(model.items())
    else:
        raise TypeError(f"grad_magnitudes needs a Module or a dict name -> Value, got {type_name(model)}")
    if not named:
        raise ValueError("grad_magnitudes: the model has no parameters")
    if all(p.grad is NOT_COMPUTED for _, p in named):
        # Every mean would read 0, which looks like gradients that vanished.
        raise ValueError("grad_magnitudes: no backward pass has reached the parameters yet; "
                         "call loss.backward() first")
    sums = {}
    for name, p in named:
        layer = name.split(".", 1)[0]
        total, count = sums.get(layer, (0.0, 0))
        sums[layer] = (total + abs(float(p.grad)), count + 1)
    return {k: total / count for k, (total, count) in sums.items()}


def plot_grad_magnitudes(models, ax=None):
    """Mean |grad| per layer on a log scale: where gradients vanish, the curve drops.

    ``models`` is one model or a dict label -> model (to compare, say, sigmoid
    with ReLU); run a backward pass on each first.
    """
    if not isinstance(models, dict) or all(hasattr(v, "grad") for v in models.values()):
        models = {"": models}
    fig, (a,) = _axes(ax, 1)
    for label, model in models.items():
        mags = grad_magnitudes(model)
        values = [max(v, 1e-300) for v in mags.values()]  # a log axis cannot show 0
        a.plot(list(mags), values, marker="o", label=label or None)
    a.set_yscale("log")
    a.set_xlabel("layer (input side first)")
    a.set_ylabel("mean |grad| of parameters")
    a.set_title("gradient size per layer")
    a.grid(alpha=0.3, which="both")
    if any(models):
        a.legend()
    fig.tight_layout()
    return fig


# --- images a model got wrong -------------------------------------------------------


def plot_misclassified(X, y, predicted, *, shape=(8, 8), most=24, columns=8):
    """A grid of the images the model got wrong, each titled "true → predicted".

    ``X`` holds one flattened image per row (8×8 digits by default), ``y``
    the true labels, ``predicted`` the model's. Shows up to ``most`` of them,
    in data order, and says how many there were in all.

    >>> X = np.zeros((3, 64)); fig = plot_misclassified(X, [1, 2, 3], [1, 7, 3])
    >>> fig.axes[0].get_title(), fig._suptitle.get_text()
    ('2 → 7', '1 of 3 images misclassified (true → predicted)')
    """
    X, y, predicted = np.asarray(X, dtype=float), np.asarray(y), np.asarray(predicted)
    if X.ndim != 2 or X.shape[1] != shape[0] * shape[1]:
        raise ValueError(f"plot_misclassified: X must hold one flattened {shape[0]}×{shape[1]} image per row, "
                         f"got shape {X.shape}")
    if not len(y) == len(predicted) == len(X):
        raise ValueError(f"plot_misclassified: X, y and predicted need one entry per image; got {len(X)}, "
                         f"{len(y)} and {len(predicted)}")
    wrong = np.flatnonzero(y != predicted)
    shown = wrong[:most]
    plt = _pyplot()
    rows = max(1, math.ceil(len(shown) / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(1.3 * columns, 1.5 * rows + 0.5), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, i in zip(axes.ravel(), shown):
        ax.imshow(X[i].reshape(shape), cmap="gray_r", interpolation="nearest")
        ax.set_title(f"{y[i]} → {predicted[i]}", fontsize=10, color="firebrick")
    more = f" (the first {len(shown)} shown)" if len(wrong) > len(shown) else ""
    fig.suptitle(f"{len(wrong)} of {len(X)} images misclassified (true → predicted){more}" if len(wrong) else
                 f"none of {len(X)} images misclassified")
    fig.tight_layout()
    return fig
