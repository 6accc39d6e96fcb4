"""The training loop: history, mini-batches, validation, early stopping, determinism, bad input."""

import math
import sys
import warnings

import numpy as np
import pytest

from engine import Value, numerical_grad
from nn import (
    MLP, SGD, Adam, BatchResult, Maxout, LinearDecay, Neuron, batch_loss, blobs, evaluate, fit, get_loss, moons, predict,
    spirals, xor,
)
from nn.module import Module
from nn.train import ReplayFallback
from engine.replay import ReplayError


def small():
    X, y = moons(40, noise=0.1, seed=0)
    return X, y


def test_history_has_one_entry_per_epoch():
    X, y = small()
    model = MLP(2, [6, 1], seed=0)
    h = fit(model, X, y, loss="bce_with_logits", optimizer=Adam(model.parameters(), lr=0.05), epochs=12,
            val=0.25, progress=False)
    assert h.epochs == 12
    for key in ("loss", "acc", "val_loss", "val_acc", "lr"):
        assert len(h[key]) == 12
    assert all(0 <= a <= 1 for a in h.acc + h.val_acc)
    assert h.loss[-1] < h.loss[0] and h.val_loss[-1] < h.val_loss[0]
    assert not h.stopped_early and h.best_epoch is None
    assert set(h.as_dict()) == {"loss", "acc", "val_loss", "val_acc", "lr"}
    with pytest.raises(KeyError, match="History has no 'accuracy'; valid keys: loss, acc, val_loss, val_acc, lr"):
        h["accuracy"]


def test_full_batch_loss_and_accuracy_are_the_pre_step_values():
    X, y = small()
    model = MLP(2, [4, 1], seed=1)
    before = evaluate(model, get_loss("bce_with_logits"), X, y)
    h = fit(model, X, y, loss="bce_with_logits", epochs=1, progress=False)
    assert h.loss[0] == pytest.approx(before.loss)
    assert h.acc[0] == pytest.approx(np.mean((before.scores[:, 0] > 0) == y))


def test_batch_loss_gives_the_gradient_of_the_mean_loss_plus_penalty():
    X = np.array([[1.0, -2.0], [0.5, 0.3], [-1.0, 1.5]])
    y = np.array([1.0, -0.5, 2.0])
    n = Neuron(2, activation="tanh", seed=3)

    def total(w1, w2, b):
        outs = [(w1 * a + w2 * c + b).tanh() for a, c in X.tolist()]
        return sum(((o - t) ** 2 for o, t in zip(outs, y.tolist())), 0.0) * (1 / 3) + 0.1 * (w1 * w1 + w2 * w2 + b * b)

    n.zero_grad()
    r = batch_loss(n, get_loss("mse"), X, y, lambda m: 0.1 * sum(p * p for p in m.parameters()))
    assert isinstance(r, BatchResult) and r.scores.shape == (3, 1)
    expected = numerical_grad(total, *[p.data for p in n.parameters()])
    assert [p.grad for p in n.parameters()] == pytest.approx(expected, rel=1e-6)


def test_minibatches_call_the_batch_function_once_per_batch():
    X, y = small()
    calls = []

    def counting(model, loss, xb, yb, reg):
        calls.append(len(yb))
        return batch_loss(model, loss, xb, yb, reg)

    model = MLP(2, [4, 1], seed=0)
    fit(model, X, y, loss="bce_with_logits", epochs=3, batch_size=16, batch_fn=counting, progress=False)
    assert calls == [16, 16, 8] * 3


def test_fit_checks_the_data_once_at_the_door(monkeypatch):
    # Not again in the split nor in every epoch's batches: fit hands on checked arrays.
    import nn.data
    import nn.train
    import nn.fast.replay

    calls = []

    def counting(X, y=None, what="dataset"):
        calls.append(what)
        return check(X, y, what)

    check = nn.data.check_dataset
    monkeypatch.setattr(nn.data, "check_dataset", counting)
    monkeypatch.setattr(nn.train, "check_dataset", counting)
    X, y = small()
    fit(MLP(2, [4, 1], seed=0), X, y, loss="bce_with_logits", epochs=3, batch_size=16, val=0.25, progress=False)
    assert calls == ["training data"]


