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
# # 1. Values and the chain rule
#
# **What this notebook teaches.** A neural network is a long formula; backpropagation is the
# chain rule applied to that formula one small operation at a time. Here you will
#
# 1. build small formulas out of `Value`s, gradflow's numbers that remember how they were made;
# 2. run `backward()` and read off every partial derivative at once;
# 3. check those derivatives by hand with the chain rule, and numerically by nudging an input;
# 4. meet the four patterns every backward pass is made of: **sum distributes**, **product
#    switches**, **max routes** and **split adds**, each on a graph you can draw and change.
#
# Every code cell starts with the numbers you may change. Change one, re-run the cell, and watch
# the values and gradients respond.

# %%
from engine import OPS, NOT_COMPUTED, Value, gradcheck, numerical_grad
from viz import draw


def table(root):
    """Print every node of root's graph: its name, how it was made, its value and gradient."""
    print(f"{'node':>8} {'op':>8} {'value':>10} {'gradient':>12}")
    for v in root.topo():
        name = v.label or f"#{v.op}"
        grad = "not computed" if v.grad is NOT_COMPUTED else f"{v.grad:.4f}"
        print(f"{name:>8} {v.op or v.kind:>8} {v.data:>10.4f} {grad:>12}")


# %% [markdown]
# ## A sigmoid perceptron as a graph
#
# One neuron with one input computes z = w·x + b and then y = σ(z). Each arithmetic step makes
# a new `Value` whose `inputs` point back at the values it was made from, so the formula becomes a
# graph. `draw` shows it: leaves on the left (parameters shaded apart from inputs), gates in the
# middle, the output on the right, each node with its value. Nothing has been differentiated yet,
# so every gradient is still *not computed*.

# %%
x_value, w_value, b_value = 2.0, -3.0, 1.0   # change these

x = Value(x_value, "x")
w = Value(w_value, "w", kind="param")
b = Value(b_value, "b", kind="param")
wx = w * x
wx.label = "wx"
z = wx + b
z.label = "z"
y = z.sigmoid()
y.label = "y"
table(y)
draw(y)

# %% [markdown]
# ## One call computes every derivative
#
# `y.backward()` walks the graph from y back to the leaves. At each node it multiplies the
# gradient that has arrived (how much y moves when this node moves) by the node's *local*
# derivative (how much this node moves when its input moves), and hands the product on. That is
# the chain rule, dy/dw = dy/dz · dz/dw, done node by node. The drawing now shows each node's
# gradient beside its value, and on each edge the local derivative and what flows along it.

# %%
y.backward()
table(y)
draw(y)

# %% [markdown]
# ## The same numbers by hand
#
# The sigmoid's derivative is σ'(z) = σ(z)·(1 − σ(z)), and z = w·x + b gives dz/dw = x,
# dz/dx = w, dz/db = 1. So
#
# * dy/dw = σ'(z) · x
# * dy/dx = σ'(z) · w
# * dy/db = σ'(z) · 1
#
# The cell below evaluates those formulas with plain floats and sets them beside the engine's.

# %%
s = y.data                       # σ(z), already computed in the forward pass
ds = s * (1 - s)                 # σ'(z), never more than 0.25
by_hand = {"w": ds * x.data, "x": ds * w.data, "b": ds * 1.0}
for leaf in (w, x, b):
    print(f"dy/d{leaf.label}: by hand {by_hand[leaf.label]: .6f}   engine {leaf.grad: .6f}")

# %% [markdown]
# ## And by nudging
#
# A derivative is a rate of change, so we can also *measure* it: move one input up and down by a
# tiny ε and see how far the output moves, (f(x + ε) − f(x − ε)) / 2ε. This is slow (two forward
# passes per input) but needs no calculus, which makes it the standard way to test a backward
# pass. `gradcheck` does it for every input at once.

# %%
epsilon = 1e-6   # try 1e-1 or 1e-12 to see both kinds of error: the slope's curvature, and rounding


def perceptron(w, x, b):
    return (w * x + b).sigmoid()


print("numerical:", [f"{g:.6f}" for g in numerical_grad(perceptron, w_value, x_value, b_value, eps=epsilon)])
print("engine:   ", [f"{v.grad:.6f}" for v in (w, x, b)])
print("gradcheck agrees:", bool(gradcheck(perceptron, w_value, x_value, b_value)))

# %% [markdown]
# ## The four gates
#
# Whatever the graph, four patterns come back again and again in what a node does with the
# gradient that arrives at it (the activations, like σ above, simply scale it by their local
# derivative). gradflow keeps one table of operations, `OPS`, and each row says in words what its
# gate does to the gradient:

# %%
for name in ("add", "mul", "max", "split"):
    print(f"{OPS[name].symbol:>5}  {OPS[name].gate}")

# %% [markdown]
# ### Sum distributes
#
# For q = a + b, dq/da = dq/db = 1: whatever gradient arrives at the sum is handed unchanged to
# every input. Make the upstream gradient anything you like (it plays the role of dL/dq coming
# from the rest of a bigger network).

# %%
a_value, b_value, upstream = 3.0, -1.0, 2.0   # change these

a, b = Value(a_value, "a"), Value(b_value, "b")
q = a + b
q.label = "q"
q.backward(upstream)
print(f"q = {q.data}, arriving gradient {upstream}: a gets {a.grad}, b gets {b.grad}")
draw(q, legend=False)

# %% [markdown]
# ### Product switches
#
# For q = a·b, dq/da = b and dq/db = a: each input receives the arriving gradient times the
# *other* input. A large input makes its partner's gradient large, and a zero input silences it.

