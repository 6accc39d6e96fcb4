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
# # 10. Optimisers and the loss landscape
#
# **What this notebook teaches.** The loss is a surface over the parameters, and an optimiser is
# a rule for walking downhill on it using only the gradient under its feet. With two parameters
# the surface can be drawn, and the walks with it. Here you will
#
# 1. draw a 2-D loss landscape as contours and follow SGD, momentum, Nesterov, RMSprop and Adam
#    (all from `nn.optim`) from one starting point;
# 2. see what RMSprop does differently: it divides each parameter's step by the recent size of
#    that parameter's own gradient;
# 3. lower the learning rate during training with decay schedules (linear, step, exponential) and
#    compare them side by side;
# 4. regularise one model three ways, L1, L2 and the elastic net (both), and look at what each does
#    to the weights: L1 sets many of them to zero.

# %%
import matplotlib.pyplot as plt
import numpy as np

from engine import Value
from nn import MLP, SGD, Adam, ExponentialDecay, LinearDecay, RMSprop, StepDecay, fit, moons

# %matplotlib inline

# %% [markdown]
# ## A landscape with a curved valley
#
# A real network's loss has thousands of dimensions; two are enough to see the difficulties.
# Take L(w1, w2) = (1 − w1)² + 10·(w2 − w1²)², a version of Rosenbrock's test function. Its
# minimum is L = 0 at (1, 1), at the bottom of a narrow valley that bends along the parabola
# w2 = w1². Across the valley the walls are steep (a large gradient), along its floor the slope is
# gentle (a small one): the gradient points mostly at the nearest wall, not at the minimum. That
# mismatch between directions is what makes training slow, and what the optimisers below fight.
#
# The loss is built from `Value`s, so `backward()` gives ∂L/∂w1 and ∂L/∂w2 and any optimiser of
# `nn.optim` can take the step, exactly as it would for a network's weights.

# %%
def landscape(w1, w2):
    """The loss surface; works on Values (for the gradient) and on numpy arrays (for the contours)."""
    return (1 - w1) ** 2 + 10 * (w2 - w1 * w1) ** 2


start, steps = (-1.5, 2.0), 300   # change these

optimisers = {   # each makes a fresh optimiser for the two parameters
    "SGD, η = 0.01": lambda ps: SGD(ps, lr=0.01),
    "momentum 0.9, η = 0.002": lambda ps: SGD(ps, lr=0.002, momentum=0.9),
    "Nesterov 0.9, η = 0.002": lambda ps: SGD(ps, lr=0.002, momentum=0.9, nesterov=True),
    "RMSprop, η = 0.01": lambda ps: RMSprop(ps, lr=0.01),
    "Adam, η = 0.05": lambda ps: Adam(ps, lr=0.05),
}

paths = {}
for name, make in optimisers.items():
    w = [Value(start[0], "w1", kind="param"), Value(start[1], "w2", kind="param")]
    optimiser = make(w)
    path = [(w[0].data, w[1].data)]
    for _ in range(steps):
        loss = landscape(*w)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        path.append((w[0].data, w[1].data))
    paths[name] = np.array(path)
    print(f"{name:>24}: after {steps} steps w = ({w[0].data:+.3f}, {w[1].data:+.3f}), L = {landscape(*w).data:.5f}")

g1, g2 = np.meshgrid(np.linspace(-2, 2, 300), np.linspace(-1, 3, 300))
fig, (ax, ax_loss) = plt.subplots(1, 2, figsize=(14, 5.5), gridspec_kw={"width_ratios": [1.2, 1]})
contours = ax.contour(g1, g2, landscape(g1, g2), levels=np.logspace(-2, 2.5, 14), colors="grey", linewidths=0.6)
ax.clabel(contours, fontsize=7, fmt="%.2g")
for name, path in paths.items():
    ax.plot(path[:, 0], path[:, 1], ".-", ms=2, lw=1.2, label=name)
ax.plot(*start, "ko", ms=7)
ax.annotate("start", start, textcoords="offset points", xytext=(6, 6))
ax.plot(1, 1, "k*", ms=12)
ax.annotate("minimum", (1, 1), textcoords="offset points", xytext=(6, -12))
ax.set_xlabel("w1")
ax.set_ylabel("w2")
ax.set_title(f"{steps} steps on L = (1 − w1)² + 10(w2 − w1²)²")
ax.legend(fontsize=8, loc="lower right")
for name, path in paths.items():
    ax_loss.plot(landscape(path[:, 0], path[:, 1]), label=name)
