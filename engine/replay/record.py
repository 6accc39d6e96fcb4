"""Recording one sample's graph so that a replay over the batch can trust it.

A replay runs the recorded nodes for every sample and every training step, so
the recording must not depend on the numbers it saw. While ``fn`` runs, the
inputs (placeholders) and the parameters hold a ``Tagged`` float: it computes
like a float and its arithmetic keeps the tag, but Python control flow on it —
a comparison, ``bool``, ``int``, ``round``, ``float()``, ``math.floor``,
``hash``, formatting — raises ``ReplayError``. Every node the op table makes
from a tagged input is tagged in turn, so ``if h.data > 0`` on a hidden unit
is refused just like ``if self.w.data > 0``. A number that leaves the tag
behind (``Value(math.exp(w.data))`` goes through C) becomes a constant of the
recording; a second recording of another sample with nudged parameters must
then give the same constants, or the replay is refused.

>>> from engine import Value
>>> w = Value(0.5, "w", kind="param")
>>> rec = Recording(lambda x: x * w if w.data > 0 else x, [np.array([1.0])], ["x"], 0, False, [w])
Traceback (most recent call last):
...
engine.replay.record.ReplayError: fn applied > to w.data = 0.5, which depends on the inputs or the parameters: ...
"""

from __future__ import annotations

import sys

import numpy as np

from ..args import type_name
from ..hook import recording, recordings
from ..value import Value, topo

__all__ = ["ReplayError", "Tagged", "Recording", "compare"]


class ReplayError(ValueError):
    """The graph of ``fn`` may differ from sample to sample, so one recording cannot stand for all."""


def _refuse(what, x):
    rec = recording.get()  # the recording running in this context (thread, task), if any
    if rec is not None:
        name = rec.names.get(id(x), "a node's .data")
        if isinstance(x, Value):
            x = x.data
        raise ReplayError(
            f"fn applied {what} to {name} = {float.__repr__(x)}, which depends on the inputs or the parameters: "
            "Python control flow on it can take another branch for another sample or after a training step, "
            "so one recording cannot be replayed. Express the choice with ops (relu, max, ...) or use the "
            "eager engine (fit(..., batched=False))."
        )


# Float methods that hand a number to Python control flow, and how the
# refusal names each.
_READS = {
    "__lt__": "<", "__le__": "<=", "__gt__": ">", "__ge__": ">=", "__eq__": "==", "__ne__": "!=",
    "__bool__": "bool()", "__int__": "int()", "__float__": "float()", "__round__": "round()",
    "__floor__": "math.floor()", "__ceil__": "math.ceil()", "__trunc__": "math.trunc()", "__hash__": "hash()",
    "__format__": "format()", "__floordiv__": "//", "__rfloordiv__": "//", "__mod__": "%", "__rmod__": "%",
    "__divmod__": "divmod()", "__rdivmod__": "divmod()", "is_integer": "is_integer()",
    "as_integer_ratio": "as_integer_ratio()", "hex": "hex()",
}
# Float methods whose result stays a number computed from the tagged one.
_KEEPS = ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__", "__rtruediv__",
          "__pow__", "__rpow__", "__neg__", "__pos__", "__abs__")


# Reads inside the op table's rules (relu's x > 0, pow's base test), and
# engine.value's own (relu written out, the finiteness test), are the op's
# branches, which its numpy twin replays for every sample. Any other read is
# control flow that could branch, and is refused; Value's comparisons and
# float() read in engine.hook, so Recording.read refuses those itself.
_ENGINE_MODULES = frozenset({"engine.ops", "engine.value", "engine.hook"})


def _reading(name, what):
    f = getattr(float, name)

    def method(self, *args):
        if sys._getframe(1).f_globals.get("__name__") not in _ENGINE_MODULES:
            _refuse(what, self)
        return f(self, *args)

    method.__name__ = name
    return method


def _keeping(name):
    # The hot path of a recording (every + and × of a layer): kept lean.
    f = getattr(float, name)

    def method(self, *args):
        out = f(self, *args)
        return out if out is NotImplemented else _tag(out)

    method.__name__ = name
    return method


class Tagged(float):
    """A float that refuses Python control flow while a recording runs (see the module doc).

    >>> t = Tagged(2.0)
    >>> t * 3 + 1, type(t * 3 + 1).__name__   # arithmetic keeps the tag
    (7.0, 'Tagged')
    >>> t > 1                                  # outside a recording, a plain float
    True
    """

    __slots__ = ()


for _name, _what in _READS.items():
    setattr(Tagged, _name, _reading(_name, _what))
for _name in _KEEPS:
    setattr(Tagged, _name, _keeping(_name))


_tag = Tagged


def _plain(x):
    return float.__float__(x) if type(x) is Tagged else x


