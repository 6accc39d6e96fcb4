"""`gradflow demo`: the drawn sample sends gradient back, shown as a network view, a collapsed graph and one neuron."""

import re

import pytest

from viz import cli


def test_the_demo_draws_a_sample_inside_the_margin(dot, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    assert cli.main(["demo", "-o", str(tmp_path), "--no-progress"]) == 0
    out = capsys.readouterr().out
    margin = float(re.search(r"margin y·score = (-?[\d.]+)", out).group(1))
    assert margin < 1 and ("inside the margin" in out or "misclassified" in out)
    for name in ("network.svg", "graph.svg", "neuron.svg"):
        assert (tmp_path / name).read_text(encoding="utf-8").lstrip().startswith("<?xml"), name
    network = (tmp_path / "network.svg").read_text(encoding="utf-8")
    assert "L2 penalty" in network and "left out" in network  # said on the picture
    # Gradient flows: some weight edges are coloured by a non-zero ∂loss/∂w.
    assert re.search(r'stroke="#(1565c0|e65100)"', network)
    graph = (tmp_path / "graph.svg").read_text(encoding="utf-8")
    assert "256 edges" in graph and "layer1.neuron16" in graph
    neuron = (tmp_path / "neuron.svg").read_text(encoding="utf-8")
    assert "arrives from the layers above" in neuron


def test_pick_sample_prefers_a_sample_inside_the_margin():
    import numpy as np

    from engine import Value

    def model(row):  # the score is the first input
        return [Value(row[0])]

    y = np.array([1, 1, 1])
    assert cli.pick_sample(model, np.array([[3.0], [0.5], [-2.0]]), y) == (1, 0.5)  # first with y·score < 1
    assert cli.pick_sample(model, np.array([[3.0], [2.0]]), y[:2]) == (1, 2.0)  # none: the nearest, said by the demo
