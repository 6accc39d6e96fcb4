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

from engine import Value, numerical_grad
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
# > **Erratum — deck 000_e15207e55994f5a1.txt** (the slide "Calculate ∂J/∂W(2)")
# >
# > **The slide says** ∂J/∂W(2) = ∂J/∂a(3) · ∂a(3)/∂z(3) · **∂z(3)/∂W(3)**. **What is right:** the
# > last factor is **∂z(3)/∂W(2)** = a(2). z(3) = a(2)·W(2) does not depend on W(3) at all, so
# > ∂z(3)/∂W(3) = 0 and the slide's product would be 0. (The slide before computes
# > ∂z(3)/∂W(2) = a(2) correctly, and the punchline formula uses it.)
# >
# > **Check:** z(3) as a function of the three weights, differentiated by central differences:
#
# %%
z3_of = lambda W1, W2, W3: (X_value * W1).sigmoid() * W2   # z(3); W3 is an argument but unused
print("∂z(3)/∂(W1, W2, W3) =", [round(g, 6) for g in numerical_grad(z3_of, W1_value, W2_value, W3_value)], f"  a(2) = {a2.data:.6f}")

# %% [markdown]
# ## ∂J/∂W(1): and once more
#
# **∂J/∂W(1) = (ŷ − y) · W(3) · σ'(z(3)) · W(2) · σ'(z(2)) · X**.
#
# Notice that each formula *starts with the previous one's prefix*: backprop computes the shared
# prefix (ŷ − y)·W(3)·σ'(z(3))… once and reuses it layer after layer. That reuse is why the
# backward pass costs about as much as the forward pass.
#
# > **Erratum — deck 001_ae477276b4929235.txt** (the "Questions" slide)
# >
# > **The slide says** backpropagation could be efficient "because it can be parallelized".
# > **What is right:** its efficiency is *reuse*: the shared prefix of the chain products above is
# > computed once, so the backward pass visits each node of the graph once and its cost grows like
# > the forward pass's. What is stored and reused is each node's gradient ∂J/∂z, the prefix.
# > (The deck's "Dynamic Programming (Memoization)" bullet names the right technique but stores
# > the wrong thing: it says to "memoize the weight updates", and each weight's update is used
# > once, at the step, and never read again.) Writing every
# > ∂J/∂W out as its own chain, as the formulas above do, repeats the prefix for every weight and
# > the work grows with the *square* of the depth. Parallel hardware makes both faster; it is not
# > why backprop beats the separate chains.
# >
# > **Check:** a chain of sigmoid layers: backward's steps (one per node) against the factors of the
# > separate chains (about two per layer between a weight and the loss, one chain per weight).

# %%
for depth in (3, 30, 300):
    ws = [Value(0.5, kind="param") for _ in range(depth)]
    out = Value(1.0)
    for w in ws:
        out = (out * w).sigmoid()
    out.backward()
    print(f"{depth:>3} layers: backward takes {sum(1 for v in out.topo() if v.op)} steps (one per operation node); "
          f"separate chains multiply {sum(2 * (depth - k) for k in range(depth))} factors")

# %%
err = a4.data - y.data
dJ_dW3 = err * a3.data
dJ_dW2 = err * W3.data * dsigmoid(z3.data) * a2.data
dJ_dW1 = err * W3.data * dsigmoid(z3.data) * W2.data * dsigmoid(z2.data) * X.data
for label, hand, param in (("W3", dJ_dW3, W3), ("W2", dJ_dW2, W2), ("W1", dJ_dW1, W1)):
    print(f"∂J/∂{label}: by hand {hand: .8f}   gradflow {param.grad: .8f}   agree: {abs(hand - param.grad) < 1e-12}")

# %% [markdown]
# > **Erratum — deck 000_e15207e55994f5a1.txt** (the slide "Punchline", and again on "Vanishing
# > Gradients")
# >
# > **The slides say** "Recall that σ'(z) = σ(z)(1 σ(z))", and later σ'(z) = σ(z)(1 σ(z)) ≤ .25: an
# > operator is missing between 1 and σ(z), both times. **What is right:** σ'(z) = σ(z)·(1 **−** σ(z)),
# > which the same deck writes correctly for ∂a(3)/∂z(3) a few slides before. Read as a product, the
# > slide's σ(z)·1·σ(z) = σ(z)² agrees with σ' only at z = 0, where both are 0.25, so the example
# > under the bound, (0.5)(1 − 0.5) = 0.25, cannot tell them apart.
# >
# > **Check:** at this network's z(3), gradflow's ∂a(3)/∂z(3) against both readings.

# %%
s3 = a3.data
print(f"z(3) = {z3.data:+.4f}: gradflow ∂a(3)/∂z(3) = {z3.grad / a3.grad:.6f};  σ(1 − σ) = {s3 * (1 - s3):.6f},  σ·σ = {s3 * s3:.6f}")

