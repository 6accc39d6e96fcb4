"""Speed and memory of gradflow's engine against micrograd 0.1.0, in one run.

Measured for both engines, with Python's garbage collector on (as users run it):
  chain   forward+backward time per node on a chain of about 990 ops
          (x*w, +b, relu in turn), micrograd's deepest at the default recursion limit;
  per op  the same on a 990-op chain of one op alone: +, ×, relu, and ** (x**2
          and x**0.5 in turn), so that no op hides behind the others;
  random  forward+backward time per node on a random graph of 100,000 ops over
          100 leaves mixing +, ×, relu and ** (micrograd has no tanh or exp);
  memory  bytes per node held by the random graph after backward (tracemalloc),
          and the peak while building it and running backward;
  depth   the deepest chain (x = x + c) each engine can backpropagate, probing
          1e3, 1e4, 1e5, 1e6 nodes; micrograd's exact limit is found by bisection.
Times are medians over repeated samples, shown with their range (fastest to
slowest sample); the engines take turns sample by sample. The same graphs are
built in both engines, and their gradients are checked to agree before
anything is timed.

Run:  python benchmarks/bench_engine.py [--quick]
Use:  from bench_engine import main; results = main()   (with benchmarks/ on sys.path)
"""

from __future__ import annotations

import gc
import math
import random
import statistics
import sys
import time
import tracemalloc

import _reference
import engine



CHAIN_DEPTH = 990
RANDOM_NODES = 100_000
RANDOM_LEAVES = 100
PROBE_DEPTHS = (1_000, 10_000, 100_000, 1_000_000)
TARGET_SPEEDUP = 5.0  # issue 12: at least 5× micrograd per node, every workload
TARGET_BYTES = 140  # issue 12: at most 140 bytes per node held after backward


# --- workloads: the same graph, whichever Value class builds it -------------------------


def chain(Value, depth):
    """x*w, +b, relu in turn, `depth` ops; returns (root, leaves)."""
    x, w, b = Value(0.5), Value(0.999), Value(0.001)
    leaves = (x, w, b)
    for i in range(depth):
        step = i % 3
        if step == 0:
            x = x * w
        elif step == 1:
            x = x + b
        else:
            x = x.relu()
    return x, leaves


def one_op(op):
    """A builder like chain's for a chain of one op alone."""

    def build(Value, depth):
        x0, c = Value(1.1), Value(1.0000001)
        x = x0
        for i in range(depth):
            if op == "+":
                x = x + c
            elif op == "*":
                x = x * c
            elif op == "relu":
                x = x.relu()
            else:
                x = x**2 if i % 2 == 0 else x**0.5  # stays near 1.1
        return x, (x0, c)

    return build


PER_OP = {op: one_op(op) for op in ("+", "*", "relu", "**")}

ADD, MUL, RELU, POW = range(4)


