"""The step-through player in a real browser: Debian's chromium, headless, at a 1,280 px window.

It loads a saved ``steps(...).save("x.html")`` page and an nbconvert HTML
export of notebook 02 (stored with its outputs), moves the slider, presses
the buttons and the arrow keys, and checks that the frame and the caption
change, that the frame's box keeps its size, and that nothing is wider than
the page. playwright drives the system browser (``executable_path``); no
browser is ever downloaded. On a laptop without chromium or playwright the
tests skip; with CI=true they fail.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from engine import Value
from viz import steps

CHROMIUM = os.environ.get("GRADFLOW_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "02_backward_step_by_step.ipynb"
WIDTH = 1280
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


def _missing(why: str):
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{why} in CI; ./run test installs chromium with apt-get and playwright with the dev extra")
    pytest.skip(why)


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright is not installed (pip install playwright; no browser download is needed)")
    if not os.path.exists(CHROMIUM):
        _missing(f"chromium is not installed at {CHROMIUM} (sudo apt-get install chromium)")
    with sync_playwright() as p:
        with tempfile.TemporaryDirectory() as profile:
            context = p.chromium.launch_persistent_context(
                profile, executable_path=CHROMIUM, headless=True, args=FLAGS,
                viewport={"width": WIDTH, "height": 900},
            )
            yield context
            context.close()


def _open(browser, url):
    page = browser.new_page()
    # Nothing leaves the machine: an export's CDN scripts (MathJax, require.js) are refused.
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(("file:", "data:")) else route.abort())
    page.goto(url, wait_until="load")
    return page


def _state(player):
    """What a player shows: the visible frame's index, the caption, the box's size, the counter."""
    return player.evaluate(
        """r => { const f = [...r.querySelectorAll('.gf-frame')];
                  const shown = f.map((x, i) => getComputedStyle(x).display !== 'none' ? i : -1).filter(i => i >= 0);
                  const box = r.querySelector('.gf-box').getBoundingClientRect();
                  const img = f[shown[0]], svg = img.getBoundingClientRect();
                  return {shown, caption: r.querySelector('.gf-caption').textContent,
                          count: r.querySelector('.gf-count').textContent, frames: f.length,
                          box: [Math.round(box.width), Math.round(box.height)],
                          svg: [Math.round(svg.width), Math.round(svg.height)],
                          scale: img.naturalWidth ? svg.width / img.naturalWidth : 0}; }"""
    )


def _fits(page):
    widths = page.evaluate(
        """() => ({doc: document.documentElement.scrollWidth, view: document.documentElement.clientWidth,
                   svgs: [...document.querySelectorAll('svg')].map(s => Math.round(s.getBoundingClientRect().right))})"""
    )
    assert widths["doc"] <= widths["view"] <= WIDTH, f"the page scrolls sideways: {widths['doc']} px wide in a {widths['view']} px window"
    too_wide = [r for r in widths["svgs"] if r > widths["view"]]
    assert not too_wide, f"{len(too_wide)} drawings end past the window's right edge ({max(too_wide)} px > {widths['view']} px)"


def _drive(page, player):
    """Slider, ▶, ◀ and the arrow keys each change frame and caption; the box never changes size."""
    first = _state(player)
    assert first["shown"] == [0] and first["frames"] > 3
    # Readable: a frame is drawn at >= 0.83 of its natural size, so 10 pt labels are >= 11 px and the
    # smallest (8 pt) >= 8.8 px; a frame wider than that scrolls inside the player's box.
    assert first["scale"] >= 0.83, f"the player shrinks its frames to {first['scale']:.0%}: text under 11 px"
    assert first["box"][0] <= WIDTH and first["box"][1] > 0
    slider = player.locator("input[type=range]")
    slider.fill("3")
    moved = _state(player)
    assert moved["shown"] == [3] and moved["caption"] != first["caption"] and moved["count"] != first["count"]
    player.locator("button").nth(1).click()  # ▶
    assert _state(player)["shown"] == [4]
    player.locator("button").nth(0).click()  # ◀
    player.locator("button").nth(0).click()
    assert _state(player)["shown"] == [2]
    player.locator(".gf-caption").click()  # focus inside the player, off the slider
    page.keyboard.press("ArrowRight")
    after = _state(player)
    assert after["shown"] == [3] and after["caption"] == moved["caption"]
    slider.click()  # the arrow keys go on working after a click on the slider
    at = _state(player)["shown"][0]
    page.keyboard.press("ArrowLeft" if at else "ArrowRight")
    assert _state(player)["shown"] == [at - 1 if at else at + 1]
    player.locator("button").nth(1).click()
    at = _state(player)["shown"][0]
    page.keyboard.press("ArrowLeft")
    assert _state(player)["shown"] == [at - 1], "the arrow keys stopped after a click on ▶"
    last = first["frames"] - 1
    slider.fill(str(last))
    end = _state(player)
    assert end["shown"] == [last] and "step" in end["caption"]
    sizes = {tuple(s["box"]) for s in (first, moved, after, end)} | {tuple(s["svg"]) for s in (first, moved, after, end)}
    assert len({tuple(s["box"]) for s in (first, moved, after, end)}) == 1, f"the frame box changed size: {sizes}"
    assert len({tuple(s["svg"]) for s in (first, moved, after, end)}) == 1, f"the drawn frame changed size: {sizes}"


def perceptron():
    x1, x2 = Value(2.0, "x1"), Value(-1.0, "x2")
    w1, w2, b = Value(-3.0, "w1", kind="param"), Value(1.0, "w2", kind="param"), Value(6.8813735870195432, "b", kind="param")
    y = (x1 * w1 + x2 * w2 + b).sigmoid()
    y.label = "y"
    return y


def test_saved_step_through_page(browser, dot, tmp_path):
    path = steps(perceptron()).save(tmp_path / "backward.html")[0]
    page = _open(browser, path.as_uri())
    assert page.title().startswith("backward pass of y")
    player = page.locator(".gf-steps").first
    _drive(page, player)
    _fits(page)
    page.screenshot(path=str(tmp_path / "steps.png"), full_page=True, timeout=60_000)


def test_notebook_02_exported_to_html(browser, dot, tmp_path):
    nbconvert = pytest.importorskip("nbconvert")
    body, _ = nbconvert.HTMLExporter().from_filename(str(NOTEBOOK))
    page_path = tmp_path / "02.html"
    page_path.write_text(body, encoding="utf-8")
    page = _open(browser, page_path.as_uri())
    players = page.locator(".gf-steps")
    assert players.count() >= 2, "notebook 02 should store its step-throughs as HTML players"
    player = players.first
    player.scroll_into_view_if_needed()
    _drive(page, player)
    _fits(page)
    page.screenshot(path=str(tmp_path / "notebook02.png"), full_page=True, timeout=60_000)


NOTEBOOKS = sorted(NOTEBOOK.parent.glob("[0-9][0-9]_*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_stored_notebook_fits_a_1280_px_window(browser, tmp_path, path):
    nbconvert = pytest.importorskip("nbconvert")
    body, _ = nbconvert.HTMLExporter().from_filename(str(path))
    page_path = tmp_path / f"{path.stem}.html"
    page_path.write_text(body, encoding="utf-8")
    page = _open(browser, page_path.as_uri())
    assert page.locator("svg, img").count() > 0, f"{path.name}: the export shows no picture (stored without outputs?)"
    _fits(page)


# --- JupyterLab as `./run notebooks` opens it ------------------------------------------------

ROOT = NOTEBOOK.parent.parent
DRAWING_AS_TEXT = ("cluster_0", "digraph", "gradflow n0", "data = forward value · grad")  # SVG source read as text


def _lab(tmp_path, trust: bool):
    """JupyterLab started by the run script's own `notebooks` function, in an empty Jupyter data folder."""
    import re
    import subprocess
    import urllib.request

    if not (ROOT / ".venv" / "bin" / "jupyter").exists():
        _missing("no .venv/bin/jupyter: ./run notebooks installs it")
    env = dict(os.environ, JUPYTER_DATA_DIR=str(tmp_path / "data"), JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
               GRADFLOW_TRUST="1" if trust else "0")
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    workspaces = tmp_path / "workspaces"  # JupyterLab's workspace files go here, not into ~/.jupyter
    proc = subprocess.Popen(["bash", "-c", f'source ./run && notebooks "--LabApp.workspaces_dir={workspaces}"'],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    said = []
    for line in proc.stderr:
        said.append(line)
        found = re.search(r"(http://127\.0\.0\.1:\d+)/lab\?token=(\w+)", line)
        if found:
            break
    else:
        proc.wait()
        pytest.fail("./run notebooks printed no address: " + "".join(said)[-2000:])
    base, token = found.groups()
    import threading

    threading.Thread(target=lambda: [None for _ in proc.stderr], daemon=True).start()  # keep its pipe drained
    for _ in range(120):
        try:
            urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
            break
        except OSError:
            time.sleep(0.5)
    return proc, base, token, "".join(said)


def _outputs(page):
    return page.evaluate(
        """() => { const out = [...document.querySelectorAll('.jp-OutputArea-output')];
                   const panel = document.querySelector('.jp-NotebookPanel .jp-WindowedPanel-outer');
                   return {svg: document.querySelectorAll('.jp-RenderedSVG img').length,
                           png: document.querySelectorAll('.jp-RenderedImage img').length,
                           texts: out.map(o => o.textContent),
                           players: document.querySelectorAll('.gf-steps').length,
                           dirty: document.querySelectorAll('.lm-TabBar-tab.jp-mod-dirty').length,
                           toasts: [...document.querySelectorAll('.Toastify__toast')].map(t => t.textContent),
                           files: [...document.querySelectorAll('.jp-DirListing-itemName')].map(e => e.textContent),
                           doc: document.documentElement.scrollWidth,
                           panel: panel ? [panel.scrollWidth, panel.clientWidth] : null}; }"""
    )


@pytest.mark.parametrize("trust", [True, False], ids=["run-notebooks", "untrusted"])
def test_notebook_02_in_jupyterlab_as_run_notebooks_opens_it(browser, tmp_path, trust):
    stored = NOTEBOOK.read_bytes()
    proc, base, token, said = _lab(tmp_path, trust)
    try:
        assert ("trusted gradflow's own notebooks" in said) == trust, said
        page = browser.new_page()
        page.route("**/*", lambda route: route.continue_() if route.request.url.startswith((base, "data:")) else route.abort())
        page.goto(f"{base}/lab/tree/{NOTEBOOK.name}?token={token}", wait_until="load")
        page.wait_for_selector(".gf-steps", state="attached", timeout=90_000)
        time.sleep(6)  # the kernel starts and sets its metadata; a notebook stored otherwise turns "modified"
        seen = _outputs(page)
        page.screenshot(path=str(tmp_path / "lab.png"))
        # JupyterLab draws only the cells near the view: scroll through, looking at each output drawn.
        pictures, leaked = 0, []
        for _ in range(80):
            now = _outputs(page)
            pictures = max(pictures, now["svg"] if trust else now["png"])
            assert now["svg"] == 0 or trust, "an untrusted notebook showed SVG?"
            leaked += [t[:80] for t in now["texts"] if any(w in t for w in DRAWING_AS_TEXT)]
            if not page.evaluate("""() => { const p = document.querySelector('.jp-NotebookPanel .jp-WindowedPanel-outer');
                                           const end = p.scrollTop + p.clientHeight >= p.scrollHeight - 2;
                                           p.scrollTop += p.clientHeight * 0.8; return !end; }"""):
                break
            time.sleep(0.3)
        # Every drawing is a picture: SVG when trusted, its PNG when not; no SVG source read as text.
        assert pictures >= 1 and not leaked, f"{pictures} pictures; drawings shown as text: {leaked[:3]}"
        assert seen["dirty"] == 0, "opening the notebook marked it modified"
        assert not [t for t in seen["toasts"] if "news" in t.lower()], seen["toasts"]
        assert NOTEBOOK.name in seen["files"] and not [f for f in seen["files"] if f.endswith(".py") and f[:2].isdigit()]
        assert seen["doc"] <= WIDTH and seen["panel"][0] <= seen["panel"][1], f"something overflows: {seen}"
        player = page.locator(".gf-steps").first
        player.scroll_into_view_if_needed()
        frame0 = player.locator(".gf-frame").first
        assert frame0.is_visible() and frame0.evaluate("i => i.naturalWidth > 0"), "frame 0 is not drawn"
        if trust:
            count = player.locator(".gf-count")
            player.locator("button").nth(1).click()  # ▶
            assert count.text_content() == "frame 1 of " + count.text_content().split(" of ")[1]
            player.locator("input[type=range]").click()
            at = int(count.text_content().split()[1])
            page.keyboard.press("ArrowLeft")
            assert int(count.text_content().split()[1]) == at - 1, "the arrow keys stopped after a click on the slider"
            assert not player.locator(".gf-note").is_visible()
        else:
            note = player.locator(".gf-note")
            assert note.is_visible() and "trust this notebook" in note.text_content()
            assert player.locator(".gf-frame:visible").count() == 1
        page.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert NOTEBOOK.read_bytes() == stored, "opening the notebook rewrote it"
