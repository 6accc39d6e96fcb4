"""The notebooks' bookkeeping: listed in their README, paired with an in-sync
jupytext twin, opening with what they teach, stored with their outputs (so
GitHub and nbviewer show the pictures; ``./run refresh-notebooks`` makes
them), and runnable without ipywidgets. (nbmake executes the notebooks themselves.)
"""

from __future__ import annotations

import re
from pathlib import Path

import jupytext
import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
IPYNBS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
NAMES = [p.stem for p in IPYNBS]


def test_there_are_notebooks():
    assert IPYNBS, f"no numbered notebooks found in {NOTEBOOKS}"


def test_numbered_01_to_12_without_gaps():
    numbers = [int(name[:2]) for name in NAMES]
    assert numbers == list(range(1, 13)), f"the twelve notebooks are numbered 01 to 12, one each; got {NAMES}"


def test_readme_lists_every_notebook_once_and_nothing_else():
    readme = (NOTEBOOKS / "README.md").read_text(encoding="utf-8")
    linked = re.findall(r"\]\(([^)]+\.ipynb)\)", readme)
    assert sorted(linked) == sorted(p.name for p in IPYNBS), "notebooks/README.md must link each notebook exactly once"


def test_main_readme_links_the_notebook_list():
    readme = (NOTEBOOKS.parent / "README.md").read_text(encoding="utf-8")
    assert "](notebooks/README.md)" in readme, "the main README should link notebooks/README.md"


@pytest.mark.parametrize("name", NAMES)
def test_twin_is_in_sync(name):
    notebook = jupytext.read(NOTEBOOKS / f"{name}.ipynb")
    twin_path = NOTEBOOKS / f"{name}.py"
    assert twin_path.exists(), f"{name}.ipynb has no jupytext twin {name}.py"
    twin = jupytext.read(twin_path)
    mismatch = [
        i
        for i, (a, b) in enumerate(zip(notebook.cells, twin.cells))
        if (a.cell_type, a.source) != (b.cell_type, b.source)
    ]
    assert len(notebook.cells) == len(twin.cells) and not mismatch, (
        f"{name}.ipynb and {name}.py differ (cells {mismatch[:5]}); "
        f"regenerate with: jupytext --to notebook notebooks/{name}.py"
    )


@pytest.mark.parametrize("name", NAMES)
def test_opens_with_its_title_and_what_it_teaches(name):
    first = jupytext.read(NOTEBOOKS / f"{name}.ipynb").cells[0]
    assert first.cell_type == "markdown"
    assert first.source.startswith(f"# {int(name[:2])}. "), f"{name} should open with '# {int(name[:2])}. <title>'"
    assert "what this notebook teaches" in first.source.lower()


MAX_BYTES = 2_000_000  # per stored notebook, as notebooks/refresh.py enforces
PICTURES = ("image/svg+xml", "image/png", "text/html")


@pytest.mark.parametrize("name", NAMES)
def test_stored_with_outputs_of_every_cell(name):
    path = NOTEBOOKS / f"{name}.ipynb"
    notebook = nbformat.read(path, as_version=4)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    not_run = [i for i, c in enumerate(notebook.cells) if c.cell_type == "code" and c.get("execution_count") is None]
    assert code and not not_run, (
        f"{name}.ipynb has code cells stored without being run (cells {not_run[:5]}); "
        "store it with outputs: ./run refresh-notebooks"
    )
    counts = [c.execution_count for c in code]
    assert counts == list(range(1, len(code) + 1)), f"{name}.ipynb was not run top to bottom in one go: {counts[:10]}"
    outputs = [o for c in code for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"], f"{name}.ipynb stores an error output"
    assert any(k in o.get("data", {}) for o in outputs for k in PICTURES), f"{name}.ipynb stores no picture"
    assert path.stat().st_size < MAX_BYTES, f"{name}.ipynb is {path.stat().st_size:,} bytes; keep it under {MAX_BYTES:,}"


# A notebook that offers a slider must still run, and still show its frames, without ipywidgets.
SLIDERS = [name for name in NAMES if "steps(" in (NOTEBOOKS / f"{name}.py").read_text(encoding="utf-8")]

_BLOCK_WIDGETS = 'import sys\nsys.modules["ipywidgets"] = None  # `import ipywidgets` now raises ImportError'


@pytest.mark.parametrize("name", SLIDERS)
def test_runs_without_ipywidgets(name):
    notebook = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    notebook.cells.insert(0, nbformat.v4.new_code_cell(_BLOCK_WIDGETS))
    NotebookClient(notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert not any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs)
    # Without the widget, the frames come as an HTML page with its own slider.
    assert any('type="range"' in o.get("data", {}).get("text/html", "") for o in outputs)
