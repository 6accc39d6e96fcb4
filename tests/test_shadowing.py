"""A student's engine.py or nn.py in the working folder is named, not a confusing error deep inside (issue 13)."""

import subprocess
import sys

import pytest

STUDENT_FILES = {
    # What micrograd tutorials leave behind.
    "engine.py": "class Value:\n    def __init__(self, data):\n        self.data = data\n",
    "nn.py": "class MLP:\n    pass\n",
}


def run_in(folder, code):
    return subprocess.run([sys.executable, "-c", code], cwd=folder, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("shadow, module", [("engine.py", "nn"), ("engine.py", "viz"), ("engine.py", "viz.cli"),
                                            ("nn.py", "viz"), ("nn.py", "viz.cli")])
def test_a_file_in_the_working_folder_that_shadows_a_package_is_named(tmp_path, shadow, module):
    (tmp_path / shadow).write_text(STUDENT_FILES[shadow])
    done = run_in(tmp_path, f"import {module}")
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    name = shadow[:-3]
    assert last.startswith(f"ImportError: 'import {name}' finds {tmp_path / shadow}, not gradflow's {name} package"), last
    assert f"Rename it (e.g. to my_{name}.py)" in last


def test_a_shadowing_folder_is_named_too(tmp_path):
    (tmp_path / "engine").mkdir()
    (tmp_path / "engine" / "__init__.py").write_text(STUDENT_FILES["engine.py"])
    done = run_in(tmp_path, "import nn")
    assert f"'import engine' finds {tmp_path / 'engine' / '__init__.py'}" in done.stderr


def test_gradflow_imports_from_a_clean_folder_and_from_its_own(tmp_path):
    (tmp_path / "notes.py").write_text("x = 1\n")
    done = run_in(tmp_path, "import nn, viz, viz.cli; print(nn.MLP(2, [1]).parameters()[0].kind)")
    assert done.returncode == 0 and done.stdout.strip() == "param", done.stderr


def test_the_check_looks_without_running_the_shadowing_file(tmp_path):
    (tmp_path / "engine.py").write_text("open('ran', 'w').write('yes')\n")
    run_in(tmp_path, "import nn")
    assert not (tmp_path / "ran").exists()
