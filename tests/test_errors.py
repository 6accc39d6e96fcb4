"""Bad input fails at the user's call, with a message that names the op, the
offending value or the type received, and leaves no half-built graph behind."""

from __future__ import annotations

import math
import re

import pytest

from engine import NOT_COMPUTED, DomainError, Leaf, Value, gradcheck, numerical_grad


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


@pytest.mark.parametrize("give", [
    lambda: Value(Value(2.0)),  # a leaf
    lambda: Value(Value(2.0) * 3),  # a node
    lambda: Value(1.0).leaky_relu(Value(0.1)),
    lambda: Value(1.0).elu(Value(1.0) + 0),
], ids=["Value(leaf)", "Value(node)", "leaky_relu(alpha=leaf)", "elu(alpha=node)"])
def test_a_value_where_a_number_belongs_is_called_a_value(give):
    # Leaf and Node are how the engine is built; to a student both are Values.
    with pytest.raises(TypeError, match=r"got a Value, Value\(data=.*write \.data") as e:
        give()
    assert "Leaf" not in str(e.value) and "Node" not in str(e.value)


def test_only_values_are_called_values():
    from engine import Step
    from engine.args import type_name

    class Param(Leaf):
        __slots__ = ()

    assert type_name(Param(1.0)) == "Value"  # a student's own kind of leaf is a Value too
    assert type_name(Step(None, 1.0, (), ())) == "Step"  # engine.value's other classes keep their names
    assert (type_name(1), type_name("x"), type_name(None)) == ("int", "str", "NoneType")


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


def test_exp_is_finite_up_to_the_exact_limit():
    # 709.782712893384 is the largest float whose exp is finite (log of the largest float):
    # exp works there, gradient included, and refuses the very next float.
    x = Value(709.782712893384)
    y = x.exp()
    y.backward()
    assert y.data == x.grad == math.exp(709.782712893384)
    with raises(OverflowError, "exp", "709.78"):
        Value(math.nextafter(709.782712893384, math.inf)).exp()


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


# --- backward is all-or-nothing (issue 13) ------------------------------------------------------


def _snapshot(root):
    return [(v, v.grad, v.passes) for v in root.topo()]


def _unchanged(snapshot):
    # The very same objects: NOT_COMPUTED stays NOT_COMPUTED, not just 0.0.
    return all(v.grad is g and v.passes == n for v, g, n in snapshot)


def test_a_tiny_divisor_backpropagates_the_numerator_and_names_the_divisor():
    # −x/(y·y) underflowed to a bare ZeroDivisionError and left a.grad == 6.0
    # behind. Now a's gradient is finite; b's, −3/1e-400, is not, so the pass
    # is refused by name and changes nothing.
    a, b = Value(3.0, "a"), Value(1e-200, "b")
    y = a / b + a * a
    before = _snapshot(y)
    with raises(OverflowError, "backward", "div", "3.0", "1e-200", "no gradient was changed"):
        y.backward()
    assert _unchanged(before)
    z = a / Value(1e-200, kind="const") + a * a  # a constant's gradient is nobody's business
    z.backward()
    assert a.grad == 1e200 + 6.0


def test_a_constant_divisor_backpropagates_finitely():
    for way in ("backward", "steps"):  # the constant's own gradient, −3/1e-340, is nobody's business
        a = Value(3.0, "a")
        y = a / 1e-170 + a * a
        y.backward() if way == "backward" else list(y.steps())
        assert a.grad == pytest.approx(1e170)
        assert math.isfinite(a.grad)


def test_the_division_rule_does_not_underflow():
    from engine import OPS

    np = pytest.importorskip("numpy")
    # y·y = 1e-340 underflows to 0; −x/y/y is −3e240, a normal float.
    assert OPS["div"].d(3e-100, 1e-170, 3e70, None) == (1e170, pytest.approx(-3e240))
    with np.errstate(all="raise"):
        d = OPS["div"].vd(np.array([3e-100]), np.array([1e-170]), np.array([3e70]), None)
    assert d[1][0] == pytest.approx(-3e240)


@pytest.mark.parametrize("build, op", [
    (lambda: Value(5e-324, "x").log(), "log"),
    (lambda: Value(1e-300, "x") ** -1, "pow"),
    (lambda: Value(1e-150, "x") ** Value(-2.0), "powv"),
    (lambda: 1e250 * (Value(1e200, "x") * Value(1e-300, "y")), "mul"),  # d/dy = 1e250 · 1e200
], ids=["log(5e-324)", "1e-300**-1", "1e-150**V(-2)", "grad of a product"])
def test_a_gradient_that_overflows_is_refused_by_name(build, op):
    y = build()
    with raises(OverflowError, "backward", op, "no gradient was changed"):
        y.backward()
    assert all(v.grad is NOT_COMPUTED and v.passes == 0 for v in y.topo())


