"""A small, safe expression language that builds Value graphs.

Numbers, names, ``+ - * / **``, unary minus, parentheses and the engine's
functions by name (taken from the op table); nothing else. The text is read
by a hand-written parser into postfix code and run on a stack, never handed
to ``eval``; anything outside the language is an ``ExprError`` that gives
the column and what is allowed.

>>> y = parse("relu(w*x + b)", {"x": 2, "w": 1, "b": 1})
>>> y.backward()
>>> y.data, y.op
(3.0, 'relu')
>>> names("relu(w*x + b) * w")
('w', 'x', 'b')
"""

from __future__ import annotations

import keyword
import math
import re
from collections.abc import Mapping

from .args import is_real, type_name
from .ops import OPS, DomainError
from .value import Value

__all__ = ["parse", "names", "Expr", "ExprError", "FUNCTIONS", "MAX_LENGTH", "MAX_DEPTH", "check_name"]

# Limits that keep hostile or accidental input fast and far from Python's
# recursion limit: the parser recurses once per nesting level.
MAX_LENGTH = 10_000
MAX_DEPTH = 64

# The callable names: ops that are Value methods returning one Value. `split`
# is left out because it returns several branches; in an expression a split
# is simply a name used more than once.
FUNCTIONS: dict[str, int] = {
    name: op.arity for name, op in OPS.items() if callable(getattr(Value, name, None)) and name != "split"
}


def _signature(name):
    op = OPS[name]
    # Brackets mark the optional constant: arguments are positional only.
    optional = "".join(f"[, {p}]" for p in op.params)
    return f"{name}({', '.join(['x', 'y'][: op.arity])}{optional})"


ALLOWED = (
    "an expression may use numbers, names, + - * / **, unary minus, parentheses and the functions "
    + ", ".join(_signature(name) for name in FUNCTIONS)
)


class ExprError(ValueError):
    """An expression outside the language, or one that cannot be evaluated.

    ``column`` is the 1-based position in the text the problem was found at
    (None when it concerns the whole text).
    """

    def __init__(self, message: str, column: int | None = None):
        where = f"column {column}: " if column is not None else ""
        super().__init__(where + message)
        self.problem = message
        self.column = column


def check_name(name: str) -> str | None:
    """Why ``name`` cannot be a variable in an expression, or None if it can.

    >>> check_name("w1"), check_name("exp") is not None, check_name("2x") is not None
    (None, True, True)
    """
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        return f"{name!r} is not a valid name (a letter or _ followed by letters, digits or _)"
    if keyword.iskeyword(name):
        return f"{name!r} is a Python keyword; pick another name"
    if name in FUNCTIONS:
        return f"{name!r} is the name of a function; pick another name"
    return None


# --- tokens ------------------------------------------------------------------------

_NAME = re.compile(r"[^\W\d]\w*")
# One token after optional white space; no group matches at the end or at a character outside the language.
_TOKEN = re.compile(
    r"\s*(?:(?P<number>(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)|(?P<name>[^\W\d]\w*)|(?P<op>\*\*|[-+*/(),]))?"
)

# Characters people reach for, and what to write instead.
_HINTS = {
    ".": "attribute access ('.') is not allowed",
    "'": "strings are not allowed",
    '"': "strings are not allowed",
    "[": "subscripts and lists ('[') are not allowed",
    "]": "subscripts and lists (']') are not allowed",
    "{": "dicts and sets ('{') are not allowed",
    "}": "dicts and sets ('}') are not allowed",
    "=": "assignments, comparisons and keyword arguments ('=') are not allowed (write leaky_relu(x, 0.1))",
    "<": "comparisons ('<') are not allowed",
    ">": "comparisons ('>') are not allowed",
    "!": "comparisons ('!') are not allowed",
    ":": "':' (slices, lambdas, walrus) is not allowed",
    ";": "';' is not allowed: one expression only",
    "^": "'^' is not a power here; write ** (x ** 2)",
    "×": "write * for multiplication",
    "·": "write * for multiplication",
    "÷": "write / for division",
    "−": "write - (the ASCII minus) for subtraction",
    "@": "'@' is not allowed",
    "%": "'%' is not allowed",
    "&": "'&' is not allowed",
    "|": "'|' is not allowed",
    "~": "'~' is not allowed",
    "\\": "'\\' is not allowed",
    "#": "comments ('#') are not allowed",
}

