"""engine.replay: replaying one recorded graph over a batch equals the eager engine.

The reference is always the eager engine run sample by sample: the batched
loss is the sum (or mean) of the per-sample losses, and every parameter's
gradient the sum (or mean) of the per-sample gradients, to 1e-12 relative.
"Relative" is measured against the summed magnitudes of the terms that make
up each gradient (see ``magnitude``), the scale at which adding them in
another order can round.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from engine import OPS, DomainError, Value
from engine.replay import ReplayError, trace

RTOL = 1e-12

# How to build each op of the table from two operands (the second may go
# unused) and a small int choosing a constant, staying inside the op's domain
# for any finite operands. A row added to OPS without one here fails below.
POW_EXPONENTS = (2, 3, 1, 0, -1, 0.5, 1.5)


def _pow(a, b, k):
    k = POW_EXPONENTS[k % len(POW_EXPONENTS)]
    base = a if float(k).is_integer() and k >= 0 else a * a + 0.25
    return base**k


def _split(a, b, k):
    p, q = a.split(2)
    return p * 2 + q


BUILD = {
    "add": lambda a, b, k: a + b,
    "sub": lambda a, b, k: a - b,
    "mul": lambda a, b, k: a * b,
    "div": lambda a, b, k: a / (b * b + 0.5),
    "neg": lambda a, b, k: -a,
    "pow": _pow,
    "powv": lambda a, b, k: (a * a + 0.5) ** b,
    "exp": lambda a, b, k: a.exp(),
    "log": lambda a, b, k: (a * a + 0.1).log(),
    "sigmoid": lambda a, b, k: a.sigmoid(),
    "tanh": lambda a, b, k: a.tanh(),
    "relu": lambda a, b, k: a.relu(),
    "leaky_relu": lambda a, b, k: a.leaky_relu((0.01, 0.3)[k % 2]),
    "elu": lambda a, b, k: a.elu((1.0, 0.5)[k % 2]),
    "softplus": lambda a, b, k: a.softplus(),
    "max": lambda a, b, k: a.max(b),
    "split": _split,
}


def test_every_op_of_the_table_has_a_builder():
    assert set(BUILD) == set(OPS)


# --- references --------------------------------------------------------------------


def _sample(arrays, i):
    return [Value(float(a[i])) if a.ndim == 1 else [Value(float(v)) for v in a[i]] for a in arrays]


def magnitude(out, params):
    """Per parameter, the sum over paths of |product of local derivatives|.

    It bounds the terms backward() adds, so it is the scale at which adding
    them in another order can round, also when they cancel to 0 (1 − 1 + 1e-103).
    """
    mag = {out: 1.0}
    for v in reversed(out.topo()):
        if v.op and v in mag:
            local = OPS[v.op].d(*[x.data for x in v.inputs], v.data, v.arg)
            for x, d in zip(v.inputs, local):
                mag[x] = mag.get(x, 0.0) + mag[v] * abs(d)
    return np.array([mag.get(p, 0.0) for p in params])


def eager(fn, arrays, params):
    """Per-sample outputs, the sum of per-sample gradients and its scale (summed magnitudes)."""
    outs, total, scale = [], np.zeros(len(params)), np.zeros(len(params))
    for i in range(len(arrays[0])):
        for p in params:
            p.grad = 0.0
        out = fn(*_sample(arrays, i))
        out.backward()
        grads = np.array([p.grad for p in params])
        outs.append(out.data)
        total += grads
        scale += magnitude(out, params)
    return np.array(outs), total, scale


def batched(fn, arrays, params, reduce="sum", **options):
    """Per-sample outputs and the parameters' gradients from one replay."""
    for p in params:
        p.grad = 0.0
    tape = trace(fn, reduce=reduce, **options)
    outs = tape.forward(*arrays)
    tape.backward()
    return outs, np.array([p.grad for p in params])


def assert_matches(got, want, scale):
    # Below the smallest normal float (2.2e-308) numbers keep too few digits for a
    # relative tolerance: hypothesis found 5e-323 against 6e-323 (one subnormal step).
    bad = ~(np.abs(got - want) <= RTOL * scale + np.finfo(float).tiny)
    assert not bad.any(), f"batched {got[bad]} vs eager {want[bad]} (scale {scale[bad]})"


def check_against_eager(fn, arrays, params, **options):
    arrays = [np.asarray(a, dtype=float) for a in arrays]
    outs, total, scale = eager(fn, arrays, params)
    got_outs, got = batched(fn, arrays, params, **options)
    assert_matches(got_outs, outs, np.maximum(np.abs(outs), 1.0))
    assert_matches(got, total, scale)


