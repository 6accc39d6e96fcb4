"""Draw a Value graph: forward values, backward gradients, gates and split points.

``draw(root)`` is a pure function of the graph. It reads each node's data,
grad, op, label and kind and returns a ``Drawing`` whose ``source`` is DOT text
that is the same for the same graph (nodes are numbered in topological order).
Running Graphviz's ``dot`` is a separate step: ``Drawing.save``, ``.svg()`` and
inline display in Jupyter.

>>> from engine import Value
>>> x, w = Value(2.0, "x"), Value(-3.0, "w", kind="param")
>>> y = (w * x).relu()
>>> d = draw(y)
>>> d.source.splitlines()[0]
'digraph gradflow {'
>>> "not computed" in d.source
True
>>> y.backward()
>>> "not computed" in draw(y).source
False
"""

from __future__ import annotations

import math

from engine import OPS, Value
from engine.args import is_int, type_name

# Drawing is split by job (groups: who belongs together; labels: text and colours; legend;
# options: the words draw takes; render: running dot; state: how much of backward is shown).
# Each public name of those modules stays importable from here, as before the split.
from .groups import Folding, groups, natural, parent
from .labels import (BOX_FILL, CONST_FILL, DATA_COLOR, FOCUS, GATE_FILL, GRAD_COLOR, HIGHLIGHT, INPUT_FILL, MAX_LABEL,
                     MUTED, PARAM_FILL, SHADE_DECADES, SHADE_HIGH, SHADE_LOW, SHADE_ZERO, WRAP, attrs, font, number,
                     shade, table, text)
from .legend import Shown, legend_box, legend_line
from .options import COLLAPSES, FORMATS, RANKDIRS, VIEWS
from .render import (DOT_TIMEOUT, FALLBACK_CHARS, INLINE_TIMEOUT, INSTALL_HINT, Drawing, GraphvizMissing, RenderError,
                     dot_path, fitted, render, shorten, svg_size)
from .state import GradState, accumulated, engine_state

__all__ = ["draw", "Drawing", "GraphvizMissing", "RenderError", "INSTALL_HINT", "dot_path", "render", "groups"]


MAX_NODES = 400  # above this many nodes the drawing collapses unless told not to
EDGE_LABEL_NODES = 100  # edge labels by default only up to this many nodes
# dot's network simplex can run for minutes on a long chain with one value read all along it
# (x in each of 1,000 steps: over 30 s for 400 drawn nodes); capping its iterations above this
# many drawn nodes brings that to seconds, while small drawings keep dot's best layout.
SIMPLEX_NODES = 100
# Many edges do it too: one value read 80 times along a chain of sums (161 edges) took dot
# 33 s at full effort and 1.4 s capped; so the cap also applies above this many edges.
SIMPLEX_EDGES = 120
SIMPLEX_LIMIT = 'nslimit="2" nslimit1="2" '
BUNDLE_EDGES = 8  # a fully connected pair of layers with more edges than this is drawn as one edge
COMPACT_NODES = 40  # up to this many drawn nodes, the legend is one short line


# --- the drawing ---------------------------------------------------------------------


def _check(name, value, allowed):
    if value not in allowed:
        raise ValueError(f"draw: {name} must be one of {', '.join(repr(a) for a in allowed)}; got {value!r}")


def _highlights(highlight, order_set) -> dict:
    if highlight is None:
        return {}
    if isinstance(highlight, Value):
        highlight = [highlight]
    if isinstance(highlight, dict):
        items = list(highlight.items())
    else:
        try:
            items = [(v, "") for v in highlight]
        except TypeError:
            raise TypeError(
                f"draw: highlight must be a Value, a collection of Values or a dict Value -> note, got {type_name(highlight)}"
            ) from None
    notes = {}
    for v, note in items:
        if not isinstance(v, Value):
            raise TypeError(f"draw: highlight entries must be Values of the graph, got {type_name(v)}")
        if v not in order_set:
            raise ValueError(f"draw: highlighted node {v!r} is not part of the graph drawn from the root")
        notes[v] = "" if note is None else str(note)
    return notes


def _local(v):
    # Local derivatives of v with respect to each input, from the op table
    # (the rule the engine applies); None where it cannot be evaluated.
    try:
        return v.local()
    except (ArithmeticError, ValueError):
        return (None,) * len(v.inputs)


