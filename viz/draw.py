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

import html
import math
import re
import shutil
import subprocess
import textwrap
from collections import deque
from pathlib import Path
from typing import Callable, NamedTuple

from engine import NOT_COMPUTED, OPS, Value

__all__ = ["draw", "Drawing", "GraphvizMissing", "RenderError", "INSTALL_HINT", "dot_path", "render", "groups"]

VIEWS = ("forward", "backward", "both")
RANKDIRS = ("LR", "TB", "RL", "BT")
FORMATS = ("svg", "png", "pdf", "dot")
COLLAPSES = ("neuron", "layer")

# Colours: the CS231n circuit convention, forward values green, gradients red.
DATA_COLOR = "#1b7a2f"
GRAD_COLOR = "#c62828"
MUTED = "#757575"
HIGHLIGHT = "#ff6f00"
FOCUS = "#1565c0"
PARAM_FILL = "#e3f2fd"
INPUT_FILL = "#ffffff"
CONST_FILL = "#eeeeee"
GATE_FILL = "#fffde7"
BOX_FILL = "#f3e5f5"
# |grad| shading: pale (tiny) to strong (largest in the graph); exactly 0 grey.
SHADE_LOW, SHADE_HIGH, SHADE_ZERO = (0xFA, 0xFA, 0xFA), (0xFF, 0xA7, 0x26), "#bdbdbd"
SHADE_DECADES = 6

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
WRAP = 40  # characters per label line
MAX_LABEL = 1000  # characters of one label kept; the rest is summarised
DOT_TIMEOUT = 30.0  # seconds before a `dot` run is stopped (dot can take minutes on huge graphs)
INLINE_TIMEOUT = 10.0  # shorter in a notebook, which falls back to the DOT text
FALLBACK_CHARS = 20_000  # DOT text shown in a notebook when dot fails; the rest is cut (and said)
BUNDLE_EDGES = 8  # a fully connected pair of layers with more edges than this is drawn as one edge
COMPACT_NODES = 40  # up to this many drawn nodes, the legend is one short line

INSTALL_HINT = (
    "install Graphviz, which provides the `dot` program: sudo apt-get install graphviz (Debian/Ubuntu), "
    "sudo dnf install graphviz (Fedora), brew install graphviz (macOS), conda install graphviz, "
    "or see https://graphviz.org/download/"
)


class GraphvizMissing(RuntimeError):
    """Graphviz's ``dot`` program is not installed or not on PATH."""


class RenderError(RuntimeError):
    """``dot`` ran but failed or took too long."""


# --- running dot ---------------------------------------------------------------------


def dot_path() -> str | None:
    """Where the ``dot`` program is, or None when it is not on PATH."""
    return shutil.which("dot")


