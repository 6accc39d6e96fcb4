"""Make sure ``import engine`` (and ``import nn``) find gradflow's packages, not a file that shadows them.

gradflow's packages sit side by side (engine/, nn/, viz/). A micrograd
tutorial leaves an ``engine.py`` or ``nn.py`` in the working folder, which
Python searches first; without this check the failure is an AttributeError
deep inside. Nothing is imported to check: ``find_spec`` only looks.
"""

import importlib.util
import os
import sys

HOME = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))  # the folder holding engine/, nn/, viz/


def check_own(*names):
    """Raise ImportError naming the file that shadows one of gradflow's packages ``names``."""
    for name in names:
        module = sys.modules.get(name)
        where = getattr(module, "__file__", None) if module is not None else _origin(name)
        mine = os.path.join(HOME, name, "__init__.py")
        if where is None or os.path.normcase(os.path.realpath(where)) == os.path.normcase(os.path.realpath(mine)):
            continue
        raise ImportError(
            f"'import {name}' finds {where}, not gradflow's {name} package ({mine}): a file or folder "
            f"named {name} in your working folder (or earlier on sys.path) shadows it. Rename it "
            f"(e.g. to my_{name}.py) and remove {name}.pyc or __pycache__/{name}.* beside it, then restart Python.",
            name=name, path=where)


def _origin(name):
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    return spec.origin if spec is not None and spec.has_location else None
