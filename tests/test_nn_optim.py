"""Optimizers against hand-computed steps and against PyTorch's trajectories; schedules."""

import math

import pytest

from engine import Value
import nn
from nn import SGD, Adam, AdamW, ExponentialDecay, LinearDecay, RMSprop, StepDecay


def param(x, label=""):
    return Value(x, label, kind="param")


def f(w1, w2):
    # Non-quadratic, so momentum and moment estimates change from step to step.
    return (w1 * w2 - 1) ** 2 + 0.5 * (w1 - 2) ** 2 + 0.25 * w2**4


# Positions after 8 steps on f from (0.5, −1.5), recorded with torch 2.13.0
# (float64, torch.optim.<name>([w], **options), the same f). The project does
# not depend on PyTorch; these numbers pin its conventions.
TORCH = [
    ("SGD", {'lr': 0.1}, [0.3007875939317479, -0.4556887352378257]),
    ("SGD", {'lr': 0.1, 'momentum': 0.9}, [2.2233195709532216, 0.8632723251384343]),
    ("SGD", {'lr': 0.1, 'momentum': 0.9, 'dampening': 0.5, 'weight_decay': 0.1}, [0.8821769747614773, 0.963812929220582]),
    ("SGD", {'lr': 0.05, 'momentum': 0.8, 'nesterov': True, 'weight_decay': 0.01}, [0.6368928365541878, 0.12935566682728508]),
    ("RMSprop", {'lr': 0.01}, [0.1724936670143444, -1.1448301822010523]),
    ("RMSprop", {'lr': 0.01, 'alpha': 0.9, 'momentum': 0.5, 'centered': True, 'weight_decay': 0.1}, [0.22739996874414595, -1.2150360489883496]),
    ("Adam", {'lr': 0.1}, [-0.1431127938882985, -0.7939093578894252]),
    ("Adam", {'lr': 0.05, 'betas': (0.8, 0.99), 'weight_decay': 0.1}, [0.13722499612828537, -1.126433968881014]),
    ("Adam", {'lr': 0.05, 'amsgrad': True}, [0.12468294166943185, -1.1173105686015516]),
    ("AdamW", {'lr': 0.1}, [-0.14251713889362144, -0.7858950978689632]),
    ("AdamW", {'lr': 0.05, 'weight_decay': 0.5, 'amsgrad': True}, [0.08410265441786875, -0.8876677500396796]),
]


@pytest.mark.parametrize("name, options, expected", TORCH, ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(TORCH)])
def test_trajectory_matches_pytorch(name, options, expected):
    w = [param(0.5), param(-1.5)]
    opt = getattr(nn, name)(w, **options)
    for _ in range(8):
        opt.zero_grad()
        f(*w).backward()
        opt.step()
    assert [p.data for p in w] == pytest.approx(expected, rel=1e-12, abs=1e-14)


# 20 steps with the lr halved every 3 (torch.optim.lr_scheduler.StepLR(step_size=3, gamma=0.5)),
# recorded as above: AdamW's decay must use the lr of the moment.
TORCH_SCHEDULED = [
    ("SGD", {'lr': 0.05, 'momentum': 0.5, 'dampening': 0.3}, [0.07958150892197784, -0.6834390892231659]),
    ("RMSprop", {'lr': 0.01, 'centered': True, 'eps': 0.001}, [0.2165851240942478, -1.2005990008415017]),
    ("AdamW", {'lr': 0.02, 'betas': (0.5, 0.6), 'weight_decay': 0.2}, [0.37189815587189534, -1.3481787735616428]),
]


@pytest.mark.parametrize("name, options, expected", TORCH_SCHEDULED, ids=[n for n, _, _ in TORCH_SCHEDULED])
def test_scheduled_trajectory_matches_pytorch(name, options, expected):
    w = [param(0.5), param(-1.5)]
    opt = getattr(nn, name)(w, **options)
    schedule = StepDecay(opt, every=3, gamma=0.5)
    for _ in range(20):
        opt.zero_grad()
        f(*w).backward()
        opt.step()
        schedule.step()
    assert [p.data for p in w] == pytest.approx(expected, rel=1e-12, abs=1e-14)


def grad_steps(opt, params, grads_per_step):
    # Feed fixed gradients, as if backward() had produced them.
    seen = []
    for grads in grads_per_step:
        for p, g in zip(params, grads):
            p.grad = g
        opt.step()
        seen.append([p.data for p in params])
    return seen


def test_sgd_plain_step_by_hand():
    w = param(1.0)
    assert grad_steps(SGD([w], lr=0.5), [w], [[2.0], [-1.0]]) == [[0.0], [0.5]]


def test_sgd_momentum_by_hand():
    w = param(0.0)
    # b1 = g1 = 1; b2 = 0.9·1 + 1 = 1.9; w = −0.1 − 0.19
    got = grad_steps(SGD([w], lr=0.1, momentum=0.9), [w], [[1.0], [1.0]])
    assert got == [[pytest.approx(-0.1)], [pytest.approx(-0.29)]]