def test_deterministic_under_a_seed():
    X, y = small()
    runs = []
    for _ in range(2):
        model = MLP(2, [8, 1], dropout=0.2, seed=5)
        h = fit(model, X, y, loss="bce_with_logits", epochs=4, batch_size=10, seed=11, progress=False)
        runs.append((h.loss, model.state_dict()))
    assert runs[0] == runs[1]
    model = MLP(2, [8, 1], dropout=0.2, seed=5)
    other = fit(model, X, y, loss="bce_with_logits", epochs=4, batch_size=10, seed=12, progress=False)
    assert other.loss != runs[0][0]


def test_early_stopping_restores_the_best_epoch():
    X, y = blobs(30, seed=1)
    Xv, yv = blobs(10, seed=2)
    yv = 1 - yv  # flipped: whatever training gains, validation loses, so patience runs out
    model = MLP(2, [4, 1], seed=0)
    h = fit(model, X, y, loss="bce_with_logits", optimizer=SGD(model.parameters(), lr=0.5), epochs=100,
            val=(Xv, yv), patience=3, progress=False)
    assert h.stopped_early and h.epochs < 100
    assert h.epochs == h.best_epoch + 3
    assert h.val_loss[h.best_epoch - 1] == min(h.val_loss)
    assert evaluate(model, get_loss("bce_with_logits"), Xv, yv).loss == pytest.approx(min(h.val_loss))


def test_patience_restores_the_best_epoch_when_the_epochs_run_out_first():
    X, y = blobs(30, seed=1)
    Xv, yv = blobs(10, seed=2)
    model = MLP(2, [4, 1], seed=0)
    h = fit(model, X, y, loss="bce_with_logits", optimizer=SGD(model.parameters(), lr=0.5), epochs=8,
            val=(Xv, 1 - yv), patience=20, progress=False)
    assert not h.stopped_early and h.epochs == 8 and h.best_epoch < 8
    assert h.val_loss[h.best_epoch - 1] == min(h.val_loss)
    assert evaluate(model, get_loss("bce_with_logits"), Xv, 1 - yv).loss == pytest.approx(min(h.val_loss))


def test_early_stopping_without_validation_watches_the_training_loss():
    X, y = moons(40, noise=0.3, seed=0)
    model = MLP(2, [4, 1], seed=0)
    h = fit(model, X, y, loss="bce_with_logits", optimizer=SGD(model.parameters(), lr=5.0), epochs=60, patience=3,
            progress=False)  # a learning rate this large makes the loss climb again after a few epochs
    assert h.stopped_early and h.epochs == h.best_epoch + 3 and h.val_loss == []
    assert h.loss[h.best_epoch - 1] == min(h.loss)
    # Full batch: epoch e logs the loss before its step, so the parameters from the end of
    # the best epoch are the ones epoch best_epoch + 1 logged.
    assert evaluate(model, "bce_with_logits", X, y).loss == pytest.approx(h.loss[h.best_epoch], rel=1e-12)


def test_schedule_is_stepped_once_per_epoch_and_l2_is_applied():
    X, y = small()
    model = MLP(2, [4, 1], seed=0)
    opt = SGD(model.parameters(), lr=1.0)
    h = fit(model, X, 2 * y - 1, loss="hinge", optimizer=opt, l2=1e-3, epochs=5,
            schedule=LinearDecay(opt, end=0.5, steps=5), progress=False)
    assert h.lr == pytest.approx([1.0, 0.9, 0.8, 0.7, 0.6])


def test_softmax_classifier_on_spirals_learns():
    X, y = spirals(30, k=3, seed=0)
    model = MLP(2, [8, 3], activation="tanh", seed=0)
    h = fit(model, X, y, loss="softmax_cross_entropy", optimizer=Adam(model.parameters(), lr=0.1), epochs=25,
            progress=False)
    assert h.loss[-1] < 0.75 * h.loss[0]
    assert h.acc[-1] > h.acc[0] and h.acc[-1] > 0.5


def test_regression_has_nan_accuracy():
    X = np.linspace(-1, 1, 10).reshape(-1, 1)
    y = 3 * X[:, 0] + 1
    model = MLP(1, [1], seed=0)
    h = fit(model, X, y, loss="mse", optimizer=SGD(model.parameters(), lr=0.3), epochs=60, progress=False)
    assert math.isnan(h.acc[-1]) and h.loss[-1] < 1e-3
    assert predict(model, [[0.5]])[0, 0] == pytest.approx(2.5, abs=0.05)


