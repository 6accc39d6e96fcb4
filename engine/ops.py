"""The op table: every operation gradflow knows, defined once.

Each row names an op and gives its forward rule, its local derivatives (one per
input), the formula a student would write, and the gate's behaviour in words.
The eager engine, the batched evaluator, the renderer and the exercise checker
all read this table; adding an op means adding a row (and a test row).

Scalar rules take plain floats; the ``vf``/``vd`` twins take numpy arrays and
must agree with them element by element (the tests check this).

>>> OPS["mul"].d(3.0, 4.0, 12.0, None)
(4.0, 3.0)
>>> OPS["sigmoid"].formula
('σ(x)·(1 − σ(x))',)
"""

from __future__ import annotations

import importlib
import math
from dataclasses import dataclass
from typing import Callable, NamedTuple

from .args import type_name

__all__ = ["Op", "OPS", "UNARY", "BINARY", "CONVENTIONS", "Convention", "choose"]

# Largest x with a finite exp(x); above it math.exp overflows.
EXP_MAX = math.log(1.7976931348623157e308)
# Smallest normal float: below it a result has underflowed and lost digits.
TINY = 2.2250738585072014e-308


@dataclass(frozen=True)
class Op:
    """One row of the table.

    ``f(*xs, arg)`` computes the output; ``d(*xs, out, arg)`` returns the local
    derivative d out / d x_i for each input, as a tuple. ``arg`` is the op's
    constant parameter (an exponent, an alpha) or None.
    """

    name: str  # what Value.op reports, and the method/function name
    symbol: str  # what a drawn gate shows
    arity: int
    f: Callable
    d: Callable
    vf: Callable  # numpy twin of f
    vd: Callable  # numpy twin of d
    formula: tuple[str, ...]  # d out / d input, one per input, as written by hand
    gate: str  # the gate's behaviour in words
    params: tuple[str, ...] = ()  # names of the constant parameter, if any


class DomainError(ValueError):
    """An op was asked for a value outside its domain (log of a negative, ...)."""


class _Numpy:
    """numpy, imported the first time a twin runs.

    ``import engine`` stays free of numpy (the exercise checker starts in well
    under 100 ms); the first attribute read replaces this stand-in with the
    module, so later twins look numpy up as directly as an import would.
    """

    def __getattr__(self, name):
        global np
        np = importlib.import_module("numpy")
        return getattr(np, name)


np = _Numpy()


# --- scalar helpers: stable for any finite float --------------------------------


def _exp(x, _=None):
    if x > EXP_MAX:
        raise OverflowError(f"exp: exp({x!r}) overflows a float; exp is finite only up to x = {EXP_MAX:.2f}")
    return math.exp(x)


def _log(x, _=None):
    if x <= 0:
        raise DomainError(f"log: the input must be > 0, got {x!r}")
    return math.log(x)


def _sigmoid(x, _=None):
    # Two branches so that exp never sees a large positive argument.
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _softplus(x, _=None):
    # log(1 + e^x) = max(x, 0) + log1p(e^-|x|): no overflow for large x.
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def _div(x, y, _=None):
    if y == 0:
        raise ZeroDivisionError(f"div: division by zero in {x!r} / {y!r}; the divisor must be non-zero")
    return x / y


def _pow(x, k):
    if x > 0:  # the common case first: a positive base has a real power for every k
        try:
            return x**k
        except OverflowError:
            raise OverflowError(f"pow: {x!r} ** {k!r} overflows a float") from None
    if x == 0 and k < 0:
        raise ZeroDivisionError(f"pow: 0 ** {k!r} is undefined; a zero base needs an exponent >= 0")
    if x < 0 and not float(k).is_integer():
        raise DomainError(f"pow: {x!r} ** {k!r} is not a real number; a negative base needs an integer exponent")
    try:
        return float(x**k)
    except OverflowError:
        raise OverflowError(f"pow: {x!r} ** {k!r} overflows a float") from None


def _powv(x, y, _=None):
    if x < 0:
        raise DomainError(
            f"pow: base {x!r} is negative; with a Value exponent the base must be >= 0 "
            "(d/dy x**y = x**y·log x needs log x)"
        )
    if x == 0 and y < 0:
        raise ZeroDivisionError(f"pow: 0 ** {y!r} is undefined; a zero base needs an exponent >= 0")
    try:
        return float(x**y)
    except OverflowError:
        raise OverflowError(f"pow: {x!r} ** {y!r} overflows a float") from None


def _dpow(x, out, k):
    # k·x^(k−1) as k·(out/x): a division instead of a second power. Only when
    # out has underflowed (x² at x = 1e-200 is 0) is the power taken again.
    # k = 0 first: x**0 is flat, and 0·(out/x) would be 0·inf = nan at a subnormal x.
    if k == 0:
        return (0.0,)
    if x != 0:
        return (k * (out / x) if abs(out) >= TINY else k * x ** (k - 1),)
    if k == 1:
        return (1.0,)
    return (0.0,) if k > 1 or k == 0 else (math.inf,)


