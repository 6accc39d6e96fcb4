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
# # 11. Deeper networks
#
# **What this notebook teaches.** Five details that decide whether a network trains at all, each
# shown with a small experiment and a gradient you can read. Here you will
#
# 1. see what the bias buys: without it every boundary passes through the origin;
# 2. standardise the inputs and watch the same neuron train smoothly with a learning rate that
#    made the raw inputs bounce;
# 3. meet **Maxout**, a unit that learns its own piecewise-linear activation, and train a network
#    of them (`nn.Maxout`);
# 4. add **skip connections** to a deep network: how much each layer's output varies across the
#    inputs (forward) and the gradient per layer (backward), for a plain and a residual network
#    of the same depth side by side, and what that does to training;
# 5. choose the **starting weights**: Xavier/Glorot and He initialisation, the spread of every
#    layer's outputs at three weight scales, and what a scale that is too small or too large does.

# %%
import matplotlib.pyplot as plt
import numpy as np

from engine import Value
from nn import MLP, SGD, Adam, Layer, Maxout, Module, Neuron, bce_with_logits, fit, moons, pass_class
from viz.plots import grad_magnitudes, plot_decision_boundary
from viz import draw_network

# %matplotlib inline


def boundary(neuron, ax, mean=(0.0, 0.0), spread=(1.0, 1.0), **style):
    """Draw z = w1·x1 + w2·x2 + b = 0 of a neuron trained on (x − mean) / spread, in raw units."""
    (w1, w2), b = (w.data for w in neuron.w), neuron.b.data
    x1 = np.array([0.0, 12.0])
    ax.plot(x1, mean[1] - spread[1] * (b + w1 * (x1 - mean[0]) / spread[0]) / w2, **style)


def students(ax, X, y, title):
    ax.scatter(*X[y == 1].T, marker="o", c="tab:blue", label="pass")
    ax.scatter(*X[y == 0].T, marker="x", c="tab:red", label="fail")
    ax.set_xlim(-0.5, 12.5)
    ax.set_ylim(-0.5, 12.5)
    ax.set_xlabel("lectures attended (x1)")
    ax.set_ylabel("hours on the project (x2)")
    ax.set_title(title)


# %% [markdown]
# ## Bias or no bias
#
# A neuron computes z = w·x + b. Without b, z = 0 exactly at x = 0 whatever the weights, so the
# boundary z = 0 always passes through the origin: the weights can turn the line but not move it.
# The lectures' "will I pass?" students need the line 0.9·x1 + 0.7·x2 = 10, far from the origin.
# Train one linear neuron twice on the same data (inputs divided by 12), once with its bias held
# at 0 and once with it. To hold the bias, it is made a constant (`kind = "const"`) and the
# optimiser is given the weights only; `fit` refuses an optimiser that silently leaves out a
# parameter that is still a parameter.

# %%
n_students, epochs = 100, 200   # change these

X, y = pass_class(n_students, noise=False, seed=0)
fig, axes = plt.subplots(1, 2, figsize=(10, 4))
for ax, with_bias in zip(axes, (False, True)):
    neuron = Neuron(2, "linear", seed=0)
    if not with_bias:
        neuron.b.kind = "const"                                  # frozen: b stays at its start, 0
    trained = neuron.parameters() if with_bias else neuron.w
    history = fit(neuron, X / 12, y, loss="bce_with_logits", optimizer=Adam(trained, lr=0.1), epochs=epochs, progress=False)
    print(f"{'with' if with_bias else 'without':>7} bias: accuracy {history.acc[-1]:.0%}, "
          f"w = ({neuron.w[0].data:+.2f}, {neuron.w[1].data:+.2f}), b = {neuron.b.data:+.2f}")
    students(ax, X, y, f"{'with' if with_bias else 'without'} bias: {history.acc[-1]:.0%} right")
    boundary(neuron, ax, spread=(12.0, 12.0), color="k")
    ax.plot(0, 0, "k+", ms=12)
