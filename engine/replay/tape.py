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
>>> from engine.replay import trace
>>> w, b = Value(0.5, "w", kind="param"), Value(-1.0, "b", kind="param")
>>> tape = trace(lambda x, y: (w * x + b - y) ** 2)   # one sample's squared error
>>> tape.run([1.0, 2.0, 3.0], [0.0, 1.0, 1.0])        # the mean over three samples
0.5
>>> tape.backward()
>>> round(w.grad, 4), round(b.grad, 4)
(-2.6667, -1.3333)

Speed comes from running many nodes per numpy call (``engine.replay.program``): a
layer's weighted sums ``b_i + Σ_j w_ij·x_j`` over a shared row of inputs run
as one matrix product, forward and backward; other nodes with the same op,
constant and depth form one *group*, one call on a 2-D array (rows = nodes,
columns = samples); a chain of additions whose partial sums nothing else
reads runs as one sum. Nodes that depend on no input (the parameters, a
penalty on them) are the same for every sample and run on a single column.
``Tape.summary()`` says what the plan is.

What cannot be replayed: Python control flow on a number that changes with
the sample or the step, such as ``if s > 0``, ``max(a, b)`` with the builtin,
or ``round(x.data)``, can choose another branch elsewhere. While ``fn`` is
recorded, the inputs' and parameters' data are tagged (``engine.replay.record``):
such a read raises ``ReplayError``, as does a constant made from one. A
second recording, of the sample most unlike the first with the parameters
nudged, must give the same graph and constants (a number read through C code
or drawn at random shows up there). ``Tape.check(...)`` records every sample
eagerly and compares, as a second opinion.
"""

from __future__ import annotations

import inspect

import numpy as np

from ..args import is_int, is_real, type_name
from ..ops import OPS
from .program import Program, neurons
from .record import Recording, ReplayError, compare
from ..value import Value  # noqa: F401  (the doctests use it)

__all__ = ["trace", "Tape", "ReplayError"]

_ADD, _MUL = OPS["add"], OPS["mul"]
# Fusing a tree of additions into one sum relies on add's local derivatives
# being 1 for both inputs: every term then receives the root's gradient; a
# layer's matrix product relies on mul's being the other factor.
assert _ADD.d(2.0, 3.0, 5.0, None) == (1.0, 1.0) and _MUL.d(2.0, 3.0, 6.0, None) == (3.0, 2.0)

_REDUCES = ("mean", "sum")
_NUDGE = 1.0 + 2.0**-12  # the probe's parameters: near enough to stay in every op's domain


# --- recording -------------------------------------------------------------------


def _data(values):
    return [v.data for v in values]


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


class _Split:
    """A recording compiled in two parts.

    The *uniform* part depends on no placeholder (parameters, a penalty on
    them, constants): it is the same for every sample, so it runs on one
    column. The *varying* part runs on one column per sample and reads the
    uniform nodes it needs (the frontier) as leaves.
    """

    def __init__(self, rec: Recording, fuse, group, matmul, argnums=()):
        varying = set()
        for v in rec.nodes:
            if v in rec.placeholders or any(x in varying for x in v.inputs):
                varying.add(v)
        self.layers = neurons(rec.nodes, varying, rec.outputs) if matmul else []
        inner = {v for layer in self.layers for v in layer.inner}
        xs_of = {v: layer.xs for layer in self.layers for v in layer.roots}
        frontier = {o for o in rec.outputs if o not in varying}
        for v in varying:
            if v not in inner:
                frontier.update(x for x in xs_of.get(v, v.inputs) if x not in varying)
        order = {v: i for i, v in enumerate(rec.nodes)}  # deterministic: computed nodes carry no creation number
        frontier = sorted(frontier, key=order.__getitem__)
        # The layers' weights and biases are uniform nodes too: they reach the
        # varying part as matrices, not as rows of one value per sample.
        weights = []
        for layer in self.layers:
            weights += [w for ws in layer.ws for w in ws] + (layer.bs or [])
        leaves = [v for v in rec.nodes if v.rule is None and v not in rec.placeholders and v.id < rec.mark]
        self.params = leaves
        self.uniform = Program([v for v in rec.nodes if v not in varying], {}, leaves, frontier + weights,
                               frontier + weights, fuse, group)
        read = (varying - inner).union(frontier)
        self.varying = Program(
            [v for v in rec.nodes if v in read],
            rec.placeholders, frontier, rec.outputs[:1] if rec.loss else [], rec.outputs, fuse, group, self.layers,
            [v for v, (k, _) in rec.placeholders.items() if k in argnums],
        )
        self.frontier = [self.uniform.row[v] for v in frontier]
        self.weights = []  # per layer: uniform rows of W (k × m) and of b (k) or None
        for layer in self.layers:
            W = np.array([[self.uniform.row[w] for w in ws] for ws in layer.ws], dtype=np.intp)
            b = None if layer.bs is None else np.array([self.uniform.row[x] for x in layer.bs], dtype=np.intp)
            self.weights.append((W, b))
        self.outputs = [self.varying.row[o] for o in rec.outputs]
        self.loss, self.aux = rec.loss, rec.aux
        self.nodes = rec.nodes
        self.uniform_work = self.uniform.work(1)
        self.widths = {}

    def load(self, work):
        """Hand the layers their weights from the uniform part's values (after its forward)."""
        u = self.uniform_work.values[:, 0]
        work.mm = [(u[W], None if b is None else u[b]) for W, b in self.weights]

    def weight_grads(self, work):
        """The layers' weight and bias gradients, in the uniform part's seed order after the frontier."""
        parts = []
        for (W, b), got in zip(self.weights, work.mm_grads):
            dW, db = got if got is not None else (np.zeros(W.shape), None if b is None else np.zeros(len(b)))
            parts.append(dW.ravel())
            if b is not None:
                parts.append(db)
        return np.concatenate(parts) if parts else np.zeros(0)


