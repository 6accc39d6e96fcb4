"""Every row of the op table, tested the same way.

For each op: its gradient through the engine against central differences and
against autograd (an independent implementation of each op), its numpy twins
against its scalar rules, and the row's descriptive fields. A row added to
``engine.ops.OPS`` without a row in SAMPLERS, CALL and REFERENCE fails here.
"""

from __future__ import annotations

import dataclasses
import math
from contextlib import contextmanager
from typing import NamedTuple

import autograd
import autograd.numpy as anp
import numpy as np
import pytest

from engine import OPS, Value, gradcheck, numerical_grad
from engine.ops import BINARY, UNARY

# Tolerances, in float64. Against autograd the two implementations differ only
# by rounding, so the check is tight; finite differences carry their own
# truncation and rounding error (about 1e-10 here), hence 1e-7.
REFERENCE_RTOL, REFERENCE_ATOL = 1e-9, 1e-12
DIFFERENCE_TOL = 1e-7


class Case(NamedTuple):
    """One point at which to check an op: its inputs and constant parameter.

    ``smooth`` is False on kinks and boundaries (ReLU at 0, a zero base), where
    a central difference straddles two rules and only the convention is checked.
    """

    xs: tuple
    arg: object = None
    smooth: bool = True


def _rng(name):
    # One stream per op, so adding an op leaves the others' points unchanged.
    return np.random.default_rng([sum(map(ord, name)), len(name)])


def _uniform(rng, lo, hi, arity, n=6):
    return [tuple(float(v) for v in row) for row in rng.uniform(lo, hi, (n, arity))]


def _away_from_zero(rng, lo, hi, n=6):
    # |x| in [lo, hi] with a random sign.
    return [float(s * m) for s, m in zip(rng.choice([-1.0, 1.0], n), rng.uniform(lo, hi, n))]


def _cases(points, arg=None, smooth=True):
    return [Case(tuple(p) if isinstance(p, tuple) else (p,), arg, smooth) for p in points]


def _binary(lo, hi):
    return lambda rng: _cases(_uniform(rng, lo, hi, 2) + [(1.5, -2.0), (-0.5, 0.25)])


def _unary(lo, hi, edges=()):
    return lambda rng: _cases([p for (p,) in _uniform(rng, lo, hi, 1)] + [0.7, -0.7]) + _cases(edges, smooth=False)


def _div(rng):
    pairs = zip(_uniform(rng, -5, 5, 1), _away_from_zero(rng, 0.2, 5))
    return _cases([(x, y) for (x,), y in pairs] + [(3.0, -0.5)])


def _pow(rng):
    cases = []
    for k in (2.0, 3.0, 1.0, 0.0, -1.0, -2.0):  # integer k: any sign of base, zero only for k >= 0
        cases += _cases(_away_from_zero(rng, 0.2, 3) + [1.3, -1.3], arg=k)
        if k >= 0:
            cases += _cases([0.0], arg=k, smooth=False)
    for k in (0.5, 1.5, -0.5, -1.5, 2.7):  # fractional k: positive base only
        cases += _cases([p for (p,) in _uniform(rng, 0.2, 3, 1)], arg=k)
    cases += _cases([0.0], arg=0.5, smooth=False) + _cases([0.0], arg=1.5, smooth=False)
    return cases


def _powv(rng):
    bases = [p for (p,) in _uniform(rng, 0.2, 4, 1, n=10)]
    exponents = [p for (p,) in _uniform(rng, -3, 3, 1, n=10)]
    edges = [(0.0, y) for y in (0.0, 0.5, 1.0, 2.0, 3.5)]
    return _cases(list(zip(bases, exponents)) + [(2.0, 3.0), (0.5, -1.0)]) + _cases(edges, smooth=False)


def _relu_like(args):
    def sample(rng):
        points = _away_from_zero(rng, 0.05, 5) + [1.2, -1.2]
        return [c for a in args for c in _cases(points, a) + _cases([0.0, -0.0], a, smooth=False)]

    return sample


