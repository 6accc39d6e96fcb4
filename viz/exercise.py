"""The exercise checker: grade hand-derived forward values and gradients.

A sheet (TOML) gives the inputs, a graph of named steps and a student's
answers. The checker builds the graph with the engine, runs its backward
step sequence, and says which answers are right, which are wrong and why:
the chain of local derivatives with numbers, the gate rule from the op table,
and the first wrong gradient in backward order.

The sheet: ``[inputs]`` (name = number), ``[graph]`` (name = "expression" in
``engine.expr``'s language; the last step is the output unless ``output``
says otherwise), ``[answers]`` ("NAME" for a forward value, "dOUT/dNAME" for a
gradient of the output; a number, or a formula evaluated with the correct
values of the inputs and steps). Optional: ``title``, ``description``,
``tolerance`` (|given − correct| ≤ tol·max(1, |correct|), so absolute below 1
and relative above; default 1e-3), ``params`` (inputs drawn as parameters),
and ``[[cases]]``, each with its own ``name``, ``inputs`` and ``answers``
under one shared ``[graph]`` and ``[inputs]``.

>>> sheet = loads('''
... [inputs]
... x = 2
... w = 1
... b = 1
... [graph]
... z = "w*x + b"
... y = "relu(z)"
... [answers]
... y = 3
... "dy/dw" = 3
... "dy/db" = "1"
... ''')
>>> report = sheet.check()
>>> report.ok, [row.key for row in report.cases[0].wrong]
(False, ['dy/dw'])
>>> print(report.cases[0].wrong[0].explanation[0])
dy/dw = dy/dz · dz/dw = 1 · 2 = 2
"""

from __future__ import annotations

import argparse
import difflib
import html
import json
import math
import re
import sys
import tomllib
from pathlib import Path
from typing import Mapping, NamedTuple

from engine import OPS, Value
from engine.expr import Expr, ExprError, check_name

from .draw import draw

__all__ = ["load", "loads", "check", "Sheet", "Case", "Answer", "Solution", "SolutionSet", "Report", "CaseReport", "Row",
           "SheetError", "register", "DEFAULT_TOLERANCE", "MAX_SHEET_BYTES", "MAX_STEPS", "MAX_CASES"]

MAX_SHEET_BYTES = 1_000_000  # far above any exercise; keeps a stray 10 MB file fast to refuse
MAX_STEPS = 1000  # an exercise has a handful; the cap keeps a hostile sheet to well under a second
MAX_CASES = 100
DEFAULT_TOLERANCE = 1e-3  # absolute below 1, relative above: |given − correct| ≤ tol·max(1, |correct|)

TOP_KEYS = {
    "title": "the sheet's title",
    "description": "a sentence about the exercise",
    "tolerance": "how close an answer must be (absolute below 1, relative above)",
    "params": "the inputs that are trainable parameters, e.g. [\"w\", \"b\"]",
    "output": "the step whose gradients are asked for (default: the last step)",
    "inputs": "the leaves and their values",
    "graph": "the named steps, as expressions",
    "answers": "the student's answers",
    "cases": "variants of the exercise, each with its own inputs and answers",
}
CASE_KEYS = {"name": "the case's name", "description": "a sentence about the case",
             "inputs": "this case's input values", "answers": "this case's answers"}

_GRADIENT_KEY = re.compile(r"[d∂]\s*(\S+?)\s*/\s*[d∂]\s*(\S+)")


class SheetError(ValueError):
    """An invalid sheet. The message names the file, the line and key when known, and the problem."""

    def __init__(self, message: str, *, key: str = "", line: int | None = None):
        super().__init__(message)
        self.key = key
        self.line = line


# --- numbers as people write them ------------------------------------------------------


def _fmt(x: float) -> str:
    if x == 0:
        return "0"  # also for -0.0
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return format(x, ".6g")


def _factor(x: float) -> str:
    # A factor in a product: negatives in parentheses, so "1 · (-2)" reads right.
    s = _fmt(x)
    return f"({s})" if s.startswith("-") else s


def _close(given: float, correct: float, tol: float) -> bool:
    if math.isnan(given) or math.isnan(correct):
        return False
    if math.isinf(correct) or math.isinf(given):
        return given == correct
    return abs(given - correct) <= tol * max(1.0, abs(correct))


def _json_number(x: float):
    return x if math.isfinite(x) else str(x)


# --- where keys are in the text (tomllib gives no positions) ----------------------------

_KEYPART = r'(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|\'[^\']*\')'
_KEYLINE = re.compile(rf"\s*({_KEYPART}(?:\s*\.\s*{_KEYPART})*)\s*=")
_HEADER = re.compile(rf"\s*(\[\[?)\s*({_KEYPART}(?:\s*\.\s*{_KEYPART})*)\s*\]")


def _key_parts(dotted: str) -> list:
    parts = re.findall(_KEYPART, dotted)
    return [p[1:-1].replace('\\"', '"').replace("\\\\", "\\") if p[0] in "\"'" else p for p in parts]


class _Locator:
    """Line numbers of the sheet's keys, found by a light scan of the text."""

    def __init__(self, text: str):
        self.lines = {}
        arrays = {}  # header path -> index of its latest [[table]]
        table = ()
        for number, line in enumerate(text.splitlines(), start=1):
            header = _HEADER.match(line)
            if header:
                parts = _key_parts(header.group(2))
                path = []
                for i, part in enumerate(parts):
                    path.append(part)
                    key = tuple(parts[: i + 1])
                    if header.group(1) == "[[" and i == len(parts) - 1:
                        arrays[key] = arrays.get(key, -1) + 1
                    if key in arrays:
                        path.append(arrays[key])
                table = tuple(path)
                self.lines.setdefault(table, number)
                if isinstance(table[-1], int):  # the first [[cases]] also stands for the whole array
                    self.lines.setdefault(table[:-1], number)
                continue
            key = _KEYLINE.match(line)
            if key:
                self.lines.setdefault(table + tuple(_key_parts(key.group(1))), number)

    def line(self, path: tuple) -> int | None:
        for k in range(len(path), 0, -1):
            if path[:k] in self.lines:
                return self.lines[path[:k]]
        return None


