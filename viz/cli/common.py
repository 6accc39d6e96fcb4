"""What the `gradflow` subcommands share: the usage error, the limits on sizes, the output folder and saving.

A ``UsageError`` is one line on stderr and exit status 2 (``viz.cli.main`` prints it).
"""

from __future__ import annotations

import sys
from pathlib import Path

from ..render import GraphvizMissing

__all__ = ["UsageError", "OUT", "MAX_STEPS", "MAX_SAMPLES", "MAX_EPOCHS", "MAX_PARAMETERS", "MAX_LAYERS", "MAX_LR",
           "MAX_SEED", "MAX_PRINT", "within", "output_dir", "sizes", "save_plots", "save_drawing", "say", "bounded"]

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
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed, so no plots were made: pip install 'gradflow[plots]'", file=sys.stderr)
        return []
    from .. import plots

    saved = []
    for name, fig in (
        ("decision_boundary.png", plots.plot_decision_boundary(model, X, y, loss=loss, mark=mark, mark_label=mark_label)),
        ("loss_curve.png", plots.plot_history(history, loss=loss_name or loss.replace("_", " "))),
    ):
        fig.savefig(out / name, dpi=110)
        plt.close(fig)
        saved.append(out / name)
    return saved


def within(option, value, least, most):
    if not least <= value <= most:
        raise UsageError(f"{option} must be from {least:,} to {most:,}, got {value:,}")


def output_dir(path) -> Path:
    out = Path(path)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UsageError(f"cannot use {str(out)!r} as the output folder: {e.strerror}") from None
    return out


def save_drawing(drawing, path: Path) -> Path:
    try:
        return drawing.save(path)
    except GraphvizMissing as e:
        print(f"{e}; saved the DOT text instead", file=sys.stderr)
        return drawing.save(path.with_suffix(".dot"))


def say(command: str, message: str):
    print(f"gradflow {command}: {message}", file=sys.stderr)


def bounded(text: str) -> str:
    """At most MAX_PRINT characters, with a note when cut."""
    if len(text) <= MAX_PRINT:
        return text
    return text[:MAX_PRINT] + f"\n… (output truncated at {MAX_PRINT:,} characters of {len(text):,})"
