"""Replay one recorded scalar graph over a whole batch at once.

``trace(fn)`` records the graph of ``fn`` for a single sample (placeholder
leaves stand for the batch inputs; parameters are the real leaf Values), then
``Tape.run`` replays the very same nodes, in the same topological order and
with the same op table, where every node holds a numpy vector over the batch.
``Tape.backward`` runs the table's local rules backwards and adds the gradient
of the batch loss (mean or sum of ``fn`` over the samples) to each leaf's
``.grad``, as ``loss.backward()`` on the eager graph of the whole batch would
(equal up to rounding), so optimizers work unchanged. The eager engine stays
the one to draw and to step through; ``Tape.graph`` is the recorded sample.

>>> from engine import Value
>>> from engine.batch import trace
>>> w, b = Value(0.5, "w", kind="param"), Value(-1.0, "b", kind="param")
>>> tape = trace(lambda x, y: (w * x + b - y) ** 2)   # one sample's squared error
>>> tape.run([1.0, 2.0, 3.0], [0.0, 1.0, 1.0])        # the mean over three samples
0.5
>>> tape.backward()
>>> round(w.grad, 4), round(b.grad, 4)
(-2.6667, -1.3333)

Speed comes from running many nodes per numpy call: nodes with the same op,
the same constant and the same depth in the graph (say the first multiply of
all sixteen neurons of a layer) form one *group* and run as one call on a 2-D
array, rows = nodes, columns = samples; a chain of additions whose partial
sums nothing else reads (a neuron's weighted sum, as ``sum()`` builds it) runs
as one sum, adding left to right like the eager engine. Nodes that depend on
no input (the parameters, a penalty on them) are the same for every sample
and run on a single column.

What cannot be replayed: Python control flow on a node's value, such as
``if s > 0`` or ``max(a, b)`` with the builtin, can choose a different branch
for another sample. While ``fn`` is recorded, comparisons and ``float()`` on a
Value that depends on the inputs or the parameters raise ``ReplayError``; the
graph is also recorded for the first sample, the one most unlike it and the
last, and must come out the same (constants included, so a number taken from
``.data`` or from a random generator shows up). A branch on ``.data`` that
happens to go the same way for those samples cannot be seen;
``Tape.check(...)`` records every sample eagerly and compares, when in doubt.
"""

from __future__ import annotations

import inspect
from operator import attrgetter

import numpy as np

from .ops import OPS
from .record import Recording, ReplayError, _at_sample, compare

__all__ = ["trace", "Tape", "ReplayError"]

_ADD = OPS["add"]
# Fusing a tree of additions into one sum relies on add's local derivatives
# being 1 for both inputs: every term then receives the root's gradient.
assert _ADD.d(2.0, 3.0, 5.0, None) == (1.0, 1.0)

_REDUCES = ("mean", "sum")
_NUDGE = 1.0 + 2.0**-12  # the probe's parameters: near enough to stay in every op's domain
_by_id = attrgetter("_id")


# --- recording -------------------------------------------------------------------


def _argument_names(fn, count):
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return [f"in{i}" for i in range(count)]
    fixed = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    variadic = any(p.kind is p.VAR_POSITIONAL for p in params)
    required = [p for p in fixed if p.default is p.empty]
    if count < len(required) or (count > len(fixed) and not variadic):
        names = ", ".join(p.name for p in fixed) or "no arguments"
        raise TypeError(f"trace: fn takes ({names}) but run() was given {count} array(s); pass one array per argument")
    return [fixed[i].name if i < len(fixed) else f"in{i}" for i in range(count)]


# --- the compiled program ----------------------------------------------------------


class _Group:
    """Nodes run by one numpy call: same op, same constant, same depth.

    Their values fill rows ``r0:r1``; ``ins[j]`` are the rows of their j-th
    inputs (a slice when contiguous). A fused sum has ``op`` None and
    ``terms``, a (k, L) array of the rows of its terms.
    """

    __slots__ = ("op", "arg", "depth", "needs", "i", "r0", "r1", "ins", "terms", "slots", "edges")

    def __init__(self, op, arg, depth, needs):
        self.op, self.arg, self.depth, self.needs = op, arg, depth, needs
        self.ins = []
        self.terms = None
        self.slots = []  # input positions whose edge contributions backward computes
        self.edges = []  # first edge row of each slot in `slots`