# A node made from a tagged number is tagged too (Recording.made), so that
# `if h.data > 0` on a hidden unit is refused like `if w.data > 0`; no row
# of the op table is touched while recording.


def _before(v, mark):
    # A leaf made before the recording began: a parameter (or a node's input the caller did not name).
    return v.rule is None and v.id < mark


# --- one recording ----------------------------------------------------------------------


class Recording:
    """fn's graph for sample ``i``: nodes in topological order, and their shape as data.

    ``params`` are Values that existed before fn (parameters, or any node)
    whose data is tagged while fn runs; ``nudge`` scales their data (the probe).
    Pre-existing nodes fn uses that are not among them are reported in
    ``untagged``: the caller records again with them added.
    """

    def __init__(self, fn, arrays, names, i, has_aux, params=(), nudge=None, tag=True):
        self.names = {}
        args = []
        wrap = Tagged if tag else float
        self.placeholders = {}  # placeholder Value -> (array index, column or None)
        for k, (a, name) in enumerate(zip(arrays, names)):
            if a.ndim == 1:
                v = Value(wrap(a[i]), name)
                self.placeholders[v] = (k, None)
                args.append(v)
            else:
                row = [Value(wrap(a[i, j]), f"{name}[{j}]") for j in range(a.shape[1])]
                self.placeholders.update((v, (k, j)) for j, v in enumerate(row))
                args.append(row)
        for v in self.placeholders:
            if tag and type(v.data) is not Tagged:  # Value() made a plain float of it: nothing would be watched
                raise ReplayError("the recorder could not tag the inputs (Value() converted their data); replay refused")
            self.names[id(v.data)] = f"{v.label}.data"
        saved = [(p, p.data) for p in params]
        self.mark = Value(0.0).id  # leaves older than this existed before fn ran
        token = recording.set(self if tag else None)
        recordings.add(self)  # nodes made in any thread now look up the recording of their own context
        try:
            for p, x in saved:
                p.data = wrap(x * nudge if nudge else x)
                if tag and type(p.data) is not Tagged:  # as for the inputs: refuse rather than watch nothing
                    raise ReplayError("the recorder could not tag the parameters' data; replay refused")
                self.names[id(p.data)] = f"{p.label or 'a parameter'}.data"
            try:
                out = fn(*args)
            except ReplayError:
                raise
            except (ArithmeticError, ValueError) as e:
                raise at_sample(e, i) from None
            self.outputs, self.loss, self.aux = _outputs(out, has_aux)
            self.nodes = topo(*self.outputs)
            if tag:
                self._untag()  # while the parameters still hold their tags (see _untag)
        finally:
            recording.reset(token)
            recordings.discard(self)
            for p, x in saved:
                p.data = x
        tagged, mark, holders = {p for p, _ in saved}, self.mark, self.placeholders
        self.untagged = [v for v in self.nodes if _before(v, mark) and v not in tagged and v not in holders]
        self._shape = None

    def made(self, data, a, b):
        """The data of a node made from a and b while fn runs: tagged when an input's is.

        Python's float operators keep the tag by themselves; a rule through C
        code (math.exp) hands back a plain float.
        """
        if type(data) is not Tagged and (type(a.data) is Tagged or (b is not None and type(b.data) is Tagged)):
            return Tagged(data)
        return data

    def read(self, symbol, value, other):
        """Called by Value's comparisons and float() before they read (engine.hook.recording).

        A node whose data is tagged is refused, and so is a tagged number on
        the other side (they compare inside engine.hook, where a tagged
        number's own refusal stays quiet), and a leaf made before fn that was
        not tagged (a parameter the caller did not name, which fn's graph may
        not even use): it may change between steps.
        """
        for v in (value, other):
            if type(v) is Tagged:
                _refuse(symbol, v)
            elif isinstance(v, Value):
                if type(v.data) is Tagged:
                    self.names.setdefault(id(v.data), repr(v))
                    _refuse(symbol, v.data)
                if _before(v, self.mark) and v not in self.placeholders and v.kind != "const":
                    self.names[id(v)] = repr(v)
                    _refuse(symbol, v)

    def _untag(self):
        # Every node made from a tagged number must carry the tag (else an op
        # escaped the wrapping and a read of it could have gone unseen, or the
        # node was computed before fn ran: eager keeps its data while the
        # parameters train, a replay would recompute it); a constant or an
        # op's constant built from one depends on the sample. Called before the
        # parameters get their plain data back, so that their tags are seen.
        for v in self.nodes:
            if v in self.placeholders or _before(v, self.mark):
                continue
            data, op = v.data, v.rule
            if op is None:
                if type(data) is Tagged:
                    raise ReplayError(f"fn made a constant ({v!r}) from a parameter's or an input's .data: it would "
                                      "stay fixed in the replay while the number changes; use the Value itself")
            else:
                if type(v.arg) is Tagged:
                    raise ReplayError(f"fn gave {op.name} a constant argument ({v.arg!r}) read from a parameter's "
                                      "or an input's .data; it would stay fixed in the replay")
                if type(data) is not Tagged and any(type(x.data) is Tagged for x in v.inputs):
                    raise ReplayError(f"{v!r} is untagged while an input is tagged: it was computed before fn ran "
                                      "(eager keeps its data while the parameters train, a replay would recompute "
                                      "it; compute it inside fn), or the recorder could not follow op "
                                      f"{op.name} (an engine change?); replay refused")
        for v in self.nodes:
            v.data = _plain(v.data)

    def shape(self):
        """The graph as comparable data: equal for two samples iff one replay fits both."""
        if self._shape is None:
            pos = {v: i for i, v in enumerate(self.nodes)}
            rows = []
            push, holders, mark = rows.append, self.placeholders, self.mark
            for v in self.nodes:
                op, ins = v.rule, v.inputs
                if op is not None:
                    push((op, v.arg, *(pos[x] for x in ins)))
                elif v in holders:
                    push(("placeholder", holders[v]))
                elif _before(v, mark):
                    push(("leaf", id(v)))  # the same parameter object in every recording
                else:
                    push((v.kind, v.data))  # a constant made inside fn
            self._shape = rows, [pos[o] for o in self.outputs]
        return self._shape

    def describe(self, k):
        v = self.nodes[k] if k < len(self.nodes) else None
        return "nothing (the graph ended)" if v is None else repr(v)