def test_a_failed_second_pass_leaves_the_first_pass_in_place():
    x = Value(2.0, "x")
    good = x * 3
    good.backward()
    bad = x / Value(1e-200, "tiny")  # d/d tiny = −2/1e-400 overflows
    before = _snapshot(good) + _snapshot(bad)
    with raises(OverflowError, "div", "tiny"):
        bad.backward()
    assert _unchanged(before)
    assert x.grad == 3.0 and x.passes == 1


def test_a_rule_that_raises_leaves_every_gradient_as_it_was_and_names_the_node():
    from engine import OPS

    x = Value(0.5, "x")
    h = (x * 2).sigmoid()
    h.label = "hidden"
    y = h * x + x
    y.backward()
    before = _snapshot(y)
    row, d = OPS["sigmoid"], OPS["sigmoid"].d

    def broken(*args):
        raise ZeroDivisionError("a broken rule")

    object.__setattr__(row, "d", broken)
    try:
        for run in (lambda: y.backward(), lambda: list(y.steps())):
            with raises(ZeroDivisionError, "backward", "sigmoid", "hidden", "1.0", "a broken rule",
                        "no gradient was changed"):
                run()
            assert _unchanged(before)
    finally:
        object.__setattr__(row, "d", d)
    y.backward()
    assert x.passes == 2


def test_a_message_shows_the_ops_constant_parameter_by_name():
    with raises(OverflowError, "leaky_relu(-1e+308, alpha=10000000000.0) overflows a float"):
        Value(-1e308).leaky_relu(1e10)
    with raises(OverflowError, "at the pow node = pow(0.0, k=0.5) = 0.0, "
                "its local derivative d/d(input 1) = k·x^(k−1) is inf"):
        (Value(0.0) ** 0.5).backward()


def test_the_message_shows_the_gradient_the_failing_node_received():
    # The replay that finds the node starts from the seed alone (not the root's gradient
    # from an earlier pass), and gives each node what its users sent it.
    x = Value(1.0, "x")
    y = x * 1e300
    y.backward()
    with raises(OverflowError, "at the mul node", "the gradient 10000000000.0 × 1e+300 sent to input 1 ('x') gives inf"):
        y.backward(1e10)
    a = Value(1e-10, "a")
    z = (a * 1e308) * 1e9
    with raises(OverflowError, "the gradient 1000000000.0 × 1e+308 sent to input 1 ('a') gives inf"):
        z.backward()


def test_a_leaf_gradient_that_overflows_across_passes_is_refused_by_name():
    # 1e308 from the first pass plus 1e308 from the second is inf, though each pass's is finite.
    w = Value(1.0, "w")
    y = w * 1e308
    y.backward()
    for run in (lambda: y.backward(), lambda: list(y.steps())):
        with raises(OverflowError, "at the mul node", "the gradient 1.0 × 1e+308 sent to input 1 ('w') gives inf"):
            run()
        assert (w.grad, w.passes) == (1e308, 1)


def test_the_node_named_is_the_failing_one_not_a_constant_before_it():
    # The replay meets the division first, whose constant's gradient (−1/1e-340) overflows:
    # a constant's gradient is nobody's business, so the pow is the node named.
    w, x = Value(0.0, "w"), Value(1.0, "x")
    z = w**0.5 + x / 1e-170
    with raises(OverflowError, "at the pow node", "k·x^(k−1) is inf"):
        z.backward()


def test_an_error_the_replay_cannot_reproduce_is_raised_as_it_was():
    # A rule that fails once (a flaky row): the replay that names the node finds nothing,
    # so backward raises the rule's own error, every gradient put back.
    from engine import OPS

    x = Value(1.5, "x")
    y = x.exp() * x
    row, d = OPS["exp"], OPS["exp"].d
    calls = []

    def flaky(*args):
        calls.append(args)
        if len(calls) == 1:
            raise ZeroDivisionError("flaky")
        return d(*args)

    object.__setattr__(row, "d", flaky)
    try:
        with pytest.raises(ZeroDivisionError, match="^flaky$"):
            y.backward()
    finally:
        object.__setattr__(row, "d", d)
    assert len(calls) == 2
    assert all(v.grad is NOT_COMPUTED and v.passes == 0 for v in y.topo())


def test_steps_that_overflow_put_back_every_step_already_taken():
    a, b = Value(3.0, "a"), Value(1e-200, "b")
    y = a / b + a * a
    taken = []
    with raises(OverflowError, "div"):
        for s in y.steps():
            taken.append(s)
    assert taken  # the add and the mul went through before the div failed
    assert all(v.grad is NOT_COMPUTED and v.passes == 0 for v in y.topo())


