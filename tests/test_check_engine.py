"""check_engine on students' engines: a correct one in micrograd's style passes, micrograd 0.1.0 itself passes,
and each typical bug is diagnosed with its own message, at the check that is there to catch it (remove the check,
and its test fails). Hostile classes (an endless loop, an endless allocation) are stopped within their limits.
"""

from __future__ import annotations

import importlib.util
import json
import math
import time
from pathlib import Path

import pytest

from engine import Value, check_engine
from engine.student.report import EngineReport

ROOT = Path(__file__).resolve().parents[1]
FAST = dict(time_limit=5.0, memory_limit=256)  # generous: a loaded machine must not stop a correct engine


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


def _binary(f, step):
    # An operator of Good's kind whose `_backward` is step(self, other, out).
    def op(self, other):
        other = other if isinstance(other, Good) else type(self)(other)
        out = type(self)(f(self.data, other.data), (self, other))
        out._backward = lambda: step(self, other, out)
        return out
    return op


def _unary(f, step):
    def op(self):
        out = type(self)(f(self.data), (self,))
        out._backward = lambda: step(self, out)
        return out
    return op


def _upstream(a, b, out):  # the rule of +, used for *
    a.grad += out.grad
    b.grad += out.grad


def _own_value(a, b, out):
    a.grad += a.data * out.grad
    b.grad += b.data * out.grad


def _assign_sum(a, b, out):
    a.grad = out.grad
    b.grad = out.grad


def _assign_product(a, b, out):
    a.grad = b.data * out.grad
    b.grad = a.data * out.grad


class MulUpstream(Good):
    __mul__ = _binary(lambda x, y: x * y, _upstream)


class MulOwnValue(Good):
    __mul__ = _binary(lambda x, y: x * y, _own_value)


class Assigns(Good):
    """`=` instead of `+=` in every `_backward`."""

    __add__ = _binary(lambda x, y: x + y, _assign_sum)
    __mul__ = _binary(lambda x, y: x * y, _assign_product)


def _topo(root):
    topo, visited = [], set()

    def build(v):
        if v not in visited:
            visited.add(v)
            for child in v._prev:
                build(child)
            topo.append(v)
    build(root)
    return topo


class ZeroesInputs(Good):
    """Each step zeroes its inputs' gradients before adding to them: fine for a * a, wrong for a shared leaf."""

    def backward(self):
        self.grad = 1
        for v in reversed(_topo(self)):
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


def _relu_leaks(x, out):
    x.grad += out.grad


def _relu_1_at_0(x, out):
    x.grad += (x.data >= 0) * out.grad


def _tanh_from_input(x, out):
    x.grad += (1 - x.data ** 2) * out.grad


def _exp_without_upstream(x, out):
    x.grad += out.data


def _exp_flipped(x, out):
    x.grad -= out.data * out.grad


class ReluLeaks(Good):
    relu = _unary(lambda x: max(x, 0.0), _relu_leaks)


class ReluAtZeroIsOne(Good):
    relu = _unary(lambda x: max(x, 0.0), _relu_1_at_0)  # deck 001's convention: right, and said


class TanhFromInput(Good):
    tanh = _unary(math.tanh, _tanh_from_input)


class ExpIgnoresUpstream(Good):
    exp = _unary(math.exp, _exp_without_upstream)


class ExpSignFlipped(Good):
    exp = _unary(math.exp, _exp_flipped)


class MulNeverSteps(Good):
    """`__mul__` never sets out._backward."""

    def __mul__(self, other):
        other = other if isinstance(other, Good) else type(self)(other)
        return type(self)(self.data * other.data, (self, other), "*")


class ResetsEachPass(Iterative):
    def backward(self):  # zeroes every gradient first: a second call does not add
        for v in _topo(self):
            v.grad = 0
        super().backward()


class NoRadd(Good):
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


# Each bug: the check that catches it first, and what its message says (every fragment, in order).
BUGS = [
    (Assigns, "a value used twice in one op", "a value used twice gets only one branch's gradient: in your `_backward` "
     "use `+=`, not `=` (y = a * a at a = 3: you gave a.grad = 3, expected 6)"),
    (ZeroesInputs, "a value used along two paths", "a value used twice gets only one branch's gradient"),
    (DepthFirst, "topological order", "your backward visits s before every node that uses it has sent its gradient (",
     "order the nodes topologically, each after every node that uses it"),
    (BreadthFirst, "topological order", "your backward visits s before every node that uses it has sent its gradient"),
    (EveryPath, "topological order", "your backward runs the step of s 3 times (once for each path to it): visit each "
     "node once, in topological order"),
    (ReluLeaks, "x.relu()", "your `relu` passes gradient where its input was negative; ReLU passes the gradient where "
     "the input was positive and blocks it elsewhere", "(x = -2: you gave x.grad = 1, expected 0)"),
    (TanhFromInput, "x.tanh()", "your `tanh` computes its local derivative from the input x where the rule "
     "1 − tanh²(x) needs the output (out.data)", "(x = 0.7: you gave x.grad = 0.51, expected 0.63474)"),
    (ExpIgnoresUpstream, "x.exp()", "your `exp` ignores the gradient arriving from above: multiply the local "
     "derivative by out.grad (x.exp() * 3 at x = 0: 3 arrives, so x.grad = 3 · 1 = 3; you gave 1)"),
    (ResetsEachPass, "backward() twice", "your second backward() left a.grad at -3, as after the first: gradients add "
     "up across backward() calls (-6 after two on y = a * b at a = 2, b = -3)"),
    (MulOwnValue, "a * b", "your `__mul__` gives each input the other input's local derivative (swapped)"),
    (MulNeverSteps, "a * b", "your `__mul__` sends no gradient to its inputs (they stay 0): does it set "
     "`out._backward`, and does backward() call it?"),
    (ExpSignFlipped, "x.exp()", "your `exp` has the sign of its local derivative flipped"),
    (AddRaises, "a + b", "your `__add__` (a + b at a = 2, b = -3) raised NameError: name 'mth' is not defined (line ",
     " of test_check_engine.py: `return type(self)(mth.fsum([self.data, other.data]))  # noqa: F821`)"),
]


