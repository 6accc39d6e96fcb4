"""Backward, one node at a time: one drawing per step of the engine's ``root.steps()``.

``steps(root)`` runs the engine's step sequence once, records every step, and
puts each gradient of the graph back as it was, so drawing the steps leaves
the user's graph untouched. Frame 0 shows the seed gradient at the output;
frame k shows step k: the node being processed outlined in blue, the
gradients known so far filled in (a value read in several places shows what
has arrived so far), the rest "not computed" — the δ_k of the lectures.

>>> from engine import Value
>>> x = Value(2.0, "x")
>>> y = (x * 3).relu()
>>> frames = steps(y)
>>> len(frames), [s.node.op for s in frames.steps]
(3, ['relu', 'mul'])
>>> x.grad is NOT_COMPUTED        # the graph itself is left as it was
True
>>> "not computed" in frames[0].source, "not computed" in frames[2].source
(True, False)
"""

from __future__ import annotations

import html
import io
import itertools
import re
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from engine import NOT_COMPUTED, Value  # NOT_COMPUTED: the module doctest reads it
from engine.args import is_int, type_name

from .draw import draw
from .labels import number
from .options import FORMATS, FRAME_FORMATS
from .render import INLINE_TIMEOUT, GraphvizMissing, RenderError, fitted, none_exist, render, shorten, svg_size, write
from .state import GradState, accumulated

__all__ = ["steps", "Frames"]

PLAYER_FRAMES = 150  # frames an inline player renders up front
_players = itertools.count()  # ids of players on one page, in order (deterministic output)

# The player's behaviour: a slider, previous/next buttons and the arrow keys show one frame
# and its caption. Plain JavaScript, no library, nothing fetched.
MIN_SCALE = 0.85  # the player shrinks a frame at most this far (10 pt labels stay 11 px); wider ones scroll in its box

# The player's behaviour: a slider, previous/next buttons and the arrow keys show one frame and its
# caption. Plain JavaScript, no library, nothing fetched. Without it (an untrusted notebook drops
# scripts) the page shows frame 0 and the note saying how to step; the script hides the note and
# shows the controls. Clicks keep the focus in the player (JupyterLab would take it to the notebook),
# so the arrow keys go on working after the slider or a button is used.
PLAYER_JS = """(function(){var r=document.getElementById("%s"),f=r.querySelectorAll(".gf-frame"),
s=r.querySelector("input"),c=r.querySelector(".gf-caption"),n=r.querySelector(".gf-count"),b=r.querySelectorAll("button");
function show(k){k=Math.max(0,Math.min(f.length-1,k));s.value=k;for(var i=0;i<f.length;i++)f[i].style.display=i==k?"block":"none";
c.textContent=f[k].getAttribute("data-caption");n.textContent="frame "+k+" of "+(f.length-1);}
r.querySelector(".gf-note").style.display="none";r.querySelector(".gf-controls").style.display="flex";
r.setAttribute("data-lm-suppress-shortcuts","true");
function keep(){setTimeout(function(){r.focus({preventScroll:true})},0)}
s.oninput=function(){show(+s.value)};s.onchange=keep;s.onpointerup=keep;
b[0].onclick=function(){show(+s.value-1);keep()};b[1].onclick=function(){show(+s.value+1);keep()};
r.addEventListener("keydown",function(e){var d={ArrowLeft:-1,ArrowRight:1}[e.key];
if(d){show(+s.value+d);e.preventDefault();e.stopPropagation()}});})();"""


def _name(v: Value) -> str:
    if v.label:
        return v.label
    if v.rule is not None:
        return f"the {v.rule.symbol} gate"
    return "a constant" if v.kind == "const" else f"an unnamed {v.kind}"


