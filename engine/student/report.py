"""check_engine: run every check on a student's Value class, each within its limits, and report.

The checks run in an order where each needs only what passed before it
(``*`` first, then ``+`` and the other ops, then graphs built from them); a
check whose ops are missing or wrong is skipped and says why. The report
explains the first failure; the others are listed below it.
"""

from __future__ import annotations

import textwrap
from typing import NamedTuple

from ..args import is_real
from ..ops import OPS
from . import cases
from .bounds import Bounds

__all__ = ["check_engine", "EngineReport", "Check", "STATUSES"]

STATUSES = ("ok", "note", "failed", "stopped", "skipped")  # 'stopped': past a time or memory limit, or crashed
ACTIVATIONS = ("tanh", "relu", "sigmoid")  # a neuron is checked with each one the class has
WIDTH = 100  # characters a line of the report takes at most (JupyterLab at 1,280 px shows about 105)
MAX_STOPS = 3  # after this many stopped checks the rest are skipped: each would likely be stopped too


class Check(NamedTuple):
    """One check: its name, 'ok', 'note', 'failed', 'stopped' or 'skipped', what it found, and how long it took."""

    name: str
    status: str
    message: str
    seconds: float = 0.0
    printed: str = ""  # what the student's code printed during the check


class EngineReport:
    """What check_engine found: ``ok``, ``checks`` (one Check each), ``first`` (the first failure, or None).

    ``str()`` explains the first failure, then lists every check.
    """

    def __init__(self, name: str, checks: list, seconds: float):
        self.name, self.checks, self.seconds = name, list(checks), seconds

    @property
    def failed(self) -> list:
        return [c for c in self.checks if c.status in ("failed", "stopped")]

    @property
    def skipped(self) -> list:
        return [c for c in self.checks if c.status == "skipped"]

    @property
    def notes(self) -> list:
        return [c for c in self.checks if c.status == "note"]

    @property
    def first(self):
        return self.failed[0] if self.failed else None

    @property
    def graphs_checked(self) -> bool:
        """Whether the graph checks ran: they need + and *, and without them little is known."""
        return any(c.name == "topological order" and c.status in ("ok", "note") for c in self.checks)

    @property
    def ok(self) -> bool:
        return not self.failed and self.graphs_checked

    def __bool__(self):
        return self.ok

    def summary(self) -> str:
        counts = [f"{n} {word}" for n, word in ((sum(c.status in ("ok", "note") for c in self.checks), "passed"),
                                               (len(self.failed), "failed"), (len(self.skipped), "skipped")) if n]
        notes = len(self.notes)
        counts += [f"{notes} note{'s' * (notes != 1)}"] if notes else []
        return f"check_engine({self.name}): {', '.join(counts)} ({self.seconds:.2f} s)"

    def __str__(self):
        lines = [self.summary()]
        if self.first:
            c = self.first
            lines.append(textwrap.fill(f"first failure, {c.name}: {c.message}", WIDTH, subsequent_indent="  ",
                                       break_on_hyphens=False))
            if c.printed.strip():
                shown = c.printed.strip().splitlines()
                lines.append("  your code printed: " + " | ".join(shown[:5]) + (" | …" if len(shown) > 5 else ""))
        elif not self.graphs_checked:
            lines.append("not checked: the graphs (a value used twice, the topological order, ...) need `__add__`, "
                         "`__mul__` and backward(); add them and check again")
        else:
            lines.append("your engine agrees with gradflow's on every check it could run")
        lines.append("")
        width = max(len(c.name) for c in self.checks)
        for c in self.checks:
            said = "" if c is self.first else c.message if c.status != "ok" else ""
            head = f"  {c.status.upper() if c.status in ('failed', 'stopped') else c.status:8} {c.name:{width}}  "
            # Long messages wrap under their own column, so that the list stays readable in a notebook.
            lines.append(textwrap.fill(said, WIDTH, initial_indent=head, subsequent_indent=" " * len(head),
                                       break_on_hyphens=False) if said else head.rstrip())
        return "\n".join(lines)

    def __repr__(self):
        first = f", first failure: {self.first.name}" if self.first else ""
        return f"<EngineReport {self.name}: {'ok' if self.ok else 'not ok'}{first}>"

    def _repr_pretty_(self, p, cycle):  # IPython shows the text, so `check_engine(Value)` alone in a cell reads well
        p.text(str(self))

    def to_dict(self) -> dict:
        return {"name": self.name, "ok": self.ok, "seconds": self.seconds,
                "checks": [c._asdict() for c in self.checks]}

    @classmethod
    def from_dict(cls, d: dict) -> "EngineReport":
        return cls(d["name"], [Check(**c) for c in d["checks"]], d["seconds"])


def _words(outcome, bounds) -> str:
    # A stopped piece, in words: what it was running, and the student's line when known.
    doing = f" while running {outcome.doing}" if outcome.doing else ""
    where = f" ({outcome.where})" if outcome.where else ""
    if outcome.status == "time":
        return f"stopped after {bounds.seconds:g} s{doing}{where}: a loop that never ends?"
    if outcome.status == "memory":
        return f"stopped: used more than {bounds.megabytes:g} MB{doing}{where}: a list or a graph that grows without end?"
    if outcome.status == "crash":
        return f"Python crashed{doing} ({outcome.where or 'no reason given'})"
    return f"raised {outcome.value}{doing}{where}"


