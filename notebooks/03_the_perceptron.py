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
# # 3. The perceptron
#
# **What this notebook teaches.** Before backpropagation there was the perceptron: one neuron, a
# step function, and a learning rule simple enough to run by hand. Here you will
#
# 1. train Rosenblatt's perceptron on the lectures' question *"will I pass this class?"* (features:
#    lectures attended, hours spent on the final project);
# 2. meet ADALINE's delta rule and see that its update is exactly minus the gradient of the squared
#    error — the gradient gradflow computes;
# 3. decide when to stop training: the three termination criteria of the lectures, and criterion
#    (c) on data that no line separates;
# 4. meet the lectures' threshold neuron σ(net − T) and see that its threshold is a bias;
# 5. see why one neuron can never learn XOR, and how one hidden layer fixes it.

# %%
import matplotlib.pyplot as plt
import numpy as np

from engine import Value, numerical_grad
from nn import MLP, Adam, Perceptron, fit, pass_class, xor
from viz import draw

# %matplotlib inline


def scatter(X, y, ax, title):
    for label, marker, colour in ((1, "o", "tab:blue"), (0, "x", "tab:red")):
        pts = X[y == label]
        ax.scatter(pts[:, 0], pts[:, 1], marker=marker, c=colour, label="pass" if label else "fail")
    ax.set_xlabel("lectures attended (x1)")
    ax.set_ylabel("hours on the project (x2)")
    ax.set_title(title)


def boundary_line(p, ax, X, scale=1.0, **style):
    """Draw the perceptron's boundary w1·x1 + w2·x2 + b = 0 (weights learnt on X / scale)."""
    w1, w2, b = p.w[0].data / scale, p.w[1].data / scale, p.b.data
    x1 = np.linspace(X[:, 0].min(), X[:, 0].max(), 2)
    if abs(w2) > 1e-12:
        ax.plot(x1, -(b + w1 * x1) / w2, **style)


# %% [markdown]
# ## The data: will I pass this class?
#
# Each student is a point (x1, x2) = (lectures attended, hours spent on the final project),
# labelled pass (1) or fail (0). `nn.pass_class` draws them; with `noise=False` a student passes
# exactly when 0.9·x1 + 0.7·x2 ≥ 10, so a straight line separates the two groups: the data are
# *linearly separable*.

# %%
n_students, seed = 60, 0   # change these

X, y = pass_class(n_students, noise=False, seed=seed)
fig, ax = plt.subplots(figsize=(5, 4))
scatter(X, y, ax, "will I pass this class?")
ax.legend()
plt.show()

# %% [markdown]
# ## Rosenblatt's rule
#
# The perceptron computes z = w1·x1 + w2·x2 + b and predicts *pass* when z ≥ 0. (Treat the bias as
# a weight on a constant input 1, and the boundary z = 0 becomes a plane through the origin.)
# Training visits the samples one at a time:
#
# * a *pass* predicted as fail: **w ← w + x, b ← b + 1** (tilt the boundary towards it);
# * a *fail* predicted as pass: **w ← w − x, b ← b − 1**;
# * a correct prediction changes nothing.
#
# Here are the first few visits, with the change each one makes:

# %%
p = Perceptron(2, seed=0)
for x, label in zip(X[:6].tolist(), y[:6].tolist()):
    before = p([*x]).data
    dw, db = p.perceptron_update(x, label)
    print(f"x = {x}, label {label}, z was {before:+7.2f}: Δw = {dw}, Δb = {db:+.0f}")

# %% [markdown]
# > **Erratum — deck 004_e41f9ac31c75eef9.txt** (the Δ-rule slide, "The learning step")
# >
# > **The slide says** w_i(t+1) = w_i(t) + α(l_j − y_j)·x_j,i = w_i(t) + α(l_j − w(t)·x_j)·x_j,i.
# > **What is right:** the second equality replaces the output y_j by the weighted sum w·x_j, which
# > is true only for a *linear* output unit (and then the rule is ADALINE's delta rule, further
# > down). Rosenblatt's perceptron outputs a step, y_j = 1 if w·x_j ≥ 0 else 0, so l_j − y_j is
# > −1, 0 or +1 while l_j − w·x_j can be any number.
# >
# > **Check:** on the first student, the two "errors" the slide equates:

# %%
z0 = p(X[0].tolist()).data   # w·x + b for the first student, with the weights left by the six visits above
print(f"after the six visits, the first student (label {y[0]}) has w·x + b = {z0:.2f}")
print(f"l − y = {y[0] - int(z0 >= 0)} (step output),  l − w·x = {y[0] - z0:+.2f} (linear output)")