def render(source: str, fmt: str = "svg", *, timeout: float = DOT_TIMEOUT) -> bytes:
    """Run ``dot`` on DOT text and return the image in ``fmt`` (svg, png or pdf).

    Raises GraphvizMissing (with the install command) when there is no ``dot``.
    """
    if fmt not in ("svg", "png", "pdf", "gif"):
        raise ValueError(f"render: format must be one of svg, png, pdf, gif; got {fmt!r}")
    dot = dot_path()
    if dot is None:
        raise GraphvizMissing(f"cannot draw the {fmt.upper()} image without Graphviz: {INSTALL_HINT}")
    try:
        done = subprocess.run(
            [dot, f"-T{fmt}"], input=source.encode("utf-8"), capture_output=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        raise RenderError(
            f"dot took longer than {timeout:g} s; draw fewer nodes (collapse='neuron' or 'layer', "
            "or a smaller max_nodes) or raise the timeout"
        ) from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise RenderError(f"dot failed (exit status {done.returncode}): {' / '.join(message[:3]) or 'no message'}")
    return done.stdout


class Drawing:
    """A drawn graph: DOT text now, images on demand.

    ``source`` is the DOT text; ``note`` says what was collapsed ("" when every
    node is drawn). ``save(path)`` writes svg, png, pdf or dot by the path's
    extension. In Jupyter it shows as SVG, or as the DOT text and the install
    command when Graphviz is missing.
    """

    def __init__(self, source: str, *, nodes: int, note: str = "", fit: bool = True):
        self.source = source
        self.nodes = nodes
        self.note = note
        self.fit = fit  # inline: scale down to the output's width (False: natural size)
        self._svg = None

    def __repr__(self):
        extra = f", {self.note}" if self.note else ""
        return f"<Drawing of {self.nodes} nodes{extra}>"

    def pipe(self, fmt: str = "svg") -> bytes:
        """The drawing as an image in ``fmt``, made by ``dot``."""
        return render(self.source, fmt)

    def svg(self, *, timeout: float = DOT_TIMEOUT) -> str:
        """The drawing as SVG text (rendered once, then kept)."""
        if self._svg is None:
            self._svg = render(self.source, "svg", timeout=timeout).decode("utf-8")
        return self._svg

    def save(self, path) -> Path:
        """Write the drawing to ``path``; the extension picks the format.

        ``.dot`` / ``.gv`` write the DOT text and never need Graphviz.
        """
        path = Path(path)
        fmt = path.suffix.lower().lstrip(".")
        if fmt == "gv":
            fmt = "dot"
        if fmt not in FORMATS:
            raise ValueError(f"cannot save {str(path)!r}: the extension must be one of {', '.join('.' + f for f in FORMATS)} (or .gv)")
        if fmt == "dot":
            path.write_text(self.source, encoding="utf-8")
        elif fmt == "svg":
            path.write_text(self.svg(), encoding="utf-8")
        else:
            path.write_bytes(render(self.source, fmt))
        return path

    def _fallback(self, why: str) -> dict:
        text = f"{why}\n\n{shorten(self.source)}"
        return {"text/plain": text, "text/html": f"<pre>{html.escape(text)}</pre>"}

    def inline(self) -> str:
        """The SVG as shown in a notebook: fitted to the output's width unless ``fit`` is False."""
        svg = self.svg(timeout=INLINE_TIMEOUT)
        return fitted(svg) if self.fit else svg

    def _repr_mimebundle_(self, include=None, exclude=None):
        try:
            svg = self.inline()
            return {"image/svg+xml": svg, "text/html": f"<div>{svg[svg.find('<svg'):]}</div>"}
        except GraphvizMissing:
            return self._fallback(f"Graphviz's `dot` was not found, so here is the graph as DOT text. To see it drawn, {INSTALL_HINT}.")
        except RenderError as e:
            return self._fallback(f"The graph could not be drawn ({e}); here it is as DOT text.")

    def _repr_svg_(self):
        try:
            return self.inline()
        except (GraphvizMissing, RenderError):
            return None


def shorten(source: str, limit: int = FALLBACK_CHARS) -> str:
    """DOT text cut to ``limit`` characters at a line break, saying how much was left out.

    >>> shorten("a\\nb\\nc\\n", 3)
    'a\\n… (4 more characters of DOT text not shown; Drawing.source has all of it)'
    """
    if len(source) <= limit:
        return source
    cut = source.rfind("\n", 0, limit) + 1 or limit
    return source[:cut] + f"… ({len(source) - cut:,} more characters of DOT text not shown; Drawing.source has all of it)"


_SIZE = re.compile(r'<svg width="([\d.]+)pt" height="([\d.]+)pt"')


def svg_size(svg: str) -> tuple[float, float]:
    """The natural width and height (in points) of an SVG that ``dot`` wrote."""
    m = _SIZE.search(svg)
    if m is None:
        raise ValueError("not an SVG written by dot: no width and height in points on its <svg> element")
    return float(m.group(1)), float(m.group(2))


def fitted(svg: str, box: tuple[float, float] | None = None) -> str:
    """An SVG from ``dot`` that scales down to its container's width, never above its natural size.

    ``box`` (width, height in points) pads the picture to that size, top left,
    so that frames of different sizes share one box and a page does not jump.

    >>> fitted('<svg width="20pt" height="10pt"\\n viewBox="0.00 0.00 20.00 10.00" x>')
    '<svg width="100%" style="max-width:20pt;height:auto;display:block" viewBox="0 0 20 10" x>'
    """
    w, h = svg_size(svg)
    if box is not None:
        w, h = max(w, box[0]), max(h, box[1])
    head = f'<svg width="100%" style="max-width:{w:g}pt;height:auto;display:block" viewBox="0 0 {w:g} {h:g}"'
    return re.sub(r'<svg width="[\d.]+pt" height="[\d.]+pt"\s+viewBox="[^"]*"', head, svg, count=1)


# --- escaping --------------------------------------------------------------------------


def _visible(ch: str) -> str:
    # Control and other unprintable characters would break dot or vanish; show their code.
    if ch.isprintable():
        return ch
    return f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}"


