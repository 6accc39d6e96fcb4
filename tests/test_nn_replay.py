"""fit's fast path: known layers as matrix products (engine.replay.dense), parameters kept in arrays (Store).

Every test compares with the eager engine (batched=False), parameter by
parameter, or with the node-by-node recording (Replay(..., lower=False)).
"""

import numpy as np
import pytest

import nn.fast.replay
import nn.train
from engine import Value
from engine.replay import trace
from engine.replay.dense import Dense
from nn import MLP, SGD, Adam, Layer, Neuron, RMSprop, StepDecay, fit, get_loss, predict
from nn.data import moons, spirals
from nn.fast import Replay, Store


def _params(model):
    return np.array([p.data for p in model.parameters()])


def _both(make, X, y, opt=None, **kw):
    # The same training twice from the same start: replayed (arrays) and eager (Values).
    runs = []
    for batched in (True, False):
        model = make()
        h = fit(model, X, y, optimizer=opt(model) if opt else None, progress=False, batched=batched, **kw)
        runs.append((model, h))
    return runs


@pytest.mark.parametrize("act", ["relu", "tanh", "sigmoid", "leaky_relu", "elu", "softplus", "linear"])
def test_every_activation_trains_as_the_eager_engine(act):
    X, y = moons(60, noise=0.2, seed=0)
    (fast, hf), (slow, hs) = _both(lambda: MLP(2, [6, 5, 1], activation=act, seed=3), X, 2.0 * y - 1.0,
                                   loss="hinge", epochs=6, l2=1e-3)
    assert Replay(fast, get_loss("hinge"), None).dense is not None
    np.testing.assert_allclose(_params(fast), _params(slow), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(hf.loss, hs.loss, rtol=1e-12)


@pytest.mark.parametrize("batch_size", [None, 16])
def test_softmax_with_adam_and_minibatches_trains_as_the_eager_engine(batch_size):
    X, y = spirals(90, k=3, seed=0)
    (fast, hf), (slow, hs) = _both(lambda: MLP(2, [8, 3], activation="tanh", seed=0), X, y,
                                   loss="softmax_cross_entropy", epochs=5, batch_size=batch_size, l1=1e-3,
                                   opt=lambda m: Adam(m.parameters(), lr=0.05))
    np.testing.assert_allclose(_params(fast), _params(slow), rtol=1e-11, atol=1e-14)
    assert hf.acc == hs.acc
    # What fit leaves in .grad is the last batch's gradient, and no pass is counted, either way.
    np.testing.assert_allclose([p.grad for p in fast.parameters()], [p.grad for p in slow.parameters()],
                               rtol=1e-9, atol=1e-13)
    assert {p.passes for p in fast.parameters()} == {0}


def test_the_lowered_replay_gives_the_recorded_replays_gradients():
    X, y = moons(50, noise=0.1, seed=1)
    loss = get_loss("bce_with_logits")
    grads = []
    for lower in (True, False):
        model = MLP(2, [7, 4, 1], activation="leaky_relu", seed=2)
        replay = Replay(model, loss, None, lower=lower)
        assert (replay.dense is not None) == lower
        r = replay(model, loss, X, y, None)
        grads.append(([p.grad for p in model.parameters()], r.loss, r.scores))
    np.testing.assert_allclose(grads[0][0], grads[1][0], rtol=1e-12, atol=1e-15)
    assert grads[0][1] == pytest.approx(grads[1][1], rel=1e-13)
    np.testing.assert_allclose(grads[0][2], grads[1][2], rtol=1e-13)


def test_only_code_this_package_wrote_is_lowered():
    class Loud(Neuron):
        pass

    def twice(v):
        return v * 2.0

    assert MLP(2, [3, 1], seed=0)._dense() is not None
    assert Layer(2, 3, activation="elu", seed=0)._dense() is not None
    assert Neuron(2, activation="tanh", seed=0)._dense() is not None
    assert MLP(2, [3, 1], activation=twice, seed=0)._dense() is None  # a callable: recorded, it may branch
    assert MLP(2, [3, 1], dropout=0.5, seed=0)._dense() is None
    patched = MLP(2, [3, 1], seed=0)
    patched.layers[0].neurons[1]._forward = lambda xs: xs[0]  # an instance's own method
    assert patched._dense() is None
    swapped = MLP(2, [3, 1], seed=0)
    swapped.layers[0].neurons[0] = Loud(2, seed=0)
    assert swapped._dense() is None
    # And such a model still trains as the eager engine does (recorded node by node).
    X, y = moons(40, seed=0)
    (fast, _), (slow, _) = _both(lambda: _patched_model(), X, y, loss="bce_with_logits", epochs=3)
    np.testing.assert_allclose(_params(fast), _params(slow), rtol=1e-12, atol=1e-15)


def _patched_model():
    m = MLP(2, [4, 1], seed=1)
    n = m.layers[0].neurons[0]
    n._forward = lambda xs: n._affine(xs).tanh()
    return m


def test_a_shared_weight_gets_the_gradient_of_every_place():
    def make():
        m = MLP(2, [3, 1], seed=4)
        m.layers[0].neurons[2].w[0] = m.layers[0].neurons[0].w[0]  # one Value in two neurons
        m.layers[1].neurons[0].w[1] = m.layers[0].neurons[0].w[0]  # and in the next layer
        return m

    X, y = moons(40, noise=0.1, seed=2)
    assert make()._dense() is not None
    (fast, _), (slow, _) = _both(make, X, y, loss="bce_with_logits", epochs=4, l2=1e-2,
                                 opt=lambda m: SGD(list(dict.fromkeys(m.parameters())), lr=0.1))
    np.testing.assert_allclose(_params(fast), _params(slow), rtol=1e-12, atol=1e-15)


def test_a_frozen_weight_stays_and_its_gradient_adds_up_as_in_eager():
    def make():
        m = MLP(2, [3, 1], seed=5)
        m.layers[0].neurons[1].w[0].kind = "const"
        return m

    def opt(m):
        return SGD([p for p in m.parameters() if p.kind == "param"], lr=0.1)

    X, y = moons(40, noise=0.1, seed=3)
    (fast, _), (slow, _) = _both(make, X, y, loss="bce_with_logits", epochs=4, opt=opt)
    frozen = [m.layers[0].neurons[1].w[0] for m in (fast, slow)]
    assert frozen[0].data == frozen[1].data == make().layers[0].neurons[1].w[0].data
    assert frozen[0].grad == pytest.approx(frozen[1].grad, rel=1e-12)  # four batches' gradients summed
    np.testing.assert_allclose(_params(fast), _params(slow), rtol=1e-12, atol=1e-15)


def test_an_optimizer_with_its_own_step_trains_on_the_values():
    class Halving(SGD):  # overrides step: fit must call it, so the parameters stay in the Values
        calls = 0

        def step(self):
            Halving.calls += 1
            super().step()

    X, y = moons(30, seed=0)
    model = MLP(2, [4, 1], seed=0)
    fit(model, X, y, loss="bce_with_logits", optimizer=Halving(model.parameters(), lr=0.1), epochs=3, progress=False)
    assert Halving.calls == 3
    (fast, _), (slow, _) = _both(lambda: MLP(2, [4, 1], seed=0), X, y, loss="bce_with_logits", epochs=3,
                                 opt=lambda m: SGD(m.parameters(), lr=0.1))
    np.testing.assert_allclose(_params(model), _params(slow), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(_params(fast), _params(slow), rtol=1e-12, atol=1e-15)


def test_patience_puts_back_the_best_epoch_from_the_arrays():
    X, y = moons(60, noise=0.3, seed=0)
    Xv, yv = moons(40, noise=0.3, seed=1)
    (fast, hf), (slow, hs) = _both(lambda: MLP(2, [8, 1], seed=0), X, y, loss="bce_with_logits", epochs=40,
                                   val=(Xv, yv), patience=2, min_delta=0.02, opt=lambda m: SGD(m.parameters(), lr=2.0))
    assert hf.best_epoch == hs.best_epoch and hf.epochs == hs.epochs
    assert hf.best_epoch < hf.epochs  # the run went past its best epoch, so something was put back
    np.testing.assert_allclose(_params(fast), _params(slow), rtol=1e-12, atol=1e-15)


def test_eager_validation_sees_the_parameters_of_the_moment(monkeypatch):
    X, y = moons(40, noise=0.2, seed=0)
    Xv, yv = moons(30, noise=0.2, seed=1)
    eager = nn.train._eager_evaluate
    monkeypatch.setattr(nn.train, "_choose_evaluate",
                        lambda batched, model, loss, X, y, store=None, **kw: lambda X, y: eager(model, loss, X, y))
    (fast, hf), (slow, hs) = _both(lambda: MLP(2, [5, 1], seed=0), X, y, loss="bce_with_logits", epochs=4,
                                   val=(Xv, yv))
    np.testing.assert_allclose(hf.val_loss, hs.val_loss, rtol=1e-12)


def test_an_error_mid_fit_leaves_the_last_finished_step_in_the_values():
    class Stop(StepDecay):
        def step(self):
            super().step()
            if self.t == 3:
                raise RuntimeError("stop here")

    X, y = moons(40, seed=0)
    states = []
    for batched in (True, False):
        model = MLP(2, [4, 1], seed=0)
        opt = RMSprop(model.parameters(), lr=0.01)
        with pytest.raises(RuntimeError, match="stop here"):
            fit(model, X, y, loss="bce_with_logits", optimizer=opt, schedule=Stop(opt, every=1), epochs=10,
                progress=False, batched=batched)
        states.append(_params(model))
    np.testing.assert_allclose(states[0], states[1], rtol=1e-12, atol=1e-15)
    assert not np.array_equal(states[0], _params(MLP(2, [4, 1], seed=0)))


def test_predict_runs_the_layers_as_matrix_products():
    X, _ = moons(50, seed=4)
    model = MLP(2, [6, 6, 2], activation="sigmoid", seed=1)
    assert nn.fast.replay.Outputs(model).dense is not None
    np.testing.assert_allclose(predict(model, X), predict(model, X, batched=False), rtol=1e-13)
    with pytest.raises(ValueError, match=r"expects 2 inputs per sample, got 3"):
        predict(model, np.ones((4, 3)), batched=True)


# --- the pieces: Dense, Tape's argnums, Store --------------------------------------------


def test_dense_equals_the_eager_neurons_and_their_gradients():
    model = MLP(3, [4, 2], activation=("leaky_relu"), seed=7)
    X = np.random.default_rng(0).normal(size=(5, 3))
    dense = Dense(*model._dense())
    out = dense.forward(X, dense.values())
    eager = [model(x) for x in X.tolist()]
    np.testing.assert_allclose(out, [[o.data for o in row] for row in eager], rtol=1e-14)
    total = sum((o * float(c) for row in eager for o, c in zip(row, (1.0, -2.0))), Value(0.0))
    total.backward()
    G = np.tile([1.0, -2.0], (5, 1))
    np.testing.assert_allclose(dense.backward(G), [p.grad for p in model.parameters()], rtol=1e-12, atol=1e-15)


def test_dense_refuses_what_it_cannot_run():
    a, b = Value(1.0), Value(2.0)
    with pytest.raises(TypeError, match="must be a leaf Value, got the result of mul"):
        Dense([a, a * b], [([[0, 1]], None, None)])
    with pytest.raises(ValueError, match="used twice"):
        Dense([a, b], [([[0, 0]], None, None)])
    with pytest.raises(ValueError, match="outside 0..1"):
        Dense([a, b], [([[0, 2]], None, None)])
    with pytest.raises(ValueError, match="unary op of the table"):
        Dense([a, b], [([[0, 1]], None, "mul")])
    with pytest.raises(ValueError, match=r"layer 2 needs a \(neurons × 1\) array"):
        Dense([a, b], [([[0]], None, None), ([[1, 0]], None, None)])
    big = Dense([Value(1e200), Value(1e200)], [([[0, 1]], None, None)])
    with pytest.raises(OverflowError, match=r"sample 1: add: the weighted sum of neuron 1 of layer 1"):
        big.forward(np.array([[0.0, 0.0], [1e200, 1e200]]), big.values())


def test_tape_argnums_gives_each_samples_input_gradient():
    w = Value(1.5, kind="param")
    tape = trace(lambda z, t: (z[0] * z[1] + w * z[0] - t) ** 2, argnums=0)
    Z, t = np.array([[1.0, 2.0], [3.0, -1.0], [0.5, 0.5]]), np.array([1.0, 2.0, 3.0])
    tape.run(Z, t)
    tape.gradients()
    r = Z[:, 0] * Z[:, 1] + 1.5 * Z[:, 0] - t  # the mean of r²: d/dz = 2r·∂r/∂z / 3
    want = np.stack([2 * r * (Z[:, 1] + 1.5) / 3, 2 * r * Z[:, 0] / 3], axis=1)
    np.testing.assert_allclose(tape.arg_grads[0], want, rtol=1e-14)
    with pytest.raises(TypeError, match="argnums must be argument positions"):
        trace(lambda z: z, argnums=("z",))


def test_store_adds_leaves_as_they_come_and_hands_everything_back():
    a, b, c = (Value(x, kind="param") for x in (1.0, 2.0, 3.0))
    store = Store([a, b])
    assert store.take([c, a]).tolist() == [3.0, 1.0] and store.values == [a, b, c]
    store.add([a, a, c], np.array([1.0, 2.0, 0.5]))  # a listed twice: both count
    store.data[:2] = [10.0, 20.0]
    store.write_back()
    assert (a.data, b.data, c.data) == (10.0, 20.0, 3.0)
    assert (a.grad, c.grad) == (3.0, 0.5)
    store.write_back()
    assert c.grad == 0.5  # handed over once


@pytest.mark.parametrize("batched", [True, False])
def test_a_step_that_overflows_changes_nothing_and_says_so(batched):
    X, y = moons(40, seed=0)
    model = MLP(2, [4, 1], seed=0)
    opt = SGD(model.parameters(), lr=1e10, momentum=0.9)
    with pytest.raises(FloatingPointError, match=r"SGD.step: the step would make parameter layer\d\.neuron\d\.\w+ "
                                                 r"-?inf .*no parameter was changed; lower the learning rate \(lr = 1e\+10\)"):
        fit(model, X * 1e150, y, loss="mse", optimizer=opt, epochs=5, progress=False, batched=batched)
    # The first step already overflows: parameters, step count and momentum are as before it.
    np.testing.assert_array_equal(_params(model), _params(MLP(2, [4, 1], seed=0)))
    assert opt.t == 0 and opt.velocity is None


def test_a_failed_update_puts_the_optimizer_state_back():
    w = Value(1.0, kind="param")
    opt = Adam([w], lr=0.1)
    opt.update(np.array([1.0]), np.array([2.0]))
    m, v, t = opt.m.copy(), opt.v.copy(), opt.t
    with pytest.raises(FloatingPointError, match="has gradient inf"):
        opt.update(np.array([1.0]), np.array([np.inf]))
    sgd = SGD([w], lr=1e308, momentum=0.5)
    sgd.update(np.array([1.0]), np.array([1.0]))
    velocity = sgd.velocity.copy()
    with pytest.raises(FloatingPointError, match="the step would make parameter"):
        sgd.update(np.array([1.0]), np.array([1e10]))
    assert sgd.t == 1 and np.array_equal(sgd.velocity, velocity)
    np.testing.assert_array_equal(opt.m, m)
    np.testing.assert_array_equal(opt.v, v)
    assert opt.t == t


def test_a_loss_of_ones_own_on_known_layers_is_recorded_and_trains_as_eager():
    class Absolute(nn.losses.Loss):
        name = "absolute"

        def term(self, outs, t):
            d = outs[0] - t
            return d.max(-d)

    X, y = moons(40, noise=0.1, seed=2)
    (fast, hf), (slow, hs) = _both(lambda: MLP(2, [5, 1], activation="tanh", seed=1), X, y,
                                   loss=Absolute(), epochs=5, l2=1e-3)
    replay = Replay(fast, Absolute(), None)
    assert replay.dense is not None and replay.vterm is None and replay.tape is not None
    np.testing.assert_allclose(_params(fast), _params(slow), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(hf.loss, hs.loss, rtol=1e-12)


def test_a_loss_that_overflows_in_its_twin_names_the_sample_as_eager_words_it():
    X, y = np.array([[1.0], [1e160], [2.0]]), np.array([0.0, 0.0, 1.0])
    errors = []
    for batched in (True, False):
        model = MLP(1, [2, 1], activation="linear", seed=0)
        for p in model.parameters():
            p.data = 1.0
        with pytest.raises(OverflowError) as got:
            fit(model, X, y, loss="mse", epochs=1, progress=False, batched=batched)
        errors.append(str(got.value))
        assert _params(model).tolist() == [1.0] * 7  # nothing stepped
    assert errors == ["sample 1: " + errors[1], "pow: 2e+160 ** 2.0 overflows a float"]
