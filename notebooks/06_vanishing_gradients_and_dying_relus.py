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
# # 6. Vanishing gradients and dying ReLUs
#
# **What this notebook teaches.** The gradient that reaches an early layer is a *product* of one
# local derivative per layer above it. If those factors are small, the product shrinks
# exponentially with depth and the early layers stop learning: the **vanishing gradient**
# problem. Here you will
#
# 1. plot the derivatives of sigmoid, tanh and ReLU and see that σ' is never above 0.25;
# 2. measure the gradient at every layer of a deep chain and of a deeper network, for each
#    activation, and see it on the drawn graph;
# 3. see a ReLU unit *die* — its input negative for every sample, so its gradient is zero and it can
#    never recover — and how leaky ReLU keeps a trickle of gradient flowing;
# 4. look at ELU and softplus, two smooth relatives of ReLU: their shapes, their derivatives
#    (checked against gradflow), and how they come back from the start that kills a ReLU unit.

# %%
import random

import matplotlib.pyplot as plt
import numpy as np

from engine import OPS, Value, gradcheck, numerical_grad
from engine.replay import trace
from nn import MLP, SGD, bce_with_logits, fit, moons
from viz import draw
from viz.plots import grad_magnitudes, plot_grad_magnitudes

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
# > **Erratum — deck 004_e41f9ac31c75eef9.txt** (the slide "Vanishing gradients problem")
# >
# > **The slide says** the sigmoid "has gradient between 0-1". **What is right:** σ'(z) = σ(z)(1 − σ(z))
# > is at most **0.25**, reached at z = 0 where σ = ½ (deck 000_e15207e55994f5a1.txt states it
# > correctly: σ' ≤ .25). The bound matters: each sigmoid layer multiplies the gradient by at most
# > a quarter (times a weight), not by something that could be close to 1.
# >
# > **Check:** gradflow's σ' by central differences over a fine grid, and its largest value:

# %%
slopes = [numerical_grad(lambda t: t.sigmoid(), t)[0] for t in np.linspace(-6, 6, 1201)]
print(f"largest σ' on [−6, 6]: {max(slopes):.6f} at z = {np.linspace(-6, 6, 1201)[int(np.argmax(slopes))]:+.2f}")

# %% [markdown]
# > **Erratum — deck 000_e15207e55994f5a1.txt** (the slide "Hyperbolic Tangent Function")
# >
# > **The slide says** tanh(z) = sinh(z)/cosh(z) = (e^(2x) − 1)/(e^(2x) + 1): the variable changes
# > from z to x halfway along the line. **What is right:** tanh(z) = (e^(2z) − 1)/(e^(2z) + 1), the
# > same variable throughout (multiply sinh/cosh = (e^z − e^(−z))/(e^z + e^(−z)) above and below by
# > e^z).
# >
# > **Check:** gradflow's tanh and its derivative against the formula in z, at a z of your choice.

# %%
z_value = 0.7   # change this
t = Value(z_value)
th = t.tanh()
th.backward()
print(f"tanh({z_value}) = {th.data:.6f}, (e^2z − 1)/(e^2z + 1) = {(np.exp(2 * z_value) - 1) / (np.exp(2 * z_value) + 1):.6f};  "
      f"tanh' = {t.grad:.6f} = 1 − tanh² = {1 - th.data ** 2:.6f}")

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
# **Reading the plot.** Sigmoid's line drops by about a factor of four per layer on average (a
# little less where |w| > 1): after 20 layers the input's gradient is around 10⁻¹² or smaller,
# far too small to learn from. tanh loses less
# (its derivative reaches 1 near zero). ReLU's factors are |w| or 0: it does not shrink by a fixed
# ratio, but one negative z anywhere in the chain blocks the whole path (its line falls to the
# floor of the plot). Try another seed.