def text(s, wrap: int = WRAP) -> str:
    """Any string as the inside of an HTML-like DOT label: escaped, newlines kept.

    Backslashes are doubled because dot expands ``\\N``, ``\\G``... even inside
    HTML labels; lines longer than ``wrap`` are broken.

    >>> text('a<b> & "c"\\nd\\\\N')
    'a&lt;b&gt; &amp; &quot;c&quot;<BR/>d\\\\\\\\N'
    """
    s = str(s)
    if len(s) > MAX_LABEL:
        s = s[:MAX_LABEL] + f"… ({len(s) - MAX_LABEL} more characters)"
    s = s.replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    ")
    lines = []
    for line in s.split("\n"):
        line = "".join(_visible(ch) for ch in line)
        # Break at spaces where possible; keeping the spaces means no character is lost.
        lines += textwrap.wrap(line, wrap, drop_whitespace=False, replace_whitespace=False) or [""]
    return "<BR/>".join(html.escape(line, quote=True).replace("\\", "\\\\") for line in lines)


def number(x: float, digits: int = 4) -> str:
    """A float as a short label: 4 significant digits by default.

    >>> number(2.0), number(-0.0), number(1/3), number(float("inf")), number(1e-9)
    ('2', '0', '0.3333', '∞', '1e-09')
    """
    if x != x:
        return "nan"
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    if x == 0:
        return "0"
    return f"{x:.{digits}g}"


def _font(s: str, color: str, *, size: int | None = None, bold=False, italic=False) -> str:
    # `s` is already escaped.
    if bold:
        s = f"<B>{s}</B>"
    if italic:
        s = f"<I>{s}</I>"
    size = f' POINT-SIZE="{size}"' if size else ""
    return f'<FONT COLOR="{color}"{size}>{s}</FONT>'


def _table(rows: list[str]) -> str:
    cells = "".join(f"<TR><TD>{r}</TD></TR>" for r in rows)
    return f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">{cells}</TABLE>>'


def _attrs(**kw) -> str:
    # Values are either HTML labels (<...>) or plain tokens we control.
    parts = []
    for k, v in kw.items():
        if v is None:
            continue
        v = str(v)
        parts.append(f"{k}={v}" if v.startswith("<") else f'{k}="{v}"')
    return " [" + " ".join(parts) + "]"


# --- what the drawing knows about gradients -----------------------------------------


class GradState(NamedTuple):
    """How much of the backward pass a drawing shows.

    ``grad(v)`` is the gradient to print, or None for "not computed";
    ``partial(v)`` is None when that gradient is final, else the pair
    (branches arrived, branches in all); ``done(v)`` says whether v's own
    backward step has run (so the contributions on its input edges are known);
    ``focus`` is the node being processed, if any.
    """

    grad: Callable
    partial: Callable
    done: Callable
    focus: Value | None = None
    caption: str = ""
    passes: str = ""  # what the drawing says when leaf gradients add up several passes


def _engine_state(root) -> GradState:
    def grad(v):
        return None if v.grad is NOT_COMPUTED else v.grad

    done = lambda v: v._op is not None and v.grad is not NOT_COMPUTED  # noqa: E731
    return GradState(grad, lambda v: None, done, passes=accumulated(root.topo()))


def accumulated(order) -> str:
    """What to say when the leaves' gradients add up more than one backward pass ("" if not).

    >>> from engine import Value
    >>> w = Value(3.0, "w")
    >>> y = w * 2
    >>> y.backward(); accumulated(y.topo())
    ''
    >>> y.backward(); accumulated(y.topo())
    'leaf gradients accumulated over 2 passes (zero_grad() clears them); gates and edges show the latest pass'
    """
    counts = {v.passes for v in order if v._op is None and v.kind != "const"}
    most = max(counts, default=0)
    if most <= 1:
        return ""
    over = f"over {most} passes" if len(counts) == 1 else f"over up to {most} passes"
    return f"leaf gradients accumulated {over} (zero_grad() clears them); gates and edges show the latest pass"


# --- grouping by parameter names ----------------------------------------------------


def _parent(name: str) -> str:
    return name.rsplit(".", 1)[0] if "." in name else name