OPTIONS = [dict(), dict(fuse=False), dict(group=False)]


# --- every op, in every position ---------------------------------------------------


@pytest.mark.parametrize("name", sorted(OPS))
@pytest.mark.parametrize("options", OPTIONS, ids=["fused", "unfused", "node-by-node"])
def test_each_op_matches_the_eager_engine(name, options):
    build = BUILD[name]
    p = [Value(v, f"p{i}", kind="param") for i, v in enumerate((0.7, -0.4, 1.3, 0.2))]

    def fn(x, t):
        a = x[0] * p[0] + p[1]
        b = x[1] * p[2] - t
        # the op on per-sample operands, on parameters alone (the uniform
        # part, one column), and on a placeholder as it comes
        return build(a, b, 0) + build(p[2], p[3], 1) * x[0] + build(t, a, 2)

    X = np.array([[0.5, -1.0], [0.0, 0.0], [-1.5, 2.0], [1.0, 1.0], [0.25, -0.75]])
    t = np.array([1.0, 0.0, -1.0, 0.5, 0.0])
    check_against_eager(fn, [X, t], p, **options)


def test_mean_is_the_sum_over_the_batch_size():
    w = Value(1.5, kind="param")
    fn = lambda x, y: (w * x - y) ** 2  # noqa: E731
    x, y = np.array([1.0, 2.0, -1.0, 0.5]), np.array([0.0, 1.0, 1.0, 2.0])
    _, total, _ = eager(fn, [x, y], [w])
    w.grad = 0.0
    tape = trace(fn)
    assert tape.run(x, y) == pytest.approx(np.mean((1.5 * x - y) ** 2), rel=RTOL)
    tape.backward()
    assert w.grad == pytest.approx(total[0] / 4, rel=RTOL)


# --- random graphs over the whole table ------------------------------------------------

VALUES = st.sampled_from([-2.0, -1.5, -0.5, 0.0, 0.25, 0.5, 1.0, 2.0]) | st.floats(-2, 2, allow_nan=False)
STEPS = st.lists(st.tuples(st.sampled_from(sorted(OPS)), st.integers(0, 99), st.integers(0, 99), st.integers(0, 6)),
                 min_size=1, max_size=12)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(steps=STEPS, data=st.data(), options=st.sampled_from(OPTIONS))
def test_random_graphs_match_the_eager_engine(steps, data, options):
    n = data.draw(st.integers(1, 5), label="samples")
    X = np.array(data.draw(st.lists(st.lists(VALUES, min_size=2, max_size=2), min_size=n, max_size=n), label="X"))
    t = np.array(data.draw(st.lists(VALUES, min_size=n, max_size=n), label="t"))
    params = [Value(v, kind="param") for v in data.draw(st.lists(VALUES, min_size=3, max_size=3), label="params")]

    def fn(x, target):
        pool = [x[0], x[1], target, *params]
        made = []
        for name, i, j, k in steps:
            node = BUILD[name](pool[i % len(pool)], pool[j % len(pool)], k)
            pool.append(node)
            made.append(node)
        # Every node made feeds the output; the last ones through a sum chain.
        return sum(made[1:], made[0])

    arrays = [X, t]
    try:
        outs, total, scale = eager(fn, arrays, params)
    except (ArithmeticError, ValueError):
        assume(False)  # outside some op's domain (an overflowing exp, say): eager raises too
    assume(np.all(np.isfinite(outs)) and np.all(np.abs(outs) < 1e12) and np.all(np.isfinite(scale)))
    got_outs, got = batched(fn, arrays, params, **options)
    assert_matches(got_outs, outs, np.maximum(np.abs(outs), 1.0))
    assert_matches(got, total, scale)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(steps=STEPS, data=st.data(), options=st.sampled_from(OPTIONS))