def _keypath(path: tuple) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part + 1}]"
        else:
            shown = part if re.fullmatch(r"[A-Za-z0-9_-]+", part) else json.dumps(part, ensure_ascii=False)
            out += ("." if out else "") + shown
    return out


# --- the sheet ---------------------------------------------------------------------------


class Answer(NamedTuple):
    """One answer: ``key`` as written ("y", "dy/dw"), its kind ("value" or
    "gradient"), the name it is about, the number given, and the formula text
    when it was written as a formula (else "")."""

    key: str
    kind: str
    name: str
    given: float
    formula: str


class Case(NamedTuple):
    """One variant of the exercise: its inputs and answers."""

    name: str
    description: str
    inputs: dict
    answers: tuple  # of Answer


class Sheet:
    """A validated exercise sheet, with every case already solved.

    Build one with ``load(path)`` or ``loads(text)``; ``check()`` grades the
    answers and ``solve()`` gives the full solution.
    """

    def __init__(self, *, title, description, tolerance, params, steps, output, cases, source, locator=None):
        self.title = title
        self.description = description
        self.tolerance = tolerance
        self.params = params
        self.steps = steps  # name -> Expr, inputs-first order
        self.output = output
        self.cases = cases
        self.source = source
        self._locator = locator
        self.solutions = [Solution(self, case) for case in cases]

    def __repr__(self):
        return f"<Sheet {self.title!r}: {len(self.steps)} steps, {len(self.cases)} case(s)>"

    def check(self, answers: Mapping | None = None) -> "Report":
        """Grade the sheet's answers, or ``answers`` given here instead.

        ``answers`` maps keys ("y", "dy/dw") to numbers or formula strings; for a
        sheet with several cases, it maps each case's name to such a dict.
        """
        if answers is None:
            cases = [(s, case.answers) for s, case in zip(self.solutions, self.cases)]
        else:
            cases = self._override(answers)
        return Report(self, [CaseReport(s, rows) for s, rows in cases])

    def solve(self) -> "SolutionSet":
        """Every value and gradient of every case, with the chains that produce them."""
        return SolutionSet(self)

    def _override(self, answers):
        if not isinstance(answers, Mapping):
            raise TypeError(f"check: answers must be a dict, got {type(answers).__name__}")
        if len(self.cases) == 1:
            per_case = {self.cases[0].name: answers}
        else:
            per_case = answers
            unknown = [k for k in per_case if k not in {c.name for c in self.cases}]
            if unknown:
                raise SheetError(f"check: this sheet has cases {', '.join(c.name for c in self.cases)}; "
                                 f"answers must map case names to dicts of answers, got key {unknown[0]!r}")
        out = []
        for i, (solution, case) in enumerate(zip(self.solutions, self.cases)):
            given = per_case.get(case.name, {})
            if not isinstance(given, Mapping):
                raise SheetError(f"check: the answers for case {case.name!r} must be a dict, got {type(given).__name__}")
            fail = _Failer(f"{self.source} (answers given to check)", None)
            path = ("cases", i, "answers") if len(self.cases) > 1 else ("answers",)
            out.append((solution, _answers(given, path, self, solution.values, fail)))
        return out


class _Failer:
    def __init__(self, source, locator):
        self.source = source
        self.locator = locator

    def __call__(self, path: tuple, problem: str):
        line = self.locator.line(path) if self.locator and path else None
        where = f", line {line}" if line else ""
        key = _keypath(path)
        raise SheetError(f"{self.source}{where}: {key + ': ' if key else ''}{problem}", key=key, line=line)


def _kind_of(x) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string", dict: "a table",
            list: "an array"}.get(type(x), type(x).__name__)


def _number_input(fail, path, x) -> float:
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        fail(path, f"an input's value must be a number, got {_kind_of(x)} {x!r:.40}")
    x = float(x) if abs(x) < 1e308 else math.inf  # a huge TOML integer would overflow float()
    if not math.isfinite(x):
        fail(path, f"an input's value must be a finite number, got {x}")
    return x


def _unknown_key(fail, path, key, allowed):
    near = difflib.get_close_matches(str(key), list(allowed), n=1)
    hint = f" (did you mean {near[0]!r}?)" if near else ""
    fail(path + (key,), f"unknown key {key!r}{hint}; the keys allowed here are: {', '.join(allowed)}")


def _table(fail, path, x, what):
    if not isinstance(x, dict):
        fail(path, f"must be a table of {what}, got {_kind_of(x)}")
    return x


def loads(text: str, source: str = "<sheet>") -> Sheet:
    """Read and validate a sheet from TOML text; raise SheetError naming the line and key.

    >>> loads('[inputs]\\nx = 1\\n[graph]\\ny = "x * q"\\n')
    Traceback (most recent call last):
    ...
    viz.exercise.SheetError: <sheet>, line 4: graph.y: column 5: unknown name 'q': it is neither a step nor an input; give it a value in [inputs]
    """
    if not isinstance(text, str):
        raise TypeError(f"loads: the sheet must be a str of TOML text, got {type(text).__name__}")
    if len(text) > MAX_SHEET_BYTES:
        raise SheetError(f"{source}: the sheet is {len(text) / 1e6:.1f} million characters long; "
                         f"a sheet may be at most {MAX_SHEET_BYTES / 1e6:g} MB")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise SheetError(f"{source}: not valid TOML: {e}") from None
    except RecursionError:
        raise SheetError(f"{source}: arrays or inline tables nest too deeply for a sheet") from None
    return _build(data, source, _Locator(text))


