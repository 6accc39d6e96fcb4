"""Modules: neurons, layers and multilayer perceptrons built from Values.

A Module owns parameters (leaf Values of kind "param") with stable dotted
names such as ``layer1.neuron3.w2``; the names double as the parameters'
labels, so a drawn graph says which weight is which.

>>> model = MLP(2, [3, 1], seed=0)
>>> [name for name, _ in model.named_parameters()][:3]
['layer1.neuron1.w1', 'layer1.neuron1.w2', 'layer1.neuron1.b']
>>> len(model.parameters())
13
>>> out = model([1.0, -2.0])
>>> type(out).__name__, len(out)
('list', 1)
"""

from __future__ import annotations

import numbers
from typing import Callable

import numpy as np

from engine.args import is_int, is_real, type_name
from engine import OPS, Value

__all__ = ["Module", "Neuron", "Layer", "MLP", "Dropout", "Maxout", "ACTIVATIONS", "get_activation"]

# The ops of the engine's table that make sense between layers. Each is also a
# Value method of the same name, which is what a neuron calls.
ACTIVATIONS = ("relu", "tanh", "sigmoid", "leaky_relu", "elu", "softplus")
for _name in ACTIVATIONS:
    assert _name in OPS and OPS[_name].arity == 1 and hasattr(Value, _name), _name

INITS = ("uniform", "he")


def _linear(v):
    return v


def get_activation(spec) -> tuple[str, Callable]:
    """Resolve an activation given by name or as a callable: ``(name, fn)``.

    Names are the engine's unary activation ops plus "linear" (no activation).

    >>> name, fn = get_activation("tanh")
    >>> name, round(fn(Value(0.5)).data, 4)
    ('tanh', 0.4621)
    >>> get_activation("swish")
    Traceback (most recent call last):
    ...
    ValueError: unknown activation 'swish'; valid names: relu, tanh, sigmoid, leaky_relu, elu, softplus, linear (or pass a callable Value -> Value)
    """
    if spec is None or spec == "linear":
        return "linear", _linear
    if isinstance(spec, str):
        if spec not in ACTIVATIONS:
            valid = ", ".join(ACTIVATIONS + ("linear",))
            raise ValueError(f"unknown activation {spec!r}; valid names: {valid} (or pass a callable Value -> Value)")
        return spec, getattr(Value, spec)
    if callable(spec):
        return getattr(spec, "__name__", type(spec).__name__), spec
    raise TypeError(f"activation must be a name (str) or a callable Value -> Value, got {type_name(spec)}")


def as_inputs(x, nin, who):
    # One sample as a list: numbers become input leaves x1, x2, ... so a
    # drawn graph names them; Values pass through untouched.
    if isinstance(x, (Value, numbers.Real)):
        raise TypeError(f"{who} expects a sequence of {nin} inputs (one sample), got a single {type_name(x)}")
    try:
        xs = list(x)
    except TypeError:
        raise TypeError(f"{who} expects a sequence of {nin} inputs (one sample), got {type_name(x)}") from None
    if len(xs) != nin:
        raise ValueError(f"{who} expects {nin} inputs per sample, got {len(xs)}")
    for i, xi in enumerate(xs):
        if not isinstance(xi, Value):
            if not isinstance(xi, numbers.Real):
                raise TypeError(f"{who}: input {i + 1} must be a number or a Value, got {type_name(xi)}")
            xs[i] = Value(float(xi), f"x{i + 1}")
    return xs


