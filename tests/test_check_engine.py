"""check_engine on students' engines: a correct one in micrograd's style passes, micrograd 0.1.0 itself passes,
and each typical bug is diagnosed with its own message, at the check that is there to catch it (remove the check,
and its test fails). Hostile classes (an endless loop, an endless allocation) are stopped within their limits.
"""

from __future__ import annotations

import importlib.util
import math
import time
from pathlib import Path

import pytest

from engine import Value, check_engine
from engine.student.report import EngineReport

ROOT = Path(__file__).resolve().parents[1]
FAST = dict(time_limit=1.0, memory_limit=128)


# --- a correct student engine, written the way micrograd's lecture writes it -------------------------


class Good:
    def __init__(self, data, _children=(), _op=""):
        self.data = data
        self.grad = 0
        self._backward = lambda: None
        self._prev = set(_children)
        self._op = _op

    def __add__(self, other):
        other = other if isinstance(other, Good) else type(self)(other)
        out = type(self)(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Good) else type(self)(other)
        out = type(self)(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = _backward
        return out

    def __pow__(self, k):
        out = type(self)(self.data ** k, (self,), f"**{k}")

        def _backward():
            self.grad += k * self.data ** (k - 1) * out.grad
        out._backward = _backward
        return out

    def relu(self):
        out = type(self)(0 if self.data < 0 else self.data, (self,), "ReLU")

        def _backward():
            self.grad += (out.data > 0) * out.grad
        out._backward = _backward
        return out

    def tanh(self):
        t = math.tanh(self.data)
        out = type(self)(t, (self,), "tanh")

        def _backward():
            self.grad += (1 - t ** 2) * out.grad
        out._backward = _backward
        return out

    def exp(self):
        out = type(self)(math.exp(self.data), (self,), "exp")

        def _backward():
            self.grad += out.data * out.grad
        out._backward = _backward
        return out

    def backward(self):
        topo, visited = [], set()

        def build(v):
            if v not in visited:
                visited.add(v)
                for child in v._prev:
                    build(child)
                topo.append(v)
        build(self)
        self.grad = 1
        for v in reversed(topo):
            v._backward()

    def __neg__(self):
        return self * -1

    def __radd__(self, other):
        return self + other

    def __sub__(self, other):
        return self + (-other)

    def __rsub__(self, other):
        return other + (-self)

    def __rmul__(self, other):
        return self * other

    def __truediv__(self, other):
        return self * other ** -1

    def __rtruediv__(self, other):
        return other * self ** -1


class Iterative(Good):
    """The same, with the topological sort on a list used as a stack: any depth works."""

    def backward(self):
        topo, seen, stack = [], set(), [(self, False)]
        while stack:
            v, done = stack.pop()
            if done:
                topo.append(v)
            elif v not in seen:
                seen.add(v)
                stack.append((v, True))
                stack.extend((c, False) for c in v._prev)
        self.grad = 1
        for v in reversed(topo):
            v._backward()


# --- the typical bugs, one class each ---------------------------------------------------------------


class MulUpstream(Good):
    """`__mul__` sends each input the upstream gradient unchanged (the rule of +)."""

    def __mul__(self, other):
        other = other if isinstance(other, Good) else type(self)(other)
        out = type(self)(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out


class MulOwnValue(Good):
    """`__mul__` multiplies by each input's own value."""

    def __mul__(self, other):
        other = other if isinstance(other, Good) else type(self)(other)
        out = type(self)(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += self.data * out.grad
            other.grad += other.data * out.grad
        out._backward = _backward
        return out


class Assigns(Good):
    """`=` instead of `+=` in every `_backward`."""

    def __add__(self, other):
        other = other if isinstance(other, Good) else type(self)(other)
        out = type(self)(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad = out.grad
            other.grad = out.grad
        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Good) else type(self)(other)
        out = type(self)(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad = other.data * out.grad
            other.grad = self.data * out.grad
        out._backward = _backward
        return out


class ZeroesInputs(Good):
    """Each step zeroes its inputs' gradients before adding to them: fine for a * a, wrong for a shared leaf."""

    def backward(self):
        topo, visited = [], set()

        def build(v):
            if v not in visited:
                visited.add(v)
                for child in v._prev:
                    build(child)
                topo.append(v)
        build(self)
        self.grad = 1
        for v in reversed(topo):
            for child in v._prev:
                child.grad = 0
            v._backward()


class DepthFirst(Good):
    """Nodes listed as a depth-first walk meets them (pre-order), not in topological order."""

    def backward(self):
        order, visited = [], set()

        def walk(v):
            if v not in visited:
                visited.add(v)
                order.append(v)
                for child in v._prev:
                    walk(child)
        walk(self)
        self.grad = 1
        for v in order:
            v._backward()


class BreadthFirst(Good):
    """Nodes in breadth-first order from the output."""

    def backward(self):
        order, seen, queue = [], {self}, [self]
        while queue:
            v = queue.pop(0)
            order.append(v)
            for child in v._prev:
                if child not in seen:
                    seen.add(child)
                    queue.append(child)
        self.grad = 1
        for v in order:
            v._backward()


class EveryPath(Good):
    """Recursion without a visited set: a shared node's step runs once per path."""

    def backward(self):
        self.grad = 1
        self._walk()

    def _walk(self):
        self._backward()
        for child in self._prev:
            child._walk()


class ReluLeaks(Good):
    """relu passes the gradient where its input was negative."""

    def relu(self):
        out = type(self)(0 if self.data < 0 else self.data, (self,), "ReLU")

        def _backward():
            self.grad += out.grad
        out._backward = _backward
        return out


class ReluAtZeroIsOne(Good):
    """ReLU'(0) = 1: deck 001's convention, right, and said."""

    def relu(self):
        out = type(self)(0 if self.data < 0 else self.data, (self,), "ReLU")

        def _backward():
            self.grad += (self.data >= 0) * out.grad
        out._backward = _backward
        return out


class TanhFromInput(Good):
    """tanh's derivative written 1 − x² with the input x."""

    def tanh(self):
        out = type(self)(math.tanh(self.data), (self,), "tanh")

        def _backward():
            self.grad += (1 - self.data ** 2) * out.grad
        out._backward = _backward
        return out


class ExpIgnoresUpstream(Good):
    """exp's step forgets to multiply by out.grad."""

    def exp(self):
        out = type(self)(math.exp(self.data), (self,), "exp")

        def _backward():
            self.grad += out.data
        out._backward = _backward
        return out


class ResetsEachPass(Iterative):
    """backward() zeroes every gradient first: a second call does not add."""

    def backward(self):
        topo, seen, stack = [], set(), [self]
        while stack:
            v = stack.pop()
            if v not in seen:
                seen.add(v)
                topo.append(v)
                stack.extend(v._prev)
        for v in topo:
            v.grad = 0
        super().backward()


class MulNeverSteps(Good):
    """`__mul__` never sets out._backward."""

    def __mul__(self, other):
        other = other if isinstance(other, Good) else type(self)(other)
        return type(self)(self.data * other.data, (self, other), "*")


class ExpSignFlipped(Good):
    def exp(self):
        out = type(self)(math.exp(self.data), (self,), "exp")

        def _backward():
            self.grad -= out.data * out.grad
        out._backward = _backward
        return out


class NoRadd(Good):
    """No `__radd__`: 2 + a fails."""

    __radd__ = None


class NoTanh(Good):
    tanh = None


class GradStartsNone(Good):
    def __init__(self, data, _children=(), _op=""):
        super().__init__(data, _children, _op)
        self.grad = None


class AddRaises(Good):
    def __add__(self, other):
        # The student's typo: mth for math.
        return type(self)(mth.fsum([self.data, other.data]))  # noqa: F821


class Loops(Good):
    def __mul__(self, other):
        while True:
            pass


class Hog(Good):
    def __mul__(self, other):
        hoard = []
        while True:
            hoard.append(bytearray(1 << 20))


def _report(cls, **limits) -> EngineReport:
    return check_engine(cls, **{**FAST, **limits})


def _check(report, name):
    return next(c for c in report.checks if c.name == name)


# --- correct engines pass ------------------------------------------------------------------------


def test_gradflows_own_value_passes_every_check():
    report = _report(Value)
    assert report.ok and not report.skipped and not report.notes, str(report)
    names = [c.name for c in report.checks]
    assert names == ["Value(2.0)", "a * b", "a + b", "-x", "a - b", "x ** k (k a number)", "a / b", "x.exp()",
                     "x.log()", "x.sigmoid()", "x.tanh()", "x.relu()", "x.softplus()", "a value used twice in one op",
                     "a value used along two paths", "topological order", "backward() twice", "a tanh neuron",
                     "a relu neuron", "a sigmoid neuron", "a deep chain"]


def test_a_correct_micrograd_style_engine_passes_with_its_recursion_as_a_note():
    report = _report(Good)
    assert report.ok, str(report)
    assert {c.name for c in report.skipped} == {"x.log()", "x.sigmoid()", "x.softplus()"}
    assert all(c.message.startswith("your class has no `") for c in report.skipped)
    deep = _check(report, "a deep chain")
    assert deep.status == "note" and "recursion limit" in deep.message and "micrograd" in deep.message
    # micrograd's second backward() adds the computed nodes' old gradients again: a note, not a failure.
    again = _check(report, "backward() twice")
    assert again.status == "note" and "micrograd does the same" in again.message
    assert str(report).splitlines()[1] == "your engine agrees with gradflow's on every check it could run"


def test_an_iterative_topological_sort_has_no_deep_chain_note():
    assert _check(_report(Iterative), "a deep chain").status == "ok"


def _micrograd():
    spec = importlib.util.spec_from_file_location("gradflow_reference", ROOT / "benchmarks" / "_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    try:
        return module.micrograd_value()
    except RuntimeError as e:  # offline and never installed
        pytest.skip(str(e))


def test_micrograd_0_1_0_itself_passes():
    report = _report(_micrograd())
    assert report.ok, str(report)
    assert [c.name for c in report.skipped] == ["x.exp()", "x.log()", "x.sigmoid()", "x.tanh()", "x.softplus()"]
    assert {c.name for c in report.notes} == {"backward() twice", "a deep chain"}


# --- each bug, at its check, in the student's terms ------------------------------------------------


def _first(cls, **limits):
    report = _report(cls, **limits)
    assert not report.ok and report.first is not None, str(report)
    assert str(report).splitlines()[1].startswith(f"first failure, {report.first.name}: ")
    return report.first


def test_mul_passing_the_upstream_gradient_unchanged():
    first = _first(MulUpstream)
    assert first.name == "a * b"
    assert first.message == ("your `__mul__` sends each input the upstream gradient unchanged; product switches: each "
                             "input receives the gradient times the other input (a = 2, b = -3: you gave a.grad = 1, "
                             "expected -3)")


def test_mul_with_each_inputs_own_value():
    first = _first(MulOwnValue)
    assert first.name == "a * b" and "gives each input the other input's local derivative (swapped)" in first.message


def test_assignment_instead_of_accumulation():
    first = _first(Assigns)
    assert first.name == "a value used twice in one op"
    assert first.message.startswith("a value used twice gets only one branch's gradient: in your `_backward` use `+=`, "
                                    "not `=` (y = a * a at a = 3: you gave a.grad = 3, expected 6)")


def test_a_step_that_zeroes_its_inputs_loses_a_shared_leafs_other_path():
    first = _first(ZeroesInputs)
    assert first.name == "a value used along two paths" and "only one branch's gradient" in first.message


@pytest.mark.parametrize("cls", [DepthFirst, BreadthFirst], ids=["depth-first", "breadth-first"])
def test_no_topological_order(cls):
    first = _first(cls)
    assert first.name == "topological order"
    assert first.message.startswith("your backward visits s before every node that uses it has sent its gradient (")
    assert "order the nodes topologically, each after every node that uses it" in first.message


def test_a_step_run_once_per_path():
    first = _first(EveryPath)
    assert first.name == "a value used along two paths" or first.name == "topological order"
    assert "times (once for each path to it): visit each node once, in topological order" in first.message


def test_relu_passing_gradient_where_its_input_was_negative():
    first = _first(ReluLeaks)
    assert first.name == "x.relu()"
    assert first.message.startswith("your `relu` passes gradient where its input was negative; ReLU passes the gradient "
                                    "where the input was positive and blocks it elsewhere")
    assert first.message.endswith("(x = -2: you gave x.grad = 1, expected 0)")


def test_relu_prime_of_0_equal_to_1_is_a_convention_not_a_bug():
    report = _report(ReluAtZeroIsOne)
    relu = _check(report, "x.relu()")
    assert report.ok and relu.status == "note" and "your ReLU′(0) is 1 where gradflow takes 0" in relu.message


def test_tanh_derivative_from_the_input():
    first = _first(TanhFromInput)
    assert first.name == "x.tanh()"
    assert ("computes its local derivative from the input x where the rule 1 − tanh²(x) needs the output (out.data)"
            in first.message)
    assert "(x = 0.7: you gave x.grad = 0.51, expected 0.634740)" in first.message.replace("0.63474)", "0.634740)")


def test_a_step_that_is_never_set():
    first = _first(MulNeverSteps)
    assert first.name == "a * b" and first.message.startswith(
        "your `__mul__` sends no gradient to its inputs (they stay 0): does it set `out._backward`, and does "
        "backward() call it?")


def test_a_flipped_sign():
    first = _first(ExpSignFlipped)
    assert first.name == "x.exp()" and "your `exp` has the sign of its local derivative flipped" in first.message


def test_a_step_that_ignores_the_upstream_gradient():
    first = _first(ExpIgnoresUpstream)
    assert first.name == "x.exp()"
    assert first.message.startswith("your `exp` ignores the gradient arriving from above: multiply the local "
                                    "derivative by out.grad (x.exp() * 3 at x = 0: 3 arrives, so x.grad = 3 · 1 = 3; you gave 1)")


def test_backward_that_does_not_accumulate_across_calls():
    first = _first(ResetsEachPass)
    assert first.name == "backward() twice"
    assert first.message.startswith("your second backward() left a.grad at -3, as after the first: gradients add up "
                                    "across backward() calls (-6 after two on y = a * b at a = 2, b = -3)")


def test_a_missing_op_is_skipped_not_failed():
    report = _report(NoTanh)
    assert report.ok
    assert _check(report, "x.tanh()") == ("x.tanh()", "skipped", "your class has no `tanh`", 0.0, "")
    assert "a tanh neuron" not in [c.name for c in report.checks]


def test_a_number_on_the_left_needs_radd():
    first = _first(NoRadd)
    assert first.name == "a + b"
    assert first.message.startswith("1.5 + a raised TypeError: ")
    assert "(define `__radd__`: Python calls it when a number stands on the left)" in first.message


def test_grad_must_start_at_0_and_then_nothing_else_runs():
    report = _report(GradStartsNone)
    assert report.first.name == "GradStartsNone(2.0)"
    assert report.first.message == "x.grad is None: start .grad at 0 (backward adds to it)"
    assert all(c.status == "skipped" for c in report.checks[1:])


def test_an_error_names_the_students_line():
    first = _first(AddRaises)
    assert first.name == "a + b"
    assert first.message.startswith("your `__add__` (a + b at a = 2, b = -3) raised NameError: name 'mth' is not "
                                    "defined (line ")
    assert "of test_check_engine.py: `return type(self)(mth.fsum([self.data, other.data]))  # noqa: F821`)" in first.message


# --- hostile classes are stopped within their bounds ----------------------------------------------


def test_an_endless_loop_is_stopped_at_the_time_limit():
    start = time.monotonic()
    report = _report(Loops, time_limit=0.5)
    took = time.monotonic() - start
    first = report.first
    assert first.name == "a * b" and first.status == "stopped"
    assert first.message.startswith("stopped after 0.5 s while running a * b at a = 2, b = -3 (line ")
    assert "`while True:`): a loop that never ends?" in first.message
    assert 0.5 <= first.seconds < 1.5
    # The checks that need * are skipped, not stopped again: the whole report takes about one time limit.
    assert _check(report, "topological order").message == "not run: needs a working `__mul__`"
    assert took < 4, took


def test_an_endless_allocation_is_stopped_at_the_memory_limit():
    pytest.importorskip("resource")
    if not Path("/proc/self/statm").exists():
        pytest.skip("the memory cap reads /proc (Linux)")
    start = time.monotonic()
    report = _report(Hog, memory_limit=64, time_limit=10)
    first = report.first
    assert first.name == "a * b" and first.status == "stopped"
    assert first.message.startswith("stopped: used more than 64 MB while running a * b at a = 2, b = -3 (line ")
    assert "hoard.append(bytearray(1 << 20))" in first.message
    assert time.monotonic() - start < 5  # stopped by memory, long before the 10 s


def test_arguments_are_checked():
    with pytest.raises(TypeError, match=r"check_engine needs your Value class itself, as in check_engine\(Value\); "
                                        r"got an instance of Leaf"):
        check_engine(Value(1.0))
    with pytest.raises(ValueError, match="time_limit must be a number >= 0.05"):
        check_engine(Good, time_limit=0)


def test_the_report_round_trips_through_a_dict():
    report = _report(MulUpstream)
    again = EngineReport.from_dict(report.to_dict())
    assert str(again) == str(report) and again.ok == report.ok
