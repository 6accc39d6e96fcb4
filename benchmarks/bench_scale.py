"""fit end to end over widths and sample counts, beside PyTorch and hand-written numpy.

The model is micrograd's demo network widened: MLP(2, [w, w, 1]) with ReLU,
hinge loss + 1e-4·Σp², plain SGD (lr 0.1), full-batch steps on n moons points.
For every width w in 16, 64, 256 and n in 100, 1k, 10k, 100k it measures, each
engine in a fresh process (so peak memory is that engine's own):

  gradflow   nn.fit(..., epochs=E), defaults (batched="auto"): recording, checks
             and compiling included — the figure users get, divided by E
  numpy      a hand-written forward and backward of the same MLP, two ways: the
             whole batch at once, and in chunks of 8,192 rows as gradflow runs it
             (gradients summed over the chunks, one update a step): the same
             blocking, the same loop, the same threads — the practical limit
  PyTorch    float64, nn.Linear/ReLU, L2 as SGD(weight_decay=2e-4) (the same
             gradient as + 1e-4·Σp²), the whole batch at once

Threads are compared with threads: gradflow, numpy and PyTorch pinned to one
(OPENBLAS_NUM_THREADS=1, torch.set_num_threads(1)), and gradflow and PyTorch
again each on its own default threads (BLAS's and PyTorch's, both the machine's
cores), ratios taken pinned ÷ pinned and default ÷ default.

Per cell: ms per step (median over the repeats, [min–max]), the ratios of
gradflow's to each reference (repeat by repeat), the GFLOP/s of gradflow's matrix
products (2·n·(w·(w+3) + 2w) per layer pass: forward, the weights' gradients and
the hidden layers' input gradients) beside numpy's single-thread matmul peak on
the machine (measured at the start of the run), gradflow's first fit in a fresh
process (epochs=1: set-up plus one step, and the process's one-time start-up:
the first run of numpy's and the interpreter's code paths), its set-up alone (a
second fit with epochs=1 on a new model, minus a steady step: checks, reading
and writing back the parameters), the set-up's share of a 100-epoch run
(set-up ÷ (set-up + 100 steady steps); in brackets the same with the fresh
process's first fit) and gradflow's peak resident memory (ru_maxrss of its
process, interpreter included). PyTorch's one-time start-up is left out the
same way, by a throw-away step before its timing.
The machine is shared: other jobs running at the same time slow all engines,
which is why ratios are taken within one run, cell by cell.

Run:  python benchmarks/bench_scale.py [--quick] [--widths 16,64] [--ns 100,1000]
      (--quick: fewer epochs and repeats on the big cells)
      python benchmarks/bench_scale.py --fixed-cost 9 [--widths 16]
      (issue 21's fixed cost: fit ÷ the numpy loop at n = 100, the two taking turns in one process)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
WIDTHS = (16, 64, 256)
NS = (100, 1_000, 10_000, 100_000)
ALPHA, LR = 1e-4, 0.1
CHUNK = 8192  # gradflow's chunk (nn.fast.Replay.chunk), for the chunked numpy reference
MEMORY_LIMIT_GB = 6  # a gradflow process past this is stopped and reported, not swapped


def epochs_for(n, width, quick):
    work = n * width * width
    if quick:
        return 50 if work <= 3e7 else 10 if work <= 1e9 else 3
    return 100 if work <= 1e9 else 20


def repeats_for(n, width, quick):
    work = n * width * width
    if quick:
        return 2 if work <= 3e7 else 1
    return 5 if work <= 1e9 else 3


def data(n):
    from nn.data import moons

    X, y = moons(n, noise=0.1, seed=0)
    return X, 2.0 * y - 1.0


# --- one measurement, in a process of its own ------------------------------------------


def run_gradflow(width, n, epochs):
    from nn import MLP, SGD, fit

    X, y = data(n)

    def one(e, clocks=False):
        model = MLP(2, [width, width, 1], seed=0)
        opt = SGD(model.parameters(), lr=LR)
        t0, c0 = time.perf_counter(), time.process_time()
        fit(model, X, y, loss="hinge", optimizer=opt, epochs=e, l2=ALPHA, progress=False)
        return (time.perf_counter() - t0, time.process_time() - c0) if clocks else time.perf_counter() - t0

    fresh = one(1)  # the process's first fit: its one-time start-up included
    (first, cpu_first), (total, cpu_total) = one(1, True), one(epochs, True)
    steady = (total - first) / (epochs - 1) if epochs > 1 else first
    return {"per_step": total / epochs, "fresh": fresh, "first": first, "steady": steady,
            "setup": max(first - steady, 0.0),
            "cpu_steady": (cpu_total - cpu_first) / (epochs - 1) if epochs > 1 else cpu_first}


def run_torch(width, n, epochs, threads):
    import torch

    if threads:
        torch.set_num_threads(threads)
    X, y = data(n)
    # One throw-away step first: torch's one-time start-up in a process is not the fit's.
    # (its first optimizer step alone imports for seconds).
    warm = torch.nn.Linear(2, 1).double()
    warm(torch.zeros(1, 2, dtype=torch.float64)).sum().backward()
    torch.optim.SGD(warm.parameters(), lr=LR, weight_decay=2 * ALPHA).step()
    t0 = time.perf_counter()
    Xt, yt = torch.tensor(X), torch.tensor(y)
    model = torch.nn.Sequential(
        torch.nn.Linear(2, width), torch.nn.ReLU(), torch.nn.Linear(width, width), torch.nn.ReLU(),
        torch.nn.Linear(width, 1),
    ).double()
    opt = torch.optim.SGD(model.parameters(), lr=LR, weight_decay=2 * ALPHA)
    times = []
    for _ in range(epochs):
        opt.zero_grad()
        loss = torch.relu(1 - yt * model(Xt)[:, 0]).mean()
        loss.backward()
        opt.step()
        times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
    return {"per_step": sum(times) / epochs, "first": times[0], "version": torch.__version__,
            "threads": torch.get_num_threads()}


def run_numpy(width, n, epochs, chunk=None):
    """A hand-written step: the whole batch at once, or ``chunk`` rows at a time (gradients summed, one update)."""
    X, y = data(n)
    rng = np.random.default_rng(0)
    sizes = [2, width, width, 1]
    Ws = [rng.uniform(-1, 1, (a, b)) for a, b in zip(sizes[:-1], sizes[1:])]
    bs = [np.zeros(b) for b in sizes[1:]]
    step = chunk or n
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(epochs):
        dWs, dbs = [None] * 3, [None] * 3
        for lo in range(0, n, step):
            Xc, yc = X[lo : lo + step], y[lo : lo + step]
            hs = [Xc]
            for i, (W, b) in enumerate(zip(Ws, bs)):
                z = hs[-1] @ W + b
                hs.append(np.maximum(z, 0.0) if i < 2 else z)
            margin = 1 - yc * hs[-1][:, 0]
            g = np.where(margin > 0, -yc, 0.0)[:, None] / n
            for i in (2, 1, 0):
                dW, db = hs[i].T @ g, g.sum(axis=0)
                if i:
                    g = (g @ Ws[i].T) * (hs[i] > 0)
                if dWs[i] is None:
                    dWs[i], dbs[i] = dW, db
                else:
                    dWs[i] += dW
                    dbs[i] += db
        for i in (2, 1, 0):
            Ws[i] -= LR * (dWs[i] + 2 * ALPHA * Ws[i])
            bs[i] -= LR * (dbs[i] + 2 * ALPHA * bs[i])
    return {"per_step": (time.perf_counter() - t0) / epochs,
            "cpu_per_step": (time.process_time() - c0) / epochs}


def flops(width, n):
    """Multiply-adds ×2 of one step's matrix products: forward, the weights' gradients, the hidden inputs' gradients."""
    layer = 2 * width + width * width + width  # (2→w) + (w→w) + (w→1) weights
    return 2 * n * (2 * layer + width * width + width)


