"""The exercise checker: grade hand-derived forward values and gradients.

A sheet (TOML) gives the inputs, a graph of named steps and answers. The
checker builds the graph with the engine, runs its backward step sequence,
and says which answers are right, which are wrong and why: the chain of local
derivatives with numbers, the gate rule from the op table, the common slip
the answer matches, and the first wrong gradient in backward order. A
teacher's key grades a class's submissions (``gradflow grade``), per-student
numbers come from ``[vary]`` (``gradflow handout``).

Where each job lives: ``text`` (reading files and TOML), ``answers`` (answer keys
and the answers given), ``sheet`` (the format, the options), ``solve`` (a case, its graph
and every derivative), ``grade`` (verdicts, reports, feedback), ``hints`` (the
common slips a wrong answer matches, and what counts as right), ``numbers``
(the tolerance), ``vary`` (per-student inputs), ``bulk`` (a class at once),
``handout`` (student copies), ``ids`` (student ids, their file names, writing only
new files); ``errors`` (SheetError). The ``check``, ``grade`` and ``handout``
subcommands are in ``viz/cli/`` with every other ``gradflow`` subcommand.

The sheet: ``[inputs]`` (name = number), ``[graph]`` (name = "expression" in
``engine.expr``'s language; the last step is the output unless ``output``
says otherwise), ``[answers]``: "NAME" (a forward value), "dOUT/dNAME" or
"delta(NAME)" (a gradient of the output), "dA/dB" (the total derivative of any
node A with respect to B), "∂A/∂B" (the local derivative of the step A with
respect to an input B it uses directly), and with ``[update]`` (lr, momentum,
velocity, form) "NAME'" and "v_NAME" (after one step); each a number, or (in a
key or a sheet checked for oneself) a formula evaluated with the correct values
of the inputs and steps. Optional: ``title``, ``description``, ``tolerance``
(see below), ``params``, ``items``, ``[points]``, ``[vary]`` and ``seed``,
``conventions`` (``relu_at_0 = 0 | 1``, ``max_tie = "half" | "first"``),
``formula``, ``decimal_comma`` and ``[[cases]]``.

A submission graded against a key (``grade``) answers each item with a number,
or arithmetic of numbers in quotes ("1/150"); a name is never an answer there,
unless the key says ``formula = true`` (or lists the items, ``formula =
["dy/dw"]``): then a formula of the key's inputs (not its steps, not the item
itself) is right only if it also holds at four other inputs near the student's,
on the same side of every kink. An answer that cannot be read (text, a boolean,
an item given twice) is "invalid" and costs its item only; "0,607" is read as
0.607 unless ``decimal_comma = false``. ``[update]`` takes ``form = "pytorch"``
(v' = μ·v + g, w' = w − η·v'; the default) or ``"lecture"`` (V' = γ·V + η·g,
w' = w − V').

The tolerance: an answer is right within 1% of the correct value, or when it
is the correct value rounded to the significant digits written (at least 2,
read from the number's text: -0.20 for -0.1966 is right, 0.006 for 0.00669 is
not); a correct 0 accepts 1e-9 of the sheet's largest value. ``tolerance =
{rel = 0.05, abs = 1e-6}`` changes it for the sheet (``digits = false`` turns the
digits rule off), a ``[tolerance]`` table keyed like ``[answers]`` for one answer.
For a parameter after an update step the 1% is of the step (w − w'), which is
small beside w. An old ``tolerance = 1e-3`` keeps its meaning:
|given − correct| ≤ 1e-3·max(1, |correct|).

>>> sheet = loads('''
... [inputs]
... x = 2
... w = 1
... b = 1
... [graph]
... z = "w*x + b"
... y = "relu(z)"
... [answers]
... y = 3
... "dy/dw" = 3
... "dy/db" = "1"
... ''')
>>> report = sheet.check()
>>> report.ok, [row.key for row in report.cases[0].wrong]
(False, ['dy/dw'])
>>> print(report.cases[0].wrong[0].explanation[0])
dy/dw = dy/dz · dz/dw = 1 · 2 = 2
"""

from .errors import SheetError
from .grade import MISTAKES, CaseReport, Grade, Item, Report, Row
from .numbers import Tolerance
from .answers import Answer
from .fields import Update
from .sheet import DEFAULT_TOLERANCE, MAX_CASES, MAX_OPS, MAX_STEPS, Sheet, check, load, loads
from .solve import Case, Solution, SolutionSet
from .text import MAX_SHEET_BYTES

__all__ = ["load", "loads", "check", "Sheet", "Case", "Answer", "Solution", "SolutionSet", "Report", "CaseReport", "Row",
           "Grade", "Item", "Tolerance", "Update", "MISTAKES", "SheetError", "DEFAULT_TOLERANCE",
           "MAX_SHEET_BYTES", "MAX_STEPS", "MAX_OPS", "MAX_CASES"]