_NUM, _NAMED, _OP, _END = "number", "name", "op", "end"


def _tokens(text):
    # (kind, value, start, end); offsets are 0-based, columns 1-based.
    out = []
    push = out.append
    pos, n = 0, len(text)
    match = _TOKEN.match
    while True:
        m = match(text, pos)
        kind = m.lastgroup
        pos = m.start(kind) if kind else m.end()
        if kind is None:
            if pos >= n:
                push((_END, "", n, n))
                return out
            ch = text[pos]
            raise ExprError(f"{_HINTS.get(ch, f'{ch!r} is not allowed')}; {ALLOWED}", pos + 1)
        word, after = m.group(kind), m.end()
        if kind == _NUM:
            if after < n and text[after] == ".":
                raise ExprError(f"{text[pos:after + 1]!r} is not a number (one decimal point at most)", after + 1)
            if after < n and (text[after].isalnum() or text[after] == "_"):
                raise ExprError(
                    f"a number must be followed by an operator, got {text[pos:after + 1]!r}; write 2*x, not 2x",
                    after + 1)
            value = float(word)
            if not math.isfinite(value):
                raise ExprError(f"the number {word!r} is too large for a float", pos + 1)
            push((_NUM, value, pos, after))
        elif kind == _NAMED:
            if keyword.iskeyword(word):
                raise ExprError(
                    f"{word!r} is a Python keyword; keywords (import, lambda, for, if, ...) are not allowed; "
                    + ALLOWED, pos + 1)
            push((_NAMED, word, pos, after))
        else:
            push((_OP, word, pos, after))
        pos = after


def _check_nesting(text):
    # Reject deep nesting before the (recursive) parser sees it.
    depth = 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
            if depth > MAX_DEPTH:
                raise ExprError(f"parentheses nest deeper than {MAX_DEPTH} levels", i + 1)
        elif ch == ")":
            depth -= 1


# --- the parser: text -> postfix code ---------------------------------------------
# Code is a list of tuples (kind, payload, start, end) where start:end is the
# source text of the sub-expression the instruction produces.


