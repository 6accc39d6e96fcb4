"""batched="auto" replays only nn's own models; batched=True on custom code is checked against the eager engine.

Each module below reads a number in a way the recording cannot see (a C
function of a float, a random draw, a count of calls), so one recorded sample
does not stand for the others or for later steps. Under "auto" each must
train exactly as the eager engine does; under batched=True it must too, or
fall back to the eager engine with a warning that names it.
"""

import math
import random
import warnings

import numpy as np
import pytest

import nn.fast
import nn.train
from engine import Value
from nn import (
    MLP, SGD, Adam, Dropout, Layer, Loss, Maxout, Module, Neuron, Perceptron, Schedule, evaluate, fit, get_loss,
    moons, predict,
)
from nn.fast import Replay
from nn.train import ReplayFallback

# nn.fast.custom and nn.fast.Checked are looked up in the tests, so that each test stands or falls on its own.


class CopySign(Module):
    """|w|·x + b through math.copysign: the sign is read in C, so a recording keeps it."""

    def __init__(self):
        self.w, self.b = Value(0.3, kind="param"), Value(0.0, kind="param")

    def __call__(self, x):
        return self.w * x[0] * math.copysign(1.0, self.w.data) + self.b


class Modf(Module):
    """(w + w quantised to quarters)·x + b: the quantum is read in C."""

    def __init__(self):
        self.w, self.b = Value(0.1, kind="param"), Value(0.0, kind="param")

    def __call__(self, x):
        return (self.w + math.modf(self.w.data * 4)[1] / 4) * x[0] + self.b


class Frexp(Module):
    """w·x·e + b with e w's binary exponent, read in C."""

    def __init__(self):
        self.w, self.b = Value(0.3, kind="param"), Value(0.0, kind="param")

    def __call__(self, x):
        return self.w * x[0] * math.frexp(self.w.data)[1] + self.b


class Branch(Module):
    """A leaky unit whose branch is chosen in C from a hidden value, which differs from sample to sample."""

    def __init__(self):
        self.w, self.b = Value(0.5, kind="param"), Value(0.1, kind="param")

    def __call__(self, x):
        h = self.w * x[0] + self.b
        return h if math.copysign(1, h.data) > 0 else h * 0.1


class Mask(Module):
    """Its own dropout: a random mask drawn at every call (the two recordings happen to draw alike)."""

    def __init__(self):
        self.w, self.b = Value(0.3, kind="param"), Value(0.0, kind="param")
        self.rng = random.Random(4)

    def __call__(self, x):
        h = self.w * x[0] + self.b
        return h * (2.0 if self.rng.random() > 0.5 else 0.0)


class Counter(Module):
    """A warm-up by call count: the output halves after 40 calls."""

    def __init__(self):
        self.w, self.b = Value(0.3, kind="param"), Value(0.0, kind="param")
        self.calls = 0

    def __call__(self, x):
        self.calls += 1
        return (self.w * x[0] + self.b) * (0.5 if self.calls > 40 else 1.0)


CASES = [CopySign, Modf, Frexp, Branch, Mask, Counter]
X16 = np.linspace(-1.0, 1.0, 16)[:, None]
Y16 = 0.2 - X16[:, 0]


def _train(make, batched, epochs=30, **options):
    # The setting: 30 epochs of SGD at lr 0.1 on 16 samples. The parameters and the ReplayFallback messages.
    model = make()
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fit(model, X16, Y16, loss="mse", optimizer=SGD(model.parameters(), lr=0.1), epochs=epochs, progress=False,
            batched=batched, **options)
    return np.array([p.data for p in model.parameters()]), [str(w.message) for w in seen if w.category is ReplayFallback]


@pytest.mark.parametrize("make", CASES)
def test_auto_trains_each_custom_module_as_the_eager_engine_and_says_so_once(make):
    want, quiet = _train(make, False)
    got, said = _train(make, "auto")
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-9)
    assert quiet == []
    assert len(said) == 1 and said[0].startswith(f"fit uses the eager engine: {make.__name__} is a custom module")
    assert "batched=True replays it" in said[0] and "\n" not in said[0]