def _max(rng):
    distinct = [(x, y) for x, y in _uniform(rng, -5, 5, 2) if abs(x - y) > 1e-3]
    ties = [(v, v) for v in (0.0, 1.5, -2.0)]
    # Both orders of every pair, so each input is seen winning and losing.
    return _cases(distinct + [(y, x) for x, y in distinct] + [(2.0, -1.0)]) + _cases(ties, smooth=False)


def _split(rng):
    points = [p for (p,) in _uniform(rng, -5, 5, 1)] + [1.0]
    return [c for branch in (0, 1, 2) for c in _cases(points, branch)]


# Where each op is sampled: inside its domain, plus its edge points.
SAMPLERS = {
    "add": _binary(-5, 5),
    "sub": _binary(-5, 5),
    "mul": _binary(-5, 5),
    "div": _div,
    "neg": _unary(-5, 5),
    "pow": _pow,
    "powv": _powv,
    "exp": _unary(-10, 10, edges=(-800.0, 700.0)),
    "log": lambda rng: _cases([p for (p,) in _uniform(rng, 0.05, 10, 1)] + [1.0, 1e-3, 1e6]),
    "sigmoid": _unary(-10, 10, edges=(-1000.0, -40.0, 40.0, 1000.0)),
    "tanh": _unary(-5, 5, edges=(-1000.0, -20.0, 20.0, 1000.0)),
    "relu": _relu_like([None]),
    "leaky_relu": _relu_like([0.01, 0.2]),
    "elu": _relu_like([1.0, 0.5]),
    "softplus": _unary(-10, 10, edges=(-1000.0, -40.0, 40.0, 1000.0)),
    "max": _max,
    "split": _split,
}

# How a user reaches each op with Values: the same signature as the table's f.
CALL = {
    "add": lambda x, y, a: x + y,
    "sub": lambda x, y, a: x - y,
    "mul": lambda x, y, a: x * y,
    "div": lambda x, y, a: x / y,
    "neg": lambda x, a: -x,
    "pow": lambda x, k: x**k,
    "powv": lambda x, y, a: x**y,
    "exp": lambda x, a: x.exp(),
    "log": lambda x, a: x.log(),
    "sigmoid": lambda x, a: x.sigmoid(),
    "tanh": lambda x, a: x.tanh(),
    "relu": lambda x, a: x.relu(),
    "leaky_relu": lambda x, a: x.leaky_relu(a),
    "elu": lambda x, a: x.elu(a),
    "softplus": lambda x, a: x.softplus(),
    "max": lambda x, y, a: x.max(y),
    "split": lambda x, i: x.split(i + 2)[i],
}

# The same ops written independently with autograd.numpy. `where` takes the
# gradient of the branch it picks, which gives ReLU'(0) = 0 like gradflow;
# autograd's maximum splits a tie half and half, like gradflow.
REFERENCE = {
    "add": lambda x, y, a: x + y,
    "sub": lambda x, y, a: x - y,
    "mul": lambda x, y, a: x * y,
    "div": lambda x, y, a: x / y,
    "neg": lambda x, a: -x,
    "pow": lambda x, k: anp.power(x, k),
    "powv": lambda x, y, a: anp.power(x, y),
    "exp": lambda x, a: anp.exp(x),
    "log": lambda x, a: anp.log(x),
    "sigmoid": lambda x, a: anp.exp(-anp.logaddexp(0.0, -x)),
    "tanh": lambda x, a: anp.tanh(x),
    "relu": lambda x, a: anp.where(x > 0, x, 0.0),
    "leaky_relu": lambda x, a: anp.where(x > 0, x, a * x),
    "elu": lambda x, a: anp.where(x > 0, x, a * anp.expm1(anp.where(x > 0, 0.0, x))),
    "softplus": lambda x, a: anp.logaddexp(0.0, x),
    "max": lambda x, y, a: anp.maximum(x, y),
    "split": lambda x, i: x,
}


