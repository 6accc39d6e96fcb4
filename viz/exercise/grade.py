"""Grading: compare answers with one solved case, recognise the common slips, say why.

``CaseReport`` is the graded case (what ``check`` prints); ``Grade`` is one
student's submission graded against a teacher's key, with points and feedback
in two modes: ``tutor`` (correct values, the chain, the first wrong step) and
``exam`` (which items are wrong or missing and the kind of mistake, no numbers).
"""

from __future__ import annotations

import math
from typing import NamedTuple

from engine.args import type_name

from ..terminal import columns
from .answers import Answer, submitted
from .errors import SheetError
from .hints import Slips, accepts, formula_holds
from .ids import normal, shown
from .numbers import fmt, json_number

# The kinds of mistake a hint can name, in the words the exam feedback uses.
MISTAKES = {
    "upstream": "upstream error",
    "sign": "sign",
    "split": "one branch of a split",
    "local": "missing local derivative",
    "product": "wrong input of a product",
    "variable": "wrong variable",
    "max": "max routed wrongly",
    "sigmoid": "σ′ dropped",
    "step": "a mistake in this step",
    "partial": "local and total derivative confused",
    "update": "wrong update step",
    "formula": "a formula that holds at one point only",
}


class Row(NamedTuple):
    """One graded answer; ``explanation`` is empty when it is right. ``status`` is
    "right", "wrong", "missing" or "invalid" (given, but not readable: the explanation says
    why); ``hints`` are (mistake kind, tutor text, exam text)."""

    key: str
    kind: str
    name: str
    given: float
    formula: str
    correct: float
    ok: bool
    explanation: tuple
    status: str = "right"
    hints: tuple = ()
    of: str = ""

    @property
    def yours(self) -> str:
        if self.status == "missing":
            return "(none)"
        if self.status == "invalid":
            return "(invalid)"
        return f"{self.formula} = {fmt(self.given)}" if self.formula else fmt(self.given)

    @property
    def mistakes(self) -> tuple:
        return tuple(dict.fromkeys(kind for kind, _, _ in self.hints))


