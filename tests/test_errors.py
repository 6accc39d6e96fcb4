"""Bad input fails at the user's call, with a message that names the op, the
offending value or the type received, and leaves no half-built graph behind."""

from __future__ import annotations

import math
import re

import pytest

from engine import NOT_COMPUTED, DomainError, Value, gradcheck, numerical_grad


def raises(kind, *fragments):
    """pytest.raises that also wants every fragment in the message."""
    return pytest.raises(kind, match="(?s)" + "".join(f"(?=.*{re.escape(f)})" for f in fragments))


# --- non-numeric data --------------------------------------------------------------------


@pytest.mark.parametrize(
    "data, type_name",
    [("3", "str"), (None, "NoneType"), ([1], "list"), (1j, "complex"), ({"x": 1}, "dict"), (Value, "type")],
)
def test_value_needs_a_real_number(data, type_name):
    with raises(TypeError, "Value", type_name, "real number"):
        Value(data)


@pytest.mark.parametrize("symbol, apply", [
    ("+", lambda v, x: v + x),
    ("+", lambda v, x: x + v),
    ("-", lambda v, x: v - x),
    ("-", lambda v, x: x - v),
    ("*", lambda v, x: v * x),
    ("*", lambda v, x: x * v),
    ("/", lambda v, x: v / x),
    ("/", lambda v, x: x / v),
    ("**", lambda v, x: v**x),
    ("**", lambda v, x: x**v),
    ("max", lambda v, x: v.max(x)),
], ids=["v+s", "s+v", "v-s", "s-v", "v*s", "s*v", "v/s", "s/v", "v**s", "s**v", "v.max(s)"])
def test_operators_name_the_op_and_the_type(symbol, apply):
    # A str on either side: the error must come from gradflow, naming the op.
    with raises(TypeError, symbol, "str", "'a'"):
        apply(Value(2.0), "a")


@pytest.mark.parametrize("method", ["leaky_relu", "elu"])
def test_activation_parameters_must_be_numbers(method):
    with raises(TypeError, method, "alpha", "str"):
        getattr(Value(1.0), method)("big")


def test_labels_must_be_strings():
    with raises(TypeError, "label", "int"):
        Value(1.0, 7)


# --- values outside an op's domain ---------------------------------------------------------


@pytest.mark.parametrize("x", [0.0, -0.0, -2.5, -1e-300])
def test_log_of_a_non_positive_value(x):
    with raises(DomainError, "log", repr(x), "> 0"):
        Value(x).log()


def test_a_domain_error_is_also_a_value_error():
    with pytest.raises(ValueError):
        Value(-1.0).log()


@pytest.mark.parametrize("divide", [
    lambda: Value(3.0) / 0,
    lambda: Value(3.0) / 0.0,
    lambda: Value(3.0) / Value(0.0),
    lambda: 3 / Value(0.0),
], ids=["v/0", "v/0.0", "v/V(0)", "3/V(0)"])
def test_division_by_zero(divide):
    with raises(ZeroDivisionError, "div", "3.0 / 0.0", "non-zero"):
        divide()


def test_one_over_zero():
    with raises(ZeroDivisionError, "div", "1.0 / 0.0"):
        1 / Value(0)


@pytest.mark.parametrize("power, shown", [
    (lambda: Value(0.0) ** -1, "0 ** -1.0"),
    (lambda: Value(0.0) ** -0.5, "0 ** -0.5"),
    (lambda: Value(0.0) ** Value(-2.0), "0 ** -2.0"),
    (lambda: 0 ** Value(-1.0), "0 ** -1.0"),
], ids=["V(0)**-1", "V(0)**-0.5", "V(0)**V(-2)", "0**V(-1)"])
def test_zero_to_a_negative_power(power, shown):
    with raises(ZeroDivisionError, "pow", shown, ">= 0"):
        power()


@pytest.mark.parametrize("power", [
    lambda: Value(-2.0) ** Value(2.0),
    lambda: Value(-2.0) ** Value(0.5),
    lambda: (-2) ** Value(1.0),
], ids=["V(-2)**V(2)", "V(-2)**V(0.5)", "-2**V(1)"])
def test_negative_base_with_a_value_exponent(power):
    with raises(DomainError, "pow", "-2.0", "negative", ">= 0"):
        power()


def test_negative_base_with_a_fractional_constant_exponent():
    with raises(DomainError, "pow", "-8.0", "integer exponent"):
        Value(-8.0) ** (1 / 3)