class Module:
    """Base class: parameters with names, gradients to clear, train/eval mode.

    Subclasses hold their parameters as Value attributes, lists of Values or
    sub-modules; ``named_parameters`` finds them in attribute order (override
    it for nicer names, as Neuron, Layer and MLP do).

    >>> class Scale(Module):
    ...     def __init__(self):
    ...         self.k = Value(2.0, kind="param")
    ...     def __call__(self, x):
    ...         return self.k * x
    >>> m = Scale()
    >>> m.named_parameters()
    [('k', Value(data=2.0, grad=0.0))]
    """

    training = True

    def named_parameters(self) -> list[tuple[str, Value]]:
        """Every parameter with its dotted name, in a stable order."""
        found = []
        for attr, obj in vars(self).items():
            if attr.startswith("_"):
                continue
            if isinstance(obj, (list, tuple)):
                for i, item in enumerate(obj, 1):
                    found += _named(item, f"{attr}{i}")
            else:
                found += _named(obj, attr)
        return found

    def parameters(self) -> list[Value]:
        """The parameters as a list of Values (what an optimizer updates)."""
        return [p for _, p in self.named_parameters()]

    def _dense(self, params=None):
        # ``(leaves, layers)`` for ``engine.replay.Dense`` that compute this
        # module exactly as its __call__ does, leaves in parameters() order
        # (``params``, when the caller has that list already); or None: the
        # replay then records it node by node. Only modules whose code is
        # known say yes.
        return None

    def children(self) -> list["Module"]:
        """The sub-modules directly held by this one."""
        kids = []
        for attr, obj in vars(self).items():
            items = obj if isinstance(obj, (list, tuple)) else [obj]
            kids += [m for m in items if isinstance(m, Module)]
        return kids

    def zero_grad(self):
        """Set every parameter's gradient to 0.0 before the next backward pass."""
        for p in self.parameters():
            p.zero_grad()  # a leaf's zero_grad also resets its count of passes

    def train(self, mode: bool = True):
        """Switch to training mode (dropout active); returns the module."""
        self.training = bool(mode)
        for m in self.children():
            m.train(mode)
        return self

    def eval(self):
        """Switch to evaluation mode (dropout off); returns the module."""
        return self.train(False)

    def state_dict(self) -> dict[str, float]:
        """Parameter values by name.

        >>> Neuron(2, seed=1).state_dict().keys()
        dict_keys(['w1', 'w2', 'b'])
        """
        return {name: p.data for name, p in self.named_parameters()}

    def load_state_dict(self, state: dict):
        """Set parameter values by name; the names must match exactly.

        >>> n = Neuron(2, seed=0)
        >>> n.load_state_dict({"w1": 1.0, "w2": -1.0, "b": 0.5}); n.w[1].data
        -1.0
        >>> n.load_state_dict({"w1": 1.0})
        Traceback (most recent call last):
        ...
        ValueError: parameters do not match Neuron(2, activation='relu'): it has 3, the state has 1; missing from the state: w2, b
        """
        if not isinstance(state, dict):
            raise TypeError(f"load_state_dict needs a dict of name -> number (as state_dict() gives), got {type_name(state)}")
        mine = dict(self.named_parameters())
        missing = [n for n in mine if n not in state]
        extra = [n for n in state if n not in mine]
        if missing or extra:
            raise ValueError(
                f"parameters do not match {self!r}: it has {len(mine)}, the state has {len(state)}"
                + (f"; missing from the state: {_few(missing)}" if missing else "")
                + (f"; not in the model: {_few(extra)}" if extra else "")
            )
        for name in mine:  # check all before setting any: no half-loaded model
            v = state[name]
            if not is_real(v) or not np.isfinite(v):
                raise ValueError(f"parameter {name!r} must be a finite number, got {v!r}")
        for name, p in mine.items():
            p.data = float(state[name])

    def _label_parameters(self):
        # Names become labels so a drawn graph shows which weight is which.
        for name, p in self.named_parameters():
            p.label = name


def _named(obj, name):
    if isinstance(obj, Value):
        return [(name, obj)] if obj.kind == "param" else []
    if isinstance(obj, Module):
        return [(f"{name}.{n}", p) for n, p in obj.named_parameters()]
    return []


def _few(names, k=4):
    shown = ", ".join(names[:k])
    return shown + (f", ... ({len(names)} in all)" if len(names) > k else "")


def _init_weights(rng, nin, init):
    if init == "uniform":  # micrograd's choice
        return rng.uniform(-1.0, 1.0, nin)
    if init == "he":  # keeps the spread of ReLU activations steady with depth
        return rng.normal(0.0, np.sqrt(2.0 / nin), nin)
    raise ValueError(f"unknown init {init!r}; valid: {', '.join(INITS)}")


def positive_int(n, what):
    if not is_int(n) or n < 1:
        raise ValueError(f"{what} must be a positive int, got {n!r}")
    return int(n)


class Linear(Module):
    # w · x + b with one weight per input and a bias at 0, labelled w1.. and b:
    # the set-up Neuron and Perceptron share. Each draws its own starting weights.

    def __init__(self, weights):
        self.w = [Value(float(x), kind="param") for x in weights]
        self.b = Value(0.0, kind="param")
        self._label_parameters()

    @property
    def nin(self):
        return len(self.w)

    def _affine(self, xs) -> Value:
        # Bias first, then w_i·x_i in order: the same chain micrograd builds.
        return sum((wi * xi for wi, xi in zip(self.w, xs)), self.b)

    def named_parameters(self):
        return [(f"w{i}", w) for i, w in enumerate(self.w, 1)] + [("b", self.b)]

    def parameters(self):
        return [*self.w, self.b]  # named_parameters' order without making the names

    def children(self):
        # As Module's, without looking through w, which holds Values only (65,536 in a layer of 256 neurons).
        if vars(self).keys() <= _NEURON_ATTRS:
            return []
        return [m for k, obj in vars(self).items() if k != "w"
                for m in (obj if isinstance(obj, (list, tuple)) else [obj]) if isinstance(m, Module)]