def test_progress_bar_with_tqdm(capsys):
    X, y = xor()
    fit(MLP(2, [2, 1], seed=0), X, y, loss="bce_with_logits", epochs=3, progress=True)
    err = capsys.readouterr().err
    # tqdm's bar, not the plain lines written without tqdm ("epoch 3/3  loss ...")
    assert "100%|" in err and "3/3 [" in err and "epoch/s" in err and "loss 0." in err


def test_progress_without_tqdm_prints_text_lines(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)  # makes `from tqdm.auto import tqdm` fail
    X, y = xor()
    fit(MLP(2, [2, 1], seed=0), X, y, loss="bce_with_logits", epochs=20, progress=True)
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 10 and lines[-1].startswith("epoch 20/20  loss ")


def test_progress_off_prints_nothing(capsys):
    X, y = xor()
    fit(MLP(2, [2, 1], seed=0), X, y, loss="bce_with_logits", epochs=3, progress=False)
    assert capsys.readouterr() == ("", "")


# --- bad input: each fails at the call, before any training ------------------------


def test_unknown_loss_name():
    X, y = xor()
    with pytest.raises(ValueError, match="unknown loss 'l2'; valid names: mse, half_squared_error"):
        fit(MLP(2, [2, 1], seed=0), X, y, loss="l2", progress=False)


def test_labels_outside_what_the_loss_expects_fail_before_training():
    X, y = blobs(20, seed=0)
    model = MLP(2, [3, 1], seed=0)
    before = model.state_dict()
    with pytest.raises(ValueError, match=r"hinge loss expects labels -1 or \+1, got 0 .*2\*y - 1"):
        fit(model, X, y, loss="hinge", progress=False)
    with pytest.raises(ValueError, match=r"bce_with_logits loss expects targets in \[0, 1\]"):
        fit(model, X, 2 * y - 1, loss="bce_with_logits", progress=False)
    with pytest.raises(ValueError, match="class 3 is out of range for 3 outputs"):
        fit(MLP(2, [3, 3], seed=0), X, y + 2, loss="softmax_cross_entropy", progress=False)
    assert model.state_dict() == before


@pytest.mark.parametrize("batched", [True, False])
def test_bce_on_raw_scores_is_a_clear_error_on_either_path(batched):
    X, y = blobs(20, seed=0)
    with pytest.raises(ValueError, match=r"bce loss expects probabilities in \[0, 1\].*use bce_with_logits"):
        fit(MLP(2, [3, 1], seed=0), X, y, loss="bce", epochs=2, batched=batched, progress=False)
    with pytest.raises(ValueError, match=r"bce loss expects probabilities in \[0, 1\]"):
        evaluate(MLP(2, [3, 1], seed=0), "bce", X, y, batched=batched)


def test_empty_and_nan_data():
    model = MLP(2, [2, 1], seed=0)
    with pytest.raises(ValueError, match="training data is empty"):
        fit(model, np.zeros((0, 2)), [], progress=False)
    X = np.ones((4, 2))
    X[1, 0] = np.nan
    with pytest.raises(ValueError, match="training data: X has a NaN or infinite value at row 2, column 1"):
        fit(model, X, [0, 1, 0, 1], progress=False)
    with pytest.raises(ValueError, match="validation data: X has a NaN"):
        fit(model, np.ones((4, 2)), [0, 1, 0, 1], val=(X, [0, 1, 0, 1]), progress=False)


def test_wrong_number_of_features():
    with pytest.raises(ValueError, match=r"expects 2 inputs per sample, got 3"):
        fit(MLP(2, [2, 1], seed=0), np.ones((4, 3)), [0, 1, 0, 1], progress=False)


def test_learning_rate_must_be_positive_in_fit_too():
    model = MLP(2, [2, 1], seed=0)
    with pytest.raises(ValueError, match="SGD learning rate lr must be a number > 0, got -1"):
        fit(model, *xor(), optimizer=SGD(model.parameters(), lr=-1), progress=False)