axes[0].legend(loc="upper right")
plt.show()

# %% [markdown]
# The bias-free line pivots around the origin (the cross) and the best it can do is a compromise.
# With a bias it moves to where the classes meet. This is why every `nn.Neuron` has one, and why
# the lectures count the bias as one more weight, on an input that is always 1.
#
# ## Input normalisation
#
# Raw features come in their own units: here 0 to 12 lectures and 0 to 12 hours, all positive.
# Every weight's gradient is the neuron's δ times its input (∂L/∂w = δ·x, notebook 4), so large
# inputs make large weight gradients, and since all inputs are positive, the weight gradients of
# a sample all share one sign (the weights can only move together, up or down). The loss surface
# is a long, tilted valley, and a learning rate small enough not to overshoot across it crawls
# along it. *Standardising* each feature, x ← (x − mean) / spread, centres every input at 0 with
# spread 1. Same neuron, same start, same learning rates, raw against standardised:

# %%
rates, epochs = (0.3, 0.03), 100   # change these

mean, spread = X.mean(axis=0), X.std(axis=0)
X_std = (X - mean) / spread
inputs = {"raw": X, "standardised": X_std}

first = {}
for name, data in inputs.items():
    neuron = Neuron(2, "linear", seed=0)
    loss = bce_with_logits([neuron(x) for x in data.tolist()], y.tolist())
    loss.backward()
    first[name] = [abs(p.grad) for p in neuron.parameters()]
    print(f"{name:>12} inputs: first gradient |∂L/∂w1|, |∂L/∂w2|, |∂L/∂b| = " + ", ".join(f"{g:.3f}" for g in first[name]))

fig, ax = plt.subplots(figsize=(7, 3.8))
for name, data in inputs.items():
    for lr, style in zip(rates, ("-", "--")):
        neuron = Neuron(2, "linear", seed=0)
        history = fit(neuron, data, y, loss="bce_with_logits", optimizer=SGD(neuron.parameters(), lr=lr), epochs=epochs,
                      progress=False)
        ax.plot(range(1, epochs + 1), history.loss, style, color="tab:orange" if name == "raw" else "tab:blue",
                label=f"{name}, η = {lr}: {history.acc[-1]:.0%} right")
ax.set_xlabel("epoch")
ax.set_ylabel("training loss")
ax.set_title("one neuron, raw against standardised inputs")
ax.legend(fontsize=8, loc="upper right")
plt.show()

# %% [markdown]
# On raw inputs the first weight gradients are about ten times their standardised size, so the
# same η takes steps ten times longer: with η = 0.3 the loss jumps up and down as the weights
# overshoot across the valley, and η = 0.03, small enough to be calm, crawls. On standardised
# inputs η = 0.3 descends smoothly to a better fit. The
# standardisation is part of the model from now on: new inputs must be shifted and scaled with the
# *training* data's mean and spread.
#
# ## Maxout
#
# The lectures' list of activations ends with **Maxout**: a unit that computes several linear
# functions of its inputs and outputs the largest, max(w1ᵀx + b1, w2ᵀx + b2) for two pieces.
# There is no fixed activation function: a maximum of lines is a convex, piecewise-linear curve,
# and the unit *learns* its shape. ReLU is the special case max(wᵀx + b, 0); |x| is max(x, −x).
# Backward, the max routes: the winning piece gets the whole gradient, the others nothing.
#
# `nn.Maxout(nin, nout, pieces)` is a layer of such units. First one unit with three pieces on one
# input, trained to follow the curve t = x² − 1: it bends itself into three line segments.

# %%
pieces, epochs = 3, 300   # change these

x_grid = np.linspace(-2, 2, 41)[:, None]
unit = Maxout(1, 1, pieces=pieces, seed=0)
history = fit(unit, x_grid, x_grid[:, 0] ** 2 - 1, loss="mse", optimizer=Adam(unit.parameters(), lr=0.05), epochs=epochs,
              progress=False)