class _Parser:
    def __init__(self, text):
        self.text = text
        self.toks = _tokens(text)
        self.i = 0
        self.depth = 0
        self.code = []

    @property
    def tok(self):
        return self.toks[self.i]

    def at(self, op):
        kind, value = self.tok[:2]
        return kind == _OP and value == op

    def fail(self, expected):
        kind, value, start, _ = self.tok
        if kind == _END:
            got = "the end of the expression"
        elif kind == _NUM:
            got = f"the number {self.text[start:self.tok[3]]}"
        else:
            got = repr(value)
        raise ExprError(f"expected {expected}, got {got}", start + 1)

    def deeper(self, start):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExprError(f"the expression nests deeper than {MAX_DEPTH} levels", start + 1)

    def parse(self):
        if self.tok[0] == _END:
            raise ExprError("the expression is empty; " + ALLOWED)
        self.sum()
        if self.tok[0] != _END:
            kind, value, start, _ = self.tok
            if kind == _OP and value == ")":
                raise ExprError("')' has no matching '('", start + 1)
            if kind == _OP and value == ",":
                raise ExprError("',' is only allowed between a function's arguments", start + 1)
            self.fail("an operator (+ - * / **) or the end")
        return self.code

    def sum(self):
        start = self.tok[2]
        self.product()
        while self.at("+") or self.at("-"):
            op = "add" if self.tok[1] == "+" else "sub"
            self.i += 1
            end = self.product()
            self.code.append(("bin", op, start, end))
        return self.code[-1][3]

    def product(self):
        start = self.tok[2]
        self.unary()
        while self.at("*") or self.at("/"):
            op = "mul" if self.tok[1] == "*" else "div"
            self.i += 1
            end = self.unary()
            self.code.append(("bin", op, start, end))
        return self.code[-1][3]

    def unary(self):
        # Signs are collected in a loop so that "------x" needs no recursion.
        signs = []
        while self.at("-") or self.at("+"):
            signs.append(self.tok)
            self.i += 1
        end = self.power()
        for sign in reversed(signs):
            if sign[1] == "-":
                self.code.append(("neg", None, sign[2], end))
        return end

    def power(self):
        start = self.tok[2]
        self.atom()
        if self.at("**"):
            self.i += 1
            self.deeper(start)
            end = self.unary()  # right-associative, and 2 ** -1 is allowed
            self.depth -= 1
            self.code.append(("bin", "pow", start, end))
        return self.code[-1][3]

    def atom(self):
        kind, value, start, end = self.tok
        if kind == _NUM:
            self.i += 1
            self.code.append(("num", value, start, end))
        elif kind == _NAMED:
            self.i += 1
            if self.at("("):
                self.call(value, start)
            else:
                self.code.append(("name", value, start, end))
        elif self.at("("):
            self.i += 1
            self.deeper(start)
            self.sum()
            if not self.at(")"):
                self.fail(f"')' to close the '(' at column {start + 1}")
            self.depth -= 1
            self.i += 1
            # The parenthesised text is the same value; widen its span.
            *rest, _, _ = self.code[-1]
            self.code[-1] = (*rest, start, self.tok_end())
        else:
            self.fail("a number, a name, a function call or '('")

    def tok_end(self):
        return self.toks[self.i - 1][3]

    def call(self, name, start):
        if name not in FUNCTIONS:
            raise ExprError(f"unknown function {name!r}; the functions are {', '.join(FUNCTIONS)}", start + 1)
        self.deeper(start)
        self.i += 1  # the "("
        nargs = 0
        if not self.at(")"):
            while True:
                self.sum()
                nargs += 1
                if not self.at(","):
                    break
                self.i += 1
        if not self.at(")"):
            self.fail(f"',' or ')' to close the call of {name} at column {start + 1}")
        self.i += 1
        self.depth -= 1
        op = OPS[name]
        least, most = op.arity, op.arity + len(op.params)
        if not least <= nargs <= most:
            want = f"{least}" if least == most else f"{least} or {most}"
            raise ExprError(f"{name} takes {want} argument{'s' if most > 1 else ''}: {_signature(name)}; got {nargs}",
                            start + 1)
        self.code.append(("call", (name, nargs), start, self.tok_end()))


# --- evaluation ------------------------------------------------------------------

_FAILURES = (DomainError, ZeroDivisionError, OverflowError, ValueError)


