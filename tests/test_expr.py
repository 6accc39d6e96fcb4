"""The expression language: what it accepts, what it builds, what it refuses."""

import math

import pytest
from hypothesis import given, settings, strategies as st

from engine import OPS, Value, gradcheck
from engine.expr import FUNCTIONS, MAX_DEPTH, MAX_LENGTH, Expr, ExprError, check_name, names, parse


def test_builds_the_graph_the_operators_would():
    x = Value(2.0, "x")
    y = parse("-x**2 + 3*x - 1/x", {"x": x})
    y.backward()
    assert y.data == pytest.approx(-4 + 6 - 0.5)
    assert x.grad == pytest.approx(-2 * 2 + 3 + 1 / 4)


def test_precedence_and_associativity_follow_python():
    cases = {"2 - 3 - 4": -5, "2 ** 3 ** 2": 512, "-2 ** 2": -4, "2 ** -1": 0.5, "8 / 4 / 2": 1,
             "1 + 2 * 3 ** 2": 19, "--3": 3, "+-+3": -3, "(1 + 2) * 3": 9, "2 * -x": -4}
    for text, expected in cases.items():
        assert parse(text, {"x": 2}).data == expected, text


def test_a_name_is_one_leaf_shared_by_every_use():
    y = parse("x * x", {"x": 3.0})
    a, b = y.inputs
    assert a is b and a.label == "x" and a.kind == "input"
    y.backward()
    assert a.grad == 6.0


def test_every_function_of_the_table_is_callable_by_name():
    assert set(FUNCTIONS) == {n for n, op in OPS.items() if hasattr(Value, n) and n != "split"}
    for name, arity in FUNCTIONS.items():
        args = ", ".join(["x", "y"][:arity])
        y = parse(f"{name}({args})", {"x": 0.7, "y": 0.2})
        assert y.op == name
        f = lambda x, y, name=name, arity=arity: getattr(x, name)(*[y][: arity - 1])
        assert gradcheck(f, 0.7, 0.2, tol=1e-5)


def test_alpha_is_an_optional_constant():
    assert parse("leaky_relu(x, 0.2)", {"x": -1.0}).data == pytest.approx(-0.2)
    assert parse("leaky_relu(x)", {"x": -1.0}).data == pytest.approx(-0.01)
    assert parse("elu(x, 2)", {"x": -1.0}).arg == 2.0
    with pytest.raises(ExprError, match="alpha .* must be a number"):
        parse("elu(x, x)", {"x": -1.0})
    # The signature shown is one the language accepts: alpha is positional.
    with pytest.raises(ExprError, match=r"column 20: .*keyword arguments.*leaky_relu\(x\[, alpha\]\)") as info:
        parse("leaky_relu(x, alpha=0.2)", {"x": -1.0})
    assert "alpha=" not in str(info.value)
    with pytest.raises(ExprError, match=r"elu takes 1 or 2 arguments: elu\(x\[, alpha\]\); got 3"):
        parse("elu(x, 1, 2)", {"x": -1.0})


def test_constant_exponents_fold_into_pow_and_value_exponents_make_powv():
    assert parse("x ** -(1/2)", {"x": 4.0}).op == "pow"
    assert parse("x ** y", {"x": 4.0, "y": 0.5}).op == "powv"
    assert parse("2 ** x", {"x": 3.0}).data == 8.0


def test_values_can_be_given_as_values_or_numbers():
    w = Value(1.5, "w", kind="param")
    y = parse("w * x", {"w": w, "x": 2})
    assert y.inputs[0] is w and y.inputs[1].label == "x"
    # Any real number will do, numpy's included (as Value itself accepts).
    import numpy as np
    assert parse("x * y", {"x": np.int64(3), "y": np.float32(0.5)}).data == 1.5


@pytest.mark.parametrize("values", [[1.0], None, "x"])
def test_values_must_be_a_mapping(values):
    with pytest.raises(TypeError, match=f"mapping from names .*got {type(values).__name__}"):
        parse("x + 1", values)


def test_names_in_order_of_first_use_without_functions():
    assert names("sigmoid(w1*x1 + w2*x2 + b) - t * w1") == ("w1", "x1", "w2", "x2", "b", "t")
    assert Expr("3 + 4").names == ()


def test_texts_maps_each_new_node_to_its_source():
    texts = {}
    Expr("relu(w*x + b)").evaluate({"w": 1, "x": 2, "b": 1}, texts)
    assert sorted(texts.values()) == ["relu(w*x + b)", "w*x", "w*x + b"]


@pytest.mark.parametrize(
    "text, column, words",
    [
        ("x.real", 2, "attribute access"),
        ("__import__('os')", 12, "strings"),
        ("import os", 1, "keyword"),
        ("[x for x in y]", 1, "lists"),
        ("(x for x in y)", 4, "keyword"),
        ("lambda: 1", 1, "keyword"),
        ("open(x)", 1, "unknown function 'open'"),
        ("x[0]", 2, "subscripts"),
        ("x < 1", 3, "comparisons"),
        ("x if x else 1", 3, "keyword"),
        ("{1: 2}", 1, "dicts"),
        ("x ^ 2", 3, "write \\*\\*"),
        ("2x", 2, "2\\*x"),
        ("(x", 3, "'\\)' to close"),
        ("x)", 2, "no matching"),
        ("x +", 4, "expected a number"),
        ("a, b", 2, "between a function's arguments"),
        ("max(x)", 1, "max takes 2 arguments"),
        ("sigmoid(x, y)", 1, "sigmoid takes 1 argument"),
        ("split(x)", 1, "unknown function 'split'"),
        ("x = 1", 3, "assignments"),
        ("x y", 3, "expected an operator"),
        ("1..2", 3, "not a number"),
        ("١٢", 1, "not allowed"),
    ],
)
def test_anything_else_is_refused_with_its_column(text, column, words):
    with pytest.raises(ExprError, match=words) as info:
        Expr(text)
    assert info.value.column == column
    assert f"column {column}" in str(info.value)