fine = np.linspace(-2, 2, 200)
fig, ax = plt.subplots(figsize=(6, 3.8))
ax.plot(fine, fine**2 - 1, "k:", label="target x² − 1")
for k, piece in enumerate(unit.pieces, 1):
    ax.plot(fine, piece.w[0].data * fine + piece.b.data, lw=0.8, alpha=0.6, label=f"piece {k}")
ax.plot(fine, [unit([v])[0].data for v in fine], "tab:red", lw=2.5, label="maxout: the largest piece")
ax.set_ylim(-2, 4)
ax.set_xlabel("x")
ax.set_title(f"one maxout unit, {pieces} pieces, after {epochs} epochs (MSE {history.loss[-1]:.3f})")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# Now a network: a hidden layer of maxout units and a linear output, on the two moons, beside a
# ReLU network of the same width. A maxout unit with two pieces has twice the weights of a ReLU
# unit; that is its price.

# %%
hidden, pieces, epochs = 8, 2, 100   # change these


class MaxoutNet(Module):
    """Maxout hidden layer, linear output."""

    def __init__(self, hidden, pieces, seed=0):
        self.hidden = Maxout(2, hidden, pieces=pieces, seed=seed)
        self.out = Layer(hidden, 1, activation="linear", seed=seed + 1)

    def __call__(self, x):
        return self.out(self.hidden(x))


X_moons, y_moons = moons(100, noise=0.15, seed=0)
nets = {"maxout": MaxoutNet(hidden, pieces), "ReLU": MLP(2, [hidden, 1], activation="relu", seed=0)}
fig, axes = plt.subplots(1, 2, figsize=(10, 4))
for ax, (name, net) in zip(axes, nets.items()):
    # MaxoutNet is our own module: fit replays it only when asked (batched=True)
    history = fit(net, X_moons, y_moons, loss="bce_with_logits", optimizer=Adam(net.parameters(), lr=0.05), epochs=epochs,
                  progress=False, batched=True)
    print(f"{name:>7}: {len(net.parameters())} parameters, final loss {history.loss[-1]:.3f}, accuracy {history.acc[-1]:.0%}")
    plot_decision_boundary(net, X_moons, y_moons, ax=ax, loss="bce_with_logits")
    ax.set_title(f"{name}, {hidden} hidden units: {history.acc[-1]:.0%} right")
plt.show()

# %% [markdown]
# ## Skip connections
#
# Notebook 6 showed the gradient shrinking layer by layer in a deep sigmoid network: every layer
# multiplies it by σ' ≤ 0.25 and a weight, so under plain gradient descent the first layers
# hardly learn. The lectures name
# the cure used in the deepest networks: **skip connections**. A residual layer adds its input to
# its output,
#
# h(k+1) = h(k) + f(W(k)·h(k) + b(k)),
#
# so ∂h(k+1)/∂h(k) = 1 + (the layer's own derivative). The "1" is a path on which the gradient
# passes each layer untouched (split adds: the skip and the layer's path are summed), so however
# small the layer's factor, the gradient that reaches the first layers does not vanish.
#
# Two networks of the same depth and width, built from `nn.Layer`s; the only difference is the
# `+ h` of the residual one. Each is looked at from both sides, before any training:
#
# * **forward**: how much each hidden layer's output differs from one input to another. For every
#   unit, the standard deviation of its output over the 100 moons points, and the largest of
#   these in the layer. A layer whose outputs are the same for every point passes nothing on
#   about which point it was shown.
# * **backward**: one backward pass on the same batch, then the mean |gradient| of each layer's
#   parameters (input side first), with `viz.plots.grad_magnitudes`.

# %%
depth, width, activation = 12, 6, "sigmoid"   # change these (try "tanh", or depth = 30)