def _index(rows):
    # A contiguous ascending run indexes as a slice: a view, no copy.
    rows = np.asarray(rows, dtype=np.intp)
    if len(rows) and np.array_equal(rows, np.arange(rows[0], rows[0] + len(rows))):
        return slice(int(rows[0]), int(rows[0]) + len(rows))
    return rows


class _Program:
    """Part of a recorded graph compiled into groups, run on any number of columns.

    ``nodes`` are in topological order. Leaves here are the ``holders``
    (placeholders, filled from the arrays), the ``live`` nodes (values given
    at each run, gradients handed back summed over the columns) and constants.
    ``seeds`` are the rows whose gradient arrives from outside (edge rows
    0, 1, ...), e.g. the loss; ``outputs`` are the nodes whose values are
    read after a run (the seeds among them), so each keeps a row of its own.
    """

    def __init__(self, nodes, holders, live, seeds, outputs, fuse, group):
        live_set = set(live)

        def ins(v):
            return () if v in live_set else v.inputs

        pos = {v: i for i, v in enumerate(nodes)}
        uses = [0] * len(nodes)
        for v in nodes:
            for x in ins(v):
                uses[pos[x]] += 1
        for o in set(seeds) | set(outputs):
            uses[pos[o]] += 1
        # Only nodes a seed depends on carry gradients: an aux output that
        # the loss does not use must send nothing back (not even 0 · inf).
        reach = set(seeds)
        for v in reversed(nodes):
            if v in reach:
                reach.update(ins(v))

        # An addition whose partial sum only feeds the left side of another
        # addition dissolves into one sum with it: ((t0 + t1) + t2) + t3, as
        # Python's sum() and a + b + c build it. Adding the terms left to
        # right then rounds exactly as the eager engine does.
        absorbed = set()
        if fuse:
            for v in nodes:
                x = v._a
                if v._op is _ADD and v not in live_set and x._op is _ADD and x not in live_set and uses[pos[x]] == 1:
                    absorbed.add(x)

        fixed = [v for v in nodes if v._op is None and v not in holders and v not in live_set]
        held = [v for v in nodes if v in holders]
        row = {}
        for v in held + live + fixed:
            row[v] = len(row)
        self.holders = [(holders[v], row[v]) for v in held]
        self.live = live
        self.live_rows = slice(len(held), len(held) + len(live))
        self.fixed = np.array([v.data for v in fixed], dtype=float)
        self.fixed_rows = slice(self.live_rows.stop, len(row))

        depth = {v: 0 for v in row}
        needs = {v: v in live_set for v in row}
        groups = {}
        items = []
        for v in nodes:
            if v in row or v in absorbed:
                continue
            if v._op is _ADD and fuse:
                right, x = [], v
                while x is v or x in absorbed:
                    right.append(x._b)
                    x = x._a
                terms = [x] + right[::-1]
            else:
                terms = list(v.inputs)
            is_sum = v._op is _ADD and len(terms) > 2
            depth[v] = 1 + max(depth[x] for x in terms)
            needs[v] = v in reach and any(needs[x] for x in terms)
            key = (depth[v], needs[v], "sum" if is_sum else v._op.name, v._arg, len(terms))
            if not group:
                key += (pos[v],)
            if key not in groups:
                groups[key] = _Group(None if is_sum else v._op, v._arg, depth[v], needs[v])
            items.append((v, terms, groups[key]))
        # Run order: by depth; within a depth the groups needing gradients come
        # first, so that their rows form one block for backward.
        order = sorted(groups.values(), key=lambda g: (g.depth, not g.needs))
        members = {id(g): [] for g in order}
        for v, terms, g in items:
            members[id(g)].append((v, terms))
        for i, g in enumerate(order):
            g.i = i
            g.r0 = len(row)
            for v, _ in members[id(g)]:
                row[v] = len(row)
            g.r1 = len(row)
        self.n_rows = len(row)
        self.groups = order
        self.row = row

        # Edges: one row per (node, input) whose gradient contribution backward
        # computes; rows 0 .. len(seeds) - 1 carry the gradients from outside.
        edges_to = {r: [] for r in range(self.n_rows)}
        for e, o in enumerate(seeds):
            edges_to[row[o]].append(e)
        n_edges = len(seeds)
        for g in order:
            mem = members[id(g)]
            if g.op is None:
                g.terms = np.array([[row[x] for x in terms] for _, terms in mem], dtype=np.intp)
                if g.needs:
                    g.slots, g.edges = [0], [n_edges]
                    for i, t in enumerate(g.terms.ravel().tolist()):
                        edges_to[t].append(n_edges + i)
                    n_edges += g.terms.size
            else:
                for j in range(g.op.arity):
                    rows = [row[terms[j]] for _, terms in mem]
                    g.ins.append(_index(rows))
                    if g.needs and any(needs[terms[j]] for _, terms in mem):
                        g.slots.append(j)
                        g.edges.append(n_edges)
                        for i, r in enumerate(rows):
                            edges_to[r].append(n_edges + i)
                        n_edges += len(mem)
        # A row nothing sends a gradient to (a parameter only an aux output
        # uses) reads this edge, which stays 0: reduceat needs a term per row.
        self.zero = n_edges
        self.n_edges = n_edges + 1

        # Pull plan: before the groups of one depth run backwards, the
        # gradients of all their rows are summed from the edges that point at
        # them, which all come from deeper nodes and so are already computed.
        self.levels = []
        by_depth = {}
        for g in order:
            if g.needs:
                by_depth.setdefault(g.depth, []).append(g)
        for d in sorted(by_depth, reverse=True):
            gs = by_depth[d]
            self.levels.append((gs[0].r0, gs[-1].r1, *self._gather(edges_to, range(gs[0].r0, gs[-1].r1)), gs))
        self.live_pull = self._gather(edges_to, range(self.live_rows.start, self.live_rows.stop))

    def _gather(self, edges_to, rows):
        src, starts = [], []
        for r in rows:
            starts.append(len(src))
            src.extend(edges_to[r] or [self.zero])
        single = len(src) == len(starts)
        return _index(src), (None if single else np.array(starts, dtype=np.intp))

    def work(self, n):
        """Working arrays for n columns, allocated once and reused by every run.

        Besides values, gradients and edge contributions, each gather gets a
        buffer of its own: fresh temporaries of this size at every step make
        the C allocator hand pages back to the system and fault them in again,
        which costs more than the arithmetic.
        """
        return _Work(self, n)

    def forward(self, work):
        """Run every group in order."""
        values, take = work.values, work.take
        with np.errstate(divide="raise", invalid="raise", over="raise"):
            for g in self.groups:
                try:
                    _step(g, values, take[g.i])
                except FloatingPointError:
                    _explain(g, values, take[g.i])

    def backward(self, work):
        """Gradients of the live rows, summed over the columns; edges[:seeds] must be set."""
        values, grads, edges, take = work.values, work.grads, work.edges, work.take
        with np.errstate(all="ignore"):  # the eager backward makes inf/nan silently too
            for (r0, r1, src, starts, gs), buf in zip(self.levels, work.pull):
                if starts is None:
                    _gather(edges, src, grads[r0:r1])
                else:
                    np.add.reduceat(_gather(edges, src, buf), starts, axis=0, out=grads[r0:r1])
                for g in gs:
                    grad = grads[g.r0 : g.r1]
                    if g.op is None:
                        k, L = g.terms.shape
                        e = g.edges[0]
                        edges[e : e + k * L].reshape(k, L, -1)[...] = grad[:, None, :]
                        continue
                    xs = [buf if buf is not None else values[ix] for ix, buf in zip(g.ins, take[g.i])]
                    local = g.op.vd(*xs, values[g.r0 : g.r1], g.arg)
                    k = g.r1 - g.r0
                    for j, e in zip(g.slots, g.edges):
                        np.multiply(grad, local[j], out=edges[e : e + k])
            src, starts = self.live_pull
            per_edge = _gather(edges, src, work.live).sum(axis=1)
            return per_edge if starts is None else np.add.reduceat(per_edge, starts)