def test_random_aux_outputs_ride_along_without_touching_the_gradient(steps, data, options):
    # The loss sums only the last nodes made; every node is also an aux
    # output, so some outputs feed the loss, some do not, some are partial sums.
    n = data.draw(st.integers(1, 4), label="samples")
    X = np.array(data.draw(st.lists(st.lists(VALUES, min_size=2, max_size=2), min_size=n, max_size=n), label="X"))
    params = [Value(v, kind="param") for v in data.draw(st.lists(VALUES, min_size=3, max_size=3), label="params")]
    cut = data.draw(st.integers(0, len(steps) - 1), label="cut")

    def fn(x):
        pool = [x[0], x[1], *params]
        for name, i, j, k in steps:
            pool.append(BUILD[name](pool[i % len(pool)], pool[j % len(pool)], k))
        made = pool[2 + len(params):]
        return sum(made[cut + 1:], made[cut]), made

    try:
        outs, total, scale = eager(lambda x: fn(x)[0], [X], params)
        auxes = np.array([[v.data for v in fn(*_sample([X], i))[1]] for i in range(n)])
    except (ArithmeticError, ValueError):
        assume(False)
    assume(np.all(np.isfinite(outs)) and np.all(np.abs(outs) < 1e12) and np.all(np.isfinite(scale)))
    assume(np.all(np.isfinite(auxes)))
    for p in params:
        p.grad = 0.0
    tape = trace(fn, reduce="sum", has_aux=True, **options)
    got_outs = tape.forward(X)
    tape.backward()
    assert_matches(got_outs, outs, np.maximum(np.abs(outs), 1.0))
    assert_matches(tape.aux, auxes, np.maximum(np.abs(auxes), 1.0))
    assert_matches(np.array([p.grad for p in params]), total, scale)


# --- layers as matrix products ------------------------------------------------------------

WEIGHT_KINDS = st.sampled_from(["param", "const", "expr"])  # a parameter, a constant, a uniform expression of one


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(data=st.data())
def test_random_layers_run_as_matrix_products_and_match_the_eager_engine(data):
    n = data.draw(st.integers(1, 5), label="samples")
    nin = data.draw(st.integers(1, 4), label="inputs")
    widths = data.draw(st.lists(st.integers(1, 4), min_size=1, max_size=3), label="widths")
    X = np.array(data.draw(st.lists(st.lists(VALUES, min_size=nin, max_size=nin), min_size=n, max_size=n)))
    params = []

    def weight(kind, v):
        if kind == "const":
            return lambda: Value(v)
        p = Value(v, kind="param")
        params.append(p)
        return (lambda: p) if kind == "param" else (lambda: p * 2.0)

    plan = []  # per layer: which inputs each neuron reads (repeats allowed), weights, bias, activation
    width = nin
    for k, w in enumerate(widths):
        reads = data.draw(st.lists(st.integers(0, width - 1), min_size=1, max_size=width + 1), label="reads")
        neurons = []
        for _ in range(w):
            ws = [weight(data.draw(WEIGHT_KINDS), data.draw(VALUES)) for _ in reads]
            bias = data.draw(st.sampled_from([None, "param", "const"]))
            neurons.append((ws, None if bias is None else weight(bias, data.draw(VALUES))))
        # Activations whose numpy twin is exact: np.tanh can differ from
        # math.tanh by an ulp, which 1 − t² near saturation blows up past
        # 1e-12 (a property of the twins, tested elsewhere, not of layers).
        act = data.draw(st.sampled_from(["relu", "linear"]))
        plan.append((reads, neurons, act))
        width = w

    def fn(x):
        h = list(x)
        for reads, neurons, act in plan:
            out = []
            for ws, bias in neurons:
                terms = (w() * h[j] for w, j in zip(ws, reads))
                z = sum(terms, bias()) if bias else sum(terms)  # sum() without a start adds 0 first
                out.append(z if act == "linear" else getattr(z, act)())
            h = out
        return sum(h[1:], h[0] * h[0])

    def worst_condition(x):
        # max over neurons of Σ|terms| / |sum|: how much a weighted sum
        # cancels. A matrix product adds in another order than eager's left
        # to right; rounding differs by ~ε·Σ|terms|, which cancellation
        # magnifies relative to the sum, and the gradients downstream with it.
        h, worst = [float(v) for v in x], 1.0
        for reads, neurons, act in plan:
            out = []
            for ws, bias in neurons:
                terms = [w().data * h[j] for w, j in zip(ws, reads)] + ([bias().data] if bias else [])
                z = sum(terms)
                worst = max(worst, sum(map(abs, terms)) / abs(z) if z else (math.inf if any(terms) else 1.0))
                out.append(z if act == "linear" else max(z, 0.0))
            h = out
        return worst

    assume(params)
    assume(all(worst_condition(x) < 100 for x in X))  # well-conditioned sums: see worst_condition
    check_against_eager(fn, [X], params)
    tape = trace(fn, reduce="sum")
    tape.forward(X)
    assert tape.layers, "the layers should run as matrix products"


