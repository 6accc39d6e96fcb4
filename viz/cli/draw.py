"""`gradflow draw`: parse an expression, run backward, print every node's value and gradient, save the drawing."""

from __future__ import annotations

import math
from pathlib import Path

from ..options import FORMATS, FRAME_FORMATS, RANKDIRS, VIEWS
from ..terminal import columns
from .common import MAX_STEPS, UsageError, exists, new_file

__all__ = ["add_draw", "run_draw"]


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

    from ..draw import draw
    from ..labels import describe, number
    from ..steps import steps

    values = dict(_assignment(a) for a in args.set)
    output = args.output and new_file("-o", _extension("-o", args.output, FORMATS + ("gv",)))
    frames = args.steps and new_file("--steps", _extension("--steps", args.steps, FRAME_FORMATS))
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
    try:
        if output:
            draw(root, **options).save(output, overwrite=False)
            print(f"drawing saved to {output}")
        if frames:
            paths = steps(root, **options).save(frames, overwrite=False)
            print(f"backward steps saved to {paths[0]}" + (f" ... {paths[-1]}" if len(paths) > 1 else ""))
    except FileExistsError as e:  # a frame's own name (steps-03.svg), or a file that appeared meanwhile
        raise UsageError(exists(e.filename)) from None
    return 0


def add_draw(sub):
    p = sub.add_parser(
        "draw",
        help="parse an expression, run backward, print values and gradients, save the drawing",
        description="Parse a small expression (numbers, names, + - * / **, parentheses and the engine's functions; "
        "never eval), run forward and backward, print every node's value and gradient, and save the drawing.",
    )
    p.add_argument("expression", help='for example "relu(w*x + b)"; one that starts with "-" goes after --, as in: gradflow draw -- "-x*y"')
    p.add_argument("--set", action="append", default=[], metavar="NAME=NUMBER", help="the value of a name (repeat for each)")
    p.add_argument("--param", action="append", default=[], metavar="NAME", help="draw this input as a parameter")
    p.add_argument("-o", "--output", metavar="FILE", help="save the drawing: .svg, .png, .pdf or .dot (a new file: "
                   "one already there is left alone)")
    p.add_argument("--steps", metavar="FILE", help="save the backward pass step by step: .gif, .html, or .svg/.png per "
                   "frame (new files only)")
    p.add_argument("--view", choices=VIEWS, default="both",
                   help="what each node shows: forward values, backward gradients, or both (default)")
    p.add_argument("--rankdir", choices=RANKDIRS, default="LR",
                   help="which way the graph flows: LR left to right (default), TB top to bottom, RL, BT")
    p.add_argument("--color-by-grad", action="store_true", help="shade nodes by |grad| (vanishing gradients look pale)")
    p.set_defaults(run=run_draw)


