"""./run's set-up logic: Graphviz checked again after installing it; JupyterLab on 127.0.0.1 (issue 13).

The script is sourced (it then only defines its functions) and its functions
run with stubs on PATH, so nothing is installed for real.
"""

import importlib.util
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ("dirname", "uname", "cat", "chmod", "env")  # what the function and the stubs use


def stub(folder, name, body):
    path = folder / name
    path.write_text("#!/bin/bash\n" + body + "\n")
    path.chmod(0o755)


def ensure_dot(tmp_path, apt_get):
    # PATH holds only the stubs and a few tools: no dot, no sudo; `id -u` says root.
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    for tool in TOOLS:
        if shutil.which(tool):
            os.symlink(shutil.which(tool), bin_ / tool)
    stub(bin_, "id", 'echo 0')
    stub(bin_, "apt-get", apt_get)
    done = subprocess.run([shutil.which("bash"), "-c", 'source ./run; set +e; ensure_dot; echo "status $?"'], cwd=ROOT,
                          env={"PATH": str(bin_), "HOME": str(tmp_path)}, capture_output=True, text=True, timeout=60)
    return done.stdout.strip().splitlines()[-1], done.stderr


def test_dot_still_missing_after_apt_get_is_said_clearly(tmp_path):
    status, err = ensure_dot(tmp_path, "exit 0")  # apt-get "succeeds" without putting dot on PATH
    assert status == "status 1"
    assert "installing Graphviz (the 'dot' program) with apt-get" in err
    assert "apt-get installed graphviz, but 'dot' is still not on PATH" in err
    assert "Install it with one of: sudo apt-get install graphviz" in err


def test_dot_found_after_apt_get_installs_it(tmp_path):
    # The stub installs a `dot` beside itself, as apt-get puts one in /usr/bin.
    status, err = ensure_dot(tmp_path, 'if [ "$1" = install ]; then printf "#!/bin/bash\\n" > "$(dirname "$0")/dot"; '
                                       'chmod +x "$(dirname "$0")/dot"; fi')
    assert status == "status 0", err
    assert "missing" not in err


def test_apt_get_failing_is_said_clearly(tmp_path):
    status, err = ensure_dot(tmp_path, 'echo "E: Unable to locate package graphviz" >&2; exit 100')
    assert status == "status 1"
    assert "apt-get could not install graphviz" in err and "Unable to locate package" in err


@pytest.mark.skipif(importlib.util.find_spec("jupyterlab") is None, reason="JupyterLab is not installed (.[notebooks])")
def test_run_notebooks_starts_jupyterlab_on_loopback_in_the_notebooks_folder():
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    lab = subprocess.Popen([shutil.which("bash"), "-c", 'source ./run && VENV="$1" && notebooks', "bash", sys.prefix],
                           cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True, start_new_session=True)
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(lab.stderr), daemon=True)  # drains the log
    reader.start()
    try:
        url, deadline = None, time.monotonic() + 120
        while url is None and time.monotonic() < deadline and lab.poll() is None:
            found = [m for line in list(lines) if (m := re.search(r"\[gradflow\] JupyterLab on (\S+)", line))]
            url = found[0].group(1) if found else time.sleep(0.2)
        assert url and url.startswith("http://127.0.0.1:"), "".join(lines)[-2000:]
        page = None
        while page is None and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(url, timeout=10) as response:
                    page = (response.status, response.read().decode())
            except OSError:
                time.sleep(0.5)
        assert page and page[0] == 200 and "<title>JupyterLab</title>" in page[1], "".join(lines)[-2000:]
        token = url.split("token=")[1]
        base = url.split("/lab?")[0]
        with urllib.request.urlopen(f"{base}/api/contents?token={token}", timeout=10) as response:
            names = response.read().decode()
        assert "01_values_and_the_chain_rule.ipynb" in names  # the notebooks folder is the root
        args = Path(f"/proc/{lab.pid}/cmdline").read_bytes().split(b"\0")
        assert b"--ServerApp.ip=127.0.0.1" in args and b"--no-browser" in args
        assert (b"--allow-root" in args) == (os.getuid() == 0)
    finally:
        os.killpg(lab.pid, signal.SIGTERM)
        try:
            lab.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(lab.pid, signal.SIGKILL)
            lab.wait(10)


def test_the_readmes_set_up_with_the_clone_and_open_jupyter_with_run():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    notebooks = (ROOT / "notebooks" / "README.md").read_text(encoding="utf-8")
    assert "clone this repository" in readme
    assert "do not\n`pip install gradflow`" in readme  # the name belongs to another project on PyPI
    assert not re.search(r"^\s*(\$ )?pip install gradflow", readme, re.M)
    assert "./run notebooks" in readme and "./run notebooks" in notebooks
    script = (ROOT / "run").read_text(encoding="utf-8")
    assert "  notebooks)" in script
    extras = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"jupyterlab>=4"' in extras and '"nbconvert>=7"' in extras