class Deep(Module):
    """An input layer, ``depth`` hidden layers of ``width``, a linear output; optionally residual."""

    def __init__(self, depth, width, activation, residual, seed=0):
        rng = np.random.default_rng(seed)
        self.residual = residual
        self.layers = ([Layer(2, width, activation, rng=rng)]
                       + [Layer(width, width, activation, rng=rng) for _ in range(depth)]
                       + [Layer(width, 1, "linear", rng=rng)])
        self._label_parameters()

    def named_parameters(self):   # layer1.neuron1.w1, ...: the names grad_magnitudes groups by
        return [(f"layer{i}.{name}", p) for i, layer in enumerate(self.layers, 1) for name, p in layer.named_parameters()]

    def hidden(self, x):
        """The outputs h of the input layer and of every hidden layer, for one input."""
        hs = [self.layers[0](x)]
        for layer in self.layers[1:-1]:
            out = layer(hs[-1])
            hs.append([a + b for a, b in zip(hs[-1], out)] if self.residual else out)   # the skip: + h
        return hs

    def __call__(self, x):
        return self.layers[-1](self.hidden(x)[-1])


def spread(model, X):
    """Per layer, over its units, the largest standard deviation of a unit's output across the inputs X."""
    outputs = [model.hidden(x) for x in X.tolist()]
    return [np.array([[v.data for v in h[k]] for h in outputs]).std(axis=0).max() for k in range(len(outputs[0]))]


models = {"plain": Deep(depth, width, activation, residual=False), "residual": Deep(depth, width, activation, residual=True)}
magnitudes, spreads = {}, {}
for name, model in models.items():
    spreads[name] = spread(model, X_moons)
    loss = bce_with_logits([model(x) for x in X_moons.tolist()], y_moons.tolist())
    loss.backward()
    magnitudes[name] = grad_magnitudes(model)
    values = list(magnitudes[name].values())
    print(f"{name:>8}: forward, spread across the inputs in layer 1 {spreads[name][0]:.1e}, in layer {len(spreads[name])} "
          f"(the last hidden) {spreads[name][-1]:.1e}; backward, mean |grad| in layer 1 {values[0]:.1e}, "
          f"in layer {len(values)} {values[-1]:.1e}, ratio {values[0] / values[-1]:.1e}")

fig, (ax_fwd, ax_bwd) = plt.subplots(1, 2, figsize=(13, 4), sharex=True)
for name in models:
    ax_fwd.plot(range(1, len(spreads[name]) + 1), spreads[name], "o-", label=f"{name} ({activation})")
    ax_bwd.plot(range(1, len(magnitudes[name]) + 1), list(magnitudes[name].values()), "o-", label=f"{name} ({activation})")
ax_fwd.set_ylabel("largest std of a unit's output over the inputs")
ax_fwd.set_title("forward: how much each layer's output varies across the 100 inputs", fontsize=10)
ax_bwd.set_ylabel("mean |∂L/∂parameter|")
ax_bwd.set_title(f"backward: gradient size per layer, one backward pass", fontsize=10)
for ax in (ax_fwd, ax_bwd):
    ax.set_yscale("log")
    ax.set_xlabel("layer (input side first)")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
fig.suptitle(f"{depth + 2} layers of width {width} (layer {depth + 2} is the linear output), before training")
fig.tight_layout()
plt.show()

# %% [markdown]
# **Backward** (right): in the plain sigmoid network the gradient falls by a factor of about 2 to 6
# per layer and reaches the first layer millions of times smaller than at the output (the ratio
# printed, 2.4×10⁻⁷). The residual network's curve is flat across the hidden layers, all of them
# between about 10⁻³ and 10⁻¹: no layer is starved. (Its output layer stands higher because its
# inputs are large: every skip adds a positive sigmoid output, so the hidden values grow with
# depth.)
#
# **Forward** (left): the plain network loses its inputs on the way in just as fast. Different
# points give first-layer outputs that differ by up to 0.2; each further layer multiplies those
# differences by its σ′ ≤ 0.25 and its weights, the same factors the gradient meets on its way
# back, so by the last hidden layer the 100 points give outputs within 10⁻⁷ of one another. The
# output layer is shown practically the same numbers for every point, on either moon. In the
# residual network every layer also passes its input on through the skip, and the spread stays
# about 0.2 at every depth.
#
# What that means for training: same networks, same optimiser, same epochs (after one more
# picture).
#
# The same fading, drawn on the network itself: `viz.draw_network` with `nodes="delta"` fills
# each neuron by |δ| = |∂loss/∂z| on a log scale, here for the first training sample of the
# plain network. Read the fill from right to left: the output layer is dark, and each layer
# towards the inputs is paler. (Only the plain network is drawn this way: its forward pass is
# exactly its list of layers, while the residual one's skips are not layers.)