@pytest.mark.parametrize("make", CASES)
def test_batched_true_trains_as_eager_or_falls_back_naming_the_module(make):
    want, _ = _train(make, False)
    got, said = _train(make, True)
    if np.abs(got - want).max() > 1e-9:
        assert len(said) == 1, "the replay trained differently from the eager engine without a word"
    if said:
        assert said[0].startswith(f"fit stops replaying {make.__name__} and trains it with the eager engine")


def test_auto_validation_of_a_custom_module_is_eager_and_said_once():
    Xv, yv = X16[::3] + 0.05, Y16[::3]
    runs = []
    for batched in ("auto", False):
        model = Branch()
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            h = fit(model, X16, Y16, loss="mse", optimizer=SGD(model.parameters(), lr=0.1), epochs=10, val=(Xv, yv),
                    progress=False, batched=batched)
        runs.append((model.state_dict(), h.val_loss, [w for w in seen if w.category is ReplayFallback]))
    assert runs[0][:2] == runs[1][:2]
    assert len(runs[0][2]) == 1 and runs[1][2] == []


def test_evaluate_and_predict_under_auto_run_a_custom_module_eagerly():
    model = Branch()
    model.w.data, model.b.data = 1.0, -0.2  # the first sample and the last take different branches
    want = evaluate(model, "mse", X16, Y16, batched=False)
    with pytest.warns(ReplayFallback, match=r"^evaluate uses the eager engine: Branch is a custom module"):
        got = evaluate(model, "mse", X16, Y16)
    assert got.loss == want.loss and np.array_equal(got.scores, want.scores)
    with pytest.warns(ReplayFallback, match=r"^predict uses the eager engine: Branch is a custom module"):
        np.testing.assert_array_equal(predict(model, X16), want.scores)


@pytest.mark.parametrize("make", [CopySign, Modf, Frexp, Branch])
def test_evaluate_and_predict_under_batched_true_give_the_eager_numbers_or_say_why_not(make):
    # Asked for on custom code, the replay's outputs are held to the eager engine's on a few rows,
    # as fit's gradients are: a stale constant would otherwise give every row a wrong output in silence.
    model = make()
    model.w.data, model.b.data = -0.7, 0.3  # the recordings' nudges keep its sign, quantum and exponent
    want = evaluate(model, "mse", X16, Y16, batched=False)
    for call, check in ((lambda: evaluate(model, "mse", X16, Y16, batched=True), "evaluate"),
                        (lambda: predict(model, X16, batched=True), "predict")):
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            got = call()
        said = [str(w.message) for w in seen if w.category is ReplayFallback]
        scores = got if check == "predict" else got.scores
        np.testing.assert_allclose(scores, want.scores, rtol=1e-12, atol=1e-12)
        if check == "evaluate":
            assert got.loss == pytest.approx(want.loss, rel=1e-12)
        if said:
            assert len(said) == 1 and said[0].startswith(f"{check} does not replay {make.__name__}: ")
            assert [w.filename for w in seen if w.category is ReplayFallback] == [__file__]  # at the user's call


def test_evaluate_and_predict_under_batched_true_say_nothing_when_the_replay_holds():
    model = Branch()
    model.w.data, model.b.data = 0.5, 2.0  # every sample on the same branch: the replay is right
    want = evaluate(model, "mse", X16, Y16, batched=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ReplayFallback)
        got = evaluate(model, "mse", X16, Y16, batched=True)
        scores = predict(model, X16, batched=True)
    np.testing.assert_allclose(got.scores, want.scores, rtol=1e-12)
    np.testing.assert_allclose(scores, want.scores, rtol=1e-12)


# --- what "auto" replays: nn's own modules, unchanged, under nn's own losses ----------------


class _Sub(MLP):
    """An MLP in all but its class."""


class _Halve(Loss):
    name = "halve"

    def term(self, outs, target):
        return (outs[0] - target) ** 2 * 0.5

    def check(self, target, i):
        return float(target)