def _dpowv(x, y, out, _=None):
    if y == 0:
        dx = 0.0  # as in _dpow: x**0 is flat
    elif x != 0:
        dx = y * (out / x) if out >= TINY else y * x ** (y - 1)  # as in _dpow
    else:
        dx = 0.0 if y > 1 or y == 0 else (1.0 if y == 1 else math.inf)
    # d/dy x^y = x^y log x; at x = 0 the limit from y > 0 is 0.
    dy = out * math.log(x) if x > 0 else 0.0
    return (dx, dy)


def _elu(x, a):
    return x if x > 0 else a * math.expm1(x)


def _dmax(x, y, out, _=None):
    if x > y:
        return (1.0, 0.0)
    if y > x:
        return (0.0, 1.0)
    return (0.5, 0.5)  # a tie splits the gradient half and half


# --- numpy twins -----------------------------------------------------------------


def _vsigmoid(x, _=None):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _underflowed(d, out, power):
    # As the scalar rules: where out has underflowed, d comes from the power.
    tiny = np.abs(out) < TINY
    return np.where(tiny, power(), d) if tiny.any() else d


def _vdpow(x, out, k):
    if k == 0:
        return (np.zeros_like(x),)  # as in _dpow
    with np.errstate(all="ignore"):
        safe = np.where(x != 0, x, 1.0)
        d = _underflowed(k * (out / safe), out, lambda: k * safe ** (k - 1))
        d = np.where(x != 0, d, 0.0)
    if k == 1:
        return (np.ones_like(x),)
    if 0 < k < 1 or k < 0:
        d = np.where(x != 0, d, np.inf)
    return (d,)


def _vdpowv(x, y, out, _=None):
    safe = np.where(x != 0, x, 1.0)
    dx0 = np.where(y > 1, 0.0, np.where(y == 1, 1.0, np.where(y == 0, 0.0, np.inf)))
    with np.errstate(all="ignore"):
        dx = np.where(x != 0, _underflowed(y * (out / safe), out, lambda: y * safe ** (y - 1)), dx0)
        dx = np.where(y == 0, 0.0, dx)  # as in _dpowv: x**0 is flat
    dy = np.where(x > 0, out * np.log(np.where(x > 0, x, 1.0)), 0.0)
    return (dx, dy)


def _vdmax(x, y, out, _=None):
    return (np.where(x > y, 1.0, np.where(x < y, 0.0, 0.5)), np.where(y > x, 1.0, np.where(y < x, 0.0, 0.5)))


def _ones(x):
    return np.ones_like(x)


# --- the table -------------------------------------------------------------------
# d(...) receives the inputs, then the output, then arg; it returns one local
# derivative per input. Reusing `out` (e.g. sigmoid, exp) is why it is passed.

