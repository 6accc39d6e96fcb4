# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 5. Training
#
# **What this notebook teaches.** Backprop gives the gradient; training is what you do with it.
# Here you will
#
# 1. compare two losses, mean squared error (on the lectures' table of predicted and actual
#    grades) and binary cross-entropy, and see why classifiers use the second;
# 2. write the gradient-descent loop yourself (predict, loss, gradient, step, repeat), then let
#    `nn.fit` run it, and run it again as one replay over the whole batch;
# 3. compare full-batch gradient descent, stochastic gradient descent and mini-batches;
# 4. try learning rates that are too small, about right and too large;
# 5. add momentum, Nesterov momentum and Adam;
# 6. fight overfitting with an L2 penalty, dropout and early stopping;
# 7. draw decision boundaries on moons and spirals.
#
# Everything is small on purpose (a few dozen points, a few dozen epochs) so each cell runs in
# seconds; raise the numbers at the top of a cell to see more.

# %%
import math
import time

import matplotlib.pyplot as plt
import numpy as np

from engine import Value
from nn import MLP, SGD, Adam, bce, bce_with_logits, fit, moons, mse, spirals
from viz.plots import plot_decision_boundary, plot_history

# %matplotlib inline


def curves(histories, key="loss", title="", ax=None, log=False):
    """Plot one curve per named history."""
    ax = ax or plt.subplots(figsize=(6, 3.5))[1]
    for name, h in histories.items():
        ax.plot(range(1, len(h[key]) + 1), h[key], label=name)
    ax.set_xlabel("epoch")
    ax.set_ylabel(key)
    if log:
        ax.set_yscale("log")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return ax


# %% [markdown]
# ## Mean squared error on the grade table
#
# The lectures' example of a regression loss: a model predicts each student's final grade (in
# percent) from the two features, and the table puts its predictions f(x) beside the grades the
# students actually got, y. Mean squared error averages the squared misses,
# J = (1/n) Σ (y − f(x))², and its gradient tells each prediction which way to move:
# ∂J/∂f_i = −2(y_i − f_i)/n.

# %%
predicted, actual = [30.0, 80.0, 85.0], [90.0, 20.0, 95.0]   # the lectures' f(x) and y; change them

f = [Value(v, f"f{i + 1}") for i, v in enumerate(predicted)]
J = mse(f, actual)
J.backward()
print(f"{'f(x)':>6} {'y':>6} {'(y − f)²':>10} {'∂J/∂f':>8}")
for fi, yi in zip(f, actual):
    print(f"{fi.data:>6.0f} {yi:>6.0f} {(yi - fi.data) ** 2:>10.0f} {fi.grad:>+8.2f}")
print(f"J = {J.data:.1f}: two misses of 60 points dominate; the miss of 10 adds little (squaring punishes large errors)")

# %% [markdown]
# ## Two losses for a classifier
#
# For a classifier whose output p is the probability of class 1:
#
# * **mean squared error**: J = (1/n) Σ (y − p)²;
# * **binary cross-entropy**: J = −(1/n) Σ [y·log p + (1 − y)·log(1 − p)].
#
# Take one sample of class 1 and let the network be confidently wrong (p near 0). Squared error
# is at most 1 there and its slope flattens out once p passes through a sigmoid; cross-entropy
# grows without bound and pushes back hard. gradflow computes both slopes:

# %%
for logit in (-6.0, -2.0, 0.0, 2.0):   # the network's raw output before the sigmoid
    grads = {}
    for name, loss_fn in (("MSE", mse), ("BCE", bce)):
        z = Value(logit, "z")
        loss = loss_fn([z.sigmoid()], [1.0])
        loss.backward()
        grads[name] = (loss.data, z.grad)
    print(f"z = {logit:+.0f} (p = {1 / (1 + math.exp(-logit)):.3f}):  "
          + "   ".join(f"{n} = {l:.3f}, dJ/dz = {g:+.3f}" for n, (l, g) in grads.items()))