def test_nn_own_modules_are_known_by_construction():
    mse = get_loss("mse")
    for model in (MLP(2, [3, 1], seed=0), MLP(2, [3, 1], dropout=0.3, seed=0), Layer(2, 1, activation="tanh", seed=0),
                  Neuron(2, activation="elu", seed=0), Maxout(2, 1, seed=0), Perceptron(2, seed=0), Dropout(0.2)):
        assert nn.fast.custom(model, mse) is None, model
    assert nn.fast.custom(_Sub(2, [1]), mse) == "_Sub is a custom module"
    assert nn.fast.custom(MLP(2, [1]), _Halve()) == "the loss 'halve' is custom code"
    assert "custom code (a callable, not a name)" in nn.fast.custom(MLP(2, [3, 1], activation=lambda v: v.tanh()), mse)
    tweaked = MLP(2, [3, 1], seed=0)
    tweaked.layers[0].neurons[1]._forward = lambda xs: xs[0]  # an instance's method replaced
    assert nn.fast.custom(tweaked, mse) == "Neuron inside MLP is a custom module"
    grown = MLP(2, [3, 1], seed=0)
    grown.layers.append(Maxout(1, 1))  # not how nn composes an MLP
    assert nn.fast.custom(grown, mse) == "Maxout inside MLP is a custom module"


def test_a_replaced_method_makes_nn_own_class_custom(monkeypatch):
    monkeypatch.setattr(Maxout, "__call__", lambda self, x: [Value(0.0)])
    assert nn.fast.custom(Maxout(2, 1, seed=0)) == "Maxout is a custom module"
    monkeypatch.undo()
    assert nn.fast.custom(Maxout(2, 1, seed=0)) is None


def _chosen(monkeypatch):
    # fit's training batch_fn, as it chose it.
    chosen = []
    original = nn.train._steps
    monkeypatch.setattr(nn.train, "_steps", lambda opt, model, fn, *a: chosen.append(fn) or original(opt, model, fn, *a))
    return chosen


def test_an_mlp_under_nn_loss_takes_the_fast_path_under_auto(monkeypatch):
    chosen = _chosen(monkeypatch)
    monkeypatch.setattr(nn.train, "_forward", lambda *a: pytest.fail("the eager engine ran"))
    X, y = moons(40, seed=0)
    model = MLP(2, [8, 8, 1], seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ReplayFallback)
        fit(model, X, y, loss="bce_with_logits", epochs=3, val=0.25, progress=False)
    fn = chosen[0]
    assert type(fn) is Replay and fn.dense is not None and fn.vterm is not None and fn.tape is None


@pytest.mark.parametrize("make", [lambda: Maxout(2, 1, pieces=3, seed=0), lambda: Perceptron(2, seed=0),
                                  lambda: Layer(2, 1, activation=lambda v: v.tanh(), seed=0)])
def test_auto_records_nn_own_unlowered_modules_and_nothing_custom(make, monkeypatch):
    chosen = _chosen(monkeypatch)
    X, y = moons(30, seed=1)
    model = make()
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fit(model, X, y, loss="bce_with_logits", epochs=2, progress=False)
    said = [str(w.message) for w in seen if w.category is ReplayFallback]
    if isinstance(model, Layer):  # a callable activation is custom code
        assert chosen == [nn.train.batch_loss] and len(said) == 1 and "custom code" in said[0]
    else:
        assert type(chosen[0]) is Replay and chosen[0].tape is not None and said == []


# --- batched=True on custom code: the cross-check ------------------------------------------


class Scaled(Module):
    """k·(w·x + b) with k a plain float: a recording keeps k as a constant; set it from outside and the replay is stale."""

    def __init__(self):
        self.w, self.b = Value(0.4, kind="param"), Value(-0.1, kind="param")
        self.k, self.calls = 1.0, 0

    def __call__(self, x):
        self.calls += 1
        return (self.w * x[0] + self.b) * self.k


class _SetK(Schedule):
    """Sets the model's k to 2 after epoch ``at`` (a Schedule is stepped after every epoch)."""

    def __init__(self, optimizer, model, at):
        super().__init__(optimizer)
        self.model, self.at = model, at

    def lr_at(self, t):
        if t == self.at:
            self.model.k = 2.0
        return self.optimizer.lr


class _OwnStep(SGD):
    def step(self):  # an optimizer with its own step: fit keeps the parameters in the Values
        super().step()


