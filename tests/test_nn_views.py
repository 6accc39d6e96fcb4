"""fit's per-step fast path (issue 21, item 5): known layers as views of the Store, and the loop's fixed cost.

Every change here is held to the path it replaced: the same parameters, gradients, history and errors,
bit for bit, as the gather/scatter path of ``engine.replay.Dense`` (which the tests in test_nn_replay hold
to the eager engine).
"""

import warnings

import numpy as np
import pytest

import nn.fast.replay
import nn.train
from engine import Value
from engine.replay import Dense
from nn import MLP, SGD, Adam, Layer, Neuron, fit
from nn.data import moons, spirals
from nn.fast import Store
from nn.fast.views import Views, finite


def _state(model):
    ps = model.parameters()
    return np.array([p.data for p in ps]), np.array([p.grad for p in ps]), [p.passes for p in ps]


def _bits(a):
    # Equal as bits: 0.0 and -0.0 differ here.
    return np.asarray(a, dtype=float).view(np.int64)


def _same_history(a, b):
    da, db = a.as_dict(), b.as_dict()
    assert da.keys() == db.keys()
    for k in da:  # NaN accuracy (regression) counts as equal
        np.testing.assert_array_equal(_bits(da[k]), _bits(db[k]))


def _two_ways(monkeypatch, make, X, y, opt=None, **kw):
    # The same fit through Views (the default) and through Dense's gather/scatter (Views.of says no).
    runs, direct = [], []
    real = nn.fast.replay.Replay._direct

    def counting(self, *a):
        direct.append(1)
        return real(self, *a)

    monkeypatch.setattr(nn.fast.replay.Replay, "_direct", counting)
    for views in (True, False):
        if not views:
            monkeypatch.setattr(nn.fast.replay.Views, "of", classmethod(lambda cls, *a: None))
        model = make()
        before = len(direct)
        h = fit(model, X, y, optimizer=opt(model) if opt else None, progress=False, **kw)
        runs.append((model, h, len(direct) - before))
    monkeypatch.undo()
    return runs


CASES = [
    dict(make=lambda: MLP(2, [8, 8, 1], seed=0), data="moons", loss="hinge", l2=1e-4),
    dict(make=lambda: MLP(2, [6, 5, 1], activation="tanh", seed=1), data="moons", loss="bce_with_logits", l1=1e-3),
    dict(make=lambda: MLP(2, [7, 1], activation="leaky_relu", seed=2), data="moons", loss="mse", l1=1e-3, l2=1e-3),
    dict(make=lambda: MLP(2, [8, 3], activation="elu", seed=0), data="spirals", loss="softmax_cross_entropy",
         opt=lambda m: Adam(m.parameters(), lr=0.05)),
    dict(make=lambda: MLP(2, [5, 1], output_activation="sigmoid", seed=3), data="moons", loss="bce",
         opt=lambda m: SGD(m.parameters(), lr=0.5, momentum=0.9, nesterov=True)),
    dict(make=lambda: Layer(2, 1, activation="linear", seed=0), data="moons", loss="hinge", l2=1e-2),
    dict(make=lambda: Neuron(2, activation="relu", seed=4), data="moons", loss="mse"),
]


@pytest.mark.parametrize("case", range(len(CASES)))
def test_views_train_bit_for_bit_as_dense_gather_and_scatter(monkeypatch, case):
    spec = dict(CASES[case])
    make, data, opt = spec.pop("make"), spec.pop("data"), spec.pop("opt", None)
    if data == "moons":
        X, y = moons(90, noise=0.2, seed=case)
        if spec["loss"] == "hinge":
            y = 2.0 * y - 1.0
    else:
        X, y = spirals(90, k=3, seed=case)
    (a, ha, used), (b, hb, unused) = _two_ways(monkeypatch, make, X, y, opt, epochs=7, **spec)
    assert used == 7 and unused == 0  # the first run went through Views every step, the second never
    da, ga, pa = _state(a)
    db, gb, pb = _state(b)
    np.testing.assert_array_equal(_bits(da), _bits(db))
    np.testing.assert_array_equal(_bits(ga), _bits(gb))  # the last gradients, signs of zeros included
    assert pa == pb == [0] * len(pa)
    _same_history(ha, hb)