# --- the public face ----------------------------------------------------------------


def trace(fn, *, reduce="mean", has_aux=False, fuse=True, group=True, matmul=True, params=(), argnums=()) -> "Tape":
    """Record ``fn`` (one sample's loss) for replay over whole batches.

    ``fn`` receives one argument per array given to ``run``: a 1-D array's
    argument is a single Value, a 2-D array's (samples × columns) a list of
    Values, like the list an MLP takes. It must return a Value, or a list of
    Values for ``forward`` alone. ``reduce`` is how the batch loss combines the
    samples: "mean" or "sum". With ``has_aux=True`` fn returns ``(loss, aux)``
    as with JAX's ``grad``: aux (a Value or a list) rides along undifferentiated
    and ``Tape.aux`` holds its values after each run. ``fuse`` and ``group``
    exist to measure what each speed-up buys: ``group=False`` runs one numpy
    call per node, ``fuse=False`` keeps every addition a node of its own,
    ``matmul=False`` runs a layer's weighted sums as products and sums
    instead of one matrix product.
    ``params``: Values made before fn (a model's parameters) to watch while
    recording; others fn reaches are found and cost one more recording.
    ``argnums``: the positions of fn's arguments whose gradients ``gradients``
    also gives, sample by sample, in ``Tape.arg_grads`` (as JAX's ``argnums``).

    Recording happens at the first ``run`` (it needs the number of columns).

    >>> tape = trace(lambda x: x[0] * x[1], reduce="sum")
    >>> tape.run([[1.0, 2.0], [3.0, 4.0]])
    14.0
    """
    if not callable(fn):
        raise TypeError(f"trace: fn must be callable (one sample's loss), got {type_name(fn)}")
    if reduce not in _REDUCES:
        raise ValueError(f"trace: reduce must be one of {_REDUCES}, got {reduce!r}")
    argnums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    if not all(is_int(k) and k >= 0 for k in argnums):
        raise TypeError(f"trace: argnums must be argument positions (ints >= 0), got {argnums!r}")
    return Tape(fn, reduce, bool(has_aux), bool(fuse), bool(group), bool(matmul), params, argnums)