def draw(
    root: Value,
    *,
    view: str = "both",
    edge_labels: bool | None = None,
    color_by_grad: bool = False,
    rankdir: str = "LR",
    highlight=None,
    group: bool | None = None,
    collapse=None,
    max_nodes: int = MAX_NODES,
    legend: bool | None = None,
    title: str | None = None,
    digits: int = 4,
    fit: bool = True,
    grad_of: str | None = None,
    _state: GradState | None = None,
) -> Drawing:
    """Draw the graph that computes ``root``.

    - ``view``: "forward" (values), "backward" (gradients) or "both".
    - ``edge_labels``: each edge's local derivative and its contribution
      (upstream gradient × local derivative); default on up to 100 nodes.
    - ``color_by_grad``: shade nodes by |grad| on a log scale, so vanishing
      gradients stand out (pale = tiny, grey = exactly 0).
    - ``rankdir``: "LR" (left to right) or "TB" (top to bottom).
    - ``highlight``: Values to mark, or a dict Value -> note shown on the node.
    - ``group``: put each neuron's nodes in a box (parameters named like
      ``layer1.neuron3.w2``); default on when such names exist.
    - ``collapse``: "neuron" or "layer" draws one box per neuron or layer;
      False draws every node; None (default) collapses above ``max_nodes``.
    - ``legend``: True for the full legend, False for none; None (default)
      gives one short line for small drawings, the full legend otherwise.
    - ``fit``: in a notebook, scale down to the output's width (default);
      False shows the drawing at its natural size.
    - ``grad_of``: what the gradients are of, for the legend ("grad = ∂loss/∂node") when the
      backward pass started above ``root`` (``root.backward(upstream)``); default ``root``'s label.

    A leaf whose gradient adds up several backward passes (``Value.passes``)
    is named in the caption, so single-pass gate gradients beside it do not
    read as a contradiction.

    >>> from engine import Value
    >>> a = Value(3.0, "a")
    >>> b = a * a
    >>> b.backward()
    >>> src = draw(b, legend=False).source
    >>> "split" in src, "grad 6 = 3 + 3" in src
    (True, True)
    """
    if not isinstance(root, Value):
        raise TypeError(f"draw: root must be a Value, got {type_name(root)}")
    _check("view", view, VIEWS)
    _check("rankdir", rankdir, RANKDIRS)
    if collapse is True:
        collapse = "neuron"
    if collapse not in (None, False) + COLLAPSES:
        raise ValueError(f"draw: collapse must be None, False, True, 'neuron' or 'layer'; got {collapse!r}")
    if not is_int(max_nodes) or max_nodes < 1:
        raise ValueError(f"draw: max_nodes must be a positive int, got {max_nodes!r}")
    if not is_int(digits) or not 1 <= digits <= 17:
        raise ValueError(f"draw: digits must be an int from 1 to 17, got {digits!r}")

    order = root.topo()
    index = {v: i for i, v in enumerate(order)}
    notes = _highlights(highlight, index)
    state = _state or engine_state(root)
    opts = dict(view=view, edge_labels=edge_labels, color_by_grad=color_by_grad, rankdir=rankdir, group=group,
                collapse=collapse, max_nodes=max_nodes, legend=legend, title=title, digits=digits, fit=bool(fit),
                grad_of=None if grad_of is None else str(grad_of))
    return _Builder(root, order, index, notes, state, opts).build()