# %% [markdown]
# ### Your turn
#
# Three sigmoids in a row, c = σ(σ(σ(x))), at x = 0. Write dc/db and dc/dx (b = σ(σ(x))), then run
# the check. The stored attempt multiplies σ′ = 1/4 three times; when the checker recognises no
# common slip, ask yourself where σ′ is 1/4: only where the sigmoid's *input* is 0. What are the
# inputs of the second and the third sigmoid?

# %%
answers = {"dc/db": 0.2273, "dc/dx": 0.25 * 0.25 * 0.25}  # your numbers

# %%
from viz.exercise import load

print(load("sheets/your_turn/06_three_sigmoids.toml").grade(answers, student="you").feedback("exam"))

# %% [markdown]
# ## Seeing it on the graph
#
# `draw(..., color_by_grad=True)` shades every node by the size of its gradient on a log scale:
# strong orange where the gradient is large, pale where it is tiny, grey where it is exactly zero.
# Here is a network of one sigmoid unit per layer, each neuron collapsed into one box. The shade
# fades layer by layer towards the input.

# %%
layers, activation = 8, "sigmoid"   # try "relu" or "tanh"

chain = MLP(1, [1] * (layers - 1) + [1], activation=activation, seed=0)
out = chain([1.0])[0]
out.backward()
draw(out, color_by_grad=True, collapse="neuron", legend=False)

# %% [markdown]
# ## Layer by layer in a wider network
#
# The same measurement on networks of eight hidden layers of eight units, on a batch of the moons
# data with the cross-entropy loss: the mean size of ∂L/∂p over each layer's parameters, after one
# backward pass from the same kind of random start (printed for the first and last layer, plotted
# for all).

# %%
depth, width, n_samples = 8, 8, 32   # change these

X, y = moons(n_samples, noise=0.1, seed=0)
models = {}
for name in ("sigmoid", "tanh", "relu"):
    model = MLP(2, [width] * depth + [1], activation=name, seed=0)
    loss = bce_with_logits([model(x) for x in X.tolist()], y.tolist())
    loss.backward()
    models[name] = model
    sizes = list(grad_magnitudes(model).values())   # input side first, as plotted below
    print(f"{name:>8}: first layer {sizes[0]:.1e}, last layer {sizes[-1]:.1e}, ratio {sizes[-1] / sizes[0]:.0f}")
fig, ax = plt.subplots(figsize=(8, 3.5))
plot_grad_magnitudes(models, ax=ax)   # mean |grad| of each layer's parameters, log scale
plt.show()

# %% [markdown]
# With sigmoid units the first layer's weights get gradients thousands of times smaller than the
# last layer's, so with one learning rate for all, the early layers barely move. tanh keeps the
# layers within a factor of a few of each other, ReLU within tens: one reason these replaced the
# sigmoid in hidden layers.
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

# %% [markdown]
# ## ELU and softplus
#
# Two more activations from the lectures' lists, each a ReLU with something changed on the left.
#
# * **ELU** (deck 004): ELU(z) = z for z ≥ 0 and α(e^z − 1) for z < 0. On the right it is ReLU;
#   on the left it bends smoothly down towards −α instead of sitting at 0. Its slope is 1 on the
#   right and α·e^z on the left, small for very negative z but never exactly 0, so a unit whose
#   input is negative still learns. Since α·e^z = ELU(z) + α, the backward pass can get the left
#   slope from the stored output, which is how gradflow's table writes it. With α = 1 both sides
#   have slope 1 at z = 0 and the curve has no corner; with another α the slope jumps there. Its
#   outputs can be negative, so a layer of ELUs averages closer to 0 than a layer of ReLUs.
# * **softplus** (deck 001): softplus(z) = log(1 + e^z), a ReLU with the corner rounded off. It
#   lies above ReLU everywhere, by log 2 ≈ 0.69 at z = 0 and by almost nothing once |z| > 5. Its
#   derivative is 1/(1 + e^(−z)), the sigmoid: deck 001 lists the two side by side. The slope is
#   never exactly 0 or 1, and it is at most 1, so softplus never amplifies a gradient.

# %%
alpha_elu = 1.0   # ELU's α; try 0.5 to see the corner at 0