def at_sample(e, i):
    # The eager error, its message prefixed with the sample; an exception
    # type that cannot be rebuilt from one message keeps itself, with a note.
    try:
        return type(e)(f"sample {i}: {e}")
    except Exception:
        e.add_note(f"(at sample {i})")
        return e


def _values(out):
    # A Value as [Value]; a list or tuple of Values as a list; else None.
    if isinstance(out, Value):
        return [out]
    if isinstance(out, (list, tuple)) and out and all(isinstance(o, Value) for o in out):
        return list(out)
    return None


def _outputs(out, has_aux):
    """(outputs, whether outputs[0] is a loss, how the aux is shaped: None, 'one' or 'many')."""
    if has_aux:
        if not (isinstance(out, tuple) and len(out) == 2 and isinstance(out[0], Value) and _values(out[1])):
            raise TypeError(
                "trace: with has_aux=True fn must return (loss, aux): the loss a Value, aux a Value or a list "
                f"of Values; got {type_name(out)} {out!r:.80}"
            )
        return [out[0]] + _values(out[1]), True, "one" if isinstance(out[1], Value) else "many"
    outputs = _values(out)
    if outputs is None:
        raise TypeError(
            f"trace: fn must return a Value (one sample's loss) or a list of Values, got {type_name(out)} {out!r:.80}"
        )
    return outputs, isinstance(out, Value), None


def _signature(rec):
    # The graph as a few flat lists: a node's inputs by their place in the
    # recording's (depth-first, deterministic) order, a Value made before fn
    # by its identity (negative), no input as -1.
    nodes, mark, holders = rec.nodes, rec.mark, rec.placeholders
    pos = {v: i for i, v in enumerate(nodes)}

    def ref(x):
        return ~id(x) if _before(x, mark) and x not in holders else pos[x]

    ins = np.array([(*map(ref, v.inputs), -1, -1)[:2] for v in nodes], dtype=np.int64)
    new = ins >= 0
    consts = [(k, v.kind, v.data) for k, v in enumerate(nodes) if v.rule is None and not _before(v, mark)]
    return ([v.rule for v in nodes], [v.arg for v in nodes if v.rule is not None], ins, new, consts,
            [ref(o) for o in rec.outputs])


def _same(s0, s1):
    return (len(s0[0]) == len(s1[0]) and s0[0] == s1[0] and s0[1] == s1[1] and np.array_equal(s0[2], s1[2])
            and np.array_equal(s0[3], s1[3]) and s0[4] == s1[4] and s0[5] == s1[5])


def compare(first, other, i0, i):
    """ReplayError unless two recordings have the same graph, constants included."""
    if _same(_signature(first), _signature(other)):
        return
    (rows0, outs0), (rows, outs) = first.shape(), other.shape()
    if rows0 == rows and outs0 == outs:
        return
    for k in range(max(len(rows0), len(rows))):
        if k >= len(rows0) or k >= len(rows) or rows0[k] != rows[k]:
            raise ReplayError(
                f"fn builds a different graph for sample {i} than for sample {i0}: node {k} is "
                f"{other.describe(k)} instead of {first.describe(k)}. A number taken from .data (or a random "
                "one) depends on the sample or the parameters, so the graph cannot be replayed over the batch; "
                "use ops (relu, max, ...) for the choice, or the eager engine."
            )
    raise ReplayError(f"fn returns different nodes for sample {i} than for sample {i0}")