def _gather(source, index, out):
    # Rows of source into out (mode="clip" lets numpy write out directly).
    if isinstance(index, slice):
        if out is None:
            return source[index]
        out[...] = source[index]
        return out
    return np.take(source, index, axis=0, out=out, mode="clip")


def _rows(index):
    return index.stop - index.start if isinstance(index, slice) else len(index)


class _Work:
    """A program's arrays for one number of columns."""

    def __init__(self, program, n):
        self.values = np.empty((program.n_rows, n))
        self.values[program.fixed_rows] = program.fixed[:, None]
        self.grads = np.empty((program.n_rows, n))
        self.edges = np.empty((program.n_edges, n))
        self.edges[program.zero] = 0.0
        self.take = []  # per group: one buffer per input slot (None: a slice, read in place)
        for g in program.groups:
            if g.op is None:
                self.take.append([np.empty((g.terms.size, n))])
            else:
                self.take.append([None if isinstance(ix, slice) else np.empty((len(ix), n)) for ix in g.ins])
        self.pull = [None if starts is None else np.empty((_rows(src), n)) for _, _, src, starts, _ in program.levels]
        self.live = np.empty((_rows(program.live_pull[0]), n))


def _step(g, values, bufs):
    if g.op is None:
        k, L = g.terms.shape
        terms = np.take(values, g.terms.ravel(), axis=0, out=bufs[0], mode="clip").reshape(k, L, -1)
        if values.shape[1] > 1:
            # Along a strided axis numpy adds term after term, left to right.
            np.add.reduce(terms, axis=1, out=values[g.r0 : g.r1])
        else:
            # On one column the axis is contiguous and reduce would add
            # pairwise; accumulate is left to right by definition.
            values[g.r0 : g.r1] = np.add.accumulate(terms, axis=1)[:, -1]
        return
    xs = [values[ix] if buf is None else np.take(values, ix, axis=0, out=buf, mode="clip") for ix, buf in zip(g.ins, bufs)]
    values[g.r0 : g.r1] = g.op.vf(*xs, g.arg)