# %%
a_value, b_value, upstream = 3.0, -1.0, 2.0   # change these (try a_value = 0)

a, b = Value(a_value, "a"), Value(b_value, "b")
q = a * b
q.label = "q"
q.backward(upstream)
print(f"q = {q.data}, arriving gradient {upstream}: a gets {a.grad} (= {upstream}·b), b gets {b.grad} (= {upstream}·a)")
draw(q, legend=False)

# %% [markdown]
# ### Max routes
#
# For q = max(a, b) only the larger input influences q, so it receives the whole gradient and the
# other receives nothing. (At a tie the value does not tell which input "won"; gradflow splits the
# gradient half and half.) ReLU computes the same *value* as max(z, 0), but not always the same
# gradient: the next cell shows where they part.

# %%
a_value, b_value, upstream = 3.0, -1.0, 2.0   # change these (try a tie: a_value = b_value)

a, b = Value(a_value, "a"), Value(b_value, "b")
q = a.max(b)
q.label = "q"
q.backward(upstream)
print(f"q = max(a, b) = {q.data}: a gets {a.grad}, b gets {b.grad}")
draw(q, legend=False)

# %% [markdown]
# ### ReLU and max(z, 0) agree everywhere except at z = 0
#
# For z ≠ 0 the two are the same function with the same slope: 1 for z > 0, 0 for z < 0. At
# z = 0 the slope does not exist (it is 0 from the left and 1 from the right), so each op has to
# pick a value, and they pick differently. `relu` is its own row of the op table with the rule
# "1 if z > 0 else 0", so relu′(0) = 0. `max(z, 0)` at z = 0 is a *tie*, and a tie sends half the
# gradient to each input, so z receives ½.

# %%
z_value = 0.0   # change this: at 0.5 or −0.5 the two columns agree

z_relu, z_max = Value(z_value, "z"), Value(z_value, "z")
z_relu.relu().backward()
z_max.max(0.0).backward()
print(f"z = {z_value}: relu(z) gives dz = {z_relu.grad},  max(z, 0) gives dz = {z_max.grad}")

# %% [markdown]
# > **Erratum — deck 001_ae477276b4929235.txt** (the slide of popular activations and their
# > derivatives)
# >
# > **The slide says** ReLU′(z) = 1 for z ≥ 0, so ReLU′(0) = 1. **What is right:** ReLU has no
# > derivative at 0 (left slope 0, right slope 1); any number in [0, 1] is a *convention*. The deck
# > picks 1; gradflow, like deck 002_94c761bf53992e40.txt (whose u(x) is 1 only for x > 0) and
# > PyTorch, picks 0. Both conventions train the same in practice (an input of exactly 0 is rare),
# > but a hand answer written with the deck's convention differs from gradflow at z = 0.
# >
# > **Check:** the two one-sided difference quotients at 0 are 0 and 1; gradflow's rule returns 0.

# %%
eps, zero = 1e-6, Value(0.0, "z")
zero.relu().backward()
print(f"left slope {(0.0 - Value(-eps).relu().data) / eps}, right slope {(Value(eps).relu().data - 0.0) / eps}, gradflow relu'(0) = {zero.grad}")

# %% [markdown]
# ### Split adds
#
# When one value feeds several places, the gradients coming back along the branches are added.
# This is the multi-path chain rule of the lectures: if s feeds both u = g(s) and v = h(s), and
# q = k(u, v), then dq/ds = ∂q/∂u · du/ds + ∂q/∂v · dv/ds.
#
# gradflow adds automatically whenever a value is used twice, but you can also make the fork
# visible with `split()`, which returns branch nodes that carry the same value.

# %%
s_value, upstream = 2.0, 1.0   # change these

s = Value(s_value, "s")
left, right = s.split(2)
left.label, right.label = "s₁", "s₂"
u = left * 3          # du/ds = 3
v = right ** 2        # dv/ds = 2s
q = u + v
q.label = "q"
q.backward(upstream)
print(f"branch s₁ receives {left.grad}, branch s₂ receives {right.grad}")
print(f"s receives their sum: {s.grad}  (by hand: 3 + 2·s = {3 + 2 * s_value})")
draw(q, legend=False)

# %% [markdown]
# ## Putting the gates together
#
# Here is a formula that uses every gate at once: f = max(a·b, c) + a. The value a is used twice
# (a split), once inside a product (a switch), whose result competes in a max (a route), and
# everything meets in a sum (a distribution). Predict each gradient on paper before running the
# cell; here c wins the max. Then lower c below a·b (c_value = −10, say) and predict again.

# %%
a_value, b_value, c_value = 2.0, -3.0, 1.0   # change these

a, b, c = Value(a_value, "a"), Value(b_value, "b"), Value(c_value, "c")
ab = a * b
ab.label = "ab"
m = ab.max(c)
m.label = "m"
f = m + a
f.label = "f"
f.backward()
table(f)
draw(f, legend=False)

# %% [markdown]
# **Reading the result.** The max passes the gradient 1 only to its winner. If c wins, a·b gets
# nothing, so b's gradient is 0 and a's gradient is just the 1 from the direct `+ a` path. If a·b
# wins, a collects b (from the product) plus 1 (from the sum) and b collects a.
#
# **Try it.** Build g = a·a + a and check that dg/da = 2a + 1: the product switches (each copy of
# a receives the other, a) and the split adds the three paths.

# %%
a = Value(3.0, "a")   # change this
g = a * a + a
g.backward()
print(f"dg/da = {a.grad}, 2a + 1 = {2 * a.data + 1}")
draw(g, legend=False)  # a value used in several places is drawn with a split point that adds the branches