class Tape:
    """A recorded per-sample graph, replayed over batches; made by ``trace``.

    ``graph`` is the recorded Value for the first sample (or the list of them):
    an ordinary eager graph that can be drawn and stepped through.
    """

    def __init__(self, fn, reduce, has_aux, fuse, group, matmul, params, argnums=()):
        self.fn, self.reduce, self.has_aux, self.fuse, self.group = fn, reduce, has_aux, fuse, group
        self.matmul, self.argnums = matmul, argnums
        self.arg_grads = None  # after gradients(): per argnum, d(batch loss)/d(argument), one row per sample
        self.read = _data  # the parameters' values at each run; a trainer keeping them in an array swaps this
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

    @property
    def layers(self) -> list:
        """The layers (``engine.replay.program.Layer``) the last run replayed as matrix products."""
        return list(self._last[0].layers) if self._last else []

    def summary(self) -> str:
        """The replay's plan in one line: matrix products (inputs × neurons), then the other numpy groups.

        micrograd's demo network, 2 inputs, two ReLU layers of 16, one output:

        >>> from engine import Value
        >>> def layer(nin, nout):   # per neuron: nin weights, then the bias
        ...     return [[Value(0.1 * (i - j)) for j in range(nin)] + [Value(0.0)] for i in range(nout)]
        >>> layers = [layer(2, 16), layer(16, 16), layer(16, 1)]
        >>> def mlp(x):
        ...     for k, neurons in enumerate(layers):
        ...         x = [sum((w * xi for w, xi in zip(n, x)), n[-1]) for n in neurons]
        ...         x = [v.relu() for v in x] if k < 2 else x
        ...     return x[0]
        >>> tape = trace(lambda x, y: (mlp(x) - y) ** 2)
        >>> tape.run([[0.5, -1.0], [1.0, 2.0]], [1.0, 0.0]) > 0
        True
        >>> print(tape.summary())
        3 matrix products (2×16, 16×16, 16×1), 4 elementwise groups over the batch, 0 on the parameters alone
        """
        if self._last is None:
            return "not recorded yet: run or forward a batch first"
        split = self._last[0]
        shapes = ", ".join(f"{m}×{k}" for m, k in (layer.shape for layer in split.layers))
        products = len(split.layers)
        batch = sum(g.mm is None for g in split.varying.groups)
        params = len(split.uniform.groups)
        return (f"{products} matrix product{'s' * (products != 1)}" + (f" ({shapes})" if shapes else "")
                + f", {batch} elementwise group{'s' * (batch != 1)} over the batch, {params} on the parameters alone")

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

    def _record(self, arrays, names, i, nudge=None, tag=True):
        # Pre-existing Values fn reaches but the tape did not know of (not in
        # ``params``) were read untagged: record again with them tagged.
        for _ in range(4):
            rec = Recording(self.fn, arrays, names, i, self.has_aux, self.params, nudge, tag)
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
            # from .data through C code, or a random one, would differ). It
            # needs no tags: the first recording proved that fn's path reads
            # no tagged number, so the path cannot depend on the data.
            far = self._probe(arrays, n)
            compare(first, self._record(arrays, names, far, nudge=_NUDGE, tag=False), 0, far)
            if any(k >= len(arrays) for k in self.argnums):
                raise TypeError(f"trace: argnums {self.argnums} name an argument past the {len(arrays)} given")
            split = _Split(first, self.fuse, self.group, self.matmul, self.argnums)
            split.layout = layout
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
        u_values[uniform.live_rows, 0] = self.read(split.params)
        uniform.forward(split.uniform_work)
        work = split.widths.get(n)
        if work is None:
            work = split.widths[n] = varying.work(n)
        values = work.values
        for (k, j), r in varying.holders:
            values[r] = arrays[k] if j is None else arrays[k][:, j]
        values[varying.live_rows] = u_values[split.frontier]
        split.load(work)
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
        ``backward(0.5)`` adds half of each gradient. All or nothing: when a
        gradient would be inf or nan, it raises and no ``.grad`` changes.
        """
        params, grads = self.gradients(grad)
        for v, g in zip(params, grads.tolist()):
            v.grad += g

    def gradients(self, grad=1.0):
        """``(leaves, gradients)``: what ``backward`` would add, as an array, touching no ``.grad``.

        >>> w = Value(3.0, "w")
        >>> tape = trace(lambda x: w * x, reduce="sum")
        >>> tape.run([1.0, 2.0])
        9.0
        >>> tape.gradients()
        ([Value(data=3.0, grad=0.0, label='w')], array([3.]))
        """
        if self._last is None:
            raise RuntimeError("Tape.backward: call run(...) first; there is no batch to differentiate")
        split, work, n = self._last
        if not split.loss:
            raise TypeError("Tape.backward: fn returned a list of Values; backward needs a single loss Value")
        if not is_real(grad):
            raise TypeError(f"Tape.backward: grad must be a number (the loss's upstream gradient), got {grad!r}")
        work.edges[0] = float(grad) / n if self.reduce == "mean" else float(grad)
        work.mm_grads[:] = [None] * len(work.mm_grads)
        frontier_grads = split.varying.backward(work)
        seeds = split.uniform_work.edges
        seeds[: len(split.frontier), 0] = frontier_grads
        weight_grads = split.weight_grads(work)
        seeds[len(split.frontier) : len(split.frontier) + len(weight_grads), 0] = weight_grads
        grads = split.uniform.backward(split.uniform_work)
        if self.argnums:
            self.arg_grads = self._arg_grads(split, work, n)
        if not np.isfinite(grads).all():
            raise split.varying.backward_error(work) or split.uniform.backward_error(split.uniform_work) or (
                OverflowError("Tape.backward: a gradient is past the range of a float; no gradient was changed"))
        return split.params, grads

    def _arg_grads(self, split, work, n):
        # One array per argnum, shaped like its argument; entries fn never read get 0.
        out = {k: np.zeros((n,) + cols) for k, cols in enumerate(split.layout) if k in self.argnums}
        for (k, j), got in zip(split.varying.wanted, work.held_grads if split.varying.wanted else ()):
            if j is None:
                out[k][:] = got
            else:
                out[k][:, j] = got
        return [out[k] for k in self.argnums]