class Neuron(Linear):
    """act(w · x + b): one weight per input and a bias, all parameters.

    Weights start uniform in [-1, 1] (as in micrograd) or He-normal
    (``init="he"``); the bias starts at 0. ``seed`` makes them reproducible.

    >>> n = Neuron(2, activation="linear", seed=0)
    >>> n.w[0].data, n.w[1].data = 2.0, -1.0
    >>> n([3.0, 4.0]).data
    2.0
    >>> n.w[0].label, n.b.label
    ('w1', 'b')
    """

    def __init__(self, nin, activation="relu", *, init="uniform", seed=None, rng=None):
        nin = positive_int(nin, "Neuron nin (number of inputs)")
        self.activation, self._act = get_activation(activation)
        rng = rng if rng is not None else np.random.default_rng(seed)
        super().__init__(_init_weights(rng, nin, init))

    def __call__(self, x) -> Value:
        return self._forward(as_inputs(x, len(self.w), "Neuron"))

    @property
    def act(self):
        """The activation as a function of one Value (``activation`` is its name).

        >>> Neuron(2, "tanh").act(Value(0.0)).op
        'tanh'
        """
        return self._act

    def _forward(self, xs):
        return self._act(self._affine(xs))

    def _dense(self, params=None):
        act = _known_act(self) if _neuron_code_kept() else False
        return None if act is False else (params if params is not None else self.parameters(), [_indexed(1, len(self.w), act)])

    def __repr__(self):
        return f"Neuron({self.nin}, activation={self.activation!r})"


def _known_act(neuron):
    # A Neuron whose code is this module's, unchanged: its activation as
    # Dense wants it (None for linear, name or (name, constant)), else False.
    # (The class's methods are checked once per model, by _neuron_code_kept.)
    if type(neuron) is not Neuron or not vars(neuron).keys() <= _NEURON_ATTRS:
        return False
    name, act = neuron.activation, neuron._act
    if name == "linear" and act is _linear:
        return None
    if name not in ACTIVATIONS or act is not getattr(Value, name):
        return False
    if act not in _ACT_SPECS:  # keyed by the method itself: a replaced Value.elu is probed anew
        probe = act(Value(0.5))  # the constant the method passes (leaky_relu's alpha, elu's): read, not guessed
        _ACT_SPECS[act] = name if probe.arg is None else (name, probe.arg)
    return _ACT_SPECS[act]


def _neuron_code_kept():
    return (Neuron.__call__, Neuron._forward, Neuron._affine) == _NEURON_CODE


_ACT_SPECS = {}
_NEURON_ATTRS = frozenset({"w", "b", "activation", "_act", "training"})
_NEURON_CODE = (Neuron.__call__, Neuron._forward, Neuron._affine)


def _indexed(m, k, act, start=0):
    # A layer of m neurons over k inputs whose parameters are listed neuron
    # by neuron, k weights then the bias, from position start: (W, b, act) by position.
    first = start + (k + 1) * np.arange(m)
    return first[:, None] + np.arange(k), first + k, act