def cases(name):
    return SAMPLERS[name](_rng(name))


def close(actual, expected, rtol, atol=0.0):
    """Equal within tolerance; infinities must match exactly."""
    if math.isinf(expected) or math.isinf(actual):
        return actual == expected
    return abs(actual - expected) <= atol + rtol * abs(expected)


def engine_grads(name, case):
    """(output, gradient per input) of one op through Value and backward()."""
    leaves = [Value(x) for x in case.xs]
    out = CALL[name](*leaves, case.arg)
    assert out.op == name and out.arg == case.arg
    assert out.inputs == tuple(leaves)
    out.backward()
    return out.data, [leaf.grad for leaf in leaves]


def reference_grads(name, case):
    f = REFERENCE[name]
    # numpy floats, so that the infinite slope of 0 ** 0.5 is inf, not an error.
    xs = [np.float64(x) for x in case.xs]
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        value = float(f(*xs, case.arg))
        grads = [float(autograd.grad(f, i)(*xs, case.arg)) for i in range(len(xs))]
    return value, grads


def check_against_reference(name, case):
    want_value, want_grads = reference_grads(name, case)
    if not all(map(math.isfinite, want_grads)):
        # An infinite slope (0 ** 0.5): the table's rule says so, and backward
        # refuses it by name instead of leaving inf in a gradient.
        row = OPS[name]
        local = row.d(*case.xs, row.f(*case.xs, case.arg), case.arg)
        assert all(close(d, w, REFERENCE_RTOL) for d, w in zip(local, want_grads) if not math.isfinite(w))
        with pytest.raises(OverflowError, match=f"backward: at the {name} node"):
            engine_grads(name, case)
        return
    value, grads = engine_grads(name, case)
    assert close(value, want_value, 1e-12, 1e-300), (name, case, value, want_value)
    for i, (got, want) in enumerate(zip(grads, want_grads)):
        assert close(got, want, REFERENCE_RTOL, REFERENCE_ATOL), f"{name} d/dx{i} at {case}: {got} vs autograd {want}"


def check_against_differences(name, case):
    _, grads = engine_grads(name, case)
    # A step that shrinks with the smallest input keeps log(1e-3) as accurate as log(1).
    eps = 1e-6 * min([1.0] + [abs(x) for x in case.xs if x])
    numeric = numerical_grad(lambda *vs: CALL[name](*vs, case.arg), *case.xs, eps=eps)
    for i, (got, want) in enumerate(zip(grads, numeric)):
        assert abs(got - want) <= DIFFERENCE_TOL * max(1.0, abs(want)), f"{name} d/dx{i} at {case}: {got} vs {want}"


# --- the table and its test rows stay in step ------------------------------------


def test_every_op_has_a_sampler_a_call_and_a_reference():
    assert SAMPLERS.keys() == OPS.keys()
    assert CALL.keys() == OPS.keys()
    assert REFERENCE.keys() == OPS.keys()


@pytest.mark.parametrize("name", list(OPS))
def test_row_describes_itself(name):
    row = OPS[name]
    assert row.name == name
    assert row.arity in (1, 2)
    assert len(row.formula) == row.arity and all(text.strip() for text in row.formula)
    assert row.gate.strip() and row.symbol.strip()
    sampled = cases(name)
    assert sampled and all(len(c.xs) == row.arity for c in sampled)
    # An op with a constant parameter names it, and one without has none.
    assert bool(row.params) == any(c.arg is not None for c in sampled)
    with pytest.raises(dataclasses.FrozenInstanceError):  # the table is read, never written to
        row.d = row.d


def test_unary_and_binary_list_the_rows_by_arity():
    assert set(UNARY) | set(BINARY) == set(OPS) and not set(UNARY) & set(BINARY)
    assert all(OPS[name].arity == 1 for name in UNARY) and all(OPS[name].arity == 2 for name in BINARY)
    assert "relu" in UNARY and "add" in BINARY


