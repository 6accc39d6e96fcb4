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
# # 2. Backward step by step
#
# **What this notebook teaches.** `backward()` is not magic: it visits the nodes of the graph one
# at a time, from the output back to the inputs, and at each node does one multiplication per
# input. Here you will
#
# 1. follow the lectures' δ sequence for a chain ŷ = g4(g3(g2(g1(x)))), one node per step;
# 2. step through the backward pass of a sigmoid perceptron with its loss, with a slider;
# 3. see why the *order* of the steps matters, with the classic trap `b = a + a; c = b + b` and a
#    graph where a natural-looking order gives a wrong answer.

# %%
from IPython.display import display

from engine import OPS, Value, numerical_grad
from viz import draw, steps


def name(v):
    return v.label or v.op or f"{v.data:g}"


def step_through(root):
    """Print what each backward step does, then show the frames with a slider.

    Without ipywidgets the frames come as a plain HTML player instead of a widget.
    """
    frames = steps(root)
    for k in range(len(frames)):
        print(frames.caption(k))
    display(frames)


# %% [markdown]
# ## The δ sequence of a chain
#
# Write a chain of four functions as separate steps: x2 = g1(x1), x3 = g2(x2), x4 = g3(x3) and
# ŷ = x5 = g4(x4). Call δ_k = ∂ŷ/∂x_k, how much the output moves per unit move of x_k. Then
#
# * δ5 = 1 (the output moves exactly as much as itself),
# * δ4 = δ5 · g4'(x4), δ3 = δ4 · g3'(x3), δ2 = δ3 · g2'(x2), δ1 = δ2 · g1'(x1).
#
# Each step needs three things: the derivative *function* g', its value at the x stored during the
# forward pass, and the δ handed back by the step before. Pick the four functions and the input.

# %%
x1_value = 0.5
chain = ("tanh", "exp", "sigmoid", "log")   # any of: exp log sigmoid tanh relu softplus elu leaky_relu

xs = [Value(x1_value, "x1")]
for k, fn in enumerate(chain, start=2):
    xs.append(getattr(xs[-1], fn)())
    xs[-1].label = f"x{k}"
y_hat = xs[-1]

print("δ5 = 1")
for step in y_hat.steps():
    k = xs.index(step.node)  # the node x_{k+1} = g_k(x_k)
    print(f"δ{k} = δ{k + 1} · g{k}'(x{k}) = {step.grad:.5f} · {step.local[0]:.5f} = {step.contrib[0]:.5f}"
          f"     g{k} = {step.node.op}, g{k}' = {OPS[step.node.op].formula[0]}")
print(f"\n∂ŷ/∂x1 = {xs[0].grad:.5f}")

# %% [markdown]
# > **Erratum — deck 002_94c761bf53992e40.txt** (the first slide that writes out the δ sequence)
# >
# > **The slide says** δ₁ = ∂ŷ/∂x₁ = ∂ŷ/∂x₂ · **∂x₂/∂x₂** = δ₂·g₁'(x₁). **What is right:** the last
# > factor is **∂x₂/∂x₁** = g₁'(x₁), the derivative of the step x₂ = g₁(x₁) with respect to its input.
# > ∂x₂/∂x₂ is 1, and with it the line would say δ₁ = δ₂. The deck's next slide, which repeats the
# > sequence, has ∂x₂/∂x₁ right.
# >
# > **Check:** δ₂, δ₁ and g₁'(x₁) of the chain above: δ₁ is δ₂ times g₁'(x₁), not δ₂ times 1.

# %%
g1_slope = numerical_grad(lambda v: getattr(v, chain[0])(), x1_value)[0]   # ∂x2/∂x1, by nudging x1
print(f"δ2 = {xs[1].grad:.5f}, δ1 = {xs[0].grad:.5f}: δ1/δ2 = {xs[0].grad / xs[1].grad:.5f}, "
      f"and ∂x2/∂x1 = g1'(x1) = {g1_slope:.5f} (∂x2/∂x2 would be 1)")

# %% [markdown]
# The same sequence, drawn: drag the slider to move from the output back to x1.

# %%
step_through(y_hat)

# %% [markdown]
# Each line multiplies by one more local derivative; the last line is the product of all four,
# ∂ŷ/∂x1 = g4'(x4)·g3'(x3)·g2'(x2)·g1'(x1). Put `"sigmoid"` in all four slots and see the product
# shrink: σ' is never more than 0.25 (notebook 6 returns to this).

# %% [markdown]
# ## A sigmoid perceptron, with a slider
#
# The lectures draw the perceptron ŷ = σ(w1·x1 + w2·x2 + b) as a graph of products, sums and a
# sigmoid, and ask for the gradient of a loss with respect to w1, w2 and b. Here the loss is
# L = ½(ŷ − y)². Drag the slider: at
# each step one node (outlined) passes its gradient to its inputs, multiplied by its local
# derivative. Nodes the backward pass has not reached yet say "not computed"; a value used in
# several places shows the part of its gradient that has arrived so far.

