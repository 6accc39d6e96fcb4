"""Mutation testing, with no dependency: would the tests notice a wrong line?

Each mutant changes one node of a target file (a `<` becomes `<=`, a `+` a
`-`, a constant moves a little, ...). The target's tests run against every
mutant in a copy of the repository; a mutant the tests pass on "survives" and
marks a line no test pins down. Mutants that cannot change behaviour are listed
in benchmarks/mutants_equivalent.txt with a reason, and left out of the score.

    ./run mutants                       every target below
    ./run mutants ops engine --jobs 2   some of them
    ./run mutants engine/value.py --tests tests/test_engine.py --function backward
    ./run mutants grader --list         the mutants, without running anything

The working tree is never written: the repository's files (git's tracked and
untracked-but-not-ignored ones, as they are now) are copied once per job into
a temporary folder, and each mutant is written into a copy, tested, and put
back. Pytest runs there with the copy first on PYTHONPATH and as its working
directory, so the copy's modules are imported, not the editable install's;
a canary (the target file raising at import) checks that before any mutant.
"""

from __future__ import annotations

import argparse
import ast
import fnmatch
import math
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EQUIVALENT = Path(__file__).with_name("mutants_equivalent.txt")


@dataclass(frozen=True)
class Target:
    """Files to mutate, and the tests that should catch every mutant.

    ``tests`` run in this order under ``-x``, so the quickest killers go first;
    they may be globs, files or node ids. ``args`` are extra pytest arguments.
    """

    files: tuple[str, ...]
    tests: tuple[str, ...]
    args: tuple[str, ...] = ()


# The targets: add a file to a group, or a group of its own.
TARGETS = {
    "grader": Target(
        # The verdict rules, and what decides which inputs and which file a student gets.
        files=("viz/exercise/numbers.py", "viz/exercise/answers.py", "viz/exercise/grade.py", "viz/exercise/hints.py",
               "viz/exercise/vary.py", "viz/exercise/ids.py"),
        tests=("tests/test_exercise*.py",),
    ),
    "ops": Target(
        files=("engine/ops.py",),
        # The conventions table (ReLU′(0), max ties) is read by the exercise checker, whose tests pin each choice.
        tests=("tests/test_ops.py", "tests/test_errors.py", "tests/test_engine.py", "tests/test_random_graphs.py",
               "tests/test_batch.py", "tests/test_exercise_verdicts.py"),
        args=("-k", "not million_deep and not one_million_deep"),  # depth is value.py's business, and slow
    ),
    "engine": Target(
        # The lesson and its fast twin: a slip in either must show (tests/test_fast.py holds them equal).
        files=("engine/value.py", "engine/parts.py", "engine/hook.py", "engine/fast.py", "engine/messages.py",
               "engine/args.py"),
        tests=("tests/test_errors.py", "tests/test_ops.py", "tests/test_engine.py", "tests/test_fast.py",
               "tests/test_random_graphs.py", "tests/test_viz_passes.py", "tests/test_viz_steps.py",
               "tests/test_batch.py", "engine/value.py", "engine/parts.py", "engine/hook.py", "engine/fast.py",
               "engine/args.py"),
    ),
}

# -o addopts= drops the project's --nbmake (its plugin takes a second to load);
# --assert=plain skips rewriting hypothesis's modules, which this machine's
# PYTHONDONTWRITEBYTECODE would make every run redo (another second); the ci
# profile (conftest.py) derandomizes hypothesis and keeps no example database.
PYTEST = ("-x", "-q", "-p", "no:cacheprovider", "-o", "addopts=", "-p", "no:nbmake", "--assert=plain",
          "--doctest-modules", "--hypothesis-profile=ci")
PRAGMA = "# pragma: no mutate"

# --- the mutants ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mutant:
    """source[start:end] (the node ``before``) replaced by ``after``; ``line`` is where the change is."""

    path: str
    line: int
    start: int
    end: int
    before: str
    after: str
    function: str  # qualified name of the enclosing function, "<module>" outside any
    kind: str
    nth: int = 1  # the same change (before and after) can occur more than once in a function:
    of: int = 1  # this is the nth of them, in source order

    def apply(self, source: str) -> str:
        return source[: self.start] + self.after + source[self.end :]

    @property
    def key(self) -> tuple:
        """What the allowlist matches: no line number, so it survives edits elsewhere."""
        return (self.path, self.function, squeeze(self.before), squeeze(self.after))

    def __str__(self):
        where = self.function + (f", #{self.nth} of {self.of}" if self.of > 1 else "")
        return f"{self.path}:{self.line}  `{squeeze(self.before)}` → `{squeeze(self.after)}`  (in function {where})"


