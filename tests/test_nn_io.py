"""Saving and loading parameters as JSON, by name."""

import json

import pytest

from nn import MLP, Neuron, Perceptron, load, save


def test_round_trip_restores_every_parameter(tmp_path):
    path = tmp_path / "model.json"
    a, b = MLP(2, [4, 3, 1], seed=0), MLP(2, [4, 3, 1], seed=1)
    save(a, path)
    assert load(b, path) is b
    assert b.state_dict() == a.state_dict()
    assert b([0.3, -0.7])[0].data == a([0.3, -0.7])[0].data
    doc = json.loads(path.read_text())
    assert doc["model"] == "MLP(2, [4, 3, 1], activation='relu')"
    assert "layer2.neuron3.w4" in doc["parameters"]


def test_loading_into_another_shape_is_a_clear_error(tmp_path):
    path = tmp_path / "model.json"
    save(MLP(2, [16, 16, 1], seed=0), path)
    small = MLP(2, [8, 1], seed=0)
    before = small.state_dict()
    with pytest.raises(ValueError, match=r"holds the parameters of MLP\(2, \[16, 16, 1\].*\(337 parameters\), "
                                         r"which do not fit MLP\(2, \[8, 1\].*\(33 parameters\)"):
        load(small, path)
    assert small.state_dict() == before
    with pytest.raises(ValueError, match=r"do not fit Perceptron\(2\)"):
        load(Perceptron(2), path)


def test_bad_files(tmp_path):
    n = Neuron(2, seed=0)
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="is not JSON"):
        load(n, bad)
    bad.write_text(json.dumps({"w1": 1.0}))
    with pytest.raises(ValueError, match="is not a gradflow parameter file"):
        load(n, bad)
    path = tmp_path / "n.json"
    save(n, path)
    doc = json.loads(path.read_text())
    doc["parameters"]["w2"] = None
    path.write_text(json.dumps(doc))
    before = n.state_dict()
    with pytest.raises(ValueError, match="parameter 'w2' must be a finite number, got None"):
        load(n, path)
    assert n.state_dict() == before  # nothing half-loaded
    with pytest.raises(TypeError, match="save needs a Module"):
        save([1.0], tmp_path / "x.json")


def test_saving_a_diverged_model_is_a_clear_error_and_writes_nothing(tmp_path):
    n = Neuron(2, seed=0)
    n.w[1].data = float("nan")
    path = tmp_path / "n.json"
    with pytest.raises(ValueError, match=r"cannot save Neuron\(2.*parameter 'w2' is nan \(1 not finite in all\)"):
        save(n, path)
    assert not path.exists()
