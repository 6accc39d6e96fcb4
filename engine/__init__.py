"""gradflow's engine: scalar reverse-mode autodiff.

>>> from engine import Value
>>> x = Value(2.0, "x")
>>> y = x * x + 3 * x
>>> y.backward()
>>> y.data, x.grad
(10.0, 7.0)
"""

from .ops import OPS, Op, DomainError
from .value import NOT_COMPUTED, Leaf, Node, Step, Value, topo
from .check import gradcheck, numerical_grad
from .student import check_engine

__all__ = ["Value", "Leaf", "Node", "Step", "topo", "OPS", "Op", "DomainError", "NOT_COMPUTED", "gradcheck", "numerical_grad",
           "check_engine"]