def run_peak():
    """numpy's single-thread matmul peak on this machine: GFLOP/s of square products, the best of 5 at each size."""
    best = 0.0
    for size in (256, 512, 1024, 2048):
        A, B = np.random.default_rng(0).random((2, size, size))
        A @ B
        for _ in range(5):
            t0 = time.perf_counter()
            A @ B
            best = max(best, 2 * size**3 / (time.perf_counter() - t0) / 1e9)
    return {"gflops": best}


DIGITS_EPOCHS, DIGITS_LR = 150, 0.02  # as `gradflow train digits`: full batch, Adam


def run_digits(engine, epochs):
    """MLP(64, [32, 10]), softmax cross-entropy, Adam, full batch on 80% of the digits: s per epoch, test accuracy."""
    from nn import MLP, Adam, digits, fit, predict, train_val_split

    X, y = digits()
    Xtr, ytr, Xte, yte = train_val_split(X, y, val_fraction=0.2, seed=0)
    if engine == "gradflow":
        model = MLP(64, [32, 10], seed=0)
        t0 = time.perf_counter()
        fit(model, Xtr, ytr, loss="softmax_cross_entropy", optimizer=Adam(model.parameters(), lr=DIGITS_LR),
            epochs=epochs, progress=False)
        took = time.perf_counter() - t0
        accuracy = float(np.mean(predict(model, Xte).argmax(axis=1) == yte))
        return {"per_epoch": took / epochs, "accuracy": accuracy}
    import torch

    torch.set_num_threads(1)
    model = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10)).double()
    opt = torch.optim.Adam(model.parameters(), lr=DIGITS_LR)
    Xt, yt = torch.tensor(Xtr), torch.tensor(ytr)
    model(Xt).sum().backward()  # torch's one-time start-up, outside the timing
    opt.zero_grad()
    t0 = time.perf_counter()
    for _ in range(epochs):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(Xt), yt).backward()
        opt.step()
    took = time.perf_counter() - t0
    with torch.no_grad():
        accuracy = float((model(torch.tensor(Xte)).argmax(1).numpy() == yte).mean())
    return {"per_epoch": took / epochs, "accuracy": accuracy}


