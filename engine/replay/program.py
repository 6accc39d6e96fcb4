"""A recorded graph compiled to numpy: groups of nodes, and neurons as matrix products.

``Program`` lays the nodes of a graph out as rows of 2-D arrays (columns =
samples) and runs them a group at a time: nodes with the same op, constant
and depth form one numpy call; a chain of additions whose partial sums nothing
else reads runs as one sum. A *layer* — sums ``b_i + Σ_j w_ij·x_j`` that
share their row of inputs ``x`` (``neurons`` finds them) — runs as one matrix
product forward (``W @ X + b``) and two backward (``Wᵀ @ G`` for the inputs,
``G @ Xᵀ`` for the weights, already summed over the samples), so memory grows
with the activations, not with parameters × samples.

>>> from engine import Value
>>> from engine.replay import trace
>>> W = [[Value(1.0), Value(2.0)], [Value(3.0), Value(4.0)]]
>>> tape = trace(lambda x: [sum((w * xi for w, xi in zip(row, x)), Value(0.5)) for row in W])
>>> tape.forward([[1.0, 1.0], [0.5, 0.25]]).tolist()   # two samples, two neurons
[[3.5, 7.5], [1.5, 3.0]]
>>> [layer.shape for layer in tape.layers]                # 2 inputs, 2 neurons
[(2, 2)]
"""

from __future__ import annotations

import numpy as np

from ..ops import OPS
from .record import at_sample

__all__ = ["Program", "Layer", "neurons"]

_ADD, _MUL = OPS["add"], OPS["mul"]


class Layer:
    """Sums ``b_i + Σ_j w_ij·x_j`` over one row of inputs ``xs``: a matrix product.

    ``roots`` are the sum nodes, ``ws`` their weight nodes (one row per root,
    one column per input), ``bs`` their bias nodes or None; ``inner`` the
    products and partial sums the product replaces.
    """

    def __init__(self, xs):
        self.xs, self.roots, self.ws, self.bs, self.inner = xs, [], [], [], []

    @property
    def shape(self):
        return len(self.xs), len(self.roots)


def neurons(nodes, varying, outputs) -> list:
    """The layers among ``nodes`` (topological order): see ``Layer``.

    A candidate is a chain of additions (partial sums used once, as the left
    input of the next) over varying nodes whose terms are products ``w·x`` —
    each used once, ``x`` varying, ``w`` not — and at most one bias term that
    does not vary. Candidates over the same inputs in the same order share a
    layer. Anything else stays as it was.
    """
    uses = {}
    for v in nodes:
        for x in v.inputs:
            uses[x] = uses.get(x, 0) + 1
    for o in outputs:
        uses[o] = uses.get(o, 0) + 1
    partial = {v._a for v in nodes if v.rule is _ADD and v in varying
               and v._a.rule is _ADD and v._a in varying and uses[v._a] == 1}
    layers = {}
    for v in nodes:
        if v.rule is not _ADD or v not in varying or v in partial:
            continue
        right, x, inner = [], v, []
        while x is v or x in partial:
            right.append(x._b)
            if x is not v:
                inner.append(x)
            x = x._a
        xs, ws, bias = [], [], []
        for t in [x] + right[::-1]:
            if t not in varying:
                bias.append(t)
            elif t.rule is _MUL and uses[t] == 1 and (t._a in varying) != (t._b in varying):
                xs.append(t._a if t._a in varying else t._b)
                ws.append(t._b if t._a in varying else t._a)
                inner.append(t)
            else:
                break
        else:
            if xs and len(bias) <= 1:
                key = (tuple(xs), bool(bias))
                layer = layers.get(key) or layers.setdefault(key, Layer(key[0]))
                layer.roots.append(v)
                layer.ws.append(ws)
                layer.bs.append(bias[0] if bias else None)
                layer.inner += inner
    for layer in layers.values():
        if layer.bs[0] is None:
            layer.bs = None
    return list(layers.values())


class _Group:
    """Nodes run by one numpy call: same op, same constant, same depth.

    Their values fill rows ``r0:r1``; ``ins[j]`` are the rows of their j-th
    inputs (a slice when contiguous). A fused sum has ``op`` None and
    ``terms``, a (k, L) array of the rows of its terms. A layer has ``op``
    None and ``mm``, its index among the program's layers; ``ins[0]`` are the
    rows of its inputs.
    """

    __slots__ = ("op", "arg", "depth", "needs", "i", "r0", "r1", "ins", "terms", "slots", "edges", "mm")

    def __init__(self, op, arg, depth, needs, mm=None):
        self.op, self.arg, self.depth, self.needs, self.mm = op, arg, depth, needs, mm
        self.ins = []
        self.terms = None
        self.slots = []  # input positions whose edge contributions backward computes
        self.edges = []  # first edge row of each slot in `slots`