# %%
draw_network(models["plain"].layers, X_moons[0].tolist(), target=float(y_moons[0]), loss="bce_with_logits",
             nodes="delta", numbers=False, title="plain network, one sample: δ = ∂loss/∂z per neuron")

# %% [markdown]
# Now training:

# %%
epochs = 60   # change this

fig, ax = plt.subplots(figsize=(7, 3.8))
for name, residual in (("plain", False), ("residual", True)):
    model = Deep(depth, width, activation, residual=residual)
    first_layer = np.array([p.data for p in model.layers[0].parameters()])
    history = fit(model, X_moons, y_moons, loss="bce_with_logits", optimizer=Adam(model.parameters(), lr=0.01),
                  epochs=epochs, progress=False, batched=True)  # our own module: replayed when asked
    moved = np.abs(np.array([p.data for p in model.layers[0].parameters()]) - first_layer).mean()
    print(f"{name:>8}: loss {history.loss[0]:.3f} → {history.loss[-1]:.3f}, accuracy {history.acc[-1]:.0%}; layer 1's "
          f"parameters moved by {moved:.3f} on average (their size: {np.abs(first_layer).mean():.2f})\n"
          f"{'':>10}the last hidden layer's spread across the inputs after training: {spread(model, X_moons)[-1]:.1e}")
    ax.plot(range(1, epochs + 1), history.loss, label=name)
ax.set_xlabel("epoch")
ax.set_ylabel("training loss")
ax.set_title(f"{depth + 2}-layer {activation} networks, Adam η = 0.01")
ax.legend()
plt.show()

# %% [markdown]
# The plain network sits at loss log 2 ≈ 0.693, the loss of a coin flip, and gets 50% right. Not
# for lack of steps: Adam scales each parameter's step by the recent size of that parameter's own
# gradient (down to its ε = 10⁻⁸), so even gradients of 10⁻⁹ move the first layer: its parameters
# moved by 0.08 on average, a fifth of their size. (Plain SGD at η = 0.01 would have moved them
# by about 60 × 0.01 × 3×10⁻⁹ ≈ 2×10⁻⁹: there the backward side alone would stop it.) What the
# plain network lacks is the forward signal. After training, its last hidden layer still gives
# the 100 points outputs within 10⁻⁷ of one another, so the output layer can only give every
# point the same answer, and for two classes of equal size the best same answer is p = ½, whose
# loss is log 2. The residual network, identical except for the skips, learns: its last hidden
# layer's outputs now vary by 0.78 across the points, and its loss comes down to 0.43 (it starts
# higher, at 1.56, from its large hidden values), 87% right. Residual connections are how networks
# of hundreds of layers are trained; with ReLU units instead of sigmoids (notebook 6) and careful
# starting weights they are the standard recipe.