def test_views_with_validation_patience_and_minibatches_equal_dense(monkeypatch):
    X, y = moons(120, noise=0.3, seed=0)
    kw = dict(loss="bce_with_logits", epochs=12, batch_size=32, val=0.25, patience=3, l2=1e-3)
    (a, ha, used), (b, hb, _) = _two_ways(monkeypatch, lambda: MLP(2, [6, 6, 1], seed=1), X, y,
                                          lambda m: SGD(m.parameters(), lr=0.3), **kw)
    assert used > 0
    np.testing.assert_array_equal(_bits(_state(a)[0]), _bits(_state(b)[0]))
    _same_history(ha, hb)
    assert ha.best_epoch == hb.best_epoch


def test_a_batch_bigger_than_a_chunk_goes_through_dense(monkeypatch):
    monkeypatch.setattr(nn.fast.replay.Replay, "chunk", 32)  # 90 samples: three chunks
    X, y = moons(90, noise=0.2, seed=0)
    (a, _, used), (b, _, _) = _two_ways(monkeypatch, lambda: MLP(2, [4, 1], seed=0), X, y, loss="mse", epochs=3)
    assert used == 0
    np.testing.assert_array_equal(_bits(_state(a)[0]), _bits(_state(b)[0]))


def test_views_are_made_only_for_the_layout_nn_uses():
    model = MLP(2, [3, 2], seed=0)
    params = model.parameters()
    leaves, layers = model._dense(params)
    store = Store(params)
    assert Views.of(Dense(leaves, layers), store, params) is not None
    # The same layers over another order of the same leaves: a gather, not a view.
    W, b, act = layers[0]
    swapped = [(W[::-1], b[::-1], act)] + layers[1:]
    assert Views.of(Dense(leaves, swapped), store, params) is None
    # Leaves that are not the store's own list, or a store holding more than the layers.
    assert Views.of(Dense(list(leaves), layers), store, params) is None
    extra = Value(1.0, kind="param")
    assert Views.of(Dense(leaves, layers), Store(params + [extra]), params) is None
    assert Views.of(None, store, params) is None


def test_views_forward_and_backward_equal_dense():
    rng = np.random.default_rng(0)
    model = MLP(3, [5, 4, 2], activation="softplus", seed=0)
    params = model.parameters()
    dense, store = Dense(*model._dense(params), checked=True), Store(params)
    views = Views.of(dense, store, params)
    X, G = rng.normal(size=(11, 3)), rng.normal(size=(11, 2))
    np.testing.assert_array_equal(views.forward(X), dense.forward(X, dense.values()))
    store.zero()
    views.backward(G)
    np.testing.assert_array_equal(_bits(store.grad), _bits(0.0 + dense.backward(G)))
    with pytest.raises(RuntimeError, match="not all 0"):
        views.backward(G)  # += on gradients already there would not be Dense's 0 + g


def test_a_gradient_past_floats_range_adds_nothing_and_says_what_dense_says(monkeypatch):
    X, y = np.array([[1e300], [2e300]]), np.array([-1e10, -1e10])
    outcomes = []
    for views in (True, False):
        if not views:
            monkeypatch.setattr(nn.fast.replay.Views, "of", classmethod(lambda cls, *a: None))
        model = Neuron(1, activation="linear", seed=0)
        model.w[0].data, model.b.data = 1e-300, 0.0
        with pytest.raises(OverflowError) as got:
            fit(model, X, y, loss="mse", epochs=2, progress=False)
        outcomes.append((str(got.value), _state(model)))
    (ea, (da, ga, _)), (eb, (db, gb, _)) = outcomes
    assert ea == eb and "no gradient was changed" in ea
    assert da.tolist() == db.tolist() == [1e-300, 0.0]
    assert ga.tolist() == gb.tolist() == [0.0, 0.0]


