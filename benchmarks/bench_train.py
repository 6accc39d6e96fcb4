"""Training speed, side by side: micrograd's demo trained by four engines, and a spiral.

The demo (micrograd's demo.ipynb): MLP(2, [16, 16, 1]) with ReLU, 100 moons
samples (noise 0.1), hinge loss + 1e-4·Σp², plain SGD with the learning rate
falling from 1.0 to 0.1 over 100 full-batch steps. Every engine starts from the
same weights (micrograd's, drawn after random.seed(1337)) and the same data:
  micrograd          micrograd==0.1.0, the demo's loop as written
  gradflow eager     nn.MLP + nn's hinge and l2_penalty, one graph per step
  gradflow batched   engine.replay: the per-sample graph recorded once, replayed
                     over the 100 samples by numpy; nn's SGD
  PyTorch            tensors, full batch, float64 (only when torch is installed)
  nn.fit             the same through nn's training loop (batched="auto": the
                     replay), with its history, accuracy and schedule per step
Also measured: what each speed-up of the batched path buys (one numpy call
per node; grouped by depth and op; plus fused sums; layers as matrix
products), and a 3-class spiral of
3,000 points trained by the batched path (mini-batches of 100, Adam) until
the accuracy on all 3,000 points reaches 95%.

Run:  python benchmarks/bench_train.py [--quick]   (--quick: 5 micrograd/eager steps, timed per step)
Use:  from bench_train import main; results = main()   (with benchmarks/ on sys.path)
"""

from __future__ import annotations

import platform
import random
import statistics
import sys
import time

import numpy as np

import _reference
from engine.replay import trace
from nn import MLP
from nn.data import moons, spirals
from nn.losses import hinge, l2_penalty
from nn.optim import SGD, Adam, LinearDecay
from nn.train import fit


STEPS = 100
QUICK_STEPS = 5
ALPHA = 1e-4
SIZES = [16, 16, 1]
SPIRAL = dict(n=3000, k=3, sizes=[16, 16, 3], lr=0.02, batch=100, target=0.95, max_epochs=50)
TARGET_VS_MICROGRAD = 100.0
TARGET_VS_TORCH = 5.0


def learning_rate(k, steps=STEPS):
    return 1.0 - 0.9 * k / steps


def demo_data():
    X, y = moons(100, noise=0.1, seed=0)
    return X, 2.0 * y - 1.0


def micrograd_start():
    """micrograd's model as the demo makes it, and its initial weights as floats."""
    _reference.micrograd_value()
    from micrograd.nn import MLP as MicroMLP

    random.seed(1337)
    model = MicroMLP(2, SIZES)
    return model, [float(p.data) for p in model.parameters()]


def _accuracy(scores, y):
    return float(np.mean((np.asarray(scores) > 0) == (y > 0)))


# --- the four engines ------------------------------------------------------------------