def random_program(n_ops=RANDOM_NODES, n_leaves=RANDOM_LEAVES, seed=0):
    """A fixed random graph as (leaf values, [(code, i, j)]), n_ops ops in all.

    Each op reads earlier nodes chosen uniformly (so the graph stays a few
    dozen ops deep, within micrograd's recursion limit); nodes nobody reads
    are summed pairwise into the root so that every op is part of the graph.
    Values are simulated in floats while choosing, so no ** overflows.
    """
    rng = random.Random(seed)
    data = [rng.uniform(-1.0, 1.0) for _ in range(n_leaves)]
    readers = [0] * n_leaves
    unread = 0  # non-leaf nodes nobody reads yet
    program = []
    while len(program) + max(unread, 1) - 1 < n_ops:
        code = rng.choice((ADD, MUL, RELU, POW))
        i = rng.randrange(len(data))
        j = rng.randrange(len(data)) if code in (ADD, MUL) else (rng.choice((2, 3)) if code == POW else 0)
        x = data[i]
        if code == POW and abs(x) > 10:
            code, j = RELU, 0
        y = data[j] if code in (ADD, MUL) else 0.0
        out = x + y if code == ADD else x * y if code == MUL else max(x, 0.0) if code == RELU else x**j
        for k in (i, j) if code in (ADD, MUL) else (i,):
            if readers[k] == 0 and k >= n_leaves:
                unread -= 1
            readers[k] += 1
        program.append((code, i, j))
        data.append(out)
        readers.append(0)
        unread += 1
    sinks = [k for k in range(n_leaves, len(data)) if readers[k] == 0]
    while len(sinks) > 1:  # a balanced sum: depth log2(#sinks), not #sinks
        paired = []
        for a, b in zip(sinks[::2], sinks[1::2]):
            program.append((ADD, a, b))
            paired.append(len(data))
            data.append(data[a] + data[b])
        sinks = paired + sinks[len(sinks) // 2 * 2:]
    return data[:n_leaves], program


def run_program(Value, program):
    leaf_data, ops = program
    nodes = [Value(x) for x in leaf_data]
    push = nodes.append
    for code, i, j in ops:
        if code == ADD:
            push(nodes[i] + nodes[j])
        elif code == MUL:
            push(nodes[i] * nodes[j])
        elif code == RELU:
            push(nodes[i].relu())
        else:
            push(nodes[i] ** j)
    return nodes[-1], nodes[: len(leaf_data)]


def deep_chain(Value, depth):
    x, c = Value(1.0), Value(1.0)
    root = x
    for _ in range(depth):
        root = root + c
    return root, (x, c)


# --- measuring --------------------------------------------------------------------------------


def forward_backward(build):
    root, leaves = build()
    root.backward()
    return root, leaves


def time_per_node(builds, n_nodes, runs_per_sample, samples):
    """Median µs per node for each engine, as process CPU time and as wall time.

    ``builds`` maps an engine's name to a function building its graph. A
    sample is runs_per_sample build+backward runs back to back with the
    collector on, then a full collection, all timed: so each sample pays for
    reclaiming every graph it built (micrograd's graphs are reference cycles
    that only the collector frees). Engines take turns sample by sample so
    that a noisy spell on the machine hits both. CPU time is the headline
    figure: on a shared machine it leaves out the time other processes hold
    the core, which wall time counts.
    """
    times = {name: {"cpu_samples": [], "wall_samples": []} for name in builds}
    scale = 1e6 / (runs_per_sample * n_nodes)
    for _ in range(samples):
        for name, build in builds.items():
            gc.collect()
            wall_start, cpu_start = time.perf_counter(), time.process_time()
            for _ in range(runs_per_sample):
                forward_backward(build)
            gc.collect()
            times[name]["cpu_samples"].append((time.process_time() - cpu_start) * scale)
            times[name]["wall_samples"].append((time.perf_counter() - wall_start) * scale)
    for t in times.values():
        t["cpu"], t["wall"] = statistics.median(t["cpu_samples"]), statistics.median(t["wall_samples"])
    return times


def bytes_per_node(build, n_nodes):
    """(held, peak) bytes per node: the graph kept after backward, and the peak."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    graph = forward_backward(build)
    held, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del graph
    gc.collect()
    return (held - before) / n_nodes, (peak - before) / n_nodes


def backpropagates(Value, depth):
    try:
        forward_backward(lambda: deep_chain(Value, depth))
        return True
    except RecursionError:
        return False


def deepest(Value, probes):
    """The largest probe depth that works, and the first that fails (or None)."""
    ok = 0
    for depth in probes:
        if not backpropagates(Value, depth):
            return ok, depth
        ok = depth
    return ok, None


def exact_limit(Value, lo, hi):
    """Largest depth in [lo, hi) that backpropagates, by bisection (lo must work)."""
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if backpropagates(Value, mid) else (lo, mid)
    return lo


def same_gradients(a, b, what):
    (root_a, leaves_a), (root_b, leaves_b) = a, b
    assert math.isclose(root_a.data, root_b.data, rel_tol=1e-9, abs_tol=1e-12), what
    for x, y in zip(leaves_a, leaves_b, strict=True):
        assert math.isclose(x.grad, y.grad, rel_tol=1e-9, abs_tol=1e-9), f"{what}: {x.grad} vs {y.grad}"


def spread(samples):
    """(median, fastest, slowest) of a list of times."""
    return statistics.median(samples), min(samples), max(samples)


def main(quick=False, out=sys.stdout):
    """Run every measurement for both engines; print a table and return the figures."""
    if not gc.isenabled():
        raise RuntimeError("the benchmark measures with the garbage collector on; gc is disabled")
    engines = {"gradflow": engine.Value, "micrograd": _reference.micrograd_value()}
    samples = 5 if quick else 11
    random_nodes = RANDOM_NODES // 10 if quick else RANDOM_NODES
    program = random_program(random_nodes)
    n_random = len(program[1])

    limits = {name: deepest(Value, PROBE_DEPTHS[:2] if quick and name == "gradflow" else PROBE_DEPTHS)
              for name, Value in engines.items()}
    micro_limit = exact_limit(engines["micrograd"], 1, limits["micrograd"][1] or CHAIN_DEPTH + 1)
    depth = min(CHAIN_DEPTH, micro_limit)

    chains = {"chain": chain, **{f"{op} chain": build for op, build in PER_OP.items()}}
    for what, build in chains.items():
        same_gradients(*(forward_backward(lambda: build(V, depth)) for V in engines.values()), what)
    same_gradients(*(forward_backward(lambda: run_program(V, program)) for V in engines.values()), "random")

    results = {"settings": {"chain_depth": depth, "random_nodes": n_random, "random_leaves": RANDOM_LEAVES,
                            "samples": samples, "gc": gc.isenabled(), "python": sys.version.split()[0]},
               "engines": {name: {} for name in engines}, "ratios": {}, "targets_met": {}}
    timings = {what: time_per_node({name: (lambda V=V, b=build: b(V, depth)) for name, V in engines.items()},
                                   depth, 50, samples)
               for what, build in chains.items()}
    timings["random"] = time_per_node({name: (lambda V=V: run_program(V, program)) for name, V in engines.items()},
                                      n_random, 3 if quick else 1, samples)
    for name, Value in engines.items():
        held, peak = bytes_per_node(lambda: run_program(Value, program), n_random)
        ok, fails = limits[name]
        e = results["engines"][name]
        for what, t in timings.items():
            e[what] = {"cpu_us_per_node": spread(t[name]["cpu_samples"]),
                       "wall_us_per_node": spread(t[name]["wall_samples"])}
        e.update(bytes_per_node=held, peak_bytes_per_node=peak, deepest_ok=ok, first_failing_depth=fails)
    results["engines"]["micrograd"]["exact_depth_limit"] = micro_limit
    g, m = results["engines"]["gradflow"], results["engines"]["micrograd"]
    for what in timings:
        # The ratio of medians, and its range: slowest micrograd sample over
        # fastest gradflow one, and the other way round.
        (gm, gl, gh), (mm, ml, mh) = g[what]["cpu_us_per_node"], m[what]["cpu_us_per_node"]
        results["ratios"][what] = (mm / gm, ml / gh, mh / gl)
        results["targets_met"][what] = mm / gm >= TARGET_SPEEDUP
    results["ratios"]["memory_fraction"] = g["bytes_per_node"] / m["bytes_per_node"]
    results["targets_met"]["bytes_per_node"] = g["bytes_per_node"] <= TARGET_BYTES
    if out is not None:
        print(table(results), file=out)
    return results


def _depth_text(e):
    if e["first_failing_depth"] is None:
        return f"≥ {e['deepest_ok']:,} (all probes)"
    limit = e.get("exact_depth_limit")
    return f"{limit:,} (fails at {limit + 1:,})" if limit else f"{e['deepest_ok']:,} (fails at {e['first_failing_depth']:,})"


def _range(t, digits=3):
    median, low, high = t
    return f"{median:.{digits}f} ({low:.{digits}f}–{high:.{digits}f})"


def table(results):
    s, g, m, r = results["settings"], results["engines"]["gradflow"], results["engines"]["micrograd"], results["ratios"]
    met = results["targets_met"]
    mark = lambda ok: "met" if ok else "MISSED"  # noqa: E731
    rows = [("measure (CPU µs/node: median (range))", "gradflow", "micrograd 0.1.0", "× faster (range)", "target")]
    names = {"chain": f"chain ({s['chain_depth']} ops: ×, +, relu)", "random": f"random ({s['random_nodes']:,} ops)"}
    for what in r:
        if what == "memory_fraction":
            continue
        rows.append((names.get(what, f"{what} ({s['chain_depth']} ops)"), _range(g[what]["cpu_us_per_node"]),
                     _range(m[what]["cpu_us_per_node"]), _range(r[what], 2),
                     f"≥ {TARGET_SPEEDUP:.0f}× ({mark(met[what])})"))
    rows += [
        ("chain, wall µs/node", _range(g["chain"]["wall_us_per_node"]), _range(m["chain"]["wall_us_per_node"]), "", ""),
        ("random, wall µs/node", _range(g["random"]["wall_us_per_node"]), _range(m["random"]["wall_us_per_node"]),
         "", ""),
        ("graph held after backward, bytes/node", f"{g['bytes_per_node']:.0f}", f"{m['bytes_per_node']:.0f}",
         f"{r['memory_fraction']:.2f} of", f"≤ {TARGET_BYTES} ({mark(met['bytes_per_node'])})"),
        ("peak while building + backward, bytes/node", f"{g['peak_bytes_per_node']:.0f}",
         f"{m['peak_bytes_per_node']:.0f}", "", ""),
        ("deepest chain that backpropagates", _depth_text(g), _depth_text(m), "", "any depth"),
    ]
    widths = [max(len(row[k]) for row in rows) for k in range(5)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append(f"(median and range of {s['samples']} samples, engines taking turns; garbage collector on; "
                 f"Python {s['python']})")
    return "\n".join(lines)


if __name__ == "__main__":
    results = main(quick="--quick" in sys.argv[1:])
    _reference.save("bench_engine", results)
