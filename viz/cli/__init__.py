"""The `gradflow` command line, every subcommand: draw an expression, train on a toy dataset, run the
demo; the grader's check, grade and handout; and check-engine for a Value class a student wrote.

One parser, one ``main``. Bad arguments and bad expressions print one line and
exit with status 2; a failure while doing the work (say Graphviz missing for an
image, a file that cannot be written) exits 1. The grader's own statuses are
said at its subcommands. Each subcommand imports its work when it runs, so the
grader starts without the drawing code, nn or numpy. The subcommands live by job:
``draw.py``, ``demo.py``, ``grader.py`` (check, grade, handout, check-engine);
``train`` is here; ``common.py`` holds what they share.

>>> main(["draw", "relu(w*x + b)", "--set", "x=2", "--set", "w=1", "--set", "b=1"])
node         op     data  grad
w            input  1     2
x            input  2     1
w×x          ×      2     1
b            input  1     1
w×x+b        +      3     1
relu(w×x+b)  ReLU   3     1
0
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from ..render import GraphvizMissing, RenderError
from ..terminal import Parser, one_line
from ..training import DIGITS, pick_sample, train, train_digits
from .common import (MAX_EPOCHS, MAX_LR, MAX_PRINT, MAX_SAMPLES, MAX_SEED, UsageError, add_out, output_dir, save_figure,
                     save_plots, sizes, within)
from .demo import add_demo
from .draw import add_draw
from .grader import add_check, add_check_engine, add_grade, add_handout

# train lives here, not in a module of its own: the tests patch viz.cli.train (the training run) and run_train reads it.
__all__ = ["main", "parser", "version", "UsageError", "MAX_PRINT", "DATASETS", "pick_sample", "train", "train_digits"]

DATASETS = ("moons", "circles", "spirals", "xor", "blobs", "pass_class", "digits")


class _Parser(Parser):
    def error(self, message):
        if "required: expression" in message:  # argparse takes "-x*y" for an option
            message += '; an expression that starts with "-" goes after --, as in: gradflow draw -- "-x*y"'
        super().error(message)


def _expression_last(argv: list) -> list:
    # argparse reads everything after -- as positional, so the advice
    # `gradflow draw -- "-x*y" --set x=2` would leave --set unrecognized:
    # the one argument after -- moves to the end, where -- still guards it.
    command = next((i for i, a in enumerate(argv) if not a.startswith("-")), None)
    if command is not None and argv[command] == "draw" and argv.count("--") == 1:
        i = argv.index("--")
        if command < i and i + 2 < len(argv):
            return argv[:i] + argv[i + 2:] + argv[i:i + 2]
    return argv


def version() -> str:
    """gradflow's version: the installed distribution's, else the one in pyproject.toml beside the code."""
    from importlib import metadata

    try:
        return metadata.version("gradflow")
    except metadata.PackageNotFoundError:
        import tomllib

        try:
            with open(Path(__file__).resolve().parents[2] / "pyproject.toml", "rb") as f:
                return tomllib.load(f)["project"]["version"]
        except (OSError, KeyError, tomllib.TOMLDecodeError):
            return "unknown (not installed)"


class _Version(argparse.Action):
    # argparse's "version" action needs the text when the parser is built; this one reads it
    # only for --version, so the other subcommands start without importlib.metadata.
    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS,
                 help="show program's version number and exit"):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        sys.stdout.write(f"gradflow {version()}\n")
        parser.exit()


# --- gradflow train ---------------------------------------------------------------


def _check_train_args(args):
    within("--epochs", args.epochs, 1, MAX_EPOCHS)
    if not 0 < args.lr <= MAX_LR:  # Adam moves each parameter by about lr per step; more only diverges
        raise UsageError(f"--lr must be a number > 0 and at most {MAX_LR:g} (Adam's step size), got {args.lr:g}")
    if args.samples is not None:
        within("--samples", args.samples, 4, MAX_SAMPLES)
        if args.dataset == "xor" and args.samples % 4:
            raise UsageError(f"--samples for xor must be a multiple of 4 (the four corners, repeated), got {args.samples}")
    within("--seed", args.seed, 0, MAX_SEED)


def run_digits(args) -> int:
    if args.samples is not None:
        raise UsageError("--samples does not apply to digits: the set has its 1,797 images")
    out = output_dir(args.out)
    start = time.perf_counter()
    try:
        model, X_test, y_test, predicted, history = train_digits(
            hidden=sizes(args.hidden), epochs=args.epochs, lr=args.lr, seed=args.seed, progress=not args.no_progress)
    except ImportError as e:
        print(f"gradflow train: {str(e).split(';')[0]}; install it with: {install_data()}", file=sys.stderr)
        return 1
    took = time.perf_counter() - start
    print(f"digits: {model!r}, {history.epochs} epochs in {took:.1f} s ({1e3 * took / history.epochs:.0f} ms per epoch)")
    print(f"training accuracy {history.acc[-1]:.1%}, test accuracy {(predicted == y_test).mean():.1%} "
          f"on {len(y_test)} held-out images")
    try:
        import matplotlib

        matplotlib.use("Agg")
    except ImportError:
        print("matplotlib is not installed, so no plots were made: pip install 'gradflow[plots]'", file=sys.stderr)
        return 0
    from .. import plots

    for name, fig in (("misclassified.png", plots.plot_misclassified(X_test, y_test, predicted)),
                      ("loss_curve.png", plots.plot_history(history))):
        print(f"saved {save_figure(fig, out / name)}")
    return 0


def install_data() -> str:
    """The command that installs the data extra into the Python running gradflow, as typed from here.

    In this checkout after ``./run demo``: ``.venv/bin/python -m pip install -e ".[data]"``
    (a bare ``pip`` would be some other Python's).
    """
    import os
    import shlex

    def here(path: Path) -> str:
        try:
            rel = os.path.relpath(path)
        except ValueError:  # another drive (Windows)
            return str(path)
        return rel if not rel.startswith("..") and not os.path.isabs(rel) else str(path)

    python = shlex.quote(here(Path(sys.executable)))
    root = Path(__file__).resolve().parents[2]
    if (root / "pyproject.toml").is_file():  # a checkout: the data extra, in editable mode as ./run installs it
        return f'{python} -m pip install -e "{here(root)}[data]"'
    return f"{python} -m pip install scikit-learn"


def run_train(args) -> int:
    digits = args.dataset == "digits"
    for key, toy in (("hidden", "16,16"), ("epochs", 30), ("lr", 0.1)):
        if getattr(args, key) is None:
            setattr(args, key, DIGITS[key] if digits else toy)
    _check_train_args(args)
    if digits:
        return run_digits(args)
    hidden = sizes(args.hidden)
    out = output_dir(args.out)
    start = time.perf_counter()
    try:
        model, X, y, history, loss = train(args.dataset, samples=args.samples, hidden=hidden, activation=args.activation,
                                           epochs=args.epochs, lr=args.lr, seed=args.seed, progress=not args.no_progress)
    except ArithmeticError as e:  # the loss overflowed: the optimizer's FloatingPointError says where
        raise UsageError(f"training diverged ({e}); try a smaller --lr") from None
    print(f"{args.dataset}: {model!r}, {len(y)} samples, {history.epochs} epochs in {time.perf_counter() - start:.1f} s")
    print(f"final loss {history.loss[-1]:.4f}, training accuracy {history.acc[-1]:.1%}")
    for path in save_plots(model, X, y, history, loss, out):
        print(f"saved {path}")
    return 0


def _add_train(sub):
    p = sub.add_parser("train", help="train an MLP on a toy dataset and save its decision boundary and loss curve",
                       description="Train an MLP with Adam on one of nn's datasets, with a progress bar; print the final "
                       "accuracy; save the decision boundary and the loss curve. digits (scikit-learn's 8×8 "
                       "handwritten digits, the data extra) trains MLP(64, [32, 10]), prints the accuracy on 20% held "
                       "out and saves a grid of the test images it got wrong.")
    p.add_argument("dataset", choices=DATASETS, help="the data to train on: " + ", ".join(DATASETS))
    p.add_argument("--samples", type=int, help="number of samples (default: the dataset's own)")
    p.add_argument("--hidden", help="hidden layer sizes (default 16,16; 32 for digits)")
    p.add_argument("--activation", default="relu", choices=["relu", "tanh", "sigmoid", "leaky_relu", "elu", "softplus"],
                   help="the hidden layers' activation (default relu)")
    p.add_argument("--epochs", type=int, help="epochs (default 30; 150 full-batch steps for digits)")
    p.add_argument("--lr", type=float, help="Adam's learning rate (default 0.1; 0.02 for digits)")
    p.add_argument("--seed", type=int, default=0, help="seeds the data, the starting weights and the batches (default 0)")
    add_out(p)
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(run=run_train)


# --- the entry point --------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog="gradflow", description="Scalar autodiff for learning backpropagation.")
    p.add_argument("--version", action=_Version)
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in (add_demo, add_draw, _add_train, add_check, add_grade, add_handout, add_check_engine):
        add(sub)
    return p


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if any("\0" in a for a in argv):  # only a caller in Python can pass one; no file name holds it
        parser().error("an argument holds a NUL character")
    args = parser().parse_args(_expression_last(argv))
    try:
        return args.run(args)
    except UsageError as e:
        print(f"gradflow {args.command}: error: {one_line(str(e))}", file=sys.stderr)
        return 2
    except (GraphvizMissing, RenderError) as e:
        print(f"gradflow {args.command}: {e}", file=sys.stderr)
        return 1
    except OSError as e:  # a file that cannot be written: a missing folder, no permission, a full disk
        where = f" {e.filename}" if e.filename else ""
        print(f"gradflow {args.command}: cannot write{where}: {e.strerror or e}", file=sys.stderr)
        return 1

