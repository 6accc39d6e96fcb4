"""The `gradflow` command validates every argument up front (issue 13's CLI findings)."""

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from viz import cli
from viz.cli import main

ROOT = Path(__file__).resolve().parents[1]


def usage_error(capsys, *argv):
    with pytest.raises(SystemExit) as stop:
        raise SystemExit(main(list(argv)))
    out, err = capsys.readouterr()
    assert stop.value.code == 2, (out, err)
    assert len(err.strip().splitlines()) == 1, err
    return err


@pytest.mark.parametrize("argv, message", [
    # Each was a traceback or a hang on main.
    (["train", "moons", "--lr", "1e308"], "--lr must be a number > 0 and at most 10 (Adam's step size), got 1e+308"),
    (["train", "moons", "--seed", "-1"], "--seed must be from 0 to 4,294,967,295, got -1"),
    (["train", "moons", "--seed", "4294967296"], "--seed must be from 0 to 4,294,967,295"),
    (["train", "moons", "--samples", "100000000000"], "--samples must be from 4 to 100,000, got 100,000,000,000"),
    (["train", "moons", "--hidden", "99999999999999999999"], "--hidden 99999999999999999999: about 4e+20 parameters; "
                                                              "the scalar engine trains up to 20,000"),
    (["train", "moons", "--hidden", "200,200"], "about 4.1e+04 parameters"),
    (["train", "moons", "--hidden", ",".join(["2"] * 33)], "--hidden: 33 layers; at most 32"),
    (["train", "moons", "--lr", "nan"], "--lr must be a number > 0 and at most 10 (Adam's step size), got nan"),
    (["train", "moons", "--samples", "3"], "--samples must be from 4 to 100,000, got 3"),
    (["train", "xor", "--samples", "5"], "--samples for xor must be a multiple of 4 (the four corners, repeated), got 5"),
    (["train", "moons", "--epochs", "99999999999999999999"], "--epochs must be from 1 to 10,000"),
    (["demo", "--epochs", "1000000"], "--epochs must be from 1 to 10,000, got 1,000,000"),
    (["train", "moons", "-o", "a\x00b"], "an argument holds a NUL character"),
    (["draw", "x", "--set", "x=1", "-o", "a\x00b.svg"], "an argument holds a NUL character"),
    (["draw", "x/y", "--set", "x=3", "--set", "y=1e-200"], "'x/y': backward failed at these values"),
    (["draw", "+".join(["x"] * 400), "--set", "x=1", "--steps", "s.html"],
     "--steps: the expression has 400 nodes, one frame each; step through expressions of up to 300 nodes"),
    (["train", "moons\nnext line"], r"invalid choice: 'moons\nnext line'"),
    (["demo", "\x1b[31mred"], r"unrecognized arguments: \x1b[31mred"),
    (["demo", "x" * 10_000], "…"),
])
def test_bad_arguments_are_one_line_and_status_2(capsys, tmp_path, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    err = usage_error(capsys, *argv)
    assert message in err
    assert len(err) < 500
    assert not any(tmp_path.iterdir())  # refused before any work

@pytest.mark.parametrize("argv, message", [
    # viz.cli.main (which notebook 07 imports) is the one main of every subcommand.
    (["check", "a\x00b.toml"], "an argument holds a NUL character"),
    (["grade", "key.toml", "a\x00b.toml"], "an argument holds a NUL character"),
    (["check", "sheet.toml", "line\nbreak\x1b[31mred"], r"unrecognized arguments: line\nbreak\x1b[31mred"),
    (["handout", "key.toml", "-o", "out", "--format", "pdf\nx"], r"invalid choice: 'pdf\nx'"),
])
def test_the_fast_entry_point_gives_the_same_one_line_errors(capsys, tmp_path, monkeypatch, argv, message):
    from viz.cli import main as gradflow

    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as stop:
        gradflow(argv)
    err = capsys.readouterr().err
    assert stop.value.code == 2 and message in err, err
    assert len(err.strip().splitlines()) == 1 and "\x1b" not in err and "Traceback" not in err
    assert not any(tmp_path.iterdir())


def test_training_that_diverges_anyway_is_one_line(capsys, tmp_path, monkeypatch):
    def diverges(*args, **kwargs):
        raise FloatingPointError("Adam.step: parameter layer1.neuron1.w1 has gradient nan")

    monkeypatch.setattr(cli, "train", diverges)
    err = usage_error(capsys, "train", "moons", "-o", str(tmp_path))
    assert "training diverged (Adam.step: parameter layer1.neuron1.w1 has gradient nan); try a smaller --lr" in err


def test_the_largest_accepted_sizes_are_accepted(capsys, tmp_path, monkeypatch):
    seen = {}

    def record(dataset, **options):
        seen.update(options)
        raise FloatingPointError("stop here")

    monkeypatch.setattr(cli, "train", record)
    usage_error(capsys, "train", "moons", "--samples", "100000", "--epochs", "10000", "--lr", "10",
                "--seed", "4294967295", "--hidden", "96,96", "-o", str(tmp_path))
    assert seen["samples"] == 100_000 and seen["hidden"] == [96, 96] and seen["seed"] == 2**32 - 1


def test_the_double_dash_advice_works_with_options_after_the_expression(capsys):
    # The advice the CLI gives for an expression that starts with "-".
    err = usage_error(capsys, "draw", "-x*w", "--set", "x=2", "--set", "w=3")
    assert 'gradflow draw -- "-x*y"' in err
    assert main(["draw", "--", "-x*w", "--set", "x=2", "--set", "w=3"]) == 0
    out, _ = capsys.readouterr()
    assert out.splitlines()[-1].split() == ["−x×w", "×", "-6", "1"]
    assert main(["draw", "--set", "x=2", "--", "-x*w", "--set", "w=3"]) == 0  # options on both sides
    assert capsys.readouterr().out.splitlines()[-1].split() == ["−x×w", "×", "-6", "1"]
    assert main(["draw", "--set", "x=2", "--set", "w=3", "--", "-x*w"]) == 0  # as before
    assert capsys.readouterr().out.splitlines()[-1].split() == ["−x×w", "×", "-6", "1"]


def test_version_matches_pyproject(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    expected = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert stop.value.code == 0
    assert capsys.readouterr().out.strip() == f"gradflow {expected}"


def test_version_without_an_installed_distribution_reads_pyproject(monkeypatch):
    from importlib import metadata

    def not_installed(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", not_installed)
    assert cli.version() == tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


def test_version_from_the_console_script():
    done = subprocess.run([sys.executable, "-m", "viz.cli", "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.startswith("gradflow 0."), done.stderr