def test_layer_memory_grows_with_activations_not_parameters():
    from nn import MLP

    rows = []
    for width in (16, 64):
        model = MLP(2, [width, width, 1], seed=0)
        tape = trace(lambda x, t: (1 - t * model(x)[0]).relu(), params=model.parameters())
        tape.run(np.ones((3, 2)), np.ones(3))
        split = tape._last[0]
        rows.append(split.varying.n_rows + split.varying.n_edges)
        assert [layer.shape for layer in tape.layers] == [(2, width), (width, width), (width, 1)]
        assert tape.summary().startswith(f"3 matrix products (2×{width}, {width}×{width}, {width}×1)")
    # 4× the width: 16× the parameters, but only about 4× the rows per sample
    assert rows[1] < 5 * rows[0], rows


def test_matmul_off_gives_the_same_gradients():
    from nn import MLP

    model = MLP(3, [5, 4, 2], activation="tanh", seed=3)
    params = model.parameters()
    X = np.random.default_rng(0).normal(size=(9, 3))
    fn = lambda x: sum(model(x))  # noqa: E731
    check_against_eager(fn, [X], params, matmul=False)
    check_against_eager(fn, [X], params)


def test_an_overflowing_layer_names_the_sample():
    w = [Value(1e200, kind="param"), Value(1e200, kind="param")]
    tape = trace(lambda x: w[0] * x[0] + w[1] * x[1], params=w)
    # w0·x0 = 1e400 is the first number a float cannot hold: the product is named, with its sample.
    with pytest.raises(OverflowError, match="sample 1: mul: .* overflows"):
        tape.forward([[1.0, 1.0], [1e200, 1.0]])


# --- the MLP of micrograd's demo ---------------------------------------------------------


def test_mlp_hinge_and_l2_match_the_eager_engine():
    from nn import MLP
    from nn.data import moons

    model = MLP(2, [16, 16, 1], seed=1)
    params = model.parameters()
    X, y = moons(100, noise=0.1, seed=0)
    y = 2.0 * y - 1

    def fn(x, t):
        score = model(x)[0]
        return (1 + -t * score).relu() + 1e-4 * sum(p * p for p in params)

    check_against_eager(fn, [X, y], params)
    check_against_eager(fn, [X[:7], y[:7]], params, reduce="sum")  # a smaller batch, same recording


def test_aux_carries_the_scores_and_leaves_the_gradient_alone():
    from nn import MLP

    model = MLP(2, [4, 1], seed=0)
    X, y = np.array([[0.5, -1.0], [1.0, 2.0], [-0.3, 0.1]]), np.array([1.0, -1.0, 1.0])
    tape = trace(lambda x, t: ((1 - t * (s := model(x)[0])).relu(), [s]), has_aux=True)
    tape.run(X, y)
    scores = [model(list(row))[0].data for row in X]
    assert tape.aux.shape == (3, 1)
    np.testing.assert_allclose(tape.aux[:, 0], scores, rtol=RTOL)
    params = model.parameters()
    _, total, scale = eager(lambda x, t: (1 - t * model(x)[0]).relu(), [X, y], params)
    for p in params:
        p.grad = 0.0
    tape.backward()
    assert_matches(np.array([p.grad for p in params]), total / len(X), scale / len(X))


@pytest.mark.parametrize("options", OPTIONS, ids=["fused", "unfused", "node-by-node"])
def test_an_aux_the_loss_does_not_use_sends_no_gradient(options):
    w, b, u = (Value(v, kind="param") for v in (0.5, 2.0, -1.5))

    def fn(x):
        s = w * x + b  # a partial sum the loss extends: it must keep a row of its own
        # aux only: a parameter no loss node reads, and an infinite local
        # derivative at x = 0 (the eager loss graph never sees either)
        return (s + 1.0) ** 2, [s, u * x, (b * x * x) ** 0.5]

    X = np.array([1.0, 0.0, 3.0])
    _, total, _ = eager(lambda x: fn(x)[0], [X], [w, b, u])
    for p in (w, b, u):
        p.grad = 0.0
    tape = trace(fn, has_aux=True, reduce="sum", **options)
    tape.run(X)
    np.testing.assert_array_equal(tape.aux, [[2.5, -1.5, 2.0 ** 0.5], [2.0, -0.0, 0.0], [3.5, -4.5, 18.0 ** 0.5]])
    tape.backward()
    assert [w.grad, b.grad, u.grad] == total.tolist() == [34.0, 22.0, 0.0]


# --- the recording and the Values around it ---------------------------------------------


def test_parameters_are_read_at_every_run_and_leaf_gradients_accumulate():
    w = Value(2.0, kind="param")
    tape = trace(lambda x: w * x, reduce="sum")
    assert tape.run([1.0, 2.0]) == 6.0
    w.data = -1.0
    assert tape.run([1.0, 2.0]) == -3.0
    tape.backward()
    tape.backward()
    assert w.grad == 6.0  # two passes of 1 + 2, as two eager backward() calls would give


