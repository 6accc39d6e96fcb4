"""micrograd's demo, reproduced in full: MLP(2, [16, 16, 1]) on 100 moons, hinge + 1e-4·L2, SGD 1.0 → 0.1.

All 100 steps run: micrograd's own demo reaches 100% training accuracy, and
so must this one. ``fit`` replays the graph over the batch here (its default);
the eager engine's run of the same demo is timed in benchmarks/bench_nn.py, and
the replay's gradients are checked against eager ones in tests/test_batch.py.
"""

import numpy as np

from nn import MLP, SGD, LinearDecay, fit, moons, predict


def test_micrograd_demo_reaches_full_training_accuracy():
    X, y = moons(100, noise=0.1, seed=0)
    y = 2 * y - 1  # the hinge loss wants ±1 labels, as in micrograd
    model = MLP(2, [16, 16, 1], seed=0)
    assert len(model.parameters()) == 337  # micrograd's count
    optimizer = SGD(model.parameters(), lr=1.0)
    history = fit(model, X, y, loss="hinge", optimizer=optimizer, epochs=100, l2=1e-4,
                  schedule=LinearDecay(optimizer, end=0.1, steps=100), progress=False)
    assert history.lr[0] == 1.0 and abs(history.lr[-1] - 0.109) < 1e-12  # micrograd: 1 − 0.9·k/100
    assert history.acc[-1] == 1.0  # what micrograd prints at its last step
    assert np.mean(np.sign(predict(model, X)[:, 0]) == y) == 1.0  # and after the last update
    assert history.loss[-1] < 0.05
