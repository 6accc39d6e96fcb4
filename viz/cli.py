"""The `gradflow` command line: draw an expression, train on a toy dataset, run the demo.

Bad arguments and bad expressions print one line and exit with status 2;
a failure while doing the work (say Graphviz missing for an image) exits 1.

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
import math
import sys
import time
from pathlib import Path

from . import exercise
from .draw import FORMATS, RANKDIRS, VIEWS, GraphvizMissing, RenderError, draw, number
from .steps import FRAME_FORMATS, steps
from .terminal import Parser, columns, one_line

OUT = "gradflow-out"  # the default output folder (git-ignored)
DATASETS = ("moons", "circles", "spirals", "xor", "blobs", "pass_class", "digits")
# digits (scikit-learn's 8×8 images) trains MLP(64, [32, 10]) on the full batch: its own defaults.
DIGITS = dict(hidden="32", epochs=150, lr=0.02, test_fraction=0.2)
NAME_WIDTH = 28  # characters of a node's description in the printed table
MAX_STEPS = 300  # nodes of an expression drawn step by step (one image per node)
# Sizes the scalar engine trains in minutes, not days: refused above these, before any work.
MAX_SAMPLES, MAX_EPOCHS, MAX_PARAMETERS, MAX_LAYERS, MAX_LR = 100_000, 10_000, 20_000, 32, 10.0
MAX_SEED = 2**32 - 1


class UsageError(Exception):
    """Bad input from the command line: one line on stderr, exit status 2."""


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
            with open(Path(__file__).resolve().parents[1] / "pyproject.toml", "rb") as f:
                return tomllib.load(f)["project"]["version"]
        except (OSError, KeyError, tomllib.TOMLDecodeError):
            return "unknown (not installed)"


# --- gradflow draw -----------------------------------------------------------------


def _assignment(text: str):
    name, sep, value = text.partition("=")
    name = name.strip()
    if not sep or not name:
        raise UsageError(f"--set needs NAME=NUMBER, e.g. --set x=2; got {text!r}")
    try:
        number = float(value)
    except ValueError:
        raise UsageError(f"--set {name}: {value.strip()!r} is not a number") from None
    if not math.isfinite(number):
        raise UsageError(f"--set {name}: {value.strip()!r} is not a finite number")
    return name, number


def _extension(option: str, path: str, allowed) -> Path:
    # Checked before any work, so a typo in the file name costs nothing.
    path = Path(path)
    if path.suffix.lower().lstrip(".") not in allowed:
        raise UsageError(f"{option} {str(path)!r}: the extension must be one of {', '.join('.' + f for f in allowed)}")
    return path


def _additive(op) -> bool:
    # + and − in the table: both local derivatives are ±1 whatever the inputs.
    return op.arity == 2 and op.d(2.0, 3.0, 5.0, None) in ((1.0, 1.0), (1.0, -1.0))


PREFIX, ATOM = 2.5, math.inf  # how tightly a prefix symbol (−x, σx) and a name or call bind


def _precedence(op) -> float:
    # A one-character binary symbol: + − bind loosest, then × ÷, then ^.
    return 1 if _additive(op) else 3 if op.symbol == "^" else 2


def describe(order) -> dict:
    """A short text for each node: its label, else an expression built from its inputs.

    One-character symbols of the op table are written between or before the
    operands, with the parentheses their precedence needs; other ops are
    written as calls by name.

    >>> from engine import Value
    >>> x = Value(2.0, "x")
    >>> y = (x * 3 - 1).relu() ** 2 / (x - 1 - (2 - x))
    >>> list(describe(y.topo()).values())[5:]
    ['relu(x×3−1)', 'relu(x×3−1)^2', '1', 'x−1', '2', '2−x', 'x−1−(2−x)', 'relu(x×3−1)^2÷(x−1−(2−x))']
    >>> [describe(e.topo())[e] for e in ((-x) ** 2, -x ** 2, (x * x) ** x, (2 ** x) ** x, 2 ** x ** x, x - -x)]
    ['(−x)^2', '−(x^2)', '(x×x)^x', '(2^x)^x', '2^(x^x)', 'x−(−x)']
    """
    names, prec = {}, {}
    for v in order:
        p = ATOM
        if v.label:
            names[v] = v.label
        elif not v.op:
            names[v] = number(v.data)
            p = PREFIX if names[v].startswith(("-", "−")) else ATOM
        else:
            op = v._op
            ins = [names[x] for x in v.inputs]
            if len(op.symbol) == 1 and op.arity == 2:
                p = _precedence(op)
                a, b = v.inputs
                if prec[a] < p or (prec[a] == p and op.symbol == "^"):  # ^ groups to the right
                    ins[0] = f"({ins[0]})"
                # Only + regroups freely; a sign after a symbol (a−−b) reads as a typo.
                if prec[b] < p or prec[b] == PREFIX or (prec[b] == p and op.d(2.0, 3.0, 5.0, None) != (1.0, 1.0)):
                    ins[1] = f"({ins[1]})"
                names[v] = ins[0] + op.symbol + ins[1]
            elif len(op.symbol) == 1 and op.params:  # x^k
                p = _precedence(op)
                names[v] = (f"({ins[0]})" if prec[v.inputs[0]] <= p else ins[0]) + f"{op.symbol}{number(v.arg)}"
            elif len(op.symbol) == 1:  # −x, σx
                p = PREFIX
                names[v] = op.symbol + (ins[0] if prec[v.inputs[0]] == ATOM else f"({ins[0]})")
            else:
                extra = [number(v.arg)] if op.params and v.arg is not None else []
                names[v] = f"{v.op}({', '.join(ins + extra)})"
        if len(names[v]) > NAME_WIDTH:
            names[v] = names[v][: NAME_WIDTH - 1] + "…"
        prec[v] = p
    return names


def run_draw(args) -> int:
    from engine.expr import ExprError, parse

    values = dict(_assignment(a) for a in args.set)
    output = args.output and _extension("-o", args.output, FORMATS + ("gv",))
    frames = args.steps and _extension("--steps", args.steps, FRAME_FORMATS)
    try:
        root = parse(args.expression, values)
    except ExprError as e:
        raise UsageError(f"{args.expression!r}: {e}") from None
    params = set(args.param)
    unknown = params - set(values)
    if unknown:
        raise UsageError(f"--param {sorted(unknown)[0]}: no such input; give it a value with --set")
    order = root.topo()
    if frames and len(order) > MAX_STEPS:
        raise UsageError(f"--steps: the expression has {len(order)} nodes, one frame each; "
                         f"step through expressions of up to {MAX_STEPS} nodes")
    for v in order:
        if not v.op and v.label in params:
            v.kind = "param"
    try:
        root.backward()
    except (ArithmeticError, ValueError) as e:  # a local derivative that overflows or divides by 0
        raise UsageError(f"{args.expression!r}: backward failed at these values: {e}") from None
    names = describe(order)
    rows = [("node", "op", "data", "grad")]
    for v in order:
        if v.kind == "const":
            continue
        rows.append((names[v], v._op.symbol if v.op else v.kind, number(v.data), number(v.grad)))
    print("\n".join(columns(rows)))
    options = dict(view=args.view, rankdir=args.rankdir, color_by_grad=args.color_by_grad)
    if output:
        draw(root, **options).save(output)
        print(f"drawing saved to {output}")
    if frames:
        paths = steps(root, **options).save(frames)
        print(f"backward steps saved to {paths[0]}" + (f" ... {paths[-1]}" if len(paths) > 1 else ""))
    return 0


def _add_draw(sub):
    p = sub.add_parser(
        "draw",
        help="parse an expression, run backward, print values and gradients, save the drawing",
        description="Parse a small expression (numbers, names, + - * / **, parentheses and the engine's functions; "
        "never eval), run forward and backward, print every node's value and gradient, and save the drawing.",
    )
    p.add_argument("expression", help='for example "relu(w*x + b)"; one that starts with "-" goes after --, as in: gradflow draw -- "-x*y"')
    p.add_argument("--set", action="append", default=[], metavar="NAME=NUMBER", help="the value of a name (repeat for each)")
    p.add_argument("--param", action="append", default=[], metavar="NAME", help="draw this input as a parameter")
    p.add_argument("-o", "--output", metavar="FILE", help="save the drawing: .svg, .png, .pdf or .dot")
    p.add_argument("--steps", metavar="FILE", help="save the backward pass step by step: .gif, .html, or .svg/.png per frame")
    p.add_argument("--view", choices=VIEWS, default="both")
    p.add_argument("--rankdir", choices=RANKDIRS, default="LR")
    p.add_argument("--color-by-grad", action="store_true", help="shade nodes by |grad| (vanishing gradients look pale)")
    p.set_defaults(run=run_draw)


# --- gradflow train ---------------------------------------------------------------


def _dataset(name, samples, seed):
    import nn

    make = getattr(nn, name)
    return make(samples, seed=seed) if samples else make(seed=seed)


def _sizes(text: str) -> list:
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


def train(dataset, *, samples=None, hidden=(16, 16), activation="relu", epochs=30, lr=0.1, seed=0, progress=True):
    """Train an MLP on one of nn's datasets with Adam; returns (model, X, y, history, loss name)."""
    import numpy as np

    import nn

    X, y = _dataset(dataset, samples, seed)
    classes = len(np.unique(y))
    loss = "softmax_cross_entropy" if classes > 2 else "bce_with_logits"
    model = nn.MLP(2, [*hidden, classes if classes > 2 else 1], activation=activation, seed=seed)
    history = nn.fit(model, X, y, loss=loss, optimizer=nn.Adam(model.parameters(), lr=lr), epochs=epochs,
                     progress=progress, seed=seed)
    return model, X, y, history, loss