def _explain(g, values, bufs):
    # numpy flagged a domain problem; the scalar rule says whether the eager
    # engine would have raised, and in which words.
    if g.op is not None:
        xs = [values[ix] for ix in g.ins]
        for node in range(g.r1 - g.r0):
            for s in range(values.shape[1]):
                try:
                    g.op.f(*[float(x[node, s]) for x in xs], g.arg)
                except (ArithmeticError, ValueError) as e:
                    raise _at_sample(e, s) from None
    with np.errstate(all="ignore"):  # what eager would do: inf or nan, silently
        _step(g, values, bufs)


class _Split:
    """A recording compiled in two parts.

    The *uniform* part depends on no placeholder (parameters, a penalty on
    them, constants): it is the same for every sample, so it runs on one
    column. The *varying* part runs on one column per sample and reads the
    uniform nodes it needs (the frontier) as leaves.
    """

    def __init__(self, rec: Recording, fuse, group):
        varying = set()
        for v in rec.nodes:
            if v in rec.placeholders or any(x in varying for x in v.inputs):
                varying.add(v)
        frontier = {o for o in rec.outputs if o not in varying}
        for v in varying:
            frontier.update(x for x in v.inputs if x not in varying)
        frontier = sorted(frontier, key=_by_id)
        leaves = [v for v in rec.nodes if v._op is None and v not in rec.placeholders and v._id < rec.mark]
        self.params = leaves
        self.uniform = _Program([v for v in rec.nodes if v not in varying], {}, leaves, frontier, frontier, fuse, group)
        read = varying.union(frontier)
        self.varying = _Program(
            [v for v in rec.nodes if v in read],
            rec.placeholders, frontier, rec.outputs[:1] if rec.loss else [], rec.outputs, fuse, group,
        )
        self.frontier = [self.uniform.row[v] for v in frontier]
        self.outputs = [self.varying.row[o] for o in rec.outputs]
        self.loss, self.aux = rec.loss, rec.aux
        self.nodes = rec.nodes
        self.uniform_work = self.uniform.work(1)
        self.widths = {}


# --- the public face ----------------------------------------------------------------


