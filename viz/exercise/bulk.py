"""A class at once: read submissions, grade them against one key, write the gradebook.

A submission is ``student = "ID"`` and ``[answers]``, nothing else: the graph and
the inputs always come from the key, so a submission cannot change what is right.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import sys
from collections import Counter
from pathlib import Path

from .errors import Failer, SheetError, kind_of
from .grade import MISTAKES, Grade, grade
from .numbers import fmt
from .text import parse_toml, read_text

MAX_ID = 100  # characters of a student id
MAX_SUBMISSIONS = 100_000


def read_submission(path) -> tuple:
    """(student, answers, locator) of a submission file; SheetError when it is not one."""
    source = str(path)
    data, locator = parse_toml(read_text(path), source)
    fail = Failer(source, locator)
    for k in data:
        if k in ("inputs", "graph", "cases", "vary", "update", "conventions", "points", "tolerance", "output"):
            fail((k,), f"a submission holds only student = \"ID\" and [answers]; it has [{k}], which the grader "
                       "never uses (the key gives the inputs and the graph): remove it")
        if k not in ("student", "answers", "title", "description"):
            fail((k,), f"unknown key {k!r}; a submission holds only student = \"ID\" and [answers]")
    student = data.get("student")
    if not isinstance(student, str) or not student.strip():
        fail(("student",) if "student" in data else (), "a submission needs student = \"ID\", the student's id, "
             f"got {kind_of(student) if 'student' in data else 'none'}")
    if len(student) > MAX_ID or any(c in student for c in "\n\r\0"):
        fail(("student",), f"a student id is one line of at most {MAX_ID} characters")
    answers = data.get("answers", {})
    if not isinstance(answers, dict):
        fail(("answers",), f"must be a table of answers (\"dy/dw\" = 0.5), got {kind_of(answers)}")
    return student.strip(), answers, locator


def grade_file(key, path) -> Grade:
    """One submission file graded; an unreadable or invalid one is a Grade with ``error`` set."""
    try:
        student, answers, locator = read_submission(path)
    except SheetError as e:
        return Grade(key, "", None, error=str(e), source=str(path))
    return grade(key, answers, student, locator=locator, source=str(path))


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
        w.writerow([_cell(g.student), fmt(g.score), fmt(g.max_score), *(earned.get(k, "0") for k in items),
                    _cell(g.source), _cell(g.note)])
    return buf.getvalue()


def _cell(text: str) -> str:
    # A spreadsheet runs a cell that starts with = + - @ as a formula: quote it as text.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def summary(key, grades: list) -> list:
    """The class at a glance: how many graded, the mean, and per item the share right and the
    most common wrong values with the mistake they point to."""
    ok = [g for g in grades if not g.error]
    lines = [f"{key.title}: {len(grades)} submission(s), {len(ok)} graded, {len(grades) - len(ok)} invalid"]
    if ok:
        mean = sum(g.score for g in ok) / len(ok)
        lines.append(f"mean score {mean:.2f} of {fmt(ok[0].max_score)}")
    lines.append("")
    lines.append("item analysis (share right; the most common wrong answers and the mistake they point to):")
    for n, (item, text) in enumerate(key.all_items.items()):
        right = sum(g.items[n].status == "right" for g in ok)
        missing = sum(g.items[n].status == "missing" for g in ok)
        wrong = Counter()
        kinds = {}
        for g in ok:
            row = g.report.by_item.get(item)
            if row is not None and row.status == "wrong":
                shown = format(row.given, ".3g")
                wrong[shown] += 1
                # The slip itself, before "upstream error" when both are found.
                named = [k for k in row.mistakes if k != "upstream"] or list(row.mistakes) or ["?"]
                kinds.setdefault(shown, Counter())[named[0]] += 1
        share = f"{right / len(ok):.0%}" if ok else "-"
        line = f"  {text}: {share} right" + (f", {missing} missing" if missing else "")
        common = []
        for value, count in wrong.most_common(3):
            kind = kinds[value].most_common(1)[0][0]
            common.append(f"{value} ×{count}" + (f" ({MISTAKES[kind]})" if kind != "?" else ""))
        lines.append(line + (f"; wrong: {', '.join(common)}" if common else ""))
    return lines


def _write(path: Path, text: str):
    # Written beside the target and renamed: a failed write leaves the old file whole.
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _file_name(student: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", student)[:MAX_ID].lstrip(".") or "student"


def grade_all(args) -> int:
    from .sheet import load

    try:
        key = load(args.key)
    except SheetError as e:
        print(f"gradflow grade: the key is invalid: {e}", file=sys.stderr)
        return 2
    if not key.all_items:
        print(f"gradflow grade: {key.source}: the key lists no items to answer; add [answers] (or items = [...])",
              file=sys.stderr)
        return 2
    if len(key.cases) > 1:
        print(f"gradflow grade: {key.source}: a key has one case; [[cases]] are for self-study sheets", file=sys.stderr)
        return 2
    report = key.check()
    for row in report.cases[0].rows:
        if row.status == "wrong":
            print(f"gradflow grade: note: the key's own answer {row.key} = {fmt(row.given)} differs from the computed "
                  f"{fmt(row.correct)}; grading uses the computed value", file=sys.stderr)
    files = submission_files(args.submissions)
    if not files:
        print("gradflow grade: no submissions found (give .toml files or folders of them)", file=sys.stderr)
        return 2
    if len(files) > MAX_SUBMISSIONS:
        print(f"gradflow grade: {len(files):,} submissions; at most {MAX_SUBMISSIONS:,} in one run", file=sys.stderr)
        return 2
    grades = [grade_file(key, f) for f in files]
    seen = {}
    for g in grades:
        g.note = g.error
        if g.student:
            seen.setdefault(g.student, []).append(g)
    for student, same in seen.items():
        if len(same) > 1:
            where = ", ".join(g.source for g in same)
            print(f"gradflow grade: duplicate student id {student!r} in {where}", file=sys.stderr)
            for g in same:
                g.note = (g.note + "; " if g.note else "") + f"duplicate id ({len(same)} submissions)"
    grades.sort(key=lambda g: (g.student == "", g.student, g.source))
    items = list(key.all_items.values())
    if args.csv:
        _write(Path(args.csv), gradebook(grades, items))
    if args.feedback_dir:
        out = Path(args.feedback_dir)
        out.mkdir(parents=True, exist_ok=True)
        used = Counter()
        for g in grades:
            name = _file_name(g.student or Path(g.source).stem)
            used[name] += 1
            suffix = f"-{used[name]}" if used[name] > 1 else ""
            _write(out / f"{name}{suffix}.txt", g.feedback(args.feedback or "exam") + "\n")
    if args.json:
        print(json.dumps([g.to_dict() for g in grades], indent=1, ensure_ascii=False))
    else:
        if args.feedback:
            for g in grades:
                print(g.feedback(args.feedback))
                print()
        print("\n".join(summary(key, grades)))
        for g in grades:
            if g.error:
                print(f"invalid: {g.source}: {g.error}")
        if args.csv:
            print(f"gradebook written to {args.csv}")
    return 0
