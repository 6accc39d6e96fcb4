"""The layout of the code: layers, no import cycles, no reach-ins, files a reader can hold.

Every import is read with ``ast``, at the top of a module and inside its
functions alike: an import inside a function still ties two modules together,
it only hides the tie until the function runs. The rules (STYLE.md, issue 22):

- no cycle among gradflow's modules;
- ``engine`` imports nothing from ``nn`` or ``viz``, ``nn`` nothing from ``viz``;
- no module imports another module's private name (``from x import _name``);
- no source file of engine, nn or viz is over MAX_LINES lines, and engine/value.py over LESSON_LINES.

Every package keeps every rule, with no exception; and every package of the
tree is one that pyproject.toml installs.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("engine", "nn", "viz")
MAX_LINES = 600
LESSON_LINES = 360  # engine/value.py
LAYERS = {"engine": set(), "nn": {"engine"}, "viz": {"engine", "nn"}}  # what each package may import

def _modules() -> dict:
    # module name -> path, for every .py file of the packages
    out = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            out[name] = path
    return out


MODULES = _modules()


def _package_of(name: str) -> str:
    # The package a module's relative imports start from: itself for a package's __init__.
    return name if MODULES[name].name == "__init__.py" else name.rpartition(".")[0]


def imports(name: str) -> list:
    """(module imported, name imported or None, line) for every import in the module, functions included.

    >>> [(m, n) for m, n, _ in imports("engine.replay")]
    [('engine.replay.dense', 'Dense'), ('engine.replay.record', 'ReplayError'), ('engine.replay.tape', 'Tape'), ('engine.replay.tape', 'trace')]
    """
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"), str(MODULES[name]))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(alias.name, None, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = _package_of(name).split(".")
                package = package[: len(package) - (node.level - 1)]
                base = ".".join(package + ([base] if base else []))
            out += [(base, alias.name, node.lineno) for alias in node.names]
    return sorted(out, key=lambda t: (t[2], t[0], t[1] or ""))


def _targets(name: str, module: str, what) -> set:
    # The gradflow modules an import runs: the module (or the submodule `from package import sub`
    # names) and the packages above it, except those above the importer (already running).
    target = f"{module}.{what}" if what and f"{module}.{what}" in MODULES else module
    parts = target.split(".")
    mine = {".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 2)} | {_package_of(name)}
    chain = {".".join(parts[:i]) for i in range(1, len(parts) + 1)}
    return {m for m in chain if m in MODULES and m not in mine and m != name}


def graph() -> dict:
    """module -> the gradflow modules it imports (anywhere in it)."""
    return {name: set().union(*(_targets(name, m, w) for m, w, _ in imports(name))) if imports(name) else set()
            for name in MODULES}


def cycles(edges: dict) -> list:
    """Every strongly connected group of two or more modules (or a module importing itself), sorted."""
    index, low, stack, on, out = {}, {}, [], set(), []
    for start in sorted(edges):
        if start in index:
            continue
        # Tarjan's algorithm, iterative: a deep import chain must not hit the recursion limit.
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on.add(start)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(edges.get(w, ())))))
                elif w in on:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                group = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    group.append(w)
                    if w == v:
                        break
                if len(group) > 1 or v in edges.get(v, ()):
                    out.append(sorted(group))
    return sorted(out)


def test_cycles_finds_a_cycle_through_a_function_level_import():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles():
    found = cycles(graph())
    assert not found, "import cycles (imports inside functions count): " + "; ".join(" ↔ ".join(c) for c in found)


@pytest.mark.parametrize("package", PACKAGES)
def test_layers(package):
    # engine knows nothing of nn or viz; nn nothing of viz.
    allowed = LAYERS[package] | {package}
    wrong = [f"{name} imports {m} (line {line})" for name in MODULES if name.split(".")[0] == package
             for m, _, line in imports(name) if m.split(".")[0] in PACKAGES and m.split(".")[0] not in allowed]
    assert not wrong, wrong


def _private(word) -> bool:
    return bool(word) and word.startswith("_") and not word.startswith("__")


def _private_imports() -> set:
    # (importer, module, name) for `from module import _name`, and for `import module._sub`
    # from outside module's package; a package may use its own private submodules.
    out = set()
    for name in MODULES:
        for module, what, _ in imports(name):
            if module.split(".")[0] not in PACKAGES:
                continue
            if _private(what) and not (f"{module}.{what}" in MODULES and module == _package_of(name)):
                out.add((name, module, what))
            hidden = [i for i, part in enumerate(module.split(".")) if _private(part)]
            if hidden and not _package_of(name).startswith(".".join(module.split(".")[:hidden[0]])):
                out.add((name, module, what))
    return out


@pytest.mark.parametrize("package", PACKAGES)
def test_no_module_imports_another_modules_private_name(package):
    found = {t for t in _private_imports() if t[0].split(".")[0] == package}
    assert not found, "make the name public where it lives (or move it): " + ", ".join(
        f"{name} takes {what} from {module}" for name, module, what in sorted(found))


@pytest.mark.parametrize("package", PACKAGES)
def test_no_source_file_is_over_600_lines(package):
    long = {str(path.relative_to(ROOT)): n for name, path in MODULES.items() if name.split(".")[0] == package
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, f"over {MAX_LINES} lines: split by job: {long}"


def test_the_lesson_is_a_file_read_in_one_sitting():
    # engine/value.py is what a student opens after the lecture (issue 22: about 350 lines);
    # what grows past it goes to a room of its own (parts.py, hook.py, fast.py, messages.py).
    n = len((ROOT / "engine" / "value.py").read_text(encoding="utf-8").splitlines())
    assert n <= LESSON_LINES, f"engine/value.py is {n} lines, over {LESSON_LINES}: move what is not the lesson out"


def test_pyproject_installs_every_package():
    # A package the install leaves out works in the editable checkout and fails everywhere else.
    import tomllib

    from setuptools import find_packages

    found = (tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"])
    installed = set(find_packages(str(ROOT), include=found["include"]))
    packages = {name for name, path in MODULES.items() if path.name == "__init__.py"}
    assert packages <= installed, f"pyproject.toml leaves out {sorted(packages - installed)}"
