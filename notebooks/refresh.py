"""Run every numbered notebook top to bottom and store it WITH its outputs.

Stored outputs let GitHub and nbviewer show the pictures before anyone runs a
cell. Each notebook is rebuilt from its jupytext twin (``NN_name.py``, the file
reviewed in diffs), executed in this folder, and written as ``NN_name.ipynb``
with the same cells. The run is deterministic (no timing metadata, printed
text joined per stream, one kernel per notebook, the same seeds) except where a
notebook prints a time it measured. A notebook whose stored size passes 2 MB is an
error, so a drawing that grows too big is caught here rather than on GitHub.

Run it with ``./run refresh-notebooks`` (no arguments), or
``python notebooks/refresh.py [NN_name ...]`` for some of them.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
MAX_BYTES = 2_000_000  # per stored notebook; tests/test_notebooks_meta.py checks the same bound
TIMEOUT = 600  # seconds per cell


def notebooks(names=()) -> list[Path]:
    twins = sorted(HERE.glob("[0-9][0-9]_*.py"))
    if names:
        wanted = {Path(n).stem for n in names}
        unknown = wanted - {p.stem for p in twins}
        if unknown:
            raise SystemExit(f"refresh: no notebook twin named {', '.join(sorted(unknown))} in {HERE}")
        twins = [p for p in twins if p.stem in wanted]
    return twins


def _joined(outputs: list) -> list:
    # Printed text arrives in chunks that depend on timing; one output per stream keeps reruns equal.
    joined = []
    for out in outputs:
        last = joined[-1] if joined else None
        if out.output_type == "stream" and last is not None and last.output_type == "stream" and last.name == out.name:
            last.text += out.text
        else:
            joined.append(out)
    return joined


def refresh(twin: Path) -> int:
    """Execute the notebook of one twin and write it with outputs; returns its size in bytes."""
    nb = jupytext.read(twin)
    target = twin.with_suffix(".ipynb")
    if target.exists():  # keep the stored cell ids, so a refresh changes only what changed
        old = nbformat.read(target, as_version=4)
        if [c.source for c in old.cells] == [c.source for c in nb.cells]:
            for new, kept in zip(nb.cells, old.cells):
                if "id" in kept:
                    new["id"] = kept["id"]
    # Stored as JupyterLab writes them: the kernelspec's own display name and, after the run, the
    # kernel's language_info. JupyterLab sets both when it opens a notebook, and a change there would
    # mark every notebook modified on open.
    from jupyter_client.kernelspec import get_kernel_spec

    spec = get_kernel_spec("python3")
    nb.metadata["kernelspec"] = {"display_name": spec.display_name, "language": spec.language, "name": "python3"}
    nb.metadata.pop("widgets", None)
    NotebookClient(nb, timeout=TIMEOUT, kernel_name="python3", record_timing=False,
                   resources={"metadata": {"path": str(HERE)}}).execute()
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = _joined(cell.outputs)
    nb.metadata.pop("widgets", None)  # widget state would change on every run
    nbformat.validate(nb)
    text = nbformat.writes(nb) + "\n"
    size = len(text.encode("utf-8"))
    if size > MAX_BYTES:
        raise SystemExit(f"refresh: {target.name} would be {size:,} bytes with outputs, over {MAX_BYTES:,}; "
                         "draw less in it (collapse=..., fewer frames) and run again")
    target.write_text(text, encoding="utf-8")
    return size


def main(argv=None) -> int:
    os.environ.setdefault("PYTHONHASHSEED", "0")  # the kernels inherit it: set iteration order is the same each run
    for twin in notebooks(sys.argv[1:] if argv is None else argv):
        size = refresh(twin)
        print(f"{twin.with_suffix('.ipynb').name}: {size / 1000:,.0f} kB with outputs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
