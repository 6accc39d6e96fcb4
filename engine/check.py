"""Numerical gradient checks: compare backward() with central differences.

>>> r = gradcheck(lambda x, y: (x * y).sigmoid(), 0.5, -1.5)
>>> r.ok
True
"""

from __future__ import annotations

from typing import Callable, NamedTuple

from .args import number, type_name
from .value import Value

__all__ = ["numerical_grad", "gradcheck", "GradCheck"]


class GradCheck(NamedTuple):
    """The outcome of ``gradcheck``: truthy when every partial agrees."""

    ok: bool
    analytic: tuple
    numeric: tuple
    error: float  # the largest |analytic − numeric| / max(1, |numeric|)

    def __bool__(self):
        return self.ok


def _point(xs, what) -> list:
    return [x.data if isinstance(x, Value) else number(x, what) for x in xs]


def _call(f: Callable, point, what):
    # f on fresh leaves at `point`: (its output, the leaves).
    leaves = [Value(x) for x in point]
    out = f(*leaves)
    if not isinstance(out, Value):
        raise TypeError(f"{what}: f must return a Value, got {type_name(out)}")
    return out, leaves


def numerical_grad(f: Callable, *xs, eps: float = 1e-6) -> tuple:
    """d f / d x_i by central differences, (f(x + eps) − f(x − eps)) / 2eps.

    ``f`` takes one Value per argument and returns a Value; ``xs`` are the
    point, as numbers or Values (their data is used).

    >>> [round(g, 6) for g in numerical_grad(lambda a, b: a * b, 3.0, 4.0)]
    [4.0, 3.0]
    """
    point = _point(xs, "numerical_grad")
    grads = []
    for i in range(len(point)):
        up, down = list(point), list(point)
        up[i] += eps
        down[i] -= eps
        high, low = _call(f, up, "numerical_grad")[0], _call(f, down, "numerical_grad")[0]
        grads.append((high.data - low.data) / (2 * eps))
    return tuple(grads)


def gradcheck(f: Callable, *xs, eps: float = 1e-6, tol: float = 1e-6) -> GradCheck:
    """Compare the engine's gradient of ``f`` at ``xs`` with central differences.

    The error is measured relative to max(1, |numeric|), so it is absolute
    near zero and relative for large gradients.

    >>> r = gradcheck(lambda x: x ** 3, 2.0)
    >>> r.analytic, round(r.numeric[0], 6), r.error < 1e-6
    ((12.0,), 12.0, True)
    """
    point = _point(xs, "gradcheck")
    out, leaves = _call(f, point, "gradcheck")
    out.backward()
    analytic = tuple(float(v.grad) for v in leaves)
    numeric = numerical_grad(f, *point, eps=eps)
    error = max((abs(a - n) / max(1.0, abs(n)) for a, n in zip(analytic, numeric)), default=0.0)
    return GradCheck(error <= tol, analytic, numeric, error)
