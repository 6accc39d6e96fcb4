"""gradflow's viz: draw graphs, step through backward, plot training, the `gradflow` command.

``draw`` and ``steps`` build DOT text (Graphviz renders it); the plots need
matplotlib and are imported only when used.

>>> from engine import Value
>>> from viz import draw
>>> x = Value(2.0, "x")
>>> y = (x * x).tanh()
>>> y.backward()
>>> draw(y).source.count("->") > 0
True
"""

from .draw import Drawing, GraphvizMissing, RenderError, draw
from .steps import Frames, steps
from .network import draw_network

__all__ = ["draw", "draw_network", "Drawing", "steps", "Frames", "GraphvizMissing", "RenderError", "plots"]


def __getattr__(name):
    # matplotlib is heavy and optional: viz.plots loads on first use.
    if name == "plots":
        import importlib

        return importlib.import_module(".plots", __name__)
    raise AttributeError(f"module 'viz' has no attribute {name!r}")