class Layer(Module):
    """``nout`` neurons reading the same inputs; calling it returns a list.

    >>> layer = Layer(3, 2, activation="tanh", seed=0)
    >>> len(layer.neurons), len(layer([0.1, 0.2, 0.3]))
    (2, 2)
    >>> layer.neurons[1].w[2].label
    'neuron2.w3'
    """

    def __init__(self, nin, nout, activation="relu", *, init="uniform", seed=None, rng=None):
        nin = positive_int(nin, "Layer nin (number of inputs)")
        nout = positive_int(nout, "Layer nout (number of neurons)")
        rng = rng if rng is not None else np.random.default_rng(seed)
        self.neurons = [Neuron(nin, activation, init=init, rng=rng) for _ in range(nout)]
        self.activation = self.neurons[0].activation
        self._label_parameters()

    @property
    def nin(self):
        return self.neurons[0].nin

    @property
    def nout(self):
        return len(self.neurons)

    def __call__(self, x) -> list[Value]:
        xs = as_inputs(x, self.nin, "Layer")
        return [n._forward(xs) for n in self.neurons]

    def named_parameters(self):
        return [(f"neuron{i}.{name}", p) for i, n in enumerate(self.neurons, 1) for name, p in n.named_parameters()]

    def parameters(self):
        out = []
        for n in self.neurons:
            out += n.parameters()  # list += list: copied in C, not Value by Value
        return out

    def _dense(self, params=None):
        if type(self) is not Layer or Layer.__call__ is not _LAYER_CALL or not _neuron_code_kept():
            return None
        spec = self._dense_at(0)
        return None if spec is None else (params if params is not None else self.parameters(), [spec])

    def _dense_at(self, start):
        # (W, b, act) by position from start, when every neuron is known, alike and of one size; else None.
        k, first = self.nin, self.neurons[0]
        act = _known_act(first)
        if act is False or any(type(n) is not Neuron or n._act is not first._act or n.activation != first.activation
                               or len(n.w) != k or not vars(n).keys() <= _NEURON_ATTRS for n in self.neurons):
            return None
        return _indexed(len(self.neurons), k, act, start)

    def __repr__(self):
        return f"Layer({self.nin}, {self.nout}, activation={self.activation!r})"


_LAYER_CALL = Layer.__call__


class Maxout(Module):
    """``nout`` maxout units reading the same inputs: each the largest of ``pieces`` linear functions.

    Unit j computes max_k (w_jk · x + b_jk), the lectures' max(w1ᵀx + b1, w2ᵀx + b2)
    for two pieces. It learns its own convex, piecewise-linear activation (ReLU is
    two pieces with one held at 0); the gradient reaches the winning piece only,
    because max routes (a tie splits it). Weights start as in ``Neuron``, biases at 0.

    >>> m = Maxout(2, 1, pieces=2, seed=0)
    >>> [name for name, _ in m.named_parameters()][:4]
    ['unit1.piece1.w1', 'unit1.piece1.w2', 'unit1.piece1.b', 'unit1.piece2.w1']
    >>> m.load_state_dict({"unit1.piece1.w1": 1.0, "unit1.piece1.w2": 0.0, "unit1.piece1.b": 0.0,
    ...                    "unit1.piece2.w1": -1.0, "unit1.piece2.w2": 0.0, "unit1.piece2.b": 0.0})
    >>> [m([x, 0.0])[0].data for x in (-2.0, 3.0)]   # max(x, −x) = |x|
    [2.0, 3.0]
    """

    def __init__(self, nin, nout, pieces=2, *, init="uniform", seed=None, rng=None):
        nin = positive_int(nin, "Maxout nin (number of inputs)")
        nout = positive_int(nout, "Maxout nout (number of units)")
        self.k = positive_int(pieces, "Maxout pieces (linear functions per unit)")
        rng = rng if rng is not None else np.random.default_rng(seed)
        # One flat list, unit by unit: the pieces of unit j are pieces[j·k : (j + 1)·k].
        self.pieces = [Neuron(nin, "linear", init=init, rng=rng) for _ in range(nout * self.k)]
        self._label_parameters()

    @property
    def nin(self):
        return self.pieces[0].nin

    @property
    def nout(self):
        return len(self.pieces) // self.k

    def __call__(self, x) -> list[Value]:
        xs = as_inputs(x, self.nin, "Maxout")
        outs = []
        for j in range(self.nout):
            zs = [p._forward(xs) for p in self.pieces[j * self.k:(j + 1) * self.k]]
            best = zs[0]
            for z in zs[1:]:
                best = best.max(z)
            outs.append(best)
        return outs

    def named_parameters(self):
        return [
            (f"unit{i // self.k + 1}.piece{i % self.k + 1}.{name}", p)
            for i, n in enumerate(self.pieces)
            for name, p in n.named_parameters()
        ]

    def __repr__(self):
        return f"Maxout({self.nin}, {self.nout}, pieces={self.k})"


