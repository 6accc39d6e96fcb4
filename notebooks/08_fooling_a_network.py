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
# # 8. Fooling a network
#
# **What this notebook teaches.** Backpropagation computes the gradient of the loss with respect to
# *every* node of the graph, the inputs included. Training uses the gradients of the weights and
# steps downhill. Turn that around — freeze the weights and step the *input* uphill,
# x ← x + η · ∂loss/∂x — and the input drifts to where the network is most wrong. Here you will
#
# 1. push a point of a 2-D dataset across a trained network's decision boundary, and watch its path;
# 2. fool a small image classifier with a change to every pixel smaller than the noise already in
#    the images: to a person the picture has not changed, to the network it has switched class.
# 3. choose the class: a *targeted* attack walks the input *down* the loss of a class you pick, until
#    the network names that class with near certainty, beside the untargeted attack that only
#    walks away from the true class.

# %%
import matplotlib.pyplot as plt
import numpy as np

from engine import Value
from nn import MLP, Adam, bce_with_logits, fit, moons, predict, softmax_cross_entropy
from viz.plots import plot_decision_boundary

# %matplotlib inline


def input_gradient(model, x, label):
    """The loss of one sample, and its gradient with respect to each input (the weights stay fixed)."""
    xs = [Value(float(v), f"x{i + 1}") for i, v in enumerate(x)]
    loss = bce_with_logits(model(xs), [label])
    loss.backward()
    return loss.data, np.array([v.grad for v in xs])


# %% [markdown]
# ## A classifier to fool
#
# A small network trained on the two moons; its decision boundary is where its raw output
# crosses 0.

# %%
n_points, hidden, epochs, seed = 60, [8, 8], 60, 0   # change these

X, y = moons(n_points, noise=0.1, seed=seed)
model = MLP(2, hidden + [1], activation="tanh", seed=seed)
history = fit(model, X, y, loss="bce_with_logits", optimizer=Adam(model.parameters(), lr=0.05),
              epochs=epochs, progress=False)
print(f"training accuracy {history.acc[-1]:.0%}")

# %% [markdown]
# ## Gradient ascent on one input
#
# Take one correctly classified point. Each step computes ∂loss/∂x with the weights held fixed,
# and moves the point a little *up* the loss: x ← x + η · ∂loss/∂x. Nothing about the network
# changes; only the input does.

# %%
sample, step_size, max_steps = 0, 0.1, 60   # change these

x = X[sample].copy()
label = int(y[sample])
path = [x.copy()]
for step in range(max_steps):
    loss, grad = input_gradient(model, x, label)
    x = x + step_size * grad
    path.append(x.copy())
    predicted = int(predict(model, [x])[0, 0] > 0)
    if predicted != label:
        break
path = np.array(path)
print(f"label {label}; after {len(path) - 1} steps the network says {predicted}; "
      f"the point moved by {np.linalg.norm(path[-1] - path[0]):.3f}")

# the decision regions, the data, and the path of the point
fig, ax = plt.subplots(figsize=(6, 4.4))
plot_decision_boundary(model, X, y, ax=ax)
ax.plot(path[:, 0], path[:, 1], "k.-", lw=1.5, ms=4)
ax.annotate("start", path[0], textcoords="offset points", xytext=(5, 5))
ax.annotate("fooled" if predicted != label else f"not yet, after {max_steps} steps", path[-1],
            textcoords="offset points", xytext=(5, -12))
ax.set_title("gradient ascent on the input")
plt.show()

# %% [markdown]
# The path heads for the boundary by the locally steepest route: at every step the input gradient
# points where the loss rises fastest, which is towards the other class. In two dimensions the
# point has to travel a visible distance. In many dimensions it does not, as the next part shows.
#
# ## Fooling an image classifier
#
# Tiny 5×5 grey images, each with one bright bar: *horizontal* (class 0) or *vertical* (class 1),
# plus random noise on every pixel. A network with one hidden layer learns them perfectly.

# %%
size, noise, n_images = 5, 0.2, 60   # change these


def bars(n, seed):
    """n noisy size×size images with one bright row (class 0) or column (class 1)."""
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for i in range(n):
        image = np.zeros((size, size))
        k = rng.integers(size)
        label = i % 2
        if label:
            image[:, k] = 1.0
        else:
            image[k, :] = 1.0
        images.append((image + rng.normal(0, noise, image.shape)).ravel())
        labels.append(label)
    return np.array(images), np.array(labels)


