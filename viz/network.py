"""Draw a network the way the lectures do: columns of neurons, one edge per weight.

``draw_network(model, x, target, loss)`` runs one sample forward (and, given a
target, backward through the loss), then draws inputs, hidden layers and
outputs as columns of circles. Edge colour is the sign, edge width the size
of the weight (``edges="weight"``) or of ∂loss/∂w (``edges="grad"``); a
neuron's fill is its activation, or δ = ∂loss/∂z on a log scale
(``nodes="delta"``) so vanishing gradients fade. Every position is computed
here and pinned (Graphviz only routes straight lines), so the text is the
same for the same model and sample, and large layers draw in about a second.
The model's gradients are left as they were.

>>> from nn import MLP
>>> model = MLP(2, [3, 1], seed=0)
>>> d = draw_network(model, [1.0, -1.0], target=1.0, loss="mse")
>>> d.source.count(" -> ")   # 2·3 + 3·1 weights, and the output to the loss
10
>>> d2 = draw_network(model, [1.0, -1.0], target=1.0, loss="mse")
>>> d2.source == d.source
True
"""

from __future__ import annotations

import math
import numbers

from engine import NOT_COMPUTED, Value
from engine.args import is_int, is_real, type_name

from .labels import MUTED, attrs, font, number, shade, table, text
from .render import Drawing

__all__ = ["draw_network", "EDGES", "NODES"]

EDGES = ("grad", "weight")
NODES = ("activation", "delta")
POSITIVE, NEGATIVE, ZERO = "#1565c0", "#e65100", "#bdbdbd"  # TensorFlow Playground: blue +, orange −
NUMBERS_UP_TO = 10  # neurons per layer up to which numbers can be written on edges and nodes
EDGE_BUDGET = 256  # edges drawn per pair of layers; beyond it only the largest are kept (and said)
MAX_WIDTH = 4.0  # pen width of the largest edge, in points


class _Unit:
    """One neuron as drawn: its weights, bias, activation and the sample's z and a."""

    __slots__ = ("w", "b", "act", "z", "a")

    def __init__(self, w, b, act):
        self.w, self.b, self.act = list(w), b, act
        self.z = self.a = None


def _layers(model) -> list:
    # MLP, Perceptron or a bare list of layers -> [(name, activation, [_Unit])].
    def neuron(n):
        return _Unit(n.w, n.b, getattr(n, "act", None))

    if hasattr(model, "layers") and isinstance(model.layers, (list, tuple)):
        layers = list(model.layers)
    elif isinstance(model, (list, tuple)):
        layers = list(model)
    elif hasattr(model, "w") and hasattr(model, "b"):  # a Perceptron or a lone Neuron: one unit
        act = getattr(model, "activation", "linear")
        return [("output", act, [neuron(model)])]
    else:
        raise TypeError(f"draw_network takes an MLP, a Perceptron or a list of layers, got {type_name(model)}")
    if not layers or not all(hasattr(layer, "neurons") for layer in layers):
        raise TypeError("draw_network: a list of layers must be non-empty and hold Layer objects (each with .neurons)")
    out = []
    for i, layer in enumerate(layers, 1):
        units = [neuron(n) for n in layer.neurons]
        out.append((f"layer{i}", getattr(layer, "activation", "?"), units))
    for (name, _, units), (_, _, before) in zip(out[1:], out):
        if any(len(u.w) != len(before) for u in units):
            raise ValueError(f"draw_network: {name} expects {len(units[0].w)} inputs but the layer before has {len(before)} neurons")
    return out


def _sample(x, nin):
    if isinstance(x, (str, bytes, Value, numbers.Number)) or not hasattr(x, "__iter__"):
        raise TypeError(f"draw_network: x is one sample, a sequence of {nin} numbers; got {type_name(x)}")
    xs = list(x)
    if len(xs) != nin:
        raise ValueError(f"draw_network: the network takes {nin} inputs, x has {len(xs)}")
    values = []
    for i, v in enumerate(xs):
        if not is_real(v) or not math.isfinite(v):
            raise ValueError(f"draw_network: input {i + 1} must be a finite number, got {v!r}")
        values.append(Value(float(v), f"x{i + 1}"))
    return values


