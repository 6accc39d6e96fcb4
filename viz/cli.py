"""The `gradflow` command line."""

from __future__ import annotations

import argparse
import sys

from engine import Value
from viz import exercise


def demo(args) -> int:
    """Backpropagate through micrograd's README expression and print every leaf's gradient."""
    a, b = Value(-4.0, "a"), Value(2.0, "b")
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    print(f"g = {g.data:.4f}   dg/da = {a.grad:.4f}   dg/db = {b.grad:.4f}   ({len(g.topo())} nodes)")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="gradflow", description="Scalar autodiff for learning backpropagation.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help="run the demo").set_defaults(run=demo)
    exercise.register(sub)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