# %% [markdown]
# ## Starting weights: Xavier/Glorot and He
#
# Deck 001's gradient descent starts with "initialize weights randomly ∼ N(0, σ²)" and leaves σ
# open. In a deep network σ decides whether anything gets through. A neuron adds n_in products
# w·x; with independent weights of mean 0 and variance σ², and inputs whose squares average q, its
# sum z has variance n_in·σ²·q. So every layer multiplies the typical size of its outputs by about
# σ·√n_in. That holds for tanh near 0, where tanh(z) ≈ z; a ReLU zeroes the negative half of its
# sums, which halves the mean square, so for ReLU the factor is σ·√(n_in/2). Over many layers any
# factor other than 1 compounds: the outputs shrink towards 0 or grow without bound, and the
# gradients on the way back meet the same factors. The two standard choices set the factor to 1:
#
# * **Xavier/Glorot** (Glorot and Bengio, 2010), for tanh and other units symmetric about 0:
#   σ² = 2/(n_in + n_out). That is 1/n for a layer with as many inputs as outputs; n_in alone
#   would keep the forward signal steady and n_out alone the backward one, and the average is a
#   compromise between the two.
# * **He** (He et al., 2015), for ReLU: σ² = 2/n_in, the 2 making up for the half that ReLU zeroes.
#
# Below, networks of six hidden layers of 16 units (tanh, and ReLU) start from three scales: σ = 0.01,
# the recommended σ, and σ = 1. The weights are set through the public parameters (`neuron.w`),
# the inputs are the moons points standardised as above, and the biases start at 0. For each
# start, measured on half the points to save time (every other point of each moon, 50 in all): the
# standard deviation of every hidden layer's outputs over those points and all units (forward), and
# the mean |gradient| of every layer's parameters after one backward pass of the cross-entropy
# (backward).

# %%
depth, width, seed = 6, 16, 0   # change these

X_init = (X_moons - X_moons.mean(axis=0)) / X_moons.std(axis=0)
half = np.r_[np.flatnonzero(y_moons == 0)[::2], np.flatnonzero(y_moons == 1)[::2]]   # 25 points of each class
recommended = {"tanh": ("Xavier", lambda nin, nout: np.sqrt(2 / (nin + nout))),
               "relu": ("He", lambda nin, nout: np.sqrt(2 / nin))}


def start(activation, sigma):
    """An MLP whose weights are drawn from N(0, σ²), σ = sigma(n_in, n_out) for each layer."""
    model = MLP(2, [width] * depth + [1], activation=activation, seed=seed)
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        s = sigma(layer.nin, layer.nout)
        for neuron in layer.neurons:
            for w in neuron.w:
                w.data = float(rng.normal(0.0, s))
    return model


def forward_and_backward(model):
    """Per hidden layer, the std of its outputs over all points and units; per layer, the mean |gradient|."""
    outputs, hidden = [], []
    for x in X_init[half].tolist():
        h, layers = x, []
        for layer in model.layers:
            h = layer(h)
            layers.append([v.data for v in h])
        outputs.append(h)
        hidden.append(layers[:-1])
    bce_with_logits(outputs, y_moons[half].tolist()).backward()
    stds = [float(np.std([sample[k] for sample in hidden])) for k in range(depth)]
    return stds, list(grad_magnitudes(model).values())


starts = {}
for activation, (rule, sigma_rule) in recommended.items():
    for label, sigma in (("σ = 0.01", lambda nin, nout: 0.01), (rule, sigma_rule), ("σ = 1", lambda nin, nout: 1.0)):
        starts[f"{activation}, {label}"] = (activation, sigma, *forward_and_backward(start(activation, sigma)))

fig, (ax_f, ax_b) = plt.subplots(1, 2, figsize=(13, 4))
for name, (activation, _, stds, grads) in starts.items():
    style = "o-" if activation == "tanh" else "s--"
    ax_f.plot(range(1, depth + 1), stds, style, label=name)
    ax_b.plot(range(1, depth + 2), grads, style, label=name)
    print(f"{name:>17}: output std by layer " + " ".join(f"{v:8.1e}" for v in stds)
          + f";  mean |grad| per layer from {min(grads):.0e} to {max(grads):.0e}")
ax_f.set_title("forward: std of each hidden layer's outputs", fontsize=10)
ax_f.set_xlabel("hidden layer")
ax_b.set_title("backward: mean |∂L/∂parameter| per layer (last = output layer)", fontsize=10)
ax_b.set_xlabel("layer")
for ax in (ax_f, ax_b):
    ax.set_yscale("log")
    ax.grid(alpha=0.3, which="both")
