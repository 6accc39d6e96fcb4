"""What the `gradflow` subcommands share: the usage error, the limits on sizes, the output folder and saving.

A ``UsageError`` is one line on stderr and exit status 2 (``viz.cli.main`` prints it).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from ..render import GraphvizMissing, write

__all__ = ["UsageError", "OUT", "MAX_STEPS", "MAX_SAMPLES", "MAX_EPOCHS", "MAX_PARAMETERS", "MAX_LAYERS", "MAX_LR",
           "MAX_SEED", "MAX_PRINT", "within", "add_out", "output_dir", "new_file", "exists", "sizes", "save_plots", "save_drawing",
           "save_figure", "save_new", "say", "bounded"]

OUT = "gradflow-out"  # the default output folder (git-ignored)
MAX_STEPS = 300  # nodes of an expression drawn step by step (one image per node)
# Sizes the scalar engine trains in minutes, not days: refused above these, before any work.
MAX_SAMPLES, MAX_EPOCHS, MAX_PARAMETERS, MAX_LAYERS, MAX_LR = 100_000, 10_000, 20_000, 32, 10.0
MAX_SEED = 2**32 - 1
MAX_PRINT = 1_000_000  # characters the grader prints at most; a hostile sheet cannot flood a terminal or a log


class UsageError(Exception):
    """Bad input from the command line: one line on stderr, exit status 2."""


def sizes(text: str) -> list:
    try:
        sizes = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise UsageError(f"--hidden needs layer sizes separated by commas, e.g. 16,16; got {text!r}") from None
    if not sizes or any(s < 1 for s in sizes):
        raise UsageError(f"--hidden needs positive layer sizes, e.g. 16,16; got {text!r}")
    if len(sizes) > MAX_LAYERS:
        raise UsageError(f"--hidden: {len(sizes)} layers; at most {MAX_LAYERS}")
    widths = [2, *sizes, 1]  # two inputs and one output: about the size of every dataset's model
    count = sum((a + 1) * b for a, b in zip(widths, widths[1:]))
    if count > MAX_PARAMETERS:
        raise UsageError(f"--hidden {text}: about {count:.3g} parameters; the scalar engine trains up to "
                         f"{MAX_PARAMETERS:,} in reasonable time (e.g. --hidden 64,64 has 4,417)")
    return sizes


def save_plots(model, X, y, history, loss, out: Path, *, mark=None, mark_label="", loss_name=None) -> list:
    """The decision boundary (``mark``: a point to star) and the loss curve (``loss_name`` in its title)."""
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only; no window
    except ImportError:
        print("matplotlib is not installed, so no plots were made: pip install 'gradflow[plots]'", file=sys.stderr)
        return []
    from .. import plots

    return [save_figure(fig, out / name) for name, fig in (
        ("decision_boundary.png", plots.plot_decision_boundary(model, X, y, loss=loss, mark=mark, mark_label=mark_label)),
        ("loss_curve.png", plots.plot_history(history, loss=loss_name or loss.replace("_", " "))),
    )]


def save_figure(fig, path: Path) -> Path:
    """A matplotlib figure as a new PNG file (see ``save_new``), then closed."""
    import io

    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return save_new(path, buf.getvalue())


MAX_NEW_NAMES = 1000


def save_new(path: Path, data: bytes) -> Path:
    """Write ``data`` as a new file: ``path``, or ``name-2.png``, ``name-3.png``, ... if that one is there.

    An earlier run's plot, or a file of the user's with the same name, is left
    as it was; the run prints the names it wrote.
    """
    for k in range(1, MAX_NEW_NAMES + 1):
        candidate = path if k == 1 else path.with_name(f"{path.stem}-{k}{path.suffix}")
        try:
            write(candidate, data, overwrite=False)
            return candidate
        except FileExistsError:
            continue
    raise UsageError(f"{str(path.parent)!r} already holds {path.name} and {MAX_NEW_NAMES - 1} numbered copies; "
                     "choose another folder with -o, or clear this one")


def within(option, value, least, most):
    if not least <= value <= most:
        raise UsageError(f"{option} must be from {least:,} to {most:,}, got {value:,}")


def add_out(parser):
    """The -o/--out folder of demo and train, where a file name already taken gets -2, -3, ... (``save_new``)."""
    parser.add_argument("-o", "--out", default=OUT, metavar="DIR", help=f"output folder (default {OUT}); a file name "
                        "already taken there gets -2, -3, ...")


def output_dir(path) -> Path:
    out = Path(path)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UsageError(f"cannot use {str(out)!r} as the output folder: {e.strerror}") from None
    return out


def exists(path) -> str:
    """Why a file is not written: it is there already (a student's sheet, last week's drawing)."""
    return (f"{str(path)!r} already exists, and gradflow writes only new files; "
            "give another name, or move that file away first")


def new_file(option: str, path: Path) -> Path:
    """``path`` if no file is there; checked before any work, like a wrong extension."""
    if os.path.lexists(path):
        raise UsageError(f"{option} {exists(path)}")
    return path


def save_drawing(drawing, path: Path) -> Path:
    """The drawing as a new SVG file (see ``save_new``), or its DOT text without Graphviz."""
    try:
        return save_new(path, drawing.svg().encode())
    except GraphvizMissing as e:
        print(f"{e}; saved the DOT text instead", file=sys.stderr)
        return save_new(path.with_suffix(".dot"), drawing.source.encode())


def say(command: str, message: str):
    print(f"gradflow {command}: {message}", file=sys.stderr)


def bounded(text: str) -> str:
    """At most MAX_PRINT characters, with a note when cut."""
    if len(text) <= MAX_PRINT:
        return text
    return text[:MAX_PRINT] + f"\n… (output truncated at {MAX_PRINT:,} characters of {len(text):,})"
