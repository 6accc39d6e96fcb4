"""The engine's classic traps: fan-out, diamonds, repeated passes, kinks,
extreme inputs, very deep chains, and the step sequence behind backward()."""

from __future__ import annotations

import math

import autograd
import pytest

from engine import NOT_COMPUTED, Step, Value


def approx(x, rel=1e-12):
    return pytest.approx(x, rel=rel, abs=1e-300)


# --- fan-out: a value used in several places is a split point ------------------------


def test_adding_a_value_to_itself_twice_gives_four():
    a = Value(3.0, "a")
    b = a + a
    c = b + b
    c.backward()
    assert (c.data, a.grad, b.grad) == (12.0, 4.0, 2.0)


def test_diamond_sums_both_paths():
    # a feeds b and c, which meet again in d: d/da is the sum over both paths.
    x = 0.7
    a = Value(x)
    b = a * 3
    c = a.tanh()
    d = b * c + b
    d.backward()
    t = math.tanh(x)
    assert a.grad == approx(3 * t + 3 * x * (1 - t * t) + 3)
    assert b.grad == approx(t + 1)
    assert c.grad == approx(3 * x)


def test_value_reused_in_many_places():
    x = 1.3
    a = Value(x)
    out = sum((a * k for k in range(1, 51)), Value(0.0)) + a * a * a + a.exp() + a.log() + a.sigmoid()
    out.backward()
    s = 1 / (1 + math.exp(-x))
    expected = sum(range(1, 51)) + 3 * x * x + math.exp(x) + 1 / x + s * (1 - s)
    assert a.grad == approx(expected)


def test_reused_nodes_match_autograd():
    # Operators only, so the same function runs on Values and under autograd.
    def f(x, y):
        u = x * y
        v = u + x
        w = v * v - u / y
        return w * u + (v - 1.5) ** 2

    values = (0.8, -1.7)
    leaves = [Value(v) for v in values]
    out = f(*leaves)
    out.backward()
    for i, leaf in enumerate(leaves):
        assert leaf.grad == approx(autograd.grad(f, i)(*values))


def test_split_branches_add_and_are_labelled():
    x = Value(0.5, "x")
    p, q, r = x.split(3)
    assert [b.arg for b in (p, q, r)] == [0, 1, 2]
    assert all(b.op == "split" and b.inputs == (x,) and b.data == x.data for b in (p, q, r))
    out = p * 2 + q * q + r.exp()
    out.backward()
    assert x.grad == approx(2 + 2 * 0.5 + math.exp(0.5))
    assert (p.grad, q.grad, r.grad) == (2.0, 1.0, approx(math.exp(0.5)))


def test_split_into_one_branch():
    x = Value(2.0)
    (only,) = x.split(1)
    (only * 5).backward()
    assert x.grad == 5.0


def test_inputs_keep_duplicates_in_order():
    a, b = Value(2.0, "a"), Value(5.0, "b")
    assert (a * a).inputs == (a, a)
    assert (b - a).inputs == (b, a)
    assert (a.max(b)).inputs == (a, b)
    (a * a).backward()
    assert a.grad == 4.0


# --- repeated passes ---------------------------------------------------------------------


def test_backward_twice_accumulates_on_leaves_only():
    a, b = Value(2.0, "a"), Value(-3.0, "b")
    c = a * b
    d = c + a
    d.backward()
    once = (a.grad, b.grad)
    d.backward()
    assert (a.grad, b.grad) == (2 * once[0], 2 * once[1])
    # Interior nodes show the gradient of the latest pass, not a running sum.
    assert (c.grad, d.grad) == (1.0, 1.0)


def test_a_second_root_over_the_same_nodes():
    a, b = Value(2.0), Value(4.0)
    c = a * b
    c.backward()
    d = c * 3
    d.backward()
    assert c.grad == 3.0  # latest pass only
    assert (a.grad, b.grad) == (4.0 + 12.0, 2.0 + 6.0)