ax_b.legend(fontsize=8, ncol=2)
fig.tight_layout()
plt.show()

# %% [markdown]
# **Reading the numbers.** At σ = 0.01 the factor per layer is 0.01·√16 = 0.04 for tanh and
# 0.01·√8 ≈ 0.03 for ReLU: the outputs shrink by a factor of 20 to 40 per layer, to about 10⁻⁹
# (tanh) and 10⁻¹¹ (ReLU) by the sixth. The gradients are tiny too: around 10⁻¹⁰ in every layer of
# the tanh network, and at most 2×10⁻⁵ (next to the output) in the ReLU one. A weight's gradient is the
# input it multiplies, which has all but vanished, times the gradient coming back, which has passed
# the same small weights. At the recommended scales the outputs stay between about 0.2 and 0.75 in
# every layer and the layers' gradients are within a factor of ten of one another. (tanh's spread
# falls slowly, because tanh is flatter than the identity away from 0;
# ReLU's wanders, because with 16 units the factor is 1 only on average.) At σ = 1 the two part
# ways: ReLU's factor is √8 ≈ 2.8 and its outputs grow to about 40 by the sixth layer, with
# gradients up to 6; tanh cannot grow past ±1, so its units saturate instead, most
# outputs near ±1 (std about 0.9).
#
# What that does to training: each start, trained by plain gradient descent (η = 0.05, 100 epochs).

# %%
learning_rate, epochs = 0.05, 100   # change these

for name, (activation, sigma, _, _) in starts.items():
    model = start(activation, sigma)
    try:
        history = fit(model, X_init, y_moons, loss="bce_with_logits", optimizer=SGD(model.parameters(), lr=learning_rate),
                      epochs=epochs, progress=False)
        print(f"{name:>17}: loss {history.loss[0]:.3f} → {history.loss[-1]:.3f}, accuracy {history.acc[-1]:.0%}")
    except OverflowError:   # gradflow refuses a number past a float's range (try depth = 20)
        print(f"{name:>17}: the numbers overflowed a float during training: the steps grew without bound")

# %% [markdown]
# Too small a scale leaves both networks at log 2 ≈ 0.693, the loss of a coin flip: no signal
# reaches the output, and gradients of 10⁻¹⁰ do not move anything at this η. The recommended scales
# train. ReLU at σ = 1 starts at a loss of 21 with gradients to match; its first steps are so long
# that they knock its units dead, and it ends where the small start began, at log 2 and 50%, giving
# every point the same answer. (With more layers the same start overflows a float instead.) tanh at
# σ = 1 is the surprise: it trains best of all here. Its outputs cannot blow up, and at this depth
# its saturated units still pass gradients ten times larger than the Xavier start's, so the same η
# moves it ten times faster. The damage of saturation grows with depth: with `depth = 20` (slower
# to run) the σ = 1 tanh network stalls near 66% while the Xavier one reaches 87%. Adam would rescue
# some of these starts by rescaling the steps (notebook 10), but not the collapsed forward signal
# of σ = 0.01: the skip-connection section above shows what a network whose last layer sees the
# same numbers for every input can learn.
#
# gradflow's own choices: `MLP(..., init="uniform")` (the default, micrograd's) draws weights
# uniformly from [−1, 1], a standard deviation of 1/√3 ≈ 0.58 whatever the width, and
# `init="he"` draws He's N(0, 2/n_in). For ReLU layers of 16 that is a factor of 0.58·√8 ≈ 1.6 per
# layer against 1:

# %%
for init in ("uniform", "he"):
    model = MLP(2, [width] * depth + [1], activation="relu", init=init, seed=seed)
    stds, _ = forward_and_backward(model)
    print(f"{'init=' + repr(init):>14}: output std by layer " + " ".join(f"{v:6.2f}" for v in stds))