def test_one_recording_serves_every_batch_size():
    w = Value(0.5, kind="param")
    tape = trace(lambda x: (w * x).tanh())
    tape.run([1.0, 2.0, 3.0])
    graph = tape.graph
    tape.run([4.0])
    tape.run(np.arange(10.0))
    assert tape.graph is graph
    assert graph.op == "tanh" and graph.inputs[0].inputs[1].label == "x"


def test_a_list_of_outputs_can_be_evaluated_but_not_differentiated():
    w = Value(3.0, kind="param")
    tape = trace(lambda x: [w * x, w + x])
    np.testing.assert_array_equal(tape.forward([1.0, 2.0]), [[3.0, 4.0], [6.0, 5.0]])
    with pytest.raises(TypeError, match="backward needs a single loss"):
        tape.backward()
    with pytest.raises(TypeError, match="run needs one Value per sample"):
        tape.run([1.0])


def test_a_loss_without_parameters_or_inputs_still_replays():
    c = trace(lambda x: Value(2.0) * 3.0, reduce="sum")
    assert c.run([1.0, 2.0]) == 12.0
    c.backward()  # nothing to differentiate: no error, no gradients


# --- graphs that cannot be replayed --------------------------------------------------------


def test_a_python_branch_on_a_sample_value_is_refused_while_recording():
    tape = trace(lambda x: x * 2 if x > 0 else x * 3)
    with pytest.raises(ReplayError, match="Python control flow"):
        tape.run([1.0, -1.0])


@pytest.mark.parametrize("fn", [
    lambda x: max(x, x * x),  # the builtin compares
    lambda x: x * float(x),  # a number taken from the sample
    lambda x, w=Value(1.0, kind="param"): x * 2 if w >= 0 else x,  # parameters change between steps
], ids=["builtin-max", "float", "parameter"])
def test_comparisons_and_float_on_varying_values_are_refused(fn):
    with pytest.raises(ReplayError):
        trace(fn).run([1.0, 2.0])


def test_recording_leaves_value_alone_and_other_threads_free_to_compare():
    import threading

    w = Value(1.0, kind="param")
    methods = {name: Value.__dict__[name] for name in ("__lt__", "__le__", "__gt__", "__ge__", "__float__")}
    seen = []

    def fn(x):
        seen.append({name: Value.__dict__[name] for name in methods})
        # A thread that compares parameters while fn is being recorded: the
        # guard belongs to the recording's context, not to the process.
        results = []
        thread = threading.Thread(target=lambda: results.append((w < 2, float(w))))
        thread.start()
        thread.join()
        seen.append(results)
        return w * x

    assert trace(fn, reduce="sum").run([1.0, 2.0]) == 3.0
    assert all(s == methods for s in seen[::2]) and seen[1] == [(True, 1.0)]
    assert w < 2  # after recording, comparisons are plain again


def test_a_recording_is_registered_only_while_it_runs_and_nodes_elsewhere_stay_plain():
    import threading

    from engine.hook import recordings

    made = []

    def fn(x):
        assert len(recordings) == 1  # nodes look the recording up only while one runs
        thread = threading.Thread(target=lambda: made.append(Value(2.0) * 3.0))
        thread.start()
        thread.join()
        return x * 2

    assert trace(fn, reduce="sum").run([1.0, 2.0]) == 6.0
    assert not recordings and type(made[0].data) is float  # another thread's node is not the recording's
    with pytest.raises(ReplayError):
        trace(lambda x: x * 2 if x.data > 0 else x).run([1.0, -1.0])
    assert not recordings  # a refused recording is gone too


def test_comparisons_on_constants_made_inside_fn_are_fine():
    def fn(x):
        c = Value(2.0)
        return x * c if c > 1 else x
    assert trace(fn, reduce="sum").run([1.0, 2.0]) == 6.0


def test_a_branch_on_data_is_refused_while_recording():
    with pytest.raises(ReplayError, match=r"applied > to x.data"):
        trace(lambda x: x * 2 if x.data > 0 else x.exp()).run([1.0, -1.0, 2.0])
    with pytest.raises(ReplayError, match="made a constant"):
        trace(lambda x: x * x.data).run([1.0, 3.0])  # same shape, another constant


def test_a_branch_the_probes_would_miss_is_refused_while_recording():
    # Samples 0, 1 and the last are positive, so comparing recordings of a few
    # samples cannot see the branch; the tagged data refuses it at once.
    fn = lambda x: x * 2 if x.data > 0 else x * 3  # noqa: E731
    with pytest.raises(ReplayError, match="applied > to x.data"):
        trace(fn).run([1.0, 2.0, -1.0, 3.0])


