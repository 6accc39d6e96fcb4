# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
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
# 6. stop when the gradient is small, ‖∇J‖ < ε, and see the trap in that test;
# 7. fight overfitting with an L2 penalty, dropout and early stopping, and set underfitting beside
#    it;
# 8. derive the gradient of the softmax cross-entropy, p − y, and check it;
# 9. draw decision boundaries on moons and spirals.
#
# Everything is small on purpose (a few dozen points, a few dozen epochs) so each cell runs in
# seconds; raise the numbers at the top of a cell to see more.

# %%
import math
import time

import matplotlib.pyplot as plt
import numpy as np

from engine import Value
from nn import MLP, SGD, Adam, Neuron, bce, bce_with_logits, fit, moons, mse, softmax_cross_entropy, spirals
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
# > **Erratum — deck 002_94c761bf53992e40.txt** (the slide "Loss function - L(y, ŷ)")
# >
# > **The slide says** the prediction and the price paid "could be compared with the Euclidean
# > distance (also referred as L2 distance or Mean Square Error - MSE)", above the formula
# > (1/N)·Σ(y_i − ŷ_i)². **What is right:** the formula is the MSE, but the MSE is not the Euclidean
# > distance. The distance is the square *root* of the sum of squares, ‖y − ŷ‖ = √Σ(y_i − ŷ_i)²;
# > the MSE is its square divided by N, ‖y − ŷ‖²/N. Both are smallest at the same predictions, but
# > their values differ, and so do their gradients: the MSE's grows with the miss, the distance's
# > has length 1 whatever the miss.
# >
# > **Check:** both on the grade table above, with their gradients.

# %%
f_dist, f_mse = [Value(v) for v in predicted], [Value(v) for v in predicted]
distance = sum(((yi - fi) ** 2 for fi, yi in zip(f_dist, actual)), Value(0.0)) ** 0.5
distance.backward()
mse(f_mse, actual).backward()
print(f"Euclidean distance {distance.data:.2f}, its gradient {[round(v.grad, 3) for v in f_dist]} (length 1)")
print(f"MSE                {J.data:.1f}, its gradient {[round(v.grad, 2) for v in f_mse]}")

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
# > **Erratum — deck 001_ae477276b4929235.txt** (the same slide)
# >
# > **The slide labels** the first term, y·log f(x), "Actual" and the second, (1 − y)·log(1 − f(x)),
# > "Predicted". **What is right:** every term holds both. y and 1 − y come from the actual label;
# > f(x) and 1 − f(x) are the predicted probability. The labels belong under y and f(x), as the deck
# > places them on the MSE slide, (y − f(x))², "Actual" under y and "Predicted" under f(x). (So the
# > labels are not simply swapped: swapping them would be just as wrong.) The first term is the
# > one that counts when the actual class is 1, the second when it is 0.
# >
# > **Check:** for a sample of class 1, the term labelled "Predicted" is 0 whatever the prediction.

# %%
for p_pred in (0.9, 0.1):
    print(f"y = 1, f(x) = {p_pred}: y·log f = {1 * math.log(p_pred):+.3f},  (1 − y)·log(1 − f) = {0 * math.log(1 - p_pred):+.3f}")

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
# > **Erratum — deck 000_e15207e55994f5a1.txt** (the first "How have we trained before?" slide)
# >
# > **The slide says** "LOSS function: focus only 1 iteration; Loss Cost: focus on the whole".
# > **What is right:** the loss is measured on one *sample* (one prediction against its label); the
# > cost J averages those losses over the whole training set. An iteration is one update step, and
# > it sees one sample only in pure SGD: each iteration of the loop above uses all the samples, and
# > the number it prints is the cost.
# >
# > **Check:** the last iteration's `loss` against the mean of the per-sample losses.

# %%
per_sample = [bce_with_logits([o], [t]).data for o, t in zip(outputs, y.tolist())]
print(f"the iteration's loss {loss.data:.6f} = the mean of {len(per_sample)} per-sample losses {np.mean(per_sample):.6f} "
      f"(each between {min(per_sample):.4f} and {max(per_sample):.4f})")

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
# ### Your turn
#
# One step of gradient descent by hand: the prediction p = w·x with x = 2 and w = 1, the target
# t = 3 and the loss L = (p − t)². Write dL/dw and the weight w′ after one step with learning
# rate 0.1, then run the check. The stored attempt has the gradient right and the step wrong.

