"""fit refuses what would train nothing or train on something else, at the call (issue 13)."""

import warnings

import numpy as np
import pytest

from nn import MLP, SGD, Adam, check_dataset, fit, moons, xor


def test_an_optimizer_of_another_model_is_refused_before_training():
    model, other = MLP(2, [4, 1], seed=0), MLP(2, [4, 1], seed=1)
    before = model.state_dict()
    with pytest.raises(ValueError, match=r"the optimizer holds none of the 17 parameters of MLP\(2, \[4, 1\].*; "
                                         r"make it from this model: SGD\(model.parameters\(\), \.\.\.\)"):
        fit(model, *xor(), optimizer=SGD(other.parameters(), lr=0.1), epochs=50, progress=False)
    assert model.state_dict() == before and other.state_dict() == MLP(2, [4, 1], seed=1).state_dict()


def test_an_optimizer_of_part_of_the_model_is_refused_and_named():
    model = MLP(2, [4, 1], seed=0)
    with pytest.raises(ValueError, match=r"the optimizer holds only 12 of the 17 parameters of MLP.*"
                                         r"missing: layer2.neuron1.w1, .*Adam\(model.parameters\(\), \.\.\.\)"):
        fit(model, *xor(), optimizer=Adam(model.layers[0].parameters(), lr=0.1), progress=False)


def test_a_parameter_frozen_as_a_constant_may_be_left_out():
    model = MLP(2, [4, 1], seed=0)
    frozen = model.layers[1].neurons[0].b
    frozen.kind = "const"
    trained = [p for p in model.parameters() if p is not frozen]
    history = fit(model, *xor(), optimizer=Adam(trained, lr=0.1), epochs=3, progress=False)
    assert history.epochs == 3 and frozen.data == 0.0


def test_an_optimizer_of_the_model_plus_more_is_fine():
    # Training two models with one optimizer: the other one's gradients stay 0.
    model, other = MLP(2, [4, 1], seed=0), MLP(2, [2, 1], seed=1)
    history = fit(model, *xor(), optimizer=Adam(model.parameters() + other.parameters(), lr=0.1),
                  epochs=3, progress=False)
    assert history.epochs == 3


@pytest.mark.parametrize("where", ["X", "y"])
def test_complex_data_is_refused_not_silently_made_real(where):
    X, y = moons(20, seed=0)
    X, y = (X + 1j, y) if where == "X" else (X, y + 0j)
    model = MLP(2, [4, 1], seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's ComplexWarning would be the only sign
        with pytest.raises(ValueError, match=f"training data: {where} holds complex numbers"):
            fit(model, X, y, loss="bce_with_logits", epochs=2, progress=False)
    with pytest.raises(ValueError, match="predict input: X holds complex numbers"):
        check_dataset([[1 + 2j, 0.0]], what="predict input")


def test_real_numbers_in_complex_clothes_are_still_refused():
    # 1+0j is a complex number: we do not guess that the imaginary part is meant to be dropped.
    with pytest.raises(ValueError, match=r"X holds complex numbers \(complex128\); use X.real"):
        check_dataset(np.ones((3, 2), dtype=complex), [0, 1, 0])