def squeeze(code: str) -> str:
    return " ".join(code.split())


_SWAP = {ast.Add: "-", ast.Sub: "+", ast.Mult: "/", ast.Div: "*", ast.Pow: "*"}
_TOKEN = {ast.Add: r"\+", ast.Sub: "-", ast.Mult: r"\*", ast.Div: "/", ast.Pow: r"\*\*", ast.FloorDiv: "//",
          ast.Mod: "%", ast.MatMult: "@", ast.BitOr: r"\|", ast.BitAnd: "&", ast.BitXor: r"\^",
          ast.LShift: "<<", ast.RShift: ">>"}
_FLIP = {ast.Lt: ("<", "<="), ast.LtE: ("<=", "<"), ast.Gt: (">", ">="), ast.GtE: (">=", ">"),
         ast.Eq: ("==", "!="), ast.NotEq: ("!=", "=="), ast.In: (r"\bin\b", "not in"),
         ast.NotIn: (r"\bnot\s+in\b", "in"), ast.Is: (r"\bis\b", "is not"), ast.IsNot: (r"\bis\s+not\b", "is")}
_OTHER = {"max": "min", "min": "max", "maximum": "minimum", "minimum": "maximum"}


class _Mutator(ast.NodeVisitor):
    """Walks one file's tree and records a Mutant for each change it can make."""

    def __init__(self, source: str, path: str):
        self.source, self.path = source, path
        self.lines = source.split("\n")  # as ast counts lines (a \r stays at a line's end)
        self.starts = [0]
        for line in self.lines:
            self.starts.append(self.starts[-1] + len(line) + 1)
        self.quiet = {i + 1 for i, line in enumerate(self.lines) if PRAGMA in line}
        self.scope: list[str] = []
        self.lambda_names: dict = {}
        self.fields: dict[str, list[str]] = {}  # classes with annotated fields: what their positional arguments are
        self.found: list[Mutant] = []
        self.parents: dict = {}

    def visit_Module(self, node):
        self.parents = {child: parent for parent in ast.walk(node) for child in ast.iter_child_nodes(parent)}
        self.generic_visit(node)

    # positions: ast gives (line, column in UTF-8 bytes); the source is a str
    def at(self, line: int, col: int) -> int:
        return self.starts[line - 1] + len(self.lines[line - 1].encode()[:col].decode())

    def span(self, node) -> tuple[int, int]:
        return self.at(node.lineno, node.col_offset), self.at(node.end_lineno, node.end_col_offset)

    def line_of(self, offset: int) -> int:
        return self.source.count("\n", 0, offset) + 1

    def token(self, lo: int, hi: int, pattern: str) -> tuple[int, int]:
        """Where the operator matching `pattern` is between two operands (comments blanked out)."""
        gap = re.sub(r"#[^\n]*", lambda m: " " * len(m.group()), self.source[lo:hi])
        m = re.search(pattern, gap)
        if m is None:
            raise ValueError(f"{self.path}:{self.line_of(lo)}: no {pattern!r} in {gap!r}")
        return lo + m.start(), lo + m.end()

    def add(self, node, after: str, kind: str, at: int | None = None):
        start, end = self.span(node)
        line = self.line_of(start if at is None else at)
        # A bare constant or name says little on its own: it is shown (and keyed) inside
        # its parent expression, `x > 0` → `x > 1`, when that fits on a short line.
        parent = self.parents.get(node)
        if isinstance(node, (ast.Constant, ast.Name, ast.Attribute)) and hasattr(parent, "end_col_offset"):
            p0, p1 = self.span(parent)
            if p1 - p0 <= 60 and "\n" not in self.source[p0:p1]:
                after = self.source[p0:start] + after + self.source[end:p1]
                start, end = p0, p1
        if line not in self.quiet:
            self.found.append(Mutant(self.path, line, start, end, self.source[start:end], after,
                                     ".".join(self.scope) or "<module>", kind))

    def swap_token(self, node, lo, hi, pattern, new, kind, wrap=False):
        # The node's text with one operator replaced; the rest stays byte for byte.
        start, end = self.span(node)
        t0, t1 = self.token(lo, hi, pattern)
        after = self.source[start:t0] + new + self.source[t1:end]
        self.add(node, f"({after})" if wrap else after, kind, at=t0)
        return t0, t1

    # what is never mutated
    def visit_Expr(self, node):
        if not (isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)):  # docstrings
            self.generic_visit(node)

    def visit_JoinedStr(self, node):  # f-string pieces
        pass

    def visit_Assign(self, node):
        if not any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            self.generic_visit(node)

    def visit_AnnAssign(self, node):  # annotations are strings here (from __future__ import annotations)
        if node.value is not None:
            self.visit(node.value)

    def visit_arg(self, node):
        pass

    # scopes: the function a mutant is in
    def visit_FunctionDef(self, node):
        for decorator in node.decorator_list:
            self.visit(decorator)
        self.scope.append(node.name)
        self.visit(node.args)  # the defaults count as the function's
        for statement in node.body:
            self.visit(statement)
        self.scope.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node):
        self.fields[node.name] = [s.target.id for s in node.body
                                  if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name)]
        for child in node.bases + node.keywords + node.decorator_list:
            self.visit(child)
        self.scope.append(node.name)
        for statement in node.body:
            self.visit(statement)
        self.scope.pop()

    def visit_Lambda(self, node):
        self.scope.append(self.lambda_names.pop(node, "<lambda>"))
        self.generic_visit(node)
        self.scope.pop()

    def visit_Call(self, node):
        func = node.func
        if isinstance(func, ast.Name) and func.id in ("max", "min"):
            self.add(func, _OTHER[func.id], "max/min")
        elif isinstance(func, ast.Attribute) and func.attr in ("maximum", "minimum"):
            text = self.source[slice(*self.span(func))]
            self.add(func, text[: -len(func.attr)] + _OTHER[func.attr], "max/min")
        # A table row at module level, such as Op("tanh", ...): its lambdas are named after the
        # row and the field they fill, Op('tanh').d, so that each is a function of its own.
        fields = self.fields.get(func.id) if isinstance(func, ast.Name) else None
        first = node.args[0] if node.args else None
        if (not self.scope and fields and isinstance(first, ast.Constant) and isinstance(first.value, str)):
            self.scope.append(f"{func.id}({first.value!r})".replace(" ", "_"))
            for i, arg in enumerate(node.args):
                if isinstance(arg, ast.Lambda) and i < len(fields):
                    self.lambda_names[arg] = fields[i]
            for keyword in node.keywords:
                if isinstance(keyword.value, ast.Lambda) and keyword.arg:
                    self.lambda_names[keyword.value] = keyword.arg
            self.generic_visit(node)
            self.scope.pop()
        else:
            self.generic_visit(node)

    # the mutations
    def visit_BinOp(self, node):
        op = type(node.op)
        _, left_end = self.span(node.left)
        right_start, _ = self.span(node.right)
        if op in _SWAP:
            t0, _ = self.swap_token(node, left_end, right_start, _TOKEN[op], _SWAP[op], "arithmetic",
                                    wrap=op is ast.Pow)  # a * b binds looser than a ** b
            if op in (ast.Add, ast.Sub):
                start, _ = self.span(node)
                self.add(node, self.source[start:t0].rstrip(), "drop operand", at=t0)
        self.generic_visit(node)

    def visit_AugAssign(self, node):
        op = type(node.op)
        _, lo = self.span(node.target)
        hi, _ = self.span(node.value)
        t0, t1 = self.token(lo, hi, _TOKEN[op] + "=")
        start, end = self.span(node)
        self.add(node, self.source[start:t0] + "=" + self.source[t1:end], "augmented assignment", at=t0)
        if op in _SWAP and op is not ast.Pow:
            self.add(node, self.source[start:t0] + _SWAP[op] + "=" + self.source[t1:end], "arithmetic", at=t0)
        self.generic_visit(node)

    def visit_Compare(self, node):
        if isinstance(node.left, ast.Name) and node.left.id == "__name__":
            return
        operands = [node.left] + node.comparators
        for i, op in enumerate(node.ops):
            pattern, new = _FLIP[type(op)]
            _, lo = self.span(operands[i])
            hi, _ = self.span(operands[i + 1])
            self.swap_token(node, lo, hi, pattern if pattern.startswith(r"\b") else re.escape(pattern), new, "comparison")
        for operand in operands:
            for c in operand.elts if isinstance(operand, (ast.Tuple, ast.List, ast.Set)) else [operand]:
                if isinstance(c, ast.Constant) and isinstance(c.value, str) and c.value != "XX":
                    self.add(c, '"XX"', "string")
        self.generic_visit(node)

    def visit_BoolOp(self, node):
        word, new = ("and", "or") if isinstance(node.op, ast.And) else ("or", "and")
        start, end = self.span(node)
        pieces, cut, first = [], start, None
        for a, b in zip(node.values, node.values[1:]):
            t0, t1 = self.token(self.span(a)[1], self.span(b)[0], rf"\b{word}\b")
            pieces += [self.source[cut:t0], new]
            cut, first = t1, first if first is not None else t0
        self.add(node, "".join(pieces) + self.source[cut:end], "boolean", at=first)
        self.generic_visit(node)

    def visit_UnaryOp(self, node):
        if isinstance(node.op, ast.Not):
            start, end = self.span(node)
            self.add(node, self.source[start + 3 : end].lstrip(), "not")
        self.generic_visit(node)

    def visit_Return(self, node):
        if isinstance(node.value, (ast.Compare, ast.BoolOp)):
            self.add(node.value, f"not ({self.source[slice(*self.span(node.value))]})", "negated return")
        self.generic_visit(node)

    def visit_Constant(self, node):
        value = node.value
        if isinstance(value, bool):
            self.add(node, str(not value), "constant")
        elif isinstance(value, int):
            self.add(node, {0: "1", 1: "0"}.get(value, str(value + 1)), "constant")
        elif isinstance(value, float):
            moved = value * 1.001 if math.isfinite(value * 1.001) else value * 0.999
            self.add(node, {0.0: "1.0", 1.0: "0.0"}.get(value, repr(moved)), "constant")