z = np.linspace(-4, 4, 401)
shapes = {"relu": lambda v: v.relu(), f"elu (α = {alpha_elu})": lambda v: v.elu(alpha_elu),
           "softplus": lambda v: v.softplus()}
fig, (ax_f, ax_d) = plt.subplots(1, 2, figsize=(11, 3.5))
for name, f in shapes.items():
    values, slopes = [], []
    for zi in z:
        v = Value(float(zi))
        out = f(v)
        out.backward()
        values.append(out.data)
        slopes.append(v.grad)
    ax_f.plot(z, values, label=name)
    ax_d.plot(z, slopes, label=name)
ax_d.plot(z, 1 / (1 + np.exp(-z)), "k:", lw=1, label="σ(z), for comparison")
ax_f.set_title("the functions")
ax_d.set_title("their derivatives, from gradflow's backward")
for ax in (ax_f, ax_d):
    ax.axhline(0, color="grey", lw=0.6)
    ax.set_xlabel("z")
    ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# The formulas, checked at a few points: gradflow's gradient against α·e^z or 1 (ELU) and σ(z)
# (softplus), and `gradcheck` against central differences.

# %%
for z_value in (-3.0, -0.5, 0.5, 2.0):   # change these (z = 0 is ELU's corner when α ≠ 1)
    e, sp = Value(z_value), Value(z_value)
    e.elu(alpha_elu).backward()
    sp.softplus().backward()
    elu_rule = 1.0 if z_value > 0 else alpha_elu * np.exp(z_value)
    print(f"z = {z_value:+.1f}:  ELU' {e.grad:.6f} (rule {elu_rule:.6f}, gradcheck "
          f"{bool(gradcheck(lambda v: v.elu(alpha_elu), z_value))});  softplus' {sp.grad:.6f} "
          f"(σ(z) = {1 / (1 + np.exp(-z_value)):.6f}, gradcheck {bool(gradcheck(lambda v: v.softplus(), z_value))})")

# %% [markdown]
# What the nonzero left slope buys: the unit of the experiment above, started with the bias that
# killed the ReLU. ELU and softplus both climb out, as leaky ReLU did. Neither can fit the target
# max(0, 2x) exactly (ELU dips below 0 on the left, softplus is never 0), so their final losses
# stay above leaky ReLU's.

# %%
for name, f in (("relu", lambda v: v.relu()), (f"elu (α = {alpha_elu})", lambda v: v.elu(alpha_elu)),
                ("softplus", lambda v: v.softplus())):
    w, b, history = fit_unit(f)
    print(f"{name:>13}: loss {history[0]:.3f} → {history[-1]:.4f}, w = {w.data:.3f}, b = {b.data:.3f}")

# %% [markdown]
# ## Dead units in a network
#
# In a network the same accident happens to whole units: one large step can push a hidden ReLU
# unit's bias so far down that its input is negative for *every* training sample. From then on it
# outputs 0, passes no gradient, and never learns again. Train the same ReLU network with larger
# and larger learning rates and count the hidden units that are dead afterwards (output 0 on every
# sample).

# %%
rates, epochs = (0.1, 1.0, 3.0, 10.0), 20   # change these

X, y = moons(100, noise=0.1, seed=0)
for lr in rates:
    model = MLP(2, [16, 16, 1], activation="relu", seed=0)
    history = fit(model, X, y, loss="bce_with_logits", optimizer=SGD(model.parameters(), lr=lr),
                  epochs=epochs, progress=False)

    def hidden_outputs(x):
        outputs = []
        for layer in model.layers[:-1]:
            x = layer(x)
            outputs += x
        return outputs

    # every hidden unit's output on every sample, replayed over the batch (engine.replay)
    outputs = trace(hidden_outputs).forward(X)
    dead = int((outputs <= 0).all(axis=0).sum())
    print(f"learning rate {lr:>5}: accuracy {history.acc[-1]:.0%}, dead hidden units {dead} of {outputs.shape[1]}")
