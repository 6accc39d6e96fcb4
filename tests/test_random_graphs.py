"""Random expression graphs over the whole op table, against autograd.

hypothesis writes a small program: some leaves, then steps that apply an op of
the table to earlier nodes (any earlier node, so subexpressions are shared and
values fan out). Steps whose inputs fall outside the op's domain, or too near
its edge, are dropped. The program runs twice: on Values with backward(), and
on autograd.numpy with autograd.grad; every leaf's gradient must agree.
"""

from __future__ import annotations

import math

import autograd
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import OPS, Value
from test_ops import CALL, REFERENCE

# The constant parameter of each op that has one; split's is its branch count.
ARGS = {
    "pow": st.sampled_from([2.0, 3.0, 1.0, 0.0, -1.0, -2.0, 0.5, 1.5, -0.5]),
    "leaky_relu": st.sampled_from([0.01, 0.2]),
    "elu": st.sampled_from([1.0, 0.3]),
    "split": st.integers(1, 3),
}
KINKED = {"relu", "leaky_relu", "elu"}
LIMIT = 1e4  # largest |value| a step may produce, so gradients stay well scaled
MARGIN = 1e-2  # how far from the edge of a domain an input must stay


def test_every_op_with_a_parameter_has_a_strategy():
    assert ARGS.keys() == {name for name, row in OPS.items() if row.params}


def inside(name, xs, arg):
    """True when op `name` at xs is well inside its domain, with a modest output."""
    try:
        out = OPS[name].f(*xs, arg)
    except (ArithmeticError, ValueError):
        return False
    if not (math.isfinite(out) and abs(out) <= LIMIT):
        return False
    x = xs[0]
    if name in ("log", "powv"):
        return x > MARGIN
    if name == "div":
        return abs(xs[1]) > MARGIN
    if name == "pow" and (arg < 0 or arg != int(arg)):
        return abs(x) > MARGIN  # a negative or fractional power is steep near 0
    # Exactly on a kink both engines take the same side; a hair away, rounding
    # differences between them could pick different sides.
    if name in KINKED:
        return not 0 < abs(x) < 1e-6
    if name == "max":
        return not 0 < abs(xs[0] - xs[1]) < 1e-6
    return True


@st.composite
def programs(draw):
    leaves = draw(st.lists(st.floats(-3, 3), min_size=1, max_size=4))
    data = list(leaves)  # the value of every node so far, leaves first
    steps = []
    for _ in range(draw(st.integers(4, 40))):
        name = draw(st.sampled_from(list(OPS)))
        row = OPS[name]
        ins = tuple(draw(st.integers(0, len(data) - 1)) for _ in range(row.arity))
        arg = draw(ARGS[name]) if name in ARGS else None
        if name == "split":
            data += [data[ins[0]]] * arg
        elif inside(name, [data[i] for i in ins], arg):
            data.append(row.f(*[data[i] for i in ins], arg))
        else:
            continue
        steps.append((name, ins, arg))
    return leaves, steps


def run(program, leaves, apply, branch):
    """Run a program on the given leaves; returns the sum of the unused nodes.

    ``apply(name, inputs, arg)`` makes one node; ``branch(x, n)`` makes n
    split branches of x.
    """
    _, steps = program
    nodes = list(leaves)
    used = set()
    for name, ins, arg in steps:
        used.update(ins)
        inputs = [nodes[i] for i in ins]
        if name == "split":
            nodes += branch(inputs[0], arg)
        else:
            nodes.append(apply(name, inputs, arg))
    sinks = [v for i, v in enumerate(nodes) if i not in used]
    total = sinks[0]
    for v in sinks[1:]:
        total = total + v
    return total


def engine_run(program):
    leaves = [Value(x) for x in program[0]]
    out = run(program, leaves, lambda name, xs, arg: CALL[name](*xs, arg), lambda x, n: list(x.split(n)))
    return out, leaves


def reference_run(program):
    def f(xs):
        leaves = [xs[i] for i in range(len(program[0]))]
        return run(program, leaves, lambda name, ins, arg: REFERENCE[name](*ins, arg), lambda x, n: [x] * n)

    point = np.array(program[0], dtype=np.float64)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        return float(f(point)), autograd.grad(f)(point)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs())
def test_random_graph_gradients_match_autograd(program):
    out, leaves = engine_run(program)
    out.backward()
    value, grads = reference_run(program)
    assert math.isclose(out.data, value, rel_tol=1e-9, abs_tol=1e-9)
    # Gradients meet along different paths in a different order in each
    # engine; the absolute slack is scaled by the largest gradient.
    slack = 1e-9 * (1.0 + max(abs(g) for g in grads))
    for i, (leaf, want) in enumerate(zip(leaves, grads)):
        assert math.isclose(leaf.grad, want, rel_tol=1e-7, abs_tol=slack), f"leaf {i}: {leaf.grad} vs {want}"


@settings(max_examples=50, deadline=None)
@given(programs())
def test_random_graph_steps_equal_backward_and_passes_repeat(program):
    first, leaves = engine_run(program)
    first.backward()
    once = [v.grad for v in leaves]
    second, again = engine_run(program)
    for _ in second.steps():
        pass
    assert [v.grad for v in again] == once
    # A second pass doubles the leaves, up to the rounding of adding edge by
    # edge onto a non-zero start: a gradient that cancels to ~1e-18 may land on
    # another ~1e-18, so the absolute slack scales with the largest gradient.
    second.backward()
    slack = 1e-14 * max([1.0] + [abs(g) for g in once])
    assert [v.grad for v in again] == [pytest.approx(2 * g, rel=1e-12, abs=slack) for g in once]
    second.zero_grad()
    second.backward()
    assert [v.grad for v in again] == once


@settings(max_examples=100, deadline=None)
@given(programs(), st.sampled_from([1e300, 1e308, -1e308]))
def test_random_graph_backward_is_all_or_nothing(program, seed):
    # A huge seed overflows some gradient in most graphs: then nothing may
    # change; when it goes through, the gradients are the seed times one pass's.
    out, leaves = engine_run(program)
    out.backward()
    once = [v.grad for v in leaves]
    before = [(v, v.grad, v.passes) for v in out.topo()]
    try:
        out.backward(seed)
    except OverflowError as e:
        assert "backward" in str(e) and "no gradient was changed" in str(e)
        assert all(v.grad is g and v.passes == n for v, g, n in before)
        return
    assert all(math.isfinite(v.grad) for v in leaves)
    assert all(v.passes == 2 for v in leaves)
    slack = 1e-300 + 1e-12 * abs(seed) * max([1.0] + [abs(g) for g in once])
    for leaf, g in zip(leaves, once):
        assert math.isclose(leaf.grad, g + seed * g, rel_tol=1e-9, abs_tol=slack)
