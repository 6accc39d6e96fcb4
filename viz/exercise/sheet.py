"""A sheet: read and validate the TOML, parse answer keys, hold the solved cases (fields.py reads each table).

A sheet has ``[inputs]``, a ``[graph]`` of named steps and ``[answers]``. A
teacher's key is the same format; its ``[answers]`` (or ``items``) list what
must be answered, with optional ``[points]``, ``[vary]`` (per-student inputs),
``[update]`` (one optimizer step) and ``conventions``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

from engine.args import is_int, is_real, type_name
from engine.expr import Expr, ExprError, check_name

from . import vary
from .answers import item_of, nonfinite, sheet_answers
from .errors import Failer, SheetError, kind_of
from .fields import (TOLERANCE_KEYS, check_input_name, read_conventions, read_number, read_table, read_tolerance,
                     read_update, read_vary, step_order, unknown_key)
from .grade import CaseReport, Report, grade
from .ids import canonical
from .numbers import Tolerance, fmt
from .solve import Case, Solution, SolutionSet
from .text import parse_toml, read_text

MAX_STEPS = 1000  # an exercise has a handful; the cap keeps a hostile sheet to well under a second
MAX_OPS = 20_000  # operations in all steps together: bounds time and memory of solving and explaining
MAX_CASES = 100
DEFAULT_TOLERANCE = Tolerance()

TOP_KEYS = {
    "title": "the sheet's title",
    "description": "a sentence about the exercise",
    "tolerance": "how close an answer must be: {rel = 0.01, abs = 0} (or per answer in a [tolerance] table)",
    "params": "the inputs that are trainable parameters, e.g. [\"w\", \"b\"]",
    "output": "the step whose gradients are asked for (default: the last step)",
    "inputs": "the leaves and their values",
    "graph": "the named steps, as expressions",
    "answers": "the answers (in a teacher's key: the items to answer)",
    "items": "the items to answer, when the sheet leaves them blank, e.g. [\"y\", \"dy/dw\"]",
    "points": "the points of each item (default 1)",
    "vary": "inputs drawn per student: x = {min = -3, max = 3, step = 1} or a list of values",
    "update": "one optimizer step: lr, and optional momentum and velocity",
    "conventions": "choices the lectures differ on, e.g. {relu_at_0 = 1, max_tie = \"first\"}",
    "formula": "which items a submission may answer with a formula of the inputs: true, or [\"dy/dw\"]",
    "decimal_comma": "false refuses answers written with a decimal comma (\"0,607\"); by default read as 0.607",
    "seed": "a number or text mixed into the [vary] draws: change it to give a class new numbers",
    "student": "the student's id (a handout or a submission)",
    "fingerprint": "written by gradflow handout: the version of the key its numbers come from",
    "cases": "variants of the exercise, each with its own inputs and answers",
}
CASE_KEYS = {"name": "the case's name", "description": "a sentence about the case",
             "inputs": "this case's input values", "answers": "this case's answers"}


class Sheet:
    """A validated exercise sheet (or a teacher's key), with every case already solved.

    Build one with ``load(path)`` or ``loads(text)``; ``check()`` grades the
    answers, ``grade(answers, student=...)`` grades a submission against this key,
    and ``solve()`` gives the full solution.
    """

    def __init__(self, *, title, description, tolerance, params, steps, output, cases, source, locator=None,
                 tolerances=None, points=None, items=None, vary=None, update=None, conventions=None,
                 formulas=frozenset(), comma=True, fingerprint=""):
        self.title = title
        self.description = description
        self.tolerance = tolerance
        self.tolerances = tolerances or {}  # item -> Tolerance, for answers with their own
        self.params = params
        self.steps = steps  # name -> Expr, inputs-first order
        self.output = output
        self.cases = cases
        self.source = source
        self.locator = locator  # where each key sits in the TOML text, for errors that name the line
        self.points = points or {}
        self.all_items = {}  # every item asked for, set once the answers are read
        self.items = items  # (kind, of, name) -> key as written; None: the answers given are the items
        self.vary = vary or {}
        self.update = update
        self.conventions = conventions or {}
        self.formulas = formulas  # the items a submission may answer with a formula of the inputs
        self.comma = comma  # read "0,607" as 0.607
        self.fingerprint = fingerprint  # what decides the numbers (see _fingerprint)
        self.names = None
        self.solutions = [Solution(self, case) for case in cases]
        self._by_inputs = {}  # inputs -> Solution, shared by the students who drew them
        self._by_student = {}  # canonical id -> Solution

    def __repr__(self):
        return f"<Sheet {self.title!r}: {len(self.steps)} steps, {len(self.cases)} case(s)>"

    def tolerance_for(self, item) -> Tolerance:
        return self.tolerances.get(item, self.tolerance)

    def formula_names(self, item, solution) -> dict | None:
        """The names a submitted formula for ``item`` may use, with their values: the inputs
        (never a step, never the item itself), or None where the item takes a number."""
        if item not in self.formulas:
            return None
        kind, _, name = item
        return {n: x for n, x in solution.case.inputs.items() if not (kind == "value" and n == name)}

    def check(self, answers: Mapping | None = None):
        """Grade the sheet's answers, or ``answers`` given here instead.

        ``answers`` maps keys ("y", "dy/dw") to numbers or formula strings; for a
        sheet with several cases, it maps each case's name to such a dict.
        """
        if answers is None:
            cases = [(s, case.answers) for s, case in zip(self.solutions, self.cases)]
        else:
            cases = self._override(answers)
        return Report(self, [CaseReport(s, rows) for s, rows in cases])

    def solve(self):
        """Every value and gradient of every case, with the chains that produce them."""
        return SolutionSet(self)

    def grade(self, answers: Mapping, student: str = ""):
        """Grade one student's answers against this key; see ``viz.exercise.Grade``.

        >>> key = loads('[inputs]\\nx = 2\\nw = -3\\n[graph]\\ny = "w*x"\\n[answers]\\ny = -6\\n"dy/dw" = 2\\n')
        >>> g = key.grade({"y": -6}, student="ada")
        >>> g.score, g.max_score, [i.status for i in g.items]
        (1.0, 2.0, ['right', 'missing'])
        """
        if not isinstance(answers, Mapping):
            raise TypeError(f"grade: answers must be a dict of answers, got {type_name(answers)}")
        return grade(self, answers, student)

    def solution_for(self, student: str = ""):
        """The solution of the (single) case with this student's inputs (see ``[vary]``)."""
        if not self.vary or not student:
            return self.solutions[0]
        who = canonical(student)
        if who not in self._by_student:
            if len(self._by_student) > 4096:  # a class of thousands: keep memory bounded
                self._by_student.clear()
                self._by_inputs.clear()
            solution = vary.draw(self, student)
            self._by_student[who] = self._by_inputs.setdefault(tuple(solution.case.inputs.items()), solution)
        return self._by_student[who]

    def _override(self, answers):
        if not isinstance(answers, Mapping):
            raise TypeError(f"check: answers must be a dict, got {type_name(answers)}")
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
                raise SheetError(f"check: the answers for case {case.name!r} must be a dict, got {type_name(given)}")
            fail = Failer(f"{self.source} (answers given to check)", None)
            path = ("cases", i, "answers") if len(self.cases) > 1 else ("answers",)
            out.append((solution, sheet_answers(given, path, self, solution.values, fail, None)))
        return out


def loads(text: str, source: str = "<sheet>") -> Sheet:
    """Read and validate a sheet from TOML text; raise SheetError naming the line and key.

    >>> loads('[inputs]\\nx = 1\\n[graph]\\ny = "x * q"\\n')
    Traceback (most recent call last):
    ...
    viz.exercise.errors.SheetError: <sheet>, line 4: graph.y: column 5: unknown name 'q': it is neither a step nor an input; give it a value in [inputs]
    """
    if not isinstance(text, str):
        raise TypeError(f"loads: the sheet must be a str of TOML text, got {type_name(text)}")
    data, locator = parse_toml(text, source)
    if "student" in data:
        if "graph" not in data:
            raise SheetError(f"{source}: this is a submission (student = \"ID\" and [answers]); grade it against "
                             f"the teacher's key: gradflow grade KEY.toml {source}")
        data = dict(data)
        data.pop("student")
    return _build(data, source, locator, text)


def load(path) -> Sheet:
    """Read and validate a sheet from a TOML file (regular files up to 1 MB)."""
    return loads(read_text(path), str(path))


def check(sheet, answers: Mapping | None = None):
    """Grade a sheet (a Sheet, or the path of a TOML file); see ``Sheet.check``."""
    if not isinstance(sheet, Sheet):
        sheet = load(sheet)
    return sheet.check(answers)


def _build(data: dict, source: str, locator, text: str = "") -> Sheet:
    fail = Failer(source, locator)
    if not data:
        fail((), "the sheet is empty; it needs an [inputs] table, a [graph] of named steps and [answers] "
                 "(or [[cases]] with their own inputs and answers)")
    for key in data:
        if key not in TOP_KEYS:
            unknown_key(fail, (), key, TOP_KEYS)

    title = data.get("title", Path(source).stem if source != "<sheet>" else "exercise")
    description = data.get("description", "")
    for key, value in (("title", title), ("description", description)):
        if not isinstance(value, str):
            fail((key,), f"must be a string, got {kind_of(value)}")

    # The tolerance: one rule for the sheet; a [tolerance] table may also hold per-answer rules.
    raw_tol = data.get("tolerance", {})
    per_answer = {}
    if isinstance(raw_tol, dict):
        per_answer = {k: v for k, v in raw_tol.items() if k not in TOLERANCE_KEYS}
        tolerance = read_tolerance(fail, ("tolerance",), {k: v for k, v in raw_tol.items() if k in TOLERANCE_KEYS})
    else:
        tolerance = read_tolerance(fail, ("tolerance",), raw_tol)

    # The graph: named steps, compiled, ordered so that every step comes after what it uses.
    if "graph" not in data:
        fail((), "missing output: there is no [graph] table of named steps (e.g. z = \"w*x + b\"; the last step is the output)")
    graph = read_table(fail, ("graph",), data["graph"], "named steps (name = \"expression\")")
    if not graph:
        fail(("graph",), "missing output: [graph] has no steps; add named steps such as z = \"w*x + b\" (the last is the output)")
    if len(graph) > MAX_STEPS:
        fail(("graph",), f"has {len(graph):,} steps; a sheet may have at most {MAX_STEPS:,}")
    steps = {}
    ops = 0
    for name, expr_text in graph.items():
        why = check_name(name)
        if why:
            fail(("graph", name), f"{why}; step names are used in expressions")
        if not isinstance(expr_text, str):
            fail(("graph", name), f"a step must be an expression in quotes, such as \"w*x + b\", got {kind_of(expr_text)} {expr_text!r:.40}")
        try:
            expr = Expr(expr_text)
        except ExprError as e:
            fail(("graph", name), str(e))
        if not expr.names:
            fail(("graph", name), f"the step uses no names; put constants such as {expr_text.strip()[:40]} in [inputs] or in the expression that uses them")
        if len(expr.code) == 1:
            fail(("graph", name), f"the step only repeats {expr.names[0]!r}; a step must compute something (use {expr.names[0]!r} directly)")
        ops += len(expr.code)
        if ops > 2 * MAX_OPS:  # code counts names and numbers too, about two entries per operation
            fail(("graph", name), f"the graph has more than {MAX_OPS:,} operations, the most a sheet may have; "
                                  "an exercise done by hand has a few dozen")
        steps[name] = expr

    output = data.get("output", list(graph)[-1])
    if not isinstance(output, str):
        fail(("output",), f"must be the name of a step in quotes, such as \"{list(graph)[-1]}\", got {kind_of(output)}")
    if output not in steps:
        fail(("output",), f"missing output: {output!r} is not a step of [graph]; the steps are {', '.join(steps)}")
    order = step_order(steps, fail)

    # Inputs: shared ones at the top, each case adding or overriding.
    top_inputs = read_table(fail, ("inputs",), data.get("inputs", {}), "inputs (name = number)")
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
        check_input_name(fail, ("inputs", name), name, steps)

    vary = read_vary(fail, data.get("vary", {}), leaves, top_inputs)
    if vary and len(case_paths) > 1 or vary and case_paths[0]:
        fail(("vary",), "per-student inputs work on a sheet without [[cases]]; use [inputs] and [answers]")
    update = read_update(fail, data.get("update"), leaves)
    conventions = read_conventions(fail, data.get("conventions", {}))
    comma = data.get("decimal_comma", True)
    if not isinstance(comma, bool):
        fail(("decimal_comma",), f"must be true or false, got {kind_of(comma)}")
    seed = data.get("seed", "")
    if not (is_int(seed) or isinstance(seed, str)) or len(str(seed)) > 100:
        fail(("seed",), f"must be a whole number or a short text, got {kind_of(seed)}")
    if not isinstance(data.get("fingerprint", ""), str):
        fail(("fingerprint",), "must be the text gradflow handout wrote")

    cases = []
    names_used = set()
    for i, (raw, path) in enumerate(zip(raw_cases, case_paths)):
        for key in raw:
            if path and key not in CASE_KEYS:
                unknown_key(fail, path, key, CASE_KEYS)
        label = raw.get("name", f"case {i + 1}" if path else "")
        if not isinstance(label, str):
            fail(path + ("name",), f"must be a string, got {kind_of(label)}")
        if label in names_used:
            fail(path + ("name",), f"two cases are named {label!r}; give each case its own name")
        names_used.add(label)
        case_description = raw.get("description", "")
        if not isinstance(case_description, str):
            fail(path + ("description",), f"must be a string, got {kind_of(case_description)}")
        own = read_table(fail, path + ("inputs",), raw.get("inputs", {}), "inputs (name = number)") if path else {}
        for name in own:
            check_input_name(fail, path + ("inputs", name), name, steps)
        inputs = {}
        for name in leaves:
            if name in own:
                inputs[name] = read_number(fail, path + ("inputs", name), own[name])
            elif name in top_inputs:
                inputs[name] = read_number(fail, ("inputs", name), top_inputs[name])
            elif name in vary:
                inputs[name] = vary[name][0]
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

    all_names = list(leaves) + [s for s in order]
    sheet = Sheet(title=title, description=description, tolerance=tolerance, params=frozenset(params),
                  steps={s: steps[s] for s in order}, output=output,
                  cases=[Case(label, d, inputs, ()) for label, d, inputs, _, _ in cases], source=source,
                  locator=locator, vary=vary, update=update, conventions=conventions, comma=comma,
                  fingerprint=_fingerprint(top_inputs, [c[2] for c in cases], vary, steps, output, params, update,
                                           conventions, seed))
    sheet.names = all_names
    # Solving each case (done by Sheet) found domain errors; now the answers, which need the values.
    items = {}
    for i, ((label, d, inputs, raw_answers, path), solution) in enumerate(zip(cases, sheet.solutions)):
        answers = read_table(fail, path + ("answers",), raw_answers, "answers (\"y\" = 3, \"dy/dw\" = 2)")
        parsed = sheet_answers(answers, path + ("answers",), sheet, solution.values, fail, locator)
        sheet.cases[i] = solution.case = Case(label, d, inputs, parsed)
        for a in parsed:
            items.setdefault(a.item, a.key)
    listed = data.get("items")
    if listed is not None:
        if not isinstance(listed, list) or not all(isinstance(k, str) for k in listed):
            fail(("items",), f"must be an array of answer keys, e.g. [\"y\", \"dy/dw\"], got {listed!r:.60}")
        for k in listed:
            items.setdefault(item_of(fail, ("items",), k, sheet), k)
    sheet.items = items if listed is not None else None
    sheet.all_items = items
    sheet.formulas = _formulas(fail, data.get("formula", False), sheet)
    for i, solution in enumerate(sheet.solutions):
        bad = nonfinite(sheet, solution)
        if bad:
            key, value = bad
            where = case_paths[i] + ("answers", key) if key in dict(cases[i][3]) else ("items",)
            fail(where, f"{solution.prefix}the correct value of {key} is {value} at these inputs "
                        f"({', '.join(f'{n} = {fmt(v)}' for n, v in list(solution.case.inputs.items())[:10])}); "
                        "an exercise needs finite answers: change the inputs")
    sheet.tolerances = {item_of(fail, ("tolerance", k), k, sheet): read_tolerance(fail, ("tolerance", k), v)
                        for k, v in per_answer.items()}
    points = read_table(fail, ("points",), data.get("points", {}), "points (\"dy/dw\" = 2)")
    for k, v in points.items():
        item = item_of(fail, ("points", k), k, sheet)
        if not is_real(v) or not 0 <= v < 1e9:
            fail(("points", k), f"points must be a number ≥ 0, got {v!r:.40}")
        if item not in items:
            fail(("points", k), f"{k!r} is not one of the items to answer ({', '.join(items.values())})")
        sheet.points[item] = float(v)
    return sheet


def _formulas(fail, raw, sheet) -> frozenset:
    if isinstance(raw, bool):
        return frozenset(sheet.all_items) if raw else frozenset()
    if not isinstance(raw, list) or not all(isinstance(k, str) for k in raw):
        fail(("formula",), f"must be true, false or an array of answer keys such as [\"dy/dw\"], got {kind_of(raw)}")
    out = set()
    for k in raw:
        item = item_of(fail, ("formula",), k, sheet)
        if item not in sheet.all_items:
            fail(("formula",), f"{k!r} is not one of the items to answer ({', '.join(sheet.all_items.values())})")
        out.add(item)
    return frozenset(out)


def _fingerprint(inputs, cases, vary, steps, output, params, update, conventions, seed) -> str:
    """A short hash of what decides the exercise's numbers: not its title, description or comments."""
    import hashlib
    import json

    decides = {"inputs": {n: float(x) for n, x in inputs.items()}, "cases": cases,
               "vary": {n: list(v) for n, v in vary.items()},
               "graph": {n: "".join(e.text.split()) for n, e in steps.items()}, "output": output,
               "params": sorted(params), "update": update._asdict() if update else None,
               "conventions": conventions, "seed": seed}
    text = json.dumps(decides, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


