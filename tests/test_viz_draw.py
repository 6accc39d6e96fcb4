"""viz.draw: deterministic DOT text, gates and splits, options, escaping, big graphs, no Graphviz."""

import re
import xml.etree.ElementTree as ET

import pytest

from engine import OPS, Value
from viz import draw
from viz.draw import GraphvizMissing, SHADE_ZERO, groups, number, text


def perceptron():
    x = Value(2.0, "x")
    w = Value(1.0, "w", kind="param")
    b = Value(1.0, "b", kind="param")
    z = w * x + b
    z.label = "z"
    y = z.relu()
    y.label = "y"
    return x, w, b, z, y


def node_line(source, label_text):
    return next(line for line in source.splitlines() if label_text in line and line.lstrip().startswith("n"))


def svg_texts(svg: str) -> list[str]:
    root = ET.fromstring(svg)
    return [t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text")]


# --- the DOT text ------------------------------------------------------------------


def test_same_graph_gives_the_same_text():
    sources = []
    for _ in range(2):
        *_, y = perceptron()
        y.backward()
        sources.append(draw(y).source)
    assert sources[0] == sources[1]
    # Ids follow the topological order: leaves first, the root last.
    ids = re.findall(r"^  (n\d+) \[", sources[0], re.M)
    assert ids == [f"n{i}" for i in range(len(ids))]
    assert "ReLU" in node_line(sources[0], f"n{len(ids) - 1} [")


def test_not_computed_before_backward_then_numbers():
    x, w, b, z, y = perceptron()
    before = draw(y).source
    assert before.count("grad: not computed") == 6  # x, w, b, ×, +, ReLU
    assert "grad 0" not in before
    y.backward()
    after = draw(y).source
    assert "not computed" not in after
    assert "grad 2" in node_line(after, "<B>w</B>")  # dy/dw = x = 2
    assert "grad 1" in node_line(after, "<B>b</B>")


def test_leaf_kinds_are_styled_apart():
    x, w, b, z, y = perceptron()
    c = y * 7.0
    src = draw(c).source
    assert 'peripheries="2"' in node_line(src, "<B>w</B>")  # parameters: double border
    assert "peripheries" not in node_line(src, ">x<")
    assert "dashed" in node_line(src, "data 7<")  # the constant 7


def test_gates_show_the_op_tables_symbol():
    x, w, b, z, y = perceptron()
    src = draw(y).source
    for op in ("mul", "add", "relu"):
        assert f"<B>{text(OPS[op].symbol)}</B>" in src


def test_edge_labels_show_local_derivative_and_contribution():
    x, w, b, z, y = perceptron()
    (y * 3.0).backward()
    src = draw(y).source  # y's grad is the latest pass's: 3
    # z = w*x + b, y = relu(z): the edge w -> (×) carries local x = 2 and 3 × 2 = 6.
    edge = next(line for line in src.splitlines() if " -> " in line and "local 2" in line)
    assert "3 × 2 = 6" in edge
    assert "edge: upstream grad × local = contribution" in src


def test_local_derivatives_come_from_the_op_table():
    a, b = Value(0.3, "a"), Value(-1.7, "b")
    y = a.max(b).sigmoid() / b
    y.backward()
    src = draw(y, legend=False).source
    for node in y.topo():
        if not node.op:
            continue
        local = OPS[node.op].d(*[i.data for i in node.inputs], node.data, node.arg)
        for d in local:
            assert f"local {number(d)}" in src


def test_a_value_used_twice_is_a_split_gate_whose_grad_is_the_sum():
    a = Value(3.0, "a")
    b = a * a
    b.backward()
    src = draw(b).source
    assert "n0s [" in src and "n0 -> n0s" in src
    assert src.count("n0s -> n1") == 2  # one branch per use
    assert "grad 6 = 3 + 3" in src
    assert "split adds" in src  # the legend reads the gate rule from the op table


def test_fan_out_sum_shows_every_branch():
    a = Value(1.0, "a")
    y = a * 2 + a * 3 + a * 5
    y.backward()
    assert "grad 10 = 2 + 3 + 5" in draw(y).source


def test_explicit_split_branches_are_not_split_again():
    x = Value(3.0, "x")
    p, q = x.split()
    y = p * 2 + q * 5
    y.backward()
    src = draw(y).source
    assert "n0s" not in src  # x's only readers are the explicit split gates
    assert "branch=0" in src and "branch=1" in src
    assert "grad 7 = 2 + 5" in src


def test_views():
    *_, y = perceptron()
    y.backward()
    nodes = lambda src: "\n".join(line for line in src.splitlines() if re.match(r"\s*n\d+", line))
    forward = nodes(draw(y, view="forward").source)
    backward = nodes(draw(y, view="backward").source)
    assert "data 3" in forward and "grad " not in forward and "local" not in forward
    assert "grad 1" in backward and "data " not in backward


def test_rankdir_and_bad_options():
    *_, y = perceptron()
    assert 'rankdir="TB"' in draw(y, rankdir="TB").source
    with pytest.raises(ValueError, match="view must be one of"):
        draw(y, view="sideways")
    with pytest.raises(ValueError, match="rankdir must be one of"):
        draw(y, rankdir="up")
    with pytest.raises(ValueError, match="collapse must be"):
        draw(y, collapse="everything")
    with pytest.raises(TypeError, match="root must be a Value"):
        draw(3.0)


def test_highlight_with_notes():
    x, w, b, z, y = perceptron()
    y.backward()
    src = draw(y, highlight={w: "dy/dw: you wrote 3, correct 2"}).source
    line = node_line(src, "<B>w</B>")
    assert "penwidth" in line and "you wrote 3, correct 2" in line
    assert "highlighted" in src
    assert "penwidth" in node_line(draw(y, highlight=[z]).source, ">z<")
    with pytest.raises(ValueError, match="not part of the graph"):
        draw(y, highlight=[Value(1.0)])
    with pytest.raises(TypeError, match="highlight"):
        draw(y, highlight=5)


def test_color_by_grad_shows_vanishing_and_blocked_gradients():
    x = Value(0.5, "x")
    h = x
    for _ in range(12):
        h = h.sigmoid()  # each σ' ≤ 1/4: the gradient at x is tiny
    dead = Value(-1.0, "d").relu()
    y = h + dead
    y.backward()
    src = draw(y, color_by_grad=True).source
    fills = dict(re.findall(r"^  (n\d+) \[.*?fillcolor=\"(#[0-9a-f]{6})\"", src, re.M))
    root = max(fills, key=lambda n: int(n[1:]))
    assert fills["n0"] != fills[root]  # x is paler than the output
    assert SHADE_ZERO in src  # the dead ReLU's input has grad exactly 0
    assert "vanishing" in src


# --- escaping ---------------------------------------------------------------------

NASTY = [
    "a<b>c",
    "x | y",
    "{curly}",
    'say "hi"',
    "Tom & Jerry",
    "back\\slash \\N \\G",
    "two\nlines",
    "ünïcødé ∂L/∂w σ 😀",
    "</TD></TR></TABLE>",
    "&amp; is not &",
    "tab\there",
    "bell\x07",
    "w" * 300,
]


def test_escape_keeps_text_and_breaks_nothing():
    assert text("<>&\"'") == "&lt;&gt;&amp;&quot;&#x27;"
    assert text("a\\b") == "a\\\\b"
    assert text("a\nb") == "a<BR/>b"
    assert text("\x07") == "\\\\x07"  # shown as \x07 once dot has read it


def test_nasty_names_render_with_dot_and_survive(dot):
    leaves = [Value(float(i), name, kind="param" if i % 2 else "input") for i, name in enumerate(NASTY)]
    total = leaves[0]
    for v in leaves[1:]:
        total = total + v
    total.label = "total <&> \"|{}\\"
    total.backward()
    d = draw(total, highlight={leaves[3]: 'note with <html> & "quotes"'}, title="a | title {with} <stuff>")
    texts = svg_texts(d.svg())
    joined = "".join(texts).replace("\xa0", " ")  # dot writes runs of spaces as no-break spaces
    for name in NASTY + [total.label, 'note with <html> & "quotes"', "a | title {with} <stuff>"]:
        expected = name.replace("\t", "    ").replace("\x07", "\\x07")
        for line in expected.split("\n"):
            assert line in joined, line


# --- big graphs -------------------------------------------------------------------


def hand_mlp(sizes=(2, 16, 16, 1)):
    """A graph shaped like nn's MLP, built by hand with nn's parameter names."""
    xs = [Value(0.1 * (i + 1), f"x{i + 1}") for i in range(sizes[0])]
    for k, (nin, nout) in enumerate(zip(sizes, sizes[1:]), start=1):
        outs = []
        for j in range(1, nout + 1):
            b = Value(0.01 * j, f"layer{k}.neuron{j}.b", kind="param")
            acc = b
            for i in range(1, nin + 1):
                w = Value(((i * 7 + j * 3) % 11 - 5) / 5, f"layer{k}.neuron{j}.w{i}", kind="param")
                acc = acc + w * xs[i - 1]
            outs.append(acc.relu() if k < len(sizes) - 1 else acc)
        xs = outs
    loss = (1 + -1.0 * xs[0]).relu()
    loss.label = "loss"
    return loss


def test_groups_follow_parameter_names():
    loss = hand_mlp((2, 3, 1))
    owner = groups(loss.topo())
    assert set(owner.values()) == {f"layer1.neuron{j}" for j in (1, 2, 3)} | {"layer2.neuron1"}
    assert loss not in owner


def test_small_named_graph_is_drawn_in_clusters():
    loss = hand_mlp((2, 3, 1))
    src = draw(loss).source
    assert "subgraph cluster_0 {" in src and "layer1.neuron2" in src
    assert "cluster" not in draw(loss, group=False).source.replace("cluster_legend", "")


def test_big_graph_collapses_by_default_and_says_so(dot):
    loss = hand_mlp()
    loss.backward()
    n = len(loss.topo())
    assert n > 900
    d = draw(loss)
    assert f"{n:,} nodes: drawn as" in d.source and "one per neuron" in d.source
    assert "collapse=False" in d.source and d.note
    assert d.source.count("layer2.neuron") >= 16
    assert "<svg" in d.svg()
    layers = draw(loss, collapse="layer").source
    assert "one per layer" in layers and "layer2.neuron" not in layers
    full = draw(loss, collapse=False)
    assert full.note == "" and len(re.findall(r"^\s*n\d+ \[", full.source, re.M)) == n


def test_the_mlp_demo_graph_collapses_and_renders(dot):
    from nn import MLP, l2_penalty

    model = MLP(2, [16, 16, 1], seed=0)
    loss = (1 + -1.0 * model([0.5, -1.0])[0]).relu() + 1e-4 * l2_penalty(model)
    loss.backward()
    assert len(loss.topo()) > 1500
    d = draw(loss)
    assert "one per neuron" in d.source and "chain" in d.source  # the L2 sum folds into one box
    assert "<svg" in d.svg()


def test_highlight_inside_a_collapsed_box_marks_the_box():
    loss = hand_mlp()
    w = next(v for v in loss.topo() if v.label == "layer2.neuron5.w3")
    src = draw(loss, highlight={w: "look here"}).source
    box = next(line for line in src.splitlines() if "<B>layer2.neuron5</B>" in line)
    assert "look here" in box and "penwidth" in box


def test_big_unnamed_graph_keeps_the_nodes_near_the_output():
    x = Value(1.0, "x")
    h = x
    for i in range(600):
        h = h * 1.001 + 0.5
    d = draw(h, max_nodes=50)
    assert "nearest the output are drawn" in d.source
    assert "earlier nodes" in d.source
    assert len(re.findall(r"^  n\d+ \[", d.source, re.M)) == 49


def test_a_value_read_along_a_long_chain_renders_within_dots_timeout(dot):
    # x read by each of 1,000 steps: with dot's default layout search this 400-node drawing
    # ran past the 30 s timeout; the capped search draws it in seconds.
    x = Value(1.0, "x")
    s = x * 1.0
    for _ in range(1000):
        s = s * 1.0001 + x
    s.backward()
    d = draw(s)
    assert "nearest the output are drawn" in d.note
    assert "nslimit" in d.source and "nslimit" not in draw(x * 2.0).source
    assert "<svg" in d.svg()


# --- saving and Graphviz being missing ------------------------------------------


def test_save_by_extension(dot, tmp_path):
    *_, y = perceptron()
    y.backward()
    d = draw(y)
    assert d.save(tmp_path / "g.svg").read_text().lstrip().startswith("<?xml")
    assert d.save(tmp_path / "g.png").read_bytes()[:4] == b"\x89PNG"
    assert d.save(tmp_path / "g.pdf").read_bytes()[:4] == b"%PDF"
    assert d.save(tmp_path / "g.dot").read_text() == d.source
    assert "image/svg+xml" in d._repr_mimebundle_()
    with pytest.raises(ValueError, match="extension must be one of"):
        d.save(tmp_path / "g.jpeg")


def test_without_dot_text_works_and_images_explain(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot on this PATH
    *_, y = perceptron()
    y.backward()
    d = draw(y)
    assert d.source.startswith("digraph gradflow {")
    bundle = d._repr_mimebundle_()
    assert "image/svg+xml" not in bundle
    assert "apt-get install graphviz" in bundle["text/plain"] and d.source in bundle["text/plain"]
    assert d._repr_svg_() is None
    with pytest.raises(GraphvizMissing, match="apt-get install graphviz"):
        d.save(tmp_path / "g.svg")
    assert d.save(tmp_path / "g.dot").exists()


def test_collapse_asked_for_without_parameter_names_folds_long_chains():
    x = Value(1.0, "x")
    terms = [x * float(i) for i in range(1, 30)]
    total = terms[0]
    for t in terms[1:]:
        total = total + t
    d = draw(total, collapse="neuron")
    assert "no parameter names like layer1.neuron3.w2" in d.note
    assert "+ chain 1" in d.source
