"""The ``gradflow check``, ``gradflow grade`` and ``gradflow handout`` subcommands.

Exit status: 0 done (``check``: every answer right), 1 some answers wrong
(``check`` only), 2 an invalid sheet, key or argument. Nothing here imports
numpy or the renderer unless a drawing is asked for.
"""

from __future__ import annotations

import sys

from ..terminal import Parser
from .errors import SheetError

MAX_PRINT = 1_000_000  # characters printed at most; a hostile sheet cannot flood a terminal or a log


def register(subparsers):
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

    g = subparsers.add_parser(
        "grade",
        help="grade a class's submissions against a teacher's key",
        description="Grade submissions (TOML files with student = \"ID\" and [answers], or filled-in handouts) "
                    "against a teacher's key, in one process. Each answer is judged on its own. Prints a summary with "
                    "item analysis; writes a gradebook CSV. Files are only ever written new: an existing one is never "
                    "replaced. Exit status: 0 every submission graded (wrong or invalid answers are not an error), "
                    "1 a roster line was refused, 2 the key, an argument or an output file is refused.",
    )
    g.add_argument("key", metavar="KEY.toml", help="the teacher's key: a sheet whose [answers] are the items to answer")
    g.add_argument("submissions", metavar="SUBMISSION", nargs="+", help="a submission file, or a folder of .toml files")
    g.add_argument("--csv", metavar="OUT.csv", help="write the gradebook: student, score, max_score, one column per item")
    g.add_argument("--json", action="store_true", help="print the grades and the item analysis as JSON instead of the summary")
    g.add_argument("--feedback", choices=("tutor", "exam"), help="print each student's feedback in this mode")
    g.add_argument("--feedback-dir", metavar="DIR", help="write one feedback file per submission (mode: --feedback, "
                   "default exam) and index.csv (student, file)")
    g.add_argument("--roster", metavar="FILE", help="the class list (as for handout --students): every id gets a row, "
                   "0 with \"no submission\" when none came; a submission not on it is flagged")
    g.add_argument("--items", metavar="OUT.csv", help="write the item analysis: per item the share right and the most "
                   "common wrong answers")
    g.add_argument("--gradescope", metavar="results.json", help="for one submission: write Gradescope's autograder "
                   "results (one test per item, exam feedback as its output)")
    g.set_defaults(run=run_grade)

    h = subparsers.add_parser(
        "handout",
        help="write per-student exercise sheets from a teacher's key",
        description="Write one sheet per student (their inputs, the graph, the items to answer, how answers are "
                    "judged, no answers) as TOML and as a printable HTML page, and index.csv (student, file). Inputs "
                    "in the key's [vary] are drawn per student. Files are only ever written new. Exit status: 0 done, "
                    "1 some ids were refused (the others are written), 2 the key, the list or the folder is refused.",
    )
    h.add_argument("key", metavar="KEY.toml")
    h.add_argument("--students", metavar="FILE", help="one id per line, or a CSV with an id (or student) column; "
                   "without it, one blank sheet with the key's own inputs")
    h.add_argument("-o", "--out", metavar="DIR", required=True, help="the folder to write into")
    h.add_argument("--format", choices=("html", "md"), default="html", help="the printable page (default html)")
    h.set_defaults(run=run_handout)
    return p


def _say(command: str, message: str):
    print(f"gradflow {command}: {message}", file=sys.stderr)


def bounded(text: str) -> str:
    """At most MAX_PRINT characters, with a note when cut."""
    if len(text) <= MAX_PRINT:
        return text
    return text[:MAX_PRINT] + f"\n… (output truncated at {MAX_PRINT:,} characters of {len(text):,})"


def run(args) -> int:
    """The ``check`` subcommand; returns the exit status."""
    import json

    from .grade import save_drawings
    from .sheet import load

    try:
        sheet = load(args.sheet)
    except SheetError as e:
        _say("check", str(e))
        if args.json:  # a grader reading stdout gets the reason too
            print(json.dumps({"ok": False, "error": str(e), "key": e.key or None, "line": e.line}, ensure_ascii=False))
        return 2
    if args.solve:
        solution = sheet.solve()
        print(bounded(solution.to_json() if args.json else solution.text()))
        drawers = [s.draw for s in sheet.solutions]
        status = 0
    else:
        report = sheet.check()
        if report.total == 0:
            _say("check", f"{sheet.source}: there are no answers to check; add an [answers] table "
                          "(\"y\" = 3, \"dy/dw\" = 2), or use --solve to see the solution")
            return 2
        print(bounded(report.to_json() if args.json else report.text()))
        drawers = [c.draw for c in report.cases]
        status = 0 if report.ok else 1
    if args.svg:
        try:
            for path in save_drawings(drawers, args.svg):
                print(f"saved {path}", file=sys.stderr if args.json else sys.stdout)
        except Exception as e:  # noqa: BLE001 - the grade stands; the drawing is extra
            _say("check", f"could not save the drawing: {e}")
    return status


def run_grade(args) -> int:
    from .bulk import grade_all

    return grade_all(args)


def run_handout(args) -> int:
    from .handout import write_handouts

    return write_handouts(args)


FAST = ("check", "grade", "handout")


def main(argv=None) -> int:
    """The ``gradflow`` entry point: check, grade and handout start without the drawing code
    (and so without Graphviz or numpy); every other command goes to ``viz.cli.main``."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] not in FAST:
        from viz.cli import main as everything

        return everything(argv)
    parser = Parser(prog="gradflow")
    register(parser.add_subparsers(dest="command", required=True, metavar="COMMAND"))
    if any("\0" in a for a in argv):  # only a caller in Python can pass one; no file name holds it
        parser.error("an argument holds a NUL character")
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except OSError as e:  # a file that cannot be written: a missing folder, no permission, a full disk
        where = f" {e.filename}" if e.filename else ""
        print(f"gradflow {args.command}: cannot write{where}: {e.strerror or e}", file=sys.stderr)
        return 1