def test_a_forward_overflow_names_the_sample_as_dense_does(monkeypatch):
    X, y = np.array([[1.0], [1e200]]), np.array([1.0, 1.0])
    errors = []
    for views in (True, False):
        if not views:
            monkeypatch.setattr(nn.fast.replay.Views, "of", classmethod(lambda cls, *a: None))
        model = MLP(1, [2, 1], activation="linear", seed=0)
        for p in model.parameters():
            p.data = 1e150
        with pytest.raises(OverflowError) as got:
            fit(model, X, y, loss="mse", epochs=1, progress=False)
        errors.append(str(got.value))
        assert all(p.grad == 0.0 for p in model.parameters())
    assert errors[0] == errors[1] and errors[0].startswith("sample 1: add:")


def test_scores_bce_refuses_add_no_gradient(monkeypatch):
    X, y = moons(20, seed=0)
    errors = []
    for views in (True, False):
        if not views:
            monkeypatch.setattr(nn.fast.replay.Views, "of", classmethod(lambda cls, *a: None))
        model = MLP(2, [3, 1], seed=0)  # linear output: raw scores, not probabilities
        for p in model.layers[-1].parameters():
            p.data = 5.0
        with pytest.raises(ValueError) as got:
            fit(model, X, y, loss="bce", epochs=1, progress=False)
        errors.append(str(got.value))
        assert all(p.grad == 0.0 for p in model.parameters())
    assert errors[0] == errors[1] and "bce loss expects probabilities" in errors[0]


@pytest.mark.filterwarnings("error")
def test_finite_is_isfinite_all():
    with np.errstate(over="ignore", invalid="ignore"):
        _finite_cases()


def _finite_cases():
    assert finite(np.array([1.0, -2.0])) and finite(np.zeros((0, 3)))
    for bad in (np.inf, -np.inf, np.nan):
        assert not finite(np.array([[1.0, bad], [0.0, 2.0]]))
    assert finite(np.array([1e308, 1e308, 1e308]))  # the sum overflows, every element is finite
    assert not finite(np.array([np.inf, -np.inf]))  # inf − inf is NaN: caught too


def test_accuracy_is_np_mean_of_the_hits():
    rng = np.random.default_rng(1)
    hinge, ce = nn.train.get_loss("hinge"), nn.train.get_loss("softmax_cross_entropy")
    for n in (1, 7, 100, 1001):
        y = rng.choice([-1.0, 1.0], n)
        scores = rng.normal(size=(n, 1))
        assert nn.train._accuracy(hinge, scores, y) == float(np.mean(hinge.predict(scores) == y))
        y3, s3 = rng.integers(0, 3, n), rng.normal(size=(n, 3))
        assert nn.train._accuracy(ce, s3, y3) == float(np.mean(ce.predict(s3) == y3))
    assert np.isnan(nn.train._accuracy(nn.train.get_loss("mse"), scores, y))


def test_full_batch_arrays_are_made_once_for_fits_engines_and_fresh_for_a_batch_fn_of_ones_own():
    X, y = moons(30, seed=0)
    seen = []

    def mine(model, loss, Xb, yb, reg):
        seen.append((Xb, yb))
        return nn.train.batch_loss(model, loss, Xb, yb, reg)

    fit(MLP(2, [3, 1], seed=0), X, y, loss="bce_with_logits", epochs=3, progress=False, batch_fn=mine)
    assert len(seen) == 3 and seen[0][0] is not seen[1][0]  # a copy every epoch, as before, in order
    for Xb, yb in seen:
        np.testing.assert_array_equal(Xb, X)
        np.testing.assert_array_equal(yb, y)
    # Fortran-ordered data: the engines get C-ordered rows, as indexing gave them.
    XF = np.asfortranarray(X)
    a, b = MLP(2, [3, 1], seed=0), MLP(2, [3, 1], seed=0)
    fit(a, XF, y, loss="bce_with_logits", epochs=3, progress=False)
    fit(b, X, y, loss="bce_with_logits", epochs=3, progress=False)
    np.testing.assert_array_equal(_state(a)[0], _state(b)[0])


def test_fit_puts_passes_back_to_zero_and_leaves_other_leaves_alone():
    X, y = moons(30, seed=0)
    model = MLP(2, [3, 1], seed=0)
    (model(X[0].tolist())[0] * 1.0).backward()
    (model(X[1].tolist())[0] * 1.0).backward()
    assert {p.passes for p in model.parameters()} == {2}
    fit(model, X, y, loss="bce_with_logits", epochs=2, progress=False)
    assert {p.passes for p in model.parameters()} == {0}


