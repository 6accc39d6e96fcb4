"""viz.draw: deterministic DOT text, gates and splits, options, escaping, big graphs, no Graphviz."""

import base64
import re
import xml.etree.ElementTree as ET

import pytest

from engine import OPS, Value
from viz import draw
from nn import MLP
from viz.draw import FALLBACK_CHARS, GraphvizMissing, SHADE_ZERO, groups, number, render, svg_size, text


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
    src = draw(y, legend=True).source  # y's grad is the latest pass's: 3
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
    src = draw(b, legend=True).source
    assert "n0s [" in src and "n0 -> n0s" in src
    # Both uses go from the split to the same gate with the same numbers: one edge, ×2.
    edge = [line for line in src.splitlines() if "n0s -> n1" in line]
    assert len(edge) == 1 and "×2, each:" in edge[0] and "1 × 3 = 3" in edge[0]
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
    src = draw(y, highlight={w: "dy/dw: you wrote 3, correct 2"}, legend=True).source
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
    src = draw(y, color_by_grad=True, legend=True).source
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
    bundle, shown = d._repr_mimebundle_()
    # SVG, and a PNG of it for an untrusted notebook (JupyterLab never renders untrusted SVG or HTML's
    # inline SVG), shown at the SVG's size; no HTML, which JupyterLab would prefer and sanitize.
    assert {"image/svg+xml", "image/png", "text/plain"} == set(bundle)
    assert base64.b64decode(bundle["image/png"])[:4] == b"\x89PNG"
    w, h = svg_size(d.svg())
    assert shown["image/png"] == {"width": round(w * 4 / 3), "height": round(h * 4 / 3)}
    with pytest.raises(ValueError, match="extension must be one of"):
        d.save(tmp_path / "g.jpeg")