def _save_plots(model, X, y, history, loss, out: Path) -> list:
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only; no window
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed, so no plots were made: pip install 'gradflow[plots]'", file=sys.stderr)
        return []
    from . import plots

    saved = []
    for name, fig in (
        ("decision_boundary.png", plots.plot_decision_boundary(model, X, y, loss=loss)),
        ("loss_curve.png", plots.plot_history(history)),
    ):
        fig.savefig(out / name, dpi=110)
        plt.close(fig)
        saved.append(out / name)
    return saved


def _within(option, value, least, most):
    if not least <= value <= most:
        raise UsageError(f"{option} must be from {least:,} to {most:,}, got {value:,}")


def _check_train_args(args):
    _within("--epochs", args.epochs, 1, MAX_EPOCHS)
    if not 0 < args.lr <= MAX_LR:  # Adam moves each parameter by about lr per step; more only diverges
        raise UsageError(f"--lr must be a number > 0 and at most {MAX_LR:g} (Adam's step size), got {args.lr:g}")
    if args.samples is not None:
        _within("--samples", args.samples, 4, MAX_SAMPLES)
        if args.dataset == "xor" and args.samples % 4:
            raise UsageError(f"--samples for xor must be a multiple of 4 (the four corners, repeated), got {args.samples}")
    _within("--seed", args.seed, 0, MAX_SEED)