class CaseReport:
    """The graded answers of one case, and which wrong one to look at first.

    ``items`` (kind, of, name) -> key: what must be answered; an item without an answer is "missing".
    ``verify(answer)``, when given, must also hold for a formula answer to be right (a submitted
    formula is checked at other inputs too; see ``formula_holds``).
    """

    def __init__(self, solution, answers: tuple, items: dict | None = None, verify=None):
        self.solution = solution
        self.name = solution.case.name
        sheet = solution.sheet
        # By item, not by key: "∂y/∂z" and "dy / dz" are the same answer as "dy/dz".
        invalid = {a.item: a for a in answers if a.problem}
        given = {a.item: a for a in answers if not a.problem}
        ok = {item: accepts(solution, a, a.given, solution.correct(a)) and not (a.formula and verify and not verify(a))
              for item, a in given.items()}
        slips = Slips(solution, given, ok)
        self.rows = []
        for a in answers:
            if a.problem:
                self.rows.append(Row(a.key, a.kind, a.name, math.nan, "", solution.correct(a), False,
                                     (a.problem,), "invalid", (), a.of))
                continue
            hints = () if ok[a.item] else tuple(slips.hints(a))
            if not ok[a.item] and a.formula and accepts(solution, a, a.given, solution.correct(a)):
                text = "your formula gives the right number at these inputs but not at others near them"
                hints = (("formula", text, text),) + hints
            self.rows.append(Row(a.key, a.kind, a.name, a.given, a.formula, solution.correct(a), ok[a.item],
                                 () if ok[a.item] else tuple(self._explain(a, hints)),
                                 "right" if ok[a.item] else "wrong", hints, a.of))
        for item, key in (items or sheet.items or {}).items():
            if item not in given and item not in invalid:
                kind, of, name = item
                a = Answer(key, kind, name, math.nan, "", "", of)
                self.rows.append(Row(key, kind, name, math.nan, "", solution.correct(a), False,
                                     ("not answered",), "missing", (), of))
        listed = items or sheet.items
        if listed:  # in the order the key lists its items
            order = {item: i for i, item in enumerate(listed)}
            self.rows.sort(key=lambda r: order.get((r.kind, r.of, r.name), len(order)))
        wrong_grads = [r for r in self.rows if r.status == "wrong" and r.kind == "gradient"]
        wrong_values = [r for r in self.rows if r.status == "wrong" and r.kind == "value"]
        s = solution
        self.first_wrong_gradient = min(wrong_grads, key=lambda r: s.backward_rank[r.name], default=None)
        self.first_wrong_value = min(wrong_values, key=lambda r: s.forward_rank[r.name], default=None)

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rows)

    @property
    def wrong(self) -> list:
        return [r for r in self.rows if not r.ok]

    @property
    def missing(self) -> list:
        return [r for r in self.rows if r.status == "missing"]

    def _explain(self, a, hints) -> list:
        s = self.solution
        if a.kind == "value":
            return [s.forward(a.name), *(tutor for _, tutor, _ in hints)]
        if a.kind != "gradient":
            return [*s.explain_total(a), *(tutor for _, tutor, _ in hints)]
        lines = [s.chain(a.name), *filter(None, [s.path(a.name)]), *s.gates(a.name)]
        return lines + [tutor for _, tutor, _ in hints]

    # -- showing it -----------------------------------------------------------------------

    def highlight(self) -> dict:
        """The drawn nodes to mark: each wrong answer's node, with a short note."""
        s = self.solution
        notes = {}
        for r in self.wrong:
            if r.name in s.reaches and r.status == "wrong":  # only what leads to the output is drawn
                node = s.nodes[r.name]
                note = f"{r.key}: you wrote {fmt(r.given)}, correct {fmt(r.correct)}"
                notes[node] = f"{notes[node]}; {note}" if node in notes else note
        return notes

    def draw(self, **options):
        """The graph with values and gradients, wrong answers highlighted."""
        return self.solution.draw(highlight=self.highlight(), **options)

    @property
    def right(self) -> int:
        return sum(r.ok for r in self.rows)

    def _head(self) -> str:
        missing = f" ({len(self.missing)} not answered)" if self.missing else ""
        return (f"case {self.name!r}: " if self.name else "") + f"{self.right} of {len(self.rows)} answers right{missing}"

    def _firsts(self) -> list:
        # (what, key, why): the one wrong answer to look at first, for values and for gradients.
        out = []
        if self.first_wrong_value:
            out.append(("first wrong value in forward order", self.first_wrong_value.key, "later values may follow from it"))
        if self.first_wrong_gradient:
            out.append(("first wrong gradient in backward order", self.first_wrong_gradient.key,
                        "the gradients below it may follow from it"))
        return out

    def _notes(self) -> list:
        s = self.solution
        return [s.convention_note()] if s.kinks else []

    def lines(self) -> list:
        table = [("answer", "yours", "correct", "")]
        table += [(r.key, r.yours, _correct(r), r.status.upper() if r.status != "right" else "right") for r in self.rows]
        out = [self._head(), *columns(table, "  "), *self._notes()]
        out += [f"{what}: {key} ({why})" for what, key, why in self._firsts()]
        for r in self.wrong:
            out.append("")
            if r.status == "missing":
                out.append(f"{r.key}: not answered")
                continue
            if r.status == "invalid":
                out.append(f"{r.key}: invalid answer: {r.explanation[0]}")
                continue
            out.append(f"{r.key}: you wrote {r.yours}; the correct value is {fmt(r.correct)}")
            out += ["  " + line for line in r.explanation]
        return out

    def exam_lines(self) -> list:
        """Which items are wrong or missing and the kind of mistake: never a number."""
        out = [self._head()]
        for r in self.rows:
            if r.status == "right":
                out.append(f"  {r.key}: right")
            elif r.status == "missing":
                out.append(f"  {r.key}: missing (not answered)")
            elif r.status == "invalid":
                out.append(f"  {r.key}: invalid answer ({r.explanation[0]})")
            else:
                kinds = ", ".join(MISTAKES[k] for k in r.mistakes) or "no common slip recognised"
                out.append(f"  {r.key}: wrong ({kinds})")
                out += [f"    {exam}" for _, _, exam in r.hints]
        return out

    def _html(self) -> str:
        from html import escape as e

        out = [f"<p><b>{e(self._head())}</b></p>",
               "<table><thead><tr><th>answer</th><th>yours</th><th>correct</th><th></th></tr></thead><tbody>"]
        for r in self.rows:
            mark = ("<span style='color:#1b7a2f'>✓ right</span>" if r.ok else
                    f"<span style='color:#c62828'>✗ {r.status}</span>")
            out.append(f"<tr><td><code>{e(r.key)}</code></td><td>{e(r.yours)}</td>"
                       f"<td>{e(_correct(r))}</td><td>{mark}</td></tr>")
        out.append("</tbody></table>")
        out += [f"<p>{e(note)}</p>" for note in self._notes()]
        out += [f"<p>{e(what.capitalize())}: <code>{e(key)}</code> ({e(why)})</p>" for what, key, why in self._firsts()]
        for r in self.wrong:
            if r.status != "wrong":
                out.append(f"<p><code>{e(r.key)}</code>: {e('not answered' if r.status == 'missing' else 'invalid answer')}"
                           + (f": {e(r.explanation[0])}" if r.status == "invalid" else "") + "</p>")
                continue
            items = "".join(f"<li>{e(line)}</li>" for line in r.explanation)
            out.append(f"<p><code>{e(r.key)}</code>: you wrote {e(r.yours)}; the correct value is "
                       f"{e(fmt(r.correct))}</p><ul>{items}</ul>")
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
                {"key": r.key, "kind": r.kind, "name": r.name, "status": r.status,
                 "given": None if r.status in ("missing", "invalid") else json_number(r.given),
                 "formula": r.formula or None, "correct": None if r.status == "missing" else json_number(r.correct),
                 "ok": r.ok,
                 "mistakes": list(r.mistakes), "explanation": list(r.explanation)}
                for r in self.rows
            ],
        }