# %% [markdown]
# > **Erratum — deck 004_e41f9ac31c75eef9.txt** (the same slide, below the rule)
# >
# > **The slide says** (l_j − y_j) > 0: w_i needs to become bigger; (l_j − y_j) < 0: smaller.
# > **What is right:** the change is α·(l_j − y_j)·x_j,i, so its sign is the error's sign *times the
# > input's*. Where x_j,i < 0, a positive error makes w_i smaller, and that is exactly what raises
# > w·x_j towards the label. The slide's reading holds for the bias (whose input is 1) and for
# > positive inputs only; here the features are counts, never negative, but standardised ones (as
# > further down) are negative half the time.
# >
# > **Check:** a perceptron with w = (1, 1), b = 0 meets a *pass* with a negative first feature.

# %%
q, x_neg = Perceptron(2, seed=0), [-2.0, 1.0]
q.w[0].data, q.w[1].data, q.b.data = 1.0, 1.0, 0.0
z_before = q(x_neg).data
dw_neg, db_neg = q.perceptron_update(x_neg, 1)
print(f"z = {z_before:+.1f}, so l − y = +1; Δw1 = {dw_neg[0]:+.0f} (w1 shrinks), Δw2 = {dw_neg[1]:+.0f}, "
      f"Δb = {db_neg:+.0f}; z after the update = {q(x_neg).data:+.1f}")

# %% [markdown]
# `learn` repeats that over the data until a whole pass (an epoch) makes no mistake, or the epochs
# run out. For separable data it always stops: that is the perceptron convergence theorem. The
# number of epochs depends on how close the nearest points are to the line — try other seeds.

# %%
max_epochs = 500   # change this

p = Perceptron(2, seed=0)
result = p.learn(X, y, rule="perceptron", epochs=max_epochs)
print(f"converged: {result.converged} after {result.epochs} epochs")
print(f"mistakes in the first epochs: {result.errors[:12]}")
print(f"w1 = {p.w[0].data:.1f}, w2 = {p.w[1].data:.1f}, b = {p.b.data:.1f}")

fig, ax = plt.subplots(figsize=(5, 4))
scatter(X, y, ax, "Rosenblatt's perceptron")
boundary_line(p, ax, X, color="k", label="z = 0")
ax.legend()
plt.show()

# %% [markdown]
# ## When to stop
#
# The lectures list three ways to end perceptron training:
#
# * **(a)** when every sample is labelled correctly (what `learn` does above);
# * **(b)** after a pre-set number of epochs (the `epochs` limit);
# * **(c)** after a pre-set number of epochs during which the *percentage* of misclassified
#   samples stays stable.
#
# Criterion (a) is reached only when a line separates the data. Real students are noisy: some
# who attended everything fail, some who attended little pass. On such data (`noise=True`) the
# perceptron never runs a mistake-free epoch, and every mistake still moves the line, so the
# error rate wobbles forever. Criterion (c) stops once the share of students the line gets wrong
# (measured after each epoch) has stayed within `tolerance` for `window` epochs in a row.
# (The inputs are standardised first, each feature shifted to mean 0 and scaled to spread 1, so
# the bias and the weights move by comparable steps; notebook 11 shows why that matters.)

# %%
window, tolerance, max_epochs = 5, 0.05, 200   # change these (tolerance 0.0 asks for an exactly flat rate)

X_noisy, y_noisy = pass_class(n_students, noise=True, seed=seed)
mean, spread = X_noisy.mean(axis=0), X_noisy.std(axis=0)
X_std = (X_noisy - mean) / spread
noisy = Perceptron(2, seed=0)
rates = []
for epoch in range(1, max_epochs + 1):
    for x, label in zip(X_std.tolist(), y_noisy.tolist()):
        noisy.perceptron_update(x, label, lr=0.1)
    rates.append(float(np.mean(noisy.predict(X_std) != y_noisy)))
    recent = rates[-window:]
    if len(rates) >= window and max(recent) - min(recent) <= tolerance:
        break
print(f"stopped after {epoch} epochs by criterion ({'c' if epoch < max_epochs else 'b'}); "
      f"share misclassified after each epoch: {[f'{r:.0%}' for r in rates]}")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.6))