# %%
answers = {"dL/dw": -4, "w'": 0.6}  # your numbers

# %%
from viz.exercise import load

print(load("sheets/your_turn/05_one_gradient_descent_step.toml").grade(answers, student="you").feedback("exam"))

# %% [markdown]
# ## When to stop: ‖∇J‖ < ε
#
# The loops above run a fixed number of epochs. Deck 001's gradient-descent algorithm says "loop
# until convergence" and gives a test: keep going while ‖∇J‖ > ε, the length of the gradient
# vector over *all* parameters, √(Σ (∂J/∂p)²) (or while the loss still changes by more than ε).
# At a minimum the gradient is zero, and near one it is small, so the test stops close to a
# point where no direction goes down.
#
# Below, plain gradient descent fits a line (one linear `Neuron`, mean squared error) to twenty
# noisy points on y = 2x − 0.5, for three values of ε. The loss is a bowl with a single minimum,
# the gradient shrinks by about the same factor at every step, and each hundredfold smaller ε
# costs the same number of extra steps.

# %%
tolerances, learning_rate, max_steps = (1e-2, 1e-4, 1e-6), 0.3, 10_000   # change these

rng = np.random.default_rng(0)
x_line = rng.uniform(-1, 1, 20)
t_line = 2 * x_line - 0.5 + rng.normal(0, 0.2, 20)


def descend(unit, eps):
    """Gradient descent until ‖∇J‖ < eps; returns (steps taken, ‖∇J‖, J)."""
    optimizer = SGD(unit.parameters(), lr=learning_rate)
    for step in range(max_steps):
        J = mse([unit([xi]) for xi in x_line.tolist()], t_line.tolist())
        optimizer.zero_grad()
        J.backward()
        norm = math.sqrt(sum(p.grad ** 2 for p in unit.parameters()))
        if norm < eps:
            break
        optimizer.step()
    return step, norm, J.data


for eps in tolerances:
    line = Neuron(1, activation="linear", seed=0)
    step, norm, J = descend(line, eps)
    print(f"ε = {eps:.0e}: stopped after {step:>2} steps, ‖∇J‖ = {norm:.1e}, J = {J:.6f}, "
          f"line y = {line.w[0].data:.4f}·x {line.b.data:+.4f}")

# %% [markdown]
# The test says the gradient is small, not that the loss is. A zero gradient also marks a saddle,
# a flat plateau, or a unit that passes no gradient at all. The same data, a ReLU unit started with
# its bias at −3, so that w·x + b < 0 for every point: the ReLU outputs 0 everywhere, its gradient
# is exactly 0, and the test declares convergence before the first step, with the loss where it
# started. Check the loss, too, and where it matters, try other starting points.

# %%
dead = Neuron(1, activation="relu", seed=0)
dead.b.data = -3.0
step, norm, J = descend(dead, 1e-6)
print(f"ReLU unit, b = −3: stopped after {step} steps, ‖∇J‖ = {norm}, J = {J:.3f} "
      f"(the best line reaches {mse([line([xi]) for xi in x_line.tolist()], t_line.tolist()).data:.3f})")

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
# > **Erratum — deck 001_ae477276b4929235.txt** (the first "Stochastic Gradient Descent" slide)
# >
# > **The slide says** 3. pick a single data point i, 4. compute the gradient ∂J_i(W)/∂W, 5. update
# > W ← W − η·**∂J(W)/∂W**. **What is right:** step 5 uses the gradient step 4 computed, the one
# > sample's ∂J_i/∂W: W ← W − η·∂J_i(W)/∂W. ∂J/∂W is the full-batch gradient, which SGD exists to
# > avoid computing; with it, the slide's algorithm would be plain gradient descent that also picks
# > a sample for nothing.
# >
# > **Check:** at the same weights, the first sample's gradient and the full gradient for the first
# > few parameters.

# %%
model = MLP(2, [hidden, 1], activation="tanh", seed=seed)
bce_with_logits([model(X[0].tolist())], [y[0]]).backward()
one_sample = [p.grad for p in model.parameters()[:4]]
model.zero_grad()
bce_with_logits([model(x) for x in X.tolist()], y.tolist()).backward()
print("∂J_1/∂W:", np.round(one_sample, 4), "  ∂J/∂W:", np.round([p.grad for p in model.parameters()[:4]], 4))