def groups(order: list) -> dict:
    """Which neuron each node belongs to, from parameter names like ``layer1.neuron3.w2``.

    A parameter belongs to its name's prefix (``layer1.neuron3``); an op node
    joins the group of a parameter it reads directly, or the group all of its
    inputs share. Inputs, constants and the loss stay outside.

    >>> from engine import Value
    >>> w, b, x = Value(1.0, "n1.w1", kind="param"), Value(0.5, "n1.b", kind="param"), Value(2.0, "x1")
    >>> y = (b + w * x).relu()
    >>> loss = (y - 1.0) ** 2
    >>> sorted({g for g in groups(loss.topo()).values()}), len(groups(loss.topo()))
    (['n1'], 5)
    """
    owner = {}
    # Terms that read parameters alone (p*p of an L2 penalty) and their sums: such a
    # sum is the penalty's, not a neuron's, even when its first terms share a neuron.
    penalty = set()
    for v in order:
        if v._op is None:
            if v.kind == "param" and "." in v.label:
                owner[v] = _parent(v.label)
            continue
        ins = v.inputs
        if all((x._op is None and x.kind == "param") or x in penalty for x in ins):
            penalty.add(v)
        found = None
        for x in ins:
            if x._op is None and x in owner:
                found = owner[x]
                break
        if found is None and not all(x in penalty for x in ins):
            first = owner.get(ins[0])
            if first is not None and all(owner.get(x) == first for x in ins):
                found = first
        if found is not None:
            owner[v] = found
    return owner


# --- the drawing ---------------------------------------------------------------------


def natural(key: str):
    """A sort key that puts layer2 before layer10 and neuron9 before neuron11.

    >>> sorted(["layer1.neuron11", "layer1.neuron2", "layer10", "layer2"], key=natural)
    ['layer1.neuron2', 'layer1.neuron11', 'layer2', 'layer10']
    """
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", key) if part]


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
                f"draw: highlight must be a Value, a collection of Values or a dict Value -> note, got {type(highlight).__name__}"
            ) from None
    notes = {}
    for v, note in items:
        if not isinstance(v, Value):
            raise TypeError(f"draw: highlight entries must be Values of the graph, got {type(v).__name__}")
        if v not in order_set:
            raise ValueError(f"draw: highlighted node {v!r} is not part of the graph drawn from the root")
        notes[v] = "" if note is None else str(note)
    return notes


def _shade(g, top) -> str:
    if g is None:
        return None
    if g == 0:
        return SHADE_ZERO
    if g != g or math.isinf(g) or top == 0:
        t = 1.0
    else:
        t = min(1.0, max(0.0, 1.0 + math.log10(abs(g) / top) / SHADE_DECADES))
    rgb = (round(lo + (hi - lo) * t) for lo, hi in zip(SHADE_LOW, SHADE_HIGH))
    return "#" + "".join(f"{c:02x}" for c in rgb)


