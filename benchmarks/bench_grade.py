"""Grading a class: `gradflow grade` on 10,000 submissions, and `gradflow check` on one sheet.

Measured end to end, as a teacher runs them: a fresh `gradflow` process reading
the key and every submission file, grading, writing the gradebook CSV and
printing the summary. The submissions answer the sigmoid-neuron key (y, dy/dz,
dy/dw, dy/db) with a deterministic mix of right answers, the common slips and
missing items. `gradflow check` is timed as process time (user + system) of
one call, the cost a shell loop pays per file. Medians with ranges.

Targets (issue 10): 10,000 submissions in under 10 s; `gradflow check` under 100 ms.

Run:  python benchmarks/bench_grade.py [--quick]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

KEY = """\
title = "sigmoid neuron"
[inputs]
x = 2
w = -3
b = 1
[graph]
z = "w*x + b"
y = "sigmoid(z)"
[answers]
y = "sigmoid(z)"
"dy/dz" = "y*(1-y)"
"dy/dw" = "y*(1-y)*x"
"dy/db" = "y*(1-y)"
"""
# Right answers and the slips a class makes, as students write them: numbers, arithmetic of
# numbers, a decimal comma, and answers that cannot be read (a node's name, text).
CHOICES = {
    "y": ["0.0067", "0.00669", "0.006", "0.0066929", '"sigmoid(-5)"', '"y"'],
    "dy/dz": ["0.0066", "0.00665", "0.0057", "-0.0066", '"0,0066"'],
    "dy/dw": ["0.0133", "0.0066", "-0.0199", "0.0123", '"2*0.00665"', '"twice dy/dz"'],
    "dy/db": ["0.0066", "0.0133", "-0.0066", None],
}
# The same class on a key that takes formulas of the inputs: each formula is also checked at
# four other inputs, the most work an answer can ask for.
FORMULA_KEY = KEY.replace("[inputs]", "formula = true\n[inputs]")
FORMULAS = {
    "y": ['"sigmoid(w*x + b)"', "0.0067"],
    "dy/dz": ['"sigmoid(w*x+b)*(1 - sigmoid(w*x+b))"', "0.0066"],
    "dy/dw": ['"x*sigmoid(w*x+b)*(1 - sigmoid(w*x+b))"', '"sigmoid(w*x+b)*(1 - sigmoid(w*x+b))"'],
    "dy/db": ['"sigmoid(w*x+b)*(1 - sigmoid(w*x+b))"', None],
}
TARGET_GRADE_S = 10.0
TARGET_CHECK_MS = 100.0
GRADFLOW = [sys.executable, "-c", "import sys; from viz.cli import main; sys.exit(main())"]


def write_class(folder: Path, n: int, seed: int = 0, choices=CHOICES):
    rng = random.Random(seed)
    for i in range(n):
        lines = [f'student = "s{i:05d}"', "[answers]"]
        for key, options in choices.items():
            pick = rng.choice(options)
            if pick is not None:
                lines.append(f'"{key}" = {pick}')
        (folder / f"s{i:05d}.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")


# As a user runs it: Python keeps each module's compiled bytecode after the first run. A machine
# that sets PYTHONDONTWRITEBYTECODE would compile every changed module again in every process.
AS_USERS_RUN = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def process_time(argv) -> tuple:
    """(wall seconds, user + system seconds) of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, env=AS_USERS_RUN)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):
        raise SystemExit(f"{argv[-3:]} failed ({done.returncode}): {done.stderr[-500:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), done.stdout


def summary(xs) -> str:
    return f"{statistics.median(xs):.3g} (range {min(xs):.3g}–{max(xs):.3g})"


def grade_class(tmp: Path, key: Path, subs: Path, n: int, repeats: int, what: str) -> tuple:
    """Grade the class `repeats` times (a new gradebook each time: grade never writes over one)."""
    walls, cpus = [], []
    for r in range(repeats):
        book = tmp / f"{subs.name}-book-{r}.csv"
        wall, cpu, out = process_time([*GRADFLOW, "grade", str(key), str(subs), "--csv", str(book)])
        walls.append(wall)
        cpus.append(cpu)
    rows = list(csv.reader(open(book, encoding="utf-8")))
    assert len(rows) == n + 1, "every submission has its row"
    mean = statistics.mean(float(r[1]) for r in rows[1:])
    print(f"gradflow grade ({what}): {n:,} submissions graded, gradebook written, mean score {mean:.2f} of 4")
    print(f"  wall time  {summary(walls)} s   ({statistics.median(walls) / n * 1e3:.2f} ms per submission)")
    print(f"  CPU time   {summary(cpus)} s")
    if repeats > 2:
        ok = statistics.median(walls) < TARGET_GRADE_S
        print(f"  target < {TARGET_GRADE_S:g} s: {'met' if ok else 'NOT met'}")
    return walls, cpus


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="1,000 submissions, fewer repeats")
    quick = p.parse_args(argv).quick
    n, repeats = (1_000, 2) if quick else (10_000, 3)
    tmp = Path(tempfile.mkdtemp(prefix="bench-grade-"))
    try:
        key = tmp / "key.toml"
        key.write_text(KEY, encoding="utf-8")
        subs = tmp / "subs"
        subs.mkdir()
        write_class(subs, n)
        walls, cpus = grade_class(tmp, key, subs, n, repeats, "numbers")
        formula_key = tmp / "formula_key.toml"
        formula_key.write_text(FORMULA_KEY, encoding="utf-8")
        formula_subs = tmp / "formula_subs"
        formula_subs.mkdir()
        write_class(formula_subs, n, choices=FORMULAS)
        formula_walls, _ = grade_class(tmp, formula_key, formula_subs, n, repeats, "formulas of the inputs")

        sheet = subs / "s00000.toml"
        one = tmp / "one.toml"
        one.write_text(KEY.split("[answers]")[0] + "[answers]\n" + sheet.read_text().split("[answers]\n")[1],
                       encoding="utf-8")
        process_time([*GRADFLOW, "check", str(one)])  # the first run writes the bytecode, as a user's first run does
        checks = [process_time([*GRADFLOW, "check", str(one)]) for _ in range(5 if quick else 15)]
        bare = [process_time([sys.executable, "-c", "pass"]) for _ in range(5)]
        cpu_ms = [c * 1e3 for _, c, _ in checks]
        print(f"gradflow check on one sheet: process time {summary(cpu_ms)} ms, wall "
              f"{summary([w * 1e3 for w, _, _ in checks])} ms; a bare `python -c pass` takes "
              f"{summary([c * 1e3 for _, c, _ in bare])} ms")
        print(f"  one process per file for {n:,} files would take about "
              f"{statistics.median([w for w, _, _ in checks]) * n:.0f} s")
        if not quick:
            print(f"  target < {TARGET_CHECK_MS:g} ms: {'met' if statistics.median(cpu_ms) < TARGET_CHECK_MS else 'NOT met'}")
        results = {"submissions": n, "grade_wall_s": walls, "grade_cpu_s": cpus, "check_cpu_ms": cpu_ms,
                   "grade_formulas_wall_s": formula_walls}
        out = Path(__file__).resolve().parent / "results"
        out.mkdir(exist_ok=True)
        (out / "bench_grade.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
        return results
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
