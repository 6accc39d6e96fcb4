"""A class at once: read submissions, grade them against one key, write the gradebook.

A submission is ``student = "ID"`` and ``[answers]``; a filled-in handout is one
too. Whatever else a file holds is never used: the graph and the inputs always
come from the key and the id, so a submission cannot change what is right (the
row says when the file's inputs, graph or handout fingerprint differ from the key's).
Each answer is judged on its own; only a file that cannot be read at all is
invalid as a whole, and its row keeps the id whenever one can be read.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from collections import Counter
from pathlib import Path
from typing import NamedTuple

from engine.args import is_real

from .errors import SheetError, kind_of
from .grade import MISTAKES, Grade, grade
from .ids import MAX_ID, Writer, canonical, cell, file_names, index_csv, normal, problem, read_roster, shown
from .numbers import fmt
from .text import parse_toml, read_text

MAX_SUBMISSIONS = 100_000
# What a handout holds besides the answers: read past without a word (the key decides all of it).
HANDOUT_KEYS = ("title", "description", "params", "output", "conventions", "items", "tolerance", "formula",
                "decimal_comma", "update", "inputs", "graph", "fingerprint")
_ID_LINE = re.compile(r'^\s*student\s*=\s*"([^"\\\n]{1,200})"', re.MULTILINE)


class Submission(NamedTuple):
    student: str
    answers: dict
    locator: object
    notes: list
    data: dict  # the whole file, for comparing a handout's inputs and graph with the key's


def read_submission(path) -> Submission:
    """A submission file read; SheetError (with ``student`` set when it could be read) when it
    cannot be read at all: not TOML, too big, not a regular file, no usable id."""
    source = str(path)
    text = ""
    try:
        text = read_text(path)
        data, locator = parse_toml(text, source)
    except SheetError as e:
        guess = _ID_LINE.search(text)  # the id of a file that is not TOML, when a line gives it
        e.student = normal(guess.group(1)) if guess else ""
        raise
    student = data.get("student")
    if not isinstance(student, str) or not normal(student):
        got = kind_of(student) if "student" in data else "none"
        raise _invalid(f"{source}: a submission needs student = \"ID\", the student's id, got {got}", "")
    student = normal(student)
    if problem(student):
        raise _invalid(f"{source}: {problem(student)}", student[:MAX_ID] + "…")
    answers = data.get("answers", {})
    if not isinstance(answers, dict):
        raise _invalid(f"{source}: [answers] must be a table of answers (\"dy/dw\" = 0.5), got {kind_of(answers)}",
                       student)
    notes = [f"ignored the key {shown(str(k), 40)!r}, which a submission does not use" for k in data
             if k not in ("student", "answers", *HANDOUT_KEYS)]
    return Submission(student, answers, locator, notes, data)


def _invalid(message: str, student: str) -> SheetError:
    e = SheetError(message)
    e.student = student
    return e


def differences(key, sub: Submission, student: str) -> list:
    """What a handout says that differs from the key for this student: its inputs, its graph, its fingerprint."""
    out = []
    fingerprint = sub.data.get("fingerprint")
    if isinstance(fingerprint, str) and fingerprint != key.fingerprint:
        out.append(f"the handout was made from another version of the key (fingerprint {shown(fingerprint, 20)}, "
                   f"the key's {key.fingerprint}); graded with the key's numbers")
    inputs = sub.data.get("inputs")
    if isinstance(inputs, dict):
        mine = key.solution_for(student).case.inputs
        off = [n for n, x in mine.items() if n in inputs and not (is_real(inputs[n]) and float(inputs[n]) == x)]
        off += [n for n in inputs if n not in mine]
        if off:
            out.append(f"the file's inputs differ from the key's for this id ({', '.join(shown(str(n), 20) for n in off[:5])}); "
                       "graded with the key's")
    graph = sub.data.get("graph")
    if isinstance(graph, dict) and {n: "".join(str(e).split()) for n, e in graph.items()} != \
            {n: "".join(e.text.split()) for n, e in key.steps.items()}:
        out.append("the file's [graph] differs from the key's; graded with the key's")
    return out


def grade_file(key, path) -> Grade:
    """One submission file graded; a file that cannot be read is a Grade with ``error`` set."""
    try:
        sub = read_submission(path)
    except SheetError as e:
        return Grade(key, getattr(e, "student", ""), None, error=str(e), source=str(path))
    try:
        notes = sub.notes + differences(key, sub, sub.student)
    except SheetError as e:
        return Grade(key, sub.student, None, error=f"the key cannot be solved with this student's inputs: {e}",
                     source=str(path))
    return grade(key, sub.answers, sub.student, locator=sub.locator, source=str(path), notes=notes)


def submission_files(paths) -> list:
    """The files named, each folder replaced by its .toml files (sorted)."""
    out = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(q for q in p.iterdir() if q.suffix == ".toml" and not q.name.startswith("."))
        else:
            out.append(p)
    return out


def gradebook(grades: list, items: list) -> str:
    """The CSV text: student, score, max_score, one column per item (points earned), file, note."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["student", "score", "max_score", *items, "file", "note"])
    for g in grades:
        earned = {i.key: fmt(i.earned) for i in g.items}
        w.writerow([cell(g.student), fmt(g.score), fmt(g.max_score), *(earned.get(k, "0") for k in items),
                    cell(g.source), cell(g.note)])
    return buf.getvalue()


