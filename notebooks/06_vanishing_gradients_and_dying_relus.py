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
# # 6. Vanishing gradients and dying ReLUs
#
# **What this notebook teaches.** The gradient that reaches an early layer is a *product* of one
# local derivative per layer above it. If those factors are small, the product shrinks
# exponentially with depth and the early layers stop learning: the **vanishing gradient**
# problem. Here you will
#
# 1. plot the derivatives of sigmoid, tanh and ReLU and see that σ' is never above 0.25;
# 2. measure the gradient at every layer of a deep chain, for each activation;
# 3. see a ReLU unit *die* — its input negative for every sample, so its gradient is zero and it can
#    never recover — and how leaky ReLU keeps a trickle of gradient flowing.

# %%
import random

import matplotlib.pyplot as plt
import numpy as np

from engine import OPS, Value

# %matplotlib inline

# %% [markdown]
# ## The local derivatives, from the op table
#
# gradflow's op table holds each activation's derivative (the numpy column `vd` computes it for a
# whole array at once). σ'(z) = σ(z)(1 − σ(z)) peaks at z = 0 with (0.5)(0.5) = 0.25;
# tanh'(z) = 1 − tanh²(z) peaks at 1; ReLU' is exactly 1 for z > 0 and 0 otherwise.

# %%
activations = ("sigmoid", "tanh", "relu", "leaky_relu")   # any unary op names from the table
alpha = 0.1                                                # leaky ReLU's slope for z < 0

z = np.linspace(-5, 5, 401)
fig, ax = plt.subplots(figsize=(7, 3.5))
for name in activations:
    op = OPS[name]
    arg = alpha if op.params else None
    out = op.vf(z, arg)
    (d,) = op.vd(z, out, arg)
    ax.plot(z, d, label=f"{name}: {op.formula[0]}")
    print(f"largest {name}' on the grid: {d.max():.4f}")
ax.axhline(0.25, color="grey", lw=0.8, ls=":")
ax.set_xlabel("z")
ax.set_ylabel("local derivative")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# ## A deep chain
#
# Stack `depth` one-unit layers: a(k+1) = f(w(k) · a(k) + b(k)), with weights drawn at random
# around ±1. After one backward pass, ∂y/∂a(k) tells how much the output feels a change at layer
# k. Its size is the product of |w · f'(z)| over the layers above k: for sigmoid each factor is at
# most 0.25·|w|, so it falls roughly like 0.25^(distance from the output).

# %%
depth, seed = 20, 0   # change these


def chain_gradients(activation, depth, seed):
    """|∂y/∂a(k)| for k = 0..depth in a chain of one-unit layers."""
    rng = random.Random(seed)
    a = Value(0.5, "a0")
    acts = [a]
    for k in range(depth):
        w = Value(rng.choice((-1, 1)) * rng.uniform(0.5, 1.5), kind="param")
        b = Value(rng.uniform(-0.5, 0.5), kind="param")
        a = getattr(w * a + b, activation)()
        acts.append(a)
    a.backward()
    return [abs(v.grad) for v in acts]


fig, ax = plt.subplots(figsize=(7, 3.5))
for name in ("sigmoid", "tanh", "relu"):
    grads = chain_gradients(name, depth, seed)
    ax.semilogy(range(depth + 1), np.maximum(grads, 1e-30), marker=".", label=name)
    print(f"{name:>8}: |∂y/∂a0| = {grads[0]:.3g}")
ax.set_xlabel("layer k (0 = input)")
ax.set_ylabel("|∂y/∂a(k)|  (log scale)")
ax.legend()
plt.show()

# %% [markdown]
# **Reading the plot.** Sigmoid's line drops by a factor of four or more per layer: after 20 layers
# the input's gradient is around 10⁻¹² or smaller, far too small to learn from. tanh loses less
# (its derivative reaches 1 near zero). ReLU's factors are |w| or 0: it does not shrink by a fixed
# ratio, but one negative z anywhere in the chain blocks the whole path (its line falls to the
# floor of the plot). Try another seed.
#
# ## A dying ReLU
#
# The lectures' exercise: a ReLU perceptron y = ReLU(w·x + b) on x = 2. With w = b = 1 the sum is
# 3 > 0 and the gradients flow (∂y/∂w = x = 2, ∂y/∂b = 1). With w = b = −1 the sum is −3, the
# ReLU outputs 0, and *every* gradient is 0: the ReLU kills them.

# %%
x_value = 2.0
for w_value, b_value in ((1.0, 1.0), (-1.0, -1.0)):   # the exercise's two cases
    x = Value(x_value, "x")
    w, b = Value(w_value, "w", kind="param"), Value(b_value, "b", kind="param")
    y = (w * x + b).relu()
    y.backward()
    print(f"w = b = {w_value:+}: y = {y.data}, ∂y/∂w = {w.grad}, ∂y/∂b = {b.grad}")

# %% [markdown]
# If that happens for *every* training sample, gradient descent never changes w or b again: the
# unit is dead. A common way to get there is one too-large step that pushes the bias far negative.
# Below, one unit learns the target y = max(0, 2x) on inputs spread over [−2, 2] — a target a ReLU
# unit can fit exactly — but it starts from a bias so negative that w·x + b < 0 for every input.
# ReLU stays stuck where it started; leaky ReLU, whose slope is α instead of 0 for z < 0, still
# receives a small gradient and climbs back to w ≈ 2, b ≈ 0.

# %%
start_bias, learning_rate, epochs = -3.0, 0.5, 50   # try start_bias = 0.5: then both units learn
alpha = 0.1                                          # leaky ReLU's slope for z < 0
xs = np.linspace(-2, 2, 21)
activate = {"relu": lambda z: z.relu(), "leaky_relu": lambda z: z.leaky_relu(alpha)}


def fit_unit(f):
    w = Value(0.5, "w", kind="param")
    b = Value(start_bias, "b", kind="param")
    history = []
    for _ in range(epochs):
        errors = [(f(w * float(x) + b) - max(0.0, 2 * float(x))) ** 2 for x in xs]
        loss = sum(errors, Value(0.0)) / len(xs)
        loss.zero_grad()
        loss.backward()
        for p in (w, b):
            p.data -= learning_rate * p.grad
        history.append(loss.data)
    return w, b, history


fig, ax = plt.subplots(figsize=(7, 3.5))
for name, f in activate.items():
    w, b, history = fit_unit(f)
    ax.plot(history, label=name)
    print(f"{name:>10}: w = {w.data:.3f}, b = {b.data:.3f}, final loss {history[-1]:.4f}")
ax.set_xlabel("epoch")
ax.set_ylabel("mean squared error")
ax.legend()
plt.show()