def _local(v):
    # Local derivatives of v with respect to each input, from the op table
    # (the rule the engine applies); None where it cannot be evaluated.
    try:
        return v._op.d(*[x.data for x in v.inputs], v.data, v.arg)
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
        raise TypeError(f"draw: root must be a Value, got {type(root).__name__}")
    _check("view", view, VIEWS)
    _check("rankdir", rankdir, RANKDIRS)
    if collapse is True:
        collapse = "neuron"
    if collapse not in (None, False) + COLLAPSES:
        raise ValueError(f"draw: collapse must be None, False, True, 'neuron' or 'layer'; got {collapse!r}")
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"draw: max_nodes must be a positive int, got {max_nodes!r}")
    if isinstance(digits, bool) or not isinstance(digits, int) or not 1 <= digits <= 17:
        raise ValueError(f"draw: digits must be an int from 1 to 17, got {digits!r}")

    order = root.topo()
    index = {v: i for i, v in enumerate(order)}
    notes = _highlights(highlight, index)
    state = _state or _engine_state(root)
    opts = dict(view=view, edge_labels=edge_labels, color_by_grad=color_by_grad, rankdir=rankdir, group=group,
                collapse=collapse, max_nodes=max_nodes, legend=legend, title=title, digits=digits, fit=bool(fit))
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
        self.title = opts["title"]
        self.max_nodes = opts["max_nodes"]
        edge_labels = opts["edge_labels"]
        self.edge_labels = (len(order) <= EDGE_LABEL_NODES) if edge_labels is None else bool(edge_labels)
        self.owner = groups(order)
        group = opts["group"]
        self.group = bool(self.owner) if group is None else bool(group)
        self.collapse = opts["collapse"]
        self.lines = []
        self.used = {"kinds": set(), "split": False, "box": False, "zero": False}
        self.chain_keys = set()

    def num(self, x):
        return number(x, self.digits)

    # -- units: which nodes are drawn one by one and which fold into a box ---------

    def units(self):
        """node -> box key for folded nodes; the note saying what was folded."""
        n, auto = len(self.order), self.collapse is None
        if self.collapse is False or (auto and n <= self.max_nodes):
            return {}, ""
        level = self.collapse or "neuron"
        if self.owner:
            unit = self.fold(level)
            if auto and level == "neuron" and self.drawn(unit) > self.max_nodes:
                level, unit = "layer", self.fold("layer")
            chains = len(self.chain_keys)
            note = f"{n:,} nodes: drawn as {len(set(unit.values())):,} boxes, one per {level}" + (
                f" and {chains} for long chains of one op" if chains else ""
            )
        else:
            unit = self.fold_chains({})
            note = f"{n:,} nodes: no parameter names like layer1.neuron3.w2 to group by; long chains folded"
        if auto and self.drawn(unit) > self.max_nodes:
            unit = self.truncate()
            note = f"{n:,} nodes: the {self.drawn(unit) - 1:,} nearest the output are drawn, the rest folded into one box"
        if auto:
            note += " (draw(..., collapse=False) draws every node)"
        return unit, note

    def fold(self, level):
        unit = {v: (g if level == "neuron" else _parent(g)) for v, g in self.owner.items() if v is not self.root}
        # A constant read only inside one box belongs to it.
        users = {}
        for v in self.order:
            for x in v.inputs:
                if x.kind == "const":
                    users.setdefault(x, set()).add(unit.get(v))
        for x, us in users.items():
            if len(us) == 1 and None not in us:
                unit[x] = next(iter(us))
        return self.fold_chains(unit)

    def fold_chains(self, unit):
        # Long runs of one op outside any neuron (the sum of an L2 penalty over
        # every weight, a mean over samples) fold into one box each.
        readers = {}
        for v in self.order:
            for x in v.inputs:
                readers[x] = readers.get(x, 0) + 1
        prev, has_next = {}, set()
        for v in self.order:
            if v in unit or v._op is None:
                continue
            for x in v.inputs:
                if x._op is v._op and x not in unit and readers[x] == 1 and x not in has_next:
                    prev[v] = x
                    has_next.add(x)
                    break
        count = 0
        for v in reversed(self.order):
            if v not in prev or v in has_next:
                continue
            chain = [v]
            while chain[-1] in prev:
                chain.append(prev[chain[-1]])
            if len(chain) >= 3:
                count += 1
                key = f"{v._op.symbol} chain {count}"
                self.chain_keys.add(key)
                for x in chain:
                    if x is not self.root:
                        unit[x] = key
        return unit

    def drawn(self, unit):
        return len(self.order) - len(unit) + len(set(unit.values()))

    def truncate(self):
        # Keep the nodes nearest the output (breadth-first from the root), fold the rest.
        keep, queue = {self.root}, deque([self.root])
        budget = self.max_nodes - 1
        while queue and len(keep) < budget:
            v = queue.popleft()
            for x in v.inputs:
                if x not in keep and len(keep) < budget:
                    keep.add(x)
                    queue.append(x)
        return {v: "earlier nodes" for v in self.order if v not in keep}

    # -- labels ------------------------------------------------------------------------

    def grad_rows(self, v, sums):
        g = self.state.grad(v)
        if g is None:
            return [_font("grad: not computed", MUTED, italic=True)]
        part = self.state.partial(v)
        if part is not None:
            got, total = part
            return [_font(text(f"grad so far {self.num(g)} ({got} of {total} branches)"), GRAD_COLOR, italic=True)]
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
        return [_font(text(row), GRAD_COLOR)]

    def node_rows(self, v, sums):
        rows = []
        if v._op is None:
            kind = v.kind
            head = v.label or ("" if kind == "const" else kind)
            if head:
                rows.append(_font(text(head), "#000000", bold=kind == "param"))
            if kind == "const" and not self.show_data:
                rows.append(_font(text(self.num(v.data)), DATA_COLOR))
        else:
            op = v._op
            rows.append(_font(text(op.symbol), "#000000", size=16, bold=True))
            if op.params and v.arg is not None:
                rows.append(_font(text(f"{op.params[0]}={self.num(v.arg)}"), MUTED))
            if v.label:
                rows.append(_font(text(v.label), "#000000"))
        if self.show_data:
            rows.append(_font(text(f"data {self.num(v.data)}"), DATA_COLOR))
        if self.show_grad and v.kind != "const":
            rows += self.grad_rows(v, sums)
        if v is self.state.focus:
            rows.append(_font("processing", FOCUS, bold=True))
        if v in self.notes and self.notes[v]:
            rows.append(_font(text(self.notes[v]), HIGHLIGHT, bold=True))
        return rows

    def style(self, v):
        kind = v.kind
        self.used["kinds"].add(kind)
        if kind == "op":
            a = dict(shape="box", style="rounded,filled", fillcolor=GATE_FILL, color="#9e9e9e")
            if v._op.name == "split":
                self.used["split"] = True
        elif kind == "param":
            a = dict(shape="box", style="filled,bold", fillcolor=PARAM_FILL, color="#1e88e5", peripheries="2")
        elif kind == "const":
            a = dict(shape="box", style="filled,dashed", fillcolor=CONST_FILL, color="#9e9e9e")
        else:
            a = dict(shape="box", style="filled", fillcolor=INPUT_FILL, color="#424242")
        return a

    def decorate(self, v, a, top):
        if self.color_by_grad and v.kind != "const":
            fill = _shade(self.state.grad(v), top)
            if fill is not None:
                a["fillcolor"] = fill
                self.used["zero"] |= fill == SHADE_ZERO
        if v in self.notes:
            a.update(color=HIGHLIGHT, penwidth="3")
        if v is self.state.focus:
            a.update(color=FOCUS, penwidth="3")
        return a

    # -- assembling ----------------------------------------------------------------------

    def build(self) -> Drawing:
        order, index = self.order, self.index
        unit, note = self.units()
        uses = self.uses = {}  # node -> [(reader, input position)]
        for v in order:
            for i, x in enumerate(v.inputs):
                uses.setdefault(x, []).append((v, i))
        locals_ = {v: _local(v) for v in order if v._op is not None and v not in unit}
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
            if len(us) > 1 and x not in unit and all(v not in unit for v, _ in us) and any(v._op.name != "split" for v, _ in us)
        }
        if self.color_by_grad:
            known = [abs(g) for v in order if (g := self.state.grad(v)) is not None and g == g and not math.isinf(g)]
            top = max(known, default=0.0)
        else:
            top = 0.0

        out = self.lines
        out.append("digraph gradflow {")
        edges = self.edge_count(unit)
        big = self.drawn(unit) > SIMPLEX_NODES or edges > SIMPLEX_EDGES
        limit = SIMPLEX_LIMIT if big else ""
        layered = unit and self.collapse != "layer" and any("." in k for k in set(unit.values()) - self.chain_keys)
        limit += 'remincross="false" ' if layered else ""
        out.append(f'  graph [newrank="true" compound="true" {limit}rankdir="{self.rankdir}" fontname="Helvetica" nodesep="0.25" ranksep="0.35" bgcolor="white"]')
        out.append('  node [fontname="Helvetica" fontsize="10" margin="0.06,0.03"]')
        out.append('  edge [fontname="Helvetica" fontsize="9" color="#616161" arrowsize="0.6"]')
        caption = [text(t, 100) for t in (self.title, self.state.caption, note, self.state.passes) if t]
        compact = self.legend is None and self.drawn(unit) <= COMPACT_NODES
        self.compact_legend = compact
        rows = caption + ([self.legend_line()] if compact else [])
        if rows:
            out.append(f'  labelloc="t" label={_table(rows)}')

        ids = {v: f"n{index[v]}" for v in order}
        box_ids = {key: f"g{i}" for i, key in enumerate(sorted(set(unit.values()), key=natural))}
        node_lines = {}
        for v in order:
            if v in unit:
                continue
            a = self.decorate(v, self.style(v), top)
            a["label"] = _table(self.node_rows(v, sums))
            node_lines[v] = [f"  {ids[v]}{_attrs(**a)}"]
            if v in splits:
                self.used["split"] = True
                node_lines[v].append(
                    f"  {ids[v]}s"
                    + _attrs(shape="circle", style="filled", fillcolor=GATE_FILL, color="#9e9e9e", fontsize="8",
                             width="0.3", margin="0", label=_table([text(OPS["split"].symbol)]))
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
                out.append(f"  {src} -> {dst}" + (_attrs(xlabel=_table([text(f"×{len(uses)}")])) if len(uses) > 1 else ""))
            else:
                out.append(f"  {src} -> {dst}{self.edge_attrs(uses, locals_, contrib)}")
        for x in order:
            if x in splits:
                out.append(f'  {ids[x]} -> {ids[x]}s [arrowhead="none"]')
        if self.legend or (self.legend is None and not compact):
            self.emit_legend()
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
            return _attrs(label=_table(head)) if head else ""
        rows = []
        for v, i in uses:
            d = locals_[v][i]
            row = [_font(text("local " + ("undefined" if d is None else self.num(d))), MUTED)]
            c = contrib[v][i]
            if self.show_grad and c is not None:
                g = self.state.grad(v)
                row.append(_font(text(f"{self.num(g)} × {self.num(d)} = {self.num(c)}"), GRAD_COLOR))
            if row not in rows:  # x + x: both edges carry the same numbers; say them once
                rows.append(row)
        shown = [r for row in rows[:3] for r in row]
        if len(rows) > 3:
            shown.append(_font(text(f"… and {len(rows) - 3} more"), MUTED))
        if k > 1 and len(rows) == 1:
            head = [text(f"×{k}, each:")]
        return _attrs(label=_table(head + shown))

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
                    + _attrs(ltail=f"cluster_box_{self.cluster_ids[a]}", lhead=f"cluster_box_{self.cluster_ids[b]}",
                             penwidth="3", color="#8e24aa", label=_table([_font(text(label, 30), "#6a1b9a")]))
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
            tree.setdefault(_parent(g), {}).setdefault(g, []).extend(lines)
        self.lines += loose
        for k, (layer, neurons) in enumerate(tree.items()):
            nested = len(neurons) > 1 or layer not in neurons
            if nested:
                self.lines.append(f"  subgraph cluster_{k} {{")
                self.lines.append(f'    label={_table([text(layer)])} style="rounded" color="#bdbdbd"')
            for j, (name, lines) in enumerate(neurons.items()):
                self.lines.append(f"  subgraph cluster_{k}_{j} {{")
                self.lines.append(f'    label={_table([text(name)])} style="rounded,dashed" color="#9e9e9e"')
                self.lines += ["  " + line for line in lines]
                self.lines.append("  }")
            if nested:
                self.lines.append("  }")

    def emit_boxes(self, unit, box_ids, top):
        self.used["box"] = True
        members = {key: [] for key in box_ids}  # layer order: layer2 before layer10
        for v in self.order:
            if v in unit:
                members[unit[v]].append(v)
        # The neuron boxes of one layer sit in one cluster, in order (emit_bundles reads both).
        self.cluster_ids = {}
        self.box_layers = layers = {}
        for key in members:
            if key not in self.chain_keys and "." in key:
                layers.setdefault(_parent(key), []).append(key)
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
                    self.lines.append(f'    label={_table([text(layer)])} style="rounded" color="#bdbdbd"')
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
        rows = [_font(text(key), "#000000", bold=True), _font(text(size), MUTED)]
        grads = [g for v in params if (g := self.state.grad(v)) is not None]
        if self.show_data and params and len(params) <= 4:
            for p in params:
                g = self.state.grad(p)
                row = f"{p.label.rsplit('.', 1)[-1]} {self.num(p.data)}"
                rows.append(_font(text(row), DATA_COLOR) + ("" if g is None or not self.show_grad else "  " + _font(text(f"grad {self.num(g)}"), GRAD_COLOR)))
        elif self.show_grad and grads:
            mean = math.fsum(abs(g) for g in grads) / len(grads)
            rows.append(_font(text(f"mean |grad| of parameters {self.num(mean)}"), GRAD_COLOR))
        # The box's output: what is read outside it, not counting penalty
        # terms such as p*p that read nothing but parameters.
        outs = [
            v for v in vs
            if any(unit.get(c) != key for c, _ in self.uses.get(v, ())) and not all(x.kind == "param" for x in v.inputs)
        ]
        if len(outs) == 1:
            o = outs[0]
            if self.show_data:
                rows.append(_font(text(f"out data {self.num(o.data)}"), DATA_COLOR))
            if self.show_grad:
                g = self.state.grad(o)
                rows.append(_font(text("out grad: not computed" if g is None else f"out grad {self.num(g)}"), GRAD_COLOR))
        else:  # the same rows as every other box, saying why there is no one number
            what = f"{len(outs)} values read outside" if outs else "nothing read outside"
            if self.show_data:
                rows.append(_font(text(f"out data: {what}"), DATA_COLOR))
            if self.show_grad:
                rows.append(_font(text(f"out grad: {what}"), GRAD_COLOR))
        marked = [self.notes[v] for v in vs if v in self.notes]
        rows += [_font(text(n), HIGHLIGHT, bold=True) for n in marked if n]
        a = dict(shape="box", style="rounded,filled", fillcolor=BOX_FILL, color="#8e24aa")
        if self.color_by_grad and grads:
            a["fillcolor"] = _shade(math.fsum(abs(g) for g in grads) / len(grads), top)
        if marked:
            a.update(color=HIGHLIGHT, penwidth="3")
        if self.state.focus in vs:
            a.update(color=FOCUS, penwidth="3")
        a["label"] = _table(rows)
        self.lines.append(f"  {box_ids[key]}{_attrs(**a)}")

    def legend_line(self) -> str:
        # The compact legend of a small drawing: one muted line under the caption.
        parts = []
        if self.show_data:
            parts.append(_font("data", DATA_COLOR) + _font(text(" = forward value"), MUTED))
        if self.show_grad:
            parts.append(_font("grad", GRAD_COLOR) + _font(text(f" = ∂{self.root.label or 'output'}/∂node"), MUTED))
        if self.edge_labels and self.view != "forward":
            parts.append(_font(text("edges: local derivative, then upstream grad × local"), MUTED))
        return _font(" · ", MUTED).join(parts)

    def emit_legend(self):
        rows = []

        def swatch(fill, color, style, what):
            rows.append(
                f'<TR><TD BGCOLOR="{fill}" BORDER="1" COLOR="{color}" STYLE="{style}" WIDTH="18"> </TD>'
                f'<TD ALIGN="LEFT" BALIGN="LEFT">{text(what, 80)}</TD></TR>'
            )

        def line(left, what):
            rows.append(f'<TR><TD ALIGN="LEFT">{left}</TD><TD ALIGN="LEFT" BALIGN="LEFT">{text(what, 80)}</TD></TR>')

        root_name = self.root.label or "output"
        if self.show_data:
            line(_font("data", DATA_COLOR), "forward value")
        if self.show_grad:
            line(_font("grad", GRAD_COLOR), f"∂{root_name}/∂node, from the backward pass")
        kinds = self.used["kinds"]
        if "param" in kinds:
            swatch(PARAM_FILL, "#1e88e5", "solid", "parameter (learned; double border)")
        if "input" in kinds:
            swatch(INPUT_FILL, "#424242", "solid", "input")
        if "const" in kinds:
            swatch(CONST_FILL, "#9e9e9e", "dashed", "constant")
        if "op" in kinds:
            swatch(GATE_FILL, "#9e9e9e", "solid", "gate: the op's symbol, then its output")
        if self.used["split"]:
            line(text(OPS["split"].symbol), "value used in several places: " + OPS["split"].gate)
        if self.used["box"]:
            swatch(BOX_FILL, "#8e24aa", "solid", "a neuron or layer folded into one box")
        if self.edge_labels and self.view != "forward":
            line(_font("local", MUTED), "edge: local derivative ∂out/∂in")
            if self.show_grad:
                line(_font("g × local", GRAD_COLOR), "edge: upstream grad × local = contribution")
        if self.color_by_grad:
            lo = "#" + "".join(f"{c:02x}" for c in SHADE_LOW)
            hi = "#" + "".join(f"{c:02x}" for c in SHADE_HIGH)
            swatch(hi, "#9e9e9e", "solid", "largest |grad| in the graph")
            swatch(lo, "#9e9e9e", "solid", f"|grad| ≤ 1e-{SHADE_DECADES} × largest (vanishing)")
            if self.used["zero"]:
                swatch(SHADE_ZERO, "#9e9e9e", "solid", "grad exactly 0 (blocked)")
        if self.notes:
            swatch("#ffffff", HIGHLIGHT, "solid", "highlighted (orange border)")
        if self.state.focus is not None:
            swatch("#ffffff", FOCUS, "solid", "node being processed (blue border)")
        table = f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="2" CELLPADDING="2">{"".join(rows)}</TABLE>>'
        self.lines.append("  subgraph cluster_legend {")
        self.lines.append('    label=<<B>legend</B>> style="rounded" color="#bdbdbd" fontsize="10"')
        self.lines.append(f"    legend [shape=plain label={table}]")
        self.lines.append("  }")