@pytest.mark.parametrize("read", [
    lambda d: d > 0, lambda d: d == 1.0, lambda d: bool(d), lambda d: int(d), lambda d: round(d),
    lambda d: float(d), lambda d: math.floor(d), lambda d: math.ceil(d), lambda d: math.trunc(d),
    lambda d: hash(d), lambda d: f"{d:.3f}", lambda d: d // 1, lambda d: d % 1, lambda d: (d * 2 + 1) > 0,
    lambda d: abs(-d) < 5, lambda d: d.is_integer(),
    lambda d: Value(0.0) < d, lambda d: Value(2.0) >= d,  # the float compares inside Value's method
], ids=["gt", "eq", "bool", "int", "round", "float", "floor", "ceil", "trunc", "hash", "format", "floordiv",
        "mod", "arithmetic-then-gt", "abs-then-lt", "is_integer", "value-lt", "value-ge"])
@pytest.mark.parametrize("whose", ["input", "parameter", "hidden"])
def test_every_python_read_of_a_tagged_number_is_refused(read, whose):
    w = Value(0.7, "w", kind="param")

    def fn(x):
        h = (w * x).tanh()
        d = {"input": x.data, "parameter": w.data, "hidden": h.data}[whose]
        read(d)
        return h

    with pytest.raises(ReplayError, match="depends on the inputs or the parameters"):
        trace(fn, params=[w]).run([0.5, 1.5])
    assert type(w.data) is float and w.data == 0.7  # the parameter is given back untouched


def test_a_parameter_not_given_is_found_and_watched():
    w = Value(0.7, "w", kind="param")
    with pytest.raises(ReplayError, match="w.data"):
        trace(lambda x: x * w if w.data > 0 else x).run([0.5, 1.5])


def test_a_node_computed_from_a_parameter_before_fn_is_refused():
    # Eager keeps h.data as it was made while w trains; a replay would
    # recompute tanh(w) at every step and train differently.
    w = Value(0.7, "w", kind="param")
    h = w.tanh()
    for params in ([], [w]):
        with pytest.raises(ReplayError, match="computed before fn ran"):
            trace(lambda x: x * h, params=params).run([0.5, 1.5])
    assert type(w.data) is float and w.data == 0.7


def test_a_number_through_c_code_is_caught_by_the_nudged_probe():
    w = Value(0.7, "w", kind="param")
    # math.exp reads the float in C, past the tag: the constant it makes
    # differs when the probe nudges the parameters.
    with pytest.raises(ReplayError, match="different graph"):
        trace(lambda x: x * Value(math.exp(w.data)) + w, params=[w]).run([0.5, 0.5])


def test_the_recorded_graph_holds_plain_floats():
    w = Value(0.7, "w", kind="param")
    tape = trace(lambda x: (w * x).tanh() + x.exp(), params=[w])
    tape.run([0.5, 1.5])
    assert all(type(v.data) is float for v in tape.graph.topo())


# --- bad input -----------------------------------------------------------------------------