# %%
x1_value, x2_value = 1.0, -2.0      # the sample
w1_value, w2_value, b_value = 0.5, 0.25, 0.1
target = 1.0

x1, x2 = Value(x1_value, "x1"), Value(x2_value, "x2")
w1, w2, b = (Value(v, n, kind="param") for v, n in ((w1_value, "w1"), (w2_value, "w2"), (b_value, "b")))
p1, p2 = w1 * x1, w2 * x2
p1.label, p2.label = "w1x1", "w2x2"
wx = p1 + p2
wx.label = "w·x"
z = wx + b
z.label = "z"
out = z.sigmoid()
out.label = "ŷ"
err = out - target
err.label = "ŷ−y"
sq = err ** 2
sq.label = "(ŷ−y)²"
loss = 0.5 * sq
loss.label = "L"
step_through(loss)

# %% [markdown]
# Check the last frame against the chain rule done by hand:
# ∂L/∂w1 = (ŷ − y) · ŷ(1 − ŷ) · x1 — the loss's derivative, the sigmoid's, and the product's switch.

# %%
loss.backward()   # stepping through left the graph as it was; now run the whole pass
by_hand = (out.data - target) * out.data * (1 - out.data) * x1.data
print(f"∂L/∂w1 by hand {by_hand:.6f}, engine {w1.grad:.6f}")

# %% [markdown]
# ## Why the order matters
#
# ### The trap: `b = a + a; c = b + b`
#
# c = 4a, so dc/da = 4. A backward pass that *sets* a gradient instead of *adding* to it gets this
# wrong: each node is used twice, and the second use overwrites the first.

# %%
a_value = 3.0

a = Value(a_value, "a")
b = a + a
b.label = "b"
c = b + b
c.label = "c"
c.backward()
print(f"engine: dc/da = {a.grad}")


def local(v):
    """The local derivatives of node v, one per input, from the op table."""
    return OPS[v.op].d(*[i.data for i in v.inputs], v.data, v.arg)


def backward_overwriting(root):
    """A buggy backward pass: `=` where the chain rule needs `+=`."""
    grads = {root: 1.0}
    for v in reversed(root.topo()):
        if not v.inputs:
            continue
        for i, d in zip(v.inputs, local(v)):
            grads[i] = grads[v] * d    # the bug: the second edge from b to a replaces the first
    return grads


print(f"overwriting: dc/da = {backward_overwriting(c)[a]}")
draw(c, legend=False)   # each value used twice: the split points add what arrives along both edges

# %% [markdown]
# ### A natural order that is wrong
#
# Adding is necessary but not sufficient: a node may pass its gradient on only after *every* node
# that uses it has passed theirs to it. Below, t = 3a is used twice: directly in y = t·u, and
# through u = t + 1. A depth-first walk from y that handles each node the first time it meets it
# reaches t through y's first input before u has added its share, so t's gradient is incomplete
# when it is passed on to a.
#
# gradflow first orders the nodes so that every node comes after the nodes it is made from
# (`topo()`), then processes them in reverse of that order. Then every node's gradient is complete
# before it is used.

# %%
a_value = 2.0

a = Value(a_value, "a")
t = a * 3
t.label = "t"
u = t + 1
u.label = "u"
y = t * u          # y = 3a·(3a + 1), so dy/da = 18a + 3
y.label = "y"
y.backward()
print(f"engine (reverse topological order): dy/da = {a.grad}, by hand 18a + 3 = {18 * a_value + 3}")
print("order used:", " → ".join(name(v) for v in reversed(y.topo())))


def backward_first_visit(root):
    """A buggy backward pass: depth first, each node processed when first reached."""
    grads, done, todo = {root: 1.0}, set(), [root]
    while todo:
        v = todo.pop()
        if v in done or not v.inputs:
            continue
        done.add(v)
        for i, d in zip(v.inputs, local(v)):
            grads[i] = grads.get(i, 0.0) + grads[v] * d
        todo.extend(reversed(v.inputs))   # visit the first input next
    return grads


print(f"depth first, first visit: dy/da = {backward_first_visit(y)[a]}")

# %% [markdown]
# Step through the correct pass with the slider: t is processed only after both y and u have sent
# it their gradients. (Stepping through leaves the graph's gradients as they were.)

# %%
step_through(y)


# %% [markdown]
# ### Your turn
#
# The trap above, with numbers: a = 3, b = a + a, c = b + b. Write dc/db and dc/da, then run the
# check. The stored attempt for dc/da counts a only once.

# %%
answers = {"dc/db": 2, "dc/da": 2}  # your numbers

# %%
from viz.exercise import load

print(load("sheets/your_turn/02_a_value_used_twice.toml").grade(answers, student="you").feedback("exam"))
