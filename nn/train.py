"""The training loop: epochs of (mini-)batches, a history, early stopping.

One batch's work — build the graph of the loss, run ``backward()``, report
the loss and the raw outputs — lives in ``batch_loss``; the loop around it
only shuffles, steps the optimizer and keeps records. A faster evaluator can
take over by replacing that one function (``fit(..., batch_fn=...)``); the
replay of ``nn.fast`` is the one fit chooses by itself.

>>> from nn import MLP, Adam
>>> from nn.data import xor
>>> X, y = xor()
>>> model = MLP(2, [8, 1], activation="tanh", seed=0)
>>> history = fit(model, X, y, loss="bce_with_logits", optimizer=Adam(model.parameters(), lr=0.1),
...               epochs=60, progress=False)
>>> history.acc[-1], len(history.loss)
(1.0, 60)
"""

from __future__ import annotations

import math
import sys
import warnings
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from engine.args import is_int, is_real, type_name
from engine.replay import ReplayError

from .data import checked_batches, checked_split, check_dataset
from .losses import Loss, get_loss, l1_penalty, l2_penalty
from .module import Dropout, Module
from .optim import SGD, Optimizer, Schedule
from .fast import BatchResult, Checked, Outputs, Replay, ReplayFallback, Store, agree, check_rows, custom, per_epoch

__all__ = ["fit", "History", "BatchResult", "batch_loss", "evaluate", "predict", "penalty", "ReplayFallback"]


def penalty(l1=0.0, l2=0.0) -> Callable | None:
    """``model -> l1·Σ|p| + l2·Σp²`` as a Value, or None when both are 0.

    >>> from nn import Neuron
    >>> n = Neuron(1, seed=0); n.w[0].data, n.b.data = 3.0, 1.0
    >>> penalty(l2=0.5)(n).data
    5.0
    """
    for name, lam in (("l1", l1), ("l2", l2)):
        if not is_real(lam) or not lam >= 0:
            raise ValueError(f"{name} (the penalty weight) must be a number >= 0, got {lam!r}")
    if not l1 and not l2:
        return None

    def reg(model):
        terms = []
        if l1:
            terms.append(l1 * l1_penalty(model))
        if l2:
            terms.append(l2 * l2_penalty(model))
        return terms[0] if len(terms) == 1 else terms[0] + terms[1]

    reg.l1, reg.l2 = l1, l2  # so that a replay can take its gradient in bulk (Replay)
    return reg


def _forward(model, X):
    return [model(row) for row in X.tolist()]


def _scores(outputs) -> np.ndarray:
    return np.array([[o.data] if not isinstance(o, (list, tuple)) else [v.data for v in o] for o in outputs])


def batch_loss(model: Module, loss: Loss, X: np.ndarray, y: np.ndarray, reg: Callable | None) -> BatchResult:
    """Loss and parameter gradients for one batch, with the eager engine.

    Builds one graph: the model on every sample, the loss (a mean over the
    batch) plus ``reg(model)``; runs ``backward()`` on it, which adds
    d(total)/d(p) into each parameter's ``grad`` (the optimizer clears them).

    >>> from nn import Neuron
    >>> n = Neuron(1, activation="linear", seed=0); n.w[0].data = 2.0
    >>> r = batch_loss(n, get_loss("mse"), np.array([[1.0], [2.0]]), np.array([1.0, 5.0]), None)
    >>> r.loss, r.scores.tolist(), n.w[0].grad   # d/dw mean((2x − t)²) = mean(2(2x − t)x)
    (1.0, [[2.0], [4.0]], -1.0)
    """
    outputs = _forward(model, X)
    data_loss = loss(outputs, y.tolist())
    total = data_loss + reg(model) if reg is not None else data_loss
    total.backward()
    return BatchResult(data_loss.data, _scores(outputs))


def _dropping(model, *, now=False):
    # Dropout draws a new mask for every sample: no single recording fits them
    # all. ``now``: only dropout that is on (its module in training mode) counts.
    if isinstance(model, Dropout) and model.p > 0 and (model.training or not now):
        return True
    return any(_dropping(m, now=now) for m in model.children())


def _check_batched(batched):
    if not (batched is True or batched is False or batched == "auto"):  # 1 == True, but 1 is not a choice
        raise ValueError(f"batched must be True, False or 'auto', got {batched!r}")


