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
# # 10. Optimisers and the loss landscape
#
# **What this notebook teaches.** The loss is a surface over the parameters, and an optimiser is
# a rule for walking downhill on it using only the gradient under its feet. With two parameters
# the surface can be drawn, and the walks with it. Here you will
#
# 1. draw a 2-D loss landscape as contours and follow SGD, momentum, Nesterov, RMSprop and Adam
#    (all from `nn.optim`) from one starting point, each at its own learning rate, found by a
#    small sweep;
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

optimisers = {   # each makes a fresh optimiser for the two parameters at the learning rate η
    "SGD": lambda ps, lr: SGD(ps, lr=lr),
    "momentum 0.9": lambda ps, lr: SGD(ps, lr=lr, momentum=0.9),
    "Nesterov 0.9": lambda ps, lr: SGD(ps, lr=lr, momentum=0.9, nesterov=True),
    "RMSprop": lambda ps, lr: RMSprop(ps, lr=lr),
    "Adam": lambda ps, lr: Adam(ps, lr=lr),
}
rates = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5]   # the sweep: 1, 2 and 5 per decade
starts = [start] + [(start[0] + d1, start[1] + d2) for d1, d2 in ((0.1, 0), (-0.1, 0), (0, 0.1), (0, -0.1))]
ARRIVED = 1e-10   # L below this is the minimum itself, up to float rounding


def walk(make, lr, begin):
    """The path of one optimiser from begin, one (w1, w2) row per step; None if it blew up."""
    w = [Value(begin[0], "w1", kind="param"), Value(begin[1], "w2", kind="param")]
    optimiser = make(w, lr)
    path = [(w[0].data, w[1].data)]
    try:
        for _ in range(steps):
            loss = landscape(*w)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            path.append((w[0].data, w[1].data))
    except (OverflowError, FloatingPointError):   # a value or a step went to infinity: diverged
        return None
    return np.array(path)


def arrival(L):
    """The step from which L stays below ARRIVED to the end (a dip that bounces back does not count), or None."""
    above = np.flatnonzero(L >= ARRIVED)
    return None if above.size and above[-1] == len(L) - 1 else (above[-1] + 1 if above.size else 0)


def rank(path):
    """Smaller is better: arriving (in fewer steps) beats ending low, which beats diverging."""
    if path is None:
        return (2, 0)
    L = landscape(path[:, 0], path[:, 1])
    return (1, L[-1]) if arrival(L) is None else (0, arrival(L))


# Each rate is judged by its worst run of the five starts; the rate kept is the one whose worst run is best.
sweep = {name: {lr: [walk(make, lr, b) for b in starts] for lr in rates} for name, make in optimisers.items()}
worst = {name: {lr: max(runs, key=rank) for lr, runs in by_rate.items()} for name, by_rate in sweep.items()}
tuned = {name: min(rates, key=lambda lr: rank(worst[name][lr])) for name in optimisers}

print(f"the worst L after {steps} steps of the five starts (· = diverged from at least one, [ ] = the rate kept)")
print(" " * 13 + "".join(f"{'η = ' + str(lr):>11}" for lr in rates))
fig, ax = plt.subplots(figsize=(7.5, 4))
for name in optimisers:
    final = {lr: landscape(*p[-1]) for lr, p in worst[name].items() if p is not None}
    cells = [("·" if lr not in final else f"{final[lr]:.1e}") for lr in rates]
    cells = [f"[{c}]" if lr == tuned[name] else c for lr, c in zip(rates, cells)]
    print(f"{name:<13}" + "".join(f"{c:>11}" for c in cells))
    line, = ax.plot(list(final), list(final.values()), "o-", ms=4, label=name)
    ax.plot(tuned[name], final[tuned[name]], "o", ms=11, mfc="none", color=line.get_color())
ax.axhspan(1e-16, ARRIVED, color="0.9")
ax.text(rates[0], 3e-15, "at the minimum (float rounding)", fontsize=8, va="bottom")
ax.set_xscale("log")
ax.set_yscale("log")
ax.set_ylim(1e-16, 30)
ax.set_xlabel("learning rate η")
ax.set_ylabel(f"worst L after {steps} steps")
ax.set_title("the sweep: a line stops where that optimiser diverges; circled, the rate kept", fontsize=10)
ax.legend(fontsize=8)
plt.show()


def gradient(w1, w2):
    w = [Value(w1), Value(w2)]
    landscape(*w).backward()
    return np.array([w[0].grad, w[1].grad])


def curvatures(w1, w2, h=1e-5):
    """The Hessian's eigenvalues at (w1, w2), smallest first: central differences of gradflow's gradient."""
    hessian = np.column_stack([(gradient(w1 + h, w2) - gradient(w1 - h, w2)) / (2 * h),
                               (gradient(w1, w2 + h) - gradient(w1, w2 - h)) / (2 * h)])
    return np.linalg.eigvalsh(hessian)