@pytest.mark.parametrize("cls, name, says", [(b[0], b[1], b[2:]) for b in BUGS], ids=[b[0].__name__ for b in BUGS])
def test_each_bug_is_caught_by_its_check_and_explained(cls, name, says):
    first = _first(cls)
    assert first.name == name
    assert first.message.startswith(says[0]), first.message
    at = 0
    for fragment in says[1:]:
        at = first.message.index(fragment, at)


def test_relu_prime_of_0_equal_to_1_is_a_convention_not_a_bug():
    report = _report(ReluAtZeroIsOne)
    relu = _check(report, "x.relu()")
    assert report.ok and relu.status == "note" and "your ReLU′(0) is 1 where gradflow takes 0" in relu.message


def test_a_missing_reflected_operator_skips_the_number_on_the_left_and_fails_nothing():
    # micrograd-style classes often have no __radd__: 2 + a is not checked, a + b still is.
    report = _report(NoRadd)
    add = _check(report, "a + b")
    assert add.status == "note"
    assert "with a number on the right" in add.message
    assert "1.5 + a not checked: your class has no `__radd__`" in add.message


def test_a_missing_op_is_skipped_not_failed():
    report = _report(NoTanh)
    assert report.ok
    assert _check(report, "x.tanh()") == ("x.tanh()", "skipped", "your class has no `tanh`", 0.0, "")
    assert "a tanh neuron" not in [c.name for c in report.checks]


def test_grad_must_start_at_0_and_then_nothing_else_runs():
    report = _report(GradStartsNone)
    assert report.first.name == "GradStartsNone(2.0)"
    assert report.first.message == "x.grad is None: start .grad at 0 (backward adds to it)"
    assert all(c.status == "skipped" for c in report.checks[1:])


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


# --- from the command line: a separate process, one line for bad input --------------------------------


def _cli(capsys, *argv):
    from viz.cli import main

    status = main(["check-engine", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def _student_file(tmp_path, cls_source, name="my_value.py"):
    path = tmp_path / name
    path.write_text(cls_source, encoding="utf-8")
    return path


README_SECTION = (ROOT / "README.md").read_text(encoding="utf-8").split("## Checking an engine a student wrote", 1)[1]


def test_the_readmes_check_engine_output_is_real(tmp_path, capsys, monkeypatch):
    import re

    monkeypatch.chdir(tmp_path)
    code = README_SECTION.split("```python\n", 1)[1].split("```", 1)[0]
    _student_file(tmp_path, code.split("\n\nreport = check_engine(Value)", 1)[0] + "\n")
    status, out, err = _cli(capsys, "my_value.py:Value")
    shown = README_SECTION.split("$ gradflow check-engine my_value.py:Value\n", 1)[1].split("\n```", 1)[0]
    seconds = re.compile(r"\(\d+\.\d+ s\)")
    assert status == 1 and seconds.sub("(s)", out.rstrip("\n")) == seconds.sub("(s)", shown), out


@pytest.mark.parametrize("target, source, says", [
    ("my_value.py", None, "name the class after the file and a colon, as in student.py:Value; got 'my_value.py'"),
    ("missing.py:Value", None, "missing.py: no such file"),
    ("my_value.py:Valu", "class Value:\n    pass\n", "my_value.py has no class named Valu (it defines: Value)"),
    ("my_value.py:Value", "class Value:\n    def __add__(self other):\n        pass\n",
     "my_value.py line 2: SyntaxError: invalid syntax: `def __add__(self other):`"),
    ("my_value.py:Value", "import math\nmaths.pi\n", "importing my_value.py raised NameError: name 'maths' is not "
                                                    "defined (line 2 of my_value.py: `maths.pi`)"),
    ("my_value.py:Value", "Value = 3\n", "Value in my_value.py is a int, not a class")])
def test_bad_input_is_one_line_and_status_2(tmp_path, capsys, monkeypatch, target, source, says):
    monkeypatch.chdir(tmp_path)
    if source is not None:
        _student_file(tmp_path, source)
    status, out, err = _cli(capsys, target)
    assert (status, out, err) == (2, "", f"gradflow check-engine: error: {says}\n")


def test_a_file_that_loops_is_stopped_in_its_own_process(tmp_path, capsys):
    path = _student_file(tmp_path, "class Value:\n    def __init__(self, data):\n        while True:\n            pass\n")
    start = time.monotonic()
    status, out, err = _cli(capsys, f"{path}:Value", "--time-limit", "0.3", "--json")
    first = json.loads(out)["checks"][0]
    assert status == 1 and first["status"] == "stopped" and "`while True:`" in first["message"]
    assert time.monotonic() - start < 5
