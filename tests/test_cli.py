"""The gradflow command: draw, train, demo; one-line errors with exit status 2."""

import os
import re
import shutil
import subprocess
import sys

import pytest

from viz.cli import main


def run(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_draw_prints_values_and_gradients_and_saves(dot, capsys, tmp_path):
    out_file = tmp_path / "graph.svg"
    status, out, err = run(capsys, "draw", "relu(w*x + b)", "--set", "x=2", "--set", "w=1", "--set", "b=1",
                           "--param", "w", "--param", "b", "-o", str(out_file))
    assert status == 0, err
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines()[1:] if line and not line.startswith("drawing")}
    assert rows["w"] == ["param", "1", "2"]  # dy/dw = x
    assert rows["x"] == ["input", "2", "1"]
    assert rows["relu(w×x+b)"] == ["ReLU", "3", "1"]
    assert out_file.read_text().lstrip().startswith("<?xml")
    assert f"drawing saved to {out_file}" in out


def test_draw_with_negative_parameters_shows_the_dead_relu(capsys):
    # The lecture's part c: all parameters -1, so ReLU blocks every gradient.
    status, out, _ = run(capsys, "draw", "relu(w*x + b)", "--set", "x=2", "--set", "w=-1", "--set", "b=-1")
    assert status == 0
    grads = {line.split()[0]: line.split()[-1] for line in out.splitlines()[1:]}
    assert grads["w"] == "0" and grads["b"] == "0"


def test_draw_saves_steps(dot, capsys, tmp_path):
    status, out, _ = run(capsys, "draw", "x*x", "--set", "x=3", "--steps", str(tmp_path / "steps.html"))
    assert status == 0 and (tmp_path / "steps.html").exists()


@pytest.mark.parametrize("option, name, made", [
    ("-o", "mine.svg", "mine.svg"),  # the file named
    ("--steps", "mine.html", "mine.html"),
    ("--steps", "mine.svg", "mine-1.svg"),  # one of the frames the name stands for
], ids=["-o", "--steps page", "--steps frame"])
def test_draw_never_writes_over_a_file_that_is_there(dot, capsys, tmp_path, option, name, made):
    # A student's own file (or last week's drawing) stays as it was, and the error says what to do.
    kept = tmp_path / made
    kept.write_text("my notes", encoding="utf-8")
    status, _, err = run(capsys, "draw", "x*y", "--set", "x=2", "--set", "y=3", option, str(tmp_path / name))
    assert status == 2 and kept.read_text(encoding="utf-8") == "my notes"
    assert f"{str(kept)!r} already exists" in err and "another name" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == [made]  # no frame written before the refusal either


@pytest.mark.parametrize(
    "argv, message",
    [
        (["draw", "__import__('os')", "--set", "x=1"], "gradflow draw: error:"),
        (["draw", "x +* 2", "--set", "x=1"], "column"),
        (["draw", "x * y", "--set", "x=1"], "y"),
        (["draw", "x", "--set", "x"], "--set needs NAME=NUMBER"),
        (["draw", "x", "--set", "x=two"], "'two' is not a number"),
        (["draw", "-x*y", "--set", "x=1"], 'goes after --, as in: gradflow draw -- "-x*y"'),
        (["draw", "x", "--set", "x=nan"], "'nan' is not a finite number"),
        (["draw", "x", "--set", "x=-inf"], "'-inf' is not a finite number"),
        (["draw", "x", "--set", "x=1", "-o", "graph.jpg"], "-o 'graph.jpg': the extension must be one of .svg"),
        (["draw", "x", "--set", "x=1", "--steps", "steps.mp4"], "--steps 'steps.mp4': the extension must be one of .gif"),
        (["draw", "x", "--set", "x=1", "--param", "q"], "--param q: no such input"),
        (["draw", "log(x)", "--set", "x=-1"], "log"),
        (["draw", "x", "--set", "x=1", "--view", "sideways"], "invalid choice"),
        (["train", "mnist"], "invalid choice"),
        (["train", "moons", "--epochs", "0"], "--epochs must be from 1 to 10,000, got 0"),
        (["train", "moons", "--hidden", "16,x"], "--hidden needs layer sizes"),
        (["train", "moons", "--lr", "inf"], "--lr must be a number > 0 and at most 10 (Adam's step size), got inf"),
        (["demo", "--epochs", "0"], "--epochs must be from 1 to 10,000, got 0"),
        (["frobnicate"], "invalid choice"),
        ([], "required"),
    ],
)
def test_bad_input_is_one_line_and_status_2(capsys, argv, message):
    with pytest.raises(SystemExit) as stop:
        status = main(argv)
        raise SystemExit(status)
    out, err = capsys.readouterr()
    assert stop.value.code == 2
    assert len(err.strip().splitlines()) == 1, err
    assert message in err


