"""The replay's one way into the core: the recording running, and the reads it must see.

engine/replay/record.py records one sample's graph to run it over a whole
batch. It must see every node made (engine.value's ``_node`` hands each to ``made``)
and every read of a node's number, since Python control flow on it could go
another way for another sample: Value's comparisons and float(), defined here,
show it each one. Outside a recording both cost a test of an empty set or a lookup.

>>> from engine import Value
>>> Value(2.0) < 3, float(Value(2.0))
(True, 2.0)
"""

from __future__ import annotations

from contextvars import ContextVar

__all__ = ["recording", "recordings", "made", "lt", "le", "gt", "ge", "to_float"]

# The recording running in this context (thread, task), if any; `recordings`
# holds every recording running in any thread: nearly always empty, and a test
# of it costs a node less than a lookup of the context.
recording: ContextVar = ContextVar("recording", default=None)
recordings: set = set()


def made(data, a, b):
    """``data`` as the recording running in this context gives it back, for a node made from a (and b)."""
    rec = recording.get()
    return data if rec is None else rec.made(data, a, b)


# Value's comparisons and float(), which Value takes as its own methods (as
# a base class, they would cost every node a level of the garbage collector's
# walk). A number on the right is compared as it is; a Value there answers
# with its reversed comparison (float < Value is Value > float), read in turn.


def lt(value, other):
    return _read("<", value, other) < other


def le(value, other):
    return _read("<=", value, other) <= other


def gt(value, other):
    return _read(">", value, other) > other


def ge(value, other):
    return _read(">=", value, other) >= other


def to_float(value):
    _read("float()", value, None)
    return float(value.data)


def _read(symbol, value, other):
    # value's data, shown first to a recording (a comparison there could branch per sample).
    rec = recording.get()
    if rec is not None:
        rec.read(symbol, value, other)
    return value.data