def mutants(source: str, path: str = "<string>") -> list[Mutant]:
    """Every mutant of one file's source, in source order; each one compiles."""
    mutator = _Mutator(source, path)
    mutator.visit(ast.parse(source))
    found, seen = [], set()
    for m in sorted(mutator.found, key=lambda m: (m.start, m.end)):
        if (m.start, m.end, m.after) in seen or m.after == m.before:
            continue
        seen.add((m.start, m.end, m.after))
        try:
            compile(m.apply(source), path, "exec", dont_inherit=True)
        except SyntaxError:  # a rewrite this generator got wrong: say so rather than score it
            print(f"mutants.py: skipped a mutant that does not compile: {m}", file=sys.stderr)
            continue
        found.append(m)
    count = Counter(m.key for m in found)
    seen_keys: Counter = Counter()
    for i, m in enumerate(found):
        seen_keys[m.key] += 1
        found[i] = replace(m, nth=seen_keys[m.key], of=count[m.key])
    return found


# --- equivalent mutants ------------------------------------------------------------------------------

_ENTRY = re.compile(r"^(\S+)\s+(\S+)\s+`([^`]*)`\s*→\s*`([^`]*)`(?:\s+#(\d+))?\s+(\S.*)$")


def read_equivalent(text: str) -> dict[tuple, str]:
    """The allowlist: (file, function, before, after, nth or None for every one) -> why it is equivalent."""
    entries = {}
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = _ENTRY.match(line.strip())
        if m is None:
            raise ValueError(f"{EQUIVALENT.name}:{n}: expected FILE FUNCTION `BEFORE` → `AFTER` [#N] WHY, got {line!r}")
        path, function, before, after, nth, reason = m.groups()
        entries[(path, function, squeeze(before), squeeze(after), nth and int(nth))] = reason.strip()
    return entries