def trace(fn, *, reduce="mean", has_aux=False, fuse=True, group=True, params=()) -> "Tape":
    """Record ``fn`` (one sample's loss) for replay over whole batches.

    ``fn`` receives one argument per array given to ``run``: a 1-D array's
    argument is a single Value, a 2-D array's (samples × columns) a list of
    Values, like the list an MLP takes. It must return a Value, or a list of
    Values for ``forward`` alone. ``reduce`` is how the batch loss combines the
    samples: "mean" or "sum". With ``has_aux=True`` fn returns ``(loss, aux)``
    as with JAX's ``grad``: aux (a Value or a list) rides along undifferentiated
    and ``Tape.aux`` holds its values after each run. ``fuse`` and ``group``
    exist to measure what each speed-up buys: ``group=False`` runs one numpy
    call per node, ``fuse=False`` keeps every addition a node of its own.
    ``params``: Values made before fn (a model's parameters) to watch while
    recording; others fn reaches are found and cost one more recording.

    Recording happens at the first ``run`` (it needs the number of columns).

    >>> tape = trace(lambda x: x[0] * x[1], reduce="sum")
    >>> tape.run([[1.0, 2.0], [3.0, 4.0]])
    14.0
    """
    if not callable(fn):
        raise TypeError(f"trace: fn must be callable (one sample's loss), got {type(fn).__name__}")
    if reduce not in _REDUCES:
        raise ValueError(f"trace: reduce must be one of {_REDUCES}, got {reduce!r}")
    return Tape(fn, reduce, bool(has_aux), bool(fuse), bool(group), params)