def steps(root: Value, grad: float = 1.0, **options) -> "Frames":
    """One frame per backward step of ``root``, plus the seed (frame 0).

    ``options`` go to ``viz.draw`` (view, rankdir, collapse, ...). Every
    gradient in the graph is restored afterwards; the frames keep their own copy.
    """
    if not isinstance(root, Value):
        raise TypeError(f"steps: root must be a Value, got {type_name(root)}")
    order = root.topo()
    passes = accumulated(order)  # said before the replay below adds one
    saved = [(v.grad, v.passes) for v in order]
    try:
        recorded = list(root.steps(grad))
    finally:
        for v, (g, n) in zip(order, saved):
            v.grad, v.passes = g, n
    if passes:
        passes = passes.split(" (")[0] + " in .grad; these frames show one pass from zero"
    # Check the options once, here, rather than at the first frame drawn.
    draw(root, **options, _state=GradState(lambda v: None, lambda v: None, lambda v: False))
    return Frames(root, order, recorded, float(grad), options, passes)


class Frames:
    """The frames of ``steps()``: index them for Drawings, save them, or show a slider.

    ``frames[k]`` is a ``viz.draw`` Drawing; ``frames.steps`` are the engine's
    Step records. ``save`` writes an animated .gif, a self-contained .html
    player, or one file per frame (.svg, .png, .pdf, .dot).
    """

    def __init__(self, root, order, recorded, seed, options, passes=""):
        self.root, self.steps, self.seed, self.options = root, recorded, seed, options
        self.passes = passes
        self._uses = {}
        for v in order:
            for x in v.inputs:
                self._uses[x] = self._uses.get(x, 0) + 1
        self._svgs = {}

    def __len__(self):
        return len(self.steps) + 1

    def __iter__(self):
        return (self[k] for k in range(len(self)))

    def __repr__(self):
        return f"<Frames: {len(self)} frames of the backward pass of {_name(self.root)}>"

    def state(self, k: int) -> GradState:
        """What is known after step k (0 = only the seed at the output)."""
        if not is_int(k):
            raise TypeError(f"frame index must be an int, got {type_name(k)}")
        n = len(self)
        if not -n <= k < n:
            raise IndexError(f"frame {k} does not exist; there are {n} frames (0 to {n - 1})")
        k %= n
        got, arrived, done = {}, {}, set()
        for step in self.steps[:k]:
            done.add(step.node)
            # The same additions, in the same order, as the engine's pass.
            for x, c in zip(step.node.inputs, step.contrib):
                got[x] = got.get(x, 0.0) + c
                arrived[x] = arrived.get(x, 0) + 1
        root, seed, uses = self.root, self.seed, self._uses

        def grad(v):
            if v is root:
                return got.get(v, 0.0) + seed
            return got.get(v) if v in arrived else None

        def partial(v):
            have, total = arrived.get(v, 0), uses.get(v, 0)
            return (have, total) if 0 < have < total else None

        focus = self.steps[k - 1].node if k else None
        return GradState(grad, partial, done.__contains__, focus, self.caption(k), self.passes)

    def caption(self, k: int) -> str:
        n = len(self.steps)
        if n == 0:
            return f"{_name(self.root)} is a leaf: its grad is {number(self.seed)} and there is nothing to pass back"
        if k == 0:
            return f"before step 1 of {n}: the output {_name(self.root)} starts with grad {number(self.seed)}"
        s = self.steps[k - 1]
        sent = ", ".join(
            f"{number(s.grad)} × {number(d)} = {number(c)} to {_name(x)}" for x, d, c in zip(s.node.inputs, s.local, s.contrib)
        )
        return f"step {k} of {n}: {_name(s.node)} has grad {number(s.grad)} and sends {sent}"

    def __getitem__(self, k):
        return draw(self.root, **self.options, _state=self.state(k))

    def svg(self, k: int) -> str:
        if k not in self._svgs:
            self._svgs[k] = self[k].svg()
        return self._svgs[k]

    # -- saving -------------------------------------------------------------------------

    def save(self, path, *, overwrite=True) -> list:
        """Save the frames; the extension picks how, and the written paths are returned.

        - ``.gif``: one animated image (needs Pillow, which matplotlib brings);
        - ``.html``: one page with every frame and a slider, no other files;
        - ``.svg`` ``.png`` ``.pdf`` ``.dot``: one file per frame, ``name-00.svg``, ...

        With ``overwrite=False`` nothing is written if any of those files is
        already there (FileExistsError), as the ``gradflow`` command saves.
        """
        path = Path(path)
        fmt = path.suffix.lower().lstrip(".")
        if fmt in ("gif", "html"):
            if not overwrite:
                none_exist([path])
            write(path, self._gif() if fmt == "gif" else self.document().encode(), overwrite)
            return [path]
        if fmt in FORMATS:
            width = len(str(len(self) - 1))
            paths = [path.with_name(f"{path.stem}-{k:0{width}d}{path.suffix}") for k in range(len(self))]
            if not overwrite:
                none_exist(paths)
            return [self[k].save(p, overwrite=overwrite) for k, p in enumerate(paths)]
        raise ValueError(f"cannot save frames as {str(path)!r}: the extension must be one of "
                         f"{', '.join('.' + f for f in FRAME_FORMATS)}")

    def _gif(self, ms_per_frame: int = 900) -> bytes:
        try:
            from PIL import Image
        except ImportError:
            raise ImportError("saving an animated .gif needs Pillow: pip install pillow (or gradflow[plots])") from None
        images = [Image.open(io.BytesIO(render(self[k].source, "png"))).convert("RGB") for k in range(len(self))]
        # Frames differ a little in size (labels grow as gradients arrive): pad to the largest.
        w = max(im.width for im in images)
        h = max(im.height for im in images)
        padded = []
        for im in images:
            canvas = Image.new("RGB", (w, h), "white")
            canvas.paste(im, (0, 0))
            padded.append(canvas)
        out = io.BytesIO()
        padded[0].save(out, format="GIF", save_all=True, append_images=padded[1:], duration=ms_per_frame, loop=0)
        return out.getvalue()

    def _render(self, ks):
        # Each frame is one run of dot: run them side by side, one per core.
        todo = [k for k in ks if k not in self._svgs]
        if len(todo) > 1:
            with ThreadPoolExecutor(max_workers=min(len(todo), os.cpu_count() or 1)) as pool:
                for k, svg in zip(todo, pool.map(lambda k: self[k].svg(), todo)):
                    self._svgs[k] = svg

    def box(self, count: int | None = None) -> tuple[float, float]:
        """The largest width and height (points) of the first ``count`` frames: the player's one box."""
        sizes = [svg_size(self.svg(k)) for k in range(len(self) if count is None else count)]
        return max(w for w, _ in sizes), max(h for _, h in sizes)

    def html(self, limit: int | None = PLAYER_FRAMES, budget: float | None = None) -> str:
        """A self-contained player: every frame's SVG in one box, a slider, ◀ ▶ and the arrow keys.

        It needs no kernel and no network (a few lines of inline JavaScript), so
        it works in JupyterLab, in an nbconvert HTML export, on nbviewer and as a file.
        ``budget`` (seconds) stops drawing further frames once it is spent, and says so.
        """
        count = len(self) if limit is None else min(limit, len(self))
        if budget is None:
            self._render(range(count))
        else:
            start = time.perf_counter()
            for k in range(count):
                self.svg(k)
                if time.perf_counter() - start > budget:
                    count = k + 1
                    break
        box = self.box(count)
        natural = not self.options.get("fit", True)
        # One box for every frame, at most natural size and at least MIN_SCALE of it; wider scrolls.
        px = box[0] * 4 / 3
        size = f"display:{{}};width:100%;min-width:{px if natural else px * MIN_SCALE:.0f}px;max-width:{px:.0f}px;height:auto"
        slides = "\n".join(
            f'<img class="gf-frame" alt="frame {k}" data-caption="{html.escape(self.caption(k))}" '
            f'style="{size.format("block" if k == 0 else "none")}" src="{self._image(k, box)}">'
            for k in range(count)
        )
        more = "" if count == len(self) else (
            f'<p style="font:13px sans-serif">showing the first {count} of {len(self)} frames; '
            'frames.save("steps.html") or .save("steps.gif") writes them all</p>'
        )
        uid = f"gf-steps-{next(_players)}"
        note = (f"Frame 0 of {count - 1}, before the first step. To step through the backward pass (◀ ▶, the slider, "
                "the arrow keys), trust this notebook (JupyterLab: File → Trust Notebook; ./run notebooks trusts "
                "gradflow's own) or run this cell.")
        return (
            f'<div id="{uid}" class="gf-steps" tabindex="0" style="max-width:100%;outline:none">'
            f'<p class="gf-note" style="font:13px sans-serif;margin:4px 0;color:#555">{html.escape(note)}</p>'
            f'<div class="gf-controls" style="display:none;gap:6px;align-items:center;font:13px sans-serif">'
            f'<button type="button" title="previous step (←)">◀</button>'
            f'<input type="range" min="0" max="{count - 1}" value="0" style="flex:1;max-width:420px" aria-label="step">'
            f'<button type="button" title="next step (→)">▶</button>'
            f'<span class="gf-count">frame 0 of {count - 1}</span></div>'
            f'<p class="gf-caption" style="font:13px sans-serif;margin:4px 0;min-height:2.6em">{html.escape(self.caption(0))}</p>{more}'
            f'<div class="gf-box" style="max-width:100%;overflow-x:auto">\n{slides}</div>'
            f"<script>{PLAYER_JS % uid}</script></div>"
        )

    def _image(self, k, box):
        # A frame as an <img> of its SVG: JupyterLab's sanitizer drops inline SVG from an untrusted
        # notebook's HTML but keeps an image; padded to the one box so frames do not jump.
        import base64

        svg = fitted(self.svg(k), box)
        w, h = box
        svg = re.sub(r'<svg width="100%" style="[^"]*"', f'<svg width="{w:g}pt" height="{h:g}pt"', svg, count=1)
        return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")

    def _fitted(self, k, box, natural=False):
        svg = self.svg(k)
        svg = svg[svg.find("<svg"):]  # the XML prologue has no place inside HTML
        if natural:
            return svg
        return fitted(svg, box)

    def document(self) -> str:
        """The player as a complete HTML page (what ``save("x.html")`` writes)."""
        title = html.escape(f"backward pass of {_name(self.root)}, step by step")
        return (
            "<!DOCTYPE html>\n"
            f'<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{title}</title></head>\n<body style=\"margin:16px\">\n<h1 style=\"font:600 18px sans-serif\">{title}</h1>\n"
            f"{self.html(limit=None)}\n</body></html>\n"
        )

    # -- Jupyter ------------------------------------------------------------------------

    def widget(self):
        """An ipywidgets slider over the frames (optional: the HTML player needs no kernel)."""
        import ipywidgets as widgets

        slider = widgets.IntSlider(value=0, min=0, max=len(self) - 1, description="step", continuous_update=False)
        view = widgets.HTML(value=self._frame_html(0))

        def on_change(change):
            view.value = self._frame_html(change["new"])

        slider.observe(on_change, names="value")
        return widgets.VBox([slider, view])

    def _frame_html(self, k):
        try:
            return f"<p>{html.escape(self.caption(k))}</p>" + self._fitted(k, self.box())
        except GraphvizMissing as e:
            return f"<pre>{html.escape(str(e))}\n\n{html.escape(shorten(self[k].source))}</pre>"
        except RenderError as e:
            return f"<pre>{html.escape(str(e))}</pre>"

    def _repr_html_(self):
        try:
            # A notebook waits for this: draw frames for at most INLINE_TIMEOUT seconds.
            return self.html(limit=PLAYER_FRAMES, budget=INLINE_TIMEOUT)
        except GraphvizMissing as e:
            last = self[len(self) - 1]
            return f"<pre>{html.escape(str(e))}\n\n{html.escape(shorten(last.source))}</pre>"
        except RenderError as e:
            return f"<pre>{html.escape(str(e))}</pre>"