def _replay_if(batched, model, replay, check, *, now=False, who="fit"):
    # The replay when asked, or when "auto" finds it gives the same result
    # (no dropout, and ``check()`` records it); None for the eager engine.
    if batched is False:
        return None
    if replay.dense is None and _dropping(model, now=now):  # known layers hold no dropout: no walk over them
        if batched is True:
            raise ValueError("batched=True cannot replay dropout (a new random mask for every sample); "
                             "use batched=False or 'auto'" + (", or model.eval() first" if now else ""))
        return None
    if batched is True:
        check()  # records now: an error is the user's to see
    else:
        try:
            check()
        except ReplayError as e:
            # Said once, in one line: the user learns why this run is slower.
            warnings.warn(f"{who} uses the eager engine: {e}", ReplayFallback, stacklevel=4)
            return None
        except (TypeError, ValueError, ArithmeticError):
            return None  # the eager engine, which raises any real error itself
    return replay


def _custom(batched, replay, model, loss, who, *, said=False, stacklevel=4):
    # What in the model or loss is not nn's own code (``custom``), or None. "auto" replays none
    # of it: it says so once, unless ``said`` (fit has said it for training already). Known layers
    # (under one of nn's losses: the twin) are nn's own by construction: nothing more to look at.
    known = replay.dense is not None if loss is None else replay.vterm is not None
    why = None if known else custom(model, loss)
    if why is not None and batched == "auto" and not said:
        how = (f"checked against the eager engine every {Checked.every} epochs" if who == "fit"
               else "with the recording's checks")
        warnings.warn(f"{who} uses the eager engine: {why}, and batched='auto' replays only nn's own modules "
                      f"with nn's own losses; batched=True replays it, {how}", ReplayFallback, stacklevel=stacklevel)
    return why


def _choose_batch_fn(batch_fn, batched, model, loss, reg, X, y, store=None, params=None, checked=False, steps=1):
    # fit's ``batched`` for the training batches (``steps``: batches per epoch).
    _check_batched(batched)
    if batch_fn is not batch_loss:
        if batched is True:
            raise ValueError("batched=True replaces the default batch_fn; pass batched or batch_fn, not both")
        return batch_fn
    replay = Replay(model, loss, reg, params=params, checked=checked)
    replay.store = store  # the check reads the parameters from it too
    why = _custom(batched, replay, model, loss, "fit") if batched is not False else None
    if why is not None and batched == "auto":
        return batch_loss
    replay = _replay_if(batched, model, replay, lambda: replay.check(X, y))
    if replay is None:
        return batch_loss
    if why is not None:  # asked for on custom code: compared with the eager engine as it trains
        return Checked(replay, batch_loss, lambda X, y: _eager_evaluate(model, loss, X, y),
                       params if params is not None else model.parameters(), steps, type(model).__name__)
    return replay


def _eager_evaluate(model, loss, X, y):
    outputs = _forward(model, X)
    return BatchResult(loss(outputs, y.tolist()).data, _scores(outputs))


def _choose_evaluate(batched, model, loss, X, y, store=None, said=False):
    # ``(X, y) -> BatchResult`` for the model in its current mode: the replay
    # (recorded once, reusable while the mode stays) or the eager engine.
    _check_batched(batched)
    replay = Replay(model, loss, None)
    replay.store = store
    if batched == "auto" and _custom(batched, replay, model, loss, "evaluate", said=said) is not None:
        replay = None
    else:
        replay = _replay_if(batched, model, replay, lambda: replay.check(X, y), now=True, who="evaluate")
    return replay.evaluate if replay is not None else lambda X, y: _eager_evaluate(model, loss, X, y)


def evaluate(model: Module, loss, X, y, *, batched="auto") -> BatchResult:
    """Loss and raw outputs on data, without a backward pass (for validation).

    ``batched`` as in ``fit``: True replays one recorded sample over the data
    (``engine.replay``, with the recording's checks; on custom code its outputs
    and loss on up to 8 rows are held to the eager engine's, which computes
    every row if they differ, with a ``ReplayFallback``), False builds the eager
    graph of every sample, "auto" replays nn's own modules under nn's own
    losses (no dropout on, and the recording reads no input or parameter in
    Python control flow) and runs anything else with the eager engine, saying
    why (``ReplayFallback``). Both give the same numbers up to rounding in the
    last bits.

    >>> from nn import Neuron
    >>> n = Neuron(1, activation="linear", seed=0); n.w[0].data, n.b.data = 2.0, 0.0
    >>> r = evaluate(n, "mse", [[1.0], [2.0]], [1.0, 5.0])
    >>> r.loss, r.scores.tolist()
    (1.0, [[2.0], [4.0]])
    """
    loss = get_loss(loss)
    X, y = check_dataset(X, y, "evaluation data")
    _check_targets(loss, y)
    run = _choose_evaluate(batched, model, loss, X, y)
    result = run(X, y)
    if batched is True and custom(model, loss) is not None:
        rows = check_rows(len(y))
        eager = _eager_evaluate(model, loss, X[rows], y[rows])
        again = run(X[rows], y[rows])  # the loss of the same rows, replayed
        got, want = [*result.scores[rows].ravel(), again.loss], [*eager.scores.ravel(), eager.loss]
        if not agree(got, want, "evaluate", model):
            return _eager_evaluate(model, loss, X, y)
    return result