class Expr:
    """One parsed expression: its source, the names it uses, and its code.

    >>> e = Expr("sigmoid(w*x) - t")
    >>> e.names
    ('w', 'x', 't')
    >>> round(e.value({"w": 2, "x": 0.5, "t": 1}), 4)
    -0.2689
    """

    __slots__ = ("text", "code", "names")

    def __init__(self, text: str):
        if not isinstance(text, str):
            raise ExprError(f"an expression must be a str, got {type_name(text)}")
        if len(text) > MAX_LENGTH:
            raise ExprError(f"the expression is {len(text):,} characters long; the limit is {MAX_LENGTH:,}")
        _check_nesting(text)
        self.text = text
        self.code = tuple(_Parser(text).parse())
        seen = dict.fromkeys(c[1] for c in self.code if c[0] == "name")
        self.names = tuple(seen)

    def __repr__(self):
        return f"Expr({self.text!r})"

    def source(self, start: int, end: int) -> str:
        return self.text[start:end].strip()

    def evaluate(self, values: Mapping, texts: dict | None = None):
        """Run the code. Names are looked up in ``values`` (numbers or Values);
        a number becomes one leaf labelled with its name, shared by every use.

        Returns a Value when any name is involved, else a float (constants are
        folded, so ``x ** -1`` is the constant-exponent "pow" op). When
        ``texts`` is a dict, each node the expression creates is mapped to the
        source text that produced it.

        >>> texts = {}
        >>> y = Expr("(w*x) * 2").evaluate({"w": 3, "x": 0.5}, texts)
        >>> y.data, sorted(texts.values())
        (3.0, ['(w*x)', '(w*x) * 2'])
        """
        if not isinstance(values, Mapping):
            raise TypeError(f"the values must be a mapping from names to numbers or Values, got {type_name(values)}")
        leaves = {}
        stack = []
        push, pop = stack.append, stack.pop
        for kind, payload, start, end in self.code:
            if kind == "num":
                push(payload)
                continue
            if kind == "name":
                push(self._lookup(payload, values, leaves, start))
                continue
            try:
                if kind == "bin":
                    y, x = pop(), pop()
                    out = _binary(payload, x, y)
                elif kind == "neg":
                    out = -pop()
                else:
                    name, nargs = payload
                    args = stack[-nargs:]
                    del stack[-nargs:]
                    out = _call(name, args)
            except ExprError as e:
                raise ExprError(f"{self.source(start, end)}: {e.problem}", start + 1) from None
            except _FAILURES as e:
                raise ExprError(f"{self.source(start, end)}: {e}", start + 1) from None
            if texts is not None and isinstance(out, Value):
                texts[out] = self.source(start, end)
            push(out)
        return stack[0]

    def value(self, values: Mapping) -> float:
        """The expression's number for the given values."""
        out = self.evaluate(values)
        return float(out.data if isinstance(out, Value) else out)

    @staticmethod
    def _lookup(name, values, leaves, start):
        if name in leaves:
            return leaves[name]
        try:
            v = values[name]
        except KeyError:
            known = ", ".join(sorted(values)) or "none"
            raise ExprError(f"unknown name {name!r}; the names defined here are: {known}", start + 1) from None
        if not isinstance(v, Value):
            if not is_real(v):
                raise ExprError(f"the value of {name!r} must be a number or a Value, got {type_name(v)}",
                                start + 1)
            v = Value(float(v), name)
        leaves[name] = v
        return v


def _const(x):
    return Value(x, kind="const")


def _binary(op, x, y):
    # Constants fold through the same Value rules, so errors read the same.
    folded = not isinstance(x, Value) and not isinstance(y, Value)
    if folded:
        x = _const(x)
    if op == "add":
        out = x + y
    elif op == "sub":
        out = x - y
    elif op == "mul":
        out = x * y
    elif op == "div":
        out = x / y
    else:
        out = x ** y
    return out.data if folded else out


def _call(name, args):
    arity = OPS[name].arity
    inputs, params = args[:arity], args[arity:]
    for i, p in enumerate(params, start=arity + 1):
        if isinstance(p, Value):
            raise ExprError(f"{name}'s {OPS[name].params[0]} (argument {i}) must be a number, not an expression with names")
    folded = not any(isinstance(v, Value) for v in inputs)
    first = _const(inputs[0]) if not isinstance(inputs[0], Value) else inputs[0]
    out = getattr(first, name)(*inputs[1:], *params)
    return out.data if folded else out


def names(text: str) -> tuple:
    """The variable names an expression uses, in order of first use (function names excluded)."""
    return Expr(text).names


def parse(text: str, values: Mapping) -> Value:
    """Parse ``text`` and build its graph from ``values`` (name -> number or Value).

    Each name that maps to a number becomes one leaf labelled with the name.
    An expression without names gives a constant leaf. Errors are ``ExprError``
    with the column: syntax outside the language, unknown names, and values
    outside a function's domain.

    >>> parse("log(x) * 2", {"x": 1.0}).data
    0.0
    >>> parse("log(x)", {"x": -1.0})
    Traceback (most recent call last):
    ...
    engine.expr.ExprError: column 1: log(x): log: the input must be > 0, got -1.0
    """
    out = Expr(text).evaluate(values)
    return out if isinstance(out, Value) else _const(out)
