import os
import shutil

import pytest

from viz.draw import INSTALL_HINT


@pytest.fixture
def dot():
    """Graphviz's dot: tests that need it skip on a laptop without it, but fail in CI."""
    path = shutil.which("dot")
    if path is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("Graphviz's dot is missing in CI; " + INSTALL_HINT)
        pytest.skip("Graphviz's dot is not installed")
    return path