def predict(model: Module, X, *, batched="auto") -> np.ndarray:
    """Raw model outputs for every row of X, shape (n, outputs); ``batched`` as in ``evaluate``.

    >>> from nn import Neuron
    >>> n = Neuron(2, activation="linear", seed=0)
    >>> predict(n, [[0.0, 0.0], [1.0, 1.0]]).shape
    (2, 1)
    """
    X = check_dataset(X, what="predict input")
    _check_batched(batched)
    outputs = Outputs(model)
    if batched == "auto" and _custom(batched, outputs, model, None, "predict", stacklevel=3) is not None:
        outputs = None
    else:
        outputs = _replay_if(batched, model, outputs, lambda: outputs.check(X), now=True, who="predict")
    if outputs is None:
        return _scores(_forward(model, X))
    scores = outputs(X)
    if batched is True and custom(model, None) is not None:
        rows = check_rows(len(X))
        if not agree(scores[rows].ravel(), _scores(_forward(model, X[rows])).ravel(), "predict", model):
            return _scores(_forward(model, X))
    return scores


def _accuracy(loss: Loss, scores, y) -> float:
    hits = loss.correct(scores, y)
    # The count over n: np.mean's value (its sum of ones is exact), without its dispatch.
    return math.nan if hits is None else hits / len(y)


@dataclass
class History:
    """Per-epoch records of a ``fit``: lists indexed by epoch (``history["loss"]`` works too).

    Accuracy is NaN for a regression loss (mse, half_squared_error); the
    validation lists stay empty without validation data.
    """

    loss: list = field(default_factory=list)
    acc: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    val_acc: list = field(default_factory=list)
    lr: list = field(default_factory=list)
    KEYS = ("loss", "acc", "val_loss", "val_acc", "lr")  # the per-epoch lists (a ClassVar: no annotation)
    best_epoch: int | None = None  # 1-based, with patience: the epoch whose parameters the model holds after fit
    stopped_early: bool = False

    def __getitem__(self, key):
        if key not in self.KEYS:
            raise KeyError(f"History has no {key!r}; valid keys: {', '.join(self.KEYS)}")
        return getattr(self, key)

    @property
    def epochs(self) -> int:
        return len(self.loss)

    def as_dict(self) -> dict:
        return {k: list(getattr(self, k)) for k in self.KEYS}