ax_loss.set_yscale("log")
ax_loss.set_xlabel("step")
ax_loss.set_ylabel("L")
ax_loss.set_title("the loss along each path")
ax_loss.legend(fontsize=8)
plt.show()

# %% [markdown]
# **Reading the picture.** All five first drop into the valley (the steep part of the right-hand
# curves) and then follow its floor, where they differ. Plain SGD's learning rate is capped by
# the steep walls (much larger and it bounces out of the valley), so along the gentle floor it
# crawls and ends short of the minimum. Momentum and Nesterov use a *smaller* η but keep a
# velocity: the side-to-side components cancel, the components along the floor add up, and they
# get much further (Nesterov evaluates the gradient where the velocity is taking it; on this
# smooth valley the two curves nearly coincide).
# RMSprop's steps stay about η long whatever the slope, so with η = 0.01 it walks the floor at a
# steady pace and is still on its way. Adam, which adds momentum to RMSprop's division, gets
# closest. Try `steps = 1000`, a larger SGD rate (0.03), or another start.
#
# ## RMSprop: a step size per parameter
#
# RMSprop (Hinton's lecture notes) keeps, for every parameter, a running mean of its squared
# gradient, v ← α·v + (1 − α)·g², and steps by **η·g / (√v + ε)**. Dividing by the root mean square
# makes the step's size about η whatever the scale of that parameter's gradient: a parameter with
# huge gradients (a steep wall) is slowed down, one with tiny gradients (a flat floor) is sped up.
# Adam does the same division and adds momentum (a running mean of g itself) and a correction for
# the zero start of both means. The cell shows the division at work on the first steps of the
# path above: the gradient of w1 is four times that of w2 at the start, yet the first step is
# 0.1 in both (the first √v is just |g|·√(1 − α)), and afterwards w2, with the smaller gradient,
# takes the larger steps.

# %%
w = [Value(start[0], "w1", kind="param"), Value(start[1], "w2", kind="param")]
rms = RMSprop(w, lr=0.01)
for step in range(1, 6):
    loss = landscape(*w)
    rms.zero_grad()
    loss.backward()
    before = np.array([p.data for p in w])
    grads = np.array([p.grad for p in w])
    rms.step()
    moved = np.array([p.data for p in w]) - before
    print(f"step {step}: gradient ({grads[0]:+9.3f}, {grads[1]:+8.3f})   step taken ({moved[0]:+.4f}, {moved[1]:+.4f})   "
          f"√v = ({np.sqrt(rms.square_avg[0]):.3f}, {np.sqrt(rms.square_avg[1]):.3f})")

# %% [markdown]
# ## Learning-rate decay
#
# A large learning rate moves fast early on but keeps jumping around the minimum; a small one
# settles but crawls. A *schedule* starts large and lowers η as training goes on (the lectures
# list the decay rate among the hyper-parameters worth tuning). `nn.optim` has three, each
# PyTorch's rule, each stepped once per epoch:
#
# * **linear decay**: from η₀ down to η_end in a straight line over a number of epochs, then flat;
# * **step decay**: multiply η by γ every k epochs (a staircase);
# * **exponential decay**: multiply η by γ every epoch.

# %%
base_lr, epochs, batch_size = 2.0, 100, 10   # change these

schedules = {   # each makes a schedule for an optimiser
    "constant": None,
    "linear to 0.05 over 100": lambda opt: LinearDecay(opt, end=0.05, steps=100),
    "step: ×0.5 every 25": lambda opt: StepDecay(opt, every=25, gamma=0.5),
    "exponential: ×0.97": lambda opt: ExponentialDecay(opt, gamma=0.97),
}

X, y = moons(100, noise=0.2, seed=0)
runs, rates = {}, {}
for name, make in schedules.items():
    model = MLP(2, [16, 16, 1], activation="tanh", seed=0)
    optimiser = SGD(model.parameters(), lr=base_lr)
    schedule = make(optimiser) if make else None
    rates[name] = [schedule.lr_at(t) if schedule else base_lr for t in range(epochs)]
    runs[name] = fit(model, X, y, loss="bce_with_logits", optimizer=optimiser, schedule=schedule, epochs=epochs,
                     batch_size=batch_size, progress=False, seed=0)
    print(f"{name:>24}: final η {optimiser.lr:.3f}, final loss {runs[name].loss[-1]:.4f}, "
          f"mean change between epochs over the last 20 {np.abs(np.diff(runs[name].loss[-20:])).mean():.4f}")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4))
