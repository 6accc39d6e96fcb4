"""``fit``'s fast path, apart from the Values a student reads (nn/module.py).

- ``replay``: ``Replay`` does ``batch_loss``'s work over a whole batch with
  numpy (nn's own layers as matrix products, anything else recorded once by
  ``engine.replay``); ``Outputs`` does ``predict``'s;
- ``store``: ``Store`` keeps the parameters as arrays while ``fit`` trains.
"""

from .replay import BatchResult, Outputs, Replay
from .store import Store

__all__ = ["Replay", "Outputs", "BatchResult", "Store"]