def load(path) -> Sheet:
    """Read and validate a sheet from a TOML file."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise SheetError(f"{path}: is a directory; give the path of a .toml sheet")
        if size > MAX_SHEET_BYTES:
            raise SheetError(f"{path}: the file is {size / 1e6:.1f} MB; a sheet may be at most {MAX_SHEET_BYTES / 1e6:g} MB")
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise SheetError(f"{path}: no such file") from None
    except UnicodeDecodeError as e:
        raise SheetError(f"{path}: not UTF-8 text (byte {e.start}); a sheet is a TOML text file") from None
    except OSError as e:
        raise SheetError(f"{path}: cannot read it: {e.strerror or e}") from None
    return loads(text, str(path))


def check(sheet, answers: Mapping | None = None) -> "Report":
    """Grade a sheet (a Sheet, or the path of a TOML file); see ``Sheet.check``."""
    if not isinstance(sheet, Sheet):
        sheet = load(sheet)
    return sheet.check(answers)


def _build(data: dict, source: str, locator: _Locator) -> Sheet:
    fail = _Failer(source, locator)
    if not data:
        fail((), "the sheet is empty; it needs an [inputs] table, a [graph] of named steps and [answers] "
                 "(or [[cases]] with their own inputs and answers)")
    for key in data:
        if key not in TOP_KEYS:
            _unknown_key(fail, (), key, TOP_KEYS)

    title = data.get("title", Path(source).stem if source != "<sheet>" else "exercise")
    description = data.get("description", "")
    for key, value in (("title", title), ("description", description)):
        if not isinstance(value, str):
            fail((key,), f"must be a string, got {_kind_of(value)}")
    tolerance = data.get("tolerance", DEFAULT_TOLERANCE)
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or not 0 < tolerance < math.inf:
        fail(("tolerance",), f"must be a positive number such as 1e-4, got {tolerance!r}")

    # The graph: named steps, compiled, ordered so that every step comes after what it uses.
    if "graph" not in data:
        fail((), "missing output: there is no [graph] table of named steps (e.g. z = \"w*x + b\"; the last step is the output)")
    graph = _table(fail, ("graph",), data["graph"], "named steps (name = \"expression\")")
    if not graph:
        fail(("graph",), "missing output: [graph] has no steps; add named steps such as z = \"w*x + b\" (the last is the output)")
    if len(graph) > MAX_STEPS:
        fail(("graph",), f"has {len(graph):,} steps; a sheet may have at most {MAX_STEPS:,}")
    steps = {}
    for name, text in graph.items():
        why = check_name(name)
        if why:
            fail(("graph", name), f"{why}; step names are used in expressions")
        if not isinstance(text, str):
            fail(("graph", name), f"a step must be an expression in quotes, such as \"w*x + b\", got {_kind_of(text)} {text!r:.40}")
        try:
            expr = Expr(text)
        except ExprError as e:
            fail(("graph", name), str(e))
        if not expr.names:
            fail(("graph", name), f"the step uses no names; put constants such as {text.strip()} in [inputs] or in the expression that uses them")
        if len(expr.code) == 1:
            fail(("graph", name), f"the step only repeats {expr.names[0]!r}; a step must compute something (use {expr.names[0]!r} directly)")
        steps[name] = expr

    output = data.get("output", list(graph)[-1])
    if not isinstance(output, str):
        fail(("output",), f"must be the name of a step in quotes, such as \"{list(graph)[-1]}\", got {_kind_of(output)}")
    if output not in steps:
        fail(("output",), f"missing output: {output!r} is not a step of [graph]; the steps are {', '.join(steps)}")
    order = _order(steps, fail)

    # Inputs: shared ones at the top, each case adding or overriding.
    top_inputs = _table(fail, ("inputs",), data.get("inputs", {}), "inputs (name = number)")
    raw_cases = data.get("cases")
    if raw_cases is None:
        raw_cases = [{"inputs": {}, "answers": data.get("answers", {})}]
        case_paths = [()]
    else:
        if not isinstance(raw_cases, list) or not all(isinstance(c, dict) for c in raw_cases):
            fail(("cases",), "must be an array of tables: write each case as [[cases]] with its own inputs and answers")
        if len(raw_cases) > MAX_CASES:
            fail(("cases",), f"has {len(raw_cases):,} cases; a sheet may have at most {MAX_CASES:,}")
        if not raw_cases:
            fail(("cases",), "is empty; give at least one [[cases]] table, or drop it and use [inputs] and [answers]")
        if "answers" in data:
            fail(("answers",), "with [[cases]], answers belong to each case: write them under [cases.answers]")
        case_paths = [("cases", i) for i in range(len(raw_cases))]

    leaves = [n for n in dict.fromkeys(n for s in order for n in steps[s].names) if n not in steps]
    params = data.get("params", [])
    if not isinstance(params, list) or not all(isinstance(p, str) for p in params):
        fail(("params",), f"must be an array of input names, e.g. [\"w\", \"b\"], got {params!r:.60}")
    for p in params:
        if p not in leaves:
            fail(("params",), f"{p!r} is not an input used by the graph; the inputs are {', '.join(leaves) or 'none'}")

    for name in top_inputs:
        _check_input_name(fail, ("inputs", name), name, steps)

    cases = []
    names_used = set()
    for i, (raw, path) in enumerate(zip(raw_cases, case_paths)):
        for key in raw:
            if path and key not in CASE_KEYS:
                _unknown_key(fail, path, key, CASE_KEYS)
        label = raw.get("name", f"case {i + 1}" if path else "")
        if not isinstance(label, str):
            fail(path + ("name",), f"must be a string, got {_kind_of(label)}")
        if label in names_used:
            fail(path + ("name",), f"two cases are named {label!r}; give each case its own name")
        names_used.add(label)
        case_description = raw.get("description", "")
        if not isinstance(case_description, str):
            fail(path + ("description",), f"must be a string, got {_kind_of(case_description)}")
        own = _table(fail, path + ("inputs",), raw.get("inputs", {}), "inputs (name = number)") if path else {}
        for name in own:
            _check_input_name(fail, path + ("inputs", name), name, steps)
        inputs = {}
        for name in leaves:
            if name in own:
                inputs[name] = _number_input(fail, path + ("inputs", name), own[name])
            elif name in top_inputs:
                inputs[name] = _number_input(fail, ("inputs", name), top_inputs[name])
        for step in order:
            for name in steps[step].names:
                if name not in steps and name not in inputs:
                    where = "; give it a value in [inputs]" + (f" or in case {label!r}" if path else "")
                    column = next(c[2] + 1 for c in steps[step].code if c[0] == "name" and c[1] == name)
                    fail(("graph", step), f"column {column}: unknown name {name!r}: it is neither a step "
                                          f"nor an input{where}")
        # Unused inputs are checked after unknown names: a misspelt name shows as both.
        for where, names in ((path + ("inputs",), own), (("inputs",), top_inputs)):
            for name in names:
                if name not in leaves:
                    fail(where + (name,), f"the input {name!r} is not used by any step of [graph]")
        cases.append((label, case_description, inputs, raw.get("answers", {}), path))

    sheet = Sheet(title=title, description=description, tolerance=float(tolerance), params=frozenset(params),
                  steps={s: steps[s] for s in order}, output=output,
                  cases=[Case(label, d, inputs, ()) for label, d, inputs, _, _ in cases], source=source, locator=locator)
    # Solving each case (done by Sheet) found domain errors; now the answers, which need the values.
    for i, ((label, d, inputs, raw_answers, path), solution) in enumerate(zip(cases, sheet.solutions)):
        answers = _table(fail, path + ("answers",), raw_answers, "answers (\"y\" = 3, \"dy/dw\" = 2)")
        parsed = _answers(answers, path + ("answers",), sheet, solution.values, fail)
        sheet.cases[i] = solution.case = Case(label, d, inputs, parsed)
    return sheet


def _check_input_name(fail, path, name, steps):
    why = check_name(name)
    if why:
        fail(path, why)
    if name in steps:
        fail(path, f"{name!r} is both an input and a step; rename one of them")


def _order(steps: dict, fail) -> list:
    """Steps in an order where each comes after the steps it uses; a cycle is an error."""
    deps = {s: [n for n in e.names if n in steps] for s, e in steps.items()}
    state, order = {}, []
    for root in steps:
        if root in state:
            continue
        state[root] = "open"
        stack = [(root, iter(deps[root]))]
        while stack:  # an explicit stack: a long chain of steps must not hit the recursion limit
            node, todo = stack[-1]
            for dep in todo:
                seen = state.get(dep)
                if seen == "open":
                    path = [n for n, _ in stack]
                    cycle = path[path.index(dep):] + [dep]
                    fail(("graph", dep), f"a cycle between steps: {' → '.join(cycle)}; "
                                         "a step may only use inputs and steps that do not depend on it")
                if seen is None:
                    state[dep] = "open"
                    stack.append((dep, iter(deps[dep])))
                    break
            else:
                stack.pop()
                state[node] = "done"
                order.append(node)
    return order


def _answers(raw: Mapping, path: tuple, sheet: Sheet, values: dict, fail) -> tuple:
    out = []
    seen = {}
    for key, given in raw.items():
        where = path + (key,)
        if not isinstance(key, str):
            fail(where, f"an answer's key must be a string, got {key!r}")
        m = _GRADIENT_KEY.fullmatch(key.strip())
        if m:
            top, name = m.groups()
            if top != sheet.output:
                fail(where, f"gradients are of the output {sheet.output!r}: write \"d{sheet.output}/d{name}\"")
            kind = "gradient"
        else:
            name, kind = key.strip(), "value"
        if (kind, name) in seen:
            fail(where, f"the same answer as {seen[kind, name]!r}; give each answer once")
        seen[kind, name] = key
        if name not in values:
            fail(where, f"{name!r} is neither an input nor a step; an answer is NAME (a forward value) or "
                        f"d{sheet.output}/dNAME (a gradient of the output), for NAME among {', '.join(values)}")
        if isinstance(given, str):
            try:
                number = Expr(given).value(values)
            except ExprError as e:
                fail(where, f"the formula {given!r}: {e}")
            formula = given.strip()
        elif isinstance(given, bool) or not isinstance(given, (int, float)):
            fail(where, f"an answer must be a number or a formula in quotes, got {_kind_of(given)}")
        elif isinstance(given, int) and abs(given) >= 1e308:
            fail(where, f"the number {str(given)[:12]}... ({len(str(given))} digits) is too large for a float")
        else:
            number, formula = float(given), ""
        out.append(Answer(key, kind, name, number, formula))
    return tuple(out)


# --- solving one case: the graph, its backward step sequence, the named chain ------------


class Solution:
    """One case, computed: the graph, every named value and gradient, and why.

    ``nodes`` maps each input and step name to its Value (labelled with the
    name); ``values`` and ``grads`` hold the numbers; ``sequence`` is the
    engine's backward step sequence; ``local[S][N]`` is the local derivative
    dS/dN of step S with respect to a name N it uses directly.
    """

    def __init__(self, sheet: Sheet, case: Case):
        self.sheet = sheet
        self.case = case
        out = sheet.output
        self.nodes = {}
        for name, x in case.inputs.items():
            self.nodes[name] = Value(x, name, kind="param" if name in sheet.params else "input")
        self.texts = {}  # unnamed node -> the source text that made it
        self.owner = {}  # node -> the step it was made in
        fail = _Failer(sheet.source, sheet._locator)
        prefix = f"case {case.name!r}: " if len(sheet.cases) > 1 else ""
        for name, expr in sheet.steps.items():
            made = {}
            try:
                node = expr.evaluate(self.nodes, made)
            except ExprError as e:
                fail(("graph", name), f"{prefix}{e}; with {_assignments(expr.names, self._data)}")
            if not math.isfinite(node.data):
                fail(("graph", name), f"{prefix}the value overflows to {node.data}; with "
                                      f"{_assignments(expr.names, self._data)}")
            node.label = name
            for v in made:
                self.owner[v] = name
            self.texts.update(made)
            self.nodes[name] = node
        self.name_of = {v: n for n, v in self.nodes.items()}
        self.root = self.nodes[out]
        self.values = {n: v.data for n, v in self.nodes.items()}

        # The engine's step sequence is the one source of the gradients and their order.
        self.sequence = list(self.root.steps())
        self.grads = {n: float(v.grad) for n, v in self.nodes.items()}
        reached = set(self.root.topo())
        self.reaches = {n for n, v in self.nodes.items() if v in reached}
        self.edges = {n: [] for n in self.nodes}  # name -> [(index in sequence, input position)]
        done = {}
        for index, step in enumerate(self.sequence):
            done[step.node] = index
            for i, v in enumerate(step.node.inputs):
                if v in self.name_of:
                    self.edges[self.name_of[v]].append((index, i))
        # When each name's gradient is complete: a step's at its own Step, a leaf's at its last edge.
        # (A leaf's gradient is complete just after the Step of its last edge, hence the half.)
        late = len(self.sequence)
        complete = {n: done.get(v, late) if v.op else max((i for i, _ in self.edges[n]), default=late) + 0.5
                    for n, v in self.nodes.items()}
        # sorted() is stable, so names completed together keep their forward order.
        self.backward_order = sorted(self.nodes, key=complete.get)
        self.backward_rank = {n: i for i, n in enumerate(self.backward_order)}
        self.forward_rank = {n: i for i, n in enumerate(self.nodes)}

        # Local derivatives of each step with respect to the names it uses, on a fresh copy
        # of the step alone, so that paths through other steps are not mixed in.
        self.local = {}
        self.uses = {n: [] for n in self.nodes}
        for name, expr in sheet.steps.items():
            leaves = {n: Value(self.values[n], n) for n in expr.names}
            expr.evaluate(leaves).backward()
            self.local[name] = {n: float(v.grad) for n, v in leaves.items()}
            for n in expr.names:
                self.uses[n].append(name)

    def _data(self, name):
        return self.nodes[name].data

    # -- words and numbers --------------------------------------------------------------

    def describe(self, v: Value) -> str:
        """How a node is written: its name, its source text, or its number."""
        if v in self.name_of:
            return self.name_of[v]
        if v in self.texts:
            return self.texts[v]
        if not v.op:
            return _fmt(v.data)
        return OPS[v.op].symbol

    def _operand(self, v: Value) -> str:
        s = self.describe(v)
        return s if re.fullmatch(r"[\w.]+", s) or _enclosed(s) else f"({s})"

    def formula(self, node: Value, i: int) -> str:
        """The op table's local derivative for input i, in this node's own terms."""
        op = OPS[node.op]
        subst = {"x": self._operand(node.inputs[0])}
        if len(node.inputs) > 1:
            subst["y"] = self._operand(node.inputs[1])
        if node.arg is not None and op.params:
            subst["k"] = subst["α"] = _fmt(node.arg)
        return re.sub(r"(?<![A-Za-z_])([xyk])(?![A-Za-z_])|α", lambda m: subst.get(m.group(0), m.group(0)),
                      op.formula[i])

    def chain(self, name: str) -> str:
        """dy/dN as the sum over the steps that use N of dy/dS · dS/dN, with numbers."""
        y = self.sheet.output
        if name == y:
            return f"d{y}/d{y} = 1 (the backward pass starts with the output's gradient with respect to itself)"
        if name not in self.reaches:
            return f"d{y}/d{name} = 0 ({name} is not on any path to {y})"
        terms = [(s, self.grads[s], self.local[s][name]) for s in self.uses[name]]
        # The output's own local derivative is written ∂y/∂N, so it cannot be read as the dy/dN being defined.
        symbols = " + ".join(f"d{y}/d{s} · " + (f"∂{s}/∂{name}" if s == y else f"d{s}/d{name}") for s, _, _ in terms)
        numbers = " + ".join(f"{_factor(g)} · {_factor(d)}" for _, g, d in terms)
        return f"d{y}/d{name} = {symbols} = {numbers} = {_fmt(self.grads[name])}"

    def path(self, name: str) -> str | None:
        """When N reaches the output along one path only: dy/dN as the product of every
        local derivative on it, the δ chain of the lectures written out. Else None.
        """
        y = self.sheet.output
        path = [name]
        while path[-1] != y:
            onward = [s for s in self.uses[path[-1]] if s in self.reaches]
            if len(onward) != 1 or path[-1] not in self.reaches:
                return None
            path.append(onward[0])
        if len(path) < 4:
            return None  # one or two steps: the chain already says it all
        pairs = list(zip(path[1:], path))
        symbols = " · ".join(f"∂{s}/∂{n}" if s == y else f"d{s}/d{n}" for s, n in reversed(pairs))
        numbers = " · ".join(_factor(self.local[s][n]) for s, n in reversed(pairs))
        return f"along the path: d{y}/d{name} = {symbols} = {numbers} = {_fmt(self.grads[name])}"

    def gates(self, name: str) -> list:
        """One line per edge leaving N in the step sequence: the gate, its rule, its numbers."""
        lines = []
        for index, i in self.edges[name]:
            step = self.sequence[index]
            node = step.node
            op = OPS[node.op]
            where = self.owner.get(node, "")
            inside = f" in {where} = {self.sheet.steps[where].text}" if where else ""
            lines.append(
                f"{name} enters the {op.symbol} gate{inside} ({op.gate}); local derivative "
                f"∂{self._operand(node)}/∂{name} = {_evaluated(self.formula(node, i), step.local[i])}; "
                f"{_fmt(step.grad)} arrives from above, so {name} receives "
                f"{_factor(step.grad)} · {_factor(step.local[i])} = {_fmt(step.contrib[i])}"
            )
        if len(self.edges[name]) > 1:
            parts = " + ".join(_factor(self.sequence[index].contrib[i]) for index, i in self.edges[name])
            lines.append(f"{name} is used {len(self.edges[name])} times: {OPS['split'].gate}: "
                         f"{parts} = {_fmt(self.grads[name])}")
        return lines

    def forward(self, name: str) -> str:
        """How N's forward value is computed: the op and its inputs, with numbers."""
        if name not in self.sheet.steps:
            role = "parameter" if name in self.sheet.params else "input"
            return f"{name} is an {role}; its value is given: {_fmt(self.values[name])}"
        node = self.nodes[name]
        op = OPS[node.op]
        ins = " and ".join(f"{self.describe(v)} = {_fmt(v.data)}" for v in node.inputs)
        extra = f" with {op.params[0]} = {_fmt(node.arg)}" if op.params and node.arg is not None else ""
        return (f"{name} = {self.sheet.steps[name].text}: the {op.name} ({op.symbol}) gate of {ins}{extra} "
                f"gives {_fmt(node.data)}")

    def text(self) -> str:
        """The full solution of this case: a table of values and gradients, then every chain."""
        y = self.sheet.output
        rows = [("name", "role", "value", f"d{y}/dname", "")]
        for name in self.nodes:
            role = ("output" if name == y else "step") if name in self.sheet.steps else \
                ("param" if name in self.sheet.params else "input")
            expr = f"{name} = {self.sheet.steps[name].text}" if name in self.sheet.steps else ""
            rows.append((name, role, _fmt(self.values[name]), _fmt(self.grads[name]), expr))
        lines = _columns(rows)
        lines.append("")
        lines.append("backward, in the order the engine completes each gradient:")
        for name in self.backward_order:
            lines.append("  " + self.chain(name))
            if self.path(name):
                lines.append("    " + self.path(name))
            lines.extend("      " + g for g in self.gates(name))
        return "\n".join(lines)

    def to_dict(self) -> dict:
        y = self.sheet.output
        return {
            "name": self.case.name,
            "inputs": {n: _json_number(x) for n, x in self.case.inputs.items()},
            "values": {n: _json_number(self.values[n]) for n in self.nodes},
            "gradients": {f"d{y}/d{n}": _json_number(self.grads[n]) for n in self.nodes},
            "chains": [self.chain(n) for n in self.backward_order],
        }

    def draw(self, highlight=None, **options):
        """The case's graph drawn with values and gradients (see ``viz.draw``)."""
        title = options.pop("title", self.sheet.title + (f" ({self.case.name})" if self.case.name else ""))
        return draw(self.root, highlight=highlight, title=title, **options)


