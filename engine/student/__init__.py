"""Check a Value class a student wrote (micrograd's interface) against gradflow's engine.

``check_engine(Value)`` checks each op the class has against the op table
(forward rule and local derivatives, edges included), then graphs against
gradflow's own backward pass: a value used twice, shared nodes in an order
where a depth-first walk is wrong, a second backward(), a neuron, a deep
chain. Its report explains the first failure in the student's terms ("your
`__mul__` sends each input the upstream gradient unchanged; ..."). Each check
runs with a time and a memory limit (bounds.py), so a loop or an allocation
without end is stopped, never a hang. ``gradflow check-engine FILE.py:Value``
runs the same in a separate Python process (command.py).

>>> from engine import Value, check_engine
>>> check_engine(Value).summary().split(" (")[0]
'check_engine(Value): 21 passed'
"""

from .report import Check, EngineReport, check_engine

__all__ = ["check_engine", "EngineReport", "Check"]
