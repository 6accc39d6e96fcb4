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
# # 4. Backprop in a multilayer network
#
# **What this notebook teaches.** The formulas for ∂J/∂W in a network with hidden layers look
# long, but each is a product of small pieces you already know. Here you will
#
# 1. derive ∂J/∂W(3), ∂J/∂W(2) and ∂J/∂W(1) for a three-layer sigmoid network by hand, piece by
#    piece, and check every one against gradflow;
# 2. see the lectures' summary of backprop in a wider network: for every weight,
#    ∂l/∂w = a · ∂l/∂z, where **a** (the input the weight multiplies) comes from the *forward*
#    pass and **∂l/∂z** (the gradient at the neuron's sum) from the *backward* pass;
# 3. check the hidden-layer rule ∂l/∂z = σ'(z) · Σ_k w_k · ∂l/∂z_k, the generalized delta rule;
# 4. grade hand-derived answers with gradflow's exercise checker.

# %%
import math

from engine import Value
from nn import MLP
from viz import draw
from viz.exercise import loads


def sigmoid(t):
    """σ with plain floats, for the hand calculations."""
    return 1 / (1 + math.exp(-t))


def dsigmoid(t):
    return sigmoid(t) * (1 - sigmoid(t))


# %% [markdown]
# ## The three-layer network, one unit per layer
#
# The lecture's network takes an input X through two sigmoid layers to a linear output:
#
# | layer | sum | activation |
# |---|---|---|
# | 2 | z(2) = X · W(1) | a(2) = σ(z(2)) |
# | 3 | z(3) = a(2) · W(2) | a(3) = σ(z(3)) |
# | 4 (output) | z(4) = a(3) · W(3) | ŷ = a(4) = z(4) |
#
# and the loss on one sample with target y is J = ½ (a(4) − y)². With one unit per layer every
# quantity is a single number, so the formulas are exactly the lecture's.

# %%
X_value, y_value = 1.5, 0.2                      # one sample
W1_value, W2_value, W3_value = 0.8, -1.2, 2.0    # the weights

X, y = Value(X_value, "X"), Value(y_value, "y")
W1, W2, W3 = (Value(v, f"W{k}", kind="param") for k, v in ((1, W1_value), (2, W2_value), (3, W3_value)))
z2 = X * W1
a2 = z2.sigmoid()
z3 = a2 * W2
a3 = z3.sigmoid()
z4 = a3 * W3
a4 = z4                        # linear output: ∂a(4)/∂z(4) = 1
J = 0.5 * (a4 - y) ** 2
J.backward()
for v, label in ((z2, "z2"), (a2, "a2"), (z3, "z3"), (a3, "a3"), (z4, "z4=a4"), (J, "J")):
    v.label = label
print(f"ŷ = {a4.data:.5f}, J = {J.data:.5f}")
print(f"gradflow: ∂J/∂W3 = {W3.grad:.6f}, ∂J/∂W2 = {W2.grad:.6f}, ∂J/∂W1 = {W1.grad:.6f}")
draw(J, legend=False)

# %% [markdown]
# ## ∂J/∂W(3): three pieces
#
# W(3) reaches J only through z(4) and a(4), so ∂J/∂W(3) = ∂J/∂a(4) · ∂a(4)/∂z(4) · ∂z(4)/∂W(3):
#
# 1. J = ½(a(4) − y)² gives ∂J/∂a(4) = a(4) − y (the ½ cancels the 2);
# 2. a(4) = z(4) gives ∂a(4)/∂z(4) = 1;
# 3. z(4) = a(3) · W(3) gives ∂z(4)/∂W(3) = a(3) — the product switches.
#
# So **∂J/∂W(3) = (ŷ − y) · a(3)**.
#
# ## ∂J/∂W(2): go one layer further back
#
# W(2) reaches J through z(3), a(3), z(4), a(4). The new pieces are ∂z(4)/∂a(3) = W(3) (switch
# again), ∂a(3)/∂z(3) = σ'(z(3)) and ∂z(3)/∂W(2) = a(2). So
# **∂J/∂W(2) = (ŷ − y) · W(3) · σ'(z(3)) · a(2)**.
#
# ## ∂J/∂W(1): and once more
#
# **∂J/∂W(1) = (ŷ − y) · W(3) · σ'(z(3)) · W(2) · σ'(z(2)) · X**.
#
# Notice that each formula *starts with the previous one's prefix*: backprop computes the shared
# prefix (ŷ − y)·W(3)·σ'(z(3))… once and reuses it layer after layer. That reuse is why the
# backward pass costs about as much as the forward pass.