def check_engine(cls, *, time_limit: float = 2.0, memory_limit: float = 512) -> EngineReport:
    """Check a student's Value class (micrograd's interface) against gradflow's engine, op by op, then graphs.

    Each check runs within ``time_limit`` seconds and ``memory_limit`` MB more than this process has (on Linux
    and macOS in a forked copy of this process, so a loop or a huge allocation is stopped, never a hang).

    >>> from engine import Value
    >>> report = check_engine(Value)
    >>> report.ok, report.first, len(report.skipped)
    (True, None, 0)
    >>> class Tiny:
    ...     def __init__(self, data):
    ...         self.data, self.grad = data, 0
    ...     def backward(self):
    ...         pass
    >>> report = check_engine(Tiny)
    >>> report.ok, [c.name for c in report.checks][:3]
    (False, ['Tiny(2.0)', 'a * b', 'a + b'])
    """
    if not isinstance(cls, type):
        kind = f"an instance of {type(cls).__name__}" if hasattr(cls, "data") else type(cls).__name__
        raise TypeError(f"check_engine needs your Value class itself, as in check_engine(Value); got {kind}")
    for value, what, least in ((time_limit, "time_limit", 0.05), (memory_limit, "memory_limit", 16)):
        if not is_real(value) or not value >= least:
            raise ValueError(f"check_engine: {what} must be a number >= {least:g}, got {value!r}")
    bounds = Bounds(float(time_limit), float(memory_limit))
    return _Run(cls, bounds).run()


class _Run:
    def __init__(self, cls, bounds):
        self.cls, self.bounds, self.checks, self.stops = cls, bounds, [], 0
        self.state = {}  # op name -> its check's status ('missing' when the class lacks it)

    def add(self, name, fn, *args, uses=(), after=(), deep=False):
        need = [op for op in uses if self.state.get(op) != "ok" and self.state.get(op) != "note"]
        if self.checks and self.checks[0].status not in ("ok", "note"):
            return self._skip(name, f"not run: {self.cls.__name__}(2.0) did not work")
        if need:
            op = need[0]
            method = cases.SPELLINGS[op].method
            why = f"your class has no `{method}`" if self.state.get(op) == "missing" else f"needs a working `{method}`"
            return self._skip(name, f"not run: {why}")
        if self.stops >= MAX_STOPS:
            return self._skip(name, f"not run: {MAX_STOPS} checks were already stopped")
        outcome = self.bounds.run(lambda: cases.verdict(fn, self.cls, *args))
        if outcome.status == "ok":
            status, message = outcome.value
        elif deep and outcome.status == "crash":
            status, message = "note", (f"Python crashed on the deep chain ({outcome.where}): a recursion deeper than "
                                       "the C stack? A list used as a stack works at any depth")
        else:
            status, message = ("failed" if outcome.status == "error" else "stopped"), _words(outcome, self.bounds)
            self.stops += status == "stopped"
        if status in ("failed", "stopped") and after:
            broken = [op for op in after if self.state.get(op) in ("failed", "stopped")]
            if broken:
                method = cases.SPELLINGS[broken[0]].method
                message += f" (`{method}` failed above: if this op is built on it, fix `{method}` first)"
        self.checks.append(Check(name, status, message, round(outcome.seconds, 4), outcome.printed))
        return status

    def _skip(self, name, why):
        self.checks.append(Check(name, "skipped", why))
        return "skipped"

    def run(self) -> EngineReport:
        import time

        start = time.monotonic()
        self.add(f"{self.cls.__name__}(2.0)", cases.check_make)
        for op in cases.ORDER:
            spelling = cases.SPELLINGS[op]
            name = spelling.show.replace("x ** k", "x ** k (k a number)")
            if not cases.has_op(self.cls, op):
                self.state[op] = "missing"
                self._skip(name, f"your class has no `{spelling.method}`")
                continue
            chain = self.state.get("mul") in ("ok", "note")
            after = () if op in ("mul", "add") else ("mul", "add")
            self.state[op] = self.add(name, cases.check_op, op, chain or op == "mul", after=after)
        self.add("a value used twice in one op", cases.check_twice, uses=("add", "mul"))
        self.add("a value used along two paths", cases.check_graph, cases.PATHS, uses=("add", "mul"))
        self.add("topological order", cases.check_graph, cases.ORDERED, uses=("add", "mul"))
        self.add("backward() twice", cases.check_again, uses=("mul",))
        for act in ACTIVATIONS:
            if act in OPS and self.state.get(act) != "missing":
                self.add(f"a {act} neuron", cases.check_neuron, act, uses=("add", "mul", act))
        self.add("a deep chain", cases.check_deep, uses=("add",), deep=True)
        return EngineReport(self.cls.__name__, self.checks, round(time.monotonic() - start, 3))
