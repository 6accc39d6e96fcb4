"""How much of the backward pass a drawing shows: the engine's gradients, or a step-through's so far.

``draw`` shows the graph as the engine left it (``engine_state``); ``steps``
hands it one ``GradState`` per frame. ``accumulated`` is the caption for leaf
gradients that add up several passes.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

from engine import NOT_COMPUTED, Value

__all__ = ["GradState", "engine_state", "accumulated"]


class GradState(NamedTuple):
    """How much of the backward pass a drawing shows.

    ``grad(v)`` is the gradient to print, or None for "not computed";
    ``partial(v)`` is None when that gradient is final, else the pair
    (branches arrived, branches in all); ``done(v)`` says whether v's own
    backward step has run (so the contributions on its input edges are known);
    ``focus`` is the node being processed, if any.
    """

    grad: Callable
    partial: Callable
    done: Callable
    focus: Value | None = None
    caption: str = ""
    passes: str = ""  # what the drawing says when leaf gradients add up several passes


def engine_state(root) -> GradState:
    """What the graph of ``root`` holds now: each gradient the engine computed, every step done."""

    def grad(v):
        return None if v.grad is NOT_COMPUTED else v.grad

    done = lambda v: v.rule is not None and v.grad is not NOT_COMPUTED  # noqa: E731
    return GradState(grad, lambda v: None, done, passes=accumulated(root.topo()))


def accumulated(order) -> str:
    """What to say when the leaves' gradients add up more than one backward pass ("" if not).

    >>> from engine import Value
    >>> w = Value(3.0, "w")
    >>> y = w * 2
    >>> y.backward(); accumulated(y.topo())
    ''
    >>> y.backward(); accumulated(y.topo())
    'leaf gradients accumulated over 2 passes (zero_grad() clears them); gates and edges show the latest pass'
    """
    counts = {v.passes for v in order if v.rule is None and v.kind != "const"}
    most = max(counts, default=0)
    if most <= 1:
        return ""
    over = f"over {most} passes" if len(counts) == 1 else f"over up to {most} passes"
    return f"leaf gradients accumulated {over} (zero_grad() clears them); gates and edges show the latest pass"