def item_analysis(key, grades: list) -> list:
    """Per item: points, how many right, wrong, invalid and missing among the graded files, the
    share right, and the most common wrong answers with the mistake each points to."""
    ok = [g for g in grades if g.report is not None]
    out = []
    for n, (item, text) in enumerate(key.all_items.items()):
        counts = Counter(g.items[n].status for g in ok)
        wrong, kinds = Counter(), {}
        for g in ok:
            row = g.report.by_item.get(item)
            if row is not None and row.status == "wrong":
                shown_value = format(row.given, ".3g")
                wrong[shown_value] += 1
                # The slip itself, before "upstream error" when both are found.
                named = [k for k in row.mistakes if k != "upstream"] or list(row.mistakes) or ["?"]
                kinds.setdefault(shown_value, Counter())[named[0]] += 1
        common = [{"answer": value, "count": count,
                   "mistake": MISTAKES.get(kinds[value].most_common(1)[0][0])}
                  for value, count in wrong.most_common(3)]
        out.append({"item": text, "points": key.points.get(item, 1.0), "graded": len(ok),
                    **{s: counts[s] for s in ("right", "wrong", "invalid", "missing")},
                    "share_right": counts["right"] / len(ok) if ok else None, "common_wrong": common})
    return out


def items_csv(analysis: list) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["item", "points", "graded", "right", "wrong", "invalid", "missing", "share_right", "common_wrong"])
    for a in analysis:
        common = "; ".join(_common(a))
        share = "" if a["share_right"] is None else f"{a['share_right']:.3f}"
        w.writerow([cell(a["item"]), fmt(a["points"]), a["graded"], a["right"], a["wrong"], a["invalid"], a["missing"],
                    share, cell(common)])
    return buf.getvalue()


def _common(a: dict) -> list:
    # "0.0066 ×4 (missing local derivative)": a wrong answer, how often, and the slip it points to.
    return [f"{c['answer']} ×{c['count']}" + (f" ({c['mistake']})" if c["mistake"] else "") for c in a["common_wrong"]]