@pytest.mark.parametrize("k", [math.inf, -math.inf, math.nan])
def test_negative_base_with_a_non_finite_exponent(k):
    with raises(DomainError, "pow", "-2.0", "integer exponent"):
        Value(-2.0) ** k


def test_negative_base_with_an_integer_exponent_is_fine():
    x = Value(-2.0)
    y = x**3
    y.backward()
    assert (y.data, x.grad) == (-8.0, 12.0)


@pytest.mark.parametrize("n", [0, -1, 2.5, "2", None, True])
def test_split_needs_a_positive_int(n):
    with raises(ValueError, "split", repr(n), "int >= 1"):
        Value(1.0).split(n)


@pytest.mark.parametrize("x", [709.8, 1000.0, 1e308])
def test_exp_overflow(x):
    with raises(OverflowError, "exp", repr(x), "709.78"):
        Value(x).exp()


def test_exp_just_below_the_limit_is_finite():
    assert Value(709.78).exp().data > 1e308


@pytest.mark.parametrize("power, shown", [
    (lambda: Value(1e200) ** 2, "1e+200 ** 2.0"),
    (lambda: Value(-1e200) ** 3, "-1e+200 ** 3.0"),
    (lambda: Value(10.0) ** Value(400.0), "10.0 ** 400.0"),
    (lambda: 2 ** Value(2000.0), "2.0 ** 2000.0"),
], ids=["big**2", "-big**3", "10**V(400)", "2**V(2000)"])
def test_power_overflow(power, shown):
    with raises(OverflowError, "pow", shown, "overflows"):
        power()


def test_backward_needs_a_number():
    y = Value(2.0) * 3
    with raises(TypeError, "backward", "str"):
        y.backward("one")
    with raises(TypeError, "backward", "NoneType"):
        list(y.steps(None))


@pytest.mark.parametrize("check", [gradcheck, numerical_grad], ids=lambda c: c.__name__)
def test_gradient_checks_name_themselves_and_what_f_returned(check):
    with raises(TypeError, check.__name__, "must return a Value", "float"):
        check(lambda x: x.data * 2, 1.0)
    with raises(TypeError, check.__name__, "str"):
        check(lambda x: x * 2, "1.0")


# --- no half-built graph ---------------------------------------------------------------------


def _graph():
    a, b = Value(1.5, "a"), Value(-0.5, "b")
    c = a * b + a.exp()
    return c, a, b


FAILING = [
    (DomainError, lambda c, a, b: (b * 2).log()),
    (DomainError, lambda c, a, b: (c + 100).log() + b.log()),
    (ZeroDivisionError, lambda c, a, b: c / (a - a)),
    (ZeroDivisionError, lambda c, a, b: (b - b) ** -1),
    (DomainError, lambda c, a, b: b ** c),
    (OverflowError, lambda c, a, b: (c * 1000).exp()),
    (OverflowError, lambda c, a, b: (a * 1e200) ** 2),
    (TypeError, lambda c, a, b: c + "a"),
    (ValueError, lambda c, a, b: c.split(0)),
]


@pytest.mark.parametrize("kind, fail", FAILING, ids=["log", "log-late", "div", "pow", "powv", "exp", "pow-big", "type", "split"])
def test_a_failed_op_leaves_the_graph_intact(kind, fail):
    c, a, b = _graph()
    before = c.topo()
    with pytest.raises(kind):
        fail(c, a, b)
    # Nothing the failed call built is reachable from the graph, and the
    # graph's gradients are those of a graph that never saw the failure.
    assert c.topo() == before
    assert all(v.grad is NOT_COMPUTED for v in before)
    c.backward()
    fresh, fa, fb = _graph()
    fresh.backward()
    assert (a.grad, b.grad, c.data) == (fa.grad, fb.grad, fresh.data)


def test_a_failed_op_after_backward_leaves_gradients_alone():
    c, a, b = _graph()
    c.backward()
    grads = [v.grad for v in c.topo()]
    with pytest.raises(DomainError):
        (a - 2).log()
    assert [v.grad for v in c.topo()] == grads


def test_a_failed_in_place_update_keeps_the_old_node():
    c, a, b = _graph()
    old = c
    with pytest.raises(ZeroDivisionError):
        c /= b - b
    assert c is old
    c.backward()
    assert a.grad == pytest.approx(-0.5 + math.exp(1.5), rel=1e-15)


def test_a_rejected_backward_leaves_every_gradient_as_it_was():
    c, a, b = _graph()
    c.backward()
    grads = [v.grad for v in c.topo()]
    with pytest.raises(TypeError):
        c.backward("x")
    assert [v.grad for v in c.topo()] == grads
