"""Save and load a model's parameters as JSON, by name.

The file records each parameter's value under its dotted name and the
model's description; loading into a model whose names differ (another shape)
is an error that shows both descriptions.

>>> import os, tempfile
>>> from nn import MLP
>>> path = os.path.join(tempfile.mkdtemp(), "model.json")
>>> a, b = MLP(2, [3, 1], seed=0), MLP(2, [3, 1], seed=1)
>>> save(a, path)
>>> load(b, path).state_dict() == a.state_dict()
True
"""

from __future__ import annotations

import json
import math
import os

from .module import Module

__all__ = ["save", "load"]

FORMAT = "gradflow-parameters"
VERSION = 1


def save(model: Module, path) -> None:
    """Write the parameters of ``model`` to ``path`` as JSON."""
    if not isinstance(model, Module):
        raise TypeError(f"save needs a Module, got {type(model).__name__}")
    state = model.state_dict()
    # JSON has no NaN or infinity (Python would write them anyway, and load would refuse the file).
    bad = [name for name, x in state.items() if not math.isfinite(x)]
    if bad:
        raise ValueError(f"cannot save {model!r}: parameter {bad[0]!r} is {state[bad[0]]!r} "
                         f"({len(bad)} not finite in all); training diverged, lower the learning rate")
    doc = {"format": FORMAT, "version": VERSION, "model": repr(model), "parameters": state}
    with open(os.fspath(path), "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1, allow_nan=False)
        f.write("\n")


def load(model: Module, path) -> Module:
    """Set the parameters of ``model`` from a file written by ``save``; returns the model.

    Nothing is changed unless every name matches and every value is a finite number.
    """
    if not isinstance(model, Module):
        raise TypeError(f"load needs a Module to load into, got {type(model).__name__}")
    path = os.fspath(path)
    with open(path, encoding="utf-8") as f:
        try:
            doc = json.load(f)
        except json.JSONDecodeError as e:
            raise ValueError(f"{path} is not JSON ({e.msg} at line {e.lineno}); expected a file written by nn.save") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or not isinstance(doc.get("parameters"), dict):
        raise ValueError(f"{path} is not a gradflow parameter file (no 'format': {FORMAT!r} with 'parameters')")
    if doc.get("version") != VERSION:
        raise ValueError(f"{path} has format version {doc.get('version')!r}; this gradflow reads version {VERSION}")
    state = doc["parameters"]
    mine = model.state_dict()
    if set(state) != set(mine):
        raise ValueError(
            f"{path} holds the parameters of {doc.get('model', 'another model')} ({len(state)} parameters), "
            f"which do not fit {model!r} ({len(mine)} parameters); build the model with the same shape to load it"
        )
    model.load_state_dict(state)  # checks the values before setting any
    return model