def _output_dir(path) -> Path:
    out = Path(path)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UsageError(f"cannot use {str(out)!r} as the output folder: {e.strerror}") from None
    return out


def train_digits(*, hidden=(32,), epochs=150, lr=0.02, seed=0, progress=True):
    """MLP(64, [*hidden, 10]) on the digits, 20% held out; returns (model, X_test, y_test, predicted, history)."""
    import nn

    X, y = nn.digits()
    X_train, y_train, X_test, y_test = nn.train_val_split(X, y, val_fraction=DIGITS["test_fraction"], seed=seed)
    model = nn.MLP(64, [*hidden, 10], seed=seed)
    history = nn.fit(model, X_train, y_train, loss="softmax_cross_entropy",
                     optimizer=nn.Adam(model.parameters(), lr=lr), epochs=epochs, progress=progress, seed=seed)
    predicted = nn.predict(model, X_test).argmax(axis=1)
    return model, X_test, y_test, predicted, history


def run_digits(args) -> int:
    if args.samples is not None:
        raise UsageError("--samples does not apply to digits: the set has its 1,797 images")
    out = _output_dir(args.out)
    start = time.perf_counter()
    try:
        model, X_test, y_test, predicted, history = train_digits(
            hidden=_sizes(args.hidden), epochs=args.epochs, lr=args.lr, seed=args.seed, progress=not args.no_progress)
    except ImportError as e:
        print(e, file=sys.stderr)
        return 1
    took = time.perf_counter() - start
    print(f"digits: {model!r}, {history.epochs} epochs in {took:.1f} s ({1e3 * took / history.epochs:.0f} ms per epoch)")
    print(f"training accuracy {history.acc[-1]:.1%}, test accuracy {(predicted == y_test).mean():.1%} "
          f"on {len(y_test)} held-out images")
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed, so no plots were made: pip install 'gradflow[plots]'", file=sys.stderr)
        return 0
    from . import plots

    for name, fig in (("misclassified.png", plots.plot_misclassified(X_test, y_test, predicted)),
                      ("loss_curve.png", plots.plot_history(history))):
        fig.savefig(out / name, dpi=110)
        plt.close(fig)
        print(f"saved {out / name}")
    return 0