class Dropout(Module):
    """Zero each value with probability ``p`` while training, scaling the rest by 1/(1 − p).

    In evaluation mode (``model.eval()``) it passes values through, so the
    expected activation is the same in both modes.

    >>> d = Dropout(0.5, seed=0)
    >>> [v.data for v in d([Value(1.0), Value(1.0), Value(1.0), Value(1.0)])]
    [2.0, 0.0, 0.0, 0.0]
    >>> [v.data for v in d.eval()([Value(1.0), Value(1.0)])]
    [1.0, 1.0]
    """

    def __init__(self, p=0.5, *, seed=None, rng=None):
        if not is_real(p) or not 0.0 <= p < 1.0:
            raise ValueError(f"Dropout p is the probability of dropping a value and must be in [0, 1), got {p!r}")
        self.p = float(p)
        self._rng = rng if rng is not None else np.random.default_rng(seed)

    def __call__(self, xs) -> list[Value]:
        if not isinstance(xs, (list, tuple)):
            raise TypeError(f"Dropout takes a list of Values (a layer's output), got {'a single Value' if isinstance(xs, Value) else type_name(xs)}")
        if not self.training or self.p == 0.0:
            return list(xs)
        keep = self._rng.random(len(xs)) >= self.p
        scale = 1.0 / (1.0 - self.p)
        # A dropped value is multiplied by 0 rather than removed, so the drawn
        # graph shows where the gradient was cut.
        return [x * (scale if k else 0.0) for x, k in zip(xs, keep)]

    def __repr__(self):
        return f"Dropout({self.p})"


class MLP(Module):
    """A multilayer perceptron: layers of neurons, the last one linear by default.

    ``MLP(2, [16, 16, 1])`` is micrograd's demo network: 2 inputs, two
    hidden ReLU layers of 16, one linear output. Calling it on one sample
    returns a list with one Value per output.

    >>> model = MLP(2, [4, 1], activation="tanh", output_activation="sigmoid", seed=3)
    >>> [layer.activation for layer in model.layers]
    ['tanh', 'sigmoid']
    >>> 0 < model([0.5, -0.5])[0].data < 1
    True
    >>> model([1.0, 2.0, 3.0])
    Traceback (most recent call last):
    ...
    ValueError: MLP(2, [4, 1], activation='tanh', output_activation='sigmoid') expects 2 inputs per sample, got 3
    """

    def __init__(self, nin, nouts, activation="relu", output_activation=None, *, dropout=0.0, init="uniform", seed=None):
        nin = positive_int(nin, "MLP nin (number of inputs)")
        if isinstance(nouts, (numbers.Number, str)) or not hasattr(nouts, "__iter__"):
            raise TypeError(f"MLP nouts is a list of layer sizes, e.g. [16, 16, 1]; got {type_name(nouts)} {nouts!r}")
        nouts = [positive_int(n, "each MLP layer size") for n in nouts]
        if not nouts:
            raise ValueError("MLP needs at least one layer size in nouts, e.g. [16, 16, 1]")
        self.activation = get_activation(activation)[0]
        rng = np.random.default_rng(seed)
        sizes = [nin] + nouts
        acts = [activation] * (len(nouts) - 1) + [output_activation]
        self.layers = [Layer(sizes[i], sizes[i + 1], acts[i], init=init, rng=rng) for i in range(len(nouts))]
        self.dropout = Dropout(dropout, rng=rng) if dropout else None
        self._label_parameters()

    @property
    def nin(self):
        return self.layers[0].nin

    @property
    def nouts(self):
        return [layer.nout for layer in self.layers]

    def __call__(self, x) -> list[Value]:
        xs = as_inputs(x, self.nin, repr(self))
        last = len(self.layers) - 1
        for i, layer in enumerate(self.layers):
            xs = [n._forward(xs) for n in layer.neurons]  # sizes match by construction
            if self.dropout is not None and i < last:
                xs = self.dropout(xs)
        return xs

    def named_parameters(self):
        return [(f"layer{i}.{name}", p) for i, layer in enumerate(self.layers, 1) for name, p in layer.named_parameters()]

    def parameters(self):
        out = []
        for layer in self.layers:
            out += layer.parameters()
        return out

    def _dense(self, params=None):
        # Dropout draws masks: recorded (and refused) unless it does nothing.
        # ``params``: this model's parameters() when the caller has the list already.
        if (type(self) is not MLP or MLP.__call__ is not _MLP_CALL or (self.dropout is not None and self.dropout.p)
                or not _neuron_code_kept()):
            return None
        stack, start = [], 0
        for layer in self.layers:
            spec = layer._dense_at(start) if type(layer) is Layer else None
            if spec is None or (stack and layer.nin != len(stack[-1][1])):
                return None
            stack.append(spec)
            start += spec[0].size + len(spec[1])
        return (self.parameters() if params is None else params), stack

    def __repr__(self):
        text = f"MLP({self.nin}, {self.nouts}, activation={self.activation!r}"
        if self.layers[-1].activation != "linear":
            text += f", output_activation={self.layers[-1].activation!r}"
        if self.dropout is not None:
            text += f", dropout={self.dropout.p}"
        return text + ")"


_MLP_CALL = MLP.__call__
