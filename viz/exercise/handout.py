"""Student copies: a sheet's inputs, graph and items to answer, with no answers.

Each copy is a TOML file (a sheet with ``items`` and an empty ``[answers]`` to fill
in; filled in, it is a submission as it is) and a printable page (HTML or Markdown)
with the graph drawn without values. Each states how answers are judged and the
conventions the key uses. Every text from the key or the student list is escaped
where it is written; no file that exists is written over.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from .errors import SheetError
from .ids import Writer, file_names, index_csv, read_roster, shown
from .numbers import fmt
from .solve import convention_words
from engine.ops import CONVENTIONS

_BARE = re.compile(r"[A-Za-z0-9_-]+")


def _key(k: str) -> str:
    return k if _BARE.fullmatch(k) else json.dumps(k, ensure_ascii=False)


def _str(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)  # a JSON string is a valid TOML basic string


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else repr(float(x))


def rules(sheet, update: bool = True) -> list:
    """How answers are judged and every convention the key uses, one sentence each (and the
    update step's rule, unless the page states it in a section of its own)."""
    out = [f"An answer is a number, or arithmetic of numbers in quotes such as \"1/150\"; it is "
           f"{sheet.tolerance.rule()}" + ("; for a parameter after the update step, the 1% is of the step" if sheet.update else "") + "."]
    if sheet.formulas:
        names = ", ".join(sheet.cases[0].inputs)
        which = "every item" if set(sheet.formulas) == set(sheet.all_items) else \
            ", ".join(k for item, k in sheet.all_items.items() if item in sheet.formulas)
        out.append(f"A formula of the inputs ({names}) in quotes is accepted for {which}; it must hold at other inputs too.")
    out.append("A decimal comma (0,607) is read as a decimal point." if sheet.comma else
               "Write a decimal point (0.607); a decimal comma is not accepted.")
    ops = {st.node.op for st in sheet.solutions[0].sequence}
    out += [convention_words(k, sheet.conventions, advice=False) + "." for k, rule in CONVENTIONS.items()
            if rule.op in ops or k in sheet.conventions]
    if sheet.update and update:
        out.append(f"The update step: {sheet.update.rule()}.")
    return out


def _one_line(text: str) -> str:
    # A comment line must stay one line whatever the title or id holds.
    return re.sub(r"[\x00-\x1f\x7f\u2028\u2029]", " ", text)


def blank_toml(sheet, student: str = "", inputs: dict | None = None) -> str:
    """The TOML text of a student copy: no answers, the items listed, an [answers] table to fill in.
    Filled in, it is a submission as it is."""
    items = list(sheet.all_items.values())
    said = _one_line(f"{sheet.title}: the exercise" + (f" for {student}" if student else ""))
    out = [f"# {said} (written by gradflow handout; no answers).",
           "# Fill in [answers], removing the # before each line you answer, and hand this file in as it is.",
           *(f"# {line}" for r in rules(sheet) for line in textwrap.wrap(_one_line(r), 98)), ""]
    if student:
        out.append(f"student = {_str(student)}")
    out.append(f"fingerprint = {_str(sheet.fingerprint)}")
    out.append(f"title = {_str(sheet.title)}")
    if sheet.description:
        out.append(f"description = {_str(sheet.description)}")
    if sheet.params:
        out.append(f"params = [{', '.join(_str(p) for p in sorted(sheet.params))}]")
    if sheet.output != list(sheet.steps)[-1]:
        out.append(f"output = {_str(sheet.output)}")
    if sheet.conventions:
        out.append("conventions = {" + ", ".join(f"{k} = {_str(v) if isinstance(v, str) else int(v)}"
                                                 for k, v in sheet.conventions.items()) + "}")
    t = sheet.tolerance
    if t.legacy is not None:
        out.append(f"tolerance = {_num(t.legacy)}")
    elif (t.rel, t.abs, t.digits) != (0.01, 0.0, True):
        out.append(f"tolerance = {{rel = {_num(t.rel)}, abs = {_num(t.abs)}, digits = {str(t.digits).lower()}}}")
    if not sheet.comma:
        out.append("decimal_comma = false")
    out.append(f"items = [{', '.join(_str(k) for k in items)}]")
    if sheet.update:
        u = sheet.update
        out.append("")
        out.append("[update]")
        out.append(f"lr = {_num(u.lr)}")
        if u.momentum:
            out.append(f"momentum = {_num(u.momentum)}")
        if u.form != "pytorch":
            out.append(f"form = {_str(u.form)}")
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


def _blocks(sheet, student: str, inputs: dict) -> list:
    """The page as blocks, (kind, content), for either format: "h1", "h2", "p", "label" (a bold
    label and its text), "table" (header, rows), "code" (lines), "list" (lines), "figure" and "blank"
    (the items to answer)."""
    items = list(sheet.all_items.values())
    out = [("h1", sheet.title)]
    if student:
        out.append(("label", ("Student", student)))
    if sheet.description:
        out.append(("p", sheet.description))
    multi = len(sheet.cases) > 1
    if not multi:
        out += [("h2", "Inputs"), ("table", (("name", "value"), [(n, fmt(v)) for n, v in inputs.items()]))]
    out += [("h2", "The graph (each step uses the names on its right)"), ("figure", None),
            ("code", [f"{n} = {e.text}" for n, e in sheet.steps.items()])]
    if sheet.update:
        u = sheet.update
        rows = [("lr (η)", fmt(u.lr))] + ([("momentum (μ, γ)", fmt(u.momentum))] if u.momentum else [])
        rows += [(f"starting velocity of {n}", fmt(v)) for n, v in u.velocity.items()]
        if u.momentum:
            rows.append(("every other starting velocity", "0"))
        out += [("h2", "The update step"), ("p", u.rule()), ("table", (("setting", "value"), rows))]
    out += [("h2", "How answers are judged"), ("list", rules(sheet, update=False))]
    if not multi:
        return out + [("h2", "Your answers"), ("blank", items)]
    for case in sheet.cases:
        out += [("h2", f"Case {case.name}")] + ([("p", case.description)] if case.description else [])
        out += [("table", (("name", "value"), [(n, fmt(v)) for n, v in case.inputs.items()])), ("blank", items)]
    return out


def page(sheet, student: str, inputs: dict, svg: str, fmt_name: str = "html") -> str:
    """The printable page: the title, the student, the inputs, the graph (no values), the update
    step, how answers are judged, and blanks to fill (one table per case on a sheet with cases)."""
    blocks = _blocks(sheet, student, inputs)
    if fmt_name == "md":
        def md(s):
            return re.sub(r"([\\`*_\[\]<>|&])", r"\\\1", s)
        out = []
        for kind, c in blocks:
            if kind in ("h1", "h2"):
                out += [f"{'#' if kind == 'h1' else '##'} {md(c)}", ""]
            elif kind == "p":
                out += [md(c), ""]
            elif kind == "label":
                out += [f"**{md(c[0])}:** {md(c[1])}", ""]
            elif kind == "table":
                head, rows = c
                out += [f"| {' | '.join(map(md, head))} |", "|---" * len(head) + "|",
                        *(f"| {' | '.join(map(md, r))} |" for r in rows), ""]
            elif kind == "code":
                out += [*(f"- `{line.replace('`', '')}`" for line in c), ""]
            elif kind == "list":
                out += [*(f"- {md(line)}" for line in c), ""]
            elif kind == "blank":
                out += ["| item | your answer |", "|---|---|", *(f"| {md(k)} | |" for k in c), ""]
        return "\n".join(out).rstrip("\n") + "\n"
    e = html.escape
    body = []
    for kind, c in blocks:
        if kind in ("h1", "h2", "p"):
            body.append(f"<{kind}>{e(c)}</{kind}>")
        elif kind == "label":
            body.append(f"<p><b>{e(c[0])}:</b> {e(c[1])}</p>")
        elif kind == "table":
            head, rows = c
            body.append("<table><tr>" + "".join(f"<th>{e(h)}</th>" for h in head) + "</tr>"
                        + "".join("<tr>" + "".join(f"<td>{e(x)}</td>" for x in r) + "</tr>" for r in rows) + "</table>")
        elif kind == "figure" and svg:
            # The SVG comes from Graphviz, fed only escaped DOT labels; without Graphviz the step list stands alone.
            body.append(f"<figure>{svg}</figure>")
        elif kind == "code":
            body.append("<ul>" + "".join(f"<li><code>{e(line)}</code></li>" for line in c) + "</ul>")
        elif kind == "list":
            body.append("<ul>" + "".join(f"<li>{e(line)}</li>" for line in c) + "</ul>")
        elif kind == "blank":
            body.append("<table><tr><th>item</th><th>your answer</th></tr>"
                        + "".join(f"<tr><td><code>{e(k)}</code></td><td class='blank'></td></tr>" for k in c) + "</table>")
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{e(sheet.title)}</title><style>body{{font-family:sans-serif;max-width:50em;margin:2em auto}}"
        "table{border-collapse:collapse;margin-bottom:1em}td,th{border:1px solid #999;padding:.3em .8em}"
        "td.blank{width:14em;height:1.8em}figure svg{max-width:100%;height:auto}</style></head><body>"
        + "".join(body) + "</body></html>\n"
    )