# %%
err = a4.data - y.data
dJ_dW3 = err * a3.data
dJ_dW2 = err * W3.data * dsigmoid(z3.data) * a2.data
dJ_dW1 = err * W3.data * dsigmoid(z3.data) * W2.data * dsigmoid(z2.data) * X.data
for label, hand, param in (("W3", dJ_dW3, W3), ("W2", dJ_dW2, W2), ("W1", dJ_dW1, W1)):
    print(f"∂J/∂{label}: by hand {hand: .8f}   gradflow {param.grad: .8f}   agree: {abs(hand - param.grad) < 1e-12}")

# %% [markdown]
# ## The exercise checker agrees
#
# The same three formulas, written as answers on an exercise sheet built from the numbers at the
# top of this notebook. The checker evaluates each formula, runs the engine on the sheet's graph
# and compares. Break one formula (drop the `a3 * (1 - a3)` factor, say) and run it again.

# %%
sheet = loads(f"""
title = "Three-layer sigmoid network"
params = ["W1", "W2", "W3"]

[inputs]
X = {X_value}
y = {y_value}
W1 = {W1_value}
W2 = {W2_value}
W3 = {W3_value}

[graph]
z2 = "X * W1"
a2 = "sigmoid(z2)"
z3 = "a2 * W2"
a3 = "sigmoid(z3)"
a4 = "a3 * W3"
J = "0.5 * (a4 - y)**2"

[answers]
"dJ/dW3" = "(a4 - y) * a3"
"dJ/dW2" = "(a4 - y) * W3 * a3 * (1 - a3) * a2"
"dJ/dW1" = "(a4 - y) * W3 * a3 * (1 - a3) * W2 * a2 * (1 - a2) * X"
""")
report = sheet.check()
print(report)

# %% [markdown]
# Every σ' factor is at most 0.25, so each extra sigmoid layer multiplies the gradient of the early
# weights by at most a quarter (times a weight). Notebook 6 measures what this does in deep
# networks.

# %% [markdown]
# ## A wider network: forward pass ∂z/∂w = a, backward pass ∂l/∂z
#
# With several units per layer, write each neuron's weighted sum as z = Σ w·a + b. A weight w
# touches the loss only through its neuron's z, so
#
# ∂l/∂w = ∂z/∂w · ∂l/∂z = **a** · ∂l/∂z,
#
# where a is the activation the weight multiplies. All the a's are known after the forward pass;
# all the ∂l/∂z's come out of one backward pass. Below is a 2–3–1 network built from Values (three
# sigmoid hidden units, one sigmoid output) with squared error. gradflow keeps the gradient of every
# node, so we can read ∂l/∂z at each neuron's sum and check the product for every weight.

# %%
import random

x_values, target = (0.5, -1.0), 1.0   # one sample
hidden_units, seed = 3, 1             # change these

rng = random.Random(seed)
xs = [Value(v, f"x{i + 1}") for i, v in enumerate(x_values)]


def neuron(inputs, name):
    """A sigmoid neuron; returns its weights, bias, sum z and activation."""
    ws = [Value(rng.uniform(-1, 1), f"{name}.w{i + 1}", kind="param") for i in range(len(inputs))]
    b = Value(rng.uniform(-1, 1), f"{name}.b", kind="param")
    z = sum((w * a for w, a in zip(ws, inputs)), b)
    z.label = f"{name}.z"
    return ws, b, z, z.sigmoid()