def _index(rows):
    # A contiguous ascending run indexes as a slice: a view, no copy.
    rows = np.asarray(rows, dtype=np.intp)
    n = len(rows)
    if n and rows[-1] - rows[0] == n - 1 and (n < 3 or (rows[1:] - rows[:-1] == 1).all()):
        return slice(int(rows[0]), int(rows[0]) + n)
    return rows


class Program:
    """Part of a recorded graph compiled into groups, run on any number of columns.

    ``nodes`` are in topological order. Leaves here are the ``holders``
    (placeholders, filled from the arrays), the ``live`` nodes (values given
    at each run, gradients handed back summed over the columns) and constants.
    ``seeds`` are the rows whose gradient arrives from outside (edge rows
    0, 1, ...), e.g. the loss; ``outputs`` are the nodes whose values are
    read after a run (the seeds among them), so each keeps a row of its own.
    ``layers`` (from ``neurons``) run as matrix products; their inner nodes
    are not in ``nodes``, and their weights and biases come from outside at
    each run (``Work.mm``), their gradients go back in ``Work.mm_grads``.
    ``wanted`` are holders whose gradient backward also gives, per column
    (``Work.held_grads``: one row per entry of ``self.wanted``, the holders'
    (array, column) keys in the order of ``nodes``).
    """

    def __init__(self, nodes, holders, live, seeds, outputs, fuse, group, layers=(), wanted=()):
        live_set = set(live)
        wanted_set = set(wanted)
        wanted = [v for v in nodes if v in wanted_set]
        self.layers = list(layers)
        root_of = {v: k for k, layer in enumerate(self.layers) for v in layer.roots}

        def ins(v):
            if v in live_set:
                return ()
            k = root_of.get(v)
            return v.inputs if k is None else self.layers[k].xs

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
                if v.rule is not _ADD or v in live_set or v in root_of:
                    continue
                x = v._a
                if x.rule is _ADD and x not in live_set and x not in root_of and uses[pos[x]] == 1:
                    absorbed.add(x)

        fixed = [v for v in nodes if v.rule is None and v not in holders and v not in live_set]
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
        needs.update((v, True) for v in wanted)
        groups = {}
        items = []
        for v in nodes:
            if v in row or v in absorbed:
                continue
            if v in root_of:
                k = root_of[v]
                terms = list(self.layers[k].xs)
                depth[v] = 1 + max(depth[x] for x in terms)
                needs[v] = v in reach
                key = (depth[v], needs[v], "layer", k)
                if key not in groups:
                    groups[key] = _Group(None, None, depth[v], needs[v], mm=k)
                items.append((v, terms, groups[key]))
                continue
            if v.rule is _ADD and fuse:
                right, x = [], v
                while x is v or x in absorbed:
                    right.append(x._b)
                    x = x._a
                terms = [x] + right[::-1]
            else:
                terms = list(v.inputs)
            is_sum = v.rule is _ADD and len(terms) > 2
            depth[v] = 1 + max(depth[x] for x in terms)
            needs[v] = v in reach and any(needs[x] for x in terms)
            key = (depth[v], needs[v], "sum" if is_sum else v.rule.name, v.arg, len(terms))
            if not group:
                key += (pos[v],)
            if key not in groups:
                groups[key] = _Group(None if is_sum else v.rule, v.arg, depth[v], needs[v])
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
            if g.mm is not None:
                # The roots' rows in the layer's order, so that row i is W[i] @ X.
                assert [v for v, _ in mem] == self.layers[g.mm].roots
                rows = [row[x] for x in mem[0][1]]
                g.ins.append(_index(rows))
                if g.needs and any(needs[x] for x in mem[0][1]):
                    g.slots, g.edges = [0], [n_edges]
                    for i, r in enumerate(rows):
                        edges_to[r].append(n_edges + i)
                    n_edges += len(rows)
            elif g.op is None:
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
        self.wanted = [holders[v] for v in wanted]
        self.held_pull = self._gather(edges_to, [row[v] for v in wanted])

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
                if g.mm is not None:
                    _product(g, values, take[g.i], *work.mm[g.mm])
                    continue
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
                    if g.mm is not None:
                        W, b = work.mm[g.mm]
                        x = take[g.i][0] if take[g.i][0] is not None else values[g.ins[0]]  # X, kept from forward
                        if g.slots:
                            np.matmul(W.T, grad, out=edges[g.edges[0] : g.edges[0] + W.shape[1]])
                        work.mm_grads[g.mm] = (grad @ x.T, None if b is None else grad.sum(axis=1))
                        continue
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
            if self.wanted:
                src, starts = self.held_pull
                got = edges[src]
                work.held_grads = got.copy() if starts is None else np.add.reduceat(got, starts, axis=0)
            src, starts = self.live_pull
            per_edge = _gather(edges, src, work.live).sum(axis=1)
            return per_edge if starts is None else np.add.reduceat(per_edge, starts)


    def backward_error(self, work):
        """After a backward that made inf or nan: an error naming the first op (backward order) that did, or None."""
        values, edges = work.values, work.edges
        for *_, gs in self.levels:
            for g in gs:
                if g.mm is not None:
                    dW = work.mm_grads[g.mm][0] if work.mm_grads[g.mm] is not None else np.zeros(1)
                    if not np.isfinite(dW).all():
                        return OverflowError("backward: the weight gradient of a layer (G @ Xᵀ, summed over the "
                                             "samples) is past the range of a float; no gradient was changed")
                    k = _rows(g.ins[0])
                else:
                    k = g.terms.size if g.op is None else g.r1 - g.r0
                for e in g.edges:
                    block = edges[e : e + k]
                    bad = np.argwhere(~np.isfinite(block))
                    if len(bad):
                        r, s = bad[0]
                        name = "a layer's matrix product" if g.mm is not None else ("add" if g.op is None else g.op.name)
                        node = r if g.op is not None else None
                        ins = "" if node is None else " at inputs (" + ", ".join(
                            repr(float(values[ix][node, s])) for ix in g.ins) + ")"
                        return OverflowError(
                            f"sample {s}: backward through {name}{ins}: the gradient {float(block[r, s])!r} is past "
                            "the range of a float; no gradient was changed")
        return None


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
        self.mm = [None] * len(program.layers)  # per layer: (W, b) for the next run
        self.mm_grads = [None] * len(program.layers)  # per layer: (dW, db) after backward
        self.held_grads = None  # the wanted holders' gradients after backward, one row each
        for g in program.groups:
            if g.mm is not None:
                self.take.append([None if isinstance(g.ins[0], slice) else np.empty((len(g.ins[0]), n))])
            elif g.op is None:
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


