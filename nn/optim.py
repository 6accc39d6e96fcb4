"""Optimizers and learning-rate schedules, with PyTorch's update rules.

An optimizer holds a list of parameters; ``step()`` moves each one using its
``grad`` (after ``loss.backward()``), ``zero_grad()`` clears the gradients
before the next pass. The formulas follow PyTorch's documentation for
``torch.optim`` (SGD, RMSprop, Adam, AdamW) so that results carry over.

>>> from engine import Value
>>> w = Value(2.0, "w", kind="param")
>>> opt = SGD([w], lr=0.1)
>>> (w * w).backward()
>>> opt.step(); w.data
1.6
>>> opt.zero_grad(); w.grad
0.0
"""

from __future__ import annotations

import math

import numpy as np

from engine.args import is_int, is_real, type_name
from engine import Value

__all__ = ["Optimizer", "SGD", "RMSprop", "Adam", "AdamW", "Schedule", "LinearDecay", "StepDecay", "ExponentialDecay"]


def positive(x, what):
    if not is_real(x) or not np.isfinite(x) or x <= 0:
        raise ValueError(f"{what} must be a number > 0, got {x!r}")
    return float(x)


def _in_range(x, lo, hi, what, hi_open=True):
    ok = is_real(x) and lo <= x and (x < hi if hi_open else x <= hi)
    if not ok:
        raise ValueError(f"{what} must be in [{lo}, {hi}{')' if hi_open else ']'}, got {x!r}")
    return float(x)


_SUM = np.add.reduce


def finite(a) -> bool:
    """Whether every element of array a is finite; call it under ``np.errstate(over="ignore")`` (a sum may overflow).

    The optimizers' check of a step, and ``nn.fast``'s of a batch's arrays.

    >>> with np.errstate(all="ignore"):
    ...     finite(np.array([1.0, 2.0])), finite(np.array([1.0, np.inf])), finite(np.array([1e308, 1e308]))
    (True, False, True)
    """
    # One reduction instead of isfinite + all: any inf or NaN makes the sum inf or NaN; a sum that
    # overflows with every term finite is sorted out by the exact test.
    return math.isfinite(_SUM(a, axis=None)) or bool(np.isfinite(a).all())


