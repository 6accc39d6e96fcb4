"""The replay: one sample's recorded graph run over a whole batch with numpy.

The eager engine (engine/value.py) is what a student reads and what draws and
steps through; this package makes training fast without changing what it
computes. Its modules, in the order the data flows:

- ``record``  records ``fn`` on one sample, refusing what could differ per sample;
- ``program`` compiles a recording into grouped numpy calls (a layer as one matrix product);
- ``tape``    ``trace(fn)`` and ``Tape``: run and backpropagate the program over a batch;
- ``dense``   a stack of known layers (nn's MLP) run as matrix products, with nothing recorded.

>>> from engine import Value
>>> w = Value(2.0, "w", kind="param")
>>> tape = trace(lambda x: (w * x) ** 2)
>>> tape.run([1.0, 3.0]), tape.backward(), w.grad   # mean of (w·x)² and its d/dw
(20.0, None, 20.0)
"""

from .dense import Dense
from .record import ReplayError
from .tape import Tape, trace

__all__ = ["trace", "Tape", "ReplayError", "Dense"]