@pytest.mark.parametrize("options, message", [
    (dict(epochs=0), "epochs must be a positive int"),
    (dict(patience=0), "patience must be None or a positive int"),
    (dict(l2=-1.0), r"l2 \(the penalty weight\) must be a number >= 0"),
    (dict(val="some"), "val must be None, a fraction"),
    (dict(patience=2, min_delta="0.1"), r"min_delta \(the least improvement that counts\) must be a number >= 0"),
    (dict(min_delta=-0.1), "min_delta .* must be a number >= 0, got -0.1"),
    (dict(schedule="linear"), "schedule must be a Schedule such as LinearDecay"),
    (dict(schedule=LinearDecay(SGD([Neuron(1).b], lr=1.0), end=0.1, steps=5)),
     "schedule sets the learning rate of another optimizer than fit's"),
])
def test_bad_options(options, message):
    with pytest.raises((ValueError, TypeError), match=message):
        fit(MLP(2, [2, 1], seed=0), *xor(), loss="bce_with_logits", progress=False, **options)


def test_bad_model_or_optimizer():
    with pytest.raises(TypeError, match="fit needs a Module"):
        fit(lambda x: x, *xor(), progress=False)
    with pytest.raises(TypeError, match="optimizer must be an Optimizer"):
        fit(MLP(2, [2, 1], seed=0), *xor(), optimizer="adam", progress=False)


# --- evaluate and predict on the batched replay ------------------------------------------------


def _eager_only(monkeypatch):
    # The eager path builds its graph through _forward; a replay must not.
    import nn.train
    import nn.fast.replay

    def refuse(model, X):
        raise AssertionError("the eager engine ran where the replay was expected")

    monkeypatch.setattr(nn.train, "_forward", refuse)


def _same(got, want):
    np.testing.assert_allclose(got.scores, want.scores, rtol=1e-12, atol=0)
    assert got.loss == pytest.approx(want.loss, rel=1e-12, abs=0)


def _moons_model():
    X, y = moons(200, noise=0.2, seed=3)
    return MLP(2, [8, 8, 1], activation="tanh", seed=4), "bce_with_logits", X, y


def _spiral_model():
    X, y = spirals(240, k=3, seed=1)
    return MLP(2, [16, 16, 3], seed=2), "softmax_cross_entropy", X, y


def _dropout_model():
    X, y = moons(150, noise=0.2, seed=5)
    return MLP(2, [8, 8, 1], dropout=0.4, seed=6).eval(), "bce_with_logits", X, y


@pytest.mark.parametrize("make", [_moons_model, _spiral_model, _dropout_model])
def test_evaluate_and_predict_replayed_equal_the_eager_engine(make, monkeypatch):
    model, loss, X, y = make()
    want = evaluate(model, loss, X, y, batched=False)
    want_scores = predict(model, X, batched=False)
    np.testing.assert_array_equal(want_scores, want.scores)
    _eager_only(monkeypatch)
    for batched in (True, "auto"):
        got = evaluate(model, loss, X, y, batched=batched)
        _same(got, want)
        np.testing.assert_allclose(predict(model, X, batched=batched), want.scores, rtol=1e-12, atol=0)
        labels = get_loss(loss).predict
        np.testing.assert_array_equal(labels(got.scores), labels(want.scores))


def test_evaluate_keeps_the_eager_engine_for_dropout_that_is_on():
    X, y = moons(40, noise=0.2, seed=5)
    runs = [evaluate(MLP(2, [8, 1], dropout=0.4, seed=6), "bce_with_logits", X, y, batched=b) for b in ("auto", False)]
    np.testing.assert_array_equal(runs[0].scores, runs[1].scores)  # the very same random masks
    assert runs[0].loss == runs[1].loss
    model = MLP(2, [8, 1], dropout=0.4, seed=6)
    for call in (lambda: evaluate(model, "bce_with_logits", X, y, batched=True), lambda: predict(model, X, batched=True)):
        with pytest.raises(ValueError, match=r"cannot replay dropout .* or model\.eval\(\) first"):
            call()