def summary(key, grades: list, analysis: list) -> list:
    """The class at a glance: how many graded, the mean, and per item the share right and the
    most common wrong values with the mistake they point to."""
    files = [g for g in grades if not g.absent]
    ok = [g for g in files if not g.error]
    lines = [f"{key.title}: {len(files)} submission(s), {len(ok)} graded, {len(files) - len(ok)} invalid"
             + (f"; {len(grades) - len(files)} on the roster without a submission" if len(grades) > len(files) else "")]
    if ok:
        mean = sum(g.score for g in ok) / len(ok)
        lines.append(f"mean score {mean:.2f} of {fmt(ok[0].max_score)}")
    lines.append("")
    lines.append("item analysis (share right; the most common wrong answers and the mistake they point to):")
    for a in analysis:
        share = f"{a['share_right']:.0%}" if a["share_right"] is not None else "-"
        line = f"  {a['item']}: {share} right" + "".join(f", {a[s]} {s}" for s in ("invalid", "missing") if a[s])
        common = _common(a)
        lines.append(line + (f"; wrong: {', '.join(common)}" if common else ""))
    return lines


def gradescope(g: Grade) -> dict:
    """Gradescope's autograder results: one test per item (its points and its exam feedback), and
    the total, equal to the gradebook's score."""
    tests = []
    feedback, last = {}, ""
    if g.report is not None:
        for line in g.report.exam_lines()[1:]:
            if line.startswith("    "):
                feedback[last] = feedback.get(last, "") + "\n" + line.strip()
            else:
                last = line.strip().split(":", 1)[0]
                feedback[last] = line.strip()
    for i in g.items:
        tests.append({"name": i.key, "score": i.earned, "max_score": i.points,
                      "status": "passed" if i.status == "right" else "failed",
                      "output": feedback.get(i.key, f"{i.key}: {i.status}")})
    head = g.error or "; ".join(g.notes)
    return {"score": g.score, "output": shown(head, 2000) if head else f"score {fmt(g.score)} of {fmt(g.max_score)}",
            "visibility": "visible", "stdout_visibility": "hidden", "tests": tests}


def _flag_duplicates(grades: list) -> list:
    groups = {}
    for g in grades:
        if g.student:
            groups.setdefault(canonical(g.student), []).append(g)
    out = []
    for same in groups.values():
        if len(same) > 1:
            for g in same:
                g.notes.append(f"duplicate id ({len(same)} submissions: {', '.join(shown(x.source) for x in same)})")
            out.append(same)
    return out


def _roster(grades: list, roster: list, key) -> list:
    """A row for every roster id (0 and "no submission" when none came); a submission whose id is
    not on the roster is flagged."""
    on = {canonical(s): s for s in roster}
    came = set()
    for g in grades:
        if g.student and canonical(g.student) in on:
            came.add(canonical(g.student))
        else:
            g.notes.append("not on the roster")
    for s in roster:
        if canonical(s) not in came:
            grades.append(Grade(key, s, None, notes=["no submission"], absent=True))
    return grades