class _Builder:
    def __init__(self, root, order, index, notes, state, opts):
        self.root, self.order, self.index, self.notes, self.state = root, order, index, notes, state
        self.view = opts["view"]
        self.show_data = self.view in ("forward", "both")
        self.show_grad = self.view in ("backward", "both")
        self.digits = opts["digits"]
        self.rankdir = opts["rankdir"]
        self.color_by_grad = opts["color_by_grad"]
        self.legend = opts["legend"]
        self.fit = opts["fit"]
        self.grad_of = opts.get("grad_of") or root.label or "output"
        self.title = opts["title"]
        self.max_nodes = opts["max_nodes"]
        edge_labels = opts["edge_labels"]
        self.edge_labels = (len(order) <= EDGE_LABEL_NODES) if edge_labels is None else bool(edge_labels)
        self.owner = groups(order)
        group = opts["group"]
        self.group = bool(self.owner) if group is None else bool(group)
        self.collapse = opts["collapse"]
        self.lines = []
        # What the drawing uses, filled in as it is built: the legend explains exactly these.
        self.used = Shown(data=self.show_data, grad=self.show_grad, edges=self.edge_labels and self.view != "forward",
                          shade=self.color_by_grad, highlight=bool(notes), focus=state.focus is not None)

    def num(self, x):
        return number(x, self.digits)

    # -- labels ------------------------------------------------------------------------

    def grad_rows(self, v, sums):
        g = self.state.grad(v)
        if g is None:
            return [font("grad: not computed", MUTED, italic=True)]
        part = self.state.partial(v)
        if part is not None:
            got, total = part
            return [font(text(f"grad so far {self.num(g)} ({got} of {total} branches)"), GRAD_COLOR, italic=True)]
        row = f"grad {self.num(g)}"
        terms = sums.get(v)
        if terms and len(terms) > 1 and all(t is not None for t in terms):
            if len(terms) <= 4:
                row += " = " + " + ".join(self.num(t) for t in terms)
            else:
                row += f" = sum of {len(terms)} branches"
            total = math.fsum(terms)
            if abs(total - g) > 1e-9 * max(1.0, abs(g)):
                row += "\n(includes earlier backward() calls)"
        return [font(text(row), GRAD_COLOR)]

    def node_rows(self, v, sums):
        rows = []
        if v.rule is None:
            kind = v.kind
            head = v.label or ("" if kind == "const" else kind)
            if head:
                rows.append(font(text(head), "#000000", bold=kind == "param"))
            if kind == "const" and not self.show_data:
                rows.append(font(text(self.num(v.data)), DATA_COLOR))
        else:
            op = v.rule
            rows.append(font(text(op.symbol), "#000000", size=16, bold=True))
            if op.params and v.arg is not None:
                rows.append(font(text(f"{op.params[0]}={self.num(v.arg)}"), MUTED))
            if v.label:
                rows.append(font(text(v.label), "#000000"))
        if self.show_data:
            rows.append(font(text(f"data {self.num(v.data)}"), DATA_COLOR))
        if self.show_grad and v.kind != "const":
            rows += self.grad_rows(v, sums)
        if v is self.state.focus:
            rows.append(font("processing", FOCUS, bold=True))
        if v in self.notes and self.notes[v]:
            rows.append(font(text(self.notes[v]), HIGHLIGHT, bold=True))
        return rows

    def style(self, v):
        kind = v.kind
        self.used.kinds.add(kind)
        if kind == "op":
            a = dict(shape="box", style="rounded,filled", fillcolor=GATE_FILL, color="#9e9e9e")
            if v.op == "split":
                self.used.split = True
        elif kind == "param":
            a = dict(shape="box", style="filled,bold", fillcolor=PARAM_FILL, color="#1e88e5", peripheries="2")
        elif kind == "const":
            a = dict(shape="box", style="filled,dashed", fillcolor=CONST_FILL, color="#9e9e9e")
        else:
            a = dict(shape="box", style="filled", fillcolor=INPUT_FILL, color="#424242")
        return a

    def decorate(self, v, a, top):
        if self.color_by_grad and v.kind != "const":
            fill = shade(self.state.grad(v), top)
            if fill is not None:
                a["fillcolor"] = fill
                self.used.zero |= fill == SHADE_ZERO
        if v in self.notes:
            a.update(color=HIGHLIGHT, penwidth="3")
        if v is self.state.focus:
            a.update(color=FOCUS, penwidth="3")
        return a

    # -- assembling ----------------------------------------------------------------------

    def build(self) -> Drawing:
        order, index = self.order, self.index
        fold = Folding(order, self.root, self.owner, self.collapse, self.max_nodes)
        unit, note = fold.unit, fold.note
        self.chain_keys = fold.chains
        uses = self.uses = {}  # node -> [(reader, input position)]
        for v in order:
            for i, x in enumerate(v.inputs):
                uses.setdefault(x, []).append((v, i))
        locals_ = {v: _local(v) for v in order if v.rule is not None and v not in unit}
        contrib = {}
        for v, loc in locals_.items():
            g = self.state.grad(v) if self.state.done(v) else None
            contrib[v] = [None if (g is None or d is None) else g * d for d in loc]
        # The gradient arriving along each use of a node: what a split adds up.
        sums = {}
        for x, us in uses.items():
            if len(us) > 1 and x not in unit:
                sums[x] = [contrib[v][i] if v in contrib else None for v, i in us]
        # A value read in several places gets a split gate, unless every reader
        # is already an explicit split branch or some reader is folded into a box.
        splits = {
            x
            for x, us in uses.items()
            if len(us) > 1 and x not in unit and all(v not in unit for v, _ in us) and any(v.op != "split" for v, _ in us)
        }
        if self.color_by_grad:
            known = [abs(g) for v in order if (g := self.state.grad(v)) is not None and g == g and not math.isinf(g)]
            top = max(known, default=0.0)
        else:
            top = 0.0

        out = self.lines
        out.append("digraph gradflow {")
        edges = self.edge_count(unit)
        big = fold.drawn() > SIMPLEX_NODES or edges > SIMPLEX_EDGES
        limit = SIMPLEX_LIMIT if big else ""
        layered = unit and self.collapse != "layer" and any("." in k for k in set(unit.values()) - self.chain_keys)
        limit += 'remincross="false" ' if layered else ""
        out.append(f'  graph [newrank="true" compound="true" {limit}rankdir="{self.rankdir}" fontname="Helvetica" nodesep="0.25" ranksep="0.35" bgcolor="white"]')
        out.append('  node [fontname="Helvetica" fontsize="10" margin="0.06,0.03"]')
        out.append('  edge [fontname="Helvetica" fontsize="9" color="#616161" arrowsize="0.6"]')
        caption = [text(t, 100) for t in (self.title, self.state.caption, note, self.state.passes) if t]
        compact = self.legend is None and fold.drawn() <= COMPACT_NODES
        self.compact_legend = compact
        rows = caption + ([legend_line(self.grad_of, self.used)] if compact else [])
        if rows:
            out.append(f'  labelloc="t" label={table(rows)}')

        ids = {v: f"n{index[v]}" for v in order}
        box_ids = {key: f"g{i}" for i, key in enumerate(sorted(set(unit.values()), key=natural))}
        node_lines = {}
        for v in order:
            if v in unit:
                continue
            a = self.decorate(v, self.style(v), top)
            a["label"] = table(self.node_rows(v, sums))
            node_lines[v] = [f"  {ids[v]}{attrs(**a)}"]
            if v in splits:
                self.used.split = True
                node_lines[v].append(
                    f"  {ids[v]}s"
                    + attrs(shape="circle", style="filled", fillcolor=GATE_FILL, color="#9e9e9e", fontsize="8",
                             width="0.3", margin="0", label=table([text(OPS["split"].symbol)]))
                )
        self.emit_nodes(node_lines)
        if unit:
            self.emit_boxes(unit, box_ids, top)

        # Edges, in order of the node that reads them, then input position. Parallel
        # edges (x + x, or many edges between two boxes) are drawn once, labelled ×k.
        edges = {}  # (src, dst) -> the (reader, input position) pairs it stands for; box edges hold None
        for v in order:
            dst = box_ids[unit[v]] if v in unit else ids[v]
            for i, x in enumerate(v.inputs):
                src = box_ids[unit[x]] if x in unit else ids[x]
                boxed = x in unit or v in unit
                if boxed and src == dst:
                    continue
                if x in splits and not boxed:
                    src = ids[x] + "s"
                edges.setdefault((src, dst), []).append(None if boxed else (v, i))
        bundled = self.emit_bundles(edges, box_ids) if unit else set()
        for (src, dst), uses in edges.items():
            if (src, dst) in bundled:
                continue
            if uses[0] is None:
                out.append(f"  {src} -> {dst}" + (attrs(xlabel=table([text(f"×{len(uses)}")])) if len(uses) > 1 else ""))
            else:
                out.append(f"  {src} -> {dst}{self.edge_attrs(uses, locals_, contrib)}")
        for x in order:
            if x in splits:
                out.append(f'  {ids[x]} -> {ids[x]}s [arrowhead="none"]')
        if self.legend or (self.legend is None and not compact):
            out += legend_box(self.grad_of, self.used)
        out.append("}")
        return Drawing("\n".join(out) + "\n", nodes=len(order), note=note, fit=self.fit)

    def edge_count(self, unit):
        # Edges as drawn: node-to-node edges one by one, box edges once per pair.
        pairs, count = set(), 0
        for v in self.order:
            for x in v.inputs:
                if x in unit or v in unit:
                    pairs.add((unit.get(x, x), unit.get(v, v)))
                else:
                    count += 1
        return count + len(pairs)

    def edge_attrs(self, uses, locals_, contrib):
        k = len(uses)
        head = [text(f"×{k}")] if k > 1 else []
        if not self.edge_labels or self.view == "forward":
            return attrs(label=table(head)) if head else ""
        rows = []
        for v, i in uses:
            d = locals_[v][i]
            row = [font(text("local " + ("undefined" if d is None else self.num(d))), MUTED)]
            c = contrib[v][i]
            if self.show_grad and c is not None:
                g = self.state.grad(v)
                row.append(font(text(self.product(g, d, c)), GRAD_COLOR))
            if row not in rows:  # x + x: both edges carry the same numbers; say them once
                rows.append(row)
        shown = [r for row in rows[:3] for r in row]
        if len(rows) > 3:
            shown.append(font(text(f"… and {len(rows) - 3} more"), MUTED))
        if k > 1 and len(rows) == 1:
            head = [text(f"×{k}, each:")]
        # decorate: a line from the label to its edge, so a label between two edges says which it is.
        return attrs(label=table(head + shown), decorate="true")

    def product(self, g, d, c) -> str:
        """``g × d = c`` at the drawing's digits, or ``≈`` when the shown numbers do not multiply to the
        shown result (3.253 × 1.913 is 6.223; the full product rounds to 6.225)."""
        sg, sd, sc = self.num(g), self.num(d), self.num(c)
        try:
            exact = self.num(float(sg) * float(sd)) == sc
        except ValueError:  # ∞ or nan: nothing was rounded
            exact = True
        return f"{sg} × {sd} {'=' if exact else '≈'} {sc}"

    def emit_bundles(self, box_edges, box_ids) -> set:
        """One edge for each fully connected pair of layers of neuron boxes; the pairs it stands for."""
        layers = {layer: [box_ids[key] for key in keys] for layer, keys in self.box_layers.items()}
        if len(layers) < 2:
            return set()
        names = {bid: layer for layer, bids in layers.items() for bid in bids}
        done = set()
        for a, srcs in layers.items():
            for b, dsts in layers.items():
                pairs = {(s, d) for s in srcs for d in dsts}
                if a == b or len(pairs) <= BUNDLE_EDGES or not pairs <= set(box_edges):
                    continue
                if any(names.get(d) == a and s in dsts for s, d in box_edges):
                    continue
                s, d = srcs[len(srcs) // 2], dsts[len(dsts) // 2]
                label = f"{len(pairs)} edges: each of the {len(srcs)} neurons of {a} feeds each of the {len(dsts)} of {b}"
                self.lines.append(
                    f"  {s} -> {d}"
                    + attrs(ltail=f"cluster_box_{self.cluster_ids[a]}", lhead=f"cluster_box_{self.cluster_ids[b]}",
                             penwidth="3", color="#8e24aa", label=table([font(text(label, 30), "#6a1b9a")]))
                )
                done |= pairs
        return done

    def emit_nodes(self, node_lines):
        if not (self.group and self.owner):
            for lines in node_lines.values():
                self.lines += lines
            return
        # Nested boxes: layer, then neuron, in order of first appearance.
        tree = {}
        loose = []
        for v, lines in node_lines.items():
            g = self.owner.get(v)
            if g is None or v is self.root:
                loose += lines
                continue
            tree.setdefault(parent(g), {}).setdefault(g, []).extend(lines)
        self.lines += loose
        for k, (layer, neurons) in enumerate(tree.items()):
            nested = len(neurons) > 1 or layer not in neurons
            if nested:
                self.lines.append(f"  subgraph cluster_{k} {{")
                self.lines.append(f'    label={table([text(layer)])} style="rounded" color="#bdbdbd"')
            for j, (name, lines) in enumerate(neurons.items()):
                self.lines.append(f"  subgraph cluster_{k}_{j} {{")
                self.lines.append(f'    label={table([text(name)])} style="rounded,dashed" color="#9e9e9e"')
                self.lines += ["  " + line for line in lines]
                self.lines.append("  }")
            if nested:
                self.lines.append("  }")

    def emit_boxes(self, unit, box_ids, top):
        self.used.box = True
        members = {key: [] for key in box_ids}  # layer order: layer2 before layer10
        for v in self.order:
            if v in unit:
                members[unit[v]].append(v)
        # The neuron boxes of one layer sit in one cluster, in order (emit_bundles reads both).
        self.cluster_ids = {}
        self.box_layers = layers = {}
        for key in members:
            if key not in self.chain_keys and "." in key:
                layers.setdefault(parent(key), []).append(key)
        in_layer = {key: layer for layer, keys in layers.items() for key in keys}
        opened = None
        for key, vs in members.items():
            layer = in_layer.get(key)
            if layer != opened:
                if opened is not None:
                    self.lines.append("  }")
                if layer is not None:
                    k = self.cluster_ids.setdefault(layer, len(self.cluster_ids))
                    self.lines.append(f"  subgraph cluster_box_{k} {{")
                    self.lines.append(f'    label={table([text(layer)])} style="rounded" color="#bdbdbd"')
                    # Same rank, and invisible edges that keep neuron1, neuron2, ... in order down the
                    # column: dot reads a flat edge in LR as bottom to top, hence reversed, and only
                    # keeps the order when its final crossing pass is off (remincross, set above).
                    column = layers[layer][::-1] if self.rankdir in ("LR", "RL") else layers[layer]
                    chain = " -> ".join(box_ids[k2] for k2 in column)
                    self.lines.append(f'    {{rank=same; {chain} [style="invis"]}}' if len(layers[layer]) > 1
                                      else f"    {{rank=same; {chain}}}")
                opened = layer
            self.emit_box(key, vs, unit, box_ids, top)
        if opened is not None:
            self.lines.append("  }")

    def emit_box(self, key, vs, unit, box_ids, top):
        params = [v for v in vs if v.kind == "param"]
        size = f"{len(vs)} nodes" + (f", {len(params)} parameters" if params else "")
        rows = [font(text(key), "#000000", bold=True), font(text(size), MUTED)]
        grads = [g for v in params if (g := self.state.grad(v)) is not None]
        if self.show_data and params and len(params) <= 4:
            for p in params:
                g = self.state.grad(p)
                row = f"{p.label.rsplit('.', 1)[-1]} {self.num(p.data)}"
                rows.append(font(text(row), DATA_COLOR) + ("" if g is None or not self.show_grad else "  " + font(text(f"grad {self.num(g)}"), GRAD_COLOR)))
        elif self.show_grad and grads:
            mean = math.fsum(abs(g) for g in grads) / len(grads)
            rows.append(font(text(f"mean |grad| of parameters {self.num(mean)}"), GRAD_COLOR))
        # The box's output: what is read outside it, not counting penalty
        # terms such as p*p that read nothing but parameters.
        outs = [
            v for v in vs
            if any(unit.get(c) != key for c, _ in self.uses.get(v, ())) and not all(x.kind == "param" for x in v.inputs)
        ]
        if len(outs) == 1:
            o = outs[0]
            if self.show_data:
                rows.append(font(text(f"out data {self.num(o.data)}"), DATA_COLOR))
            if self.show_grad:
                g = self.state.grad(o)
                rows.append(font(text("out grad: not computed" if g is None else f"out grad {self.num(g)}"), GRAD_COLOR))
        else:  # the same rows as every other box, saying why there is no one number
            what = f"{len(outs)} values read outside" if outs else "nothing read outside"
            if self.show_data:
                rows.append(font(text(f"out data: {what}"), DATA_COLOR))
            if self.show_grad:
                rows.append(font(text(f"out grad: {what}"), GRAD_COLOR))
        marked = [self.notes[v] for v in vs if v in self.notes]
        rows += [font(text(n), HIGHLIGHT, bold=True) for n in marked if n]
        a = dict(shape="box", style="rounded,filled", fillcolor=BOX_FILL, color="#8e24aa")
        if self.color_by_grad and grads:
            a["fillcolor"] = shade(math.fsum(abs(g) for g in grads) / len(grads), top)
            self.used.zero |= a["fillcolor"] == SHADE_ZERO
        if marked:
            a.update(color=HIGHLIGHT, penwidth="3")
        if self.state.focus in vs:
            a.update(color=FOCUS, penwidth="3")
        a["label"] = table(rows)
        self.lines.append(f"  {box_ids[key]}{attrs(**a)}")
