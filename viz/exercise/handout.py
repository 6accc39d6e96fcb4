"""Student copies: a sheet's inputs, graph and items to answer, with no answers.

Each copy is a TOML file (a sheet with ``items`` and an empty ``[answers]`` to fill
in) and a printable page (HTML or Markdown) with the graph drawn without values.
Every text from the key or the student list is escaped where it is written.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

from .errors import SheetError
from .numbers import fmt
from .text import read_text

MAX_STUDENTS = 10_000
_BARE = re.compile(r"[A-Za-z0-9_-]+")


def _key(k: str) -> str:
    return k if _BARE.fullmatch(k) else json.dumps(k, ensure_ascii=False)


def _str(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)  # a JSON string is a valid TOML basic string


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else repr(float(x))


def blank_toml(sheet, student: str = "", inputs: dict | None = None) -> str:
    """The TOML text of a student copy: no answers, the items listed, an [answers] table to fill in."""
    items = list(sheet.all_items.values())
    # A comment line must stay one line whatever the title or id holds.
    said = re.sub(r"[\x00-\x1f\x7f\u2028\u2029]", " ", f"{sheet.title}: the exercise" + (f" for {student}" if student else ""))
    out = [f"# {said} (written by gradflow handout; no answers).",
           "# Fill in [answers] (a number or a formula in quotes) and remove the #s.", ""]
    if student:
        out.append(f"student = {_str(student)}")
    out.append(f"title = {_str(sheet.title)}")
    if sheet.description:
        out.append(f"description = {_str(sheet.description)}")
    if sheet.params:
        out.append(f"params = [{', '.join(_str(p) for p in sorted(sheet.params))}]")
    if sheet.output != list(sheet.steps)[-1]:
        out.append(f"output = {_str(sheet.output)}")
    if sheet.conventions:
        out.append("conventions = {" + ", ".join(f"{k} = {int(v)}" for k, v in sheet.conventions.items()) + "}")
    out.append(f"items = [{', '.join(_str(k) for k in items)}]")
    if sheet.update:
        u = sheet.update
        out.append("")
        out.append("[update]")
        out.append(f"lr = {_num(u.lr)}")
        if u.momentum:
            out.append(f"momentum = {_num(u.momentum)}")
        if u.velocity:
            out.append("velocity = {" + ", ".join(f"{_key(n)} = {_num(v)}" for n, v in u.velocity.items()) + "}")
    multi = len(sheet.cases) > 1
    shared = {} if multi else (inputs if inputs is not None else sheet.cases[0].inputs)
    out += ["", "[inputs]", *(f"{_key(n)} = {_num(v)}" for n, v in shared.items())]
    out += ["", "[graph]", *(f"{_key(n)} = {_str(e.text)}" for n, e in sheet.steps.items())]
    blanks = [f"# {_key(k)} =" for k in items]
    if multi:
        for case in sheet.cases:
            out += ["", "[[cases]]", f"name = {_str(case.name)}"]
            if case.description:
                out.append(f"description = {_str(case.description)}")
            out.append("inputs = {" + ", ".join(f"{_key(n)} = {_num(v)}" for n, v in case.inputs.items()) + "}")
            out += ["", "[cases.answers]", *blanks]
    else:
        out += ["", "[answers]", *blanks]
    return "\n".join(out) + "\n"


def structure_dot(sheet) -> str:
    """DOT of the named steps without any value: one box per input and step, an arrow per use."""
    def q(s):
        return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'
    lines = ["digraph exercise {", "  rankdir=LR;", '  node [fontname="Helvetica", fontsize=12];']
    leaves = [n for n in sheet.cases[0].inputs]
    for n in leaves:
        lines.append(f"  {q(n)} [shape=ellipse, label={q(n)}];")
    for n, e in sheet.steps.items():
        text = e.text if len(e.text) <= 60 else e.text[:59] + "…"
        lines.append(f"  {q(n)} [shape=box, label={q(f'{n} = {text}')}];")
        for used in e.names:
            lines.append(f"  {q(used)} -> {q(n)};")
    lines.append("}")
    return "\n".join(lines)


def _svg(dot_text: str) -> str:
    dot = shutil.which("dot")
    if not dot:
        return ""
    try:
        done = subprocess.run([dot, "-Tsvg"], input=dot_text.encode(), capture_output=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    svg = done.stdout.decode("utf-8", "replace")
    return svg[svg.find("<svg"):] if done.returncode == 0 and "<svg" in svg else ""


def page(sheet, student: str, inputs: dict, svg: str, fmt_name: str = "html") -> str:
    """The printable page: the title, the student, the inputs, the graph (no values), blanks to fill."""
    items = list(sheet.all_items.values())
    if fmt_name == "md":
        def md(s):
            return re.sub(r"([\\`*_\[\]<>|&])", r"\\\1", s)
        out = [f"# {md(sheet.title)}", ""]
        if student:
            out += [f"**Student:** {md(student)}", ""]
        if sheet.description:
            out += [md(sheet.description), ""]
        out += ["## Inputs", "", "| name | value |", "|---|---|", *(f"| {md(n)} | {md(fmt(v))} |" for n, v in inputs.items())]
        out += ["", "## The graph (each step uses the names on its right)", ""]
        out += [f"- {md(n)} = `{e.text.replace('`', '')}`" for n, e in sheet.steps.items()]
        out += ["", "## Your answers", "", "| item | your answer |", "|---|---|", *(f"| {md(k)} | |" for k in items)]
        return "\n".join(out) + "\n"
    e = html.escape
    rows = "".join(f"<tr><td>{e(n)}</td><td>{e(fmt(v))}</td></tr>" for n, v in inputs.items())
    steps = "".join(f"<li><code>{e(n)} = {e(x.text)}</code></li>" for n, x in sheet.steps.items())
    blanks = "".join(f"<tr><td><code>{e(k)}</code></td><td class='blank'></td></tr>" for k in items)
    # The SVG comes from Graphviz, fed only escaped DOT labels; without Graphviz the step list stands alone.
    drawing = f"<figure>{svg}</figure>" if svg else ""
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{e(sheet.title)}</title><style>body{{font-family:sans-serif;max-width:50em;margin:2em auto}}"
        "table{border-collapse:collapse}td,th{border:1px solid #999;padding:.3em .8em}"
        "td.blank{width:14em;height:1.8em}figure svg{max-width:100%;height:auto}</style></head><body>"
        f"<h1>{e(sheet.title)}</h1>" + (f"<p><b>Student:</b> {e(student)}</p>" if student else "")
        + (f"<p>{e(sheet.description)}</p>" if sheet.description else "")
        + f"<h2>Inputs</h2><table><tr><th>name</th><th>value</th></tr>{rows}</table>"
        f"<h2>The graph</h2>{drawing}<ul>{steps}</ul>"
        f"<h2>Your answers</h2><table><tr><th>item</th><th>your answer</th></tr>{blanks}</table>"
        "</body></html>\n"
    )


def read_students(path) -> list:
    """Student ids: one per line, or a CSV with an ``id`` (or ``student``) column."""
    text = read_text(path)
    lines = [ln for ln in text.removeprefix("\ufeff").splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if lines and "," in lines[0]:
        reader = csv.DictReader(io.StringIO("\n".join(lines)))
        column = next((c for c in reader.fieldnames or [] if c.strip().lower() in ("id", "student")), None)
        if column is None:
            raise SheetError(f"{path}: a CSV of students needs an 'id' or 'student' column; "
                             f"its columns are {', '.join(reader.fieldnames or [])}")
        ids = [(row.get(column) or "").strip() for row in reader]
    else:
        ids = [ln.strip() for ln in lines]
    ids = [i for i in ids if i]
    if not ids:
        raise SheetError(f"{path}: no student ids found")
    if len(ids) > MAX_STUDENTS:
        raise SheetError(f"{path}: {len(ids):,} students; at most {MAX_STUDENTS:,}")
    seen = set()
    for i in ids:
        if len(i) > 100:
            raise SheetError(f"{path}: the id {i[:20]!r}… is longer than 100 characters")
        if i in seen:
            raise SheetError(f"{path}: the id {i!r} appears twice; each student once")
        seen.add(i)
    return ids


def write_handouts(args) -> int:
    from .bulk import _file_name, _write
    from .sheet import load

    try:
        sheet = load(args.key)
        students = read_students(args.students) if args.students else [""]
        if args.students and len(sheet.cases) > 1:
            raise SheetError(f"{sheet.source}: per-student handouts need a key without [[cases]]")
    except SheetError as e:
        print(f"gradflow handout: {e}", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    svg = _svg(structure_dot(sheet))
    stem = Path(args.key).stem
    for student in students:
        try:
            inputs = sheet.solution_for(student).case.inputs if student else sheet.cases[0].inputs
        except SheetError as e:
            print(f"gradflow handout: {e}", file=sys.stderr)
            return 2
        name = _file_name(student) if student else stem
        _write(out / f"{name}.toml", blank_toml(sheet, student, inputs))
        if len(sheet.cases) == 1:
            _write(out / f"{name}.{args.format}", page(sheet, student, inputs, svg, args.format))
    print(f"wrote {len(students)} sheet(s) to {out}" + ("" if svg else " (Graphviz missing: the pages list the steps without a drawing)"))
    return 0