def grade_all(args) -> int:
    from .sheet import load

    try:
        key = load(args.key)
    except SheetError as e:
        print(f"gradflow grade: the key is invalid: {shown(str(e), 2000)}", file=sys.stderr)
        return 2
    try:
        roster, refused = read_roster(args.roster) if getattr(args, "roster", None) else (None, [])
    except SheetError as e:
        print(f"gradflow grade: the roster is invalid: {shown(str(e), 2000)}", file=sys.stderr)
        return 2
    if not key.all_items:
        print(f"gradflow grade: {shown(key.source)}: the key lists no items to answer; add [answers] (or items = [...])",
              file=sys.stderr)
        return 2
    if len(key.cases) > 1:
        print(f"gradflow grade: {shown(key.source)}: a key has one case; [[cases]] are for self-study sheets",
              file=sys.stderr)
        return 2
    for n, why in refused:
        print(f"gradflow grade: {shown(args.roster)}, line {n}: refused: {why}", file=sys.stderr)
    files = submission_files(args.submissions)
    if not files:
        print("gradflow grade: no submissions found (give .toml files or folders of them)", file=sys.stderr)
        return 2
    if len(files) > MAX_SUBMISSIONS:
        print(f"gradflow grade: {len(files):,} submissions; at most {MAX_SUBMISSIONS:,} in one run", file=sys.stderr)
        return 2
    if getattr(args, "gradescope", None) and len(files) != 1:
        print(f"gradflow grade: --gradescope writes the results of one submission; got {len(files):,}", file=sys.stderr)
        return 2

    report = key.check()
    for row in report.cases[0].rows:
        if row.status == "wrong":
            print(f"gradflow grade: note: the key's own answer {row.key} = {fmt(row.given)} differs from the computed "
                  f"{fmt(row.correct)}; grading uses the computed value", file=sys.stderr)
    grades = [grade_file(key, f) for f in files]
    for same in _flag_duplicates(grades):
        print(f"gradflow grade: duplicate student id {shown(same[0].student)!r} in "
              f"{', '.join(shown(g.source) for g in same)}", file=sys.stderr)
    if roster is not None:
        grades = _roster(grades, roster, key)
        strays = [g for g in grades if "not on the roster" in g.notes]
        if strays:
            print(f"gradflow grade: {len(strays)} submission(s) not on the roster: "
                  f"{', '.join(shown(g.student or g.source) for g in strays[:10])}", file=sys.stderr)
    grades.sort(key=lambda g: (g.student == "", canonical(g.student), g.source))
    analysis = item_analysis(key, grades)

    # Every file this run writes is planned first; none may exist yet or be one of the inputs.
    writer = Writer([args.key, *files, *([args.roster] if roster is not None else [])])
    outputs = {}
    if args.csv:
        outputs[Path(args.csv)] = lambda: gradebook(grades, list(key.all_items.values()))
    if getattr(args, "items", None):
        outputs[Path(args.items)] = lambda: items_csv(analysis)
    if getattr(args, "gradescope", None):
        outputs[Path(args.gradescope)] = lambda: json.dumps(gradescope(grades[0]), indent=1, ensure_ascii=False) + "\n"
    if args.feedback_dir:
        folder = Path(args.feedback_dir)
        written = [g for g in grades if not g.absent]
        labels = _labels(written)
        names = file_names(labels)
        for g, label in zip(written, labels):
            outputs[folder / f"{names[label]}.txt"] = (lambda g=g: g.feedback(args.feedback or "exam") + "\n")
        outputs[folder / "index.csv"] = lambda: index_csv(
            (g.student or "", f"{names[label]}.txt") for g, label in zip(written, labels))
    if len(outputs) != len({p.resolve() for p in outputs}):
        print("gradflow grade: two outputs name the same file; give each its own name", file=sys.stderr)
        return 2
    if writer.refuse("grade", outputs, "remove those files or choose other names"):
        return 2
    if args.feedback_dir:
        Path(args.feedback_dir).mkdir(parents=True, exist_ok=True)
    for path, text in outputs.items():
        writer.write(path, text())

    if args.json:
        print(json.dumps({"key": key.title, "fingerprint": key.fingerprint, "grades": [g.to_dict() for g in grades],
                          "items": analysis}, indent=1, ensure_ascii=False))
    else:
        if args.feedback:
            for g in grades:
                if not g.absent:
                    print(g.feedback(args.feedback))
                    print()
        print("\n".join(summary(key, grades, analysis)))
        for g in grades:
            if g.error:
                print(f"invalid: {shown(g.source)}: {shown(g.error, 2000)}")
        for what, flag in (("gradebook", args.csv), ("item analysis", getattr(args, "items", None)),
                           ("Gradescope results", getattr(args, "gradescope", None))):
            if flag:
                print(f"{what} written to {shown(flag)}")
    return 1 if refused else 0


def _labels(grades: list) -> list:
    # A student's feedback file is named by their id; two files with one id, by the id and the file.
    names = [g.student or Path(g.source).stem for g in grades]
    count = Counter(map(canonical, names))
    return [f"{n} ({Path(g.source).name})" if count[canonical(n)] > 1 else n for n, g in zip(names, grades)]