ax1.plot(range(1, len(rates) + 1), rates, "o-")
ax1.axvspan(len(rates) - len(recent) + 0.5, len(rates) + 0.5, color="tab:green", alpha=0.2, label=f"the last {window} epochs")
ax1.set_xlabel("epoch")
ax1.set_ylabel("share misclassified")
ax1.set_title("criterion (c): the rate has settled")
ax1.legend()
scatter(X_noisy, y_noisy, ax2, "noisy students, the line at the stop")
(w1, w2), b = (w.data for w in noisy.w), noisy.b.data
x1 = np.array([0.0, 12.0])
ax2.plot(x1, mean[1] - spread[1] * (b + w1 * (x1 - mean[0]) / spread[0]) / w2, "k")   # z = 0 in raw units
ax2.set_ylim(-0.5, 12.5)
plt.show()

# %% [markdown]
# ## Will *I* pass?
#
# Ask the trained perceptron about a student of your choosing. Calling it on one sample builds the
# graph of z = w1·x1 + w2·x2 + b, drawn below; the step function then turns z into pass or fail.

# %%
lectures, hours = 6, 5.5   # change these

z = p([lectures, hours])
z.label = "z"
print(f"z = {z.data:.2f}: {'pass' if z.data >= 0 else 'fail'}")
draw(z, view="forward", legend=False)

# %% [markdown]
# ## ADALINE and the delta rule
#
# The step function has no useful derivative (flat everywhere except the jump), so the
# perceptron rule is not gradient descent on anything smooth. Widrow and Hoff's ADALINE instead
# trains the *linear* output z to match a target d (here +1 for pass, −1 for fail), minimising the
# squared error Err = ½(d − z)². Since ∂Err/∂w_i = −(d − z)·x_i, the gradient step is the
# **delta rule**
#
# w_i ← w_i + η·(d − z)·x_i,   with δ = d − z.
#
# Let gradflow differentiate ½(d − z)² on the perceptron's graph, and compare the step −η·∂Err/∂w
# with the change `delta_update` makes:

# %%
sample, learning_rate = 0, 0.01   # which student, and η

x, label = X[sample].tolist(), int(y[sample])
d = 1.0 if label == 1 else -1.0
p = Perceptron(2, seed=1)
z = p(x)                         # a Value: the graph of w·x + b
err = 0.5 * (d - z) ** 2
err.backward()
from_gradient = [-learning_rate * w.grad for w in p.w] + [-learning_rate * p.b.grad]
dw, db = p.delta_update(x, label, lr=learning_rate)
print(f"delta rule:      Δw1 = {dw[0]:+.5f}, Δw2 = {dw[1]:+.5f}, Δb = {db:+.5f}")
print(f"−η·∂Err/∂(w, b): Δw1 = {from_gradient[0]:+.5f}, Δw2 = {from_gradient[1]:+.5f}, Δb = {from_gradient[2]:+.5f}")

# %% [markdown]
# They agree: the delta rule *is* gradient descent on the squared error. Put a differentiable
# activation f after z and the same derivation gives the **generalized delta rule**,
# w_i ← w_i + η·(d − y)·f'(z)·x_i, which is backpropagation for a network of one layer.
#
# Train ADALINE on the whole dataset. The inputs are divided by 12 first: the delta rule's step
# grows with |x|, and with raw counts of lectures and hours it overshoots. Unlike Rosenblatt's rule
# it does not stop at zero mistakes — it settles where the *squared error* is smallest, which here
# leaves a handful of points on the wrong side: a point far out on its correct side still has a
# large error d − z, and pulls the line towards itself. Two counts are printed below. `learn`
# counts an epoch's mistakes as it goes, each student judged by the line as it stands just
# before that student's update, while every update moves the line; the accuracy is measured
# afterwards, all students against the final line. The two need not agree.

# %%
learning_rate, epochs = 0.05, 100   # try 0.5 (worse), then 1.5: each step overshoots and the weights blow up

scale = 12.0
p = Perceptron(2, seed=0)
result = p.learn(X / scale, y, rule="delta", lr=learning_rate, epochs=epochs)
wrong_at_the_end = int(np.sum(p.predict(X / scale) != y))
print(f"mistakes counted during each epoch (the line moving after every student), last five: {result.errors[-5:]}")
print(f"with the final weights: {wrong_at_the_end} of {len(y)} students on the wrong side, "
      f"accuracy {1 - wrong_at_the_end / len(y):.0%}")

fig, ax = plt.subplots(figsize=(5, 4))
scatter(X, y, ax, "ADALINE (delta rule)")
boundary_line(p, ax, X, scale=scale, color="k")
plt.show()