def _cell(argv):
    engine, width, n, epochs = argv[0], int(argv[1]), int(argv[2]), int(argv[3])
    if engine.startswith("digits-"):
        out = run_digits(engine[len("digits-"):], epochs)
    elif engine == "peak":
        out = run_peak()
    elif engine.startswith("gradflow"):
        limit = MEMORY_LIMIT_GB * 2**30
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        try:
            out = run_gradflow(width, n, epochs)
        except MemoryError:
            out = {"error": f"more than {MEMORY_LIMIT_GB} GB"}
    elif engine.startswith("torch"):
        out = run_torch(width, n, epochs, 1 if engine == "torch1" else 0)
    else:
        out = run_numpy(width, n, epochs, CHUNK if engine == "numpy-chunked" else None)
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


# --- the driver ----------------------------------------------------------------------------


# Every engine's process gets glibc's mmap and trim thresholds raised (256 MB). With the defaults, an
# array over 128 kB is mapped afresh on each allocation and the heap is trimmed back after it: the
# numpy loop, which makes its 512 kB arrays anew each step, then pays about 390 page faults a step at
# width 256 (1.8-2.0 ms a step at n = 100 against 1.07), which gradflow's views avoid by reusing
# their buffers. The reference gets that trick too (issue 21: the same tricks for the practical limit).
MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": str(256 * 2**20), "MALLOC_TRIM_THRESHOLD_": str(256 * 2**20)}


def _measure(engine, width, n, epochs):
    command = [sys.executable, str(Path(__file__).resolve()), "--cell", engine, str(width), str(n), str(epochs)]
    # numpy's BLAS on one thread, as PyTorch pinned: on a shared 2-core machine
    # a second spinning BLAS thread makes timings swing tenfold.
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    if engine in ("torch", "gradflow-default"):  # each on its own default threads
        env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                                                                "MKL_NUM_THREADS")}
    env.update(MALLOC_ENV)
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": tail[:120]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def _has_torch():
    return subprocess.run([sys.executable, "-c", "import torch"], capture_output=True).returncode == 0


def _spread(xs):
    return statistics.median(xs), min(xs), max(xs)


HEAD = ("| width | n | E×R | gradflow fit | numpy chunked | ÷ numpy chunked | numpy whole batch | ÷ numpy whole "
        "| torch 1 thread | ÷ torch 1 thread | GFLOP/s (% of peak) | first fit, fresh process | set-up "
        "| set-up share [fresh] | peak MB |")
HEAD_DEFAULT = "| width | n | gradflow, default threads | torch, default threads | ÷ torch default |"