# --- gradients ---------------------------------------------------------------------


@pytest.mark.parametrize("name", list(OPS))
def test_gradient_matches_autograd(name):
    for case in cases(name):
        check_against_reference(name, case)


@pytest.mark.parametrize("name", list(OPS))
def test_gradient_matches_central_differences(name):
    smooth = [c for c in cases(name) if c.smooth]
    assert len(smooth) >= 4
    for case in smooth:
        check_against_differences(name, case)


@contextmanager
def _skewed(row, factor):
    # The row object is shared by the engine's cached handles, so the rule is
    # patched on the row itself and restored afterwards.
    d = row.d
    object.__setattr__(row, "d", lambda *a: tuple(factor * v for v in d(*a)))
    try:
        yield
    finally:
        object.__setattr__(row, "d", d)


@pytest.mark.parametrize("name", list(OPS))
def test_a_rule_off_by_a_tenth_of_a_percent_is_caught(name):
    # The point where the smallest local derivative is largest, so 0.1% of it
    # is far above every tolerance.
    case = max(
        (c for c in cases(name) if c.smooth),
        key=lambda c: min(abs(g) for g in engine_grads(name, c)[1]),
    )
    f = lambda *vs: CALL[name](*vs, case.arg)  # noqa: E731
    assert gradcheck(f, *case.xs).ok
    with _skewed(OPS[name], 1.001):
        assert not gradcheck(f, *case.xs).ok
        with pytest.raises(AssertionError):
            check_against_reference(name, case)
        with pytest.raises(AssertionError):
            check_against_differences(name, case)
    check_against_reference(name, case)


# --- numpy twins ------------------------------------------------------------------


@pytest.mark.parametrize("name", list(OPS))
def test_numpy_twins_agree_with_scalar_rules(name):
    row = OPS[name]
    by_arg = {}
    for case in cases(name):
        by_arg.setdefault(case.arg, []).append(case.xs)
    for arg, points in by_arg.items():
        columns = [np.array(col, dtype=np.float64) for col in zip(*points)]
        outs = [row.f(*xs, arg) for xs in points]
        locals_ = [row.d(*xs, out, arg) for xs, out in zip(points, outs)]
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            vout = np.asarray(row.vf(*columns, arg))
            vlocal = row.vd(*columns, vout, arg)
        assert vout.shape == columns[0].shape and vout.dtype == np.float64
        # numpy's tanh and math.tanh may differ in the last bit, and 1 − t²
        # magnifies that near |t| = 1; 1e-12 still catches any wrong rule.
        np.testing.assert_allclose(vout, outs, rtol=1e-12, atol=1e-15, err_msg=f"{name} vf, arg={arg}")
        assert len(vlocal) == row.arity
        for i, column in enumerate(vlocal):
            column = np.broadcast_to(column, columns[0].shape)
            want = [d[i] for d in locals_]
            np.testing.assert_allclose(column, want, rtol=1e-12, atol=1e-15, err_msg=f"{name} vd[{i}], arg={arg}")


# The power rules' domain edges, for the twin check alone: a zero base under every kind of
# exponent, negative bases under integer ones, subnormal and huge bases (where x**k underflows
# or overflows). The scalar forward refuses some of them (0 ** -1, an overflow), so both
# derivative rules are given the numpy forward's output there, as a replay would.
_TINY_AND_HUGE = (5e-324, 1e-310, 1e-300, 1e-160, 1e300, 1.7976931348623157e308)
_INTEGER_K = (-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0)
_FRACTIONAL_K = (-1.5, -0.5, 0.5, 1.5, 2.7)
TWIN_EDGES = {
    "pow": [Case((x,), k, False) for k in _INTEGER_K for x in (0.0, -0.0, -2.0, -1.0, -0.5)
            + _TINY_AND_HUGE + tuple(-x for x in _TINY_AND_HUGE)]
    + [Case((x,), k, False) for k in _FRACTIONAL_K for x in (0.0, -0.0, 1.0) + _TINY_AND_HUGE],
    "powv": [Case((x, y), None, False) for x in (0.0, -0.0, 1.0, 2.0) + _TINY_AND_HUGE
             for y in (0.0, 1.0, 2.0, 0.5, -1.0, 1.5, -0.5, 3.0, -3.0)],
}