def test_bad_batches_are_clear_errors():
    tape = trace(lambda x, y: x * y)
    with pytest.raises(ValueError, match="one entry per sample"):
        tape.run([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="empty"):
        tape.run([], [])
    with pytest.raises(ValueError, match="1-D .* or 2-D"):
        tape.run(np.zeros((2, 2, 2)), [1.0, 2.0])
    with pytest.raises(TypeError, match=r"fn takes \(x, y\) but run\(\) was given 1"):
        tape.run([1.0])
    with pytest.raises(TypeError, match="array of numbers"):
        tape.run(["a"], [1.0])
    with pytest.raises(RuntimeError, match="call run"):
        trace(lambda x: x).backward()


def test_bad_trace_arguments_are_clear_errors():
    with pytest.raises(ValueError, match="reduce must be one of"):
        trace(lambda x: x, reduce="max")
    with pytest.raises(TypeError, match="callable"):
        trace(3)
    with pytest.raises(TypeError, match="must return a Value"):
        trace(lambda x: 3.0).run([1.0])
    with pytest.raises(TypeError, match="has_aux=True fn must return"):
        trace(lambda x: x, has_aux=True).run([1.0])


def test_a_domain_error_names_the_sample_like_the_eager_engine():
    with pytest.raises(DomainError, match="sample 1: log: the input must be > 0"):
        trace(lambda x: (x - 1.0).log()).run([2.0, 0.5, 3.0])
    with pytest.raises(OverflowError, match="sample 0: exp"):
        trace(lambda x: x.exp()).run([1000.0, 1.0])


def test_fns_own_errors_keep_their_type_and_name_the_sample():
    class Picky(ValueError):  # cannot be rebuilt from a single message
        def __init__(self, low, high):
            super().__init__(f"{low} is not below {high}")

    def fn(x):
        raise Picky(1, 0)

    with pytest.raises(Picky, match="1 is not below 0") as info:
        trace(fn).run([1.0, 2.0])
    assert info.value.__notes__ == ["(at sample 0)"]


def test_overflow_raises_naming_the_op_and_the_sample():
    # numpy would give inf silently; the replay says where, as eager does (issue 13).
    with pytest.raises(OverflowError, match=r"sample 0: mul: mul\(10000000000.0, 1e\+300\) overflows a float"):
        trace(lambda x: x * 1e300).forward([1e10, 1.0])
    with pytest.raises(OverflowError, match=r"sample 1: add: add\(1e\+308, 1e\+308\) overflows"):
        trace(lambda x: x + x + x).forward([1.0, 1e308])


def test_a_non_finite_gradient_raises_and_changes_no_gradient():
    w = Value(2.0, "w", kind="param")
    tape = trace(lambda x: (x * w).log() + w, params=[w])
    tape.run([1.0, 5e-324])
    with pytest.raises(OverflowError, match=r"sample 1: backward through log at inputs \(1e-323\)"):
        tape.backward()
    assert w.grad == 0.0  # all or nothing


# --- every op at its domain edges: eager and batched agree -----------------------------------

EDGES = (0.0, 5e-324, -5e-324, 1e-300, -1e-300, 1e-160, 0.5, -0.5, 1.0, -1.0, 2.0, 709.0, 710.0, -746.0,
         1e160, -1e160, 1e308, -1e308)
PAIR_EDGES = (0.0, 5e-324, -1e-300, 1e-160, 0.5, -1.0, 2.0, 710.0, 1e160, -1e308, 1e308)
UNARY_BUILD = {
    **{name: (lambda name: lambda a: getattr(a, name)())(name) for name in ("exp", "log", "sigmoid", "tanh", "relu", "softplus")},
    "neg": lambda a: -a, "leaky_relu": lambda a: a.leaky_relu(0.01), "elu": lambda a: a.elu(1.0),
    "split": lambda a: sum(a.split(2)),
    **{f"pow{k}": (lambda k: lambda a: a ** k)(k) for k in (2, 3, -1, 0.5, -2, 2000)},
}
BINARY_BUILD = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
                "div": lambda a, b: a / b, "powv": lambda a, b: a ** b, "max": lambda a, b: a.max(b)}


def _eager_outcome(build, xs):
    ps = [Value(0.0, kind="param") for _ in xs]
    try:
        out = build(*[Value(x) + p for x, p in zip(xs, ps)])
        out.backward()
        got = [out.data] + [p.grad for p in ps]
    except (ArithmeticError, ValueError):
        return "raises"
    return got


def _batched_outcome(build, xs):
    ps = [Value(0.0, kind="param") for _ in xs]
    try:
        tape = trace(lambda *vs: build(*[v + p for v, p in zip(vs, ps)]), reduce="sum", params=ps)
        out = tape.forward(*[[x] for x in xs])
        tape.run(*[[x] for x in xs])
        tape.backward()
        got = [float(out[0])] + [p.grad for p in ps]
    except (ArithmeticError, ValueError):
        return "raises"
    return got


@pytest.mark.parametrize("name", sorted(UNARY_BUILD) + sorted(BINARY_BUILD))
def test_every_op_at_its_domain_edges_raises_or_agrees_in_both_paths(name):
    assert {n for n in OPS if n not in ("pow", "split")} <= set(UNARY_BUILD) | set(BINARY_BUILD)
    if name in UNARY_BUILD:
        build, cases = UNARY_BUILD[name], [(x,) for x in EDGES]
    else:
        build, cases = BINARY_BUILD[name], [(x, y) for x in PAIR_EDGES for y in PAIR_EDGES]
    disagree, silent = [], []
    for xs in cases:
        want, got = _eager_outcome(build, xs), _batched_outcome(build, xs)
        if want == "raises" or got == "raises":
            if want != got:
                eager_silent = want != "raises" and not np.all(np.isfinite(want))
                (silent if eager_silent else disagree).append((xs, want, got))
            continue
        assert np.all(np.isfinite(got)), (xs, got)  # the batched path never hands back inf or nan
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=0, err_msg=f"{name}{xs}")
    assert not disagree, f"{name}: eager and batched disagree at {disagree[:5]}"
    assert not silent, f"{name}: eager gives inf/nan silently at {silent[:5]}, batched raises"