class Tape:
    """A recorded per-sample graph, replayed over batches; made by ``trace``.

    ``graph`` is the recorded Value for the first sample (or the list of them):
    an ordinary eager graph that can be drawn and stepped through.
    """

    def __init__(self, fn, reduce, has_aux, fuse, group, params):
        self.fn, self.reduce, self.has_aux, self.fuse, self.group = fn, reduce, has_aux, fuse, group
        self.params = list(params)  # Values made before fn whose data is tagged while it is recorded
        self.graph = None
        self.aux = None
        self._splits = {}  # per layout of the arrays (columns of each)
        self._last = None

    def __repr__(self):
        name = getattr(self.fn, "__name__", "fn")
        if self._last is None:
            return f"Tape({name}, reduce={self.reduce!r}, not recorded yet)"
        return f"Tape({name}, reduce={self.reduce!r}, {self.nodes} nodes in {self.groups} numpy groups)"

    @property
    def nodes(self) -> int:
        """Nodes of the recorded graph that the last run replayed."""
        return len(self._last[0].nodes) if self._last else 0

    @property
    def groups(self) -> int:
        """Groups of nodes (one numpy call each, forward) that the last run replayed."""
        split = self._last[0] if self._last else None
        return len(split.uniform.groups) + len(split.varying.groups) if split else 0

    # --- recording ----------------------------------------------------------------

    def _arrays(self, arrays, where):
        if not arrays:
            raise TypeError(f"Tape.{where}: give the batch as one array per argument of fn, e.g. run(X, y)")
        out = []
        for k, a in enumerate(arrays):
            try:
                a = np.asarray(a, dtype=float)
            except (TypeError, ValueError):
                raise TypeError(f"Tape.{where}: argument {k} must be an array of numbers") from None
            if a.ndim not in (1, 2):
                raise ValueError(
                    f"Tape.{where}: argument {k} must be 1-D (one number per sample) or 2-D (samples × columns), "
                    f"got shape {a.shape}"
                )
            out.append(a)
        n = len(out[0])
        if n == 0:
            raise ValueError(f"Tape.{where}: the batch is empty; give at least one sample")
        if any(len(a) != n for a in out):
            raise ValueError(
                f"Tape.{where}: every array needs one entry per sample; got lengths {[len(a) for a in out]}"
            )
        return out, n

    def _record(self, arrays, names, i, nudge=None):
        # Pre-existing Values fn reaches but the tape did not know of (not in
        # ``params``) were read untagged: record again with them tagged.
        for _ in range(4):
            rec = Recording(self.fn, arrays, names, i, self.has_aux, self.params, nudge)
            if not rec.untagged:
                return rec
            self.params = self.params + rec.untagged
        raise ReplayError("fn reaches other Values made before it ran at every recording; replay refused")

    def _split(self, arrays, n):
        layout = tuple(a.shape[1:] for a in arrays)
        split = self._splits.get(layout)
        if split is None:
            names = _argument_names(self.fn, len(arrays))
            first = self._record(arrays, names, 0)
            # The probe: the sample most unlike the first, with the parameters
            # nudged, must give the same graph and constants (a number taken
            # from .data through C code, or a random one, would differ).
            far = self._probe(arrays, n)
            compare(first, self._record(arrays, names, far, nudge=_NUDGE), 0, far)
            split = _Split(first, self.fuse, self.group)
            self._verify(split, first, arrays)
            self._splits[layout] = split
            self.graph = first.outputs[0] if first.loss else first.outputs
        return split

    @staticmethod
    def _probe(arrays, n):
        # The sample that differs from sample 0 in the most entries (labels
        # of the other class, say).
        if n == 1:
            return 0
        flat = np.concatenate([a.reshape(n, -1) for a in arrays], axis=1)
        return int(np.argmax((flat != flat[0]).sum(axis=1)))

    def _verify(self, split, first, arrays):
        # The compiled program on the recorded sample gives what the eager
        # engine computed for it: a check of the compiler, not of fn.
        out = self._forward(split, [a[:1] for a in arrays], 1)
        want = np.array([o.data for o in first.outputs])
        if not np.allclose(out[split.outputs, 0], want, rtol=1e-9, atol=1e-300, equal_nan=True):
            raise ReplayError("the compiled replay disagrees with the eager engine on the recorded sample; "
                              "replay refused (please report this graph)")

    def check(self, *arrays):
        """Record every sample eagerly and compare with the replayed graph.

        Slow (one eager recording per sample); the recording already refuses
        Python control flow on inputs and parameters, so this is a second opinion.

        >>> t = trace(lambda x: x * 2)
        >>> t.check([1.0, 2.0, -1.0])
        """
        arrays, n = self._arrays(arrays, "check")
        self._split(arrays, n)
        names = _argument_names(self.fn, len(arrays))
        first = self._record(arrays, names, 0)
        for i in range(1, n):
            compare(first, self._record(arrays, names, i), 0, i)

    # --- forward ------------------------------------------------------------------

    def forward(self, *arrays):
        """fn for every sample: shape (samples,) for a loss, (samples, outputs) for a list.

        With ``has_aux`` it returns the loss per sample and sets ``aux``.

        >>> trace(lambda x, y: x * y).forward([1.0, 2.0], [3.0, 4.0])
        array([3., 8.])
        """
        arrays, n = self._arrays(arrays, "forward")
        split = self._split(arrays, n)
        values = self._forward(split, arrays, n)
        out = values[split.outputs]
        if split.aux is not None:
            self.aux = out[1] if split.aux == "one" else out[1:].T.copy()
        return out[0] if split.loss else out.T.copy()

    def _forward(self, split, arrays, n):
        uniform, varying = split.uniform, split.varying
        u_values = split.uniform_work.values
        u_values[uniform.live_rows, 0] = [v.data for v in split.params]
        uniform.forward(split.uniform_work)
        work = split.widths.get(n)
        if work is None:
            work = split.widths[n] = varying.work(n)
        values = work.values
        for (k, j), r in varying.holders:
            values[r] = arrays[k] if j is None else arrays[k][:, j]
        values[varying.live_rows] = u_values[split.frontier]
        varying.forward(work)
        self._last = (split, work, n)
        return values

    def run(self, *arrays) -> float:
        """The batch loss: the mean (or sum) of fn over the samples; backward() follows."""
        out = self.forward(*arrays)
        if not self._last[0].loss:
            raise TypeError("Tape.run: fn returned a list of Values; run needs one Value per sample (the loss)")
        return float(out.mean() if self.reduce == "mean" else out.sum())

    # --- backward -----------------------------------------------------------------

    def backward(self, grad=1.0):
        """Add d(batch loss)/d leaf to the ``.grad`` of every leaf fn used that existed before it ran.

        ``grad`` seeds the batch loss's gradient, as in ``Value.backward``:
        ``backward(0.5)`` adds half of each gradient.
        """
        if self._last is None:
            raise RuntimeError("Tape.backward: call run(...) first; there is no batch to differentiate")
        split, work, n = self._last
        if not split.loss:
            raise TypeError("Tape.backward: fn returned a list of Values; backward needs a single loss Value")
        if isinstance(grad, bool) or not isinstance(grad, (int, float, np.floating, np.integer)):
            raise TypeError(f"Tape.backward: grad must be a number (the loss's upstream gradient), got {grad!r}")
        work.edges[0] = float(grad) / n if self.reduce == "mean" else float(grad)
        frontier_grads = split.varying.backward(work)
        split.uniform_work.edges[: len(split.frontier), 0] = frontier_grads
        for v, g in zip(split.params, split.uniform.backward(split.uniform_work).tolist()):
            v.grad += g