def read_students(path) -> list:
    """Student ids: one per line, or a CSV with an ``id`` (or ``student``) column; SheetError
    naming the first line refused (``ids.read_roster`` keeps the others)."""
    ids, refused = read_roster(path)
    if refused:
        raise SheetError(f"{shown(str(path))}, line {refused[0][0]}: {refused[0][1]}")
    return ids


def write_handouts(args) -> int:
    from .sheet import load

    try:
        sheet = load(args.key)
        students, refused = read_roster(args.students) if args.students else ([""], [])
        if args.students and len(sheet.cases) > 1:
            raise SheetError(f"{sheet.source}: per-student handouts need a key without [[cases]]")
    except SheetError as e:
        print(f"gradflow handout: {shown(str(e), 2000)}", file=sys.stderr)
        return 2
    for n, why in refused:
        print(f"gradflow handout: {shown(args.students)}, line {n}: refused: {why}", file=sys.stderr)
    out = Path(args.out)
    stem = Path(args.key).stem
    names = file_names([s for s in students if s]) if args.students else {"": stem}
    plan = {}  # path -> (student, what)
    for student in students:
        plan[out / f"{names[student]}.toml"] = (student, "toml")
        plan[out / f"{names[student]}.{args.format}"] = (student, "page")
    index = out / "index.csv"
    if args.students:
        plan[index] = ("", "index")
    writer = Writer([args.key, *([args.students] if args.students else [])])
    if writer.refuse("handout", plan, "remove those files or choose another folder (-o)"):
        return 2
    # Every student's inputs are drawn before a file is written: a key that cannot be solved writes nothing.
    inputs = {}
    try:
        for student in students:
            inputs[student] = sheet.solution_for(student).case.inputs if student else sheet.cases[0].inputs
    except SheetError as e:
        print(f"gradflow handout: {shown(str(e), 2000)}", file=sys.stderr)
        return 2
    out.mkdir(parents=True, exist_ok=True)
    svg = _svg(structure_dot(sheet))
    for path, (student, what) in plan.items():
        if what == "toml":
            writer.write(path, blank_toml(sheet, student, inputs[student]))
        elif what == "page":
            writer.write(path, page(sheet, student, inputs[student], svg, args.format))
    if args.students:
        writer.write(index, index_csv((s, f"{names[s]}.toml") for s in students))
    print(f"wrote {len(students)} sheet(s) to {shown(str(out))}"
          + ("" if svg else " (Graphviz missing: the pages list the steps without a drawing)")
          + (f"; refused {len(refused)} id(s) (see above)" if refused else ""))
    return 1 if refused else 0
