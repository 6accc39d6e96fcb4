"""Value.passes and the pictures that read it: a drawing never mixes passes without saying so.

The semantics assumed here (agreed with the engine's rewrite):
- a leaf's ``passes`` is the number of backward passes (``backward()`` calls,
  or runs of ``steps()`` iterated) that added into its ``.grad`` since it was
  created or last reset by ``zero_grad()``;
- a computed node's ``passes`` is 1 once a pass reached it, else 0;
- ``Value.zero_grad()`` sets it to 0 on every node of the graph; a Module's and
  an optimizer's ``zero_grad()`` reset their parameters' counts too;
- it can be set, so that viz.steps can put a graph back as it was.
"""

import nn
from engine import Value
from viz import draw, steps


def graph():
    w, x = Value(3.0, "w", kind="param"), Value(2.0, "x")
    y = (w * x).tanh()
    y.label = "y"
    return w, x, y


def test_a_leaf_counts_backward_calls_and_a_gate_shows_one():
    w, x, y = graph()
    assert (w.passes, y.passes) == (0, 0)
    y.backward()
    assert (w.passes, x.passes, y.passes, y.inputs[0].passes) == (1, 1, 1, 1)
    y.backward()
    assert (w.passes, y.passes) == (2, 1)


def test_iterating_steps_is_a_pass_and_zero_grad_resets():
    w, x, y = graph()
    y.backward()
    for _ in y.steps():
        pass
    assert w.passes == 2
    y.zero_grad()
    assert (w.passes, x.passes, y.passes) == (0, 0, 0)
    y.backward()
    assert w.passes == 1


def test_module_and_optimizer_zero_grad_reset_the_count():
    model = nn.MLP(2, [2, 1], seed=0)
    opt = nn.SGD(model.parameters(), lr=0.1)
    out = model([1.0, 2.0])[0]
    out.backward()
    out.backward()
    assert {p.passes for p in model.parameters()} == {2}
    model.zero_grad()
    assert {p.passes for p in model.parameters()} == {0}
    out.backward()
    opt.zero_grad()
    assert {p.passes for p in model.parameters()} == {0}


def test_draw_says_when_leaf_gradients_add_up_several_passes():
    w, x, y = graph()
    y.backward()
    assert "accumulated" not in draw(y).source
    for _ in y.steps():  # the README's ten lines: backward(), then iterate steps()
        pass
    assert "leaf gradients accumulated over 2 passes" in draw(y).source
    y.zero_grad()
    y.backward()
    assert "accumulated" not in draw(y).source


def test_steps_put_the_count_back_and_say_the_frames_show_one_pass():
    w, x, y = graph()
    y.backward()
    y.backward()
    frames = steps(y)
    assert w.passes == 2 and w.grad == 2 * frames.steps[-1].contrib[0]  # untouched by drawing the steps
    assert "accumulated over 2 passes in .grad; these frames show one pass from zero" in frames[1].source
    fresh = graph()[2]
    fresh.backward()
    assert "accumulated" not in steps(fresh)[1].source