def _enclosed(s: str) -> bool:
    # "(a - b)" is; "(a) - (b)" is not.
    if not (s.startswith("(") and s.endswith(")")):
        return False
    depth = 0
    for i, ch in enumerate(s):
        depth += (ch == "(") - (ch == ")")
        if depth == 0:
            return i == len(s) - 1
    return False


def _evaluated(formula: str, x: float) -> str:
    number = _fmt(x)
    return number if formula.replace("−", "-") == number else f"{formula} = {number}"


def _assignments(names, data) -> str:
    return ", ".join(f"{n} = {_fmt(data(n))}" for n in names)


def _columns(rows) -> list:
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    return ["  " + "  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]


class SolutionSet:
    """The solution of every case of a sheet (what ``gradflow check --solve`` prints)."""

    def __init__(self, sheet: Sheet):
        self.sheet = sheet
        self.cases = sheet.solutions

    def text(self) -> str:
        out = [f"Solution: {self.sheet.title}"]
        if self.sheet.description:
            out.append(self.sheet.description)
        for s in self.cases:
            inputs = _assignments(s.case.inputs, s.case.inputs.get)
            out += ["", f"case {s.case.name!r} ({inputs})" if s.case.name else f"inputs: {inputs}", s.text()]
        return "\n".join(out)

    __str__ = text

    def to_dict(self) -> dict:
        return {"title": self.sheet.title, "output": self.sheet.output, "cases": [s.to_dict() for s in self.cases]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)

    def _repr_html_(self):
        return f"<pre>{html.escape(self.text())}</pre>"


# --- grading ---------------------------------------------------------------------------


class Row(NamedTuple):
    """One graded answer; ``explanation`` is empty when it is right."""

    key: str
    kind: str
    name: str
    given: float
    formula: str
    correct: float
    ok: bool
    explanation: tuple

    @property
    def yours(self) -> str:
        return f"{self.formula} = {_fmt(self.given)}" if self.formula else _fmt(self.given)


class CaseReport:
    """The graded answers of one case, and which wrong one to look at first."""

    def __init__(self, solution: Solution, answers: tuple):
        self.solution = solution
        self.name = solution.case.name
        tol = solution.sheet.tolerance
        # By (kind, name), not by key: "∂y/∂z" and "dy / dz" are the same answer as "dy/dz".
        given = {(a.kind, a.name): a for a in answers}
        ok = {(a.kind, a.name): _close(a.given, self._correct(a), tol) for a in answers}
        self.rows = [
            Row(a.key, a.kind, a.name, a.given, a.formula, self._correct(a), ok[a.kind, a.name],
                () if ok[a.kind, a.name] else tuple(self._explain(a, given, ok)))
            for a in answers
        ]
        wrong_grads = [r for r in self.rows if not r.ok and r.kind == "gradient"]
        wrong_values = [r for r in self.rows if not r.ok and r.kind == "value"]
        s = solution
        self.first_wrong_gradient = min(wrong_grads, key=lambda r: s.backward_rank[r.name], default=None)
        self.first_wrong_value = min(wrong_values, key=lambda r: s.forward_rank[r.name], default=None)

    def _correct(self, a: Answer) -> float:
        s = self.solution
        return s.values[a.name] if a.kind == "value" else s.grads[a.name]

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rows)

    @property
    def wrong(self) -> list:
        return [r for r in self.rows if not r.ok]

    def _explain(self, a: Answer, given: dict, ok: dict) -> list:
        s = self.solution
        y = s.sheet.output
        tol = s.sheet.tolerance
        if a.kind == "value":
            lines = [s.forward(a.name)]
            if a.name in s.sheet.steps:
                lines += self._forward_hints(a, given, ok)
            return lines
        lines = [s.chain(a.name), *filter(None, [s.path(a.name)]), *s.gates(a.name)]
        if a.name == y or a.name not in s.reaches:
            return lines
        terms = [(st, s.grads[st], s.local[st][a.name]) for st in s.uses[a.name]]
        # Did the mistake come from above? Recompute with the student's own upstream answers.
        theirs = {st: given["gradient", st].given for st in s.uses[a.name] if ("gradient", st) in given}
        upstream_wrong = [st for st in theirs if not ok["gradient", st]]
        if upstream_wrong:
            own = sum(theirs.get(st, g) * d for st, g, d in terms)
            named = ", ".join(f"d{y}/d{st}" for st in upstream_wrong)
            if _close(a.given, own, tol):
                lines.append(f"your d{y}/d{a.name} follows correctly from your {named}, which is wrong: "
                             f"fix {named} first")
            else:
                lines.append(f"your {named} is wrong too; fix it first")
        if a.given != 0 and _close(a.given, -self._correct(a), tol):
            lines.append("the sign is flipped")
        if len(terms) > 1:
            for st, g, d in terms:
                if _close(a.given, g * d, tol):
                    lines.append(f"that is only the path through {st}; {a.name} is used by "
                                 f"{', '.join(x for x, _, _ in terms)}, and {OPS['split'].gate}")
                    break
        elif terms:
            st, g, d = terms[0]
            if not _close(d, 1.0, tol) and _close(a.given, g, tol):
                lines.append(f"that is d{y}/d{st} alone; multiply it by the local derivative "
                             f"d{st}/d{a.name} = {_fmt(d)}")
        return lines

    def _forward_hints(self, a: Answer, given: dict, ok: dict) -> list:
        s = self.solution
        expr = s.sheet.steps[a.name]
        theirs = {n: given["value", n].given for n in expr.names if ("value", n) in given and not ok["value", n]}
        if not theirs:
            return [f"its inputs are right ({_assignments(expr.names, s.values.get)}), so the mistake is in this step"]
        named = ", ".join(theirs)
        try:
            own = expr.value({n: theirs.get(n, s.values[n]) for n in expr.names})
        except ExprError:
            own = math.nan
        if _close(a.given, own, s.sheet.tolerance):
            return [f"your value follows correctly from your {named}, which is wrong: fix {named} first"]
        return [f"your {named} is wrong too; fix it first"]

    def highlight(self) -> dict:
        """The drawn nodes to mark: each wrong answer's node, with a short note."""
        s = self.solution
        notes = {}
        for r in self.wrong:
            if r.name in s.reaches:  # only what leads to the output is drawn
                node = s.nodes[r.name]
                note = f"{r.key}: you wrote {_fmt(r.given)}, correct {_fmt(r.correct)}"
                notes[node] = f"{notes[node]}; {note}" if node in notes else note
        return notes

    def draw(self, **options):
        """The graph with values and gradients, wrong answers highlighted."""
        return self.solution.draw(highlight=self.highlight(), **options)

    @property
    def right(self) -> int:
        return sum(r.ok for r in self.rows)

    def _head(self) -> str:
        return (f"case {self.name!r}: " if self.name else "") + f"{self.right} of {len(self.rows)} answers right"

    def _firsts(self) -> list:
        # (what, key, why): the one wrong answer to look at first, for values and for gradients.
        out = []
        if self.first_wrong_value:
            out.append(("first wrong value in forward order", self.first_wrong_value.key, "later values may follow from it"))
        if self.first_wrong_gradient:
            out.append(("first wrong gradient in backward order", self.first_wrong_gradient.key,
                        "the gradients below it may follow from it"))
        return out

    def lines(self) -> list:
        table = [("answer", "yours", "correct", "")]
        table += [(r.key, r.yours, _fmt(r.correct), "right" if r.ok else "WRONG") for r in self.rows]
        out = [self._head(), *_columns(table)]
        out += [f"{what}: {key} ({why})" for what, key, why in self._firsts()]
        for r in self.wrong:
            out.append("")
            out.append(f"{r.key}: you wrote {r.yours}; the correct value is {_fmt(r.correct)}")
            out += ["  " + line for line in r.explanation]
        return out

    def _html(self) -> str:
        e = html.escape
        out = [f"<p><b>{e(self._head())}</b></p>",
               "<table><thead><tr><th>answer</th><th>yours</th><th>correct</th><th></th></tr></thead><tbody>"]
        for r in self.rows:
            mark = "<span style='color:#1b7a2f'>✓ right</span>" if r.ok else "<span style='color:#c62828'>✗ wrong</span>"
            out.append(f"<tr><td><code>{e(r.key)}</code></td><td>{e(r.yours)}</td>"
                       f"<td>{e(_fmt(r.correct))}</td><td>{mark}</td></tr>")
        out.append("</tbody></table>")
        out += [f"<p>{e(what.capitalize())}: <code>{e(key)}</code> ({e(why)})</p>" for what, key, why in self._firsts()]
        for r in self.wrong:
            items = "".join(f"<li>{e(line)}</li>" for line in r.explanation)
            out.append(f"<p><code>{e(r.key)}</code>: you wrote {e(r.yours)}; the correct value is "
                       f"{e(_fmt(r.correct))}</p><ul>{items}</ul>")
        return "".join(out)

    def _repr_html_(self) -> str:
        return f"<div class='gradflow-report'>{self._html()}</div>"

    def __str__(self):
        return "\n".join(self.lines())

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "ok": self.ok,
            "right": self.right,
            "total": len(self.rows),
            "first_wrong_value": self.first_wrong_value.key if self.first_wrong_value else None,
            "first_wrong_gradient": self.first_wrong_gradient.key if self.first_wrong_gradient else None,
            "answers": [
                {"key": r.key, "kind": r.kind, "name": r.name, "given": _json_number(r.given),
                 "formula": r.formula or None, "correct": _json_number(r.correct), "ok": r.ok,
                 "explanation": list(r.explanation)}
                for r in self.rows
            ],
        }