def test_zero_grad_clears_the_whole_graph_and_nothing_else():
    a, b, other = Value(2.0), Value(-3.0), Value(7.0)
    c = (a * b).tanh() + a
    unrelated = other * 2
    unrelated.backward()
    c.backward()
    first = (a.grad, b.grad)
    c.zero_grad()
    assert all(v.grad == 0.0 for v in c.topo())
    assert other.grad == 2.0
    c.backward()
    assert (a.grad, b.grad) == first


def test_backward_scales_by_the_seed_gradient():
    a = Value(3.0)
    y = a * a
    y.backward(2.5)
    assert a.grad == 15.0


def test_backward_from_a_leaf():
    a = Value(3.0)
    a.backward()
    assert a.grad == 1.0


def test_backward_from_a_leaf_adds_to_its_gradient():
    # Leaf gradients accumulate across calls (backward's docstring), a leaf root's own seed
    # included: d w / d w = 1 adds to the 4 that w * w left.
    w = Value(2.0, "w")
    (w * w).backward()
    w.backward()
    assert (w.grad, w.passes) == (5.0, 2)
    w.backward(0.5)
    list(w.steps())
    assert (w.grad, w.passes) == (6.5, 4)


# --- kinks and conventions ---------------------------------------------------------------


def test_max_tie_splits_half_and_half():
    a, b = Value(1.5), Value(1.5)
    a.max(b).backward()
    assert (a.grad, b.grad) == (0.5, 0.5)


def test_max_of_a_value_with_itself_passes_everything():
    a = Value(-2.0)
    a.max(a).backward()
    assert a.grad == 1.0


@pytest.mark.parametrize("order", ["ab", "ba"])
def test_max_routes_to_the_larger_input(order):
    a, b = Value(3.0), Value(-1.0)
    x, y = (a, b) if order == "ab" else (b, a)
    m = x.max(y)
    m.backward()
    assert m.data == 3.0 and (a.grad, b.grad) == (1.0, 0.0)


def test_max_against_a_number():
    a = Value(2.0)
    a.max(2).backward()
    assert a.grad == 0.5


def test_relu_at_zero_has_zero_gradient():
    x = Value(0.0)
    y = x.relu()
    y.backward()
    assert (y.data, x.grad) == (0.0, 0.0)


def test_leaky_relu_and_elu_at_zero_take_the_left_slope():
    x = Value(0.0)
    x.leaky_relu(0.1).backward()
    assert x.grad == 0.1
    z = Value(0.0)
    z.elu(0.5).backward()
    assert z.grad == 0.5


# --- extreme inputs -----------------------------------------------------------------------


@pytest.mark.parametrize("x, want", [(-1000.0, 0.0), (1000.0, 1.0), (-1e308, 0.0), (1e308, 1.0)])
def test_sigmoid_saturates_without_overflow(x, want):
    v = Value(x)
    s = v.sigmoid()
    s.backward()
    assert s.data == want
    assert math.isfinite(v.grad) and v.grad == 0.0


def test_sigmoid_keeps_tiny_values_on_the_negative_side():
    # e^-700 is a normal float: the negative branch must not round it to 0.
    s = Value(-700.0).sigmoid()
    assert s.data == approx(math.exp(-700.0))


@pytest.mark.parametrize("x", [-1000.0, -50.0, 50.0, 1000.0])
def test_tanh_saturates(x):
    v = Value(x)
    t = v.tanh()
    t.backward()
    assert t.data == math.copysign(1.0, x)
    assert v.grad == 0.0


@pytest.mark.parametrize("x", [-1000.0, 1000.0, 1e300])
def test_softplus_large_inputs(x):
    v = Value(x)
    s = v.softplus()
    s.backward()
    assert s.data == max(x, 0.0)
    assert v.grad == (1.0 if x > 0 else 0.0)


def test_exp_of_a_large_negative_underflows_to_zero():
    v = Value(-1000.0)
    e = v.exp()
    e.backward()
    assert (e.data, v.grad) == (0.0, 0.0)


# --- the micrograd README example -----------------------------------------------------------