def test_an_expression_after_double_dash_may_start_with_minus(capsys):
    status, out, _ = run(capsys, "draw", "--set", "x=3", "--set", "y=2", "--", "-x*y")
    assert status == 0 and out.splitlines()[-1].split() == ["−x×y", "×", "-6", "1"]


def test_an_unwritable_output_is_one_line_and_status_1(capsys, tmp_path):
    missing = tmp_path / "no such folder"
    for option, name in (("-o", "g.dot"), ("--steps", "s.html")):
        status, _, err = run(capsys, "draw", "x*x", "--set", "x=3", option, str(missing / name))
        assert status == 1 and f"cannot write {missing / name}: No such file" in err
        assert len(err.strip().splitlines()) == 1, err


def test_draw_without_dot_explains_and_dot_text_still_works(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    status, _, err = run(capsys, "draw", "x*x", "--set", "x=3", "-o", str(tmp_path / "g.svg"))
    assert status == 1 and "apt-get install graphviz" in err and len(err.strip().splitlines()) == 1
    status, _, _ = run(capsys, "draw", "x*x", "--set", "x=3", "-o", str(tmp_path / "g.dot"))
    assert status == 0 and (tmp_path / "g.dot").read_text().startswith("digraph")


def test_train_saves_the_boundary_and_the_curve(capsys, tmp_path):
    pytest.importorskip("matplotlib")
    status, out, _ = run(capsys, "train", "circles", "--samples", "40", "--hidden", "4", "--epochs", "3",
                         "--no-progress", "-o", str(tmp_path))
    assert status == 0
    assert "training accuracy" in out
    assert (tmp_path / "decision_boundary.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "loss_curve.png").exists()


def test_a_second_run_saves_beside_the_first_and_a_users_file_is_kept(capsys, tmp_path):
    pytest.importorskip("matplotlib")
    argv = ("train", "circles", "--samples", "40", "--hidden", "4", "--epochs", "3", "--no-progress", "-o", str(tmp_path))
    (tmp_path / "loss_curve-2.png").write_text("a student's own plot", encoding="utf-8")
    run(capsys, *argv)
    first = (tmp_path / "loss_curve.png").read_bytes()
    status, out, _ = run(capsys, *argv)
    assert status == 0 and f"saved {tmp_path / 'decision_boundary-2.png'}" in out
    assert f"saved {tmp_path / 'loss_curve-3.png'}" in out  # -2 was taken
    assert (tmp_path / "loss_curve.png").read_bytes() == first
    assert (tmp_path / "loss_curve-2.png").read_text(encoding="utf-8") == "a student's own plot"
    assert (tmp_path / "loss_curve-3.png").read_bytes()[:4] == b"\x89PNG"


def test_demo_end_to_end(dot, tmp_path):
    pytest.importorskip("matplotlib")
    # The real console script, as the README runs it.
    exe = shutil.which("gradflow", path=os.path.dirname(sys.executable))
    cmd = [exe] if exe else [sys.executable, "-m", "viz.cli"]
    done = subprocess.run(cmd + ["demo", "-o", str(tmp_path / "out")], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "training accuracy 100.0%" in done.stdout  # as micrograd's demo
    penalty = re.search(r"\+ ([0-9.e-]+) \(L2 penalty\)", done.stdout)  # the loss micrograd prints includes it
    assert penalty and float(penalty.group(1)) > 0, done.stdout
    for name in ("decision_boundary.png", "loss_curve.png", "graph.svg"):
        assert (tmp_path / "out" / name).exists()
        assert str(tmp_path / "out" / name) in done.stdout
    assert "one per neuron" in done.stdout


def test_one_entry_point_for_every_subcommand():
    # pyproject's one script is viz.cli:main; the grader has no entry point of its own any more.
    import importlib.util
    import tomllib
    from pathlib import Path

    from viz import cli

    scripts = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {"gradflow": "viz.cli:main"}
    assert importlib.util.find_spec("viz.exercise.command") is None
    sub = next(a for a in cli.parser()._actions if a.dest == "command")
    assert list(sub.choices) == ["demo", "draw", "train", "check", "grade", "handout", "check-engine"]


def test_the_grader_starts_without_the_drawing_code_or_nn():
    # `gradflow check` builds the one parser, yet loads only what checking needs.
    sheet = os.path.join(os.path.dirname(__file__), os.pardir, "notebooks", "sheets", "gates.toml")
    code = ("import sys; from viz.cli import main; main(['check', sys.argv[1]]); "
            "heavy = ('nn', 'matplotlib', 'viz.draw', 'viz.steps', 'viz.network', 'viz.plots', 'subprocess', "
            "'importlib.metadata'); print(sorted(m for m in sys.modules if m in heavy or m.split('.')[0] in heavy))")
    done = subprocess.run([sys.executable, "-c", code, sheet], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "[]", done.stdout.splitlines()[-1]