def main(quick=False, widths=WIDTHS, ns=NS, out=sys.stdout):
    from nn.fast import Replay

    assert Replay.chunk == CHUNK, "the chunked numpy reference must use gradflow's chunk"
    torch = _has_torch()
    engines = ["gradflow", "numpy", "numpy-chunked"] + (["torch1"] if torch else []) + ["gradflow-default"] + (
        ["torch"] if torch else [])
    results = {"machine": f"{platform.python_version()}, {platform.machine()}, shared 2-core VM", "cells": []}
    peak = _measure("peak", 0, 0, 0)
    results["peak_gflops"] = peak.get("gflops")
    print(f"fit end to end, ms per step: median [min–max]; epochs E and repeats R per cell; {results['machine']}; "
          f"numpy's single-thread matmul peak {peak.get('gflops', float('nan')):.1f} GFLOP/s", file=out, flush=True)
    print("\none thread each (gradflow, numpy and PyTorch pinned to one thread)\n", file=out)
    print(HEAD, file=out)
    print("|---" * HEAD.count(" | ") + "|---|", file=out, flush=True)
    for width in widths:
        for n in ns:
            epochs, repeats = epochs_for(n, width, quick), repeats_for(n, width, quick)
            here = [e for e in engines if e != "numpy-chunked" or n > CHUNK]  # one chunk: the same loop as whole
            runs = {e: [] for e in here}
            for _ in range(repeats):  # interleaved, so a busy moment hits every engine
                for e in here:
                    runs[e].append(_measure(e, width, n, epochs))
            if "numpy-chunked" not in runs:
                runs["numpy-chunked"] = runs["numpy"]
            cell = {"width": width, "n": n, "epochs": epochs, "repeats": repeats, "runs": runs}
            results["cells"].append(cell)
            print(_row(cell, results["peak_gflops"]), file=out, flush=True)
    print("\neach on its default threads (OpenBLAS's and PyTorch's own choice: the machine's 2 cores)\n", file=out)
    print(HEAD_DEFAULT, file=out)
    print("|---" * 5 + "|", file=out)
    for cell in results["cells"]:
        print(_row_default(cell), file=out)
    results["digits"] = _digits(engines, quick, out)
    path = HERE / "results" / "bench_scale.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n")
    return results


def _digits(engines, quick, out):
    # `gradflow train digits` beside the same in PyTorch (1 thread): time per epoch and test accuracy.
    runs = {e: [] for e in ("gradflow", "torch1") if e in engines}
    for _ in range(1 if quick else 3):
        for e in runs:
            runs[e].append(_measure("digits-" + ("gradflow" if e == "gradflow" else "torch"), 0, 0, DIGITS_EPOCHS))
    print(f"\ndigits: MLP(64, [32, 10]), softmax cross-entropy, Adam lr {DIGITS_LR}, {DIGITS_EPOCHS} full-batch "
          "epochs on 1,438 images, tested on 359 (set-up included for gradflow)", file=out)
    for e, rs in runs.items():
        ok = [r for r in rs if "error" not in r]
        if not ok:
            print(f"- {e}: failed ({rs[0]['error']})", file=out)
            continue
        m, lo, hi = _spread([r["per_epoch"] * 1e3 for r in ok])
        print(f"- {'gradflow fit' if e == 'gradflow' else 'PyTorch, 1 thread'}: {m:.3g} ms per epoch "
              f"[{lo:.3g}–{hi:.3g}], test accuracy {ok[0]['accuracy']:.1%}", file=out, flush=True)
    return runs


def _ms(rs):
    m, lo, hi = _spread([r["per_step"] * 1e3 for r in rs])
    return f"{m:.3g} [{lo:.3g}–{hi:.3g}]"


def _ok(cell, engine):
    return [r for r in cell["runs"].get(engine, []) if "error" not in r]


def _ratio(cell, mine, ref):
    a, b = _ok(cell, mine), _ok(cell, ref)
    if not a or not b:
        return "—"
    m, lo, hi = _spread([x["per_step"] / y["per_step"] for x, y in zip(a, b)])
    return f"{m:.2f} [{lo:.2f}–{hi:.2f}]"