def test_evaluate_and_predict_run_a_custom_activation_eagerly_under_auto():
    def clipped(v):  # custom code: "auto" never replays it (this one also branches on the sample's value)
        return v * 0.1 if v.data < -1 else v

    X, y = moons(30, noise=0.1, seed=0)
    model = MLP(2, [4, 1], activation=clipped, seed=1)
    with pytest.warns(ReplayFallback, match=r"^evaluate uses the eager engine: the activation 'clipped' of MLP.* is "
                                            r"custom code .*; batched=True replays it"):
        replayed = evaluate(model, "bce_with_logits", X, y)
    _same(replayed, evaluate(model, "bce_with_logits", X, y, batched=False))
    with pytest.warns(ReplayFallback, match=r"^predict uses the eager engine: the activation 'clipped'"):
        predicted = predict(model, X)
    np.testing.assert_array_equal(predicted, predict(model, X, batched=False))
    with pytest.raises(ReplayError, match=r"fn applied < to"):  # asked for: the recording's own check refuses it
        evaluate(model, "bce_with_logits", X, y, batched=True)


def test_fit_records_the_validation_replay_once_and_matches_eager_validation(monkeypatch):
    import nn.train
    import nn.fast.replay

    X, y = spirals(90, k=3, seed=0)
    Xv, yv = spirals(60, k=3, seed=1)
    made, evaluated = [], []
    original_init, original_evaluate = nn.fast.replay.Replay.__init__, nn.fast.replay.Replay.evaluate
    monkeypatch.setattr(nn.fast.replay.Replay, "__init__", lambda self, *a, **k: made.append(a[2]) or original_init(self, *a, **k))
    monkeypatch.setattr(nn.fast.replay.Replay, "evaluate", lambda self, *a: evaluated.append(1) or original_evaluate(self, *a))
    histories = []
    for batched in (True, False):
        model = MLP(2, [8, 3], activation="tanh", seed=0)
        histories.append(fit(model, X, y, loss="softmax_cross_entropy", optimizer=Adam(model.parameters(), lr=0.05),
                             epochs=5, val=(Xv, yv), l2=1e-3, progress=False, batched=batched))
        if batched is True:  # one replay for training (with the l2 penalty), one for validation, used every epoch
            assert len(made) == 2 and made[0] is not None and made[1] is None
            assert len(evaluated) == 5
    assert len(evaluated) == 5  # batched=False never replays
    np.testing.assert_allclose(histories[0].val_loss, histories[1].val_loss, rtol=1e-10)
    assert histories[0].val_acc == histories[1].val_acc


def test_fit_with_dropout_replays_validation_but_keeps_the_training_masks():
    X, y = moons(40, noise=0.1, seed=0)
    Xv, yv = moons(30, noise=0.1, seed=1)
    runs = []
    for batched in ("auto", False):
        model = MLP(2, [8, 1], dropout=0.3, seed=5)
        h = fit(model, X, y, loss="bce_with_logits", epochs=3, batch_size=8, val=(Xv, yv), progress=False,
                batched=batched)
        runs.append((model.state_dict(), h.val_loss))
    assert runs[0][0] == runs[1][0]  # recording validation in eval mode drew no mask
    np.testing.assert_allclose(runs[0][1], runs[1][1], rtol=1e-12)


def test_evaluate_and_predict_check_their_arguments():
    X, y = xor()
    model = MLP(2, [2, 1], seed=0)
    with pytest.raises(ValueError, match="batched must be True, False or 'auto'"):
        evaluate(model, "bce_with_logits", X, y, batched="yes")
    with pytest.raises(ValueError, match="batched must be True, False or 'auto'"):
        predict(model, X, batched=1.0)
    with pytest.raises(ValueError, match="bce_with_logits loss expects targets in"):
        evaluate(model, "bce_with_logits", X, 2 * y, batched=True)
    with pytest.raises(ValueError, match="evaluation data: y must be 1-D"):
        evaluate(model, "bce_with_logits", X, y[:2])


# --- batched="auto" never trains differently from batched=False ------------------------------


class _Gate(Module):
    """The issue's first case: a branch on a parameter's .data, which training flips."""

    def __init__(self):
        self.v, self.w = Value(0.8, kind="param"), Value(0.05, kind="param")

    def __call__(self, x):
        z = self.v * x[0] + self.w
        return z if self.w.data > 0 else z * 0.5


class _Rounding(Module):
    """The issue's second case: a branch on round(x.data) that samples 0, the most unlike and the last all take alike."""

    def __init__(self):
        self.v, self.w = Value(0.3, kind="param"), Value(-0.2, kind="param")

    def __call__(self, x):
        x0 = x[0]
        z = self.v * x0 + self.w
        return z * 3.0 if round(x0.data if isinstance(x0, Value) else x0) else z