def _forward(layers, xs):
    a = xs
    for _, _, units in layers:
        for u in units:
            # z = b + Σ w·x in the order a Neuron sums, so the numbers match the model's own.
            u.z = sum((w * x for w, x in zip(u.w, a)), u.b)
            u.a = u.act(u.z) if u.act is not None else u.z
        a = [u.a for u in units]
    return a


def _backward(root, params):
    # The model's gradients as they were, put back afterwards: drawing changes nothing.
    order = root.topo()
    saved = [(v, v.grad, v.passes) for v in order if v.rule is None]
    for p in params:
        p.grad = NOT_COMPUTED
    try:
        root.backward()
        grads = {v: v.grad for v in order}
    finally:
        for v, g, n in saved:
            v.grad, v.passes = g, n
    return grads


def _color(x) -> str:
    return ZERO if x == 0 or x != x else POSITIVE if x > 0 else NEGATIVE


def _blend(rgb, t) -> str:
    # White (t = 0) to the colour (t = 1).
    r, g, b = (int(rgb[i : i + 2], 16) for i in (1, 3, 5))
    return "#" + "".join(f"{round(255 + (c - 255) * t):02x}" for c in (r, g, b))


def draw_network(
    model,
    x,
    target=None,
    loss="mse",
    *,
    edges: str | None = None,
    nodes: str = "activation",
    numbers: bool | None = None,
    title: str | None = None,
    legend: bool = True,
    digits: int = 3,
    fit: bool = True,
) -> Drawing:
    """Draw ``model`` on one sample ``x`` as columns of neurons joined by weighted edges.

    - ``target`` and ``loss`` (a name from ``nn.LOSSES`` or a Loss): with a
      target, the sample's loss is built and a backward pass gives ∂loss/∂w
      and δ = ∂loss/∂z for every neuron (the model's own gradients are kept).
    - ``edges``: "grad" (width ∝ |∂loss/∂w|; the default with a target) or
      "weight" (width ∝ |w|; the default without one). Colour is the sign:
      blue positive, orange negative, grey zero.
    - ``nodes``: "activation" (fill by the neuron's output a) or "delta"
      (fill by |δ| on a log scale, grey where δ is exactly 0: a blocked ReLU).
    - ``numbers``: write w, ∂loss/∂w, a and δ on the drawing; by default only
      when every layer has at most 10 neurons. Between larger layers only the
      256 largest edges of each pair are drawn, and the caption says so.

    ``model`` is an ``nn.MLP``, an ``nn.Perceptron`` or a list of ``nn.Layer``.
    """
    if edges is not None and edges not in EDGES:
        raise ValueError(f"draw_network: edges must be one of {', '.join(map(repr, EDGES))}; got {edges!r}")
    if nodes not in NODES:
        raise ValueError(f"draw_network: nodes must be one of {', '.join(map(repr, NODES))}; got {nodes!r}")
    if not is_int(digits) or not 1 <= digits <= 17:
        raise ValueError(f"draw_network: digits must be an int from 1 to 17, got {digits!r}")
    layers = _layers(model)
    nin = len(layers[0][2][0].w)
    xs = _sample(x, nin)
    outs = _forward(layers, xs)
    params = [p for _, _, units in layers for u in units for p in (*u.w, u.b)]

    root = grads = None
    if target is not None:
        from nn import get_loss  # viz may import nn; only needed with a target

        fn = get_loss(loss)
        root = fn([outs], [target])
        grads = _backward(root, params)
    elif edges == "grad" or nodes == "delta":
        raise ValueError("draw_network: edges='grad' and nodes='delta' need a target to take the loss's gradient "
                         "(pass target=..., and loss=... if not mse)")
    edges = edges or ("grad" if grads is not None else "weight")
    return _Net(layers, xs, root, grads, edges, nodes, numbers, title, legend, digits, loss if root is not None else None, target).build(fit)


