"""What counts as a number, and as a count, wherever gradflow takes one from a user.

``True`` is an ``int`` to Python, but a learning rate of ``True`` or ``epochs=True``
is a slip, never meant: every check in gradflow refuses bools through these two.

>>> is_int(3), is_int(True), is_int(3.0)
(True, False, False)
>>> is_real(0.5), is_real(False), is_real("0.5")
(True, False, False)
>>> number(2, "lr")
2.0
>>> number(True, "lr")
Traceback (most recent call last):
...
TypeError: lr needs a real number (int or float), got bool True; write 1.0 or 0.0
"""

from __future__ import annotations

import math
import numbers
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["is_int", "is_real", "number", "show", "type_name", "nonfinite_ok", "allow_nonfinite"]


def type_name(x) -> str:
    """What an error calls the type of ``x``: a leaf or a node is a "Value", as students know it.

    >>> from engine import Value
    >>> type_name(Value(1.0)), type_name(Value(1.0) * 2), type_name([1.0])
    ('Value', 'Value', 'list')
    """
    for c in type(x).__mro__:
        if c.__name__ == "Value" and c.__module__ == "engine.value":
            return "Value"
    return type(x).__name__


# Set by Value.allow_nonfinite(); read only once a non-finite number shows up,
# so the finite case never pays for it.
nonfinite_ok: ContextVar = ContextVar("nonfinite_ok", default=False)


@contextmanager
def allow_nonfinite():
    """Let inf and nan into Values inside a ``with`` block (to show overflow on purpose).

    >>> from engine import Value
    >>> with Value.allow_nonfinite():
    ...     y = Value(1e308) * 10
    >>> y.data
    inf
    """
    token = nonfinite_ok.set(True)
    try:
        yield
    finally:
        nonfinite_ok.reset(token)


_INT_MAX = 2**53  # ints below it become floats exactly


def _is_bool(x) -> bool:
    return isinstance(x, bool) or getattr(x, "dtype", None) == "bool"  # numpy's bool (np.bool_ by any name)


def is_int(x) -> bool:
    """An integer (Python's or numpy's), and not a bool."""
    return isinstance(x, numbers.Integral) and not _is_bool(x)


def is_real(x) -> bool:
    """A real number (int, float, numpy's), and not a bool."""
    return isinstance(x, numbers.Real) and not _is_bool(x)


def show(x) -> str:
    """A number (or anything) as an error message quotes it: its repr, cut at 60 characters."""
    return f"{x!r:.60}"


def number(x, what) -> float:
    """``x`` as a plain, finite float, or an error naming ``what`` and what it received.

    numpy scalars become plain floats (np.float64's arithmetic warns where a
    float's raises); a float subclass is kept as it is (engine.replay hands in
    one to watch). inf and nan pass only inside ``Value.allow_nonfinite()``.
    """
    if x.__class__ is int and -_INT_MAX < x < _INT_MAX:  # the common exponent 2: no ABC check
        return float(x)
    if x.__class__ is not float and (x.__class__.__module__ == "numpy" or not isinstance(x, float)):
        if _is_bool(x):
            raise TypeError(f"{what} needs a real number (int or float), got bool {x!r}; write 1.0 or 0.0")
        if not isinstance(x, numbers.Real):
            if type_name(x) == "Value":
                raise TypeError(f"{what} needs a real number (int or float), got a Value, {show(x)}; "
                                "write .data for its number")
            raise TypeError(f"{what} needs a real number (int or float), got {type_name(x)} {show(x)}")
        try:
            x = float(x)
        except OverflowError:
            raise OverflowError(
                f"{what} needs a number a float can hold (|x| < 1.8e308), got {type_name(x)} {show(x)}"
            ) from None
    if not math.isfinite(x) and not nonfinite_ok.get():  # math reads a float subclass's number without calling it
        raise ValueError(
            f"{what} needs a finite number, got {x!r}; every Value must be finite "
            "(use `with Value.allow_nonfinite():` to show inf or nan on purpose)"
        )
    return x