def _correct(row) -> str:
    # An item not answered shows no value: a student checking half-finished work must not read it off.
    return "" if row.status == "missing" else fmt(row.correct)


class Report:
    """The graded sheet: a text table (``str``), an HTML table in Jupyter, JSON for graders.

    Truthy when every answer is right.
    """

    def __init__(self, sheet, cases: list):
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
        out.append(f"rule: {self.sheet.tolerance.rule()}"
                   + ("; for a parameter after a step, the 1% is of the step" if self.sheet.update else ""))
        for case in self.cases:
            out.append("")
            out += case.lines()
        return "\n".join(out)

    __str__ = text

    def to_dict(self) -> dict:
        t = self.sheet.tolerance
        return {"title": self.sheet.title, "source": self.sheet.source, "ok": self.ok,
                "tolerance": t.legacy if t.legacy is not None else {"rel": t.rel, "abs": t.abs, "digits": t.digits},
                "rule": t.rule(), "output": self.sheet.output,
                "cases": [c.to_dict() for c in self.cases]}

    def to_json(self) -> str:
        import json

        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)

    def _repr_html_(self) -> str:
        from html import escape as e

        out = [f"<div class='gradflow-report'><h4>{e(self.sheet.title)}</h4>"]
        if self.sheet.description:
            out.append(f"<p>{e(self.sheet.description)}</p>")
        out += [case._html() for case in self.cases]
        out.append(f"<p><small>{e(self.sheet.tolerance.rule())}</small></p></div>")
        return "".join(out)

    def draw(self, case: int = 0, **options):
        """Case ``case``'s graph, with wrong answers highlighted."""
        return self.cases[case].draw(**options)

    def save(self, path) -> list:
        """Save the drawing of each case; with several cases, ``out.svg`` becomes ``out-1.svg``, ...

        Returns the paths written.
        """
        return save_drawings([c.draw for c in self.cases], path)


def save_drawings(drawers, path, *, overwrite=True) -> list:
    """Each case's drawing: ``path`` for one case, ``OUT-1.svg``, ``OUT-2.svg``, ... for several.

    With ``overwrite=False`` nothing is written if any of them is already there (FileExistsError).
    """
    from pathlib import Path

    from ..render import none_exist

    path = Path(path)
    paths = [path] if len(drawers) == 1 else [path.with_name(f"{path.stem}-{i}{path.suffix}")
                                              for i in range(1, len(drawers) + 1)]
    if not overwrite:
        none_exist(paths)
    return [d().save(p, overwrite=overwrite) for d, p in zip(drawers, paths)]


# --- one student's submission against a key ----------------------------------------------


