"""engine/fast.py is ``Value.steps()`` written out for speed: the two agree, node for node and rule by rule.

Both run the same sequence of float operations, so their gradients are equal
exactly, not to a tolerance. With a row's rule patched, the fast pass must
follow the table too (not its written-out copy of the old rule).
"""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings

from engine import NOT_COMPUTED, OPS, Value
from test_random_graphs import engine_run, programs


def _grads(out):
    return [(v.grad, v.passes) for v in out.topo()]


def _by_steps(program, seed=1.0):
    out, _ = engine_run(program)
    for _ in out.steps(seed):
        pass
    return _grads(out)


def _by_backward(program, seed=1.0):
    out, _ = engine_run(program)
    out.backward(seed)
    return _grads(out)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs())
def test_backward_gives_exactly_what_steps_gives(program):
    assert _by_backward(program) == _by_steps(program)


def _bent(d):
    # Another rule, defined wherever the table's is: any copy of the old rule would now disagree.
    return lambda *args: tuple(2.0 * x + 0.25 for x in d(*args))


@pytest.mark.parametrize("name", list(OPS))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(program=programs())
def test_backward_follows_a_patched_rule_as_steps_does(name, program):
    row = OPS[name]
    d = row.d
    object.__setattr__(row, "d", _bent(d))
    try:
        assert _by_backward(program) == _by_steps(program)
    finally:
        object.__setattr__(row, "d", d)


def test_a_second_pass_adds_to_leaves_and_replaces_computed_nodes_in_both():
    for run in (lambda y: y.backward(), lambda y: list(y.steps())):
        w = Value(3.0, "w")
        h = w * w
        y = h + w
        run(y)
        run(y)
        assert (w.grad, w.passes, h.grad, h.passes, y.grad) == (14.0, 2, 1.0, 1, 1.0)


def test_a_failed_fast_pass_changes_nothing_and_steps_names_the_node():
    a, b = Value(3.0, "a"), Value(1e-200, "b")
    y = a / b  # d/db = −a/b² overflows
    with pytest.raises(OverflowError, match=r"backward: at the div node .* no gradient was changed"):
        y.backward()
    assert all(v.grad is NOT_COMPUTED and v.passes == 0 for v in y.topo())
    assert math.isfinite(y.data)


def test_a_failed_pass_puts_back_the_grads_of_first_and_second_inputs_alike():
    # The failing pass must restore what an earlier pass left on every computed node,
    # whichever input slot it sits in (a node reached as b is saved like one reached as a).
    a, b = Value(3.0, "a"), Value(2.0, "b")
    p, q = a * b, b.exp()
    y = (p + q) * a
    y.backward()
    before = [(v, v.grad, v.passes) for v in y.topo()]
    with pytest.raises(OverflowError):
        y.backward(1e308)
    assert all(v.grad == g and v.passes == n for v, g, n in before)
