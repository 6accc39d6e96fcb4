"""nn.Maxout: the largest of k linear pieces per unit, its gradient routed to the winner."""

from __future__ import annotations

import numpy as np
import pytest

from nn import SGD, Layer, Maxout, Module, fit, moons


def _pieces(m, x):
    """Each unit's pieces evaluated with numpy: shape (units, pieces)."""
    w = np.array([[wi.data for wi in n.w] for n in m.pieces])
    b = np.array([n.b.data for n in m.pieces])
    return (w @ np.asarray(x) + b).reshape(m.nout, m.k)


@pytest.mark.parametrize("nin, nout, pieces", [(1, 1, 1), (2, 3, 2), (4, 2, 5)])
def test_value_is_the_largest_piece(nin, nout, pieces):
    m = Maxout(nin, nout, pieces=pieces, seed=1)
    for n in m.pieces:
        n.b.data = float(np.random.default_rng(len(m.pieces)).normal())
    x = np.random.default_rng(7).normal(size=nin)
    out = m(list(x))
    assert len(out) == nout
    np.testing.assert_allclose([o.data for o in out], _pieces(m, x).max(axis=1), rtol=0, atol=1e-12)


def test_gradient_reaches_only_the_winning_piece():
    m = Maxout(2, 1, pieces=3, seed=0)
    x = [0.7, -1.3]
    winner = int(np.argmax(_pieces(m, x)[0]))
    m(x)[0].backward()
    for k, n in enumerate(m.pieces):
        expected = x + [1.0] if k == winner else [0.0, 0.0, 0.0]
        assert [w.grad for w in n.w] + [n.b.grad] == pytest.approx(expected)


def test_gradient_matches_central_differences():
    m = Maxout(3, 2, pieces=2, seed=3)
    x = [0.4, -0.2, 1.1]

    def loss():
        first, second = m(x)
        return first * 2.0 + second

    loss().backward()
    eps = 1e-6
    for p in m.parameters():
        start = p.data
        p.data = start + eps
        up = loss().data
        p.data = start - eps
        down = loss().data
        p.data = start
        assert p.grad == pytest.approx((up - down) / (2 * eps), abs=1e-6), p.label


def test_names_parameters_and_repr():
    m = Maxout(2, 2, pieces=3, seed=0)
    names = [n for n, _ in m.named_parameters()]
    assert len(names) == 2 * 3 * 3 and len(set(names)) == len(names)
    assert names[0] == "unit1.piece1.w1" and names[-1] == "unit2.piece3.b"
    assert [p.label for p in m.parameters()] == names
    assert repr(m) == "Maxout(2, 2, pieces=3)"
    assert (m.nin, m.nout, m.k) == (2, 2, 3)


@pytest.mark.parametrize("args, word", [((0, 1), "nin"), ((2, 0), "nout"), ((2, 1, 0), "pieces"), ((2, 1, 1.5), "pieces")])
def test_bad_sizes_say_which(args, word):
    with pytest.raises(ValueError, match=word):
        Maxout(*args)


def test_wrong_input_count_is_a_clear_error():
    with pytest.raises(ValueError, match="Maxout expects 2 inputs per sample, got 3"):
        Maxout(2, 1)([1.0, 2.0, 3.0])


class _MaxoutNet(Module):
    def __init__(self):
        self.hidden = Maxout(2, 4, pieces=2, seed=0)
        self.out = Layer(4, 1, activation="linear", seed=1)

    def __call__(self, x):
        return self.out(self.hidden(x))


def test_batched_training_equals_eager():
    X, y = moons(30, noise=0.1, seed=0)
    histories = []
    for batched in (False, True):
        net = _MaxoutNet()
        histories.append(fit(net, X, y, loss="bce_with_logits", optimizer=SGD(net.parameters(), lr=0.2), epochs=5,
                             progress=False, batched=batched))
    np.testing.assert_allclose(histories[0].loss, histories[1].loss, rtol=1e-10)
