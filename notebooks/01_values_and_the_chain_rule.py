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
# # 1. Values and the chain rule
#
# **What this notebook teaches.** A neural network is a long formula; backpropagation is the
# chain rule applied to that formula one small operation at a time. Here you will
#
# 1. build small formulas out of `Value`s, gradflow's numbers that remember how they were made;
# 2. run `backward()` and read off every partial derivative at once;
# 3. check those derivatives by hand with the chain rule, and numerically by nudging an input;
# 4. meet the four patterns every backward pass is made of: **sum distributes**, **product
#    switches**, **max routes** and **split adds**, each on a graph you can draw and change;
# 5. derive σ' with the quotient rule, as deck 002 does, and check it two ways;
# 6. check gradients the way practitioners do: by relative error, with a well-chosen nudge, and
#    minding the kinks where a numerical check fails although the gradient is right.
#
# Every code cell starts with the numbers you may change. Change one, re-run the cell, and watch
# the values and gradients respond.

# %%
import math

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
# ### Where σ'(z) = σ(z)·(1 − σ(z)) comes from
#
# Deck 002 gets the sigmoid's derivative from the quotient rule: for f = g/h,
# f' = (g'·h − g·h') / h². The sigmoid is such a quotient, with g = 1 on top (g' = 0) and
# h = 1 + e^(−z) below (h' = −e^(−z)), so
#
# σ'(z) = (0 · h − 1 · (−e^(−z))) / h² = e^(−z) / (1 + e^(−z))².
#
# That is right, but it needs the exponential again. Cut the fraction into two factors,
# e^(−z)/(1 + e^(−z)) times 1/(1 + e^(−z)). The second factor is σ(z) itself; the first is
# (1 + e^(−z) − 1)/(1 + e^(−z)) = 1 − σ(z). Hence σ' = σ·(1 − σ), made only from the σ that the
# forward pass has already stored.
#
# Two checks in gradflow. The `sigmoid` op's row in the table uses s·(1 − s). Written out as the
# division `1 / (1 + (-z).exp())`, the same function becomes a graph of four nodes, and the engine
# differentiates it with the table's *quotient* row (÷: the denominator receives −gradient·x/y²),
# without ever being told about σ'. All four columns agree:

# %%
for z_value in (-3.0, 0.0, 0.5, 2.0):   # change these
    z_op, z_div = Value(z_value), Value(z_value)
    z_op.sigmoid().backward()
    (1 / (1 + (-z_div).exp())).backward()   # σ as a quotient: the engine applies the quotient rule
    e, s = math.exp(-z_value), 1 / (1 + math.exp(-z_value))
    print(f"z = {z_value:+.1f}:  e^−z/(1 + e^−z)² = {e / (1 + e) ** 2:.6f}   σ(1 − σ) = {s * (1 - s):.6f}   "
          f"sigmoid op {z_op.grad:.6f}   quotient graph {z_div.grad:.6f}")

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
# ### Your turn
#
# Take the perceptron above with x = 2, w = −3, b = 1: z = w·x + b and y = σ(z). Write dy/dz and
# dy/dw by hand (σ′ = σ(1 − σ); four significant digits are plenty) in the cell below, then run
# the cell after it. It says which answers are right and, for a wrong one, the kind of slip,
# never the number. The stored answer for dy/dw has a slip in it: fix it and run both cells.

# %%
answers = {"dy/dz": 0.0066, "dy/dw": 0.0066}  # your numbers

# %%
from viz.exercise import load

print(load("sheets/your_turn/01_sigmoid_perceptron.toml").grade(answers, student="you").feedback("exam"))

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

# %% [markdown]
# ## Gradient checking in practice
#
# Setting backward's gradient beside the nudged one, as `gradcheck` did above, is how backward
# passes get tested, hand derivations included. Stanford's CS231n course notes (deck 002 points
# to them) describe how to make that comparison trustworthy. Three of their points, tried on
# gradflow.
#
# **1. Judge by relative error.** With a the analytic gradient and n the numerical one, look at
# |a − n| / max(|a|, |n|) rather than |a − n|. A gap of 10⁻⁶ is nothing beside a gradient of 10
# and everything beside a gradient of 10⁻⁶, and gradients that small are common (a saturated unit,
# an early layer: notebook 6). The notes' rough scale: above 10⁻² the gradient is probably wrong;
# 10⁻⁷ or less means it is right; in between, look closer (10⁻⁴ is acceptable where the function
# has kinks, suspicious where it has none). gradflow's `gradcheck` divides by max(1, |n|): a
# relative error for gradients above 1, an absolute one below. For tiny gradients, read its
# `analytic` and `numeric` fields and compute the relative error yourself.
#
# The test case: a hand rule with deck 000's slip (notebook 4 has the erratum), σ' written as σ·σ
# instead of σ·(1 − σ), checked on a saturated unit. The absolute gap would pass a test at 10⁻⁶;
# the relative error says the rule is entirely wrong.