# %% [markdown]
# > **Erratum — deck 004_e41f9ac31c75eef9.txt** (the slide "The activation function")
# >
# > **The slide says** the activation "also needs to be differentiable", and lists the step function
# > as the one used for classification. **What is right:** the step is not differentiable in any
# > useful sense. It is flat on both sides of its jump, so its derivative is 0 wherever it exists,
# > and at the jump it does not exist. No gradient passes through it: that is why the perceptron has
# > a rule of its own instead of gradient descent, why ADALINE trains the linear z, and why
# > backpropagation networks replace the step with a sigmoid, a step with the corner smoothed off.
# >
# > **Check:** the step's slope by central differences, left of the jump, right of it, and across it.

# %%
step = lambda z: Value(1.0 if z.data >= 0 else 0.0)   # the step's output is a new number: no graph leads back to z
print("slope of the step at z = −1, 0.5 and 0:", [numerical_grad(step, z)[0] for z in (-1.0, 0.5, 0.0)],
      "(the last is 1/2ε for ε = 1e-6: the jump, not a slope)")

# %% [markdown]
# > **Erratum — deck 004_e41f9ac31c75eef9.txt** (the slides "The perceptron Algorithm: The Δ rule"
# > and "The learning Algorithm: Δ rule")
# >
# > **The slides call** Rosenblatt's 1958 perceptron rule "the Δ rule". **What is right:** the delta
# > rule is Widrow and Hoff's rule for ADALINE (1960), the one above, which deck
# > 001_ae477276b4929235.txt calls "the famous delta rule" (also the LMS rule). The two look alike,
# > w ← w + α·(target − output)·x, but they differ in the output. Rosenblatt's is the step, so the
# > error is −1, 0 or +1 and a sample classified correctly changes nothing; the delta rule's is the
# > linear z, so the error can be any number and every sample moves the weights until z reaches
# > its target. Only the delta rule is a gradient step.
# >
# > **Check:** one student, the same starting weights, one update by each rule.

# %%
sample = 0   # change this
rosenblatt, widrow_hoff = Perceptron(2, seed=1), Perceptron(2, seed=1)   # two copies of the same start
x, label = X[sample].tolist(), int(y[sample])
print(f"student {sample} (label {label}), z = {rosenblatt(x).data:+.2f}: perceptron rule Δw = "
      f"{rosenblatt.perceptron_update(x, label, lr=0.01)[0]}, delta rule Δw = "
      f"{[round(d, 4) for d in widrow_hoff.delta_update(x, label, lr=0.01)[0]]}")

# %% [markdown]
# ### Your turn
#
# The delta rule descends E = ½(t − y)² for a linear unit y = w·x + b. With x = 2, w = 0.25,
# b = 0 and the label t = 1, write ∂E/∂y and ∂E/∂w, then run the check. The stored attempt writes
# the error the way deck 004's Error = Label − Output suggests; the check says what is off.

# %%
answers = {"dE/dy": 0.5, "dE/dw": 1.0}  # your numbers

# %%
from viz.exercise import load

print(load("sheets/your_turn/03_delta_rule_gradient.toml").grade(answers, student="you").feedback("exam"))

# %% [markdown]
# ## A threshold neuron: σ(net − T)
#
# The lectures also write a sigmoid unit with a *threshold* T: net = Σ w_i·x_i and
# o = σ(net − T) = 1 / (1 + e^−(net − T)). The output crosses ½ exactly where net = T, so T
# shifts the soft step along the net axis; and σ(k·(net − T)) with a large k is Rosenblatt's hard
# step at T. Since net − T = net + b with b = −T, a threshold is a bias with its sign flipped:
# ∂o/∂T = −o(1 − o) = −∂o/∂b, and learning T is learning a bias. gradflow checks it:

# %%
net_value, T_value = 0.8, 1.5   # change these

net, T = Value(net_value, "net"), Value(T_value, "T", kind="param")
o = (net - T).sigmoid()
o.backward()
print(f"o = σ(net − T) = {o.data:.4f};  ∂o/∂T = {T.grad:+.4f},  −o(1 − o) = {-o.data * (1 - o.data):+.4f},  "
      f"∂o/∂net = {net.grad:+.4f}")

grid = np.linspace(-4, 6, 400)
fig, ax = plt.subplots(figsize=(6, 3.2))
for t, k in ((0.0, 1), (T_value, 1), (T_value, 8)):
    ax.plot(grid, 1 / (1 + np.exp(-k * (grid - t))), label=f"σ({k}·(net − {t}))" if k != 1 else f"σ(net − {t})")