def test_sgd_nesterov_by_hand():
    w = param(0.0)
    # step 1: b = 1, g = 1 + 0.9·1 = 1.9; step 2: b = 1.9, g = 1 + 0.9·1.9 = 2.71
    got = grad_steps(SGD([w], lr=0.1, momentum=0.9, nesterov=True), [w], [[1.0], [1.0]])
    assert got == [[pytest.approx(-0.19)], [pytest.approx(-0.19 - 0.271)]]


def test_sgd_weight_decay_adds_wd_times_p():
    w = param(2.0)
    assert grad_steps(SGD([w], lr=0.1, weight_decay=0.5), [w], [[0.0]]) == [[pytest.approx(1.9)]]


def test_rmsprop_by_hand():
    w = param(1.0)
    # v1 = 0.01·g² = 0.04 → step 2/0.2 = 10; v2 = 0.99·0.04 + 0.01·4 = 0.0796
    got = grad_steps(RMSprop([w], lr=0.01, eps=0.0), [w], [[2.0], [2.0]])
    assert got[0][0] == pytest.approx(0.9)
    assert got[1][0] == pytest.approx(0.9 - 0.01 * 2 / math.sqrt(0.0796))


def test_centered_rmsprop_variance_never_goes_below_zero():
    # With a constant gradient the running variance is (1 − α^t)·α^t·g² > 0, which
    # rounding takes below 0 at step 330 here: a NaN weight without the clamp.
    w = param(0.0)
    opt = RMSprop([w], lr=1e-3, alpha=0.9, centered=True)
    grad_steps(opt, [w], [[2.9]] * 400)
    assert math.isfinite(w.data)


def test_adam_bias_correction_by_hand():
    w = param(1.0)
    opt = Adam([w], lr=0.1, betas=(0.9, 0.999), eps=0.0)
    got = grad_steps(opt, [w], [[4.0], [1.0]])
    # step 1: m̂ = g, v̂ = g² → a step of exactly lr (PyTorch's bias correction)
    assert got[0][0] == pytest.approx(0.9)
    m = 0.9 * (0.1 * 4) + 0.1 * 1
    v = 0.999 * (0.001 * 16) + 0.001 * 1
    step = (m / (1 - 0.9**2)) / math.sqrt(v / (1 - 0.999**2))
    assert got[1][0] == pytest.approx(0.9 - 0.1 * step)


def test_adamw_decays_weights_outside_the_moments():
    a, b = param(1.0), param(1.0)
    grad_steps(AdamW([a], lr=0.1, weight_decay=0.5), [a], [[0.0], [0.0]])
    assert a.data == pytest.approx(1.0 * 0.95 * 0.95)  # zero gradient: only the decay acts
    grad_steps(Adam([b], lr=0.1, weight_decay=0.5), [b], [[0.0]])
    assert b.data == pytest.approx(0.9)  # Adam's L2 goes through the moments: a full step of lr


def test_zero_grad_and_step_work_on_a_module():
    model = nn.MLP(2, [3, 1], seed=0)
    opt = Adam(model, lr=0.01)
    before = model.state_dict()
    out = model([1.0, 2.0])[0]
    out.backward()
    opt.step()
    assert model.state_dict() != before
    opt.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


def test_a_model_gets_better():
    X, y = nn.blobs(20, seed=0)
    model = nn.MLP(2, [1], seed=0)
    for name in ("SGD", "RMSprop", "Adam", "AdamW"):
        for p, v in zip(model.parameters(), [0.1, -0.1, 0.0]):
            p.data = v
        opt = getattr(nn, name)(model.parameters(), lr=0.2)
        losses = []
        for _ in range(15):
            opt.zero_grad()
            loss = nn.bce_with_logits([model(x) for x in X.tolist()], y.tolist())
            loss.backward()
            opt.step()
            losses.append(loss.data)
        assert losses[-1] < 0.5 * losses[0], name


# --- schedules -------------------------------------------------------------------


def test_linear_decay_is_micrographs_schedule():
    opt = SGD([param(0.0)], lr=1.0)
    s = LinearDecay(opt, end=0.1, steps=100)
    seen = [opt.lr]
    for _ in range(100):
        s.step()
        seen.append(opt.lr)
    assert seen[:100] == pytest.approx([1.0 - 0.9 * k / 100 for k in range(100)])
    assert seen[100] == pytest.approx(0.1)


def test_step_and_exponential_decay_set_the_optimizer_lr():
    opt = SGD([param(0.0)], lr=0.8)
    s = StepDecay(opt, every=2, gamma=0.5)
    lrs = []
    for _ in range(5):
        s.step()
        lrs.append(opt.lr)
    assert lrs == pytest.approx([0.8, 0.4, 0.4, 0.2, 0.2])
    opt = Adam([param(0.0)], lr=0.1)
    e = ExponentialDecay(opt, gamma=0.5)
    e.step(), e.step()
    assert opt.lr == pytest.approx(0.025)


