"""gradflow's nn: perceptrons and MLPs from Values, losses, optimizers, data and training.

>>> from nn import MLP, fit, moons
>>> X, y = moons(40, seed=0)
>>> model = MLP(2, [8, 1], seed=0)
>>> history = fit(model, X, y, loss="bce_with_logits", epochs=3, progress=False)
>>> len(history.loss), len(model.parameters())
(3, 33)
"""

from ._own import check_own

check_own("engine")  # before anything imports it: a student's engine.py would shadow it

from .data import batches, blobs, check_dataset, circles, digits, moons, pass_class, spirals, train_val_split, xor
from .io import load, save
from .losses import (
    LOSSES, Loss, bce, bce_with_logits, get_loss, half_squared_error, hinge, l1_penalty, l2_penalty, mse,
    softmax_cross_entropy,
)
from .module import ACTIVATIONS, MLP, Dropout, Layer, Maxout, Module, Neuron, get_activation
from .optim import SGD, Adam, AdamW, ExponentialDecay, LinearDecay, Optimizer, RMSprop, Schedule, StepDecay
from .perceptron import Perceptron
from .train import BatchResult, History, batch_loss, evaluate, fit, penalty, predict

__all__ = [
    "Module", "Neuron", "Layer", "MLP", "Dropout", "Maxout", "Perceptron", "ACTIVATIONS", "get_activation",
    "Loss", "LOSSES", "get_loss", "mse", "half_squared_error", "bce", "bce_with_logits", "hinge",
    "softmax_cross_entropy", "l1_penalty", "l2_penalty",
    "Optimizer", "SGD", "RMSprop", "Adam", "AdamW", "Schedule", "LinearDecay", "StepDecay", "ExponentialDecay",
    "moons", "circles", "spirals", "xor", "blobs", "pass_class", "digits", "check_dataset", "train_val_split", "batches",
    "fit", "History", "BatchResult", "batch_loss", "evaluate", "predict", "penalty",
    "save", "load",
]
