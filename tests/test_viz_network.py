"""viz.draw_network: columns of neurons, one edge per weight; colour = sign, width ∝ |w| or |∂loss/∂w|."""

import re

import pytest

import nn
from engine import Value
from viz import draw_network
from viz.draw import SHADE_ZERO
from viz.network import EDGE_BUDGET, MAX_WIDTH, NEGATIVE, POSITIVE


def edges(source):
    """(src, dst, attrs) of every weight edge (the dashed edges to the loss left out)."""
    found = re.findall(r"^  (\w+) -> (\w+) \[(.*)\]$", source, re.M)
    return [(s, d, a) for s, d, a in found if d != "loss"]


def attr(attrs, name):
    return re.search(rf'{name}="([^"]*)"', attrs).group(1)


def small():
    model = nn.MLP(2, [3, 1], activation="tanh", seed=0)
    return model, [0.5, -1.0]


def test_one_edge_per_weight_and_one_circle_per_neuron():
    model, x = small()
    src = draw_network(model, x).source
    assert len(edges(src)) == 2 * 3 + 3 * 1
    assert len(re.findall(r"^  (i\d+|n\d+_\d+) \[", src, re.M)) == 2 + 3 + 1
    assert "loss" not in src  # no target: no loss node, widths are |w|
    d = draw_network(model, x, target=0.3)
    assert len(re.findall(r"^  n2_0 -> loss", d.source, re.M)) == 1


def test_weights_colour_by_sign_and_width_by_size():
    model, x = small()
    src = draw_network(model, x, edges="weight").source
    weights = {(f"n1_{r}", i): w.data for r, n in enumerate(model.layers[0].neurons) for i, w in enumerate(n.w)}
    top = max(abs(w.data) for p in model.layers for n in p.neurons for w in n.w)
    for s, d, a in edges(src):
        if not d.startswith("n1_"):
            continue
        w = weights[(d, int(s[1:]))]
        assert attr(a, "color") == (POSITIVE if w > 0 else NEGATIVE)
        assert float(attr(a, "penwidth")) == pytest.approx(0.25 + (MAX_WIDTH - 0.25) * abs(w) / top, abs=0.01)


def test_grad_edges_are_the_losss_gradients_and_the_models_grads_are_kept():
    model, x = small()
    p0 = model.parameters()[0]
    p0.grad = 123.0  # whatever the user had there stays
    d = draw_network(model, x, target=1.0, loss="mse")
    assert p0.grad == 123.0 and p0.passes == 0
    # The same loss, built and differentiated by hand.
    model.zero_grad()
    out = model(x)
    nn.mse([out], [1.0]).backward()
    grads = {(f"n1_{r}", i): w.grad for r, n in enumerate(model.layers[0].neurons) for i, w in enumerate(n.w)}
    assert "∂L/∂w" in d.source  # numbers on a small net
    for (dst, i), g in grads.items():
        label = next(line for line in d.source.splitlines() if line.startswith(f"  e1_{dst[3:]}_{i} "))
        assert f"∂L/∂w {g:.3g}" in label
        edge = next(a for s, t, a in edges(d.source) if s == f"i{i}" and t == dst)
        assert attr(edge, "color") == (POSITIVE if g > 0 else NEGATIVE)


def test_delta_fill_is_grey_where_relu_blocks():
    layer = nn.Layer(2, 2, activation="relu", seed=0)
    out = nn.Layer(2, 1, activation="linear", seed=1)
    n1, n2 = layer.neurons
    n1.w[0].data, n1.w[1].data, n1.b.data = 1.0, 1.0, 0.0  # z = 2 > 0: passes gradient
    n2.w[0].data, n2.w[1].data, n2.b.data = -1.0, -1.0, 0.0  # z = -2: ReLU blocks, δ = 0
    src = draw_network([layer, out], [1.0, 1.0], target=0.0, nodes="delta").source
    fill = {name: attr(a, "fillcolor") for name, a in re.findall(r"^  (n1_\d) \[(.*)\]$", src, re.M)}
    assert fill["n1_1"] == SHADE_ZERO and fill["n1_0"] != SHADE_ZERO
    assert "δ 0<" in src.replace("δ -0<", "δ 0<")  # the blocked neuron says δ 0


def test_large_layers_drop_numbers_and_thin_edges_and_say_so(dot):
    model = nn.MLP(2, [16, 16, 1], seed=0)
    d = draw_network(model, [0.3, -0.2], target=1, loss="hinge")
    assert "∂L/∂w" not in d.source and "no numbers on layers over 10 neurons" in d.note
    assert len(edges(d.source)) == 2 * 16 + 16 * 16 + 16  # 256 per pair is still within the budget
    big = draw_network(nn.MLP(2, [64, 64, 1], seed=0), [0.3, -0.2], target=1, loss="hinge")
    pair = [e for e in edges(big.source) if e[0].startswith("n1_") and e[1].startswith("n2_")]
    assert len(pair) == EDGE_BUDGET and f"the {EDGE_BUDGET} largest" in big.note and "of 4,096 edges" in big.note
    svg = big.svg()
    assert svg.count('class="edge"') == 2 * 64 + EDGE_BUDGET + 64 + 1  # and the output's edge to the loss
    assert 'layout="neato"' in big.source and "!" in attr(big.source, "pos")  # pinned, not laid out by dot


def test_takes_a_perceptron_and_a_list_of_layers():
    p = nn.Perceptron(3, seed=0)
    src = draw_network(p, [1.0, 0.0, -1.0]).source
    assert len(edges(src)) == 3
    layers = nn.MLP(2, [2, 2], seed=0).layers
    assert len(edges(draw_network(layers, [1.0, 2.0]).source)) == 2 * 2 + 2 * 2


def test_deterministic():
    model, x = small()
    a = draw_network(model, x, target=1.0, nodes="delta").source
    b = draw_network(model, x, target=1.0, nodes="delta").source
    assert a == b


def test_a_sample_beyond_the_margin_is_said_to_send_no_gradient():
    model = nn.MLP(2, [3, 1], seed=0)
    score = model([1.0, 1.0])[0].data
    target = 1 if score > 0 else -1
    for n in model.layers[-1].neurons:  # push the score far beyond the margin
        n.b.data += 10.0 * target
    d = draw_network(model, [1.0, 1.0], target=target, loss="hinge")
    assert "sends no gradient back" in d.note


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda m: draw_network(m, [1.0]), "takes 2 inputs, x has 1"),
        (lambda m: draw_network(m, 1.0), "one sample"),
        (lambda m: draw_network(m, [1.0, float("nan")]), "finite number"),
        (lambda m: draw_network(m, [1.0, 2.0], edges="size"), "edges must be one of"),
        (lambda m: draw_network(m, [1.0, 2.0], nodes="delta"), "need a target"),
        (lambda m: draw_network("model", [1.0, 2.0]), "takes an MLP"),
        (lambda m: draw_network(m, [1.0, 2.0], target=3, loss="hinge"), "labels -1 or +1"),
    ],
)
def test_bad_arguments_say_what_is_wrong(call, message):
    with pytest.raises((ValueError, TypeError), match=re.escape(message)):
        call(nn.MLP(2, [3, 1], seed=0))


def test_the_title_is_escaped():
    model, x = small()
    src = draw_network(model, x, title='<b>"x" & y</b>').source
    assert "&lt;b&gt;&quot;x&quot; &amp; y&lt;/b&gt;" in src and '<b>"x"' not in src
