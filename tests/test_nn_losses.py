"""Losses against hand-computed values and gradients; labels a loss cannot use are errors; each loss's array twin against its eager term."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import Value
from nn import (
    LOSSES, bce, bce_with_logits, get_loss, half_squared_error, hinge, l1_penalty, l2_penalty, mse,
    softmax_cross_entropy,
)
from nn.losses import Loss, own_vterm


def vals(*xs):
    return [Value(x) for x in xs]


def test_mse_value_and_gradient():
    o = vals(0.5, 2.0, -1.0)
    loss = mse(o, [1.0, 1.0, 0.0])
    assert loss.data == pytest.approx((0.25 + 1.0 + 1.0) / 3)
    loss.backward()
    # d/do_i (1/n)Σ(o − t)² = 2(o_i − t_i)/n
    assert [v.grad for v in o] == pytest.approx([2 * -0.5 / 3, 2 * 1.0 / 3, 2 * -1.0 / 3])


def test_mse_averages_over_outputs_too():
    loss = mse([vals(1.0, 3.0)], [2.0])
    assert loss.data == pytest.approx((1 + 1) / 2)


def test_half_squared_error_is_the_lectures_E_and_its_gradient_is_minus_the_error():
    o = vals(0.8, 0.3)
    loss = half_squared_error(o, [1.0, 0.0])
    assert loss.data == pytest.approx((0.5 * 0.04 + 0.5 * 0.09) / 2)
    loss.backward()
    # dE/do = −(t − o), then divided by n = 2 for the mean over samples
    assert [v.grad for v in o] == pytest.approx([-(1.0 - 0.8) / 2, -(0.0 - 0.3) / 2])
    both = half_squared_error([vals(1.0, 2.0)], [0.0])
    assert both.data == pytest.approx(0.5 * (1 + 4))


def test_bce_of_probabilities():
    p = vals(0.9, 0.2, 0.6)
    t = [1, 0, 0.5]
    loss = bce(p, t)
    hand = -(math.log(0.9) + math.log(0.8) + 0.5 * math.log(0.6) + 0.5 * math.log(0.4)) / 3
    assert loss.data == pytest.approx(hand)
    loss.backward()
    # d/dp −[t log p + (1 − t) log(1 − p)] = (p − t)/(p(1 − p))
    assert [v.grad for v in p] == pytest.approx([(pi.data - ti) / (pi.data * (1 - pi.data)) / 3 for pi, ti in zip(p, t)])


def test_bce_stays_finite_when_the_probability_saturates():
    loss = bce([Value(1.0), Value(0.0)], [0, 1])
    assert math.isfinite(loss.data) and loss.data == pytest.approx(-math.log(1e-12))


@pytest.mark.parametrize("p", [1.7, -0.2, math.nan])
def test_bce_refuses_raw_scores(p):
    with pytest.raises(ValueError, match=rf"bce loss expects probabilities in \[0, 1\] \(e\.g\. a sigmoid output\), "
                                         rf"got {p} at sample 2; for raw scores use bce_with_logits"):
        with Value.allow_nonfinite():  # Value(nan) is refused unless allowed; bce must refuse it too
            probability = Value(p)
        bce([Value(0.5), probability], [1, 0])


def test_bce_with_logits_equals_bce_of_sigmoid_with_the_same_gradient():
    for z, t in [(0.3, 1), (-2.0, 0), (1.5, 0.25)]:
        a, b = Value(z), Value(z)
        la, lb = bce_with_logits([a], [t]), bce([b.sigmoid()], [t])
        assert la.data == pytest.approx(lb.data)
        la.backward()
        lb.backward()
        assert a.grad == pytest.approx(b.grad)
        assert a.grad == pytest.approx(1 / (1 + math.exp(-z)) - t)  # σ(z) − t


def test_bce_with_logits_is_stable_for_huge_scores():
    z = Value(800.0)
    loss = bce_with_logits([z, Value(-800.0)], [0, 1])
    assert loss.data == pytest.approx(800.0)
    loss.backward()
    assert z.grad == pytest.approx(0.5)


def test_hinge_as_in_micrograd():
    s = vals(0.3, -2.0, 1.5)
    loss = hinge(s, [1, -1, -1])
    # relu(1 − y·s): 0.7, 0 (−1·−2 = 2 > 1), 2.5
    assert loss.data == pytest.approx((0.7 + 0 + 2.5) / 3)
    loss.backward()
    assert [v.grad for v in s] == pytest.approx([-1 / 3, 0.0, 1 / 3])
    assert [n.op for n in loss.topo() if n.op == "relu"] == ["relu"] * 3


def test_softmax_cross_entropy_value_and_gradient():
    z = vals(1.0, 2.0, 0.5)
    loss = softmax_cross_entropy([z], [1])
    exps = [math.exp(v) for v in (1.0, 2.0, 0.5)]
    probs = [e / sum(exps) for e in exps]
    assert loss.data == pytest.approx(-math.log(probs[1]))
    loss.backward()
    # d/dz_j = softmax_j − [j = c]
    assert [v.grad for v in z] == pytest.approx([probs[0], probs[1] - 1, probs[2]])


def test_softmax_cross_entropy_is_stable_for_large_scores():
    z = vals(1000.0, 1001.0)
    loss = softmax_cross_entropy([z], [0])
    assert loss.data == pytest.approx(math.log(1 + math.e))
    loss.backward()
    assert z[0].grad == pytest.approx(1 / (1 + math.e) - 1)


def test_penalties():
    ps = [Value(3.0, kind="param"), Value(-4.0, kind="param"), Value(0.0, kind="param")]
    l2 = l2_penalty(ps)
    assert l2.data == 25.0
    l2.backward()
    assert [p.grad for p in ps] == [6.0, -8.0, 0.0]
    for p in ps:
        p.grad = 0.0
    l1 = l1_penalty(ps)
    assert l1.data == 7.0
    l1.backward()
    assert [p.grad for p in ps] == [1.0, -1.0, 0.0]  # sign(p), 0 at 0


def test_get_loss_by_name_and_unknown_names_list_the_valid_ones():
    for name, loss in LOSSES.items():
        assert get_loss(name) is loss and loss.name == name
    with pytest.raises(ValueError) as e:
        get_loss("crossentropy")
    assert all(name in str(e.value) for name in LOSSES)
    with pytest.raises(TypeError):
        get_loss(None)


# --- labels outside what a loss expects ------------------------------------------


@pytest.mark.parametrize("loss, target, message", [
    (hinge, 0, r"hinge loss expects labels -1 or \+1, got 0 at sample 2 \(for 0/1 labels use 2\*y - 1\)"),
    (hinge, 2, r"expects labels -1 or \+1, got 2"),
    (bce, 2, r"bce loss expects targets in \[0, 1\] \(labels 0 or 1\), got 2"),
    (bce_with_logits, -1, r"bce_with_logits loss expects targets in \[0, 1\]"),
    (softmax_cross_entropy, 1.5, r"expects class indices 0, 1, \.\.\., k-1, got 1.5"),
    (softmax_cross_entropy, -1, r"got -1"),
    (softmax_cross_entropy, math.nan, r"expects class indices 0, 1, \.\.\., k-1, got nan at sample 2"),
    (softmax_cross_entropy, math.inf, r"expects class indices 0, 1, \.\.\., k-1, got inf at sample 2"),
    (mse, math.nan, r"mse loss expects finite real targets, got nan"),
    (half_squared_error, "a", r"expects finite real targets"),
])
def test_labels_the_loss_cannot_use(loss, target, message):
    with pytest.raises(ValueError, match=message):
        loss([[Value(0.1), Value(0.2)] if loss is softmax_cross_entropy else Value(0.1)] * 2, [1, target])


def test_class_index_beyond_the_outputs():
    with pytest.raises(ValueError, match=r"class 3 is out of range for 3 outputs \(valid: 0..2\)"):
        softmax_cross_entropy([vals(0.0, 1.0, 2.0)], [3])


def test_binary_losses_need_one_output():
    with pytest.raises(ValueError, match="expects one output per sample, got 2"):
        bce_with_logits([vals(0.0, 1.0)], [1])


def test_lengths_and_empty():
    with pytest.raises(ValueError, match="2 outputs but 1 targets"):
        mse(vals(1.0, 2.0), [1.0])
    with pytest.raises(ValueError, match="at least one sample"):
        mse([], [])
    with pytest.raises(TypeError, match="output 1 must be a Value"):
        mse([1.0], [1.0])


@pytest.mark.parametrize("loss, target", [(mse, 0.7), (half_squared_error, -1.5), (bce, 0.0), (bce, 1.0),
                                          (bce_with_logits, 0.0), (bce_with_logits, 1.0), (hinge, -1.0)])
def test_a_term_takes_a_placeholder_target_and_agrees_with_a_number(loss, target):
    # What a batched recorder does: one sample's graph with the target as a leaf.
    out = 0.4 if loss is bce else -0.3
    a, b = Value(out), Value(out)
    by_number = loss.term([a], target)
    by_value = loss.term([b], Value(target))
    assert by_value.data == pytest.approx(by_number.data)
    by_number.backward()
    by_value.backward()
    assert b.grad == pytest.approx(a.grad)


# --- the array twins (vterm): every loss of the table, against its eager terms and gradients ---

# Scores with exact ties and edges mixed in: a softmax max shared by two outputs,
# a hinge margin of exactly 1, a probability of exactly 0, 1 or bce's 1e-12.
_SCORE = st.one_of(st.sampled_from([0.0, 1.0, -1.0, 0.5]), st.floats(-30, 30))
_PROB = st.one_of(st.sampled_from([0.0, 1.0, 1e-12, 1 - 1e-12, 0.5]), st.floats(0, 1))
_TWINS = {  # loss -> (outputs per sample, a score, a target given the number of outputs)
    "mse": (3, _SCORE, lambda k: st.floats(-5, 5)),
    "half_squared_error": (2, _SCORE, lambda k: st.floats(-5, 5)),
    "bce": (1, _PROB, lambda k: st.sampled_from([0.0, 1.0, 0.25])),
    "bce_with_logits": (1, _SCORE, lambda k: st.sampled_from([0.0, 1.0, 0.75])),
    "hinge": (1, _SCORE, lambda k: st.sampled_from([-1.0, 1.0])),
    "softmax_cross_entropy": (4, _SCORE, lambda k: st.integers(0, k - 1).map(float)),
}


def test_every_loss_of_the_table_has_a_twin():
    assert set(_TWINS) == set(LOSSES) and all(own_vterm(loss) is not None for loss in LOSSES.values())


@pytest.mark.parametrize("name", sorted(_TWINS))
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_the_twin_gives_the_eager_terms_and_gradients(name, data):
    loss, (k, score, target) = LOSSES[name], _TWINS[name]
    n = data.draw(st.integers(1, 5))
    S = np.array(data.draw(st.lists(st.lists(score, min_size=k, max_size=k), min_size=n, max_size=n)))
    T = np.array(data.draw(st.lists(target(k), min_size=n, max_size=n)))
    outs = [[Value(x) for x in row] for row in S.tolist()]
    eager = loss([row if k > 1 else row[0] for row in outs], T.tolist())
    eager.backward()
    terms, G = own_vterm(loss)(S, T, 1.0 / n)
    want = [loss.term(row, loss.check(t, i)).data for i, (row, t) in enumerate(zip(outs, T.tolist()))]
    np.testing.assert_allclose(terms, want, rtol=1e-13, atol=1e-15)
    # A softmax gradient p_c − 1 cancels: summands of size 1/n leave 8e-10 at scores (22, 0, 0, 0), and
    # eager and the twin add them in another order, so they may differ by a few ulps of 1/n.
    np.testing.assert_allclose(G, [[v.grad for v in row] for row in outs], rtol=1e-12, atol=1e-15 / n)


def test_the_twin_refuses_as_the_eager_term_does():
    with pytest.raises(ValueError, match=r"class 3 is out of range for 3 outputs \(valid: 0..2\)"):
        softmax_cross_entropy.vterm(np.zeros((2, 3)), np.array([0.0, 3.0]), 0.5)
    with pytest.raises(ValueError, match=r"got 1.5 at sample 2"):
        softmax_cross_entropy.vterm(np.zeros((2, 3)), np.array([0.0, 1.5]), 0.5)
    with pytest.raises(ValueError, match="expects one output per sample, got 2"):
        hinge.vterm(np.zeros((2, 2)), np.array([1.0, -1.0]), 0.5)


def test_only_the_tables_own_losses_unchanged_have_a_twin():
    class Louder(type(mse)):
        pass

    class Mine(Loss):
        name = "mine"

        def term(self, outs, t):
            return (outs[0] - t).relu()

    assert own_vterm(Louder()) is None and own_vterm(Mine()) is None
    tuned = type(bce)()
    tuned.eps = 1e-6  # a setting of its own: the recorded term reads it, so it is recorded
    assert own_vterm(tuned) is None and own_vterm(type(bce)()) is not None