def _product(g, values, bufs, W, b):
    # One layer: W @ X (+ b); inputs are finite, so anything else is overflow.
    ix = g.ins[0]
    x = values[ix] if bufs[0] is None else np.take(values, ix, axis=0, out=bufs[0], mode="clip")
    out = values[g.r0 : g.r1]
    with np.errstate(all="ignore"):  # checked below, once, with the sample named
        np.matmul(W, x, out=out)
        if b is not None:
            out += b[:, None]
    if not np.isfinite(out).all():
        node, s = np.argwhere(~np.isfinite(out))[0]
        raise OverflowError(
            f"sample {s}: add: the weighted sum of neuron {node + 1} of a layer ({len(W)} neurons over "
            f"{W.shape[1]} inputs) overflows a float (inputs up to {np.abs(x[:, s]).max():.3g}, weights up to "
            f"{np.abs(W[node]).max():.3g})"
        )


def _explain(g, values, bufs):
    # numpy flagged a domain problem or a result past float's range. The
    # scalar rule says first whether (and in which words) the eager engine
    # raises; a non-finite result from finite inputs raises in any case,
    # naming the op, its inputs and the sample.
    if g.op is not None:
        xs = [values[ix] for ix in g.ins]
        for node in range(g.r1 - g.r0):
            for s in range(values.shape[1]):
                try:
                    g.op.f(*[float(x[node, s]) for x in xs], g.arg)
                except (ArithmeticError, ValueError) as e:
                    raise at_sample(e, s) from None
    with np.errstate(all="ignore"):
        _step(g, values, bufs)
    out = values[g.r0 : g.r1]
    bad = np.argwhere(~np.isfinite(out))
    if len(bad):
        node, s = bad[0]
        raise non_finite(g, values, node, s, out[node, s])


def non_finite(g, values, node, s, result):
    """The error for a group whose node ``node`` gave ``result`` (inf or nan) at sample ``s``."""
    if g.op is None:
        name, ins = "add", [values[r, s] for r in g.terms[node]]
    else:
        name, ins = g.op.name, [values[ix][node, s] for ix in g.ins]
    args = "" if g.op is None or g.arg is None else f" with {g.op.params[0] if g.op.params else 'arg'} = {g.arg!r}"
    text = ", ".join(repr(float(x)) for x in ins[:4]) + (", ..." if len(ins) > 4 else "")
    kind = OverflowError if np.isinf(result) else ValueError
    return kind(f"sample {s}: {name}: inputs ({text}){args} give {float(result)!r}: the result is past the range of a "
                "float (about ±1.8e308); scale the inputs or the parameters down")
