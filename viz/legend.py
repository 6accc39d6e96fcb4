"""The legend of a drawing: one row for each thing the drawing shows, and nothing it does not.

``shown`` says what the drawing used: the node kinds drawn and whether it has
splits, boxes, zero gradients, data, gradients, edge labels, shading,
highlights or a node in focus. A small drawing gets ``legend_line``, one muted line
under its caption; a larger one ``legend_box``, a table in a box of its own.

>>> shown = Shown(kinds={"input", "op"}, data=True, grad=True)
>>> "forward value" in legend_line("y", shown), "∂y/∂node" in legend_line("y", shown)
(True, True)
>>> legend_box("y", shown)[0]
'  subgraph cluster_legend {'
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engine import OPS

from .labels import (BOX_FILL, CONST_FILL, DATA_COLOR, FOCUS, GATE_FILL, GRAD_COLOR, HIGHLIGHT, INPUT_FILL, MUTED,
                     PARAM_FILL, SHADE_DECADES, SHADE_HIGH, SHADE_LOW, SHADE_ZERO, font, text)

__all__ = ["Shown", "legend_line", "legend_box"]


@dataclass
class Shown:
    """What a drawing used, filled in while it is built; the legend explains exactly these."""

    kinds: set = field(default_factory=set)  # node kinds drawn: "op", "param", "input", "const"
    split: bool = False  # a split gate (a value read in several places)
    box: bool = False  # a folded neuron, layer or chain
    zero: bool = False  # a node shaded as exactly 0 gradient
    data: bool = False  # forward values
    grad: bool = False  # gradients
    edges: bool = False  # edge labels: local derivatives (and contributions with grad)
    shade: bool = False  # fills shaded by |grad|
    highlight: bool = False  # highlighted nodes
    focus: bool = False  # a node being processed


def legend_line(root_name: str, shown: Shown) -> str:
    """The compact legend of a small drawing: one muted line under the caption."""
    parts = []
    if shown.data:
        parts.append(font("data", DATA_COLOR) + font(text(" = forward value"), MUTED))
    if shown.grad:
        parts.append(font("grad", GRAD_COLOR) + font(text(f" = ∂{root_name}/∂node"), MUTED))
    if shown.edges:
        parts.append(font(text("edges: local derivative, then upstream grad × local", 60), MUTED))
    return font(" · ", MUTED).join(parts)


def legend_box(root_name: str, shown: Shown) -> list:
    """The full legend as DOT lines: a box of its own with a swatch or a word for each thing shown."""
    rows = []

    def swatch(fill, color, style, what):
        rows.append(
            f'<TR><TD BGCOLOR="{fill}" BORDER="1" COLOR="{color}" STYLE="{style}" WIDTH="18"> </TD>'
            f'<TD ALIGN="LEFT" BALIGN="LEFT">{text(what, 80)}</TD></TR>'
        )

    def row(left, what):
        rows.append(f'<TR><TD ALIGN="LEFT">{left}</TD><TD ALIGN="LEFT" BALIGN="LEFT">{text(what, 80)}</TD></TR>')

    if shown.data:
        row(font("data", DATA_COLOR), "forward value")
    if shown.grad:
        row(font("grad", GRAD_COLOR), f"∂{root_name}/∂node, from the backward pass")
    kinds = shown.kinds
    if "param" in kinds:
        swatch(PARAM_FILL, "#1e88e5", "solid", "parameter (learned; double border)")
    if "input" in kinds:
        swatch(INPUT_FILL, "#424242", "solid", "input")
    if "const" in kinds:
        swatch(CONST_FILL, "#9e9e9e", "dashed", "constant")
    if "op" in kinds:
        swatch(GATE_FILL, "#9e9e9e", "solid", "gate: the op's symbol, then its output")
    if shown.split:
        row(text(OPS["split"].symbol), "value used in several places: " + OPS["split"].gate)
    if shown.box:
        swatch(BOX_FILL, "#8e24aa", "solid", "a neuron or layer folded into one box")
    if shown.edges:
        row(font("local", MUTED), "edge: local derivative ∂out/∂in")
        if shown.grad:
            row(font("g × local", GRAD_COLOR), "edge: upstream grad × local = contribution")
    if shown.shade:
        lo = "#" + "".join(f"{c:02x}" for c in SHADE_LOW)
        hi = "#" + "".join(f"{c:02x}" for c in SHADE_HIGH)
        swatch(hi, "#9e9e9e", "solid", "largest |grad| in the graph")
        swatch(lo, "#9e9e9e", "solid", f"|grad| ≤ 1e-{SHADE_DECADES} × largest (vanishing)")
        if shown.zero:
            swatch(SHADE_ZERO, "#9e9e9e", "solid", "grad exactly 0 (blocked)")
    if shown.highlight:
        swatch("#ffffff", HIGHLIGHT, "solid", "highlighted (orange border)")
    if shown.focus:
        swatch("#ffffff", FOCUS, "solid", "node being processed (blue border)")
    grid = f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="2" CELLPADDING="2">{"".join(rows)}</TABLE>>'
    return ["  subgraph cluster_legend {",
            '    label=<<B>legend</B>> style="rounded" color="#bdbdbd" fontsize="10"',
            f"    legend [shape=plain label={grid}]",
            "  }"]