def test_without_dot_text_works_and_images_explain(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot on this PATH
    *_, y = perceptron()
    y.backward()
    d = draw(y)
    assert d.source.startswith("digraph gradflow {")
    bundle, _ = d._repr_mimebundle_()
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


# --- no blow-ups: dense multi-edges, huge fallbacks ---------------------------------


def test_one_value_summed_many_times_caps_dots_effort_by_edges(dot):
    # x read by each of 80 sums: 81 nodes (under the 100-node cap) but 161 edges; dot at full
    # effort took over 30 s on it, capped it takes about one.
    x = Value(1.5, "x")
    s = x
    for _ in range(80):
        s = s + x
    s.backward()
    d = draw(s, legend=False)
    assert d.note == "" and "nslimit" in d.source  # every node drawn, the search capped
    assert "grad 81 = sum of 81 branches" in d.source
    assert d.svg().count('class="node"') == 81 + 1  # and the split point


def test_parallel_edges_are_drawn_once_with_their_count():
    x = Value(2.0, "x")
    y = x + x
    y.backward()
    src = draw(y).source
    edge = [line for line in src.splitlines() if " -> n1" in line]
    assert len(edge) == 1 and "×2, each:" in edge[0]


def test_box_edges_carry_their_count():
    model = MLP(2, [2, 1], seed=0)
    out = model([1.0, 2.0])[0]
    out.backward()
    src = draw(out, collapse="layer").source
    # x1 is read by both neurons of layer1 (2 products), so x1 -> the layer1 box is one edge, ×2.
    assert re.search(r"n\d+ -> g0 \[xlabel=<.*×2", src)


def test_the_text_fallback_of_a_huge_graph_is_cut_to_a_notebook_safe_size(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot: the notebook gets the DOT text
    x = Value(1.0, "x")
    s = x
    for _ in range(3000):
        s = s * 1.0001 + x
    s.backward()
    d = draw(s, collapse=False)
    assert len(d.source) > 1_000_000
    bundle, _ = d._repr_mimebundle_()
    assert len(bundle["text/plain"]) < FALLBACK_CHARS + 2_000 and len(bundle["text/html"]) < 2 * FALLBACK_CHARS + 2_000
    assert "more characters of DOT text not shown" in bundle["text/plain"]


# --- fit to the page -------------------------------------------------------------------


def test_inline_drawings_scale_to_the_width_never_above_natural_size(dot):
    *_, y = perceptron()
    y.backward()
    d = draw(y)
    natural = d.svg()
    w, h = svg_size(natural)
    bundle, shown = d._repr_mimebundle_()
    # Natural size (an <img> in JupyterLab needs a size of its own), scaled down to the width by CSS.
    assert f'<svg width="{w:g}pt" height="{h:g}pt" style="max-width:100%;height:auto"' in bundle["image/svg+xml"]
    assert ET.fromstring(bundle["image/svg+xml"].split("?>", 1)[1].split(">", 1)[1]) is not None  # still valid XML
    natural_bundle, unconfined = draw(y, fit=False)._repr_mimebundle_()
    assert natural_bundle["image/svg+xml"] == natural
    assert unconfined["image/png"]["unconfined"] and unconfined["image/svg+xml"] == {"unconfined": True}


def test_small_drawings_get_a_one_line_legend_large_ones_the_full_legend():
    *_, y = perceptron()
    y.backward()
    assert "cluster_legend" not in draw(y).source and "= forward value" in draw(y).source
    assert "cluster_legend" in draw(y, legend=True).source
    assert "forward value" not in draw(y, legend=False).source
    model = MLP(2, [8, 1], seed=0)
    out = model([1.0, 2.0])[0]
    assert "cluster_legend" in draw(out).source  # more than 40 nodes


# --- collapsed networks --------------------------------------------------------------------


def demo_loss():
    model = MLP(2, [16, 16, 1], seed=0)
    loss = (1 - model([0.5, -0.3])[0]).relu() + 1e-4 * sum((p * p for p in model.parameters()), Value(0.0))
    loss.backward()
    return loss


def boxes(src):
    return re.findall(r"^  (g\d+) \[.*?<B>([^<]*)</B>(.*)\]$", src, re.M)


def test_neuron_boxes_in_layer_order_with_the_same_rows():
    src = draw(demo_loss(), collapse="neuron").source
    names = [name for _, name, _ in boxes(src)]
    layer1 = [n for n in names if n.startswith("layer1.")]
    assert layer1 == [f"layer1.neuron{k}" for k in range(1, 17)]  # neuron2 before neuron10
    rows = {}
    for _, name, rest in boxes(src):
        if name.startswith("layer"):
            rows.setdefault(name.split(".")[0], set()).add((rest.count("<TR>"), re.search(r"(\d+) nodes", rest).group(1)))
    # Every neuron of a layer has the same rows and the same size: the L2 sum no longer joins neuron1.
    assert all(len(r) == 1 for r in rows.values()), rows
    assert all("out grad" in rest for _, name, rest in boxes(src) if name.startswith("layer"))


def test_fully_connected_layers_are_one_bundled_edge(dot):
    d = draw(demo_loss(), collapse="neuron")
    assert "256 edges: each of the 16 neurons of layer1 feeds each of the 16 of layer2" in d.source.replace("<BR/>", "")
    layer1 = {g for g, name, _ in boxes(d.source) if name.startswith("layer1.")}
    layer2 = {g for g, name, _ in boxes(d.source) if name.startswith("layer2.")}
    pairs = re.findall(r"^  (g\d+) -> (g\d+)", d.source, re.M)
    assert len([p for p in pairs if p[0] in layer1 and p[1] in layer2]) == 1
    # The drawn order down the column is neuron1, neuron2, ..., neuron16.
    ys = {}
    for line in render(d.source, "svg").decode().split("<g id=")[1:]:
        m = re.search(r"<title>(g\d+)</title>.*?<text[^>]* y=\"([-\d.]+)\"", line, re.S)
        if m:
            ys[m.group(1)] = float(m.group(2))
    order = sorted((g for g in layer1), key=lambda g: ys[g])
    names = dict((g, name) for g, name, _ in boxes(d.source))
    assert [names[g] for g in order] == [f"layer1.neuron{k}" for k in range(1, 17)]


def test_a_big_drawings_png_is_drawn_smaller_to_keep_a_notebook_small(monkeypatch):
    # Over the budget at 1.5×, the PNG is drawn at 1× and then 0.75×; the shown size stays the SVG's.
    import base64

    from viz import render as R

    pytest.importorskip("shutil").which("dot") or pytest.skip("needs Graphviz's dot")
    x = Value(0.5, "x")
    y = x
    for _ in range(12):
        y = (y * x).tanh()
    y.backward()
    d = draw(y)
    sizes = {dpi: len(R.render(d.source, "png", dpi=dpi)) for dpi in R.PNG_DPIS}
    monkeypatch.setattr(R, "PNG_BUDGET", sizes[R.PNG_DPI])
    sharp, shown = d._repr_mimebundle_()
    monkeypatch.setattr(R, "PNG_BUDGET", sizes[R.PNG_DPI] - 1)
    smaller, shown_smaller = d._repr_mimebundle_()
    assert len(base64.b64decode(sharp["image/png"])) == sizes[R.PNG_DPI]
    assert len(base64.b64decode(smaller["image/png"])) == sizes[96] < sizes[R.PNG_DPI]
    assert shown_smaller == shown


def test_a_failed_save_leaves_the_file_that_was_there(tmp_path, monkeypatch):
    from pathlib import Path

    from viz.render import Drawing

    path = tmp_path / "g.dot"
    path.write_text("a student's file", encoding="utf-8")
    d = Drawing("digraph { a -> b }", nodes=2)

    def full_disk(self, data):
        Path.write_text(self, "half")  # part of the bytes reached the disk
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", full_disk)
    with pytest.raises(OSError, match="No space"):
        d.save(path)
    assert path.read_text(encoding="utf-8") == "a student's file"
    assert [p.name for p in tmp_path.iterdir()] == ["g.dot"]  # and no temporary file left behind
    monkeypatch.undo()
    with pytest.raises(FileExistsError):
        d.save(path, overwrite=False)
    assert d.save(path) == path and path.read_text(encoding="utf-8") == d.source  # replacing is asked for