along, across = curvatures(1, 1)
steep_at_start = curvatures(*start)[1]
print(f"\ncurvature across the floor: {steep_at_start:.1f} at the start, {across:.1f} at the minimum (along the floor there: "
      f"{along:.2f})\nso SGD is stable for η < {2 / steep_at_start:.4f} at the start; near the minimum for η < "
      f"{2 / across:.4f} (SGD), {2 * 1.9 / across:.4f} (momentum 0.9), {2 * 1.9 / 2.8 / across:.4f} (Nesterov 0.9)")

# %% [markdown]
# **Choosing the rates.** Optimisers compared at rates picked by hand compare the picks more than
# the optimisers, so each one gets its own rate here. The sweep tries nine rates from 0.001 to
# 0.5, each for 300 steps from the start and from four points 0.1 away from it, and judges a rate
# by its worst run: a rate that works from one start and blows up from its neighbour is not one
# to use. The rate kept is the one whose worst run ends lowest; where several reach the minimum
# itself (L < 10⁻¹⁰ to the end, where only float rounding is left), the one that gets there in
# the fewest steps.
#
# The lines stop where an optimiser diverges: plain SGD at η = 0.05, momentum and Nesterov already
# at 0.02. The second printed line says why, from the landscape's curvature (how fast the slope
# changes; gradflow's gradients, differenced). Across the valley the walls curve about 260 times
# more sharply than the floor does, and the step that is right for the floor is far too long for
# the walls. Plain gradient descent is stable only while η × (curvature) < 2, so below 0.0197 near
# the minimum and below 0.0095 at the start; SGD's kept η = 0.02 is past both. Momentum 0.9
# tolerates almost twice the rate near the minimum, and along the gentle floor its steps add up to
# about η/(1 − 0.9) = 10·η.
#
# Now the five at their kept rates, from the start.

# %%
paths = {f"{name}, η = {tuned[name]}": sweep[name][tuned[name]][0] for name in optimisers}   # from the start
w1, w2 = start
print(f"start: L = {landscape(w1, w2):.3f}, of which (1 − w1)² = {(1 - w1) ** 2:.3f} is distance along the floor "
      f"and 10(w2 − w1²)² = {10 * (w2 - w1 * w1) ** 2:.3f} height up the wall")
for name, path in paths.items():
    L = landscape(path[:, 0], path[:, 1])
    print(f"{name:>22}: highest L on the way {L.max():5.1f}, after {steps} steps w = ({path[-1, 0]:+.3f}, "
          f"{path[-1, 1]:+.3f}), L = {L[-1]:.1e}, " + (f"L < 1e-10 from step {arrival(L)} on" if arrival(L) is not None
                                                       else f"lowest L {L.min():.1e} at step {L.argmin()}"))

g1, g2 = np.meshgrid(np.linspace(-2, 2, 300), np.linspace(-1, 3, 300))
fig, (ax, ax_loss) = plt.subplots(1, 2, figsize=(14, 5.5), gridspec_kw={"width_ratios": [1.2, 1]})
contours = ax.contour(g1, g2, landscape(g1, g2), levels=np.logspace(-2, 2.5, 14), colors="grey", linewidths=0.6)
ax.clabel(contours, fontsize=7, fmt="%.2g")
for name, path in paths.items():
    line, = ax.plot(path[:, 0], path[:, 1], ".-", ms=2, lw=1, label=name)
    ax.plot(*path[10], "s", ms=6, color=line.get_color(), mec="black", mew=0.6)   # where it is after 10 steps