_ROWS = [
    Op("add", "+", 2,
       lambda x, y, a: x + y, lambda x, y, o, a: (1.0, 1.0),
       lambda x, y, a: x + y, lambda x, y, o, a: (_ones(o), _ones(o)),
       ("1", "1"), "sum distributes: each input receives the upstream gradient unchanged"),
    Op("sub", "−", 2,
       lambda x, y, a: x - y, lambda x, y, o, a: (1.0, -1.0),
       lambda x, y, a: x - y, lambda x, y, o, a: (_ones(o), -_ones(o)),
       ("1", "−1"), "difference distributes: the first input gets the gradient, the second its negative"),
    Op("mul", "×", 2,
       lambda x, y, a: x * y, lambda x, y, o, a: (y, x),
       lambda x, y, a: x * y, lambda x, y, o, a: (y, x),
       ("y", "x"), "product switches: each input receives the gradient times the other input"),
    Op("div", "÷", 2,
       _div, lambda x, y, o, a: (1.0 / y, -x / y / y),  # not x/(y·y): y·y underflows at y = 1e-200
       lambda x, y, a: x / y, lambda x, y, o, a: (1.0 / y, -x / y / y),
       ("1/y", "−x/y²"), "quotient: the numerator gets gradient/y, the denominator −gradient·x/y²"),
    Op("neg", "−", 1,
       lambda x, a: -x, lambda x, o, a: (-1.0,),
       lambda x, a: -x, lambda x, o, a: (-_ones(o),),
       ("−1",), "negation flips the sign of the gradient"),
    Op("pow", "^", 1,
       _pow, _dpow,
       lambda x, k: x**k, _vdpow,
       ("k·x^(k−1)",), "power with a constant exponent k: scales the gradient by k·x^(k−1)", ("k",)),
    Op("powv", "^", 2,
       _powv, _dpowv,
       lambda x, y, a: x**y, _vdpowv,
       ("y·x^(y−1)", "x^y·log x"), "power with a Value exponent: the base gets y·x^(y−1), the exponent x^y·log x"),
    Op("exp", "exp", 1,
       _exp, lambda x, o, a: (o,),
       lambda x, a: np.exp(x), lambda x, o, a: (o,),
       ("exp(x)",), "exp scales the gradient by its own output"),
    Op("log", "log", 1,
       _log, lambda x, o, a: (1.0 / x,),
       lambda x, a: np.log(x), lambda x, o, a: (1.0 / x,),
       ("1/x",), "log scales the gradient by 1/x"),
    Op("sigmoid", "σ", 1,
       _sigmoid, lambda x, o, a: (o * (1.0 - o),),
       _vsigmoid, lambda x, o, a: (o * (1.0 - o),),
       ("σ(x)·(1 − σ(x))",), "sigmoid scales the gradient by s·(1 − s), at most 1/4"),
    Op("tanh", "tanh", 1,
       lambda x, a: math.tanh(x), lambda x, o, a: (1.0 - o * o,),
       lambda x, a: np.tanh(x), lambda x, o, a: (1.0 - o * o,),
       ("1 − tanh²(x)",), "tanh scales the gradient by 1 − t², at most 1"),
    Op("relu", "ReLU", 1,
       lambda x, a: x if x > 0 else 0.0, lambda x, o, a: (1.0 if x > 0 else 0.0,),
       # maximum and a cast, not np.where: np.where with a scalar takes 5× as long on a layer's activations.
       lambda x, a: np.maximum(x, 0.0), lambda x, o, a: ((x > 0).astype(float),),
       ("1 if x > 0 else 0",), "ReLU passes the gradient where the input was positive and blocks it elsewhere (ReLU'(0) = 0)"),
    Op("leaky_relu", "LReLU", 1,
       lambda x, a: x if x > 0 else a * x, lambda x, o, a: (1.0 if x > 0 else a,),
       lambda x, a: np.where(x > 0, x, a * x), lambda x, o, a: (np.where(x > 0, 1.0, a),),
       ("1 if x > 0 else α",), "leaky ReLU passes the gradient where the input was positive and scales it by α elsewhere", ("alpha",)),
    Op("elu", "ELU", 1,
       _elu, lambda x, o, a: (1.0 if x > 0 else o + a,),
       lambda x, a: np.where(x > 0, x, a * np.expm1(np.minimum(x, 0.0))),
       lambda x, o, a: (np.where(x > 0, 1.0, o + a),),
       ("1 if x > 0 else ELU(x) + α",), "ELU passes the gradient where the input was positive and scales it by α·eˣ elsewhere", ("alpha",)),
    Op("softplus", "softplus", 1,
       _softplus, lambda x, o, a: (_sigmoid(x),),
       lambda x, a: np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x))), lambda x, o, a: (_vsigmoid(x),),
       ("σ(x)",), "softplus scales the gradient by σ(x)"),
    Op("max", "max", 2,
       lambda x, y, a: x if x >= y else y, _dmax,
       lambda x, y, a: np.maximum(x, y), _vdmax,
       ("1 if x > y, ½ if x = y, else 0", "1 if y > x, ½ if x = y, else 0"),
       "max routes: the larger input gets the whole gradient (a tie splits it half and half)"),
    Op("split", "split", 1,
       lambda x, a: x, lambda x, o, a: (1.0,),
       lambda x, a: x, lambda x, o, a: (_ones(o),),
       ("1",), "split adds: the gradients arriving along the branches are summed", ("branch",)),
]

OPS: dict[str, Op] = {row.name: row for row in _ROWS}
UNARY = tuple(name for name, row in OPS.items() if row.arity == 1)
BINARY = tuple(name for name, row in OPS.items() if row.arity == 2)

# Conventions the lectures differ on, next to the rows they change: where an op has a kink or a
# tie, its local derivatives there are a choice. The engine keeps each row's own (the first
# choice listed); a tool may offer the others (the exercise checker's `conventions = {relu_at_0 = 1}`,
# deck 001). Each entry: the op, the rule in words, where it applies (the inputs' data), and
# the choices, a name a sheet writes -> the local derivatives there.


class Convention(NamedTuple):
    op: str
    words: str
    applies: Callable
    choices: dict


CONVENTIONS = {
    "relu_at_0": Convention("relu", "ReLU′(0)", lambda x: x == 0, {0: (0.0,), 1: (1.0,)}),
    "max_tie": Convention("max", "a tie at max", lambda x, y: x == y, {"half": (0.5, 0.5), "first": (1.0, 0.0)}),
}


def choose(conventions) -> dict:
    """{op name: (where the choice applies, the local derivatives there)} for chosen conventions.

    ``conventions`` maps a convention's name to a choice, as a sheet writes it:

    >>> applies, local = choose({"relu_at_0": 1})["relu"]
    >>> applies(0.0), local
    (True, (1.0,))
    """
    if not conventions:
        return {}
    if not isinstance(conventions, dict):
        raise TypeError(f"conventions must be a dict such as {{'relu_at_0': 1}}, got {type_name(conventions)}")
    chosen = {}
    for name, choice in conventions.items():
        c = CONVENTIONS.get(name)
        if c is None:
            raise ValueError(f"unknown convention {name!r}; known: {', '.join(map(repr, CONVENTIONS))}")
        if isinstance(choice, bool) or choice not in c.choices:
            raise ValueError(f"convention {name!r} takes one of {', '.join(map(repr, c.choices))}, got {choice!r}")
        chosen[c.op] = (c.applies, c.choices[choice])
    return chosen
