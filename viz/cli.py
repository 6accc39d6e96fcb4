"""The `gradflow` command line, every subcommand: draw an expression, train on a toy dataset, run the
demo; the grader's check, grade and handout; and check-engine for a Value class a student wrote.

One parser, one ``main``. Bad arguments and bad expressions print one line and
exit with status 2; a failure while doing the work (say Graphviz missing for an
image, a file that cannot be written) exits 1. The grader's own statuses are
said at its subcommands. Each subcommand imports its work when it runs, so the
grader starts without the drawing code, nn or numpy.

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

from .options import FORMATS, FRAME_FORMATS, RANKDIRS, VIEWS
from .render import GraphvizMissing, RenderError
from .terminal import Parser, columns, one_line
from .training import DIGITS, micrograd_demo, pick_sample, train, train_digits

OUT = "gradflow-out"  # the default output folder (git-ignored)
DATASETS = ("moons", "circles", "spirals", "xor", "blobs", "pass_class", "digits")
MAX_STEPS = 300  # nodes of an expression drawn step by step (one image per node)
# Sizes the scalar engine trains in minutes, not days: refused above these, before any work.
MAX_SAMPLES, MAX_EPOCHS, MAX_PARAMETERS, MAX_LAYERS, MAX_LR = 100_000, 10_000, 20_000, 32, 10.0
MAX_SEED = 2**32 - 1
MAX_PRINT = 1_000_000  # characters the grader prints at most; a hostile sheet cannot flood a terminal or a log


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


class _Version(argparse.Action):
    # argparse's "version" action needs the text when the parser is built; this one reads it
    # only for --version, so the other subcommands start without importlib.metadata.
    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS,
                 help="show program's version number and exit"):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        sys.stdout.write(f"gradflow {version()}\n")
        parser.exit()


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


def run_draw(args) -> int:
    from engine.expr import ExprError, parse

    from .draw import draw
    from .labels import describe, number
    from .steps import steps

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
        rows.append((names[v], v.rule.symbol if v.op else v.kind, number(v.data), number(v.grad)))
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

    from .draw import draw
    from .labels import number
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
        acts = [n(acts) for n in layer.neurons]
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


# --- gradflow check, grade, handout: the exercise grader (viz/exercise) ---------------
# Exit status: 0 done (check: every answer right), 1 some answers wrong (check only),
# 2 an invalid sheet, key or argument.


def _add_check(sub):
    p = sub.add_parser(
        "check",
        help="grade the answers of an exercise sheet",
        description="Grade hand-derived values and gradients written in a TOML exercise sheet. "
                    "Exit status: 0 every answer right, 1 some wrong, 2 the sheet is invalid.",
    )
    p.add_argument("sheet", metavar="SHEET.toml", help="the exercise sheet")
    p.add_argument("--svg", metavar="OUT.svg", help="also save the graph with wrong answers highlighted "
                   "(one file per case: OUT-1.svg, ... when there are several)")
    p.add_argument("--json", action="store_true", help="print a machine-readable report")
    p.add_argument("--solve", action="store_true", help="print the full solution (every value and gradient) instead of grading")
    p.set_defaults(run=run_check)


def _add_grade(sub):
    g = sub.add_parser(
        "grade",
        help="grade a class's submissions against a teacher's key",
        description="Grade submissions (TOML files with student = \"ID\" and [answers], or filled-in handouts) "
                    "against a teacher's key, in one process. Each answer is judged on its own. Prints a summary with "
                    "item analysis; writes a gradebook CSV. Files are only ever written new: an existing one is never "
                    "replaced. Exit status: 0 every submission graded (wrong or invalid answers are not an error), "
                    "1 a roster line was refused, 2 the key, an argument or an output file is refused.",
    )
    g.add_argument("key", metavar="KEY.toml", help="the teacher's key: a sheet whose [answers] are the items to answer")
    g.add_argument("submissions", metavar="SUBMISSION", nargs="+", help="a submission file, or a folder of .toml files")
    g.add_argument("--csv", metavar="OUT.csv", help="write the gradebook: student, score, max_score, one column per item")
    g.add_argument("--json", action="store_true", help="print the grades and the item analysis as JSON instead of the summary")
    g.add_argument("--feedback", choices=("tutor", "exam"), help="print each student's feedback in this mode")
    g.add_argument("--feedback-dir", metavar="DIR", help="write one feedback file per submission (mode: --feedback, "
                   "default exam) and index.csv (student, file)")
    g.add_argument("--roster", metavar="FILE", help="the class list (as for handout --students): every id gets a row, "
                   "0 with \"no submission\" when none came; a submission not on it is flagged")
    g.add_argument("--items", metavar="OUT.csv", help="write the item analysis: per item the share right and the most "
                   "common wrong answers")
    g.add_argument("--gradescope", metavar="results.json", help="for one submission: write Gradescope's autograder "
                   "results (one test per item, exam feedback as its output)")
    g.set_defaults(run=run_grade)


def _add_handout(sub):
    h = sub.add_parser(
        "handout",
        help="write per-student exercise sheets from a teacher's key",
        description="Write one sheet per student (their inputs, the graph, the items to answer, how answers are "
                    "judged, no answers) as TOML and as a printable HTML page, and index.csv (student, file). Inputs "
                    "in the key's [vary] are drawn per student. Files are only ever written new. Exit status: 0 done, "
                    "1 some ids were refused (the others are written), 2 the key, the list or the folder is refused.",
    )
    h.add_argument("key", metavar="KEY.toml")
    h.add_argument("--students", metavar="FILE", help="one id per line, or a CSV with an id (or student) column; "
                   "without it, one blank sheet with the key's own inputs")
    h.add_argument("-o", "--out", metavar="DIR", required=True, help="the folder to write into")
    h.add_argument("--format", choices=("html", "md"), default="html", help="the printable page (default html)")
    h.set_defaults(run=run_handout)


def _say(command: str, message: str):
    print(f"gradflow {command}: {message}", file=sys.stderr)


def bounded(text: str) -> str:
    """At most MAX_PRINT characters, with a note when cut."""
    if len(text) <= MAX_PRINT:
        return text
    return text[:MAX_PRINT] + f"\n… (output truncated at {MAX_PRINT:,} characters of {len(text):,})"


def run_check(args) -> int:
    import json

    from .exercise.errors import SheetError
    from .exercise.grade import save_drawings
    from .exercise.sheet import load

    try:
        sheet = load(args.sheet)
    except SheetError as e:
        _say("check", str(e))
        if args.json:  # a grader reading stdout gets the reason too
            print(json.dumps({"ok": False, "error": str(e), "key": e.key or None, "line": e.line}, ensure_ascii=False))
        return 2
    if args.solve:
        solution = sheet.solve()
        print(bounded(solution.to_json() if args.json else solution.text()))
        drawers = [s.draw for s in sheet.solutions]
        status = 0
    else:
        report = sheet.check()
        if report.total == 0:
            _say("check", f"{sheet.source}: there are no answers to check; add an [answers] table "
                          "(\"y\" = 3, \"dy/dw\" = 2), or use --solve to see the solution")
            return 2
        print(bounded(report.to_json() if args.json else report.text()))
        drawers = [c.draw for c in report.cases]
        status = 0 if report.ok else 1
    if args.svg:
        try:
            for path in save_drawings(drawers, args.svg):
                print(f"saved {path}", file=sys.stderr if args.json else sys.stdout)
        except Exception as e:  # noqa: BLE001 - the grade stands; the drawing is extra
            _say("check", f"could not save the drawing: {e}")
    return status


def run_grade(args) -> int:
    from .exercise.bulk import grade_all

    return grade_all(args)


def run_handout(args) -> int:
    from .exercise.handout import write_handouts

    return write_handouts(args)


# --- gradflow check-engine: a student's own Value class (engine.student); exit status 0, 1 or 2 as for check


def _add_check_engine(sub):
    p = sub.add_parser("check-engine", help="check a Value class a student wrote (micrograd's interface)",
                       description="Check each op of a student's Value class against the op table, then graphs against "
                       "gradflow's backward, and explain the first failure. The file runs in a separate Python process, "
                       "each check within a time and a memory limit. Exit status: 0 every check passed, 1 some failed, "
                       "2 the file or the class is refused.")
    p.add_argument("target", metavar="FILE.py:ClassName", help="the student's file and class, e.g. my_value.py:Value")
    p.add_argument("--time-limit", type=float, default=2.0, metavar="SECONDS", help="per check (default 2)")
    p.add_argument("--memory-limit", type=float, default=512, metavar="MB", help="per check, beyond what Python uses (default 512)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(run=run_check_engine)


def run_check_engine(args) -> int:
    import json

    from engine.student.command import StudentFileError, check_file

    try:
        report = check_file(args.target, time_limit=args.time_limit, memory_limit=args.memory_limit)
    except StudentFileError as e:
        raise UsageError(str(e)) from None
    print(bounded(json.dumps(report.to_dict(), ensure_ascii=False) if args.json else str(report)))
    return 0 if report.ok else 1


# --- the entry point --------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog="gradflow", description="Scalar autodiff for learning backpropagation.")
    p.add_argument("--version", action=_Version)
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in (_add_demo, _add_draw, _add_train, _add_check, _add_grade, _add_handout, _add_check_engine):
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


if __name__ == "__main__":
    sys.exit(main())
