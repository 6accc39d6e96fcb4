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
# # 12. Build your own engine
#
# **What this notebook teaches.** The best way to understand backpropagation is to write it. Here
# you write your own `Value` class, the way micrograd does, in four steps, and after each step
# `check_engine` compares it with gradflow's engine and says what is wrong, in your terms:
#
# 1. `+` and `*` with their `_backward` steps, and a first `backward()`;
# 2. the topological sort that puts the steps in the right order;
# 3. `relu` and `tanh` (and `**`, `-`, `/` on top of them);
# 4. a neuron, a layer and a small network trained on your engine, its gradients compared with
#    gradflow's.
#
# The stored outputs below show what `check_engine` reports for the slips almost everyone makes
# once. Change the code and run the cells again: your own slips get the same kind of explanation.
# (From a terminal: `gradflow check-engine my_value.py:Value` checks a class in a file.)

# %%
import math
import random
import textwrap

import matplotlib.pyplot as plt

import engine
from engine import check_engine

# %% [markdown]
# ## Step 1: `+` and `*`
#
# A `Value` holds a number (`data`), its gradient (`grad`, 0 until backward runs), the Values it
# was made from (`_prev`) and a small function `_backward` that sends the node's gradient to its
# inputs. For `out = a + b` the local derivatives are 1 and 1; for `out = a * b` they are b and a.
# Each step *adds* to the inputs' gradients (`+=`), because a value used twice gets a gradient
# from each use.
#
# This first attempt has one slip in `__mul__` (can you see it before running the check?), and a
# `backward()` that runs each node's step as a walk from the output first meets it.

# %%
class Value:
    def __init__(self, data, _children=()):
        self.data = data
        self.grad = 0
        self._backward = lambda: None
        self._prev = set(_children)

    def __repr__(self):
        return f"Value(data={self.data}, grad={self.grad})"

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other))

        def _backward():
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other))

        def _backward():
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out

    def __radd__(self, other):  # 2 + a: Python asks the Value on the right
        return self + other

    def __rmul__(self, other):
        return self * other

    def backward(self):
        order, seen = [], set()

        def walk(v):  # every node, in the order a walk from the output meets it
            if v not in seen:
                seen.add(v)
                order.append(v)
                for child in v._prev:
                    walk(child)
        walk(self)
        self.grad = 1
        for v in order:
            v._backward()


check_engine(Value)

# %% [markdown]
# The first failure is explained; the other lines say what else was checked. Operations your
# class does not have yet are *skipped*, not failed, and the checks of whole graphs wait until
# `*` works. The fix: a product sends each input the gradient times the *other* input.

# %%
def __mul__(self, other):
    other = other if isinstance(other, Value) else Value(other)
    out = Value(self.data * other.data, (self, other))

    def _backward():
        self.grad += other.data * out.grad
        other.grad += self.data * out.grad
    out._backward = _backward
    return out


Value.__mul__ = __mul__
print(check_engine(Value))

# %% [markdown]
# ## Step 2: the order of the steps
#
# `+` and `*` are right now, and still the gradients of a graph with a shared node come out wrong.
# In `out = p * s` with `p = (s * c) * (s + d)`, the node s is used three times. Its step may run
# only once its gradient is complete, that is after *every* node that uses s has run its step.
# The walk above runs s's step as soon as it meets s. The order that works is a **topological
# order**: list every node after its inputs, then run the steps in reverse. Listing a node *after*
# its children (the last line of `build`), not before, is the whole difference.

# %%
def backward(self):
    topo, seen = [], set()

    def build(v):
        if v not in seen:
            seen.add(v)
            for child in v._prev:
                build(child)
            topo.append(v)  # after everything v depends on
    build(self)
    self.grad = 1
    for v in reversed(topo):
        v._backward()


Value.backward = backward
print(check_engine(Value))

# %% [markdown]
# Every check passes. Two notes remain, and they are notes, not failures; micrograd has both:
#
# * `build` calls itself once per level of the graph, and Python stops a recursion at about
#   1,000 levels. A list used as a stack (push the inputs, pop the next node) works at any depth;
#   try it.
# * A second `backward()` on the same graph adds the computed nodes' old gradients again. A
#   training loop builds a new graph each step and zeroes the parameters' gradients, so it never
#   meets this.
#
# ## Step 3: relu, tanh, and the rest of the operators
#
# ReLU passes the gradient where its input was positive and blocks it elsewhere; tanh scales it
# by 1 − t², where t = tanh(x) is the node's *output*. This first relu has a slip. `**` a number,
# `-` and `/` are built from `*` and `**`, as in micrograd.

# %%
def relu(self):
    out = Value(self.data if self.data > 0 else 0.0, (self,))

    def _backward():
        self.grad += out.grad
    out._backward = _backward
    return out


def tanh(self):
    t = math.tanh(self.data)
    out = Value(t, (self,))

    def _backward():
        self.grad += (1 - t ** 2) * out.grad
    out._backward = _backward
    return out


def __pow__(self, k):
    out = Value(self.data ** k, (self,))

    def _backward():
        self.grad += k * self.data ** (k - 1) * out.grad
    out._backward = _backward
    return out


Value.relu, Value.tanh, Value.__pow__ = relu, tanh, __pow__
Value.__neg__ = lambda self: self * -1
Value.__sub__ = lambda self, other: self + (-other)
Value.__rsub__ = lambda self, other: other + (-self)
Value.__truediv__ = lambda self, other: self * other ** -1
Value.__rtruediv__ = lambda self, other: other * self ** -1
print(check_engine(Value))