def train_micrograd(X, y, steps):
    from micrograd.engine import Value as MicroValue

    model, _ = micrograd_start()
    rows = X.tolist()
    times = []
    for k in range(steps):
        t0 = time.perf_counter()
        inputs = [list(map(MicroValue, row)) for row in rows]
        scores = list(map(model, inputs))
        losses = [(1 + -yi * si).relu() for yi, si in zip(y.tolist(), scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        total = data_loss + ALPHA * sum(p * p for p in model.parameters())
        model.zero_grad()
        total.backward()
        lr = learning_rate(k)
        for p in model.parameters():
            p.data -= lr * p.grad
        times.append(time.perf_counter() - t0)
    scores = [model(list(map(MicroValue, row))).data for row in rows]
    return times, _accuracy(scores, y), [float(p.data) for p in model.parameters()]


def gradflow_model(start):
    model = MLP(2, SIZES, seed=0)
    for p, x in zip(model.parameters(), start):
        p.data = x
    return model


def train_eager(X, y, steps, start):
    model = gradflow_model(start)
    opt = SGD(model.parameters(), lr=1.0)
    rows, targets = X.tolist(), y.tolist()
    times = []
    for k in range(steps):
        t0 = time.perf_counter()
        opt.lr = learning_rate(k)
        opt.zero_grad()
        scores = [model(row)[0] for row in rows]
        total = hinge(scores, targets) + ALPHA * l2_penalty(model)
        total.backward()
        opt.step()
        times.append(time.perf_counter() - t0)
    scores = [model(row)[0].data for row in rows]
    return times, _accuracy(scores, y), [p.data for p in model.parameters()]


def demo_tape(model, **options):
    """The demo's loss for one sample, hinge + penalty, with the score carried along."""

    def sample_loss(x, t):
        score = model(x)[0]
        return hinge.term([score], t) + ALPHA * l2_penalty(model), score

    return trace(sample_loss, has_aux=True, **options)


def train_batched(X, y, steps, start, **options):
    model = gradflow_model(start)
    opt = SGD(model.parameters(), lr=1.0)
    tape = demo_tape(model, **options)
    t0 = time.perf_counter()
    tape.run(X, y)  # the recording, timed on its own
    record = time.perf_counter() - t0
    times = []
    for k in range(steps):
        t0 = time.perf_counter()
        opt.lr = learning_rate(k)
        opt.zero_grad()
        tape.run(X, y)
        tape.backward()
        opt.step()
        times.append(time.perf_counter() - t0)
    tape.forward(X, y)
    return times, _accuracy(tape.aux, y), [p.data for p in model.parameters()], record


def train_fit(X, y, start):
    model = gradflow_model(start)
    opt = SGD(model.parameters(), lr=1.0)
    t0 = time.perf_counter()
    history = fit(model, X, y, loss="hinge", l2=ALPHA, optimizer=opt, epochs=STEPS,
                  schedule=LinearDecay(opt, end=0.1, steps=STEPS), progress=False)
    seconds = time.perf_counter() - t0
    tape = demo_tape(model)
    tape.forward(X, y)
    return seconds, _accuracy(tape.aux, y), history.acc[-1]


def train_torch(X, y, steps, start):
    try:
        import torch
    except ImportError:
        return None
    Xt, yt = torch.tensor(X, dtype=torch.float64), torch.tensor(y, dtype=torch.float64)
    layers, sizes, at = [], [2] + SIZES, 0
    for nin, nout in zip(sizes, sizes[1:]):
        linear = torch.nn.Linear(nin, nout).double()
        # micrograd's order: neuron by neuron, its weights then its bias
        block = torch.tensor(start[at : at + nout * (nin + 1)], dtype=torch.float64).reshape(nout, nin + 1)
        with torch.no_grad():
            linear.weight.copy_(block[:, :nin])
            linear.bias.copy_(block[:, nin])
        at += nout * (nin + 1)
        layers += [linear, torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers[:-1])
    torch.set_num_threads(1)  # as numpy's replay runs here; bench_scale.py also times the default threads
    # L2 as PyTorch users write it: weight decay 2α is the gradient of α·Σp².
    opt = torch.optim.SGD(model.parameters(), lr=1.0, weight_decay=2 * ALPHA)
    times = []
    for k in range(steps):
        t0 = time.perf_counter()
        for group in opt.param_groups:
            group["lr"] = learning_rate(k)
        opt.zero_grad()
        scores = model(Xt)[:, 0]
        total = torch.relu(1 - yt * scores).mean()
        total.backward()
        opt.step()
        times.append(time.perf_counter() - t0)
    with torch.no_grad():
        acc = _accuracy(model(Xt)[:, 0].numpy(), y)
    return times, acc, torch.__version__


def gradient_agreement(X, y, start):
    """Largest relative difference between the batched and the eager gradient at the start."""
    eager, batched = gradflow_model(start), gradflow_model(start)
    total = hinge([eager(row)[0] for row in X.tolist()], y.tolist()) + ALPHA * l2_penalty(eager)
    total.backward()
    tape = demo_tape(batched)
    tape.run(X, y)
    tape.backward()
    a = np.array([p.grad for p in eager.parameters()])
    b = np.array([p.grad for p in batched.parameters()])
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a), 1e-300)))


# --- the spiral ----------------------------------------------------------------------------


def spiral_loss(model):
    """Softmax cross-entropy of one sample with a one-hot target, written with ops only.

    The shift m = max_k z_k is a node (Value.max), not a number read from
    .data, so the graph is the same for every sample; it cancels in value and gradient.
    """

    def sample_loss(x, onehot):
        z = model(x)
        m = z[0]
        for zk in z[1:]:
            m = m.max(zk)
        log_total = sum((zk - m).exp() for zk in z).log() + m
        return log_total - sum(t * zk for t, zk in zip(onehot, z))

    return sample_loss


