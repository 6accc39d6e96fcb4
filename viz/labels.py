"""How a drawing writes things: numbers, escaped label text, fonts, colours and DOT attributes;
and a node as an expression of its inputs (``describe``).

Every label of ``draw``, ``steps`` and ``draw_network`` is an HTML-like DOT
label built here, so escaping lives in one place.

>>> table([font(text("x < 1"), DATA_COLOR, bold=True)])
'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1"><TR><TD><FONT COLOR="#1b7a2f"><B>x &lt; 1</B></FONT></TD></TR></TABLE>>'
>>> attrs(shape="box", label=table(["a"]), color=None)
' [shape="box" label=<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1"><TR><TD>a</TD></TR></TABLE>>]'
"""

from __future__ import annotations

import html
import math
import textwrap

__all__ = ["text", "number", "font", "table", "attrs", "shade", "describe"]

# Colours: the CS231n circuit convention, forward values green, gradients red.
DATA_COLOR = "#1b7a2f"
GRAD_COLOR = "#c62828"
MUTED = "#757575"
HIGHLIGHT = "#ff6f00"
FOCUS = "#1565c0"
PARAM_FILL = "#e3f2fd"
INPUT_FILL = "#ffffff"
CONST_FILL = "#eeeeee"
GATE_FILL = "#fffde7"
BOX_FILL = "#f3e5f5"
# |grad| shading: pale (tiny) to strong (largest in the graph); exactly 0 grey.
SHADE_LOW, SHADE_HIGH, SHADE_ZERO = (0xFA, 0xFA, 0xFA), (0xFF, 0xA7, 0x26), "#bdbdbd"
SHADE_DECADES = 6
WRAP = 40  # characters per label line
NAME_WIDTH = 28  # characters of a node's description (describe)
MAX_LABEL = 1000  # characters of one label kept; the rest is summarised


def _visible(ch: str) -> str:
    # Control and other unprintable characters would break dot or vanish; show their code.
    if ch.isprintable():
        return ch
    return f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}"


def text(s, wrap: int = WRAP) -> str:
    """Any string as the inside of an HTML-like DOT label: escaped, newlines kept.

    Backslashes are doubled because dot expands ``\\N``, ``\\G``... even inside
    HTML labels; lines longer than ``wrap`` are broken.

    >>> text('a<b> & "c"\\nd\\\\N')
    'a&lt;b&gt; &amp; &quot;c&quot;<BR/>d\\\\\\\\N'
    """
    s = str(s)
    if len(s) > MAX_LABEL:
        s = s[:MAX_LABEL] + f"… ({len(s) - MAX_LABEL} more characters)"
    s = s.replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    ")
    lines = []
    for line in s.split("\n"):
        line = "".join(_visible(ch) for ch in line)
        # Break at spaces where possible; keeping the spaces means no character is lost.
        lines += _phrases(line, wrap)
    return "<BR/>".join(html.escape(line, quote=True).replace("\\", "\\\\") for line in lines)


_BREAKS = ("; ", ": ", ", ", " (", " · ")  # where a long line breaks best, best first


def _phrases(line: str, wrap: int) -> list:
    """``line`` in lines of at most ``wrap`` characters, broken between phrases: outside parentheses
    where it can, after "; ", then ": ", then ", ", or before " (", in the second half of a line;
    else at a space. No character is lost.

    >>> _phrases("unseen sample 20, x = (1.91, 0.57), label +1, inside the margin", 40)
    ['unseen sample 20, x = (1.91, 0.57), ', 'label +1, inside the margin']
    """
    out = []
    while len(line) > wrap:
        depth, depths = 0, []
        for ch in line[:wrap + 1]:
            depths.append(depth)
            depth += (ch == "(") - (ch == ")")
        cuts = {}  # (depth, rank) -> the rightmost cut
        for rank, sep in enumerate(_BREAKS):
            i = line.find(sep, wrap // 2)
            while 0 <= i and i + (1 if sep == " (" else len(sep)) <= wrap:
                cut = i + (1 if sep == " (" else len(sep))
                cuts[(depths[i], rank)] = cut
                i = line.find(sep, i + 1)
        if cuts:
            cut = cuts[min(cuts)]
        else:
            parts = textwrap.wrap(line, wrap, drop_whitespace=False, replace_whitespace=False)
            cut = len(parts[0]) if parts else len(line)
        out.append(line[:cut])
        line = line[cut:]
    return out + [line] if line or not out else out


def number(x: float, digits: int = 4) -> str:
    """A float as a short label: 4 significant digits by default.

    >>> number(2.0), number(-0.0), number(1/3), number(float("inf")), number(1e-9)
    ('2', '0', '0.3333', '∞', '1e-09')
    """
    if x != x:
        return "nan"
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    if x == 0:
        return "0"
    return f"{x:.{digits}g}"


def font(s: str, color: str, *, size: int | None = None, bold=False, italic=False) -> str:
    """``s`` (already escaped) in a colour, and optionally a size, bold or italic."""
    if bold:
        s = f"<B>{s}</B>"
    if italic:
        s = f"<I>{s}</I>"
    size = f' POINT-SIZE="{size}"' if size else ""
    return f'<FONT COLOR="{color}"{size}>{s}</FONT>'


def table(rows: list[str]) -> str:
    """An HTML-like DOT label: one row per string, no borders."""
    cells = "".join(f"<TR><TD>{r}</TD></TR>" for r in rows)
    return f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">{cells}</TABLE>>'


def attrs(**kw) -> str:
    """A DOT attribute list, leaving out None values.

    Values are either HTML labels (<...>) or plain tokens we control: only the
    latter are quoted.
    """
    parts = []
    for k, v in kw.items():
        if v is None:
            continue
        v = str(v)
        parts.append(f"{k}={v}" if v.startswith("<") else f'{k}="{v}"')
    return " [" + " ".join(parts) + "]"



def shade(g, top) -> str | None:
    """The fill for a gradient g: pale for tiny to strong at ``top`` (the largest |grad|) on a log scale,
    grey for exactly 0, None for no gradient.

    >>> shade(1.0, 1.0), shade(0.0, 1.0), shade(1e-9, 1.0), shade(None, 1.0)
    ('#ffa726', '#bdbdbd', '#fafafa', None)
    """
    if g is None:
        return None
    if g == 0:
        return SHADE_ZERO
    if g != g or math.isinf(g) or top == 0:
        t = 1.0
    else:
        t = min(1.0, max(0.0, 1.0 + math.log10(abs(g) / top) / SHADE_DECADES))
    rgb = (round(lo + (hi - lo) * t) for lo, hi in zip(SHADE_LOW, SHADE_HIGH))
    return "#" + "".join(f"{c:02x}" for c in rgb)


# --- a node as an expression ------------------------------------------------------------


def _additive(op) -> bool:
    # + and − in the table: both local derivatives are ±1 whatever the inputs.
    return op.arity == 2 and op.d(2.0, 3.0, 5.0, None) in ((1.0, 1.0), (1.0, -1.0))


PREFIX, ATOM = 2.5, math.inf  # how tightly a prefix symbol (−x, σx) and a name or call bind


def _precedence(op) -> float:
    # A one-character binary symbol: + − bind loosest, then × ÷, then ^.
    return 1 if _additive(op) else 3 if op.symbol == "^" else 2


def describe(order) -> dict:
    """A short text for each node (the command line's table): its label, else an expression built from its inputs.

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
            op = v.rule
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
