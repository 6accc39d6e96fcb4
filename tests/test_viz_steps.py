"""viz.steps: one frame per engine step, the graph left as it was, saving and the slider."""


import base64
import re

import pytest

from engine import NOT_COMPUTED, Value
from viz import steps
from viz.steps import MIN_SCALE
from viz.draw import GraphvizMissing


def graph():
    # z is read twice (by ReLU and by the final ×), so its gradient arrives in two parts.
    x = Value(2.0, "x")
    w = Value(1.0, "w", kind="param")
    b = Value(1.0, "b", kind="param")
    z = w * x + b
    z.label = "z"
    y = z.relu() * z
    y.label = "y"
    return x, w, b, z, y


def test_frames_follow_the_engine_step_sequence():
    *_, y = graph()
    frames = steps(y)
    expected = [(s.node, s.grad, s.local, s.contrib) for s in graph()[-1].steps()]
    got = [(s.node.op, s.grad, s.local, s.contrib) for s in frames.steps]
    assert got == [(n.op, g, l, c) for n, g, l, c in expected]
    assert len(frames) == len(frames.steps) + 1
    for k, step in enumerate(frames.steps, start=1):
        assert frames.state(k).focus is step.node
        assert f"step {k} of {len(frames.steps)}" in frames[k].source
        assert "processing" in frames[k].source
    assert frames.state(0).focus is None and "processing" not in frames[0].source


def test_gradients_fill_in_step_by_step():
    x, w, b, z, y = graph()
    frames = steps(y)
    # Before any step only the seed is known.
    s0 = frames.state(0)
    assert s0.grad(y) == 1.0 and s0.grad(z) is None and s0.grad(w) is None
    # After step 1 (y = relu(z) × z) one of z's two branches has arrived.
    s1 = frames.state(1)
    assert s1.grad(z) == 3.0 and s1.partial(z) == (1, 2)
    assert "grad so far 3 (1 of 2 branches)" in frames[1].source
    # After the last step every gradient equals backward()'s.
    last = frames.state(len(frames) - 1)
    y.backward()
    for v in y.topo():
        assert last.grad(v) == v.grad and last.partial(v) is None
    assert frames.state(-1).grad(w) == w.grad


def test_the_users_graph_is_left_as_it_was():
    x, w, b, z, y = graph()
    steps(y)
    assert all(v.grad is NOT_COMPUTED for v in y.topo())
    y.backward()
    before = [v.grad for v in y.topo()]
    steps(y)
    assert [v.grad for v in y.topo()] == before  # leaf grads did not accumulate a second pass


def test_a_leaf_has_one_frame():
    frames = steps(Value(3.0, "solo"))
    assert len(frames) == 1 and "solo is a leaf" in frames[0].source
    assert frames.state(0).grad(frames.root) == 1.0


def test_bad_input():
    *_, y = graph()
    frames = steps(y)
    with pytest.raises(IndexError, match="there are 5 frames"):
        frames[5]
    with pytest.raises(TypeError, match="root must be a Value"):
        steps(2.0)
    with pytest.raises(ValueError, match="view must be one of"):
        steps(y, view="upside-down")
    with pytest.raises(ValueError, match="extension must be"):
        frames.save("frames.mp4")


def test_save_gif_html_and_one_file_per_frame(dot, tmp_path):
    from PIL import Image

    *_, y = graph()
    frames = steps(y, legend=False)
    gif = frames.save(tmp_path / "backward.gif")[0]
    with Image.open(gif) as im:
        assert im.n_frames == len(frames)
    page = frames.save(tmp_path / "backward.html")[0].read_text()
    assert page.count('class="gf-frame"') == len(frames) and 'type="range"' in page
    files = frames.save(tmp_path / "step.svg")
    assert [p.name for p in files] == [f"step-{k}.svg" for k in range(len(frames))]
    assert all(p.read_text().lstrip().startswith("<?xml") for p in files)


def test_slider_widget(dot):
    pytest.importorskip("ipywidgets")
    *_, y = graph()
    box = steps(y).widget()
    slider, view = box.children
    assert slider.max == 4 and "<svg" in view.value
    first = view.value
    slider.value = 3
    assert view.value != first and "step 3 of 4" in view.value