def train_spiral():
    s = SPIRAL
    X, labels = spirals(s["n"], k=s["k"], seed=0)
    onehot = np.eye(s["k"])[labels]
    model = MLP(2, s["sizes"], seed=0)
    opt = Adam(model.parameters(), lr=s["lr"])
    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    tape, scores = trace(spiral_loss(model)), trace(lambda x: model(x))
    accuracy, epochs, steps = 0.0, 0, 0
    while accuracy < s["target"] and epochs < s["max_epochs"]:
        order = rng.permutation(s["n"])
        for i in range(0, s["n"], s["batch"]):
            batch = order[i : i + s["batch"]]
            opt.zero_grad()
            tape.run(X[batch], onehot[batch])
            tape.backward()
            opt.step()
            steps += 1
        epochs += 1
        accuracy = float(np.mean(scores.forward(X).argmax(axis=1) == labels))
    direct = {"seconds": time.perf_counter() - t0, "epochs": epochs, "steps": steps, "accuracy": accuracy,
              "nodes_per_sample": tape.nodes, **s}
    # The same through nn.fit: softmax_cross_entropy, one recording per class.
    model = MLP(2, s["sizes"], seed=0)
    t0 = time.perf_counter()
    fit(model, X, labels, loss="softmax_cross_entropy", optimizer=Adam(model.parameters(), lr=s["lr"]),
        epochs=epochs, batch_size=s["batch"], progress=False)
    seconds = time.perf_counter() - t0
    scores = trace(lambda x: model(x)).forward(X)
    direct["fit"] = {"seconds": seconds, "epochs": epochs,
                     "accuracy": float(np.mean(scores.argmax(axis=1) == labels))}
    return direct


# --- the run -------------------------------------------------------------------------------


def _summary(times, steps_total=STEPS, accuracy=None, **extra):
    per_step = statistics.median(times)
    return {"ms_per_step": 1e3 * per_step, "best_ms_per_step": 1e3 * min(times), "steps_timed": len(times),
            "total_s": sum(times) if len(times) == steps_total else per_step * steps_total,
            "total_measured": len(times) == steps_total, "accuracy": accuracy, **extra}


def main(quick=False, out=sys.stdout, repeats=5):
    """Run everything once; return the figures and print a markdown table to ``out``."""
    X, y = demo_data()
    slow_steps = QUICK_STEPS if quick else STEPS
    _, start = micrograd_start()
    results = {"settings": {"steps": STEPS, "slow_steps": slow_steps, "samples": len(y), "sizes": [2] + SIZES,
                            "python": platform.python_version(), "numpy": np.__version__, "repeats": repeats},
               "engines": {}}
    engines = results["engines"]

    times, acc, _ = train_micrograd(X, y, slow_steps)
    engines["micrograd 0.1.0"] = _summary(times, accuracy=acc if slow_steps == STEPS else None)
    times, acc, eager_params = train_eager(X, y, slow_steps, start)
    engines["gradflow eager"] = _summary(times, accuracy=acc if slow_steps == STEPS else None)

    # The fast columns train the whole 100 steps several times; the best run counts.
    runs = [train_batched(X, y, STEPS, start) for _ in range(repeats)]
    times, acc, batched_params, record = min(runs, key=lambda r: sum(r[0]))
    engines["gradflow batched"] = _summary(times, accuracy=acc, record_s=record)
    if slow_steps == STEPS:
        a, b = np.array(eager_params), np.array(batched_params)
        results["eager_vs_batched_final_params"] = float(np.max(np.abs(a - b)))
    results["gradient_agreement_first_step"] = gradient_agreement(X, y, start)
    seconds, acc, _ = min((train_fit(X, y, start) for _ in range(repeats)), key=lambda r: r[0])
    engines["gradflow nn.fit (auto → batched)"] = {
        "ms_per_step": 1e3 * seconds / STEPS, "best_ms_per_step": None, "steps_timed": STEPS, "total_s": seconds,
        "total_measured": True, "accuracy": acc, "note": "whole fit call: checks, recording, history"}
    torch_runs = [train_torch(X, y, STEPS, start) for _ in range(repeats)]
    if torch_runs[0] is not None:
        times, acc, version = min(torch_runs, key=lambda r: sum(r[0]))
        engines[f"PyTorch {version} (float64)"] = _summary(times, accuracy=acc)

    # What each step of the batched path buys: per-node calls, groups, fused sums.
    variants = {"one numpy call per node": dict(group=False, fuse=False, matmul=False),
                "grouped by depth and op": dict(fuse=False, matmul=False),
                "grouped + fused sums": dict(matmul=False),
                "layers as matrix products (default)": {}}
    results["batched_variants"] = {}
    for name, options in variants.items():
        n = 5 if options.get("group") is False else 20
        times = min((train_batched(X, y, n, start, **options)[0] for _ in range(3)), key=sum)
        tape = demo_tape(gradflow_model(start), **options)
        tape.run(X, y)
        results["batched_variants"][name] = {"ms_per_step": 1e3 * statistics.median(times),
                                             "nodes": tape.nodes, "groups": tape.groups}

    micro = engines["micrograd 0.1.0"]["ms_per_step"]
    fast = engines["gradflow batched"]["ms_per_step"]
    ratios = {"batched_vs_micrograd": micro / fast, "eager_vs_micrograd": micro / engines["gradflow eager"]["ms_per_step"]}
    torch_name = next((k for k in engines if k.startswith("PyTorch")), None)
    if torch_name:
        ratios["batched_vs_torch"] = fast / engines[torch_name]["ms_per_step"]
    results["ratios"] = ratios
    results["targets_met"] = {"batched_100x_micrograd": ratios["batched_vs_micrograd"] >= TARGET_VS_MICROGRAD,
                              "batched_accuracy_100%": engines["gradflow batched"]["accuracy"] == 1.0}
    if torch_name:
        results["targets_met"]["batched_within_5x_torch"] = ratios["batched_vs_torch"] <= TARGET_VS_TORCH
    results["spiral"] = train_spiral()
    if out is not None:
        print(table(results), file=out)
    return results


