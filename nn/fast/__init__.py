"""``fit``'s fast path, apart from the Values a student reads (nn/module.py).

- ``replay``: ``Replay`` does ``batch_loss``'s work over a whole batch with
  numpy (nn's own layers as matrix products, anything else recorded once by
  ``engine.replay``); ``Outputs`` does ``predict``'s;
- ``store``: ``Store`` keeps the parameters as arrays while ``fit`` trains;
- ``views``: ``Views`` runs nn's layers on views of the ``Store``'s arrays (no
  gather of the weights, no scatter of their gradients), for a batch of one chunk;
- ``choose``: ``custom`` says what in a model is not nn's own code (``batched="auto"``
  replays only nn's own), ``Checked`` compares an asked-for replay with the eager engine.
"""

from .choose import Checked, ReplayFallback, agree, check_rows, custom, per_epoch
from .replay import BatchResult, Outputs, Replay
from .store import Store

__all__ = ["Replay", "Outputs", "BatchResult", "Store", "Checked", "ReplayFallback", "custom", "per_epoch", "check_rows",
           "agree"]