def _trained(make, X, y, batched, **options):
    model = make()
    h = fit(model, X, y, loss="mse", optimizer=SGD(model.parameters(), lr=0.3), epochs=30, progress=False,
            batched=batched, **options)
    return model, h


@pytest.mark.parametrize("case", ["parameter", "input"])
def test_auto_trains_as_the_eager_engine_when_the_model_branches_on_data(case):
    if case == "parameter":
        make, X = _Gate, np.linspace(-1, 1, 20)[:, None]
        y = -0.5 + 0.2 * X[:, 0]  # pulls w below 0: the branch flips during training
    else:
        make = _Rounding
        X = np.array([[0.1], [0.2], [0.9], [0.3], [0.05], [0.2]])  # sample 0, the farthest (2) and the last agree
        X[2, 0], X[3, 0] = 0.45, 0.8  # ... on round(); sample 3 rounds to 1
        y = np.array([0.1, 0.2, 0.3, 2.0, 0.0, 0.1])
    eager, h_eager = _trained(make, X, y, False)
    # A custom module: "auto" does not even record it (it used to, and the recording refused the branch).
    with pytest.warns(ReplayFallback, match=rf"^fit uses the eager engine: {make.__name__} is a custom module, .*; "
                                            r"batched=True replays it"):
        auto, h_auto = _trained(make, X, y, "auto")
    assert auto.state_dict() == eager.state_dict() and h_auto.loss == h_eager.loss
    with pytest.raises(ReplayError, match=r"fn applied .* which depends on the inputs or the parameters"):
        _trained(make, X, y, True)  # asked for: the recording's checks refuse it, as before
    if case == "parameter":
        assert eager.w.data < 0  # the branch did flip, so a stale recording would have trained differently


def test_auto_replays_a_plain_mlp_without_a_word_and_trains_as_eager():
    X, y = moons(30, noise=0.1, seed=0)
    runs = []
    for batched in ("auto", False):
        model = MLP(2, [6, 6, 1], seed=2)
        with warnings.catch_warnings():
            warnings.simplefilter("error", ReplayFallback)
            fit(model, X, 2 * y - 1, loss="hinge", epochs=15, l2=1e-3, progress=False, batched=batched)
        runs.append([p.data for p in model.parameters()])
    np.testing.assert_allclose(runs[0], runs[1], rtol=1e-9, atol=1e-12)


class _OwnMLP(MLP):
    """An MLP whose class is not nn's: its layers are recorded node by node, not lowered."""


@pytest.mark.parametrize("make, why", [
    (lambda: Maxout(3, 70, pieces=2, seed=1), "more than 64 recordings"),  # nn's own, but not recordable
    (lambda: _OwnMLP(3, [70], seed=1), "_OwnMLP is a custom module"),  # not nn's own: not even recorded
])
def test_seventy_classes_fall_back_in_fit_and_evaluate(make, why):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(140, 3)), np.arange(140) % 70
    runs = []
    for batched in ("auto", False):
        model = make()
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            fit(model, X, y, loss="softmax_cross_entropy", epochs=2, progress=False, batched=batched)
            r = evaluate(model, "softmax_cross_entropy", X, y, batched=batched)
        runs.append(([p.data for p in model.parameters()], r))
        messages = [str(w.message) for w in seen if w.category is ReplayFallback]
        if batched == "auto":
            assert len(messages) == 2 and why in messages[0] and why in messages[1]
            assert messages[0].startswith("fit uses the eager engine") and messages[1].startswith("evaluate uses")
        else:
            assert messages == []
    assert runs[0][0] == runs[1][0]
    assert runs[0][1].loss == runs[1][1].loss


def test_seventy_classes_on_known_layers_replay_with_the_loss_twin():
    # No recording per class: softmax_cross_entropy's array twin runs over all 70 outputs.
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(140, 3)), np.arange(140) % 70
    runs = []
    for batched in ("auto", False):
        model = MLP(3, [8, 70], seed=1)
        with warnings.catch_warnings():
            warnings.simplefilter("error", ReplayFallback)
            h = fit(model, X, y, loss="softmax_cross_entropy", optimizer=Adam(model.parameters(), lr=0.01),
                    epochs=5, progress=False, batched=batched)
            r = evaluate(model, "softmax_cross_entropy", X, y, batched=batched)
        runs.append(([p.data for p in model.parameters()], h.loss, r.loss))
    np.testing.assert_allclose(runs[0][0], runs[1][0], rtol=1e-11, atol=1e-14)
    np.testing.assert_allclose(runs[0][1] + [runs[0][2]], runs[1][1] + [runs[1][2]], rtol=1e-12)