def _row(cell, peak):
    lead = f"| {cell['width']} | {cell['n']:,} | {cell['epochs']}×{cell['repeats']} "
    g = _ok(cell, "gradflow")
    if not g:
        err = next(r["error"] for r in cell["runs"]["gradflow"])
        return lead + f"| cannot run: {err} |" + " |" * (HEAD.count(" | ") - 3)
    fresh = statistics.median(r["fresh"] for r in g)
    setup = statistics.median(r["setup"] for r in g)
    steady = statistics.median(r["steady"] for r in g)
    fresh_setup = max(fresh - steady, 0.0)
    share, fresh_share = (s / (s + 100 * steady) for s in (setup, fresh_setup))
    peak_mb = max(r["peak_mb"] for r in g)
    gflops = flops(cell["width"], cell["n"]) / statistics.median(r["per_step"] for r in g) / 1e9
    of_peak = f" ({gflops / peak:.0%})" if peak else ""

    def ms(engine):
        return _ms(_ok(cell, engine)) if _ok(cell, engine) else "—"

    return (lead + f"| {ms('gradflow')} | {ms('numpy-chunked')} | {_ratio(cell, 'gradflow', 'numpy-chunked')} "
            f"| {ms('numpy')} | {_ratio(cell, 'gradflow', 'numpy')} | {ms('torch1')} "
            f"| {_ratio(cell, 'gradflow', 'torch1')} | {gflops:.2g}{of_peak} | {fresh:.3g} s | {setup:.3g} s "
            f"| {share:.1%} [{fresh_share:.1%}] | {peak_mb:.0f} |")


def _row_default(cell):
    def ms(engine):
        return _ms(_ok(cell, engine)) if _ok(cell, engine) else "—"

    threads = {r.get("threads") for r in _ok(cell, "torch")}
    torch = ms("torch") + (f" ({threads.pop()} threads)" if len(threads) == 1 else "")
    return (f"| {cell['width']} | {cell['n']:,} | {ms('gradflow-default')} | {torch} "
            f"| {_ratio(cell, 'gradflow-default', 'torch')} |")


def fixed_cost(widths=WIDTHS, pairs=9, n=100, epochs=100, out=sys.stdout):
    """Issue 21's fixed cost per step: fit against the hand-written numpy loop at small n, in this process.

    ``run_gradflow``'s steady step and ``run_numpy``'s step (the whole batch) take turns, ``pairs``
    times per width, after one warm-up of each; the ratio is taken pair by pair. At n = 100 a step
    is 50–150 µs, so one busy moment would swing a fresh process's timing; turns in one warm process
    keep the load the same for both. Wall-clock and CPU (process) time are both given: on a shared
    machine CPU time leaves out the time the process waits for a core.
    """
    assert os.environ.get("OPENBLAS_NUM_THREADS") == "1", "numpy's BLAS on one thread (OPENBLAS_NUM_THREADS=1)"
    print(f"fit ÷ numpy loop at n = {n}, {epochs} epochs, {pairs} pairs taking turns; µs per step: "
          "median [min–max]", file=out)
    print("\n| width | clock | gradflow fit | numpy loop | fit ÷ numpy |\n|---|---|---|---|---|", file=out, flush=True)
    for width in widths:
        def turn():
            g, m = run_gradflow(width, n, epochs), run_numpy(width, n, epochs)
            return (g["steady"], m["per_step"]), (g["cpu_steady"], m["cpu_per_step"])

        turn()  # warm-up
        got = [turn() for _ in range(pairs)]
        for k, clock in enumerate(("wall", "CPU")):
            f, m = [g[k][0] * 1e6 for g in got], [g[k][1] * 1e6 for g in got]
            (fm, flo, fhi), (mm, mlo, mhi) = _spread(f), _spread(m)
            rm, rlo, rhi = _spread([a / b for a, b in zip(f, m)])
            print(f"| {width} | {clock} | {fm:.1f} [{flo:.1f}–{fhi:.1f}] | {mm:.1f} [{mlo:.1f}–{mhi:.1f}] "
                  f"| {rm:.2f} [{rlo:.2f}–{rhi:.2f}] |", file=out, flush=True)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--cell":
        _cell(sys.argv[2:])
        sys.exit(0)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--widths", default=",".join(map(str, WIDTHS)))
    parser.add_argument("--ns", default=",".join(map(str, NS)))
    parser.add_argument("--fixed-cost", type=int, metavar="PAIRS",
                        help="only fit ÷ the numpy loop at n = 100, PAIRS turns each in this process (issue 21)")
    args = parser.parse_args()
    widths = [int(w) for w in args.widths.split(",")]
    if args.fixed_cost:
        if os.environ.get("OPENBLAS_NUM_THREADS") != "1" or any(os.environ.get(k) != v for k, v in MALLOC_ENV.items()):
            # before numpy starts its threads and malloc reads its settings: run again, pinned, as the cells run
            os.execve(sys.executable, [sys.executable, *sys.argv], dict(os.environ, OPENBLAS_NUM_THREADS="1", **MALLOC_ENV))
        fixed_cost(widths, args.fixed_cost)
    else:
        main(args.quick, widths, [int(n) for n in args.ns.split(",")])