hidden = [neuron(xs, f"h{j + 1}") for j in range(hidden_units)]
out_ws, out_b, out_z, out_a = neuron([h[3] for h in hidden], "o")
loss = 0.5 * (out_a - target) ** 2
loss.backward()

print(f"{'weight':>8} {'a (forward)':>12} {'∂l/∂z (backward)':>18} {'a·∂l/∂z':>10} {'gradflow':>10}")
rows = [(w, a, z) for ws, _, z, _ in hidden for w, a in zip(ws, xs)]
rows += [(w, h[3], out_z) for w, h in zip(out_ws, hidden)]
for w, a, z in rows:
    print(f"{w.label:>8} {a.data:>12.5f} {z.grad:>18.5f} {a.data * z.grad:>10.5f} {w.grad:>10.5f}")

# %% [markdown]
# ## The hidden layer's ∂l/∂z: the generalized delta rule
#
# For the output neuron, ∂l/∂z = σ'(z) · ∂l/∂a = σ'(z) · (a − t). For a hidden neuron j, its
# activation feeds *every* neuron k of the next layer, so the gradients coming back along those
# paths add up (split adds), each weighted by the connecting weight (product switches):
#
# ∂l/∂z_j = σ'(z_j) · Σ_k w_jk · ∂l/∂z_k
#
# This is the lectures' Δ_j = g'(in_j) Σ_i W_ji Δ_i, the same rule under another name. Mind the
# sign: they write the error as target − output, so their Δ is −∂l/∂z and their update *adds*
# η·a·Δ. With one output neuron the sum has one term; the check below computes it from the
# output's ∂l/∂z alone.

# %%
delta_out = dsigmoid(out_z.data) * (out_a.data - target)
print(f"output: σ'(z)·(a − t) = {delta_out:.6f}, gradflow ∂l/∂z = {out_z.grad:.6f}")
for (ws, b, z, a), w_out in zip(hidden, out_ws):
    delta = dsigmoid(z.data) * w_out.data * delta_out
    print(f"{z.label}: σ'(z)·w·Δ_out = {delta:.6f}, gradflow ∂l/∂z = {z.grad:.6f}")

# %% [markdown]
# ## One step downhill
#
# The gradient says which way each weight should move to make the loss *grow*; gradient descent
# takes a small step the other way, w ← w − η · ∂l/∂w. Run a few steps on the one sample and watch
# the loss fall. (Notebook 5 does this properly, with datasets and optimizers.)

# %%
learning_rate, steps = 2.0, 10   # try 0.1 or 20

params = [p for ws, b, _, _ in hidden + [(out_ws, out_b, None, None)] for p in ws + [b]]
for step in range(steps):
    # rebuild the forward pass with the current weights: the graph records values, not formulas
    hs = [sum((w * x for w, x in zip(ws, xs)), b).sigmoid() for ws, b, _, _ in hidden]
    out = sum((w * h for w, h in zip(out_ws, hs)), out_b).sigmoid()
    loss = 0.5 * (out - target) ** 2
    loss.zero_grad()   # leaf gradients add up across passes; start each step from zero
    loss.backward()
    for p in params:
        p.data -= learning_rate * p.grad
    print(f"step {step}: loss {loss.data:.5f}, output {out.data:.4f}")

# %% [markdown]
# ## The same network from `nn`
#
# `nn.MLP` builds exactly these neurons, and names every parameter after its place
# (`layer1.neuron2.w1` is the first weight of the second neuron of the first layer). Drawn, each
# neuron's nodes sit in a box of their own; with `collapse="neuron"` each neuron becomes one box,
# which is how larger networks stay readable.

# %%
model = MLP(2, [hidden_units, 1], activation="sigmoid", output_activation="sigmoid", seed=seed)
out = model(list(x_values))[0]
loss = 0.5 * (out - target) ** 2
loss.backward()
for name, p in model.named_parameters()[:4]:
    print(f"{name:<20} value {p.data:+.4f}   ∂l/∂p {p.grad:+.5f}")
draw(loss, collapse="neuron")