class Report:
    """The graded sheet: a text table (``str``), an HTML table in Jupyter, JSON for graders.

    Truthy when every answer is right.
    """

    def __init__(self, sheet: Sheet, cases: list):
        self.sheet = sheet
        self.cases = cases

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.cases)

    def __bool__(self):
        return self.ok

    @property
    def total(self) -> int:
        return sum(len(c.rows) for c in self.cases)

    def __repr__(self):
        return f"<Report {self.sheet.title!r}: {sum(c.right for c in self.cases)} of {self.total} right>"

    def text(self) -> str:
        out = [self.sheet.title]
        if self.sheet.description:
            out.append(self.sheet.description)
        for case in self.cases:
            out.append("")
            out += case.lines()
        return "\n".join(out)

    __str__ = text

    def to_dict(self) -> dict:
        return {"title": self.sheet.title, "source": self.sheet.source, "ok": self.ok,
                "tolerance": self.sheet.tolerance, "output": self.sheet.output,
                "cases": [c.to_dict() for c in self.cases]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)

    def _repr_html_(self) -> str:
        e = html.escape
        out = [f"<div class='gradflow-report'><h4>{e(self.sheet.title)}</h4>"]
        if self.sheet.description:
            out.append(f"<p>{e(self.sheet.description)}</p>")
        out += [case._html() for case in self.cases]
        out.append("</div>")
        return "".join(out)

    def draw(self, case: int = 0, **options):
        """Case ``case``'s graph, with wrong answers highlighted."""
        return self.cases[case].draw(**options)

    def save(self, path) -> list:
        """Save the drawing of each case; with several cases, ``out.svg`` becomes ``out-1.svg``, ...

        Returns the paths written.
        """
        return _save_drawings([c.draw for c in self.cases], path)


