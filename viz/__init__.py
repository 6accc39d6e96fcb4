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

import importlib
import sys
import types


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

__all__ = ["draw", "draw_network", "Drawing", "steps", "Frames", "GraphvizMissing", "RenderError", "plots"]

# Loaded on first use, so that `gradflow check` (which never draws) starts fast.
_LAZY = {"draw": ".draw", "Drawing": ".draw", "GraphvizMissing": ".draw", "RenderError": ".draw",
         "steps": ".steps", "Frames": ".steps", "draw_network": ".network"}


class _Package(types.ModuleType):
    def __setattr__(self, name, value):
        # Importing the submodule viz.draw binds it here as `draw`; the package keeps the function.
        if name in ("draw", "steps") and isinstance(value, types.ModuleType):
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __getattr__(name):
    if name == "plots":  # matplotlib is heavy and optional
        return importlib.import_module(".plots", __name__)
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'viz' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