# --- bad input -------------------------------------------------------------------


@pytest.mark.parametrize("cls", [SGD, RMSprop, Adam, AdamW])
@pytest.mark.parametrize("lr", [0, -0.1, math.nan, math.inf])
def test_learning_rate_must_be_positive(cls, lr):
    with pytest.raises(ValueError, match=rf"{cls.__name__} learning rate lr must be a number > 0, got"):
        cls([param(1.0)], lr=lr)


def test_learning_rate_set_later_is_checked_too():
    opt = SGD([param(1.0)], lr=0.1)
    with pytest.raises(ValueError, match="lr must be a number > 0, got 0"):
        opt.lr = 0
    with pytest.raises(ValueError, match="LinearDecay end"):
        LinearDecay(opt, end=0.0, steps=10)
    with pytest.raises(ValueError, match="StepDecay every"):
        StepDecay(opt, every=0)


def test_bad_parameters_and_options():
    with pytest.raises(ValueError, match="got no parameters"):
        SGD([], lr=0.1)
    with pytest.raises(TypeError, match="kind 'param', got a Value of kind 'input'"):
        SGD([Value(1.0)], lr=0.1)
    w = param(1.0)
    with pytest.raises(ValueError, match="appears twice"):
        Adam([w, w])
    with pytest.raises(ValueError, match="nesterov=True needs momentum > 0"):
        SGD([param(0.0)], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match=r"Adam beta2 must be in \[0, 1\)"):
        Adam([param(0.0)], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match=r"AdamW betas must be a pair \(beta1, beta2\) such as \(0.9, 0.999\), got 0.9"):
        AdamW([param(0.0)], betas=0.9)


def test_nan_gradient_is_a_clear_error():
    w = param(1.0, "layer1.neuron1.w1")
    w.grad = math.nan
    with pytest.raises(FloatingPointError, match="layer1.neuron1.w1 has gradient nan"):
        SGD([w], lr=0.1).step()
    assert w.data == 1.0


# Every option of nn's own rules, for the check of a gradient that is not finite: update finds it from
# the result (each rule carries it there), so these hold the rules to that.
OWN_RULES = [
    lambda ps: SGD(ps, lr=0.1), lambda ps: SGD(ps, lr=0.1, weight_decay=0.5),
    lambda ps: SGD(ps, lr=0.1, momentum=0.9, dampening=1.0), lambda ps: SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
    lambda ps: RMSprop(ps, lr=0.1), lambda ps: RMSprop(ps, lr=0.1, centered=True, momentum=0.5, weight_decay=0.1),
    lambda ps: Adam(ps, lr=0.1), lambda ps: Adam(ps, lr=0.1, betas=(0.0, 0.0), amsgrad=True, weight_decay=0.1),
    lambda ps: AdamW(ps, lr=0.1, amsgrad=True),
]


@pytest.mark.parametrize("rule", range(len(OWN_RULES)))
def test_a_gradient_that_is_not_finite_is_named_by_every_rule_and_changes_nothing(rule):
    import numpy as np

    ps = [param(1.0, "a"), param(-2.0, "b"), param(0.0, "c")]
    opt = OWN_RULES[rule](ps)
    data = np.array([1.0, -2.0, 0.0])
    opt.update(data, np.array([0.5, 1.0, -1.0]))  # a first step: the state (moments, velocity) is not 0
    before = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in vars(opt).items()}
    for at in range(3):
        for bad in (math.inf, -math.inf, math.nan):
            grad = np.array([0.5, 1.0, -1.0])
            grad[at] = bad
            with pytest.raises(FloatingPointError, match=f"parameter {'abc'[at]} has gradient {bad!r}"):
                opt.update(data, grad)
            for k, v in vars(opt).items():
                assert np.array_equal(v, before[k], equal_nan=True) if isinstance(v, np.ndarray) else v == before[k]
    # Huge but finite: sums that overflow are not taken for an inf.
    assert np.isfinite(SGD(ps, lr=1e-300).update(np.array([1e308, 1e308, 1e308]), np.array([1e308] * 3))).all()


def test_a_rule_of_ones_own_has_its_gradient_checked_before_it_runs():
    import numpy as np

    class Clipped(SGD):  # a rule that would hide the NaN: its gradient is checked first, as always
        def _update(self, data, grad):
            self.ran = True
            return data - self.lr * np.nan_to_num(grad)

    opt = Clipped([param(1.0, "w")], lr=0.1)
    with pytest.raises(FloatingPointError, match="parameter w has gradient nan"):
        opt.update(np.array([1.0]), np.array([math.nan]))
    assert opt.t == 0 and not hasattr(opt, "ran")
    assert opt.update(np.array([1.0]), np.array([2.0])).tolist() == [0.8]
