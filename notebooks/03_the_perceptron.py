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
# # 3. The perceptron
#
# **What this notebook teaches.** Before backpropagation there was the perceptron: one neuron, a
# step function, and a learning rule simple enough to run by hand. Here you will
#
# 1. train Rosenblatt's perceptron on the lectures' question *"will I pass this class?"* (features:
#    lectures attended, hours spent on the final project);
# 2. meet ADALINE's delta rule and see that its update is exactly minus the gradient of the squared
#    error — the gradient gradflow computes;
# 3. see why one neuron can never learn XOR, and how one hidden layer fixes it.

# %%
import matplotlib.pyplot as plt
import numpy as np

from engine import Value

# %matplotlib inline

# %% [markdown]
# ## The data: will I pass this class?
#
# Each student is a point (x1, x2) = (lectures attended, hours on the project), labelled pass (1)
# or fail (0). Here the labels come from a straight-line rule with a margin around it, so a line
# that separates the two groups exists: the data are *linearly separable*.

# %%
n_students, seed = 60, 3   # change these


def pass_the_class(n, seed):
    """n students: lectures attended (0–12), project hours (0–10), and whether they passed."""
    rng = np.random.default_rng(seed)
    X, y = [], []
    while len(X) < n:
        lectures, hours = rng.uniform(0, 12), rng.uniform(0, 10)
        score = lectures + 1.5 * hours - 14
        if abs(score) > 1.0:   # keep a margin, so a separating line exists
            X.append((lectures, hours))
            y.append(int(score > 0))
    return np.array(X), np.array(y)


X, y = pass_the_class(n_students, seed)


def scatter(X, y, ax, title):
    for label, marker, colour in ((1, "o", "tab:blue"), (0, "x", "tab:red")):
        pts = X[y == label]
        ax.scatter(pts[:, 0], pts[:, 1], marker=marker, c=colour, label="pass" if label else "fail")
    ax.set_xlabel("lectures attended (x1)")
    ax.set_ylabel("hours on the project (x2)")
    ax.set_title(title)


def line(w, ax, X, **style):
    """Draw the boundary w1·x1 + w2·x2 + w0 = 0."""
    x1 = np.linspace(X[:, 0].min(), X[:, 0].max(), 2)
    if abs(w[2]) > 1e-12:
        ax.plot(x1, -(w[0] + w[1] * x1) / w[2], **style)


fig, ax = plt.subplots(figsize=(5, 4))
scatter(X, y, ax, "will I pass this class?")
ax.legend()
plt.show()

# %% [markdown]
# ## Rosenblatt's rule
#
# Add a constant input x0 = 1 to every sample so the bias becomes an ordinary weight w0. The
# perceptron predicts *pass* when w · x ≥ 0 and *fail* otherwise: the boundary w · x = 0 is a line
# through the (augmented) origin. Training visits the samples one by one:
#
# * a *pass* classified as fail: **w ← w + x** (tilt the line towards it);
# * a *fail* classified as pass: **w ← w − x**;
# * a correct sample: nothing changes.
#
# It stops when a whole pass over the data (an epoch) makes no mistake, or after a set number of
# epochs. For separable data it always stops (the perceptron convergence theorem).

# %%
max_epochs = 100   # change this


def rosenblatt(X, y, max_epochs):
    Xa = np.hstack([np.ones((len(X), 1)), X])   # x0 = 1 carries the bias
    w = np.zeros(Xa.shape[1])
    mistakes = []
    for epoch in range(max_epochs):
        wrong = 0
        for x, label in zip(Xa, y):
            predicted = int(w @ x >= 0)
            if predicted != label:
                w += x if label == 1 else -x
                wrong += 1
        mistakes.append(wrong)
        if wrong == 0:
            break
    return w, mistakes


w, mistakes = rosenblatt(X, y, max_epochs)
print(f"mistakes per epoch: {mistakes}")
print(f"stopped after {len(mistakes)} epochs; w0 = {w[0]:.1f}, w1 = {w[1]:.1f}, w2 = {w[2]:.1f}")

fig, ax = plt.subplots(figsize=(5, 4))
scatter(X, y, ax, "Rosenblatt's perceptron")
line(w, ax, X, color="k", label="w · x = 0")
ax.legend()
plt.show()

# %% [markdown]
# ## ADALINE and the delta rule
#
# The step function has no useful derivative (it is flat everywhere except the jump), so the
# perceptron rule cannot be derived from a gradient. Widrow and Hoff's ADALINE trains the *linear*
# output z = w · x instead, to minimise the squared error Err = ½(d − z)² against the target d.
# Its derivative is ∂Err/∂w_i = −(d − z)·x_i, so the gradient step is the **delta rule**:
#
# w_i ← w_i + η·(d − z)·x_i, with δ = d − z.
#
# Let gradflow compute ∂Err/∂w for one sample and compare with −(d − z)·x:

# %%
sample, learning_rate = 0, 0.01   # which student, and η

x_sample = np.concatenate([[1.0], X[sample]])
d = float(y[sample])
ws = [Value(0.1 * (i + 1), f"w{i}", kind="param") for i in range(3)]
z = sum((w_i * float(x_i) for w_i, x_i in zip(ws, x_sample)), Value(0.0))
err = 0.5 * (d - z) ** 2
err.backward()
for i, (w_i, x_i) in enumerate(zip(ws, x_sample)):
    rule = learning_rate * (d - z.data) * x_i
    print(f"w{i}: delta rule Δw = η(d − z)x = {rule: .5f}   −η·∂Err/∂w from gradflow = {-learning_rate * w_i.grad: .5f}")

# %% [markdown]
# The two columns agree: the delta rule *is* gradient descent on the squared error. Replace the
# linear output by any differentiable activation f and the same derivation gives the
# **generalized delta rule**, w_i ← w_i + η·(d − y)·f'(z)·x_i — which is backpropagation for a
# network with one layer.
#
# Train ADALINE on the whole dataset with the delta rule and classify with the same threshold as
# before (here at z = 0.5, halfway between the labels 0 and 1). The inputs are rescaled to [0, 1]
# first: the delta rule's step grows with |x|, and unscaled hours make it unstable.

# %%
learning_rate, epochs = 0.1, 50   # try learning_rate = 1.0 to see it diverge

scale = X.max(axis=0)
Xa = np.hstack([np.ones((len(X), 1)), X / scale])
w_ada = np.zeros(3)
errors = []
for epoch in range(epochs):
    total = 0.0
    for x, d in zip(Xa, y):
        z = w_ada @ x
        w_ada += learning_rate * (d - z) * x
        total += 0.5 * (d - z) ** 2
    errors.append(total / len(X))
accuracy = np.mean((Xa @ w_ada >= 0.5) == y)
print(f"mean squared error: first epoch {errors[0]:.4f}, last {errors[-1]:.4f}; accuracy {accuracy:.0%}")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
ax1.plot(errors)
ax1.set_xlabel("epoch")
ax1.set_ylabel("½(d − z)², mean")
scatter(X, y, ax2, "ADALINE (threshold z = 0.5)")
# the boundary w · x = 0.5 in the original units
line(np.array([w_ada[0] - 0.5, w_ada[1] / scale[0], w_ada[2] / scale[1]]), ax2, X, color="k")
plt.show()

# %% [markdown]
# ## XOR: where one neuron gives up
#
# XOR labels (0, 0) and (1, 1) as 0 and the other two corners as 1. No straight line puts both 1s
# on one side and both 0s on the other, so the perceptron rule keeps making mistakes forever:

# %%
X_xor = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
y_xor = np.array([0, 1, 1, 0])
w, mistakes = rosenblatt(X_xor, y_xor, max_epochs=25)
print(f"mistakes per epoch: {mistakes}")

# %% [markdown]
# ## One hidden layer solves it
#
# Two hidden units can each draw one line (say, "x1 OR x2" and "x1 AND x2"), and the output unit
# combines them ("OR but not AND"). Nobody has to choose those lines: gradient descent with
# backpropagation finds them. Below is a 2–2–1 network of sigmoid units built from Values, trained
# on the four points with the squared error.

# %%
import random

hidden_units, learning_rate, epochs, seed = 2, 2.0, 800, 1   # try hidden_units = 3, or other seeds

rng = random.Random(seed)


def weights(n, name):
    return [Value(rng.uniform(-1, 1), f"{name}{i}", kind="param") for i in range(n)]


hidden = [weights(3, f"h{j}.w") for j in range(hidden_units)]   # [bias, w1, w2] per hidden unit
output = weights(hidden_units + 1, "o.w")
params = [w for unit in hidden for w in unit] + output


def forward(x1, x2):
    hs = [(u[0] + u[1] * x1 + u[2] * x2).sigmoid() for u in hidden]
    return sum((w * h for w, h in zip(output[1:], hs)), output[0]).sigmoid()


for epoch in range(epochs):
    loss = sum(((forward(*map(float, x)) - float(t)) ** 2 for x, t in zip(X_xor, y_xor)), Value(0.0))
    loss.zero_grad()
    loss.backward()
    for p in params:
        p.data -= learning_rate * p.grad
    if epoch % 200 == 0 or epoch == epochs - 1:
        print(f"epoch {epoch:>4}: loss {loss.data:.4f}")

for x, t in zip(X_xor, y_xor):
    print(f"XOR{tuple(int(v) for v in x)} = {t}: network says {forward(*map(float, x)).data:.3f}")
