"""nn modules: names and labels, activations by name, initialisation, bad input, dropout."""

import math

import pytest

from engine import OPS, Value, gradcheck
from nn import ACTIVATIONS, MLP, Dropout, Layer, Module, Neuron, get_activation


def test_parameter_names_are_stable_dotted_and_become_labels():
    model = MLP(2, [3, 2, 1], seed=0)
    names = [n for n, _ in model.named_parameters()]
    assert names[:3] == ["layer1.neuron1.w1", "layer1.neuron1.w2", "layer1.neuron1.b"]
    assert "layer2.neuron2.w3" in names and names[-1] == "layer3.neuron1.b"
    assert len(names) == len(set(names)) == (2 + 1) * 3 + (3 + 1) * 2 + (2 + 1) * 1
    for name, p in model.named_parameters():
        assert p.label == name and p.kind == "param"
    assert model.layers[0].neurons[2].w[1].label == "layer1.neuron3.w2"
    assert [p.label for p in model.parameters()] == names


def test_layer_and_neuron_names_on_their_own():
    layer = Layer(2, 2, seed=0)
    assert [n for n, _ in layer.named_parameters()] == [
        "neuron1.w1", "neuron1.w2", "neuron1.b", "neuron2.w1", "neuron2.w2", "neuron2.b"]
    assert [p.label for p in Neuron(3, seed=0).parameters()] == ["w1", "w2", "w3", "b"]


def test_custom_module_finds_values_lists_and_submodules():
    class Net(Module):
        def __init__(self):
            self.scale = Value(2.0, kind="param")
            self.not_a_param = Value(1.0)  # an input leaf is no parameter
            self.heads = [Neuron(1, seed=0), Neuron(1, seed=1)]

    names = [n for n, _ in Net().named_parameters()]
    assert names == ["scale", "heads1.w1", "heads1.b", "heads2.w1", "heads2.b"]


def test_same_seed_same_weights_other_seed_other_weights():
    a, b, c = MLP(2, [4, 1], seed=7), MLP(2, [4, 1], seed=7), MLP(2, [4, 1], seed=8)
    assert a.state_dict() == b.state_dict()
    assert a.state_dict() != c.state_dict()
    assert all(-1 <= p.data <= 1 for p in a.parameters())
    assert all(n.b.data == 0.0 for layer in a.layers for n in layer.neurons)


def test_he_init_spread_follows_fan_in():
    weights = [w.data for n in Layer(50, 40, init="he", seed=0).neurons for w in n.w]
    std = (sum(w * w for w in weights) / len(weights)) ** 0.5
    assert abs(std - math.sqrt(2 / 50)) < 0.02


def test_neuron_computes_activation_of_weighted_sum_plus_bias():
    n = Neuron(2, activation="tanh", seed=0)
    n.w[0].data, n.w[1].data, n.b.data = 0.5, -1.0, 0.25
    out = n([2.0, 1.0])
    assert out.op == "tanh"
    assert out.data == pytest.approx(math.tanh(0.5 * 2 - 1 + 0.25))
    out.backward()
    assert n.w[0].grad == pytest.approx((1 - out.data**2) * 2.0)
    assert n.b.grad == pytest.approx(1 - out.data**2)


def test_inputs_become_labelled_leaves():
    n = Neuron(2, activation="linear", seed=0)
    leaves = [v for v in n([1.0, 2.0]).topo() if v.kind == "input"]
    assert sorted(v.label for v in leaves) == ["x1", "x2"]


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_every_activation_name_is_the_op_of_the_engine_table(name):
    n = Neuron(1, activation=name, seed=0)
    n.w[0].data = 0.7
    out = n([-1.5])
    assert out.op == name and name in OPS
    assert out.data == pytest.approx(OPS[name].f(-1.05, None if name not in ("leaky_relu", "elu") else out.arg))


def test_activations_are_differentiable_through_a_neuron():
    for name in ACTIVATIONS:
        def f(w, x):
            return getattr(w * x + 0.3, name)()
        assert gradcheck(f, 0.8, -0.9), name


def test_linear_and_callable_activations():
    n = Neuron(1, activation="linear", seed=0)
    assert n([1.0]).op == "add"
    cube = Neuron(1, activation=lambda v: v ** 3, seed=0)
    cube.w[0].data = 2.0
    assert cube([1.0]).data == 8.0
    assert cube.activation == "<lambda>"


def test_last_layer_is_linear_unless_output_activation_given():
    assert [l.activation for l in MLP(2, [3, 3, 1], seed=0).layers] == ["relu", "relu", "linear"]
    assert [l.activation for l in MLP(2, [3, 1], activation="tanh", output_activation="sigmoid").layers] == ["tanh", "sigmoid"]


def test_layer_and_mlp_always_return_lists():
    assert isinstance(Layer(2, 1, seed=0)([1.0, 2.0]), list)
    out = MLP(2, [3, 1], seed=0)([1.0, 2.0])
    assert isinstance(out, list) and len(out) == 1 and isinstance(out[0], Value)
    assert len(MLP(2, [3, 4], seed=0)([1.0, 2.0])) == 4