@pytest.mark.parametrize("opt", [SGD, _OwnStep, Adam])
def test_a_mismatch_hands_the_step_to_the_eager_engine_with_no_step_lost_or_repeated(opt):
    # k changes after epoch 3; the replay holds k = 1 through epochs 4 and 5, the check at epoch 6
    # (every 5 epochs) finds the mismatch and that epoch's step is eager. The same run, all eager,
    # with k changing after epoch 5 instead, must end at the same parameters.
    Xv, yv = X16[1::4], Y16[1::4]
    runs, messages = [], []
    for batched, at in ((True, 3), (False, 5)):
        model = Scaled()
        o = opt(model.parameters(), lr=0.05)
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            h = fit(model, X16, Y16, loss="mse", optimizer=o, epochs=9, val=(Xv, yv), schedule=_SetK(o, model, at),
                    progress=False, batched=batched)
        runs.append(([p.data for p in model.parameters()], h))
        messages.append([str(w.message) for w in seen if w.category is ReplayFallback])
    np.testing.assert_allclose(runs[0][0], runs[1][0], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(runs[0][1].loss, runs[1][1].loss, rtol=1e-12)
    assert messages[1] == [] and len(messages[0]) == 1
    assert messages[0][0].startswith("fit stops replaying Scaled and trains it with the eager engine from here (epoch 6)")
    # Validation follows: the replay's (stale, k = 1) through epoch 5, then the eager engine's (k = 2).
    np.testing.assert_allclose(runs[0][1].val_loss, runs[1][1].val_loss, rtol=1e-12)


def test_the_check_runs_at_the_first_step_and_every_fifth_epoch_on_eight_samples():
    assert (nn.fast.Checked.every, nn.fast.Checked.samples) == (5, 8)
    X = np.linspace(-1, 1, 40)[:, None]
    calls = []
    for epochs in (1, 5, 6, 11):
        model = Scaled()
        fit(model, X, 0.5 * X[:, 0], loss="mse", epochs=epochs, batch_size=20, progress=False, batched=True)
        calls.append(model.calls)  # the recording's, then the checks': the replay itself calls no forward
    recorded = calls[0] - 8
    assert calls == [recorded + 8, recorded + 8, recorded + 16, recorded + 24]


def test_batched_true_on_an_honest_custom_module_trains_as_eager_without_a_word():
    X, y = moons(40, noise=0.1, seed=0)
    runs = []
    for batched in (True, False):
        model = _TwoLayer()
        with warnings.catch_warnings():
            warnings.simplefilter("error", ReplayFallback)
            h = fit(model, X, y, loss="bce_with_logits", optimizer=Adam(model.parameters(), lr=0.05), epochs=12,
                    batch_size=16, val=0.25, l2=1e-3, progress=False, batched=batched)
        runs.append(([p.data for p in model.parameters()], h.loss, h.val_loss))
    for got, want in zip(runs[0], runs[1]):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


class _TwoLayer(Module):
    """nn's layers composed by custom code: custom under "auto", replayed and checked under batched=True."""

    def __init__(self):
        self.hidden = Layer(2, 6, activation="tanh", seed=0)
        self.out = Neuron(6, activation="linear", seed=1)

    def __call__(self, x):
        return self.out(self.hidden(x))


def test_a_copied_or_pickled_model_leaves_nn_own_modules_known():
    # copyreg caches __slotnames__ in a class the first time one of its instances is copied or
    # pickled: deepcopy(model) to keep the best model made every MLP "custom" (trained eagerly) after.
    import copy
    import pickle

    made = [MLP(2, [3, 1], seed=0), Layer(2, 2, seed=0), Neuron(2, seed=0), Maxout(2, 1, seed=0),
            Perceptron(2, seed=0), Dropout(0.5)]
    for m in made:
        copy.deepcopy(m)
        copy.copy(m)
        pickle.loads(pickle.dumps(m))
    for m in made[:5]:
        assert nn.fast.custom(m) is None, m
    model = MLP(2, [3, 1], seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no ReplayFallback: the replay, not the eager engine
        fit(model, [[0.0, 1.0], [1.0, 0.0]], [1.0, -1.0], loss="hinge", epochs=2, progress=False)
