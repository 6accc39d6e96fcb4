"""`gradflow check`, `grade`, `handout` (the exercise grader in viz/exercise) and `check-engine` (engine.student).

Exit status: 0 done (check: every answer right), 1 some answers wrong (check only),
2 an invalid sheet, key or argument; check-engine: 0 every check passed, 1 some failed, 2 refused.
"""

from __future__ import annotations

import sys

from .common import UsageError, bounded, exists, say

__all__ = ["add_check", "add_grade", "add_handout", "add_check_engine", "run_check", "run_grade", "run_handout",
           "run_check_engine"]


# --- gradflow check, grade, handout: the exercise grader (viz/exercise) ---------------
# Exit status: 0 done (check: every answer right), 1 some answers wrong (check only),
# 2 an invalid sheet, key or argument.


def add_check(sub):
    p = sub.add_parser(
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
    p.set_defaults(run=run_check)


def add_grade(sub):
    g = sub.add_parser(
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


def add_handout(sub):
    h = sub.add_parser(
        "handout",
        help="write per-student exercise sheets from a teacher's key",
        description="Write one sheet per student (their inputs, the graph, the items to answer, how answers are "
                    "judged, no answers) as TOML and as a printable HTML page, and index.csv (student, file). Inputs "
                    "in the key's [vary] are drawn per student. Files are only ever written new. Exit status: 0 done, "
                    "1 some ids were refused (the others are written), 2 the key, the list or the folder is refused.",
    )
    h.add_argument("key", metavar="KEY.toml", help="the teacher's key: a sheet with the answers, and [vary] for per-student inputs")
    h.add_argument("--students", metavar="FILE", help="one id per line, or a CSV with an id (or student) column; "
                   "without it, one blank sheet with the key's own inputs")
    h.add_argument("-o", "--out", metavar="DIR", required=True, help="the folder to write into")
    h.add_argument("--format", choices=("html", "md"), default="html", help="the printable page (default html)")
    h.set_defaults(run=run_handout)


def run_check(args) -> int:
    import json

    from ..exercise.errors import SheetError
    from ..exercise.grade import save_drawings
    from ..exercise.sheet import load

    try:
        sheet = load(args.sheet)
    except SheetError as e:
        say("check", str(e))
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
            say("check", f"{sheet.source}: there are no answers to check; add an [answers] table "
                          "(\"y\" = 3, \"dy/dw\" = 2), or use --solve to see the solution")
            return 2
        print(bounded(report.to_json() if args.json else report.text()))
        drawers = [c.draw for c in report.cases]
        status = 0 if report.ok else 1
    if args.svg:
        try:
            for path in save_drawings(drawers, args.svg, overwrite=False):
                print(f"saved {path}", file=sys.stderr if args.json else sys.stdout)
        except FileExistsError as e:  # the grade stands; the drawing is extra, and the file there is kept
            say("check", f"did not save the drawing: {exists(e.filename)}")
        except Exception as e:  # noqa: BLE001 - the grade stands; the drawing is extra
            say("check", f"could not save the drawing: {e}")
    return status


def run_grade(args) -> int:
    from ..exercise.bulk import grade_all

    return grade_all(args)


def run_handout(args) -> int:
    from ..exercise.handout import write_handouts

    return write_handouts(args)


# --- gradflow check-engine: a student's own Value class (engine.student); exit status 0, 1 or 2 as for check


def add_check_engine(sub):
    p = sub.add_parser("check-engine", help="check a Value class a student wrote (micrograd's interface)",
                       description="Check each op of a student's Value class against the op table, then graphs against "
                       "gradflow's backward, and explain the first failure. The file runs in a separate Python process, "
                       "each check within a time and a memory limit. Exit status: 0 every check passed, 1 some failed, "
                       "2 the file or the class is refused.")
    p.add_argument("target", metavar="FILE.py:ClassName", help="the student's file and class, e.g. my_value.py:Value")
    p.add_argument("--time-limit", type=float, default=2.0, metavar="SECONDS", help="per check (default 2)")
    p.add_argument("--memory-limit", type=float, default=512, metavar="MB", help="per check, beyond what Python uses (default 512)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(run=run_check_engine)


def run_check_engine(args) -> int:
    import json

    from engine.student.command import StudentFileError, check_file

    try:
        report = check_file(args.target, time_limit=args.time_limit, memory_limit=args.memory_limit)
    except StudentFileError as e:
        raise UsageError(str(e)) from None
    print(bounded(json.dumps(report.to_dict(), ensure_ascii=False) if args.json else str(report)))
    return 0 if report.ok else 1