def table(results):
    s = results["settings"]
    lines = [
        f"micrograd's demo: MLP{tuple(s['sizes'])}, {s['samples']} moons samples, hinge + 1e-4·L2, SGD 1.0 → 0.1, "
        f"{s['steps']} full-batch steps",
        "",
        "| engine | ms / step (median) | total for 100 steps | final accuracy | vs micrograd |",
        "|---|---:|---:|---:|---:|",
    ]
    micro = results["engines"]["micrograd 0.1.0"]["ms_per_step"]
    for name, e in results["engines"].items():
        total = f"{e['total_s']:.3f} s" if e["total_measured"] else f"~{e['total_s']:.1f} s ({e['steps_timed']} steps timed)"
        acc = "—" if e["accuracy"] is None else f"{100 * e['accuracy']:.0f}%"
        lines.append(f"| {name} | {e['ms_per_step']:.3f} | {total} | {acc} | {micro / e['ms_per_step']:,.0f}× |")
    r, met = results["ratios"], results["targets_met"]
    mark = lambda ok: "met" if ok else "MISSED"  # noqa: E731
    lines += ["", f"- batched vs micrograd: {r['batched_vs_micrograd']:,.0f}× faster per step "
                  f"(target ≥ 100×: {mark(met['batched_100x_micrograd'])}); "
                  f"accuracy 100%: {mark(met['batched_accuracy_100%'])}"]
    if "batched_vs_torch" in r:
        lines.append(f"- batched vs PyTorch: {r['batched_vs_torch']:.2f}× PyTorch's time per step "
                     f"(target ≤ 5×: {mark(met['batched_within_5x_torch'])})")
    lines.append(f"- eager vs micrograd: {r['eager_vs_micrograd']:.1f}× faster per step")
    lines.append(f"- batched gradient vs eager gradient at the first step: max relative difference "
                 f"{results['gradient_agreement_first_step']:.1e}")
    if "eager_vs_batched_final_params" in results:
        lines.append(f"- eager vs batched parameters after 100 steps: max difference "
                     f"{results['eager_vs_batched_final_params']:.1e}")
    lines.append(f"- batched: recording the graph once took {1e3 * results['engines']['gradflow batched']['record_s']:.1f} ms")
    lines += ["", "| batched path | ms / step | nodes per sample | numpy groups |", "|---|---:|---:|---:|"]
    for name, v in results["batched_variants"].items():
        lines.append(f"| {name} | {v['ms_per_step']:.3f} | {v['nodes']} | {v['groups']} |")
    sp = results["spiral"]
    lines += ["", f"3-class spiral, {sp['n']:,} points, MLP(2, {sp['sizes']}), Adam lr {sp['lr']}, batches of "
                  f"{sp['batch']}: {100 * sp['accuracy']:.1f}% after {sp['epochs']} epochs ({sp['steps']} steps) "
                  f"in {sp['seconds']:.2f} s, recording and evaluation included; "
                  f"through nn.fit (softmax_cross_entropy, auto): {100 * sp['fit']['accuracy']:.1f}% after "
                  f"{sp['fit']['epochs']} epochs in {sp['fit']['seconds']:.2f} s"]
    lines.append(f"(best of {s['repeats']} runs for the fast columns; Python {s['python']}, numpy {s['numpy']})")
    return "\n".join(lines)


if __name__ == "__main__":
    results = main(quick="--quick" in sys.argv[1:])
    _reference.save("bench_train", results)