class _Own(nn.Module):
    # A module fit does not know: the replay, asked for, records it and checks it against the eager engine.
    def __init__(self):
        self.n = Neuron(1, activation="linear", seed=0)

    def __call__(self, x):
        return self.n(x)


def _overflowing(kind):
    # Each term finite (1.69e308 and 1.44e308: mse of outputs near 1.3e154 against 0 and 1e153), their sum not.
    model = _Own() if kind == "own" else Neuron(1, activation="linear", seed=0)
    n = model.n if kind == "own" else model
    n.w[0].data, n.b.data = 1.0, 1.3e154
    return model


class _Stepping(SGD):
    def step(self):  # its own step: fit keeps the Values as the parameters, and the replay skips the views
        super().step()


@pytest.mark.parametrize("kind, batched", [("known", False), ("known", True), ("own", True), ("no store", True)])
def test_terms_whose_sum_overflows_raise_the_eager_engines_error_on_every_path(kind, batched):
    # The eager Loss adds the terms up as Values, and the add past float's range raises: fit and
    # evaluate say so on every path, in those words, with no parameter changed. The views and the
    # gather path (an optimizer with its own step) and a recorded module, asked for, all do.
    X, y = np.array([[1e-10], [2e-10]]), np.array([0.0, 1e153])
    model = _overflowing(kind)
    before = [p.data for p in model.parameters()]
    opt = (_Stepping if kind == "no store" else SGD)(model.parameters(), lr=1e-160)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's overflow warning neither
        with pytest.raises(OverflowError, match=r"^add: add\(1\.6\d*e\+308, 1\.4\d*e\+308\) overflows a float \(gives inf\)"):
            fit(model, X, y, loss="mse", optimizer=opt, epochs=2, progress=False, batched=batched)
        assert [p.data for p in model.parameters()] == before and {p.grad for p in model.parameters()} == {0.0}
        with pytest.raises(OverflowError, match=r"^add: add\(1\.6\d*e\+308, 1\.4\d*e\+308\)"):
            nn.train.evaluate(model, "mse", X, y, batched=batched)
    # Where the engine lets inf through on purpose, the loss is inf on every path, as eager's is.
    with Value.allow_nonfinite(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        h = fit(_overflowing(kind), X, y, loss="mse", optimizer=None, epochs=2, progress=False, batched=batched)
    assert h.loss == [np.inf, np.inf]


def test_a_gradient_of_the_loss_past_floats_range_is_the_losss_error_on_both_paths(monkeypatch):
    # Terms all finite, one gradient not: the views find it from the weights' gradients and raise the
    # loss's error (naming the sample), not the weights', with nothing added, as the gather path does.
    X, y = moons(12, seed=0)
    y = 2.0 * y - 1.0
    model = MLP(2, [3, 1], seed=0)
    params = model.parameters()
    errors = []
    for views in (True, False):
        if not views:
            monkeypatch.setattr(nn.fast.replay.Views, "of", classmethod(lambda cls, *a: None))
        replay = nn.fast.replay.Replay(model, nn.train.get_loss("hinge"), None, params=params, checked=True)
        twin = replay.vterm

        def bad(S, T, seed):
            terms, G = twin(S, T, seed)
            G[3, 0] = np.inf
            return terms, G

        replay.vterm = bad
        replay.store = store = Store(params)
        store.zero()
        with pytest.raises(OverflowError) as got:
            replay(model, replay.loss, X, y, None)
        assert (replay._views[1] is not None) == views
        errors.append(str(got.value))
        assert _bits(store.grad).tolist() == [0] * len(params)
    assert errors[0] == errors[1] and errors[0].startswith("sample 3: the gradient of the hinge loss")


def test_weight_gradients_written_in_place_are_0_plus_g_even_from_a_blas_that_gives_minus_zero(monkeypatch):
    # The views write each weight gradient straight into the store, then add 0.0 to the block, which is
    # what 0 + g (Dense's scatter into zeros) gives. OpenBLAS sums from +0.0; a library that gave −0.0
    # for a sum of −0.0 products would otherwise leave −0.0 where Dense has 0.0.
    real = np.matmul

    def minus_zero(a, b, out=None):
        got = real(a, b, out=out)
        got[got == 0.0] = -0.0
        return got

    monkeypatch.setattr(nn.fast.views, "_MATMUL", minus_zero)
    model = MLP(2, [4, 3, 1], seed=0)
    params = model.parameters()
    dense, store = Dense(*model._dense(params), checked=True), Store(params)
    views = Views.of(dense, store, params)
    X = np.array([[1.0, 2.0], [-1.0, 0.5], [0.0, -3.0]])
    G = np.array([[-0.0], [0.5], [-0.0]])
    dense.forward(X, dense.values())
    want = 0.0 + dense.backward(G)
    np.testing.assert_array_equal(views.forward(X), dense.forward(X, dense.values()))
    store.zero()
    views.backward(G)
    assert (want == 0.0).any()
    np.testing.assert_array_equal(_bits(store.grad), _bits(want))


def test_a_hidden_sum_past_floats_range_that_relu_hides_is_still_the_error_dense_gives(monkeypatch):
    # Layer 1's sums go to −inf for sample 1; ReLU makes them 0 and every later number is finite, so
    # only the check of every layer's sums sees it.
    X, y = np.array([[1.0], [1e200]]), np.array([1.0, -1.0])
    errors = []
    for views in (True, False):
        if not views:
            monkeypatch.setattr(nn.fast.replay.Views, "of", classmethod(lambda cls, *a: None))
        model = MLP(1, [2, 1], seed=0)
        for p in model.layers[0].parameters():
            p.data = -1e200
        with pytest.raises(OverflowError) as got:
            fit(model, X, y, loss="hinge", epochs=1, progress=False)
        errors.append(str(got.value))
        assert all(p.grad == 0.0 for p in model.parameters())
    assert errors[0] == errors[1] and errors[0].startswith("sample 1: add: the weighted sum of neuron 1 of layer 1")


def test_the_hinge_twin_is_its_old_formula_bit_for_bit():
    # 1.0 − T·s and ((−seed)·relu′)·T in place of 1.0 + (−T)·s and (seed·relu′)·(−T): the same bits,
    # the signs of zeros included (a margin met gives a gradient of ±0.0 by the target's sign).
    from engine.ops import OPS

    relu = OPS["relu"]
    s = np.array([0.0, -0.0, 1.0, -1.0, 0.5, 2.0, -3.0, 1e-300, 1e308, -1e308, 7.25, 1 - 2**-53,
                  np.inf, -np.inf, np.nan])
    S = np.concatenate([s, s])[:, None]
    T = np.repeat([1.0, -1.0], len(s))
    hinge = nn.train.get_loss("hinge")
    for seed in (1.0 / len(T), 0.5, 1e-320):
        with np.errstate(all="ignore"):
            terms, G = hinge.vterm(S, T, seed)
            z = 1.0 + -T * S[:, 0]
            out = relu.vf(z, None)
            want = (seed * relu.vd(z, out, None)[0]) * -T
        np.testing.assert_array_equal(_bits(terms), _bits(out))
        np.testing.assert_array_equal(_bits(G[:, 0]), _bits(want))
        assert G.shape == (len(T), 1)


def test_hinge_counts_its_hits_as_predict_does_and_a_subclass_by_its_own_predict():
    hinge = nn.train.get_loss("hinge")
    S = np.array([[0.0], [-0.0], [1e-300], [-2.0], [np.nan], [3.0]])
    for y in (np.array([1.0, -1.0, 1.0, -1.0, -1.0, 1.0]), np.array([-1, 1, -1, 1, 1, -1]), -np.ones(6)):
        assert hinge.correct(S, y) == int(np.count_nonzero(hinge.predict(S) == y))

    class Flipped(type(hinge)):
        def predict(self, scores):
            return -super().predict(scores)

    y = np.array([1.0, -1.0, 1.0, -1.0, -1.0, 1.0])
    assert Flipped().correct(S, y) == 6 - hinge.correct(S, y)
    assert nn.train.get_loss("mse").correct(S, y) is None