def equivalent_reason(m: Mutant, entries: dict) -> str | None:
    """Why the allowlist calls this mutant equivalent, or None."""
    return entries.get(m.key + (m.nth,)) or entries.get(m.key + (None,))


# --- running them ----------------------------------------------------------------------------------------


def repository_files(root: Path) -> list[str]:
    # Tracked files and new ones git does not ignore, as they are in the working tree now.
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=root,
                         capture_output=True, check=True).stdout
    return sorted({p for p in out.decode().split("\0") if p and (root / p).is_file()})


class Copy:
    """A copy of the repository that one mutant at a time is written into."""

    def __init__(self, root: Path, files: list[str], where: Path):
        self.dir = where
        for rel in files:
            (where / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / rel, where / rel, follow_symlinks=False)
        self.env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(where), os.environ.get("PYTHONPATH", "")]),
                        PYTHONDONTWRITEBYTECODE="1",  # a .pyc of one mutant must never serve the next
                        OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")

    def run(self, path: str, text: str, tests: list[str], args: tuple, timeout: float, running: set):
        """(status, seconds, detail) of the tests with `path` holding `text`; the file is put back after."""
        file = self.dir / path
        original = file.read_bytes()
        file.write_bytes(text.encode())
        started = time.monotonic()
        try:
            proc = subprocess.Popen([sys.executable, "-m", "pytest", *PYTEST, *args, *tests], cwd=self.dir,
                                    env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    start_new_session=True)  # its own process group, so a timeout ends it all
            running.add(proc)
            try:
                out, _ = proc.communicate(timeout=timeout)
                status = "survived" if proc.returncode == 0 else "killed"
            except subprocess.TimeoutExpired:
                _end(proc)
                out, _ = proc.communicate()
                status = "timeout"
            finally:
                running.discard(proc)
        finally:
            file.write_bytes(original)
        out = out.decode(errors="replace")
        failed = re.findall(r"^(?:FAILED|ERROR) (\S+)", out, re.M)
        last = out.strip().splitlines()
        return status, time.monotonic() - started, failed[0] if failed else last[-1] if last else ""


