"""micrograd 0.1.0, the engine gradflow is measured against, installed for the
benchmarks alone (in benchmarks/.venv-micrograd, which git ignores) so that it
never enters gradflow's own environment.

>>> Value = micrograd_value()  # doctest: +SKIP
>>> (Value(2.0) * 3).data  # doctest: +SKIP
6.0
"""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
from pathlib import Path

VERSION = "0.1.0"
HERE = Path(__file__).resolve().parent
TARGET = HERE / ".venv-micrograd"


def _installed_version():
    for dist in importlib.metadata.distributions(path=[str(TARGET)]):
        if dist.metadata["Name"] == "micrograd":
            return dist.version
    return None


def micrograd_value():
    """micrograd.engine.Value from micrograd==0.1.0, installing it on first use."""
    if _installed_version() != VERSION:
        command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--upgrade",
                   "--target", str(TARGET), f"micrograd=={VERSION}"]
        print(f"[bench] installing micrograd=={VERSION} into {TARGET}", file=sys.stderr)
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0 or _installed_version() != VERSION:
            raise RuntimeError(
                f"could not install micrograd=={VERSION} for the benchmark (pip said: {done.stderr.strip()[-400:]}); "
                f"install it by hand with: {' '.join(command)}"
            )
    if str(TARGET) not in sys.path:
        sys.path.insert(0, str(TARGET))
    from micrograd.engine import Value

    if not Path(sys.modules["micrograd"].__file__).resolve().is_relative_to(TARGET):
        raise RuntimeError(f"another micrograd shadows the pinned one: {sys.modules['micrograd'].__file__}")
    return Value


def save(name, results):
    """Write a benchmark's figures to benchmarks/results/NAME.json (git ignores that folder)."""
    path = HERE / "results" / f"{name}.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(f"(figures saved to benchmarks/results/{path.name})")