class Item(NamedTuple):
    """One item of a graded submission: its key, "right"/"wrong"/"missing"/"invalid", the points."""

    key: str
    status: str
    points: float
    earned: float
    mistakes: tuple
    problem: str = ""  # why an invalid answer could not be read


class Grade:
    """One student's submission graded against a teacher's key.

    ``score``/``max_score``, ``items`` (one Item per item the key asks for),
    ``ignored`` (answers the key does not ask for), ``notes`` (what the grader noticed about
    the file: keys it ignored, a decimal comma read as a point, inputs that differ from the
    key's), and ``feedback(mode)``: "tutor" for self-study, "exam" for assessment (no correct
    values). ``error`` is set only when the file could not be read at all.
    """

    def __init__(self, key, student: str, report: CaseReport | None, ignored=(), error: str = "", source: str = "",
                 notes=(), absent: bool = False):
        self.key = key
        self.absent = absent  # a roster's student who handed nothing in
        self.student = student
        self.report = report
        self.ignored = list(ignored)
        self.error = error
        self.source = source
        self.notes = list(notes)
        self.items = []
        for item, text in key.all_items.items():
            pts = key.points.get(item, 1.0)
            row = report.by_item.get(item) if report else None
            status = row.status if row else "missing"
            self.items.append(Item(text, status, pts, pts if status == "right" else 0.0, row.mistakes if row else (),
                                   row.explanation[0] if row and status == "invalid" else ""))
        self.max_score = sum(i.points for i in self.items)
        self.score = sum(i.earned for i in self.items)

    def __repr__(self):
        return f"<Grade {shown(self.student) or '(no id)'}: {fmt(self.score)} of {fmt(self.max_score)}>"

    @property
    def ok(self) -> bool:
        return not self.error and all(i.status == "right" for i in self.items)

    @property
    def note(self) -> str:
        """The error and the notes in one line, for the gradebook."""
        return "; ".join(filter(None, [self.error, *self.notes]))

    def feedback(self, mode: str = "tutor") -> str:
        """The feedback text: "tutor" shows values and chains; "exam" never a number from the key."""
        if mode not in ("tutor", "exam"):
            raise ValueError(f"feedback: mode must be 'tutor' or 'exam', got {mode!r}")
        head = f"{self.key.title}: {shown(self.student) or '(no id)'}"
        if self.error or self.report is None:
            return f"{head}\nnot graded: {self.error or self.note}"
        lines = [head, f"score {fmt(self.score)} of {fmt(self.max_score)}"]
        if mode == "exam":
            lines += self.report.exam_lines()
        else:
            lines.append(f"rule: {self.key.tolerance.rule()}")
            lines += self.report.lines()
        if self.ignored:
            lines.append(f"ignored (the key does not ask for them): {', '.join(shown(k, 60) for k in self.ignored)}")
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {"student": self.student, "source": self.source, "score": self.score, "max_score": self.max_score,
                "error": self.error or None, "ignored": self.ignored, "notes": self.notes,
                "items": [{"key": i.key, "status": i.status, "points": i.points, "earned": i.earned,
                           "mistakes": list(i.mistakes), "problem": i.problem or None} for i in self.items]}


def grade(key, answers, student: str = "", *, locator=None, source: str = "", notes=()) -> Grade:
    """Grade ``answers`` (key text -> number, or arithmetic of numbers in quotes) against ``key``
    for one student. Each answer is judged on its own: one that cannot be read costs its item
    only. A formula of the inputs counts only for the items the key allows (``formula``), and
    only if it also holds at other inputs near the student's."""
    if not isinstance(student, str):
        raise TypeError(f"grade: student must be a str id, got {type_name(student)}")
    student = normal(student)
    try:
        solution = key.solution_for(student)
    except SheetError as e:
        return Grade(key, student, None, error=f"the key cannot be solved with this student's inputs: {e}", source=source)
    parsed, ignored = submitted(answers, key, solution, locator)
    report = CaseReport(solution, parsed, key.all_items, verify=lambda a: formula_holds(solution, a))
    report.by_item = {(r.kind, r.of, r.name): r for r in report.rows}
    notes = list(notes) + [f"{a.key}: {a.note}" for a in parsed if a.note]
    return Grade(key, student, report, ignored, source=source, notes=notes)