def _end(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def resolve_tests(root: Path, patterns) -> list[str]:
    tests = []
    for pattern in patterns:
        file = pattern.split("::")[0]
        matched = sorted(str(p.relative_to(root)) for p in root.glob(file)) if any(c in file for c in "*?[") else [file]
        if not all((root / m).exists() for m in matched) or not matched:
            raise SystemExit(f"mutants.py: no test file {pattern!r}")
        tests += [m + pattern[len(file):] for m in matched]
    return tests


@dataclass
class Result:
    mutant: Mutant
    status: str  # killed, timeout, survived, or equivalent (not run)
    seconds: float = 0.0
    detail: str = ""
    reason: str = ""


def run_target(name, target, mutant_list, copies, jobs, timeout, out, verbose=False):
    """Baseline and canary first, then every mutant; a list of Results (None when the target cannot run)."""
    tests = resolve_tests(ROOT, target.tests)
    running: set = set()
    first = copies[0]
    source0 = (first.dir / target.files[0]).read_text()
    status, seconds, detail = first.run(target.files[0], source0, tests, target.args, 3600, running)
    if status != "survived":
        print(f"{name}: the tests fail on the unchanged code ({detail}); fix them first", file=out)
        return None
    canary = source0 + '\nraise RuntimeError("mutants.py canary: the copy is the code under test")\n'
    if first.run(target.files[0], canary, tests, target.args, 3600, running)[0] == "survived":
        print(f"{name}: the tests passed with {target.files[0]} raising at import: they do not import the "
              f"copy's code (or not that file at all)", file=out)
        return None
    limit = timeout or 3 * seconds + 10
    print(f"{name}: {len(mutant_list)} mutants, tests pass in {seconds:.1f} s; a mutant times out after "
          f"{limit:.0f} s; {jobs} at a time", file=sys.stderr)
    sources = {path: (first.dir / path).read_text() for path in target.files}
    free: queue.Queue = queue.Queue()
    for c in copies:
        free.put(c)
    done = [0]
    lock = threading.Lock()
    started = time.monotonic()

    def one(m):
        copy = free.get()
        try:
            status, seconds, detail = copy.run(m.path, m.apply(sources[m.path]), tests, target.args, limit, running)
        finally:
            free.put(copy)
        with lock:
            done[0] += 1
            if verbose or status == "survived" or done[0] % 25 == 0:
                print(f"  [{done[0]}/{len(mutant_list)} {time.monotonic() - started:.0f} s] {status}: {m}"
                      + (f"  ({detail})" if verbose and detail else ""), file=sys.stderr)
        return Result(m, status, seconds, detail)

    pool = ThreadPoolExecutor(jobs)
    try:
        return list(pool.map(one, mutant_list))
    except KeyboardInterrupt:
        pool.shutdown(wait=False, cancel_futures=True)
        for proc in list(running):
            _end(proc)
        raise
    finally:
        pool.shutdown(wait=True)


def report(name, files, results, equivalent_results, seconds, stale, out):
    killed = [r for r in results if r.status in ("killed", "timeout")]
    survived = [r for r in results if r.status == "survived"]
    timeouts = sum(r.status == "timeout" for r in results)
    percent = 100.0 * len(killed) / len(results) if results else 100.0
    print(f"\n== {name}: {', '.join(files)} ==" if (name,) != tuple(files) else f"\n== {name} ==", file=out)
    print(f"killed {len(killed)} of {len(results)} meaningful mutants ({percent:.1f}%)"
          f"  [{timeouts} by timeout; {len(equivalent_results)} equivalent, not scored; {_duration(seconds)}]",
          file=out)
    if survived:
        print("surviving:", file=out)
        for r in sorted(survived, key=lambda r: (r.mutant.path, r.mutant.start)):
            print(f"  {r.mutant}", file=out)
    if equivalent_results:
        print("equivalent (benchmarks/mutants_equivalent.txt):", file=out)
        for r in equivalent_results:
            print(f"  {r.mutant}: {r.reason}", file=out)
    for key in stale:
        nth = f" #{key[4]}" if key[4] else ""
        print(f"  stale allowlist entry (no such mutant now): {key[0]}  {key[1]}  `{key[2]}` → `{key[3]}`{nth}", file=out)
    return percent


def _duration(seconds):
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def _lines(text):
    a, _, b = text.partition("-")
    try:
        return int(a), int(b or a)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected A-B, got {text!r}") from None


def main(argv=None, out=sys.stdout) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     epilog=f"targets: {', '.join(TARGETS)}; or a file with --tests")
    parser.add_argument("targets", nargs="*", help="target names or files (default: every target)")
    parser.add_argument("--tests", nargs="+", metavar="TEST", help="the tests to run instead of the target's")
    parser.add_argument("--jobs", type=int, default=2, help="mutants tested at once, each in its own copy (default 2)")
    parser.add_argument("--timeout", type=float, help="seconds per mutant (default: 3× the unchanged run + 10 s)")
    parser.add_argument("--function", metavar="NAME", help="only mutants inside this function (a glob, e.g. '_dpow*')")
    parser.add_argument("--only-lines", type=_lines, metavar="A-B", help="only mutants on lines A to B")
    parser.add_argument("--limit", type=int, metavar="N", help="only the first N mutants of each target")
    parser.add_argument("--list", action="store_true", help="list the mutants without running them")
    parser.add_argument("--fail-under", type=float, metavar="P", help="exit 1 when a score is below P percent")
    parser.add_argument("-v", "--verbose", action="store_true", help="a line per mutant as it is done")
    args = parser.parse_args(argv)

    chosen = []
    for t in args.targets or list(TARGETS):
        if t in TARGETS:
            target = TARGETS[t]
            chosen.append((t, Target(target.files, tuple(args.tests), ()) if args.tests else target))
        elif (ROOT / t).is_file():
            if not args.tests and not args.list:
                parser.error(f"{t} is not a named target: say which tests catch its mutants with --tests")
            chosen.append((t, Target((t,), tuple(args.tests or ()))))
        else:
            parser.error(f"no target or file {t!r} (targets: {', '.join(TARGETS)})")

    equivalent = read_equivalent(EQUIVALENT.read_text()) if EQUIVALENT.exists() else {}
    plans = []
    for name, target in chosen:
        found = []
        for path in target.files:
            found += mutants((ROOT / path).read_text(), path)
        if args.function:
            found = [m for m in found if any(fnmatch.fnmatchcase(n, args.function)
                                             for n in [m.function, *m.function.split(".")])]
        if args.only_lines:
            found = [m for m in found if args.only_lines[0] <= m.line <= args.only_lines[1]]
        if args.limit is not None:
            found = found[: args.limit]
        plans.append((name, target, found))

    if args.list:
        for name, target, found in plans:
            print(f"== {name}: {len(found)} mutants ==", file=out)
            for m in found:
                reason = equivalent_reason(m, equivalent)
                note = f"  [equivalent: {reason}]" if reason else ""
                print(f"  {m}{note}", file=out)
        return 0

    scores = []
    with tempfile.TemporaryDirectory(prefix="gradflow-mutants-") as tmp:
        files = repository_files(ROOT)
        copies = [Copy(ROOT, files, Path(tmp) / f"copy{i}") for i in range(max(1, args.jobs))]
        for name, target, found in plans:
            started = time.monotonic()
            to_run = [m for m in found if not equivalent_reason(m, equivalent)]
            skipped = [Result(m, "equivalent", reason=equivalent_reason(m, equivalent))
                       for m in found if equivalent_reason(m, equivalent)]
            results = run_target(name, target, to_run, copies, len(copies), args.timeout, out, args.verbose)
            if results is None:
                return 2
            used = {m.key + (n,) for m in found for n in (m.nth, None)}
            whole = not (args.function or args.only_lines or args.limit is not None)
            stale = [k for k in equivalent if whole and k[0] in target.files and k not in used]
            scores.append(report(name, target.files, results, skipped, time.monotonic() - started, stale, out))
    if args.fail_under is not None and any(s < args.fail_under for s in scores):
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # | head
        sys.exit(0)