# %%
z_value = -14.0   # change this: at z = 0 the slip happens to give the right number (σ = 1 − σ = ½)


def relative_error(a, n):
    return abs(a - n) / max(abs(a), abs(n), 1e-300)


sig = 1 / (1 + math.exp(-z_value))
numeric = numerical_grad(lambda z: z.sigmoid(), z_value)[0]
for name, rule in (("σ·(1 − σ)", sig * (1 - sig)), ("σ·σ (the slip)", sig * sig)):
    print(f"{name:>15}: analytic {rule:.3e}, numerical {numeric:.3e}, absolute gap {abs(rule - numeric):.1e}, "
          f"relative error {relative_error(rule, numeric):.1e}")

# %% [markdown]
# **2. Choose the nudge ε with care.** The centred difference (f(x + ε) − f(x − ε)) / 2ε misses the
# slope by about ε²·f‴(x)/6, so a large ε is inaccurate. But every value of f also carries a
# rounding error of about 10⁻¹⁶·|f|, and dividing by 2ε magnifies it, so a tiny ε is inaccurate
# too. Between the two lies a valley, around ε = 10⁻⁵ to 10⁻⁶ for a well-scaled function in double
# precision. (Python's floats, and so gradflow's, are doubles. In single precision, about seven
# digits, the same check bottoms out near 10⁻⁴ at ε ≈ 10⁻² to 10⁻³, and a small mistake can hide
# below that: check in doubles.) The relative error of the perceptron's ∂y/∂w from the top of this
# notebook, for a range of ε:

# %%
w0, x0, b0 = -3.0, 2.0, 1.0   # change these (the perceptron y = σ(w·x + b) defined above)

exact = gradcheck(perceptron, w0, x0, b0).analytic[0]
for k in range(1, 14, 2):
    n = numerical_grad(perceptron, w0, x0, b0, eps=10.0 ** -k)[0]
    print(f"ε = 1e-{k:<2}  numerical {n:+.12f}   relative error {relative_error(exact, n):.1e}")

# %% [markdown]
# **3. Mind the kinks.** ReLU, leaky ReLU and max have corners where the slope jumps. If a corner
# lies within the nudge, the two evaluations f(x + ε) and f(x − ε) land on opposite sides of it
# and the difference quotient mixes two slopes: the check fails although backward is right. The
# notes' remedy: note which side of its corner every kink is on (for max, which input wins) in
# both nudged evaluations; if any changed sides, the numerical gradient cannot be trusted at this
# point. (They also advise checking on a few samples only: each extra sample adds more ReLUs that
# could sit near a corner.)

# %%
z_value, eps = 3e-7, 1e-6   # change these: z_value = 3e-6 keeps the corner outside the nudge


def sides(root):
    """Which side of its corner each kink of root's graph is on (for max: does the first input win?)."""
    kinks = [v for v in root.topo() if v.op in ("relu", "leaky_relu", "max")]
    return [v.inputs[0].data > (v.inputs[1].data if v.op == "max" else 0) for v in kinks]


def kinked(z):
    return (2 * z).relu() + z * z


r = gradcheck(kinked, z_value, eps=eps)
crossed = sides(kinked(Value(z_value + eps))) != sides(kinked(Value(z_value - eps)))
print(f"analytic {r.analytic[0]:.4f}, numerical {r.numeric[0]:.4f}, relative error "
      f"{relative_error(r.analytic[0], r.numeric[0]):.1e}, gradcheck ok: {r.ok}")
print(f"a kink changed sides between f(z + ε) and f(z − ε): {crossed}")

# %% [markdown]
# The numerical slope is neither side's: the true slope is 2 + 2z right of the corner and 2z left of
# it. A few more habits from the same notes: check a handful of parameters, not all of them (each
# costs two forward passes); switch dropout off while checking (a new random mask between the two
# evaluations changes f itself); check the data loss alone before adding a penalty (the penalty's
# gradient can be large enough to hide a wrong data gradient); and check at an ordinary point, not
# a special one such as all weights zero, where many terms vanish and mistakes hide with them.