# --- nn's training loop on the replay ---------------------------------------------------------


def _fit_twice(make, X, y, **options):
    """fit with batched=True and batched=False from the same start: (history, parameters) each."""
    from nn import fit

    out = []
    for batched in (True, False):
        model, optimizer = make()
        history = fit(model, X, y, optimizer=optimizer, progress=False, batched=batched, **options)
        out.append((history, np.array([p.data for p in model.parameters()])))
    return out


@pytest.mark.parametrize("loss, labels, out_activation, batch_size", [
    ("hinge", "pm1", None, None),
    ("bce_with_logits", "01", None, 16),
    ("bce", "01", "sigmoid", None),
    ("mse", "01", "tanh", 16),
    ("softmax_cross_entropy", "classes", None, 16),
])
def test_fit_batched_equals_fit_eager(loss, labels, out_activation, batch_size):
    from nn import MLP, SGD, moons, spirals

    if labels == "classes":
        X, y = spirals(60, k=3, seed=0)
    else:
        X, y = moons(48, noise=0.1, seed=0)
        y = 2 * y - 1 if labels == "pm1" else y
    outputs = 3 if labels == "classes" else 1

    def make():
        model = MLP(2, [6, outputs], activation="tanh", output_activation=out_activation, seed=2)
        return model, SGD(model.parameters(), lr=0.2, momentum=0.5)

    (h1, p1), (h2, p2) = _fit_twice(make, X, y, loss=loss, epochs=4, batch_size=batch_size, l2=1e-3)
    np.testing.assert_allclose(p1, p2, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(h1.loss, h2.loss, rtol=1e-10)
    np.testing.assert_array_equal(h1.acc, h2.acc)  # NaN for mse (no classes) in both


def test_fit_reproduces_micrograds_demo_on_the_replay():
    from nn import MLP, SGD, LinearDecay, fit, moons

    X, y = moons(100, noise=0.1, seed=0)
    model = MLP(2, [16, 16, 1], seed=0)
    optimizer = SGD(model.parameters(), lr=1.0)
    history = fit(model, X, 2 * y - 1, loss="hinge", l2=1e-4, optimizer=optimizer, epochs=100,
                  schedule=LinearDecay(optimizer, end=0.1, steps=100), progress=False, batched=True)
    assert history.acc[-1] == 1.0


def test_fit_auto_keeps_the_eager_engine_for_dropout_and_true_refuses_it():
    from nn import MLP, fit, moons

    X, y = moons(32, noise=0.1, seed=0)
    states = []
    for batched in ("auto", False):
        model = MLP(2, [8, 1], dropout=0.3, seed=5)
        fit(model, X, y, loss="bce_with_logits", epochs=2, batch_size=8, progress=False, batched=batched)
        states.append(model.state_dict())
    assert states[0] == states[1]  # the very same random masks: nothing was recorded
    with pytest.raises(ValueError, match="cannot replay dropout"):
        fit(MLP(2, [8, 1], dropout=0.3, seed=5), X, y, loss="bce_with_logits", progress=False, batched=True)


def test_fit_auto_falls_back_when_an_activation_branches_on_data():
    from nn import MLP, SGD, fit, moons

    def clipped(v):  # Python control flow on the sample's value: not replayable
        return v * 0.1 if v.data < -1 else v

    X, y = moons(24, noise=0.1, seed=0)
    runs = []
    for batched in ("auto", False):
        model = MLP(2, [4, 1], activation=clipped, seed=1)
        with warnings.catch_warnings(record=True) as said:
            warnings.simplefilter("always")
            fit(model, X, y, loss="bce_with_logits", epochs=3, optimizer=SGD(model.parameters(), lr=0.5),
                progress=False, batched=batched)
        # "auto" says, in one warning, why it trains eagerly; eager itself says nothing.
        assert [str(w.message).split(":")[0] for w in said] == (["fit uses the eager engine"] if batched else [])
        runs.append(model.state_dict())
    assert runs[0] == runs[1]


def test_fit_batched_argument_errors():
    from nn import MLP, batch_loss, fit, moons

    X, y = moons(8, seed=0)
    with pytest.raises(ValueError, match="batched must be True, False or 'auto'"):
        fit(MLP(2, [2, 1]), X, y, progress=False, batched="yes")
    with pytest.raises(ValueError, match="pass batched or batch_fn, not both"):
        fit(MLP(2, [2, 1]), X, y, progress=False, batched=True, batch_fn=lambda *a: batch_loss(*a))
