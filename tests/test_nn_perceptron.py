"""The perceptron: its rule, the delta rule as gradient descent, separable data versus XOR."""

import numpy as np
import pytest

from nn import MLP, Adam, Perceptron, blobs, fit, half_squared_error, predict, xor


def test_rule_adds_misclassified_positives_and_subtracts_negatives():
    p = Perceptron(2, seed=0)
    p.w[0].data, p.w[1].data, p.b.data = 1.0, 0.0, 0.0
    assert p.perceptron_update([-2.0, 1.0], 1) == ([-2.0, 1.0], 1.0)  # z = −2 < 0 but positive: w += x
    assert [w.data for w in p.w] + [p.b.data] == [-1.0, 1.0, 1.0]
    assert p.perceptron_update([1.0, 1.0], 0) == ([-1.0, -1.0], -1.0)  # z = 1 ≥ 0 but negative: w −= x
    assert p.perceptron_update([5.0, -5.0], 0) == ([0.0, 0.0], 0.0)  # right already: nothing changes
    assert p.perceptron_update([1.0, 1.0], 1, lr=0.5) == ([0.5, 0.5], 0.5)


@pytest.mark.parametrize("seed", range(4))
def test_perceptron_converges_on_linearly_separable_data(seed):
    X, y = blobs(60, spread=0.8, seed=seed)
    p = Perceptron(2, seed=seed)
    result = p.learn(X, y, epochs=200)
    assert result.converged and result.errors[-1] == 0 and result.epochs == len(result.errors)
    assert (p.predict(X) == y).all()


def test_perceptron_does_not_converge_on_xor():
    X, y = xor()
    p = Perceptron(2, seed=0)
    result = p.learn(X, y, epochs=300)
    assert not result.converged and result.epochs == 300
    assert min(result.errors) >= 1
    assert (p.predict(X) == y).sum() <= 3  # no line gets all four corners


def test_delta_rule_update_is_minus_lr_times_the_engine_gradient_of_half_squared_error():
    p = Perceptron(3, seed=1)
    x, label, lr = [0.5, -1.2, 2.0], 1, 0.05
    # The engine: E = ½(d − z)² with d = +1 for the positive class.
    p.zero_grad()
    z = p(x)
    half_squared_error([z], [1.0]).backward()
    grads = [w.grad for w in p.w] + [p.b.grad]
    assert grads == pytest.approx([-(1.0 - z.data) * xi for xi in x] + [-(1.0 - z.data)])  # −(d − z)·x_i
    dw, db = p.delta_update(x, label, lr=lr)
    assert dw + [db] == pytest.approx([-lr * g for g in grads], rel=1e-14)


def test_delta_rule_by_hand_for_a_negative_sample():
    p = Perceptron(2, seed=0)
    p.w[0].data, p.w[1].data, p.b.data = 0.5, 0.5, 0.0
    dw, db = p.delta_update([1.0, 1.0], 0, lr=0.1)  # d = −1, z = 1: δ = −2
    assert dw == pytest.approx([-0.2, -0.2]) and db == pytest.approx(-0.2)


def test_delta_rule_separates_blobs():
    X, y = blobs(80, spread=0.6, seed=2)
    p = Perceptron(2, seed=2)
    result = p.learn(X, y, rule="delta", epochs=200, lr=0.02)
    assert result.converged and (p.predict(X) == y).all()


def test_delta_rule_on_xor_does_not_classify_it():
    X, y = xor()
    p = Perceptron(2, seed=0)
    assert not p.learn(X, y, rule="delta", epochs=200, lr=0.05).converged


def test_an_mlp_solves_xor():
    X, y = xor()
    model = MLP(2, [4, 1], activation="tanh", seed=0)
    history = fit(model, X, y, loss="bce_with_logits", optimizer=Adam(model.parameters(), lr=0.1), epochs=150, progress=False)
    assert history.loss[-1] < 0.1
    assert ((predict(model, X)[:, 0] > 0).astype(int) == y).all()


def test_perceptron_graph_and_names():
    p = Perceptron(2, seed=0)
    z = p([1.0, 2.0])
    assert z.op == "add" and [q.label for q in p.parameters()] == ["w1", "w2", "b"]
    assert p.score([[1.0, 2.0]])[0] == pytest.approx(z.data)


# --- bad input -------------------------------------------------------------------


def test_perceptron_bad_input():
    p = Perceptron(2, seed=0)
    with pytest.raises(ValueError, match=r"Perceptron\(2\) expects 2 inputs per sample, got 3"):
        p([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"expects 2 inputs per sample, got 1"):
        p.learn(np.ones((3, 1)), [0, 1, 0])
    with pytest.raises(ValueError, match="labels must be 0 or 1, got -1 at sample 2"):
        p.learn(np.ones((2, 2)), [1, -1])
    with pytest.raises(ValueError, match="unknown perceptron rule 'hebb'; valid: perceptron, delta"):
        p.learn(np.ones((2, 2)), [1, 0], rule="hebb")
    with pytest.raises(ValueError, match="lr must be a number > 0, got 0"):
        p.learn(np.ones((2, 2)), [1, 0], lr=0)
    with pytest.raises(ValueError, match="Perceptron epochs must be a positive int, got 0"):
        p.learn(np.ones((2, 2)), [1, 0], epochs=0)
    with pytest.raises(ValueError, match="Perceptron learning rate lr must be a number > 0, got 'a'"):
        p.perceptron_update([1.0, 2.0], 1, lr="a")
    with pytest.raises(ValueError, match="Perceptron learning rate lr must be a number > 0, got -0.1"):
        p.delta_update([1.0, 2.0], 1, lr=-0.1)
    with pytest.raises(ValueError, match=r"Perceptron nin \(number of inputs\) must be a positive int, got 0"):
        Perceptron(0)
    with pytest.raises(ValueError, match="is empty"):
        p.learn(np.zeros((0, 2)), [])
    with pytest.raises(ValueError, match="NaN"):
        p.learn([[1.0, np.nan]], [1])


def test_seeded_starting_weights_are_pinned_bit_for_bit():
    # Neuron and Perceptron share their w/b set-up; a seed must still give the same start.
    from nn import Neuron

    for seed in (0, 1, 7):
        assert [w.data for w in Neuron(5, seed=seed).w] == np.random.default_rng(seed).uniform(-1.0, 1.0, 5).tolist()
        assert [w.data for w in Neuron(5, init="he", seed=seed).w] == np.random.default_rng(seed).normal(0.0, np.sqrt(2 / 5), 5).tolist()
        assert [w.data for w in Perceptron(5, seed=seed).w] == np.random.default_rng(seed).uniform(-0.5, 0.5, 5).tolist()
        assert Neuron(5, seed=seed).b.data == Perceptron(5, seed=seed).b.data == 0.0
    assert [p.data for p in MLP(2, [2, 1], seed=0).parameters()] == [
        0.2739233746429086, -0.4604265724722594, 0.0, -0.9180529521276106, -0.9669447289429418, 0.0,
        0.6265404784005448, 0.8255111545554434, 0.0]
    assert [p.data for p in MLP(2, [2, 1], init="he", seed=1).parameters()] == [
        0.345584192064786, 0.8216181435011584, 0.0, 0.33043707618338714, -1.303157231604361, 0.0,
        0.9053558666731177, 0.4463745723640113, 0.0]
