import os
import shutil

import pytest
from hypothesis import settings

from viz.draw import INSTALL_HINT

# On a laptop hypothesis explores new examples each run; in CI the examples are
# derived from each test's name, so a submission's result does not hang on luck.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
    settings.load_profile("ci")

# The .py files in notebooks/ are jupytext twins of the notebooks, for review;
# nbmake executes the .ipynb files, so pytest must not import the twins.
collect_ignore_glob = ["notebooks/*.py"]


@pytest.fixture
def dot():
    """Graphviz's dot: tests that need it skip on a laptop without it, but fail in CI."""
    path = shutil.which("dot")
    if path is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("Graphviz's dot is missing in CI; " + INSTALL_HINT)
        pytest.skip("Graphviz's dot is not installed")
    return path