# %% [markdown]
# > **Erratum — deck 001_ae477276b4929235.txt** (the "Questions" slide again, and "Backpropagation:
# > the big picture")
# >
# > **The slides say** the purpose of the backward step is "to update the weights, given an output
# > error", and list "update the weights layer-by-layer, starting from the final layer" under it.
# > **What is right:** the backward step *computes the gradient*, ∂J/∂w for every weight (and ∂J/∂x
# > for every input, which notebook 8 uses to fool a network). Changing the weights is a separate
# > step that reads those gradients, as in the deck's own gradient-descent algorithm ("compute
# > gradient", then "update weights"). The separation matters: a layer updated in the middle of the
# > sweep would send the layers below a δ computed with its *new* weights, not the ones the forward
# > pass used.
# >
# > **Check:** after `J.backward()` the weights are untouched and only their `grad` is filled; and
# > ∂J/∂W(2), computed with W(3) already updated (η = 0.5), is a different number.

# %%
print(f"after backward: W3 = {W3.data} (as set), ∂J/∂W3 = {W3.grad:.6f};  ∂J/∂W2 = {W2.grad:.6f}, but with W3 "
      f"updated first: {err * (W3.data - 0.5 * W3.grad) * dsigmoid(z3.data) * a2.data:.6f}")

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
# ### Your turn
#
# Two sigmoid units in a row: h = σ(w1·x), y = σ(w2·h), with x = 1, w1 = 0.5, w2 = −1. Write
# dy/dh and dy/dw1 (three pieces, as above: the upstream gradient, σ′ of the unit, the input),
# then run the check. The stored attempt stops one local derivative short.

# %%
answers = {"dy/dh": -0.2273, "dy/dw1": -0.2273}  # your numbers

# %%
from viz.exercise import load

print(load("sheets/your_turn/04_two_sigmoid_layers.toml").grade(answers, student="you").feedback("exam"))

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
# > **Erratum — deck 001_ae477276b4929235.txt** (the slides "Derivation of Learning Rule (3)–(6)"
# > and "The Backpropagation Algorithm")
# >
# > **The slides say** δ_j = ∂E/∂net_j = (t_j − o_j)·o_j(1 − o_j) for an output unit, and for a
# > hidden unit δ_j = o_j(1 − o_j)·Σ_k(−δ_k·w_jk), both used in Δw_ij = η·δ_j·x_i.
# > **What is right:** with E = ½Σ(t − o)², ∂E/∂net_j = **−**(t_j − o_j)·o_j(1 − o_j). The output
# > δ_j as written is −∂E/∂net_j (so Δw = η·δ·x steps downhill, but the "= ∂E/∂net_j" is wrong in
# > sign); the hidden δ_j as written *is* ∂E/∂net_j, so Δw = η·δ_j·x steps **uphill**: gradient
# > ascent. Consistent versions: δ_j = o_j(1 − o_j)·Σ_k δ_k·w_jk with δ_k = (t_k − o_k)·o_k(1 − o_k),
# > and Δw = +η·δ·x (the rule of deck 003 and of the cell above, with the sign made explicit).
# >
# > **Check:** the numbers of sheet `generalized_delta_rule.toml` (x = 1, W_kj = 0.5, W_j1 = 0.3,
# > W_j2 = −0.6, targets 1 and 0):

# %%
x_, Wkj, Wj1, Wj2 = Value(1.0), Value(0.5, "Wkj"), Value(0.3, "Wj1"), Value(-0.6, "Wj2")
a_ = (Wkj * x_).sigmoid()
net1, net2 = Wj1 * a_, Wj2 * a_
o1, o2 = net1.sigmoid(), net2.sigmoid()
E = 0.5 * (1 - o1) ** 2 + 0.5 * (0 - o2) ** 2
E.backward()
d1, d2 = ((t - o.data) * o.data * (1 - o.data) for t, o in ((1, o1), (0, o2)))   # the slides' output δ
slide_dj = a_.data * (1 - a_.data) * (-d1 * Wj1.data - d2 * Wj2.data)             # the slides' hidden δ
print(f"output unit 1: slide δ = {d1:+.4f}, but ∂E/∂net = {net1.grad:+.4f}")
print(f"hidden unit: slide Δw_kj = η·δ_j·x = η·({slide_dj * x_.data:+.4f}); descent −η·∂E/∂w_kj = η·({-Wkj.grad:+.4f})")