class _Progress:
    # tqdm.auto gives a widget in notebooks and a text bar in terminals; when
    # tqdm is missing, a plain line every tenth of the run stands in.
    def __init__(self, epochs, enabled):
        self.epochs, self.bar, self.enabled = epochs, None, enabled
        if enabled:
            try:
                from tqdm.auto import tqdm
            except ImportError:
                tqdm = None
            if tqdm is not None:
                self.bar = tqdm(total=epochs, unit="epoch", leave=True)

    def update(self, epoch, record):
        if not self.enabled:
            return
        text = "  ".join(f"{k} {v:.4f}" for k, v in record.items() if not math.isnan(v))
        if self.bar is not None:
            self.bar.set_postfix_str(text, refresh=False)
            self.bar.update(1)
        elif epoch == self.epochs or epoch % max(1, self.epochs // 10) == 0:
            print(f"epoch {epoch}/{self.epochs}  {text}", file=sys.stderr, flush=True)

    def close(self):
        if self.bar is not None:
            self.bar.close()


class _Steps:
    """fit's steps on the Values: zero_grad, the batch's work (gradients into .grad), optimizer.step()."""

    def __init__(self, optimizer, model, batch_fn):
        self.optimizer, self.model, self.batch_fn = optimizer, model, batch_fn

    def step(self, loss, X, y, reg) -> BatchResult:
        self.optimizer.zero_grad()
        result = self.batch_fn(self.model, loss, X, y, reg)
        self.optimizer.step()
        return result

    def snapshot(self):
        return self.model.state_dict()

    def restore(self, state):
        self.model.load_state_dict(state)

    def publish(self):
        """Make the Values current, for code that reads them (nothing to do here)."""

    def finish(self):
        """Hand everything to the Values (nothing to do here)."""


class _ArraySteps(_Steps):
    """The same steps with the parameters in a ``Store``: the replay and the optimizer trade arrays.

    A step then touches no Value: at width 256 (66,817 parameters) that is
    what separates a 1.5 ms step from a 45 ms one. ``finish`` gives the Values
    their data and last gradients, as the steps on the Values would leave them.
    """

    def __init__(self, optimizer, model, replays, store):
        super().__init__(optimizer, model, replays[0])
        self.store, self.replays = store, replays

    def step(self, loss, X, y, reg) -> BatchResult:
        store, held = self.store, self.store.held
        store.zero()
        result = self.batch_fn(self.model, loss, X, y, reg)
        store.data[:held] = self.optimizer.update(store.data[:held], store.grad[:held])
        return result

    def snapshot(self):
        return self.store.data.copy()

    def restore(self, state):
        self.store.data[: len(state)] = state

    def publish(self):
        self.store.publish()

    def finish(self):
        self.store.write_back()
        for r in self.replays:
            r.store = None


def _store_for(optimizer, batch_fn, batched):
    # The parameters go in arrays when fit's own replay may run and the
    # optimizer steps arrays (its step is the base class's: update on arrays).
    base = type(optimizer).step is Optimizer.step and type(optimizer).zero_grad is Optimizer.zero_grad
    return Store(optimizer.params) if base and batch_fn is batch_loss and batched is not False else None


def _steps(optimizer, model, batch_fn, val_fn, store):
    # The replays were given the store when they were made; finish() takes it back.
    if store is None:
        return _Steps(optimizer, model, batch_fn)
    val = getattr(val_fn, "__self__", None)
    return _ArraySteps(optimizer, model, [batch_fn] + ([val] if isinstance(val, Replay) else []), store)


def _check_holds(optimizer, model) -> list:
    # An optimizer made from another model (or part of this one) would step
    # parameters that get no gradient and leave these untrained, in silence.
    # A parameter made a constant (kind "const") is frozen on purpose.
    # Returns model.parameters() (or the optimizer's equal list), which the replay needs too.
    mine = model.parameters()
    # A Value equals only itself (engine.value), so == on the two lists tests
    # identity, in C: 0.04 ms at 66,817 parameters, where a map of `is` took 1.8.
    if mine == optimizer.params:
        # The usual case, Optimizer(model.parameters()), without making a name
        # for every parameter. The optimizer's list itself goes on: a Store made
        # from it knows it, and its Values are known to be leaves.
        return optimizer.params
    held = set(map(id, optimizer.params))
    named = model.named_parameters()
    missing = [name for name, p in named if id(p) not in held and p.kind == "param"]
    if missing:
        how = "none" if len(missing) == len(named) else f"only {len(named) - len(missing)}"
        raise ValueError(f"the optimizer holds {how} of the {len(named)} parameters of {model!r} "
                         f"(missing: {', '.join(missing[:3])}{', ...' if len(missing) > 3 else ''}); "
                         f"make it from this model: {type(optimizer).__name__}(model.parameters(), ...), "
                         f"or freeze a parameter on purpose with p.kind = 'const'")
    return mine


def _check_targets(loss, y):
    # Every target is checked before any work is done, so a bad label fails
    # at the call instead of in the middle of an epoch.
    for i, t in enumerate(y.tolist()):
        loss.check(t, i)


def _val_data(val, X, y, seed):
    # val: None, (X_val, y_val), or a fraction of (X, y) to hold out.
    if val is None:
        return X, y, None
    if is_real(val):
        Xt, yt, Xv, yv = checked_split(X, y, val, seed)
        return Xt, yt, (Xv, yv)
    try:
        Xv, yv = val
    except (TypeError, ValueError):
        raise TypeError("val must be None, a fraction such as 0.2, or a pair (X_val, y_val)") from None
    Xv, yv = check_dataset(Xv, yv, "validation data")
    if Xv.shape[1] != X.shape[1]:
        raise ValueError(f"validation data has {Xv.shape[1]} features per sample, the training data {X.shape[1]}")
    return X, y, (Xv, yv)


def fit(model: Module, X, y, loss="mse", optimizer: Optimizer | None = None, epochs: int = 100,
        batch_size: int | None = None, val=None, patience: int | None = None, min_delta: float = 0.0,
        l1: float = 0.0, l2: float = 0.0, schedule: Schedule | None = None, progress: bool = True,
        seed=0, batch_fn: Callable = batch_loss, batched="auto") -> History:
    """Train ``model`` on (X, y) and return a ``History``.

    - ``loss``: a name from ``nn.LOSSES`` or a Loss; ``l1``/``l2`` add λ·Σ|p| / λ·Σp².
    - ``optimizer``: defaults to ``SGD(model.parameters(), lr=0.1)``.
    - ``batch_size``: None trains on the full batch, an int on shuffled mini-batches.
    - ``val``: (X_val, y_val), or a fraction of the data to hold out.
    - ``patience``: stop after that many epochs without the monitored loss
      (validation loss, else training loss) improving by more than ``min_delta``;
      the parameters from the end of the best epoch are put back, also when
      the epochs run out first.
    - ``schedule``: stepped once per epoch. ``seed`` fixes the shuffling.
    - ``progress``: a tqdm bar (a widget in notebooks, text in a terminal, a
      line every tenth of the run without tqdm); False shows nothing.
    - ``batch_fn(model, loss, X, y, reg) -> BatchResult`` does one batch's work.
    - ``batched``: how a batch's gradients are computed. False: the eager
      graph of every sample, the engine a student reads. True: the replay
      (``Replay``, ``engine.replay``): one sample's graph is recorded and run
      over every batch with numpy, far faster, the same gradients up to
      rounding. The replay assumes that the graph and its constants depend on
      neither the data nor the parameters; a branch on a value, a number read
      from ``.data`` (``math.copysign(1, w.data)``, ``np.floor``), a count of
      calls, or randomness inside forward (a module drawing its own mask)
      breaks that. The recording refuses Python control flow on the inputs and
      parameters (``if w.data > 0``, ``round(x.data)``: ``engine.replay.record``
      raises ReplayError), and on custom code ``nn.fast.Checked`` compares the
      replayed gradient of 8 samples of the batch with the eager engine's at
      the first step and at the first step of every 5th epoch: on a mismatch a
      one-line ``ReplayFallback`` warning names the module and training goes
      on eagerly from the parameters of the moment, that step included (none
      lost or taken twice). "auto" (the default) replays only what is known
      to meet the assumption: nn's own modules (``MLP``, ``Layer``, ``Neuron``
      with a named activation, ``Maxout``, ``Perceptron``, ``Dropout``; their
      classes and code as nn ships them, composed as nn composes them) under
      one of nn's losses. A custom module, a callable activation or a custom
      loss trains eagerly, and a ``ReplayFallback`` warning says so once, with
      ``batched=True`` as the way to ask for the replay (``nn.fast.custom``
      says what it found). Dropout that is on trains eagerly under "auto" (a
      new mask for every sample), and so does a model of nn's the recording
      cannot stand for (more than 64 softmax targets on a ``Maxout``), with
      the warning saying why. An ``MLP``, ``Layer`` or ``Neuron``
      with a named activation is not even recorded: its layers run as matrix
      products (``nn.fast``, ``engine.replay.dense``), nn's own losses as their
      array twins (``Loss.vterm``), and, with an optimizer whose
      ``step`` is the base class's, the parameters stay in arrays until fit
      returns (the Values get their data and last gradients back then, also
      when fit stops on an error). The
      validation figures follow the same rule (as ``evaluate``), recorded once
      per fit, in evaluation mode, so dropout does not stop them replaying.

    The training loss and accuracy of an epoch are averaged over its batches
    as they were computed, with the parameters of the moment (as PyTorch users
    usually log them); the validation figures use the parameters after the epoch.
    The model is left in evaluation mode (dropout off).
    """
    if not isinstance(model, Module):
        raise TypeError(f"fit needs a Module (e.g. an MLP), got {type_name(model)}")
    loss = get_loss(loss)
    X, y = check_dataset(X, y, "training data")
    if not is_int(epochs) or epochs < 1:
        raise ValueError(f"epochs must be a positive int, got {epochs!r}")
    if patience is not None and (not is_int(patience) or patience < 1):
        raise ValueError(f"patience must be None or a positive int (epochs without improvement), got {patience!r}")
    if not is_real(min_delta) or not min_delta >= 0:
        raise ValueError(f"min_delta (the least improvement that counts) must be a number >= 0, got {min_delta!r}")
    _check_targets(loss, y)
    X, y, val = _val_data(val, X, y, seed)
    if val is not None:
        _check_targets(loss, val[1])
    if optimizer is None:
        optimizer = SGD(model.parameters(), lr=0.1)
    elif not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer must be an Optimizer such as SGD(model.parameters(), lr=0.1), got {type_name(optimizer)}")
    params = _check_holds(optimizer, model)
    if schedule is not None:
        if not isinstance(schedule, Schedule):
            raise TypeError(f"schedule must be a Schedule such as LinearDecay(optimizer, end=0.1, steps=100), "
                            f"got {type_name(schedule)}")
        if schedule.optimizer is not optimizer:
            raise ValueError("schedule sets the learning rate of another optimizer than fit's; "
                             "pass fit the optimizer the schedule was made with (optimizer=...)")
    reg = penalty(l1, l2)
    store = _store_for(optimizer, batch_fn, batched)
    chose = batch_fn is batch_loss  # fit chooses the engine, and says why when it is the eager one
    batch_fn = _choose_batch_fn(batch_fn, batched, model, loss, reg, X, y, store, params, params is optimizer.params,
                                per_epoch(len(y), batch_size))
    if not isinstance(batch_fn, (Replay, Checked)):
        store = None  # the eager engine trains: the Values stay the truth
    if val is not None:
        # Validation runs in evaluation mode (dropout off): chosen, and recorded, once for the whole fit.
        model.eval()
        val_fn = _choose_evaluate(batched, model, loss, *val, store, said=chose)
        if isinstance(batch_fn, Checked):  # validation replays while training does
            replay = getattr(val_fn, "__self__", None)
            batch_fn.val, val_fn = (replay if isinstance(replay, Replay) else None), batch_fn.evaluate
    else:
        val_fn = None
    steps = _steps(optimizer, model, batch_fn, val_fn, store)
    rng = np.random.default_rng(seed)
    # The full batch is the same arrays every epoch: made once (C-ordered copies, as indexing by
    # 0..n−1 made them) for fit's own engines, which never write to them; any other batch_fn gets
    # fresh copies every epoch, as before.
    own = batch_fn is batch_loss or isinstance(batch_fn, (Replay, Checked))
    whole = ((np.ascontiguousarray(X), np.ascontiguousarray(y)),) if batch_size is None and own else None
    history = History()
    best, best_state, waited = math.inf, None, 0
    bar = _Progress(int(epochs), progress)
    try:
        model.train()  # once, and again after each validation: a model of 513 modules takes 2 ms to switch
        for epoch in range(1, int(epochs) + 1):
            losses, correct, seen = [], [], 0
            history.lr.append(optimizer.lr)
            for xb, yb in (whole if whole is not None else checked_batches(X, y, batch_size, batch_size is not None, rng)):
                result = steps.step(loss, xb, yb, reg)
                losses.append(result.loss * len(yb))
                correct.append(_accuracy(loss, result.scores, yb) * len(yb))
                seen += len(yb)
            history.loss.append(sum(losses) / seen)
            history.acc.append(sum(correct) / seen)
            record = {"loss": history.loss[-1], "acc": history.acc[-1]}
            if val is not None:
                model.eval()
                if not isinstance(getattr(val_fn, "__self__", None), Replay):
                    steps.publish()  # the eager engine reads the Values
                r = val_fn(*val)
                model.train()
                history.val_loss.append(r.loss)
                history.val_acc.append(_accuracy(loss, r.scores, val[1]))
                record.update(val_loss=history.val_loss[-1], val_acc=history.val_acc[-1])
            bar.update(epoch, record)
            if schedule is not None:
                schedule.step()
            if patience is not None:
                monitored = history.val_loss[-1] if val is not None else history.loss[-1]
                if monitored < best - min_delta:
                    best, waited = monitored, 0
                    best_state, history.best_epoch = steps.snapshot(), epoch
                else:
                    waited += 1
                    if waited >= patience:
                        history.stopped_early = True
                        break
        if best_state is not None and history.best_epoch != history.epochs:
            steps.restore(best_state)
    finally:
        steps.finish()
        bar.close()
        model.eval()
    return history