ax.step(grid, (grid >= T_value).astype(float), "k:", where="post", label=f"step at T = {T_value}")
ax.axhline(0.5, color="grey", lw=0.6)
ax.set_xlabel("net")
ax.set_ylabel("o")
ax.set_title("the threshold T moves the step; a steeper sigmoid approaches it")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# > **Erratum — deck 004_e41f9ac31c75eef9.txt** (the slides "Forward Pass", "Backward pass - using
# > gradient descent" and "Backward pass", a sigmoid unit with half the squared error)
# >
# > **The slides say** Error = Output − Label, two slides later Error = label − Output, and then
# > ∂E_total/∂Out = (1/N)·Σ(Out_i − l_i) = Error. **What is right:** for E = ½(label − Out)² (the
# > order inside the square does not matter), ∂E/∂Out = Out − label. That is the first definition
# > of Error and minus the second; a student who pairs the second definition with the last line
# > moves the weights uphill. (The 1/N and the sum also come one step too early: each Out_i has its
# > own derivative (Out_i − l_i)/N, and the sum over samples appears in ∂E_total/∂w.) The same
# > slide ends with ∂Net/∂W_i = ∂(w_0·x_0 + … + w_n·x_n)/∂w_0 = x_0, mixing two indices: for each
# > i, **∂Net/∂w_i = x_i**.
# >
# > **Check:** one sigmoid unit, Net = w1·x1 + w2·x2, Out = σ(Net), E = ½(Label − Out)².

# %%
xs4, label4 = [0.5, -1.5], 1.0   # change these
ws4 = [Value(0.8, "w1", kind="param"), Value(-0.4, "w2", kind="param")]
net4 = ws4[0] * xs4[0] + ws4[1] * xs4[1]
out4 = net4.sigmoid()
E4 = 0.5 * (label4 - out4) ** 2
E4.backward()
print(f"Out = {out4.data:.4f}: ∂E/∂Out = {out4.grad:+.4f};  Output − Label = {out4.data - label4:+.4f},  "
      f"Label − Output = {label4 - out4.data:+.4f}")
print(f"∂E/∂w_i ÷ ∂E/∂Net = {[round(w.grad / net4.grad, 6) for w in ws4]} = (x1, x2) = {xs4}: ∂Net/∂w_i = x_i")

# %% [markdown]
# ## XOR: where one neuron gives up
#
# XOR labels (0, 0) and (1, 1) as 0 and the other two corners as 1. No straight line puts both 1s
# on one side and both 0s on the other, so the perceptron rule never runs an epoch without
# mistakes:

# %%
X_xor, y_xor = xor()
result = Perceptron(2, seed=0).learn(X_xor, y_xor, epochs=25)
print(f"converged: {result.converged}; mistakes per epoch: {result.errors}")

# %% [markdown]
# ## One hidden layer solves it
#
# Two hidden units can each draw one line (say "x1 OR x2" and "x1 AND x2") and the output unit
# combines them ("OR but not AND"). Nobody has to choose those lines: gradient descent with
# backpropagation finds them. An `MLP(2, [hidden, 1])` has a hidden layer of tanh units and one
# linear output, trained with binary cross-entropy (notebook 5 explains the loss and the optimizer;
# notebook 4 builds such a network by hand).

# %%
hidden, epochs, seed = 4, 100, 0   # try hidden = 1: one hidden unit is one line again

model = MLP(2, [hidden, 1], activation="tanh", seed=seed)
history = fit(model, X_xor, y_xor, loss="bce_with_logits", optimizer=Adam(model.parameters(), lr=0.1),
              epochs=epochs, progress=False)
print(f"accuracy after {epochs} epochs: {history.acc[-1]:.0%}")
for x, t in zip(X_xor.tolist(), y_xor.tolist()):
    print(f"XOR{tuple(int(v) for v in x)} = {t}: network's raw output {model(x)[0].data:+.2f} (class 1 when > 0)")

# %% [markdown]
# This network has five neurons (four hidden, one output), and deck 004 closes by setting networks
# beside brains: a thousand neurons against the brain's many.
#
# > **Erratum — deck 004_e41f9ac31c75eef9.txt** (the slide "Scale and architecture")
# >
# > **The slide says** our brain has ~10¹² neurons. **What is right:** about 8.6 × 10¹⁰, some 86
# > billion (Azevedo et al., 2009, who counted cell nuclei in dissolved brain tissue), so the slide
# > is more than ten times too high. There is nothing here for gradflow to check: the number is a
# > count, not a computation.
