"""Numerical gradient checks: compare backward() with central differences.

>>> r = gradcheck(lambda x, y: (x * y).sigmoid(), 0.5, -1.5)
>>> r.ok
True
"""

from __future__ import annotations

from typing import Callable, NamedTuple

from .value import Value, _number

__all__ = ["numerical_grad", "gradcheck", "GradCheck"]


class GradCheck(NamedTuple):
    """The outcome of ``gradcheck``: truthy when every partial agrees."""

    ok: bool
    analytic: tuple
    numeric: tuple
    error: float  # the largest |analytic − numeric| / max(1, |numeric|)

    def __bool__(self):
        return self.ok


def _call(f: Callable, xs) -> Value:
    out = f(*[Value(x) for x in xs])
    if not isinstance(out, Value):
        raise TypeError(f"gradcheck: f must return a Value, got {type(out).__name__}")
    return out


def numerical_grad(f: Callable, *xs, eps: float = 1e-6) -> tuple:
    """d f / d x_i by central differences, (f(x + eps) − f(x − eps)) / 2eps.

    ``f`` takes one Value per argument and returns a Value; ``xs`` are the
    point, as numbers or Values (their data is used).

    >>> [round(g, 6) for g in numerical_grad(lambda a, b: a * b, 3.0, 4.0)]
    [4.0, 3.0]
    """
    point = [x.data if isinstance(x, Value) else _number(x, "numerical_grad") for x in xs]
    grads = []
    for i in range(len(point)):
        up, down = list(point), list(point)
        up[i] += eps
        down[i] -= eps
        grads.append((_call(f, up).data - _call(f, down).data) / (2 * eps))
    return tuple(grads)


def gradcheck(f: Callable, *xs, eps: float = 1e-6, tol: float = 1e-6) -> GradCheck:
    """Compare the engine's gradient of ``f`` at ``xs`` with central differences.

    The error is measured relative to max(1, |numeric|), so it is absolute
    near zero and relative for large gradients.
    """
    point = [x.data if isinstance(x, Value) else _number(x, "gradcheck") for x in xs]
    leaves = [Value(x) for x in point]
    out = f(*leaves)
    if not isinstance(out, Value):
        raise TypeError(f"gradcheck: f must return a Value, got {type(out).__name__}")
    out.backward()
    analytic = tuple(float(v.grad) for v in leaves)
    numeric = numerical_grad(f, *point, eps=eps)
    error = max((abs(a - n) / max(1.0, abs(n)) for a, n in zip(analytic, numeric)), default=0.0)
    return GradCheck(error <= tol, analytic, numeric, error)