@pytest.mark.parametrize("l1, l2", [(1e-2, 0.0), (0.0, 1e-2), (3e-3, 2e-2)])
def test_the_replays_bulk_penalty_trains_as_the_eager_graph(l1, l2):
    # Biases start at 0, where |p| = max(p, −p) has a tie: gradient 0 both ways.
    X, y = moons(30, noise=0.1, seed=1)
    runs = []
    for batched in (True, False):
        model = MLP(2, [5, 1], seed=4)
        fit(model, X, y, loss="bce_with_logits", epochs=8, l1=l1, l2=l2, progress=False, batched=batched)
        runs.append([p.data for p in model.parameters()])
    np.testing.assert_allclose(runs[0], runs[1], rtol=1e-12, atol=1e-15)


# --- real data: scikit-learn's digits ----------------------------------------------------------


def test_gradflow_train_digits_reaches_95_percent_and_saves_the_misclassified(tmp_path, capsys):
    pytest.importorskip("sklearn")
    pytest.importorskip("matplotlib")
    from viz.cli import main

    assert main(["train", "digits", "--no-progress", "-o", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    accuracy = float(out.split("test accuracy ")[1].split("%")[0]) / 100
    assert accuracy >= 0.95, out
    assert "MLP(64, [32, 10]" in out and "on 359 held-out images" in out
    assert (tmp_path / "misclassified.png").stat().st_size > 5000 and (tmp_path / "loss_curve.png").exists()
    assert main(["train", "digits", "--samples", "10", "-o", str(tmp_path)]) == 2
    assert "does not apply to digits" in capsys.readouterr().err


def test_digits_are_the_bundled_8x8_images():
    pytest.importorskip("sklearn")
    from nn import digits

    X, y = digits()
    assert X.shape == (1797, 64) and X.dtype == float and 0 <= X.min() and X.max() == 1.0
    assert np.bincount(y).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]


def test_a_batch_bigger_than_a_chunk_trains_as_one_batch(monkeypatch):
    import nn.train
    import nn.fast.replay

    X, y = spirals(90, k=3, seed=2)
    runs = []
    for chunk in (7, nn.fast.replay.Replay.chunk):
        monkeypatch.setattr(nn.fast.replay.Replay, "chunk", chunk)
        for loss, target in (("softmax_cross_entropy", y), ("mse", y / 2.0)):
            model = MLP(2, [6, 3], activation="tanh", seed=1)
            h = fit(model, X, target, loss=loss, epochs=4, l2=1e-3, progress=False, batched=True)
            runs.append((loss, [p.data for p in model.parameters()], h.loss))
    for (_, p_small, h_small), (_, p_big, h_big) in zip(runs[:2], runs[2:]):
        np.testing.assert_allclose(p_small, p_big, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(h_small, h_big, rtol=1e-12)


@pytest.mark.parametrize("kind", [MLP, _OwnMLP])  # the loss's array twin; recordings
@pytest.mark.parametrize("classes", [3, 20])  # one recording with one-hot targets; one recording per target
def test_softmax_targets_replay_as_the_eager_engine(classes, kind):
    import nn.train
    import nn.fast.replay

    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(3 * classes, 3)), np.arange(3 * classes) % classes
    runs = []
    for batched in (True, False):
        model = kind(3, [5, classes], seed=2)
        made = []
        original = nn.fast.replay.trace
        nn.fast.replay.trace = lambda *a, **k: made.append(1) or original(*a, **k)
        try:
            h = fit(model, X, y, loss="softmax_cross_entropy", epochs=3, batch_size=16, progress=False, batched=batched)
        finally:
            nn.fast.replay.trace = original
        runs.append(([p.data for p in model.parameters()], h.loss, len(made)))
    np.testing.assert_allclose(runs[0][0], runs[1][0], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(runs[0][1], runs[1][1], rtol=1e-12)
    # Known layers: no recording. Else the plain attempt, then the mixed or per-target ones.
    assert runs[0][2] == (0 if kind is MLP else 2 if classes <= 16 else 1 + classes)