def run_train(args) -> int:
    digits = args.dataset == "digits"
    for key, toy in (("hidden", "16,16"), ("epochs", 30), ("lr", 0.1)):
        if getattr(args, key) is None:
            setattr(args, key, DIGITS[key] if digits else toy)
    _check_train_args(args)
    if digits:
        return run_digits(args)
    hidden = _sizes(args.hidden)
    out = _output_dir(args.out)
    start = time.perf_counter()
    try:
        model, X, y, history, loss = train(args.dataset, samples=args.samples, hidden=hidden, activation=args.activation,
                                           epochs=args.epochs, lr=args.lr, seed=args.seed, progress=not args.no_progress)
    except ArithmeticError as e:  # the loss overflowed: the optimizer's FloatingPointError says where
        raise UsageError(f"training diverged ({e}); try a smaller --lr") from None
    print(f"{args.dataset}: {model!r}, {len(y)} samples, {history.epochs} epochs in {time.perf_counter() - start:.1f} s")
    print(f"final loss {history.loss[-1]:.4f}, training accuracy {history.acc[-1]:.1%}")
    for path in _save_plots(model, X, y, history, loss, out):
        print(f"saved {path}")
    return 0


def _add_train(sub):
    p = sub.add_parser("train", help="train an MLP on a toy dataset and save its decision boundary and loss curve",
                       description="Train an MLP with Adam on one of nn's datasets, with a progress bar; print the final "
                       "accuracy; save the decision boundary and the loss curve. digits (scikit-learn's 8×8 "
                       "handwritten digits, the data extra) trains MLP(64, [32, 10]), prints the accuracy on 20%% held "
                       "out and saves a grid of the test images it got wrong.")
    p.add_argument("dataset", choices=DATASETS)
    p.add_argument("--samples", type=int, help="number of samples (default: the dataset's own)")
    p.add_argument("--hidden", help="hidden layer sizes (default 16,16; 32 for digits)")
    p.add_argument("--activation", default="relu", choices=["relu", "tanh", "sigmoid", "leaky_relu", "elu", "softplus"])
    p.add_argument("--epochs", type=int, help="epochs (default 30; 150 full-batch steps for digits)")
    p.add_argument("--lr", type=float, help="Adam's learning rate (default 0.1; 0.02 for digits)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("-o", "--out", default=OUT, metavar="DIR", help=f"output folder (default {OUT})")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(run=run_train)


# --- gradflow demo ----------------------------------------------------------------


def micrograd_demo(epochs=100, progress=True):
    """micrograd's demo: MLP(2, [16, 16, 1]) on 100 moons, hinge + 1e-4·L2, SGD 1.0 → 0.1.

    Returns (model, X, y, history, loss name, penalty).
    """
    import nn

    X, y = nn.moons(100, noise=0.1, seed=0)
    y = 2 * y - 1  # the hinge loss wants labels ±1
    model = nn.MLP(2, [16, 16, 1], seed=0)
    optimizer = nn.SGD(model.parameters(), lr=1.0)
    history = nn.fit(model, X, y, loss="hinge", optimizer=optimizer, epochs=epochs, l2=1e-4,
                     schedule=nn.LinearDecay(optimizer, end=0.1, steps=epochs), progress=progress)
    return model, X, y, history, "hinge", nn.penalty(l2=1e-4)


def pick_sample(model, X, y):
    """The sample the demo draws: the first whose hinge loss sends gradient back (margin y·score < 1).

    Returns (index, margin); when every sample is beyond the margin, the one
    nearest to it (its gradient is 0, and the demo says so).
    """
    margins = [float(t) * model(row)[0].data for row, t in zip(X.tolist(), y.tolist())]
    inside = [i for i, m in enumerate(margins) if m < 1]
    i = inside[0] if inside else min(range(len(margins)), key=margins.__getitem__)
    return i, margins[i]


def _save(drawing, path: Path) -> Path:
    try:
        return drawing.save(path)
    except GraphvizMissing as e:
        print(f"{e}; saved the DOT text instead", file=sys.stderr)
        return drawing.save(path.with_suffix(".dot"))


def run_demo(args) -> int:
    """Train micrograd's demo network on moons, then draw one sample's loss as it flows back."""
    import nn
    from engine import Value

    from .network import draw_network

    _within("--epochs", args.epochs, 1, MAX_EPOCHS)
    out = _output_dir(args.out)
    start = time.perf_counter()
    print(f"training MLP(2, [16, 16, 1]) on 100 moons samples: hinge loss + 1e-4·L2, SGD 1.0 → 0.1, {args.epochs} steps")
    model, X, y, history, loss, reg = micrograd_demo(args.epochs, progress=not args.no_progress)
    # The history holds the data loss alone; micrograd's demo prints it with the penalty, so say both.
    print(f"final loss {history.loss[-1]:.4g} (hinge) + {reg(model).data:.4g} (L2 penalty), "
          f"training accuracy {history.acc[-1]:.1%} ({1e3 * (time.perf_counter() - start):.0f} ms)")
    saved = _save_plots(model, X, y, history, loss, out)

    # A sample inside the margin: the hinge is active, so gradient flows back through the net.
    # Training ends with every training sample beyond it, so the search goes on in fresh ones.
    i, margin = pick_sample(model, X, y)
    which = f"training sample {i}"
    if margin >= 1:
        X, y = nn.moons(200, noise=0.1, seed=1)
        y = 2 * y - 1
        i, margin = pick_sample(model, X, y)
        which = f"unseen sample {i} (every training sample is beyond the margin)"
    x, t = X[i].tolist(), int(y[i])
    where = "misclassified" if margin <= 0 else "inside the margin" if margin < 1 else "beyond the margin: its hinge loss and every gradient are 0"
    print(f"{which}: x = ({x[0]:.2f}, {x[1]:.2f}), label {t:+d}, margin y·score = {margin:.3f} ({where})")
    about = f"{which.split(' (')[0]}, x = ({x[0]:.2f}, {x[1]:.2f}), label {t:+d}, {where}"
    l2 = "data loss only: the L2 penalty (1e-4·Σw², adding 2e-4·w to each ∂/∂w) is left out"
    network = draw_network(model, x, target=t, loss="hinge", nodes="delta", title=f"{about}; {l2}")
    saved.append(_save(network, out / "network.svg"))

    # The same data loss built eagerly, layer by layer, keeping each neuron's output.
    acts, layers = [Value(v, f"x{k + 1}") for k, v in enumerate(x)], []
    for layer in model.layers:
        acts = [n._forward(acts) for n in layer.neurons]
        layers.append(acts)
    data_loss = nn.get_loss(loss)([acts], [t])
    data_loss.label = "loss"
    model.zero_grad()
    data_loss.backward()
    graph = draw(data_loss, color_by_grad=True, collapse="neuron", title=f"the computational graph of the loss, one box per neuron ({about}; {l2})")
    saved.append(_save(graph, out / "graph.svg"))

    # One neuron of the first layer, the one the largest gradient reaches, drawn node by node.
    k = max(range(len(layers[0])), key=lambda j: abs(layers[0][j].grad))
    neuron, upstream = model.layers[0].neurons[k], layers[0][k].grad
    for p in neuron.parameters():
        p.zero_grad()
    a = neuron([Value(v, f"x{j + 1}") for j, v in enumerate(x)])
    a.label = f"layer1.neuron{k + 1}"
    a.backward(upstream)
    one = draw(a, title=f"layer1.neuron{k + 1}: ∂loss/∂a = {number(upstream)} arrives from the layers above ({about})")
    saved.append(_save(one, out / "neuron.svg"))

    print(f"the network view: {network.note or 'every edge drawn'}")
    print(f"the computational graph: {graph.note or f'{graph.nodes} nodes'}")
    print(f"done in {time.perf_counter() - start:.1f} s; open these files:")
    for path in saved:
        print(f"  {path}")
    return 0


def _add_demo(sub):
    p = sub.add_parser("demo", help="train an MLP on moons; save its decision boundary, loss curve and a drawn graph",
                       description="Train micrograd's demo network MLP(2, [16, 16, 1]) on the moons dataset (hinge "
                       "loss + 1e-4·L2, SGD with the learning rate decayed from 1.0 to 0.1) and save the decision "
                       "boundary, the loss curve, and for one sample inside the margin: the network view of its "
                       "gradients, the computational graph of its loss and the graph of one neuron.")
    p.add_argument("-o", "--out", default=OUT, metavar="DIR", help=f"output folder (default {OUT})")
    p.add_argument("--epochs", type=int, default=100, help="training steps (default 100, as in micrograd)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(run=run_demo)


# --- the entry point --------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog="gradflow", description="Scalar autodiff for learning backpropagation.")
    p.add_argument("--version", action="version", version=f"gradflow {version()}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_demo(sub)
    _add_draw(sub)
    _add_train(sub)
    # Subcommands of other modules register themselves here.
    exercise.register(sub)  # gradflow check, grade, handout: viz/exercise/command.py
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


if __name__ == "__main__":
    sys.exit(main())