# %% [markdown]
# > **Erratum — deck 001_ae477276b4929235.txt** (the slide "Binary Cross Entropy Loss")
# >
# > **The slide says** J(W) = (1/n) Σ y·log f(x) + (1 − y)·log(1 − f(x)), with no minus sign.
# > **What is right:** J(W) = **−**(1/n) Σ [y·log f(x) + (1 − y)·log(1 − f(x))]. Both logs are
# > negative, so without the minus the "loss" is ≤ 0, and minimising it drives the predictions
# > *away* from the labels.
# >
# > **Check:** one sample of class 1 predicted at p = 0.5: the slide's formula, and `nn.bce` with
# > its gradient (gradient descent must raise p, so ∂J/∂p must be negative).

# %%
p_half = Value(0.5, "p")
J = bce([p_half], [1.0])
J.backward()
print(f"slide: {1 * math.log(0.5) + 0 * math.log(0.5):+.3f} (∂/∂p = +2: descent lowers p);  nn.bce: {J.data:+.3f}, ∂J/∂p = {p_half.grad:+.1f}")

# %% [markdown]
# With MSE the gradient at z = −6 is tiny (the sigmoid's σ' ≈ 0.0025 multiplies it), so a badly
# wrong network barely learns. With BCE, dJ/dz = p − y: the more wrong, the larger the push. This
# is why classifiers use cross-entropy, usually computed straight from the raw output z
# (`bce_with_logits`) which is also numerically safer.
#
# ## The gradient-descent loop, by hand
#
# 1. make predictions, 2. compute the loss, 3. compute the gradient of the loss with respect to every
# parameter (backward), 4. step each parameter against its gradient, 5. repeat.

# %%
n_points, hidden, learning_rate, epochs, seed = 60, 8, 0.5, 30, 0   # change these

X, y = moons(n_points, noise=0.1, seed=seed)
model = MLP(2, [hidden, 1], activation="tanh", seed=seed)
optimizer = SGD(model.parameters(), lr=learning_rate)
for epoch in range(epochs):
    outputs = [model(x) for x in X.tolist()]          # 1. predict (one list of outputs per sample)
    loss = bce_with_logits(outputs, y.tolist())       # 2. the loss, a mean over the samples
    optimizer.zero_grad()                             #    (gradients add up, so clear them first)
    loss.backward()                                   # 3. every parameter's gradient
    optimizer.step()                                  # 4. p ← p − η·∂J/∂p
    if epoch % 10 == 0 or epoch == epochs - 1:
        accuracy = np.mean((np.array([o[0].data for o in outputs]) > 0) == y)
        print(f"epoch {epoch:>3}: loss {loss.data:.4f}, accuracy {accuracy:.0%}")

# %% [markdown]
# `nn.fit` runs exactly this loop, and also keeps a history per epoch, shuffles mini-batches,
# holds out validation data and stops early when asked. With the same seed it starts from the same
# weights and gives the same numbers:

# %%
model = MLP(2, [hidden, 1], activation="tanh", seed=seed)
history = fit(model, X, y, loss="bce_with_logits", optimizer=SGD(model.parameters(), lr=learning_rate),
              epochs=epochs, progress=False)
print(f"fit: first loss {history.loss[0]:.4f}, last loss {history.loss[-1]:.4f}, accuracy {history.acc[-1]:.0%}")

# %% [markdown]
# ## The same loop, much faster
#
# The loop above builds a fresh graph for every sample at every step: about a hundred `Value`s per
# sample here, thousands per step. All samples share the same graph *shape*, only the numbers
# differ, so gradflow can record the graph once for one sample and replay it over the whole batch
# with numpy arrays, with the same op table: `fit(..., batched=True)`. For an `MLP` it knows
# more: every layer is the same weighted sum for every sample, so its layers run as one matrix
# product each, and the built-in losses have array versions of their own, so nothing is recorded
# at all. The gradients are the same up to rounding. (`fit`
# replays by default whenever it can check that the replay matches; dropout, which draws a new
# mask per sample, is trained eagerly.)