def _assert_same(got, want, what):
    """Equal element by element: within 1e-12 relative (no absolute slack, so a subnormal
    counts), nan where the other is nan, the same infinity, the same sign (zeros included)."""
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    nan = np.isnan(got) & np.isnan(want)
    same = nan | (np.isclose(got, want, rtol=1e-12, atol=0.0) & (np.signbit(got) == np.signbit(want)))
    assert same.all(), f"{what}: twin {got[~same].tolist()} vs scalar {want[~same].tolist()} at {np.flatnonzero(~same)}"


@pytest.mark.parametrize("name", sorted(TWIN_EDGES))
def test_numpy_twins_agree_with_scalar_rules_at_the_domain_edges(name):
    row = OPS[name]
    by_arg = {}
    for case in TWIN_EDGES[name]:
        by_arg.setdefault(case.arg, []).append(case.xs)
    for arg, points in by_arg.items():
        columns = [np.array(col, dtype=np.float64) for col in zip(*points)]
        with np.errstate(all="ignore"):
            vout = np.asarray(row.vf(*columns, arg))
            vlocal = row.vd(*columns, vout, arg)
        for xs, out in zip(points, vout.tolist()):
            try:
                want = row.f(*xs, arg)
            except (ArithmeticError, ValueError):
                continue  # refused by the scalar forward
            # + 0.0 makes every zero positive: numpy takes x ** 0.5 as a square root, which
            # keeps -0.0's sign where Python gives 0.0 (the only difference, and harmless).
            _assert_same([out + 0.0], [want + 0.0], f"{name} vf at {xs}, arg={arg}")
        assert len(vlocal) == row.arity
        for i, column in enumerate(vlocal):
            want = [row.d(*xs, out, arg)[i] for xs, out in zip(points, vout.tolist())]
            got = np.broadcast_to(column, vout.shape)
            _assert_same(got, want, f"{name} vd[{i}] at {points}, arg={arg}")


def test_twin_check_covers_edge_points():
    # The twins are checked on the kinks, not only where every rule agrees.
    assert Case((0.0,), None, False) in cases("relu")
    assert any(x == y for x, y in (c.xs for c in cases("max")))
    assert any(c.xs[0] == 0.0 for c in cases("pow")) and any(c.xs[0] == 0.0 for c in cases("powv"))


@pytest.mark.parametrize("name", list(OPS))
def test_backward_and_steps_agree_to_the_bit(name):
    # backward() writes the common rules out (engine/value.py); steps() reads
    # the table. Every sample point must give the very same gradients.
    for case in cases(name):
        runs = []
        for way in ("backward", "steps"):
            leaves = [Value(x) for x in case.xs]
            out = CALL[name](*leaves, case.arg)
            try:
                out.backward() if way == "backward" else list(out.steps())
            except OverflowError:  # an infinite slope (0 ** 0.5) is refused both ways
                runs.append("refused")
                continue
            runs.append([leaf.grad for leaf in leaves])
        assert runs[0] == runs[1], (name, case, runs)


@pytest.mark.parametrize("name", list(OPS))
def test_forward_equals_the_row_to_the_bit(name):
    # Value's operators write some forward rules out (relu, +, ×, **): they
    # must give exactly what the row's f gives.
    row = OPS[name]
    for case in cases(name):
        out = CALL[name](*[Value(x) for x in case.xs], case.arg)
        want = row.f(*case.xs, case.arg)
        assert out.data == want and math.copysign(1.0, out.data) == math.copysign(1.0, want), (name, case)