# %% [markdown]
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
# ## Underfitting, beside overfitting
#
# Deck 001 draws three fits side by side: **underfitting**, the ideal fit and **overfitting**. A
# model that underfits lacks the capacity to follow the data; with no hidden layer, the network
# below is logistic regression, one straight boundary, and no straight line separates two moons.
# Its signature differs from overfitting's: the training loss stays high, and the validation loss
# is just as high (here even a little lower: with 24 noisy training points chance decides which
# set is easier). An overfitted model has a training loss far *below* its validation loss. The
# cure is the opposite too: more capacity (hidden units, layers, features), not less. Below, the
# three fits on the same data; the middle one is the L2 run from above.

# %%
too_simple = MLP(2, [1], seed=0)   # no hidden layer: w·x + b, one straight boundary
runs["too simple"] = fit(too_simple, X_train, y_train, loss="bce_with_logits",
                         optimizer=Adam(too_simple.parameters(), lr=learning_rate), epochs=epochs,
                         val=(X_val, y_val), progress=False)
fits = {"underfitting: no hidden layer": (too_simple, runs["too simple"]),
        f"about right: L2 λ = {l2}": (models[f"L2 λ = {l2}"], runs[f"L2 λ = {l2}"]),
        "overfitting: plain": (models["plain"], runs["plain"])}
fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
for ax, (name, (model, h)) in zip(axes, fits.items()):
    print(f"{name:>30}: training loss {h.loss[-1]:.3f}, validation loss {h.val_loss[-1]:.3f} "
          f"(accuracy {h.acc[-1]:.0%} and {h.val_acc[-1]:.0%})")
    plot_decision_boundary(model, X_train, y_train, ax=ax, loss="bce_with_logits")
    ax.set_title(name)
plt.show()

# %% [markdown]
# ## Softmax cross-entropy and its gradient, p − y
#
# With k classes a network gives k raw scores z_1 … z_k. The softmax turns them into
# probabilities, p_j = e^(z_j) / Σ_i e^(z_i), and the loss of a sample of class c is
# L = −log p_c. Write it as L = −z_c + log Σ_i e^(z_i) and differentiate with respect to one score z_j:
#
# * the first term gives −1 if j = c and 0 otherwise;
# * the second gives e^(z_j) / Σ_i e^(z_i) = p_j (the chain rule through the log and the sum).
#
# So **∂L/∂z_j = p_j − y_j**, with y the one-hot label (y_c = 1, the others 0): every score is pushed
# down by its probability, and the right one pulled up by 1. It is the same p − y as the sigmoid with
# binary cross-entropy above, which is the case k = 2. Over a batch of n samples the loss is the
# mean, and each sample's scores get (p − y)/n.
#
# gradflow's `softmax_cross_entropy` never uses this formula: it builds the graph of
# log Σ e^(z − m) + m − z_c (m, the largest score, keeps the exponentials from overflowing) and
# backpropagates through it. Its gradients and p − y agree:

# %%
scores, label = [2.0, -1.0, 0.5], 0   # change these: three raw scores and the true class

z = [Value(v, f"z{j + 1}") for j, v in enumerate(scores)]
L = softmax_cross_entropy([z], [label])
L.backward()
p = np.exp(scores) / np.exp(scores).sum()
one_hot = np.eye(len(scores))[label]
print(f"L = {L.data:.4f} = −log p_c = {-math.log(p[label]):.4f}")
print("p − y:   ", (p - one_hot).round(6))
print("gradflow:", np.round([zj.grad for zj in z], 6))

batch = np.random.default_rng(1).normal(size=(4, 3))   # four samples' scores, classes 0, 1, 2, 2
labels = [0, 1, 2, 2]
zs = [[Value(v) for v in row] for row in batch.tolist()]
softmax_cross_entropy(zs, labels).backward()
P = np.exp(batch) / np.exp(batch).sum(axis=1, keepdims=True)
print("batch of 4: largest gap between gradflow and (P − Y)/4:",
      f"{np.abs(np.array([[v.grad for v in row] for row in zs]) - (P - np.eye(3)[labels]) / 4).max():.1e}")

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