def test_slider_without_dot_shows_the_install_command(monkeypatch, tmp_path):
    pytest.importorskip("ipywidgets")
    monkeypatch.setenv("PATH", str(tmp_path))
    *_, y = graph()
    frames = steps(y)
    assert "apt-get install graphviz" in frames.widget().children[1].value
    with pytest.raises(GraphvizMissing):
        frames.save(tmp_path / "x.gif")


def test_the_player_needs_no_ipywidgets(dot, monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "ipywidgets", None)  # import ipywidgets now fails
    *_, y = graph()
    page = steps(y)._repr_html_()
    assert 'type="range"' in page and len(_frame_svgs(page)) == 5 and "<script>" in page


def _frame_svgs(page):
    """The SVG of each frame of a player: an <img> each, its SVG base64-encoded in a data: URI."""
    return [base64.b64decode(b).decode("utf-8") for b in re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', page)]


def test_without_its_script_the_player_shows_frame_0_and_says_how_to_step(dot):
    # An untrusted notebook in JupyterLab keeps the HTML (sanitized) but drops the script and inline SVG:
    # the frames are images, only frame 0 is displayed, the controls wait for the script, a note says why.
    *_, y = graph()
    page = steps(y).html()
    frames = re.findall(r'<img class="gf-frame"[^>]*style="display:(\w+)', page)
    assert frames == ["block"] + ["none"] * 4 and "<svg" not in page
    assert '<div class="gf-controls" style="display:none' in page
    note = re.search(r'<p class="gf-note"[^>]*>([^<]*)</p>', page).group(1)
    assert "trust this notebook" in note and "run this cell" in note and "Frame 0 of 4" in note
    assert '.querySelector(".gf-note").style.display="none"' in page  # the script hides it


def test_every_frame_of_the_player_shares_one_box(dot):
    *_, y = graph()
    frames = steps(y)
    page = frames.html()
    svgs = _frame_svgs(page)
    boxes = {re.search(r'<svg width="([\d.]+)pt" height="([\d.]+)pt"\s+viewBox="0 0 ([\d.]+) ([\d.]+)"', f).groups() for f in svgs}
    assert len(svgs) == len(frames) and len(boxes) == 1
    w, h = frames.box()
    assert boxes == {(f"{w:g}", f"{h:g}", f"{w:g}", f"{h:g}")}
    # Shown at most at natural size and at least MIN_SCALE of it (wider scrolls in the box): readable text.
    assert f"min-width:{w * 4 / 3 * MIN_SCALE:.0f}px;max-width:{w * 4 / 3:.0f}px" in page
    # The natural sizes differ (labels grow as gradients arrive): the box is the largest.
    from viz.draw import svg_size

    assert len({svg_size(frames.svg(k)) for k in range(len(frames))}) > 1


def test_the_saved_page_is_a_complete_document_that_fetches_nothing(dot, tmp_path):
    *_, y = graph()
    page = steps(y).save(tmp_path / "x.html")[0].read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in page and "<title>backward pass of y" in page
    assert page.rstrip().endswith("</html>")
    assert "<?xml" not in page  # the frames' XML prologue stays out of HTML
    assert not re.search(r'(src|href)="(https?:)?//', page)  # no script, style or image from the network
    for control in ('type="range"', "◀", "▶", "ArrowLeft", "ArrowRight"):
        assert control in page


def test_the_player_text_is_the_same_every_time_in_one_session(dot):
    *_, y = graph()
    a, b = steps(y).html(), steps(y).html()
    assert re.sub(r"gf-steps-\d+", "ID", a) == re.sub(r"gf-steps-\d+", "ID", b)


def test_the_inline_player_stops_drawing_when_its_time_is_spent(dot):
    *_, y = graph()
    frames = steps(y)
    page = frames.html(budget=0.0)  # spent after the first frame
    assert page.count('class="gf-frame"') == 1 and 'max="0"' in page
    assert f"showing the first 1 of {len(frames)} frames" in page and 'save("steps.html")' in page