# %%
timings = {}
for batched in (False, True):
    model = MLP(2, [hidden, 1], activation="tanh", seed=seed)
    start = time.perf_counter()
    history = fit(model, X, y, loss="bce_with_logits", optimizer=SGD(model.parameters(), lr=learning_rate),
                  epochs=epochs, progress=False, batched=batched)
    timings[batched] = time.perf_counter() - start
    print(f"batched={batched!s:>5}: {1e3 * timings[batched]:.1f} ms, last loss {history.loss[-1]:.10f}")
print(f"the replay is {timings[False] / timings[True]:.0f}× faster here")

# %% [markdown]
# ## Full batch, stochastic, mini-batch
#
# * **Gradient descent** averages the gradient over *all* samples before each step: accurate, but one
#   step per epoch.
# * **Stochastic gradient descent (SGD)** steps after *each* sample: many cheap, noisy steps.
# * **Mini-batches** of B samples sit in between: a decent estimate of the gradient, several steps
#   per epoch. This is what almost everyone uses.
#
# Same model, same learning rate, same number of epochs (passes over the data):

# %%
epochs, learning_rate = 30, 0.2   # change these

runs = {}
for name, batch_size in (("full batch", None), ("mini-batch 10", 10), ("SGD (batch 1)", 1)):
    model = MLP(2, [hidden, 1], activation="tanh", seed=seed)
    start = time.perf_counter()
    runs[name] = fit(model, X, y, loss="bce_with_logits", optimizer=SGD(model.parameters(), lr=learning_rate),
                     epochs=epochs, batch_size=batch_size, progress=False, seed=seed)
    print(f"{name:>14}: final loss {runs[name].loss[-1]:.4f}, {1e3 * (time.perf_counter() - start):.0f} ms")
curves(runs, title="loss per epoch")
plt.show()

# %% [markdown]
# Per epoch, the smaller batches make more progress because they take more steps; their curve is
# also bumpier, because each step sees only part of the data.
#
# ## The learning rate
#
# Too small and training crawls; too large and each step overshoots the valley and the loss
# jumps around or grows. Try your own values.

# %%
rates, epochs = (0.02, 0.5, 8.0), 30   # change these

runs = {}
for lr in rates:
    model = MLP(2, [hidden, 1], activation="tanh", seed=seed)
    runs[f"η = {lr}"] = fit(model, X, y, loss="bce_with_logits", optimizer=SGD(model.parameters(), lr=lr),
                            epochs=epochs, progress=False)
curves(runs, title="full-batch gradient descent, three learning rates", log=True)
plt.show()

# %% [markdown]
# ## Momentum, Nesterov, Adam
#
# * **Momentum** keeps a running velocity, v ← γ·v + η·∇J, and steps w ← w − v: steps that agree
#   build up speed, steps that disagree cancel.
# * **Nesterov** momentum evaluates the gradient where the velocity is about to carry the weights
#   (a look ahead), which corrects the overshoot sooner.
# * **Adam** adapts the step of every parameter to the recent size of its own gradients, combined
#   with momentum.

# %%
learning_rate, epochs = 0.1, 40   # change these


optimizers = {   # each makes a fresh optimizer for a model's parameters
    "SGD": lambda ps: SGD(ps, lr=learning_rate),
    "momentum 0.9": lambda ps: SGD(ps, lr=learning_rate, momentum=0.9),
    "Nesterov 0.9": lambda ps: SGD(ps, lr=learning_rate, momentum=0.9, nesterov=True),
    "Adam": lambda ps: Adam(ps, lr=learning_rate),
}

runs = {}
for name, make in optimizers.items():
    model = MLP(2, [hidden, 1], activation="tanh", seed=seed)
    runs[name] = fit(model, X, y, loss="bce_with_logits", optimizer=make(model.parameters()), epochs=epochs, progress=False)
    print(f"{name:>13}: final loss {runs[name].loss[-1]:.4f}, accuracy {runs[name].acc[-1]:.0%}")
curves(runs, title="full batch, four optimizers", log=True)
plt.show()