def test_the_refusal_says_what_is_allowed():
    with pytest.raises(ExprError) as info:
        Expr("x.y")
    for fn in FUNCTIONS:
        assert fn in str(info.value)
    assert "+ - * / **" in str(info.value)


def test_unknown_names_and_domain_errors_name_the_place():
    with pytest.raises(ExprError, match="unknown name 'q'.*x") as info:
        parse("x + q", {"x": 1})
    assert info.value.column == 5
    with pytest.raises(ExprError, match="log: the input must be > 0") as info:
        parse("2 * log(x - 3)", {"x": 1})
    assert info.value.column == 5
    with pytest.raises(ExprError, match="division by zero"):
        parse("1 / (x - 1)", {"x": 1})
    with pytest.raises(ExprError, match="empty"):
        Expr("   ")


def test_huge_and_deep_inputs_fail_fast_with_a_clear_message():
    with pytest.raises(ExprError, match="limit is"):
        Expr("x+" * 5_000_000 + "x")  # 10 MB
    with pytest.raises(ExprError, match="limit is|deeper than"):
        Expr("(" * 10_000 + "x" + ")" * 10_000)
    with pytest.raises(ExprError, match=f"deeper than {MAX_DEPTH}") as info:
        Expr("(" * 4000 + "x" + ")" * 4000)
    assert info.value.column == MAX_DEPTH + 1
    with pytest.raises(ExprError, match=f"deeper than {MAX_DEPTH}"):
        Expr("exp(" * 1000 + "x" + ")" * 1000)
    with pytest.raises(ExprError, match=f"deeper than {MAX_DEPTH}"):
        Expr("x**" * 2000 + "x")
    # Long flat chains and long runs of signs are fine: they need no recursion.
    assert parse("-" * 9_000 + "x", {"x": 1.0}).data == 1.0
    assert parse("+".join(["x"] * 3000), {"x": 1.0}).data == 3000.0
    assert len("+".join(["x"] * 3000)) < MAX_LENGTH


def test_nesting_at_the_limit_works_even_from_a_deep_call_stack():
    def deep(n):
        return deep(n - 1) if n else parse("(" * MAX_DEPTH + "x" + ")" * MAX_DEPTH, {"x": 1.0})

    assert deep(300).data == 1.0


def test_names_that_cannot_be_variables():
    assert check_name("δ3") is None
    assert "keyword" in check_name("lambda")
    assert "function" in check_name("sigmoid")
    assert "not a valid name" in check_name("dy/dw")


def test_non_finite_numbers_and_bad_values_are_refused():
    with pytest.raises(ExprError, match="too large"):
        Expr("1e400")
    with pytest.raises(ExprError, match="must be a number"):
        parse("x", {"x": "2"})
    with pytest.raises(ValueError, match="finite"):  # every Value is finite (issue 13)
        parse("x", {"x": math.inf})


# --- random expressions: the parsed graph equals the one built with Value's operators -----------

_SAFE = ["sigmoid", "tanh", "relu", "softplus", "elu", "leaky_relu"]  # total on every real input


def _trees():
    leaf = st.sampled_from(["a", "b", "c"]) | st.sampled_from([0.5, 2, 3])

    def grow(inner):
        return (st.tuples(st.sampled_from(["+", "-", "*"]), inner, inner)
                | st.tuples(st.sampled_from(_SAFE), inner)
                | st.tuples(st.just("max"), inner, inner)
                | st.tuples(st.just("neg"), inner))

    return st.recursive(leaf, grow, max_leaves=12)


def _render(tree, space):
    if not isinstance(tree, tuple):
        return str(tree)
    op, *args = tree
    parts = [_render(a, space) for a in args]
    if op == "neg":
        return f"-({parts[0]})"
    if op in ("+", "-", "*"):
        return f"({parts[0]}{space}{op}{space}{parts[1]})"
    return f"{op}({f',{space}'.join(parts)})"


def _build(tree, leaves):
    if not isinstance(tree, tuple):
        return leaves.get(tree, tree)
    op, *args = tree
    xs = [_build(a, leaves) for a in args]
    if op == "neg":
        return -xs[0]
    if op == "+":
        return xs[0] + xs[1]
    if op == "-":
        return xs[0] - xs[1]
    if op == "*":
        return xs[0] * xs[1]
    first = xs[0] if isinstance(xs[0], Value) else Value(float(xs[0]), kind="const")
    return getattr(first, op)(*xs[1:])


@settings(max_examples=150, deadline=None)
@given(_trees(), st.sampled_from(["", " ", "  "]), st.floats(-3, 3), st.floats(-3, 3), st.floats(-3, 3))
def test_parsed_graphs_match_graphs_built_with_operators(tree, space, a, b, c):
    mine = {k: Value(v, k) for k, v in zip("abc", (a, b, c))}
    theirs = {k: Value(v, k) for k, v in zip("abc", (a, b, c))}
    parsed = parse(_render(tree, space), mine)
    built = _build(tree, theirs)
    built = built if isinstance(built, Value) else Value(float(built), kind="const")
    assert parsed.data == pytest.approx(built.data, rel=1e-12, abs=1e-12)
    parsed.backward()
    built.backward()
    for k in "abc":
        assert float(mine[k].grad) == pytest.approx(float(theirs[k].grad), rel=1e-9, abs=1e-12)
