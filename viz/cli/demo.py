"""`gradflow demo`: micrograd's demo network trained on moons, then one sample's loss drawn as it flows back."""

from __future__ import annotations

import time

from ..training import micrograd_demo, pick_sample
from .common import MAX_EPOCHS, add_out, output_dir, save_drawing, save_plots, within

__all__ = ["add_demo", "run_demo"]


def run_demo(args) -> int:
    """Train micrograd's demo network on moons, then draw one sample's loss as it flows back."""
    import nn
    from engine import Value

    from ..draw import draw
    from ..labels import number
    from ..network import draw_network

    within("--epochs", args.epochs, 1, MAX_EPOCHS)
    out = output_dir(args.out)
    start = time.perf_counter()
    print(f"training MLP(2, [16, 16, 1]) on 100 moons samples: hinge loss + 1e-4·L2, SGD 1.0 → 0.1, {args.epochs} steps")
    model, X, y, history, loss, reg = micrograd_demo(args.epochs, progress=not args.no_progress)
    # The history holds the data loss alone; micrograd's demo prints it with the penalty, so say both.
    print(f"final loss {history.loss[-1]:.4g} (hinge) + {reg(model).data:.4g} (L2 penalty), "
          f"training accuracy {history.acc[-1]:.1%} ({1e3 * (time.perf_counter() - start):.0f} ms)")
    train_X, train_y = X, y

    # A sample inside the margin: the hinge is active, so gradient flows back through the net.
    # Training ends with every training sample beyond it, so the search goes on in fresh ones.
    i, margin = pick_sample(model, X, y)
    which, why = f"training sample {i}", ""
    if margin >= 1:
        X, y = nn.moons(200, noise=0.1, seed=1)
        y = 2 * y - 1
        i, margin = pick_sample(model, X, y)
        which = f"unseen sample {i}"
        why = "every training sample is beyond the margin, where the hinge loss sends no gradient back, so "
    x, t = X[i].tolist(), int(y[i])
    where = ("misclassified, so gradient flows back" if margin <= 0 else "inside the margin, so gradient flows back"
             if margin < 1 else "beyond the margin: its hinge loss and every gradient are 0")
    print(f"{why}the drawings show {which} (x = ({x[0]:.2f}, {x[1]:.2f}), label {t:+d}): "
          f"its margin y·score = {margin:.3f} is {where}")
    where = where.split(",")[0].split(":")[0]
    saved = save_plots(model, train_X, train_y, history, loss, out, mark=x, mark_label=f"drawn: {which} (label {t:+d})",
                       loss_name="hinge loss (data only, without the L2 penalty)")
    about = f"{which.split(' (')[0]}, x = ({x[0]:.2f}, {x[1]:.2f}), label {t:+d}, {where}"
    l2 = "data loss only: the L2 penalty (1e-4·Σw², adding 2e-4·w to each ∂/∂w) is left out"
    network = draw_network(model, x, target=t, loss="hinge", nodes="delta", title=f"{about}; {l2}")
    saved.append(save_drawing(network, out / "network.svg"))

    # The same data loss built eagerly, layer by layer, keeping each neuron's output.
    acts, layers = [Value(v, f"x{k + 1}") for k, v in enumerate(x)], []
    for layer in model.layers:
        acts = [n(acts) for n in layer.neurons]
        layers.append(acts)
    data_loss = nn.get_loss(loss)([acts], [t])
    data_loss.label = "loss"
    model.zero_grad()
    data_loss.backward()
    graph = draw(data_loss, color_by_grad=True, collapse="neuron", title=f"the computational graph of the loss, one box per neuron ({about}; {l2})")
    saved.append(save_drawing(graph, out / "graph.svg"))

    # One neuron of the first layer, the one the largest gradient reaches, drawn node by node.
    k = max(range(len(layers[0])), key=lambda j: abs(layers[0][j].grad))
    neuron, upstream = model.layers[0].neurons[k], layers[0][k].grad
    for p in neuron.parameters():
        p.zero_grad()
    a = neuron([Value(v, f"x{j + 1}") for j, v in enumerate(x)])
    a.label = f"layer1.neuron{k + 1}"
    a.backward(upstream)
    one = draw(a, grad_of="loss", title=f"layer1.neuron{k + 1}: ∂loss/∂a = {number(upstream)} arrives from the layers above ({about})")
    saved.append(save_drawing(one, out / "neuron.svg"))

    print(f"the network view: {network.note or 'every edge drawn'}")
    print(f"the computational graph: {graph.note or f'{graph.nodes} nodes'}")
    print(f"done in {time.perf_counter() - start:.1f} s; open these files:")
    for path in saved:
        print(f"  {path}")
    return 0


def add_demo(sub):
    p = sub.add_parser("demo", help="train an MLP on moons; save its decision boundary, loss curve and a drawn graph",
                       description="Train micrograd's demo network MLP(2, [16, 16, 1]) on the moons dataset (hinge "
                       "loss + 1e-4·L2, SGD with the learning rate decayed from 1.0 to 0.1) and save the decision "
                       "boundary, the loss curve, and for one sample inside the margin: the network view of its "
                       "gradients, the computational graph of its loss and the graph of one neuron.")
    add_out(p)
    p.add_argument("--epochs", type=int, default=100, help="training steps (default 100, as in micrograd)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(run=run_demo)