def test_micrograd_readme_example():
    a = Value(-4.0)
    b = Value(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    assert round(g.data, 4) == 24.7041
    assert round(a.grad, 4) == 138.8338
    assert round(b.grad, 4) == 645.5773


# --- depth ------------------------------------------------------------------------------------


def test_a_chain_one_million_deep():
    a, c = Value(1.0, "a"), Value(1.0, "c")
    x = a
    for _ in range(1_000_000):
        x = x + c
    x.backward()
    assert x.data == 1_000_001.0
    assert (a.grad, c.grad) == (1.0, 1_000_000.0)


def test_topo_puts_inputs_first_and_lists_each_node_once():
    a, b = Value(1.0), Value(2.0)
    c = a * b
    d = c + a
    e = d * c + b.exp()
    order = e.topo()
    assert len(order) == len(set(order)) == 7
    position = {v: i for i, v in enumerate(order)}
    assert all(position[x] < position[v] for v in order for x in v.inputs)
    assert order[-1] is e


# --- the step sequence --------------------------------------------------------------------------


def _graph():
    a, b = Value(0.6, "a"), Value(-1.4, "b")
    p, q = a.split()
    h = (p * b).tanh() + q.max(b) ** 2 - (a / 2).exp() + (b * b).sigmoid()
    return h, (a, b)


def test_steps_give_the_same_gradients_as_backward():
    h1, leaves1 = _graph()
    h1.backward()
    h2, leaves2 = _graph()
    steps = list(h2.steps())
    assert all(isinstance(s, Step) for s in steps)
    for v1, v2 in zip(h1.topo(), h2.topo(), strict=True):
        assert v1.grad == v2.grad
    assert [x.grad for x in leaves1] == [x.grad for x in leaves2]


def test_steps_are_consistent_and_sum_to_each_leaf():
    h, leaves = _graph()
    steps = list(h.steps())
    interior = [v for v in h.topo() if v.op]
    assert {s.node for s in steps} == set(interior) and len(steps) == len(interior)
    done = set()
    for s in steps:
        # A node is stepped only after every node that uses it.
        assert not any(x in done for x in s.node.inputs)
        done.add(s.node)
        assert s.grad == s.node.grad
        assert len(s.local) == len(s.contrib) == len(s.node.inputs)
        assert s.contrib == tuple(s.grad * d for d in s.local)
    for leaf in leaves:
        arriving = [c for s in steps for x, c in zip(s.node.inputs, s.contrib) if x is leaf]
        assert arriving and math.fsum(arriving) == approx(leaf.grad)


def test_steps_apply_nothing_until_iterated():
    h, (a, _) = _graph()
    pending = h.steps()
    assert a.grad is NOT_COMPUTED
    first = next(pending)
    assert first.node is h and first.grad == 1.0
    assert a.grad is NOT_COMPUTED


# --- what a node is ------------------------------------------------------------------------------


def test_gradients_read_not_computed_before_backward():
    a, b = Value(1.0), Value(2.0)
    c = a * b
    side = a + 5
    assert all(v.grad is NOT_COMPUTED for v in (a, b, c, side))
    assert NOT_COMPUTED == 0.0
    c.backward()
    assert all(type(v.grad) is float and v.grad is not NOT_COMPUTED for v in (a, b, c))
    assert side.grad is NOT_COMPUTED  # not part of c's graph


def test_leaf_and_node_attributes():
    w = Value(0.5, "w", kind="param")
    x = Value(2, "x")
    y = w * x
    y.label = "y"
    assert (w.kind, x.kind, y.kind) == ("param", "input", "op")
    assert (w.op, y.op, y.label, y.inputs, y.arg) == ("", "mul", "y", (w, x), None)
    assert isinstance(x.data, float) and x.data == 2.0
    x.kind = "const"
    assert x.kind == "const"
    with pytest.raises(ValueError, match="only a leaf"):
        y.kind = "param"
    with pytest.raises(ValueError, match="kind"):
        Value(1.0, kind="weight")
    with pytest.raises(TypeError, match="label"):
        Value(1.0, 3)


def test_plain_numbers_become_constant_leaves():
    a = Value(3.0)
    for y in (a + 2, 2 + a, a * 2, 2 * a, a - 2, 2 - a, a / 2, 2 / a, 2**a, a.max(2)):
        consts = [x for x in y.inputs if x is not a]
        assert len(consts) == 1 and consts[0].kind == "const" and consts[0].data == 2.0


def test_reflected_operators_keep_the_order():
    a = Value(4.0)
    for y, data, grad in [
        (1 - a, -3.0, -1.0),
        (2 / a, 0.5, -2 / 16),
        (2**a, 16.0, 16 * math.log(2)),
        (a**0.5, 2.0, 0.25),
        (-a, -4.0, -1.0),
    ]:
        a.zero_grad()
        y.backward()
        assert y.data == approx(data) and a.grad == approx(grad)


def test_op_names_and_args():
    a, b = Value(2.0), Value(3.0)
    assert [(v.op, v.arg) for v in (a**3, a**b, 2**a, a.leaky_relu(0.2), a.elu(), a.leaky_relu())] == [
        ("pow", 3.0), ("powv", None), ("powv", None), ("leaky_relu", 0.2), ("elu", 1.0), ("leaky_relu", 0.01)
    ]


def test_a_leafs_kind_can_be_set_to_each_kind():
    x = Value(1.0)
    for kind in ("param", "const", "input"):
        x.kind = kind
        assert x.kind == kind


def test_comparisons_read_data_and_equality_is_identity():
    a, b = Value(1.0), Value(1.0)
    assert a <= b and a >= b and not a < b and not a > b and a < 2 and a > 0.5
    assert a != b and a == a
    assert len({a, b, a}) == 2
    assert float(Value(2.5)) == 2.5


@pytest.mark.parametrize("x, k", [(1e-200, 2), (1e-110, 3), (1e-160, 2), (-1e-200, 2), (1e-170, 2.5)])
def test_power_rules_survive_an_underflowed_output(x, k):
    # x**k underflows to 0 (or loses digits), yet k·x^(k−1) is a normal float.
    import numpy as np

    from engine import OPS

    want = k * x ** (k - 1)
    powers = [Value(x) ** k] + ([Value(x) ** Value(float(k))] if x > 0 else [])  # powv needs x >= 0
    for y in powers:
        y.backward()
        base = y.inputs[0]
        assert base.grad == approx(want)
        xs = [np.array([v.data]) for v in y.inputs]
        assert OPS[y.op].vd(*xs, np.array([y.data]), y.arg)[0][0] == approx(want)


# --- passes: how many backward passes a gradient sums ---------------------------------------------


def test_passes_count_backward_calls_on_leaves_and_reach_on_nodes():
    w, x = Value(3.0, "w"), Value(2.0, "x")
    h = w * x
    y = h + w  # w fans out: still one pass per call
    assert (w.passes, x.passes, h.passes, y.passes) == (0, 0, 0, 0)
    y.backward()
    assert (w.passes, x.passes, h.passes, y.passes) == (1, 1, 1, 1)
    y.backward()
    for _ in y.steps():
        pass
    assert (w.passes, x.passes, h.passes, y.passes) == (3, 3, 1, 1)
    assert w.grad == 3 * (2.0 + 1.0)
    h.backward()  # another root over some of the same leaves
    assert (w.passes, x.passes) == (4, 4)


def test_zero_grad_resets_passes_from_a_root_or_a_leaf():
    w, x = Value(3.0, "w"), Value(2.0, "x")
    y = (w * x).tanh()
    y.backward()
    y.backward()
    y.zero_grad()
    assert [v.passes for v in y.topo()] == [0, 0, 0, 0]
    assert all(v.grad == 0.0 for v in y.topo())
    y.backward()
    w.zero_grad()  # what an optimizer does, parameter by parameter
    assert (w.grad, w.passes, x.passes, y.passes) == (0.0, 0, 1, 1)


def test_passes_of_a_leaf_root_and_of_nodes_no_pass_reached():
    a = Value(1.0)
    a.backward()
    a.backward()
    assert a.passes == 2
    b = a * 2
    c = b + 1
    b.backward()
    assert (b.passes, c.passes, a.passes) == (1, 0, 3)


def test_passes_can_be_put_back():
    w = Value(3.0, "w")
    y = w * w
    saved = [(v, v.grad, v.passes) for v in y.topo()]
    y.backward()
    y.backward()
    for v, g, n in saved:
        v.passes = n
        v.grad = g
    assert [(v.grad, v.passes) for v in y.topo()] == [(0.0, 0), (0.0, 0)]
    assert all(v.grad is NOT_COMPUTED for v in y.topo())
    with pytest.raises(ValueError, match="passes"):
        w.passes = -1
    with pytest.raises(ValueError, match="passes"):
        y.passes = 2


def test_marking_an_unreached_node_reached_gives_it_a_zero_gradient():
    y = Value(2.0) * 3
    y.passes = 1
    assert (y.passes, y.grad) == (1, 0.0)
    y.passes = 0
    assert y.grad is NOT_COMPUTED


def test_a_step_through_counts_once_it_starts():
    w = Value(3.0, "w")
    y = (w * w).relu()
    steps = y.steps()
    next(steps)
    assert w.passes == 1
    steps.close()


# --- import cost and the shape of a node ------------------------------------------------------------


def test_importing_engine_does_not_import_numpy():
    import subprocess
    import sys

    code = "import engine, sys; assert 'numpy' not in sys.modules, 'numpy was imported'"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    # ... and the twins still work once numpy is wanted.
    code = "import engine, numpy; print(engine.OPS['sigmoid'].vf(numpy.array([0.0]), None)[0])"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "0.5", done.stderr


def test_a_node_with_its_two_floats_fits_in_140_bytes():
    # Issue 12's memory bound, counted as tracemalloc does in benchmarks/bench_engine.py.
    import sys

    y = Value(1.5) * 2
    y.backward()
    assert not hasattr(y, "__dict__")
    assert sys.getsizeof(y) + sys.getsizeof(y.data) + sys.getsizeof(y.grad) <= 140


def test_topo_and_zero_grad_work_a_million_deep():
    a = Value(1.0, "a")
    x = a
    for _ in range(1_000_000):
        x = x + a
    order = x.topo()
    assert len(order) == 1_000_001 and order[0] is a and order[-1] is x
    x.backward()
    x.zero_grad()
    assert (a.grad, a.passes, x.passes) == (0.0, 0, 0)


def test_leaves_keep_their_creation_order_for_the_batch_recorder():
    # engine.replay.record tells leaves made before a recording by their id.
    a = Value(1.0)
    b = a + 1  # lifts a constant
    c = Value(2.0)
    assert a.id < b.inputs[1].id < c.id
    assert not hasattr(b, "id")  # a computed node is numbered by nothing


def test_copy_and_deepcopy_keep_a_graph_and_a_model_independent():
    # A student keeps the best model so far with copy.deepcopy(model).
    import copy

    import nn

    x = Value(2.0, "x", kind="param")
    y = (x * 3).relu()
    y.backward()
    z = copy.deepcopy(y)
    (c,) = z.inputs
    assert type(z) is type(y) and (z.data, z.grad, z.op) == (6.0, 1.0, "relu") and z is not y
    assert c.inputs[0] is not x and (c.inputs[0].data, c.inputs[0].kind, c.inputs[0].passes) == (2.0, "param", 1)
    w = copy.copy(x)
    assert (w.data, w.label, w.kind, w.grad) == (2.0, "x", "param", 3.0) and w is not x
    model = nn.MLP(2, [3, 1], seed=0)
    best = copy.deepcopy(model)
    model.parameters()[0].data += 1.0
    assert best.parameters()[0].data == model.parameters()[0].data - 1.0


def test_nodes_come_from_operators_only():
    from engine import Node

    with pytest.raises(TypeError, match=r"operators make nodes \(x \* w, x.relu\(\)\)"):
        Node(2.0)


def test_value_makes_a_leaf_and_a_subclass_of_leaf_makes_its_own():
    from engine import Leaf, Node

    x = Value(2.0, "x")
    assert type(x) is Leaf and isinstance(x, Value) and type(x * x) is Node

    class Tagged(Leaf):
        __slots__ = ()

    t = Tagged(1.5, "t", kind="param")
    assert type(t) is Tagged and (t.data, t.label, t.kind, t.passes) == (1.5, "t", "param", 0)

    class Other(Value):
        pass

    with pytest.raises(TypeError, match="subclass engine.Leaf"):
        Other(1.0)