# %% [markdown]
# ## Overfitting, and three cures
#
# A network with many parameters and few, noisy training points can fit the noise: the training
# loss keeps falling while the loss on *new* points (a validation set it never trains on) turns
# around and rises. Three standard cures:
#
# * an **L2 penalty** adds λ·Σw² to the loss, so large weights cost something and the function stays
#   smooth;
# * **dropout** sets a random part of the hidden activations to zero at each step while training,
#   so no unit can rely on any one other;
# * **early stopping** watches the validation loss and stops when it has not improved for
#   `patience` epochs, keeping the best weights seen.

# %%
n_train, n_val, noise = 24, 40, 0.25      # change these
hidden_layers, epochs, learning_rate = [10, 10], 60, 0.05
l2, dropout, patience = 1e-2, 0.3, 10

X_train, y_train = moons(n_train, noise=noise, seed=3)
X_val, y_val = moons(n_val, noise=noise, seed=4)


def train(dropout=0.0, **options):
    model = MLP(2, hidden_layers + [1], activation="relu", dropout=dropout, seed=0)
    history = fit(model, X_train, y_train, loss="bce_with_logits", optimizer=Adam(model.parameters(), lr=learning_rate),
                  epochs=epochs, val=(X_val, y_val), progress=False, **options)
    return model, history


models, runs = {}, {}
for name, options in (("plain", {}), (f"L2 λ = {l2}", {"l2": l2}), (f"dropout {dropout}", {"dropout": dropout}),
                      (f"early stopping, patience {patience}", {"patience": patience})):
    start = time.perf_counter()
    models[name], runs[name] = train(**options)
    h = runs[name]
    kept = (h.best_epoch or h.epochs) - 1   # early stopping hands back the weights of its best epoch
    print(f"{name:>28}: {h.epochs} epochs, model of epoch {kept + 1}: train loss {h.loss[kept]:.3f}, "
          f"validation loss {h.val_loss[kept]:.3f}, validation accuracy {h.val_acc[kept]:.0%}  "
          f"({time.perf_counter() - start:.1f} s)")

plot_history(runs["plain"])   # the plain run alone: training and validation curves part ways
plt.show()

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.5), sharey=True)
curves(runs, "loss", "training loss, all four", ax1)
curves(runs, "val_loss", "validation loss, all four", ax2)
plt.show()

# %% [markdown]
# The plain network drives its training loss towards zero while its validation loss climbs after
# a while (the dashed curve in the first plot): it has memorised the training points. The penalty and dropout keep the training loss
# higher and the validation loss flat; early stopping cuts the plain run off near its best
# validation loss and restores the weights from that epoch.
#
# ## Decision boundaries
#
# What the models learnt is easiest to see on the plane: colour every point by the class the
# model predicts, and draw the training data on top. The overfitted boundary snakes around
# individual points; the regularised ones are smoother.

# %%
fig, axes = plt.subplots(1, len(models), figsize=(4 * len(models), 3.8))
for ax, (name, model) in zip(axes, models.items()):
    plot_decision_boundary(model, X_train, y_train, ax=ax, loss="bce_with_logits")
    ax.set_title(name)
plt.show()

# %% [markdown]
# ## Spirals
#
# The lectures point at the TensorFlow Playground's spiral, which has *two* classes wound around
# each other. Here we take the harder three-arm version of Stanford's CS231n course notes: three
# arms, one class each. No straight line or simple curve separates them, so the network gets two
# hidden layers to bend its boundaries with, and the loss is the softmax cross-entropy over three
# outputs (one score per class). Set `arms = 2` for the Playground's two-class problem.

# %%
n_points, arms, hidden_layers, epochs = 150, 3, [16, 16], 100   # change these

X_spiral, y_spiral = spirals(n_points, k=arms, noise=0.1, seed=0)
model = MLP(2, hidden_layers + [arms], activation="relu", seed=0)
start = time.perf_counter()
history = fit(model, X_spiral, y_spiral, loss="softmax_cross_entropy", optimizer=Adam(model.parameters(), lr=0.05),
              epochs=epochs, progress=False)
print(f"training accuracy {history.acc[-1]:.0%} after {epochs} epochs ({time.perf_counter() - start:.1f} s)")

plot_history(history)
plt.show()
plot_decision_boundary(model, X_spiral, y_spiral, loss="softmax_cross_entropy")
plt.show()
