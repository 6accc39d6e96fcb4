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

def _check_own():
    # nn/_own.py read by its path: `import nn` could run a student's nn.py instead.
    import importlib.util
    import os

    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "nn", "_own.py")
    spec = importlib.util.spec_from_file_location("_gradflow_own", path)
    own = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(own)
    own.check_own("engine", "nn")


_check_own()

from .draw import Drawing, GraphvizMissing, RenderError, draw
from .steps import Frames, steps

__all__ = ["draw", "Drawing", "steps", "Frames", "GraphvizMissing", "RenderError", "plots"]


def __getattr__(name):
    # matplotlib is heavy and optional: viz.plots loads on first use.
    if name == "plots":
        import importlib

        return importlib.import_module(".plots", __name__)
    raise AttributeError(f"module 'viz' has no attribute {name!r}")
