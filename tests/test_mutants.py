"""benchmarks/mutants.py itself: which mutants it makes, that a rewrite touches one node only,
and how the allowlist of equivalent mutants is matched. No mutant is run here."""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# benchmarks/ is not a package: the script is loaded by its path (and registered, as dataclasses want).
_spec = importlib.util.spec_from_file_location("gradflow_mutants", ROOT / "benchmarks" / "mutants.py")
mutants = sys.modules[_spec.name] = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mutants)

SOURCE = '''\
"""A docstring: a + b < 1."""

from dataclasses import dataclass

__all__ = ["f"]


def f(x, n=2):
    """f's docstring: 1 + 1."""
    label = "σ→" if x > 0.5 else "τ"
    if x is None or n not in ("a", "b"):
        return -x
    y = x + 1.5  # pragma: no mutate
    y -= min(x, 0) * 3
    return not x and y ** 2 >= f"{x + 1}"


@dataclass
class Row:
    name: str
    f: object
    d: object


ROWS = [Row("sq", lambda x: x * x, lambda x: 2.0 * x)]
'''

# (line, before, after, function): docstrings, __all__, the f-string's pieces and the
# pragma's line have none; a table row's lambdas are named after the row and their field.
EXPECTED = [
    (8, "2", "3", "f"),
    (10, "x > 0.5", "x >= 0.5", "f"),
    (10, "x > 0.5", "x > 0.5005", "f"),  # a constant is shown in its parent expression
    (11, "x is None", "x is not None", "f"),
    (11, 'x is None or n not in ("a", "b")', 'x is None and n not in ("a", "b")', "f"),
    (11, 'n not in ("a", "b")', 'n in ("a", "b")', "f"),
    (11, '("a", "b")', '("XX", "b")', "f"),
    (11, '("a", "b")', '("a", "XX")', "f"),
    (14, "y -= min(x, 0) * 3", "y = min(x, 0) * 3", "f"),
    (14, "y -= min(x, 0) * 3", "y += min(x, 0) * 3", "f"),
    (14, "min(x, 0)", "max(x, 0)", "f"),
    (14, "min(x, 0)", "min(x, 1)", "f"),
    (14, "min(x, 0) * 3", "min(x, 0) / 3", "f"),
    (14, "min(x, 0) * 3", "min(x, 0) * 4", "f"),
    (15, "not x", "x", "f"),
    (15, 'not x and y ** 2 >= f"{x + 1}"', 'not (not x and y ** 2 >= f"{x + 1}")', "f"),
    (15, 'not x and y ** 2 >= f"{x + 1}"', 'not x or y ** 2 >= f"{x + 1}"', "f"),
    (15, "y ** 2", "(y * 2)", "f"),
    (15, "y ** 2", "y ** 3", "f"),
    (15, 'y ** 2 >= f"{x + 1}"', 'y ** 2 > f"{x + 1}"', "f"),
    (25, "x * x", "x / x", "Row('sq').f"),
    (25, "2.0 * x", "2.0 / x", "Row('sq').d"),
    (25, "2.0 * x", "2.002 * x", "Row('sq').d"),
]


def test_the_generator_makes_the_expected_mutants():
    found = mutants.mutants(SOURCE, "tiny.py")
    assert [(m.line, m.before, m.after, m.function) for m in found] == EXPECTED


@pytest.mark.parametrize("source", [
    "a = 1 + 2\nb = a - 3\n",
    "def g(x):\n    return (x + 1) * 2 - x ** -1\n",
    "def h(a, b):\n    s = 'é' + str(a)  # ü\n    return a + b if s != 'é' else a < b <= 3\n",
    "x = (1 +  # a comment with a - in it\n     2)\nok = not (x > 1 or x < 0) and x in (1, 2)\n",
    "t = 0.0 if 1e308 > 0 else 1.7976931348623157e308\nw = max(1, 2) + min(3, 4)\n",
])
def test_a_rewrite_changes_one_node_and_keeps_the_rest_byte_for_byte(source):
    found = mutants.mutants(source)
    assert found
    for m in found:
        mutated = m.apply(source)
        assert source[m.start : m.end] == m.before
        assert mutated[: m.start] == source[: m.start]
        assert mutated[m.start + len(m.after) :] == source[m.end :]
        assert mutated != source
        ast.parse(mutated)  # every mutant compiles
    # positions are characters, though ast counts UTF-8 bytes: the node after 'é' is found whole
    if "é" in source:
        assert any(m.before == "a + b" and m.after == "a - b" for m in found)


def test_a_parenthesised_operand_keeps_its_parentheses_when_dropped():
    source = "def g(x):\n    return (x - 1) + 2 * x\n"
    after = {m.after for m in mutants.mutants(source) if m.kind == "drop operand"}
    assert after == {"(x - 1)", "x"}
    assert {m.after for m in mutants.mutants("y = 2 * x ** 3\n") if m.before == "x ** 3"} >= {"(x * 3)"}


def _allowed(source, allow, path="tiny.py"):
    return [(m.line, m.before, m.after) for m in mutants.mutants(source, path) if mutants.equivalent_reason(m, allow)]


def test_the_allowlist_matches_by_function_and_snippet_not_by_line():
    allow = mutants.read_equivalent(
        "# a comment, then an entry\n"
        "\n"
        "tiny.py  f  `x >   0.5` → `x >= 0.5`  x is never exactly 0.5 here\n"
    )
    assert allow == {("tiny.py", "f", "x > 0.5", "x >= 0.5", None): "x is never exactly 0.5 here"}
    assert _allowed(SOURCE, allow) == [(10, "x > 0.5", "x >= 0.5")]
    assert _allowed("\n\n# moved down\n" + SOURCE, allow) == [(13, "x > 0.5", "x >= 0.5")]
    # the same change in another function, or in another file, is not covered
    assert _allowed(SOURCE.replace("def f(", "def f2("), allow) == []
    assert _allowed(SOURCE, allow, "other.py") == []
    with pytest.raises(ValueError, match="expected FILE FUNCTION"):
        mutants.read_equivalent("tiny.py f x > 0.5 -> x >= 0.5 no backticks, no reason\n")


def test_a_change_made_twice_in_a_function_is_told_apart_by_its_number():
    source = "def g(x):\n    a = x > 0\n    b = x > 0\n    return a, b\n"
    twice = [m for m in mutants.mutants(source) if m.after == "x >= 0"]
    assert [(m.line, m.nth, m.of) for m in twice] == [(2, 1, 2), (3, 2, 2)]
    assert str(twice[1]) == "<string>:3  `x > 0` → `x >= 0`  (in function g, #2 of 2)"
    every = mutants.read_equivalent("<string>  g  `x > 0` → `x >= 0`  both\n")
    second = mutants.read_equivalent("<string>  g  `x > 0` → `x >= 0` #2  only the second\n")
    assert _allowed(source, every, "<string>") == [(2, "x > 0", "x >= 0"), (3, "x > 0", "x >= 0")]
    assert _allowed(source, second, "<string>") == [(3, "x > 0", "x >= 0")]


def test_the_allowlist_and_the_targets_are_well_formed():
    allow = mutants.read_equivalent(mutants.EQUIVALENT.read_text())
    files = {f for target in mutants.TARGETS.values() for f in target.files}
    assert all(key[0] in files and reason for key, reason in allow.items())
    for target in mutants.TARGETS.values():
        assert target.files and target.tests
