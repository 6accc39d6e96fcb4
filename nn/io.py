"""Save and load a model's parameters as JSON, by name.

The file records each parameter's value under its dotted name and the
model's description; loading into a model whose names differ (another shape)
is an error that shows both descriptions. A save writes a temporary file next
to the target and renames it over the target, so a failed write (a full disk)
leaves the previous file as it was; a load reads a bounded amount, and any
file it cannot use is a ValueError that leaves the model untouched.

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
import reprlib
import stat
import tempfile

from engine.args import is_real, type_name

from .module import Module

__all__ = ["save", "load"]

FORMAT = "gradflow-parameters"
VERSION = 1
# A parameter takes about 40 bytes in a saved file (name, number, indent);
# a file much larger than the model's own cannot be one of its files.
BYTES_PER_PARAMETER, BYTES_EXTRA = 400, 1_000_000

_short = reprlib.Repr()
_short.maxstring = _short.maxother = 40
_short.maxlist = _short.maxdict = 4


def save(model: Module, path) -> None:
    """Write the parameters of ``model`` to ``path`` as JSON, all or nothing."""
    if not isinstance(model, Module):
        raise TypeError(f"save needs a Module, got {type_name(model)}")
    state = model.state_dict()
    # JSON has no NaN or infinity (Python would write them anyway, and load would refuse the file).
    bad = [name for name, x in state.items() if not math.isfinite(x)]
    if bad:
        raise ValueError(f"cannot save {model!r}: parameter {bad[0]!r} is {state[bad[0]]!r} "
                         f"({len(bad)} not finite in all); training diverged, lower the learning rate")
    doc = {"format": FORMAT, "version": VERSION, "model": repr(model), "parameters": state}
    text = json.dumps(doc, indent=1, allow_nan=False) + "\n"
    _replace(os.fspath(path), text.encode("utf-8"))


def _replace(path: str, data: bytes):
    # Written in full next to the target, then renamed over it (atomic on one
    # file system): a reader, or a crash, sees the old file or the new one.
    folder, name = os.path.split(os.path.abspath(path))
    try:
        fd, temp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
    except OSError as e:  # name the file asked for, not the temporary one (no such folder, no permission)
        raise OSError(e.errno, e.strerror, path) from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(temp, _mode(path))
        os.replace(temp, path)
    except BaseException:
        os.unlink(temp)
        raise


def _mode(path: str) -> int:
    # mkstemp makes the file private (0600); keep the old file's mode, or give
    # a new one what open() would have: 0666 less the umask.
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        umask = os.umask(0)  # the only way to read it is to set it
        os.umask(umask)
        return 0o666 & ~umask


def load(model: Module, path) -> Module:
    """Set the parameters of ``model`` from a file written by ``save``; returns the model.

    Nothing is changed unless every name matches and every value is a finite
    number; any file that is not such a file is a ValueError saying why.
    """
    if not isinstance(model, Module):
        raise TypeError(f"load needs a Module to load into, got {type_name(model)}")
    path = os.fspath(path)
    mine = model.state_dict()
    doc = _read(path, model, BYTES_EXTRA + BYTES_PER_PARAMETER * len(mine))
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or not isinstance(doc.get("parameters"), dict):
        raise ValueError(f"{path} is not a gradflow parameter file (no 'format': {FORMAT!r} with 'parameters')")
    if doc.get("version") != VERSION:
        raise ValueError(f"{path} has format version {_short.repr(doc.get('version'))}; this gradflow reads version {VERSION}")
    state = doc["parameters"]
    if set(state) != set(mine):
        other = doc.get("model")
        other = other if isinstance(other, str) and len(other) <= 200 else "another model"
        raise ValueError(
            f"{path} holds the parameters of {other} ({len(state)} parameters), "
            f"which do not fit {model!r} ({len(mine)} parameters); build the model with the same shape to load it"
        )
    model.load_state_dict({name: _number(path, name, state[name]) for name in mine})
    return model


def _read(path: str, model: Module, limit: int):
    # Bounded: only a regular file (a pipe would wait for a writer, a device
    # never end), its size checked before reading, the read stopped at the limit.
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError(f"{path} is not a regular file; expected a file written by nn.save")
        if info.st_size > limit:
            raise ValueError(f"{path} is {info.st_size} bytes; a parameter file of {model!r} is at most {limit} bytes; "
                             "expected a file written by nn.save")
        with open(fd, "rb", closefd=False) as f:
            data = f.read(limit + 1)
    finally:
        os.close(fd)
    if len(data) > limit:
        raise ValueError(f"{path} is larger than a parameter file of {model!r} can be ({limit} bytes); "
                         "expected a file written by nn.save")
    try:
        return json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as e:
        why = f"not UTF-8 text: byte {data[e.start]:#04x} at position {e.start}"
    except json.JSONDecodeError as e:
        why = f"{e.msg} at line {e.lineno}"
    except RecursionError:
        why = "nested too deeply"
    except ValueError as e:  # Python refuses integers of more than 4,300 digits
        why = str(e).split(";")[0][:80]
    raise ValueError(f"{path} is not JSON ({why}); expected a file written by nn.save")


def _number(path: str, name: str, v) -> float:
    # JSON numbers only: not bools, strings or lists, nor ones a float cannot hold (1e999, 400 digits).
    if is_real(v):
        try:
            if math.isfinite(v := float(v)):
                return v
        except OverflowError:
            pass
    raise ValueError(f"{path}: parameter {name!r} must be a finite number, got {_short.repr(v)}")