ax.plot(*start, "ko", ms=7)
ax.annotate("start", start, textcoords="offset points", xytext=(6, 6))
ax.plot(1, 1, "k*", ms=12)
ax.annotate("minimum", (1, 1), textcoords="offset points", xytext=(6, -12))
ax.set_xlim(-2, 2)
ax.set_ylim(-1, 3)
ax.set_xlabel("w1")
ax.set_ylabel("w2")
ax.set_title(f"{steps} steps on L = (1 − w1)² + 10(w2 − w1²)²; squares: after 10 steps")
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
# **Reading the picture.** The start is already close to the valley floor: of L = 6.875, only
# 0.625 is height up the wall, and 6.25 is the distance still to go along the floor, (1 − w1)².
# The descent is a walk along the floor, round the bend near w1 = 0 and up to (1, 1); the
# right-hand curves show how fast each optimiser makes it.
#
# * **SGD** at η = 0.02 does not walk. The rate is too long for the walls at the start, so its
#   first three steps bounce from wall to wall, each landing higher (L = 12.3, 30.1, 45.6), and
#   the third throws it most of the way to the minimum (the blue square, after 10 steps, is already
#   there). Near the minimum it creeps: each step covers η × 0.39, under 1%, of the distance left
#   along the floor, and η is just past the limit across it, so the wobble across the floor grows
#   back. Its loss is lowest at step 215 (10⁻⁴) and 6×10⁻⁴ at the end.
# * **Momentum** and **Nesterov** (both η = 0.01) follow the floor, zig-zagging across it, and reach
#   the minimum itself: L stays below 10⁻¹⁰ from step 246 and from step 213. Nesterov's loss dips
#   sharply at steps 35, 133 and 225: each time its velocity carries it past the minimum along
#   the floor and back, a little less far each time.
# * **RMSprop** (η = 0.05) walks the floor most evenly, because its steps stay about η long
#   whatever the slope; its loss falls fastest round the bend. The same rule keeps it from
#   settling: near the minimum the gradient shrinks, the steps do not, and at step 277 one throws
#   it back up the wall (the spike, L = 2.6). It ends at 4×10⁻³.
# * **Adam** (η = 0.5) divides the same way, but it steps along its running mean of g, in which the
#   back-and-forth across the floor cancels, so its steps can shrink near the minimum; it arrives: L stays below 10⁻¹⁰
#   from step 239.
#
# So, each at its own best rate, momentum, Nesterov and Adam reach the minimum within 250 steps,
# while plain SGD, held back by the walls, gets no lower than L = 10⁻⁴ and RMSprop no lower than
# 2×10⁻³. Try `steps = 1000`: the sweep then keeps η = 0.01 for SGD, because at 0.02 the growing
# wobble has taken its loss back up to 10⁻². Or try another start; the sweep reruns for it.
#
# ## RMSprop: a step size per parameter
#
# RMSprop (Hinton's lecture notes) keeps, for every parameter, a running mean of its squared
# gradient, v ← α·v + (1 − α)·g², and steps by **η·g / (√v + ε)**. Dividing by the root mean square
# makes the step's size about η whatever the scale of that parameter's gradient: a parameter with
# huge gradients (a steep wall) is slowed down, one with tiny gradients (a flat floor) is sped up.
# Adam does the same division and adds momentum (a running mean of g itself) and a correction for
# the zero start of both means. The cell shows the division at work on RMSprop's first steps
# from the same start, at η = 0.01: the gradient of w1 is four times that of w2 at the start, yet the first step is
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
# > **Erratum — deck 004_e41f9ac31c75eef9.txt** (the slide "Optimization methods")
# >
# > **The slide says** "Adaptive momentum - adapting the momentum such that it will slow down when
# > reaching a minima". (It names no method; Adam, *adaptive moment estimation*, is the one that
# > fits the name.) **What is right:** Adam does not adapt its momentum: its β₁ = 0.9 stays fixed.
# > What it adapts is each parameter's *step size*, dividing by the running root mean square of that
# > parameter's gradient, as RMSprop does above. That division makes the step about η long whatever
# > the gradient's size, so a gradient that shrinks near a minimum does **not** by itself make Adam's
# > steps shorter; plain gradient descent is the one whose steps shrink with the gradient. Adam's
# > steps shrink only where the gradient keeps changing sign and its running mean cancels (as on
# > the valley floor above), or when a schedule lowers η (next section).
# >
# > **Check:** one step on L = w², from w = 1 (gradient 2) and from w = 0.01 (gradient 0.02), η = 0.1.

# %%
for w_start in (1.0, 0.01):
    steps_taken = {}
    for name, make in (("SGD", lambda ps: SGD(ps, lr=0.1)), ("Adam", lambda ps: Adam(ps, lr=0.1))):
        w_ = Value(w_start, kind="param")
        opt = make([w_])
        (w_ * w_).backward()
        opt.step()
        steps_taken[name] = w_.data - w_start
    print(f"from w = {w_start}: SGD steps {steps_taken['SGD']:+.4f}, Adam steps {steps_taken['Adam']:+.4f}"
          + ("  (past the minimum at 0, nine times farther from it than the start)" if w_start < 0.1 else ""))

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
    print(f"{name:>24}: η in the last epoch {rates[name][-1]:.3f}, final loss {runs[name].loss[-1]:.4f}, "
          f"mean change between epochs over the last 20 {np.abs(np.diff(runs[name].loss[-20:])).mean():.4f}")

losses = np.array([runs[name].loss for name in schedules])
lowest = np.bincount(losses.argmin(axis=0), minlength=len(schedules))
print("epochs in which each curve is the lowest of the four: " + ", ".join(f"{name} ({n})" for name, n in zip(schedules, lowest)))

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
# With η held at 2.0 every mini-batch step is large and noisy: after about 20 epochs the loss
# stops improving and only jumps around, between 0.04 and 0.8, and where it happens to be in the
# last epoch is luck (0.77 in this run). Each schedule keeps the large rate early and calms the
# steps as η falls: the last column, the mean change between epochs over the last 20, drops from
# 0.06 to at most 0.0025, and all three end far below the constant rate. (The η printed is the
# rate the last epoch trained at.)
#
# They do not finish in the order they lead. The exponential schedule lowers η soonest (below 1
# from epoch 24), so its steps calm first and its curve is the lowest for 71 of the 100 epochs.
# By epoch 80 its η is down to 0.18 and its loss improves only slowly (0.0147 to 0.0114 over the
# last 20 epochs), while the linear schedule, whose η stays higher through the middle of training,
# goes on improving, is the lowest curve from epoch 84 on and ends lowest (0.0073). The step
# schedule ends highest of the three (0.0165): its last 25 epochs all train at η = 0.25, where
# the noise still shows. So which schedule looks best depends on when you stop. Runs this noisy
# also move with small changes (another seed, even rounding), the constant one most. Try
# `base_lr = 1.0`, or `batch_size = None` (full batch, much less noise).
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