# %% [markdown]
# > **Erratum — deck 003_9e952ba29a69ae43.txt** (the slide "Perceptron learning")
# >
# > **The slide says** ∂E/∂W_j = Err × ∂/∂W_j (y − g(Σ_{j=0}^n W_j·x_j)) = −Err × g'(in) × x_j. The
# > summation index j is also the free index of W_j, so the sum reads as if every term held the one
# > weight being differentiated. **What is right:** give the sum its own index,
# > in = Σ_{k=0}^n W_k·x_k. Of its n + 1 terms only k = j contains W_j, so ∂in/∂W_j = x_j and
# > ∂E/∂W_j = −Err × g'(in) × x_j, the slide's result, now derived.
# >
# > **Check:** a sigmoid unit with three weights: ∂E/∂W_j against −Err·g'(in)·x_j for each j.

# %%
x3, y3 = [1.0, 0.5, -2.0], 1.0   # x_0 = 1 carries the bias weight W_0
W_3 = [Value(v, f"W{k}", kind="param") for k, v in enumerate((0.2, -0.7, 0.4))]
unit_in = sum((w * x for w, x in zip(W_3, x3)), Value(0.0))
E3 = 0.5 * (y3 - unit_in.sigmoid()) ** 2
E3.backward()
g_in = unit_in.sigmoid().data * (1 - unit_in.sigmoid().data)
print("∂E/∂W_j, gradflow:", [round(w.grad, 6) for w in W_3], "  −Err·g'(in)·x_j:",
      [round(-(y3 - unit_in.sigmoid().data) * g_in * x, 6) for x in x3])

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
# > **Erratum — deck 001_ae477276b4929235.txt** (the slide "Key Intuitions Required for BP")
# >
# > **The slide says** "Change the weights in the direction of gradient to minimize the error
# > function." **What is right:** the gradient points the way the error *grows* fastest, so to
# > minimise, change the weights in the **opposite** direction, w ← w − η·∇J, as the deck's own
# > gradient-descent slides do ("take small step in opposite direction of gradient").
# >
# > **Check:** from the weights the loop above ended with, one step of η = 0.5 along the gradient
# > and one against it.

# %%
def current_loss():
    hs = [sum((w * x for w, x in zip(ws, xs)), b).sigmoid() for ws, b, _, _ in hidden]
    return 0.5 * (sum((w * h for w, h in zip(out_ws, hs)), out_b).sigmoid() - target) ** 2


loss = current_loss()
loss.zero_grad()
loss.backward()
grads = [p.grad for p in params]
for sign, name in ((+1, "along the gradient"), (-1, "against it")):
    for p, g in zip(params, grads):
        p.data += sign * 0.5 * g
    print(f"loss {loss.data:.5f}, one step {name}: {current_loss().data:.5f}")
    for p, g in zip(params, grads):
        p.data -= sign * 0.5 * g   # back to where we were

# %% [markdown]
# ## The same network from `nn`
#
# `nn.MLP` builds the same *structure*: the same neurons wired the same way, each parameter named
# after its place (`layer1.neuron2.w1` is the first weight of the second neuron of the first
# layer). It does not build the same *numbers*: it draws its own starting weights (uniform in
# [−1, 1] from its own seed) and starts every bias at 0, so its gradients differ from the ones
# above. To compare like with like, copy the hand-built network's current weights into the MLP
# with `load_state_dict`, by name, and run the same sample through both: every gradient agrees.
# Drawn, each neuron's nodes sit in a box of their own; with `collapse="neuron"` each neuron
# becomes one box, which is how larger networks stay readable.

# %%
model = MLP(2, [hidden_units, 1], activation="sigmoid", output_activation="sigmoid", seed=seed)
hand_built = {}
for j, (ws, b, _, _) in enumerate(hidden, 1):
    hand_built |= {f"layer1.neuron{j}.w{i}": w for i, w in enumerate(ws, 1)} | {f"layer1.neuron{j}.b": b}
hand_built |= {f"layer2.neuron1.w{i}": w for i, w in enumerate(out_ws, 1)} | {"layer2.neuron1.b": out_b}
model.load_state_dict({name: p.data for name, p in hand_built.items()})

# the same sample through both: the hand-built graph rebuilt with the current weights, and the MLP
hs = [sum((w * x for w, x in zip(ws, xs)), b).sigmoid() for ws, b, _, _ in hidden]
hand_loss = 0.5 * (sum((w * h for w, h in zip(out_ws, hs)), out_b).sigmoid() - target) ** 2
hand_loss.zero_grad()
hand_loss.backward()
loss = 0.5 * (model(list(x_values))[0] - target) ** 2
loss.backward()
print(f"loss: hand-built {hand_loss.data:.6f}, MLP {loss.data:.6f}")
for name, p in model.named_parameters()[:4] + model.named_parameters()[-2:]:
    print(f"{name:<20} value {p.data:+.4f}   MLP ∂l/∂p {p.grad:+.6f}   hand-built ∂l/∂p {hand_built[name].grad:+.6f}")
print("every gradient equal:", all(abs(p.grad - hand_built[n].grad) < 1e-12 for n, p in model.named_parameters()))
draw(loss, collapse="neuron")