X_img, y_img = bars(n_images, seed=0)
X_test, y_test = bars(40, seed=1)
net = MLP(size * size, [8, 1], activation="tanh", seed=0)
history = fit(net, X_img, y_img, loss="bce_with_logits", optimizer=Adam(net.parameters(), lr=0.05),
              epochs=30, progress=False)
test_accuracy = np.mean((predict(net, X_test)[:, 0] > 0) == y_test)
print(f"training accuracy {history.acc[-1]:.0%}, accuracy on new images {test_accuracy:.0%}")

# %% [markdown]
# Now one step of size ε in the direction of the *sign* of the input gradient: every pixel moves
# by exactly ε, up or down, whichever raises the loss (the "fast gradient sign" attack). Each pixel
# changes by less than the noise already in the image, yet the changes all push the same way, and
# over 25 pixels they add up.

# %%
image_index, epsilon = 0, 0.15   # change these (try epsilon = 0.05 or 0.3)

x, label = X_test[image_index], int(y_test[image_index])
loss, grad = input_gradient(net, x, label)
adversarial = x + epsilon * np.sign(grad)
before, after = predict(net, [x, adversarial])[:, 0]
names = ("horizontal", "vertical")
print(f"true class: {names[label]}")
print(f"network on the original: {names[int(before > 0)]} (raw output {before:+.2f})")
print(f"network on the changed image: {names[int(after > 0)]} (raw output {after:+.2f}); "
      f"no pixel moved by more than {epsilon}")

fig, axes = plt.subplots(1, 3, figsize=(9, 3))
for ax, picture, title in zip(axes, (x, adversarial - x, adversarial),
                              (f"original: {names[int(before > 0)]}", f"change (±{epsilon})", f"changed: {names[int(after > 0)]}")):
    ax.imshow(picture.reshape(size, size), cmap="gray", vmin=-0.5, vmax=1.5)
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
plt.show()

# %% [markdown]
# How large must ε be? Sweep it and watch the network's raw output cross zero (the decision):

# %%
epsilons = np.linspace(0, 0.4, 21)
outputs = predict(net, [x + e * np.sign(grad) for e in epsilons])[:, 0]
fig, ax = plt.subplots(figsize=(6, 3))
ax.plot(epsilons, outputs, "o-", ms=3)
ax.axhline(0, color="k", lw=0.8)
ax.set_xlabel("ε (largest change of any pixel)")
ax.set_ylabel("network's raw output")
ax.set_title(f"true class {names[label]}: output > 0 means 'vertical'")
plt.show()

# %% [markdown]
# ## A targeted attack: pick the class
#
# With two classes, "wrong" can only mean the other class. With more, an attack can choose. The
# lectures' slide turns a photograph of a labrador into an "Italian greyhound" with 99.9%
# confidence: not just any mistake, the one the attacker wanted. Four classes of 5×5 images now:
# a horizontal bar, a vertical bar, the diagonal and the anti-diagonal, and a network with four
# outputs trained with softmax cross-entropy.
#
# * **untargeted**: step *up* the loss of the true class c, x ← x + α·sign(∂loss_c/∂x);
# * **targeted**: step *down* the loss of the chosen class t, x ← x − α·sign(∂loss_t/∂x), which
#   raises t's probability directly.
#
# Both take many small steps and keep every pixel within ε of the original, so the change stays
# bounded however long they run.

# %%
names4 = ("horizontal", "vertical", "diagonal", "anti-diagonal")


def shapes(n, seed):
    """n noisy size×size images, cycling through the four classes of names4."""
    rng = np.random.default_rng(seed)
    images, labels = [], []
    diagonal = np.arange(size)
    for i in range(n):
        image, label, k = np.zeros((size, size)), i % 4, rng.integers(size)
        if label == 0:
            image[k, :] = 1.0
        elif label == 1:
            image[:, k] = 1.0
        elif label == 2:
            image[diagonal, diagonal] = 1.0
        else:
            image[diagonal, size - 1 - diagonal] = 1.0
        images.append((image + rng.normal(0, noise, image.shape)).ravel())
        labels.append(label)
    return np.array(images), np.array(labels)