class Optimizer:
    """Base class: parameters, a learning rate, ``step()`` and ``zero_grad()``.

    Subclasses write ``_update(data, grad)`` on numpy arrays of all the
    parameters at once and keep their state (velocity, moments) as arrays.
    """

    def __init__(self, params, lr):
        ps = params.parameters() if hasattr(params, "parameters") else list(params)
        if not ps:
            raise ValueError(f"{type(self).__name__} got no parameters to optimize")
        for i, p in enumerate(ps):
            if not isinstance(p, Value) or p.kind != "param":
                what = f"a Value of kind {p.kind!r}" if isinstance(p, Value) else type_name(p)
                raise TypeError(f"{type(self).__name__}: parameter {i + 1} must be a leaf Value of kind 'param', got {what}")
        if len(set(ps)) != len(ps):
            raise ValueError(f"{type(self).__name__}: the same parameter appears twice in the list")
        self.params = ps
        self.lr = lr
        self.t = 0  # steps taken

    @property
    def lr(self) -> float:
        return self._lr

    @lr.setter
    def lr(self, lr):
        self._lr = positive(lr, f"{type(self).__name__} learning rate lr")

    def zero_grad(self):
        """Set every parameter's gradient to 0.0."""
        for p in self.params:
            p.zero_grad()  # a leaf's zero_grad also resets its count of passes

    def step(self):
        """Update every parameter from its current gradient."""
        grad = np.array([p.grad for p in self.params], dtype=float)
        data = np.array([p.data for p in self.params], dtype=float)
        for p, x in zip(self.params, self.update(data, grad).tolist()):
            p.data = x

    def update(self, data, grad) -> np.ndarray:
        """``step`` on arrays in ``params`` order: the new values (the inputs are left as they are).

        ``fit`` calls this while it keeps the parameters in an array. All or
        nothing: a gradient or a result that is not finite raises
        FloatingPointError and leaves the optimizer's state as it was.

        >>> opt = SGD([Value(2.0, kind="param")], lr=0.1)
        >>> opt.update(np.array([2.0]), np.array([4.0])).tolist(), opt.t
        ([1.6], 1)
        """
        saved = dict(vars(self))  # the state every _update replaces (not mutates): put back if the step fails
        self.t += 1
        with np.errstate(over="ignore", invalid="ignore"):
            # One sum each instead of isfinite + all. nn's own rules carry a gradient that is not finite
            # into the result (``_CARRY``), so for them a finite result clears the gradient too; any
            # other rule has its gradient checked before it runs, as it always had.
            new = self._update(data, grad) if type(self) in _CARRY or finite(grad) else None
            if new is not None and finite(new):
                return new
        vars(self).update(saved)
        if not np.isfinite(grad).all():  # the gradient's error first, as before the result's
            k = int(np.argmin(np.isfinite(grad)))
            raise FloatingPointError(
                f"{type(self).__name__}.step: parameter {self.params[k].label or '(unnamed)'} has gradient "
                f"{float(grad[k])!r}; the loss overflowed or saw NaN (lower the learning rate or check the data)"
            )
        k = int(np.argmin(np.isfinite(new)))
        raise FloatingPointError(
            f"{type(self).__name__}.step: the step would make parameter {self.params[k].label or '(unnamed)'} "
            f"{float(new[k])!r} (from {float(data[k])!r}, gradient {float(grad[k])!r}); no parameter was "
            f"changed; lower the learning rate (lr = {self.lr:g}) or scale the inputs down"
        )

    def _update(self, data, grad):
        raise NotImplementedError(f"{type(self).__name__} must define _update(data, grad)")


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum, Nesterov and weight decay.

    PyTorch's rule: g = grad + wd·p; b = μ·b + (1 − dampening)·g (b = g on the
    first step); g = g + μ·b with Nesterov, else g = b; p = p − lr·g.

    >>> w = Value(1.0, kind="param")
    >>> opt = SGD([w], lr=0.1, momentum=0.9)
    >>> for _ in range(2):
    ...     opt.zero_grad(); (w * 3).backward(); opt.step()
    >>> round(w.data, 6)  # steps of 0.3, then 0.3·1.9
    0.13
    """

    def __init__(self, params, lr=0.01, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0):
        super().__init__(params, lr)
        self.momentum = _in_range(momentum, 0, 1, "SGD momentum")
        self.dampening = _in_range(dampening, 0, 1, "SGD dampening", hi_open=False)
        self.weight_decay = _in_range(weight_decay, 0, np.inf, "SGD weight_decay")
        if nesterov and (self.momentum == 0 or self.dampening != 0):
            raise ValueError("SGD with nesterov=True needs momentum > 0 and dampening = 0 (as in PyTorch)")
        self.nesterov = bool(nesterov)
        self.velocity = None

    def _update(self, data, grad):
        g = grad + self.weight_decay * data if self.weight_decay else grad
        if self.momentum:
            if self.velocity is None:
                self.velocity = g.copy()
            else:
                self.velocity = self.momentum * self.velocity + (1 - self.dampening) * g
            g = g + self.momentum * self.velocity if self.nesterov else self.velocity
        return data - self.lr * g


class RMSprop(Optimizer):
    """Divide each step by a running root-mean-square of the gradient.

    PyTorch's rule: v = α·v + (1 − α)·g²; with ``centered`` subtract the squared
    running mean of g; b = μ·b + g/(√v + ε) and p = p − lr·b (μ = momentum;
    without momentum p = p − lr·g/(√v + ε)).

    >>> w = Value(1.0, kind="param")
    >>> opt = RMSprop([w], lr=0.01, alpha=0.99)
    >>> (w * 2).backward(); opt.step()
    >>> round(w.data, 6)  # 1 − 0.01·2/√(0.01·4)
    0.9
    """

    def __init__(self, params, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False):
        super().__init__(params, lr)
        self.alpha = _in_range(alpha, 0, 1, "RMSprop alpha")
        self.eps = _in_range(eps, 0, np.inf, "RMSprop eps")
        self.weight_decay = _in_range(weight_decay, 0, np.inf, "RMSprop weight_decay")
        self.momentum = _in_range(momentum, 0, 1, "RMSprop momentum")
        self.centered = bool(centered)
        n = len(self.params)
        self.square_avg, self.grad_avg, self.buffer = np.zeros(n), np.zeros(n), np.zeros(n)

    def _update(self, data, grad):
        g = grad + self.weight_decay * data if self.weight_decay else grad
        self.square_avg = self.alpha * self.square_avg + (1 - self.alpha) * g * g
        v = self.square_avg
        if self.centered:
            self.grad_avg = self.alpha * self.grad_avg + (1 - self.alpha) * g
            # A variance, ≥ 0 in exact arithmetic; rounding can take it just below 0 (then √ is NaN).
            v = np.maximum(v - self.grad_avg**2, 0.0)
        step = g / (np.sqrt(v) + self.eps)
        if self.momentum:
            self.buffer = self.momentum * self.buffer + step
            step = self.buffer
        return data - self.lr * step


class Adam(Optimizer):
    """Adam: running means of g and g², bias-corrected, as in PyTorch.

    m = β1·m + (1 − β1)·g; v = β2·v + (1 − β2)·g²; m̂ = m/(1 − β1^t);
    v̂ = v/(1 − β2^t) (with ``amsgrad``, v is first replaced by its running maximum);
    p = p − lr·m̂/(√v̂ + ε). ``weight_decay`` adds wd·p to g (L2, not AdamW).

    >>> w = Value(1.0, kind="param")
    >>> opt = Adam([w], lr=0.1)
    >>> (w * 5).backward(); opt.step()
    >>> round(w.data, 6)  # the first step is lr·sign(g), whatever |g| is
    0.9
    """

    decoupled = False

    def __init__(self, params, lr=0.001, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False):
        super().__init__(params, lr)
        try:
            b1, b2 = betas
        except (TypeError, ValueError):
            raise ValueError(f"{type(self).__name__} betas must be a pair (beta1, beta2) such as (0.9, 0.999), got {betas!r}") from None
        self.betas = (_in_range(b1, 0, 1, f"{type(self).__name__} beta1"), _in_range(b2, 0, 1, f"{type(self).__name__} beta2"))
        self.eps = _in_range(eps, 0, np.inf, f"{type(self).__name__} eps")
        self.weight_decay = _in_range(weight_decay, 0, np.inf, f"{type(self).__name__} weight_decay")
        self.amsgrad = bool(amsgrad)
        n = len(self.params)
        self.m, self.v, self.v_max = np.zeros(n), np.zeros(n), np.zeros(n)

    def _update(self, data, grad):
        b1, b2 = self.betas
        g = grad
        if self.weight_decay:
            if self.decoupled:  # AdamW: shrink the weights directly, outside the moments
                data = data * (1 - self.lr * self.weight_decay)
            else:
                g = grad + self.weight_decay * data
        self.m = b1 * self.m + (1 - b1) * g
        self.v = b2 * self.v + (1 - b2) * g * g
        if self.amsgrad:
            # PyTorch keeps the maximum of the raw v and bias-corrects that.
            self.v_max = np.maximum(self.v_max, self.v)
        m_hat = self.m / (1 - b1**self.t)
        v_hat = (self.v_max if self.amsgrad else self.v) / (1 - b2**self.t)
        return data - self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


class AdamW(Adam):
    """Adam with decoupled weight decay: p = p·(1 − lr·wd) before the Adam step.

    >>> w = Value(1.0, kind="param")
    >>> opt = AdamW([w], lr=0.1, weight_decay=0.5)
    >>> (w * 5).backward(); opt.step()
    >>> round(w.data, 6)  # 1·(1 − 0.05) − 0.1
    0.85
    """

    decoupled = True

    def __init__(self, params, lr=0.001, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01, amsgrad=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad)


# The rules above, as nn ships them: a gradient that is not finite makes the result not finite (an inf
# or NaN times a number, plus a number, over a root of its own square, or through np.maximum is never
# finite again), so ``update`` checks the gradient only when the result is not finite. Exact classes:
# a subclass may write its own rule, and has its gradient checked first.
_CARRY = frozenset({SGD, RMSprop, Adam, AdamW})


class Schedule:
    """Sets ``optimizer.lr`` from the number of ``step()`` calls so far.

    The starting rate is the optimizer's ``lr`` when the schedule is made;
    call ``step()`` once per epoch (as with PyTorch's schedulers).
    """

    def __init__(self, optimizer: Optimizer):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__} needs an Optimizer, got {type_name(optimizer)}")
        self.optimizer = optimizer
        self.base_lr = optimizer.lr
        self.t = 0

    def step(self):
        self.t += 1
        self.optimizer.lr = self.lr_at(self.t)

    def lr_at(self, t) -> float:
        raise NotImplementedError(f"{type(self).__name__} must define lr_at(t)")


class LinearDecay(Schedule):
    """From the optimizer's lr down to ``end`` in a straight line over ``steps``, then constant.

    micrograd's demo is ``SGD(params, lr=1.0)`` with ``LinearDecay(opt, end=0.1, steps=100)``:
    lr = 1.0 − 0.9·k/100 at step k.

    >>> from engine import Value
    >>> opt = SGD([Value(0.0, kind="param")], lr=1.0)
    >>> s = LinearDecay(opt, end=0.1, steps=100)
    >>> [round(s.lr_at(k), 3) for k in (0, 50, 99, 100, 150)]
    [1.0, 0.55, 0.109, 0.1, 0.1]
    """

    def __init__(self, optimizer, end, steps):
        super().__init__(optimizer)
        self.end = positive(end, "LinearDecay end (the final learning rate)")
        if not is_int(steps) or steps < 1:
            raise ValueError(f"LinearDecay steps must be a positive int, got {steps!r}")
        self.steps = int(steps)

    def lr_at(self, t):
        return self.base_lr + (self.end - self.base_lr) * min(t, self.steps) / self.steps


class StepDecay(Schedule):
    """Multiply the lr by ``gamma`` every ``every`` steps (PyTorch's StepLR).

    >>> from engine import Value
    >>> s = StepDecay(SGD([Value(0.0, kind="param")], lr=1.0), every=10, gamma=0.5)
    >>> [s.lr_at(k) for k in (0, 9, 10, 25)]
    [1.0, 1.0, 0.5, 0.25]
    """

    def __init__(self, optimizer, every, gamma=0.1):
        super().__init__(optimizer)
        if not is_int(every) or every < 1:
            raise ValueError(f"StepDecay every must be a positive int, got {every!r}")
        self.every = int(every)
        self.gamma = positive(gamma, "StepDecay gamma")

    def lr_at(self, t):
        return self.base_lr * self.gamma ** (t // self.every)


class ExponentialDecay(Schedule):
    """Multiply the lr by ``gamma`` every step (PyTorch's ExponentialLR).

    >>> from engine import Value
    >>> s = ExponentialDecay(SGD([Value(0.0, kind="param")], lr=1.0), gamma=0.9)
    >>> round(s.lr_at(2), 6)
    0.81
    """

    def __init__(self, optimizer, gamma):
        super().__init__(optimizer)
        self.gamma = positive(gamma, "ExponentialDecay gamma")

    def lr_at(self, t):
        return self.base_lr * self.gamma**t