for name in schedules:
    ax1.plot(range(1, epochs + 1), rates[name], label=name)
    ax2.plot(range(1, epochs + 1), runs[name].loss, label=name)
ax1.set_xlabel("epoch")
ax1.set_ylabel("learning rate η")
ax1.set_title("the schedules")
ax1.legend(fontsize=8)
ax2.set_xlabel("epoch")
ax2.set_ylabel("training loss")
ax2.set_yscale("log")
ax2.set_title(f"the same network trained with each (SGD, η₀ = {base_lr}, batches of {batch_size})")
ax2.legend(fontsize=8)
plt.show()

# %% [markdown]
# With η held at 2.0, every mini-batch step is large and noisy: the loss drops fast at first and
# then jumps around for the rest of training, ending well above its best. Each schedule lets the
# early epochs use the large rate and then calms the steps as η falls (the last column), and all
# three end far lower. Decay too fast and training stalls before it gets anywhere (the
# exponential one is the first to flatten); too slow and it never settles. Try `base_lr = 1.0`,
# or `batch_size = None` (full batch, much less noise).
#
# ## L1, L2 and the elastic net
#
# A penalty on the weights, added to the loss, is the lectures' first kind of regularisation:
#
# * **L2** adds λ·Σ w², whose gradient 2λw is proportional to the weight: large weights shrink
#   fast, small ones hardly at all, so weights become small but rarely exactly zero;
# * **L1** adds λ·Σ |w|, whose gradient λ·sign(w) has the same size for every weight however small:
#   it keeps pushing small weights all the way to zero, so the model uses fewer weights (it is
#   *sparse*);
# * the **elastic net** adds both, λ₁·Σ|w| + λ₂·Σw²: some sparsity, and the smooth shrinking of L2.
#
# `fit(..., l1=λ₁, l2=λ₂)` adds them (for the elastic net, both). One network, four trainings,
# and the histogram of its weights after each. (|w| has no slope at 0; gradflow's |w| = max(w, −w)
# takes ½ − ½ = 0 there, and a weight that has reached 0 stays within a step of it.)

# %%
l1, l2, epochs = 0.01, 0.01, 300   # change these

penalties = {"no penalty": {}, f"L2, λ = {l2}": {"l2": l2}, f"L1, λ = {l1}": {"l1": l1},
             f"elastic net, λ₁ = λ₂ = {l1 / 2}": {"l1": l1 / 2, "l2": l2 / 2}}
weights = {}
for name, options in penalties.items():
    model = MLP(2, [16, 16, 1], activation="tanh", seed=0)
    history = fit(model, X, y, loss="bce_with_logits", optimizer=SGD(model.parameters(), lr=0.3), epochs=epochs,
                  progress=False, **options)
    weights[name] = np.array([p.data for n, p in model.named_parameters() if not n.endswith(".b")])
    w = weights[name]
    print(f"{name:>26}: accuracy {history.acc[-1]:.0%}, |w| < 0.01 for {np.mean(np.abs(w) < 0.01):.0%} of the "
          f"{w.size} weights, largest |w| {np.abs(w).max():.2f}")

fig, axes = plt.subplots(1, 4, figsize=(15, 3.4), sharey=True)
bins = np.arange(-2.25, 2.3, 0.1)   # one bin is [−0.05, 0.05]
for ax, (name, w) in zip(axes, weights.items()):
    ax.hist(w, bins=bins, color="tab:blue")
    ax.set_title(name, fontsize=10)
    ax.set_xlabel("weight")
axes[0].set_ylabel("number of weights")
plt.show()

# %% [markdown]
# Without a penalty the weights spread out to ±2. L2 pulls them all towards zero into one narrow
# bump, but few land on it. L1 piles most of them into the single bin at zero and leaves a few
# large ones: the network now uses a handful of connections. The elastic net sits in between.
# The biases are left out of the histograms (they are penalised too; `fit` penalises every
# parameter).