class _Net:
    def __init__(self, layers, xs, root, grads, edges, nodes, numbers_, title, legend, digits, loss, target):
        self.layers, self.xs, self.root, self.grads = layers, xs, root, grads
        self.edges, self.nodes, self.title, self.legend, self.digits = edges, nodes, title, legend, digits
        self.loss, self.target = loss, target
        widest = max([len(xs)] + [len(units) for _, _, units in layers])
        self.small = widest <= NUMBERS_UP_TO
        self.numbers = self.small if numbers_ is None else bool(numbers_)
        self.lines, self.notes = [], []

    def num(self, v):
        return number(v, self.digits)

    def weight_value(self, u, i):
        w = u.w[i]
        return self.grads[w] if self.edges == "grad" else w.data

    # -- layout: columns of pinned positions, in inches --------------------------------

    def positions(self):
        cols = [self.xs] + [[u for u in units] for _, _, units in self.layers]
        gap_x = 3.2 if self.numbers else 1.8
        pos = []
        for c, col in enumerate(cols):
            gap_y = 1.3 if self.numbers else 0.8 if self.small else max(0.22, min(0.6, 9.0 / len(col)))
            top = (len(col) - 1) * gap_y / 2
            pos.append([(c * gap_x, top - r * gap_y) for r in range(len(col))])
        return pos, gap_x

    def build(self, fit) -> Drawing:
        pos, gap_x = self.positions()
        out = self.lines
        out.append("digraph network {")
        out.append('  graph [layout="neato" splines="false" outputorder="edgesfirst" fontname="Helvetica" bgcolor="white" labelloc="t"]')
        size = 0.72 if self.numbers else 0.42 if self.small else 0.2
        out.append(f'  node [shape="circle" fixedsize="true" width="{size}" fontname="Helvetica" fontsize="8" style="filled" color="#616161" penwidth="0.8"]')
        out.append('  edge [arrowhead="none"]')

        # Node values and the scales they are drawn on.
        acts = [abs(v.data) for v in self.xs] + [abs(u.a.data) for _, _, units in self.layers for u in units]
        top_a = max([a for a in acts if math.isfinite(a)], default=0.0) or 1.0
        deltas = [abs(self.grads[u.z]) for _, _, units in self.layers for u in units] if self.grads else []
        top_d = max([d for d in deltas if math.isfinite(d)], default=0.0)

        count = 0
        # Column headers, then the neurons.
        heads = ["inputs"] + [f"{name} ({len(units)}, {act})" for name, act, units in self.layers]
        y_head = max(col[0][1] for col in pos) + (0.6 if self.numbers else 0.45)
        for c, head in enumerate(heads):
            x0 = pos[c][0][0]
            out.append(f'  h{c} [shape="plaintext" style="" width="1.6" pos="{x0:.3f},{y_head:.3f}!" '
                       f'label={table([font(text(head), "#424242", bold=True)])}]')
        for r, v in enumerate(self.xs):
            fill = _blend(_color(v.data), min(1.0, abs(v.data) / top_a) * 0.8)
            label = table([text(v.label), text(self.num(v.data))]) if self.numbers else table([text(v.label)]) if self.small else "<>"
            out.append(f'  i{r}{attrs(pos="%.3f,%.3f!" % pos[0][r], fillcolor=fill, label=label, tooltip=v.label)}')
            count += 1
        for c, (name, _, units) in enumerate(self.layers, 1):
            for r, u in enumerate(units):
                a = u.a.data
                d = self.grads[u.z] if self.grads else None
                if self.nodes == "delta":
                    fill = shade(d, top_d)  # |δ| on draw's log scale; exactly 0 is grey
                else:
                    fill = _blend(_color(a), min(1.0, abs(a) / top_a) * 0.8 if math.isfinite(a) else 1.0)
                rows = []
                if self.numbers:
                    rows.append(text(f"a {self.num(a)}"))
                    if d is not None:
                        rows.append(font(text(f"δ {self.num(d)}"), "#b71c1c"))
                label = table(rows) if rows else "<>"
                tip = f"{name}.neuron{r + 1}: z {self.num(u.z.data)}, a {self.num(a)}" + (f", δ {self.num(d)}" if d is not None else "")
                out.append(f'  n{c}_{r}{attrs(pos="%.3f,%.3f!" % pos[c][r], fillcolor=fill, label=label, tooltip=tip)}')
                count += 1
        if self.root is not None:
            last = len(self.layers)
            ys = [p[1] for p in pos[last]]
            lx, ly = pos[last][0][0] + gap_x * 0.8, sum(ys) / len(ys)
            rows = [font("loss", "#000000", bold=True), text(f"{self.loss_name()} {self.num(self.root.data)}"),
                    font(text(f"target {self.num(float(self.target)) if isinstance(self.target, numbers.Real) else self.target}"), MUTED)]
            out.append(f'  loss [shape="box" style="rounded,filled" fillcolor="#fff3e0" fixedsize="false" width="0.8" '
                       f'pos="{lx:.3f},{ly:.3f}!" label={table(rows)}]')
            for r in range(len(self.layers[-1][2])):
                out.append(f'  n{last}_{r} -> loss [color="#9e9e9e" style="dashed"]')

        self.emit_edges(pos)
        caption = [text(t, 110) for t in self.caption() if t]
        if caption:
            out.append(f"  label={table(caption)}")
        out.append("}")
        note = "; ".join(self.notes)
        return Drawing("\n".join(out) + "\n", nodes=count, note=note, fit=fit)

    def loss_name(self):
        return getattr(self.loss, "name", self.loss) or "loss"

    def emit_edges(self, pos):
        values = [abs(self.weight_value(u, i)) for _, _, units in self.layers for u in units for i in range(len(u.w))]
        top = max([v for v in values if math.isfinite(v)], default=0.0)
        if top == 0 and self.edges == "grad":
            self.notes.append("this sample's loss sends no gradient back: every ∂loss/∂w is 0")
        prev = "inputs"
        for c, (name, _, units) in enumerate(self.layers, 1):
            pairs = [(self.weight_value(u, i), r, i) for r, u in enumerate(units) for i in range(len(u.w))]
            total = len(pairs)
            if total > EDGE_BUDGET:
                # The largest first; ties by position, so the choice is the same every time.
                pairs = sorted(pairs, key=lambda p: (-abs(p[0]) if math.isfinite(p[0]) else -math.inf, p[1], p[2]))[:EDGE_BUDGET]
                pairs.sort(key=lambda p: (p[1], p[2]))
                what = "|∂loss/∂w|" if self.edges == "grad" else "|w|"
                self.notes.append(f"{prev} → {name}: the {EDGE_BUDGET} largest {what} of {total:,} edges drawn")
            nin = len(units[0].w)
            for v, r, i in pairs:
                src = f"i{i}" if c == 1 else f"n{c - 1}_{i}"
                t = 0.0 if top == 0 or not math.isfinite(v) else min(1.0, abs(v) / top)
                width = 0.25 + (MAX_WIDTH - 0.25) * t
                style = dict(color=_color(v), penwidth=f"{width:.2f}")
                u = units[r]
                tip = f"{name}.neuron{r + 1}.w{i + 1} = {self.num(u.w[i].data)}" + (
                    f", ∂loss/∂w = {self.num(self.grads[u.w[i]])}" if self.grads else "")
                style["tooltip"] = tip
                self.lines.append(f"  {src} -> n{c}_{r}{attrs(**style)}")
                if self.numbers:
                    self.edge_number(pos, c, r, i, nin, u)
            prev = name
        if not self.numbers and self.small is False:
            self.notes.append(f"no numbers on layers over {NUMBERS_UP_TO} neurons (hover an edge or neuron in the SVG for its values)")

    def edge_number(self, pos, c, r, i, nin, u):
        # The label sits on the edge, nearer the neuron it feeds; each source at its own
        # distance, so the labels of edges converging on one neuron do not overlap.
        (x0, y0), (x1, y1) = pos[c - 1][i], pos[c][r]
        t = 0.2 + 0.6 * (i + 0.5) / nin
        lx, ly = x1 + (x0 - x1) * t, y1 + (y0 - y1) * t
        w = u.w[i]
        rows = [font(text(f"w {self.num(w.data)}"), _color(w.data))]
        if self.grads:
            g = self.grads[w]
            rows.append(font(text(f"∂L/∂w {self.num(g)}"), _color(g)))
        self.lines.append(f'  e{c}_{r}_{i} [shape="plaintext" style="filled" fillcolor="#ffffffd0" fixedsize="false" width="0" '
                          f'height="0" margin="0.01" fontsize="7" pos="{lx:.3f},{ly:.3f}!" label={table(rows)}]')

    def caption(self):
        edge = ("edge width ∝ |∂loss/∂w|" if self.edges == "grad" else "edge width ∝ |w|") + ", blue + / orange −"
        fill = ("fill: δ = ∂loss/∂z on a log scale (pale = tiny, grey = exactly 0)" if self.nodes == "delta"
                else "fill: activation a (blue +, orange −)")
        lines = [self.title]
        if self.root is not None:
            lines.append(f"{self.loss_name()} loss of one sample: {self.num(self.root.data)}")
        if self.legend:
            lines.append(f"{edge}; {fill}")
        lines += self.notes
        return lines