def test_zero_grad_clears_every_parameter():
    model = MLP(2, [3, 1], seed=0)
    model([1.0, -1.0])[0].backward()
    assert any(p.grad != 0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


# --- bad input -------------------------------------------------------------------


def test_wrong_input_length_is_a_clear_error():
    with pytest.raises(ValueError, match=r"MLP\(2, \[16, 16, 1\].*expects 2 inputs per sample, got 3"):
        MLP(2, [16, 16, 1], seed=0)([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="Neuron expects 3 inputs per sample, got 2"):
        Neuron(3, seed=0)([1.0, 2.0])
    with pytest.raises(ValueError, match="Layer expects 2 inputs per sample, got 1"):
        Layer(2, 4, seed=0)([1.0])
    with pytest.raises(TypeError, match="sequence of 2 inputs"):
        MLP(2, [1], seed=0)(1.0)
    with pytest.raises(TypeError, match="input 2 must be a number or a Value"):
        MLP(2, [1], seed=0)([1.0, "a"])


def test_unknown_activation_lists_the_valid_names():
    with pytest.raises(ValueError) as e:
        MLP(2, [3, 1], activation="gelu")
    for name in ACTIVATIONS + ("linear",):
        assert name in str(e.value)
    with pytest.raises(ValueError, match="unknown activation 'Relu'"):
        Neuron(2, activation="Relu")
    with pytest.raises(TypeError, match="activation must be a name"):
        get_activation(3)


@pytest.mark.parametrize("make", [
    lambda: Neuron(0), lambda: Layer(2, 0), lambda: MLP(2, []), lambda: MLP(2, [3, -1]), lambda: MLP(2.5, [1]),
])
def test_bad_sizes(make):
    with pytest.raises(ValueError):
        make()


@pytest.mark.parametrize("nouts", [16, None, "16"])
def test_nouts_must_be_a_list(nouts):
    with pytest.raises(TypeError, match=rf"MLP nouts is a list of layer sizes, e\.g\. \[16, 16, 1\]; got {type(nouts).__name__}"):
        MLP(2, nouts)


def test_unknown_init():
    with pytest.raises(ValueError, match="unknown init 'zeros'; valid: uniform, he"):
        Neuron(2, init="zeros")


# --- dropout ---------------------------------------------------------------------


def test_dropout_scales_kept_values_and_zeroes_the_rest_in_training_only():
    d = Dropout(0.25, seed=0)
    xs = [Value(1.0) for _ in range(4000)]
    out = d(xs)
    kept = [v.data for v in out if v.data != 0]
    assert set(kept) == {1 / 0.75}
    assert abs(len(kept) / len(xs) - 0.75) < 0.03
    assert [v.data for v in d.eval()(xs[:3])] == [1.0, 1.0, 1.0]


def test_dropout_blocks_gradient_of_dropped_values():
    x = [Value(2.0) for _ in range(50)]
    out = Dropout(0.5, seed=1)(x)
    sum(out[1:], out[0]).backward()
    assert {v.grad for v in x} == {0.0, 2.0}
    assert all((xi.grad == 0.0) == (o.data == 0.0) for xi, o in zip(x, out))


def test_mlp_with_dropout_train_and_eval_modes():
    model = MLP(2, [64, 1], dropout=0.5, seed=0)
    model.eval()
    assert model([0.3, 0.4])[0].data == model([0.3, 0.4])[0].data
    model.train()
    assert model.dropout.training and model.layers[0].training
    assert model([0.3, 0.4])[0].data != model([0.3, 0.4])[0].data
    assert "dropout=0.5" in repr(model)


@pytest.mark.parametrize("p", [-0.1, 1.0, 1.5, "half"])
def test_dropout_probability_must_be_in_range(p):
    with pytest.raises(ValueError, match=r"must be in \[0, 1\)"):
        Dropout(p)


def test_dropout_takes_a_list():
    with pytest.raises(TypeError, match="Dropout takes a list of Values .*, got a single Value"):
        Dropout(0.5, seed=0)(Value(1.0))


def test_load_state_dict_checks_names_values_and_type_before_setting_anything():
    n = Neuron(2, seed=0)
    before = n.state_dict()
    with pytest.raises(ValueError, match=r"missing from the state: b; not in the model: bias"):
        n.load_state_dict({"w1": 1.0, "w2": 2.0, "bias": 0.0})
    with pytest.raises(ValueError, match="parameter 'b' must be a finite number, got inf"):
        n.load_state_dict({"w1": 1.0, "w2": 2.0, "b": float("inf")})
    with pytest.raises(TypeError, match="load_state_dict needs a dict of name -> number"):
        n.load_state_dict([1.0, 2.0, 0.0])
    assert n.state_dict() == before