# %% [markdown]
# The fix: the step multiplies by the local derivative, 1 where the input was positive and 0
# elsewhere.

# %%
def relu(self):
    out = Value(self.data if self.data > 0 else 0.0, (self,))

    def _backward():
        self.grad += (self.data > 0) * out.grad
    out._backward = _backward
    return out


Value.relu = relu
report = check_engine(Value)
print(report.summary())
print("every check passes:", report.ok)

# %% [markdown]
# ## Three more slips, and what they report
#
# Below, one method of your working `Value` at a time is swapped for a common mistake, checked,
# and put back: `=` instead of `+=`, tanh's derivative written with the input x instead of the
# output t, and a `backward()` that zeroes every gradient before it starts (so a second call does
# not add up). Only each report's first failure is printed.

# %%
def add_with_assignment(self, other):
    other = other if isinstance(other, Value) else Value(other)
    out = Value(self.data + other.data, (self, other))

    def _backward():
        self.grad = out.grad  # = where += belongs
        other.grad = out.grad
    out._backward = _backward
    return out


def tanh_of_the_input(self):
    out = Value(math.tanh(self.data), (self,))

    def _backward():
        self.grad += (1 - self.data ** 2) * out.grad  # the input x, where the output t belongs
    out._backward = _backward
    return out


def backward_from_zero(self):
    stack, seen = [self], set()
    while stack:  # every node, to zero it first
        v = stack.pop()
        if v not in seen:
            seen.add(v)
            v.grad = 0
            stack.extend(v._prev)
    backward(self)


for method, slip in (("__add__", add_with_assignment), ("tanh", tanh_of_the_input),
                     ("backward", backward_from_zero)):
    right = getattr(Value, method)
    setattr(Value, method, slip)
    first = check_engine(Value).first
    setattr(Value, method, right)
    print(f"{slip.__name__}, {first.name}:")
    print(textwrap.fill(first.message, 100, initial_indent="  ", subsequent_indent="  "), end="\n\n")

# %% [markdown]
# ## Step 4: a neuron, a layer, a network, on your engine
#
# A neuron computes tanh(w · x + b); a layer is a list of neurons; an MLP is a list of layers. The
# classes take the Value class to build with, so that the same network can run on your engine
# and on gradflow's.

# %%
class Neuron:
    def __init__(self, V, n_in, rng, act=True):
        self.w = [V(rng.uniform(-1, 1)) for _ in range(n_in)]
        self.b, self.act = V(0.0), act

    def __call__(self, x):
        z = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        return z.tanh() if self.act else z

    def parameters(self):
        return self.w + [self.b]


class MLP:
    def __init__(self, V, sizes, seed=0):
        rng = random.Random(seed)
        self.layers = [[Neuron(V, a, rng, act=k < len(sizes) - 2) for _ in range(b)]
                       for k, (a, b) in enumerate(zip(sizes, sizes[1:]))]

    def __call__(self, x):
        for layer in self.layers:
            x = [n(x) for n in layer]
        return x[0]

    def parameters(self):
        return [p for layer in self.layers for n in layer for p in n.parameters()]


def loss_of(model, X, y):
    return sum((model(x) - t) ** 2 for x, t in zip(X, y)) / len(X)


from nn import moons  # noqa: E402 - the data, from gradflow's datasets

X, labels = moons(30, noise=0.1, seed=0)
X, y = X.tolist(), [2.0 * t - 1 for t in labels]  # targets ±1
model = MLP(Value, [2, 8, 1])
losses = []
for step in range(50):
    loss = loss_of(model, X, y)
    for p in model.parameters():
        p.grad = 0
    loss.backward()
    for p in model.parameters():
        p.data -= 0.2 * p.grad
    losses.append(loss.data)
print(f"your engine: loss {losses[0]:.3f} -> {losses[-1]:.3f} in {len(losses)} steps")
accuracy = sum((model(x).data > 0) == (t > 0) for x, t in zip(X, y)) / len(y)
print(f"training accuracy {accuracy:.0%}")

fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(losses)
ax.set_xlabel("step")
ax.set_ylabel("mean squared error")
ax.set_title("training on your own Value class")
fig.tight_layout()
plt.show()

# %% [markdown]
# Last, the proof: the same network with the same weights on gradflow's engine gives the same
# gradients, to the last few bits.

# %%
reference = MLP(engine.Value, [2, 8, 1])
for mine, theirs in zip(model.parameters(), reference.parameters()):
    theirs.data = mine.data
for p in model.parameters():
    p.grad = 0
loss_of(model, X, y).backward()
loss_of(reference, X, y).backward()
gap = max(abs(mine.grad - theirs.grad) for mine, theirs in zip(model.parameters(), reference.parameters()))
print(f"{len(model.parameters())} parameters; largest gradient difference from gradflow's: {gap:.1e}")

# %% [markdown]
# ## Your turn
#
# Add `exp()` and `sigmoid()` to your `Value` (the local derivatives are e^x and σ(x)·(1 − σ(x));
# both can reuse the node's output) and run the check. Until you write them, the check lists
# them as skipped. Then try the iterative topological sort, and watch the deep-chain note go.

# %%
def exp(self):
    out = Value(math.exp(self.data), (self,))

    def _backward():
        self.grad += out.grad  # your turn: what is the local derivative of e^x?
    out._backward = _backward
    return out


Value.exp = exp
report = check_engine(Value)
print(textwrap.fill(report.first.message, 100) if report.first else "exp is right: " + report.summary())