def _save_drawings(drawers, path) -> list:
    path = Path(path)
    if len(drawers) == 1:
        return [drawers[0]().save(path)]
    return [d().save(path.with_name(f"{path.stem}-{i}{path.suffix}")) for i, d in enumerate(drawers, start=1)]


# --- the command line --------------------------------------------------------------------


def register(subparsers) -> argparse.ArgumentParser:
    """Add ``gradflow check SHEET.toml [--svg OUT.svg] [--json] [--solve]``."""
    p = subparsers.add_parser(
        "check",
        help="grade the answers of an exercise sheet",
        description="Grade hand-derived values and gradients written in a TOML exercise sheet. "
                    "Exit status: 0 every answer right, 1 some wrong, 2 the sheet is invalid.",
    )
    p.add_argument("sheet", metavar="SHEET.toml", help="the exercise sheet")
    p.add_argument("--svg", metavar="OUT.svg", help="also save the graph with wrong answers highlighted "
                   "(one file per case: OUT-1.svg, ... when there are several)")
    p.add_argument("--json", action="store_true", help="print a machine-readable report")
    p.add_argument("--solve", action="store_true", help="print the full solution (every value and gradient) instead of grading")
    p.set_defaults(run=run)
    return p


def _say(message: str):
    print(f"gradflow check: {message}", file=sys.stderr)


def run(args) -> int:
    """The ``check`` subcommand; returns the exit status."""
    try:
        sheet = load(args.sheet)
    except SheetError as e:
        _say(str(e))
        if args.json:  # a grader reading stdout gets the reason too
            print(json.dumps({"ok": False, "error": str(e), "key": e.key or None, "line": e.line}, ensure_ascii=False))
        return 2
    if args.solve:
        solution = sheet.solve()
        print(solution.to_json() if args.json else solution.text())
        drawers = [s.draw for s in sheet.solutions]
        status = 0
    else:
        report = sheet.check()
        if report.total == 0:
            _say(f"{sheet.source}: there are no answers to check; add an [answers] table "
                 "(\"y\" = 3, \"dy/dw\" = 2), or use --solve to see the solution")
            return 2
        print(report.to_json() if args.json else report.text())
        drawers = [c.draw for c in report.cases]
        status = 0 if report.ok else 1
    if args.svg:
        try:
            for path in _save_drawings(drawers, args.svg):
                print(f"saved {path}", file=sys.stderr if args.json else sys.stdout)
        except Exception as e:  # noqa: BLE001 - the grade stands; the drawing is extra
            _say(f"could not save the drawing: {e}")
    return status
