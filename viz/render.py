"""Running Graphviz: DOT text in, an image out, and the ``Drawing`` that holds both.

``render(source, fmt)`` runs ``dot`` with a timeout and says how to install it
when it is missing; ``Drawing`` keeps the DOT text, makes images on demand,
saves by extension and shows itself in Jupyter (the DOT text when ``dot`` fails).

>>> d = Drawing("digraph { a -> b }", nodes=2)
>>> d, d.source.count("->")
(<Drawing of 2 nodes>, 1)
"""

from __future__ import annotations

import html
import os
import re
from pathlib import Path

from .options import FORMATS

__all__ = ["Drawing", "GraphvizMissing", "RenderError", "INSTALL_HINT", "dot_path", "render", "fitted", "scalable", "svg_size",
           "shorten", "write", "none_exist"]

DOT_TIMEOUT = 30.0  # seconds before a `dot` run is stopped (dot can take minutes on huge graphs)
INLINE_TIMEOUT = 10.0  # shorter in a notebook, which falls back to the DOT text
# A notebook stores a PNG beside each SVG: JupyterLab shows an untrusted notebook's PNG (it never
# shows untrusted SVG). Drawn at 1.5× for sharpness, shown at the SVG's size; a big drawing whose
# PNG would pass PNG_BUDGET bytes is drawn at 1× (then 0.75×) instead, so a notebook stays small.
PNG_DPI = 144
PNG_DPIS = (PNG_DPI, 96, 72)
PNG_BUDGET = 400_000
FALLBACK_CHARS = 20_000  # DOT text shown in a notebook when dot fails; the rest is cut (and said)

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
    import shutil  # here, not above: the command line reads this module's errors, and `gradflow check` never draws

    return shutil.which("dot")


def render(source: str, fmt: str = "svg", *, timeout: float = DOT_TIMEOUT, dpi: float | None = None) -> bytes:
    """Run ``dot`` on DOT text and return the image in ``fmt`` (svg, png or pdf).

    ``dpi`` sets a bitmap's resolution (dot's default is 96: one pixel per CSS pixel).
    Raises GraphvizMissing (with the install command) when there is no ``dot``.
    """
    if fmt not in ("svg", "png", "pdf", "gif"):
        raise ValueError(f"render: format must be one of svg, png, pdf, gif; got {fmt!r}")
    import subprocess  # as in dot_path: loaded only when dot runs

    dot = dot_path()
    if dot is None:
        raise GraphvizMissing(f"cannot draw the {fmt.upper()} image without Graphviz: {INSTALL_HINT}")
    try:
        done = subprocess.run(
            [dot, f"-T{fmt}", *([f"-Gdpi={dpi:g}"] if dpi else [])], input=source.encode("utf-8"), capture_output=True, timeout=timeout, check=False
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

    def save(self, path, *, overwrite=True) -> Path:
        """Write the drawing to ``path``; the extension picks the format.

        ``.dot`` / ``.gv`` write the DOT text and never need Graphviz. With
        ``overwrite=False`` a file already there is left alone and
        FileExistsError raised (the ``gradflow`` command saves so).
        """
        path = Path(path)
        fmt = path.suffix.lower().lstrip(".")
        if fmt == "gv":
            fmt = "dot"
        if fmt not in FORMATS:
            raise ValueError(f"cannot save {str(path)!r}: the extension must be one of {', '.join('.' + f for f in FORMATS)} (or .gv)")
        # Made in full before the file is opened: a failed render leaves it as it was.
        data = self.source.encode() if fmt == "dot" else self.svg().encode() if fmt == "svg" else render(self.source, fmt)
        write(path, data, overwrite)
        return path

    def _fallback(self, why: str) -> dict:
        text = f"{why}\n\n{shorten(self.source)}"
        return {"text/plain": text, "text/html": f"<pre>{html.escape(text)}</pre>"}, {}

    def inline(self) -> str:
        """The SVG as shown in a notebook: at its natural size, scaled down to the output's width unless ``fit`` is False."""
        svg = self.svg(timeout=INLINE_TIMEOUT)
        return scalable(svg) if self.fit else svg

    def _repr_mimebundle_(self, include=None, exclude=None):
        """(data, metadata), as IPython takes them.

        >>> Drawing("digraph { a -> b }", nodes=2)._repr_mimebundle_()[0].keys() >= {"text/plain"}
        True
        """
        # SVG and a PNG of it, no HTML: JupyterLab shows the SVG in a trusted notebook and the PNG in an
        # untrusted one (it sanitizes HTML, dropping inline SVG, and never renders untrusted SVG).
        try:
            svg = self.inline()
            for dpi in PNG_DPIS:
                png = render(self.source, "png", timeout=INLINE_TIMEOUT, dpi=dpi)
                if len(png) <= PNG_BUDGET:
                    break
        except GraphvizMissing:
            return self._fallback(f"Graphviz's `dot` was not found, so here is the graph as DOT text. To see it drawn, {INSTALL_HINT}.")
        except RenderError as e:
            return self._fallback(f"The graph could not be drawn ({e}); here it is as DOT text.")
        import base64

        w, h = svg_size(svg)
        shown = {"width": round(w * 4 / 3), "height": round(h * 4 / 3)}  # points to CSS pixels
        if not self.fit:
            shown["unconfined"] = True
        bundle = {"image/svg+xml": svg, "image/png": base64.b64encode(png).decode("ascii"), "text/plain": repr(self)}
        return bundle, {"image/png": shown, "image/svg+xml": {"unconfined": True} if not self.fit else {}}

    def _repr_svg_(self):
        try:
            return self.inline()
        except (GraphvizMissing, RenderError):
            return None


def write(path, data: bytes, overwrite: bool = True):
    """Write ``data`` to ``path`` whole or not at all; without ``overwrite``, only as a new file.

    Replacing goes through a temporary file beside ``path``, so a write that
    fails (a full disk) leaves the old file as it was. A new file is created
    exclusively: FileExistsError if one appeared meanwhile.
    """
    path = Path(path)
    if not overwrite:
        with open(path, "xb") as f:
            try:
                f.write(data)
            except BaseException:  # a half-written file of ours is not left behind
                os.unlink(path)
                raise
        return
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def none_exist(paths):
    """FileExistsError for the first of ``paths`` already there: checked before writing a set of files."""
    for p in paths:
        if os.path.lexists(p):
            raise FileExistsError(17, "the file exists", str(p))


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


def scalable(svg: str) -> str:
    """An SVG from ``dot`` at its natural size that scales down to its container's width, never up.

    Unlike ``fitted`` it keeps its width and height, so as an image (JupyterLab shows SVG in an
    ``<img>``) it has a size of its own.

    >>> scalable('<svg width="20pt" height="10pt"\\n viewBox="0.00 0.00 20.00 10.00" x>')
    '<svg width="20pt" height="10pt" style="max-width:100%;height:auto"\\n viewBox="0.00 0.00 20.00 10.00" x>'
    """
    return re.sub(r'(<svg width="[\d.]+pt" height="[\d.]+pt")', r'\1 style="max-width:100%;height:auto"', svg, count=1)


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