def test_an_interrupted_backward_changes_nothing(monkeypatch):
    from engine import OPS

    x = Value(1.5, "x")
    y = x.exp() * x
    row, d = OPS["exp"], OPS["exp"].d

    def interrupt(*args):
        raise KeyboardInterrupt

    object.__setattr__(row, "d", interrupt)
    try:
        with pytest.raises(KeyboardInterrupt):
            y.backward()
    finally:
        object.__setattr__(row, "d", d)
    assert all(v.grad is NOT_COMPUTED and v.passes == 0 for v in y.topo())


# --- no silent inf or nan (issue 13) ----------------------------------------------------------


@pytest.mark.parametrize("x", [math.nan, math.inf, -math.inf], ids=["nan", "inf", "-inf"])
def test_value_refuses_non_finite_numbers(x):
    with raises(ValueError, "Value", repr(x), "finite", "allow_nonfinite"):
        Value(x)


@pytest.mark.parametrize("x", [True, False])
def test_value_refuses_bool(x):
    with raises(TypeError, "Value", "bool", repr(x)):
        Value(x)


def test_a_huge_int_names_value():
    with raises(OverflowError, "Value", "int", "1.8e308"):
        Value(10**400)


def test_numpy_scalars_become_plain_floats():
    np = pytest.importorskip("numpy")
    x = Value(np.float64(2.0))
    assert type(x.data) is float
    assert type((x * np.float32(3.0)).inputs[1].data) is float
    with raises(OverflowError, "pow", "2.0 ** 2000.0"):
        Value(np.float64(2)) ** 2000
    with raises(TypeError, "bool", "write 1.0 or 0.0"):
        Value(np.bool_(True))


@pytest.mark.parametrize("make, op, shown", [
    (lambda: Value(1e308) * 10, "mul", "mul(1e+308, 10.0)"),
    (lambda: 10 * Value(1e308), "mul", "mul(10.0, 1e+308)"),
    (lambda: Value(1e308) + 1e308, "add", "add(1e+308, 1e+308)"),
    (lambda: Value(-1e308) - 1e308, "sub", "sub(-1e+308, 1e+308)"),
    (lambda: Value(1e308) / 1e-10, "div", "div(1e+308, 1e-10)"),
    (lambda: Value(1e308) * Value(-1e308), "mul", "mul(1e+308, -1e+308)"),
], ids=["v*10", "10*v", "v+big", "v-big", "v/tiny", "v*v"])
def test_an_op_that_overflows_raises_naming_the_op_and_its_inputs(make, op, shown):
    with raises(OverflowError, op, shown, "overflows"):
        make()


def test_backward_refuses_a_non_finite_seed():
    y = Value(2.0) * 3
    for seed in (math.nan, math.inf, -math.inf):
        with raises(ValueError, "backward grad", "finite"):
            y.backward(seed)
        with raises(ValueError, "backward grad", "finite"):
            list(y.steps(seed))
    assert all(v.grad is NOT_COMPUTED for v in y.topo())


@pytest.mark.parametrize("x", [math.inf, -math.inf, math.nan], ids=["inf", "-inf", "nan"])
def test_a_non_finite_number_is_refused_as_the_operand_it_is(x):
    # Named where it meets a Value, not as a node's input whose .data was set by hand.
    with raises(ValueError, "+ with a Value needs a finite number", repr(x)):
        Value(1.0) + x
    with raises(ValueError, "max with a Value needs a finite number", repr(x)):
        Value(1.0).max(x)


def test_max_with_nan_is_refused():
    with raises(ValueError, "max", "nan", "finite"):
        Value(1.0).max(math.nan)
    with raises(ValueError, "finite"):
        Value(math.nan).max(1.0)


@pytest.mark.parametrize("apply, op", [
    (lambda x: x * 2, "mul"), (lambda x: x + x, "add"), (lambda x: x.relu(), "relu"), (lambda x: x**2, "pow"),
    (lambda x: x.exp(), "exp"),
], ids=["mul", "add", "relu", "pow", "exp"])
def test_data_set_to_inf_by_hand_is_named_at_the_next_op(apply, op):
    x = Value(1.0, "x")
    x.data = math.inf
    with pytest.raises((ValueError, OverflowError), match=f"{op}.*inf"):
        apply(x)


def test_allow_nonfinite_lets_a_notebook_show_overflow_inside_the_block_only():
    with Value.allow_nonfinite():
        y = Value(1e308) * 10
        z = Value(math.nan) + 1
        w = Value(5e-324, "w")
        w.log().backward()
    assert y.data == math.inf and math.isnan(z.data) and w.grad == math.inf
    with raises(OverflowError, "mul"):
        Value(1e308) * 10
    with raises(ValueError, "finite"):
        Value(math.inf)


def test_allow_nonfinite_is_per_thread():
    import threading

    seen = []

    def other():
        try:
            Value(math.inf)
        except ValueError:
            seen.append("refused")

    with Value.allow_nonfinite():
        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
    assert seen == ["refused"]
