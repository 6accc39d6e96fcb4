"""The README's examples run, and print what the README says they print."""

import contextlib
import io
import re
from pathlib import Path

import pytest

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
# A python block followed by "prints" and a text block holding its exact output.
BLOCK = r"((?:(?!```).)*)```"  # a fenced block's text, never running into the next block
EXAMPLES = re.findall(r"```python\n" + BLOCK + r"\n\nprints\n\n```text\n" + BLOCK, README, re.S)


def test_the_readme_has_examples_with_output():
    assert len(EXAMPLES) >= 3


@pytest.mark.parametrize("code, expected", EXAMPLES, ids=[f"example{i + 1}" for i in range(len(EXAMPLES))])
def test_readme_example_prints_what_it_says(code, expected, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {"__name__": "__readme__"})
    assert out.getvalue() == expected


def test_the_readme_commands_exist():
    assert "./run demo" in README and "./run test" in README
    run = (Path(__file__).resolve().parent.parent / "run").read_text(encoding="utf-8")
    assert "  demo)" in run and "  test)" in run