def probabilities(net, x):
    """The softmax of the network's four raw outputs for one image."""
    scores = predict(net, [x])[0]
    e = np.exp(scores - scores.max())
    return e / e.sum()


def class_gradient(net, x, cls):
    """∂(softmax cross-entropy of class cls)/∂x, the weights fixed."""
    xs = [Value(float(v), f"x{i + 1}") for i, v in enumerate(x)]
    softmax_cross_entropy([net(xs)], [cls]).backward()
    return np.array([v.grad for v in xs])


X4, y4 = shapes(80, seed=0)
X4_test, y4_test = shapes(40, seed=1)
net4 = MLP(size * size, [12, 4], activation="tanh", seed=0)
history = fit(net4, X4, y4, loss="softmax_cross_entropy", optimizer=Adam(net4.parameters(), lr=0.05),
              epochs=40, progress=False)
print(f"training accuracy {history.acc[-1]:.0%}, "
      f"accuracy on new images {np.mean(predict(net4, X4_test).argmax(axis=1) == y4_test):.0%}")

# %%
image_index, target, step_size, max_steps = 0, 2, 0.02, 100   # change these (target: 0–3)
attacks = {   # name: (targeted?, ε = the largest change allowed to any pixel)
    "untargeted, ε = 0.15": (False, 0.15),
    "targeted, ε = 0.15": (True, 0.15),
    "targeted, ε = 0.3": (True, 0.3),
}

x0, true = X4_test[image_index], int(y4_test[image_index])
print(f"the images' own noise: σ = {noise} per pixel")
results = {}
for name, (targeted, epsilon) in attacks.items():
    x = x0.copy()
    for step in range(1, max_steps + 1):
        if targeted:
            x = x - step_size * np.sign(class_gradient(net4, x, target))
        else:
            x = x + step_size * np.sign(class_gradient(net4, x, true))
        x = np.clip(x, x0 - epsilon, x0 + epsilon)
        p = probabilities(net4, x)
        if (targeted and p[target] > 0.99) or (not targeted and p.argmax() != true):
            break
    results[name] = (x, p)
    print(f"{name:>20}: after {step} steps the network says {names4[p.argmax()]} with {p.max():.1%} "
          f"(the true class {names4[true]}: {p[true]:.1%}); largest pixel change {np.abs(x - x0).max():.2f}")

fig, axes = plt.subplots(2, 4, figsize=(13, 6))
p0 = probabilities(net4, x0)
for column, (picture, p, title) in enumerate(((x0, p0, "original"),) + tuple((x, p, name) for name, (x, p) in results.items())):
    ax_img, ax_bar = (axes[0, column], axes[1, column])
    ax_img.imshow(picture.reshape(size, size), cmap="gray", vmin=-0.5, vmax=1.5)
    ax_img.set_title(f"{title}:\n{names4[p.argmax()]}", fontsize=10)
    ax_img.set_xticks([])
    ax_img.set_yticks([])
    ax_bar.bar(range(4), p, color=["tab:green" if k == true else "tab:red" if k == target else "tab:grey" for k in range(4)])
    ax_bar.set_xticks(range(4), names4, rotation=20, fontsize=8)
    ax_bar.set_ylim(0, 1)
axes[1, 0].set_ylabel("probability")
fig.suptitle(f"true class {names4[true]} (green), chosen target {names4[target]} (red)")
plt.tight_layout()
plt.show()

# %% [markdown]
# The untargeted attack stops at the first wrong answer, whichever class that happens to be, and
# only just across the line: here vertical at 54%, after 7 steps of 0.02, every pixel within 0.14
# of the original, less than the images' own noise (σ = 0.2). With the same budget, ε = 0.15,
# the targeted attack makes its chosen class the network's answer (diagonal, 92%) but cannot make
# it near-certain: 100 steps end against the bound. Near-certainty costs more. With ε = 0.3 it
# reaches 99% diagonal after 11 steps, and some pixels have then moved by 0.22, a little more than
# the noise's σ: that change is no longer hidden under the noise, though on these pictures it
# still reads as the same horizontal bar. Try other targets and budgets: some classes need a
# larger ε than others (from this image, vertical stays below 99% even at ε = 0.3).
#
# The same effect, at scale, makes an image network call a photograph of a dog a different breed
# with near certainty after a change nobody can see. The gradient that trains a network is also
# the most efficient way to break it. Defences start from the same tool: train on such
# adversarial examples as well.
