"""Run the benchmarks in one go, each in its own process, and print their tables.

  bench_engine.py  engine speed, memory and depth against micrograd 0.1.0
  bench_nn.py      time per training step of micrograd's demo, eager engine against micrograd
  bench_train.py   micrograd's demo by micrograd, gradflow eager, gradflow batched and PyTorch; a spiral
  bench_grade.py   gradflow grade on 10,000 submissions; gradflow check's process time
  bench_scale.py   fit end to end over widths 16/64/256 × n 100..100k beside PyTorch and numpy; the digits

Each gets a fresh interpreter (the same Python as this one), so none of them
inherits another's garbage or imported modules. Exits non-zero when any fails.

Run:  ./run bench [--quick]   or   python benchmarks/run.py [--quick]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = ("bench_engine.py", "bench_nn.py", "bench_train.py", "bench_scale.py", "bench_grade.py")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller workloads and fewer steps, about a minute in all")
    quick = parser.parse_args(argv).quick
    failed = []
    for script in SCRIPTS:
        command = [sys.executable, str(HERE / script)] + (["--quick"] if quick else [])
        print(f"\n=== {script}{' --quick' if quick else ''}", flush=True)
        start = time.perf_counter()
        code = subprocess.run(command).returncode
        print(f"=== {script}: {'ok' if code == 0 else f'FAILED (exit code {code})'} "
              f"in {time.perf_counter() - start:.0f} s", flush=True)
        if code != 0:
            failed.append(script)
    if failed:
        print(f"\n{len(failed)} of {len(SCRIPTS)} benchmarks failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
