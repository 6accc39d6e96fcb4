"""The exercise checker: shipped sheets, wrong answers, explanations, reports, the command, bad sheets."""

import json
import math
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from viz import exercise
from viz.cli import main
from viz.exercise import SheetError, check, load, loads

SHEETS = sorted((Path(__file__).parent.parent / "notebooks" / "sheets").glob("*.toml"))


def run_cli(capsys, *argv):
    status = main(["check", *map(str, argv)])
    out, err = capsys.readouterr()
    return status, out, err


def write(tmp_path, text, name="sheet.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


RELU = """\
title = "ReLU perceptron, part b"
tolerance = 1e-4

[inputs]
x = 2
w = 1
b = 1

[graph]
z = "w*x + b"
y = "relu(z)"

[answers]
y = 3
"dy/dw" = 2
"dy/db" = 1
"dy/dz" = "1"
"""


# --- the shipped sheets ---------------------------------------------------------------------


def test_the_lectures_exercises_are_all_shipped():
    names = {p.stem for p in SHEETS}
    assert {"relu_perceptron", "sigmoid_perceptron", "gates", "three_layer_network",
            "sigmoid_neuron_half_squared_error", "generalized_delta_rule"} <= names


@pytest.mark.parametrize("path", SHEETS, ids=lambda p: p.stem)
def test_each_shipped_sheet_passes_with_its_answers(path, capsys):
    report = load(path).check()
    assert report.ok, report.text()
    assert all(len(c.rows) >= 4 for c in report.cases)
    status, out, err = run_cli(capsys, path)
    assert status == 0 and "WRONG" not in out and err == ""


def _wrong_number(correct):
    return correct + 0.5 * max(1.0, abs(correct))


@pytest.mark.parametrize("path", SHEETS, ids=lambda p: p.stem)
def test_each_shipped_sheet_flags_exactly_the_wrong_answers(path):
    sheet = load(path)
    for pick in (lambda i: i % 3 == 1, lambda i: i % 2 == 0, lambda i: True):
        answers, chosen = {}, {}
        for case, solution in zip(sheet.cases, sheet.solutions):
            given = {}
            for i, a in enumerate(case.answers):
                correct = solution.correct(a)
                original = a.formula or a.given
                if pick(i):
                    offset = 0.5 * max(1.0, abs(correct))
                    # A wrong formula stays a formula, a wrong number a number.
                    given[a.key] = f"({a.formula}) + {offset!r}" if a.formula else _wrong_number(correct)
                    chosen.setdefault(case.name, set()).add(a.key)
                else:
                    given[a.key] = original
            answers[case.name] = given
        report = sheet.check(answers if len(sheet.cases) > 1 else answers[sheet.cases[0].name])
        for case in report.cases:
            assert {r.key for r in case.wrong} == chosen.get(case.name, set()), path.stem
            for r in case.wrong:
                assert r.explanation, r.key
        assert not report.ok


@pytest.mark.parametrize("path", SHEETS, ids=lambda p: p.stem)
def test_each_shipped_sheet_solves_and_the_chains_agree_with_the_engine(path):
    sheet = load(path)
    for s in sheet.solutions:
        for name in s.nodes:
            if name == sheet.output or name not in s.reaches:
                continue
            # The named chain rule reproduces the engine's gradient: Σ dy/dS · dS/dN.
            total = sum(s.grads[st] * s.local[st][name] for st in s.uses[name])
            assert total == pytest.approx(s.grads[name], rel=1e-9, abs=1e-12)
    text = sheet.solve().text()
    for s in sheet.solutions:
        for name in s.nodes:
            assert f"d{sheet.output}/d{name} = " in text


# --- explanations ----------------------------------------------------------------------------


def test_a_wrong_gradient_shows_its_chain_gate_and_the_first_wrong_in_backward_order():
    report = loads(RELU).check({"y": 3, "dy/dz": 2, "dy/dw": 4, "dy/db": 1})
    case = report.cases[0]
    assert [r.key for r in case.wrong] == ["dy/dz", "dy/dw"]
    assert case.first_wrong_gradient.key == "dy/dz"
    dw = case.wrong[1].explanation
    assert dw[0] == "dy/dw = dy/dz · dz/dw = 1 · 2 = 2"
    assert "product switches" in dw[1] and "∂(w*x)/∂w = x = 2" in dw[1]
    assert any("follows correctly from your dy/dz" in line for line in dw)
    assert "ReLU" in case.wrong[0].explanation[1]


def test_a_wrong_forward_value_names_the_op_and_its_inputs():
    case = loads(RELU).check({"z": 4, "y": 4}).cases[0]
    z, y = case.wrong
    assert z.explanation[0] == "z = w*x + b: the add (+) gate of w*x = 2 and b = 1 gives 3"
    assert "mistake is in this step" in z.explanation[1]
    assert "relu (ReLU) gate of z = 3" in y.explanation[0]
    assert "follows correctly from your z" in y.explanation[1]
    assert case.first_wrong_value.key == "z"


def test_the_gate_rules_are_named_in_words():
    sheet = load(SHEETS[0].with_name("gates.toml"))
    case = sheet.check({"df/dx": -12, "df/dw": 3, "df/dq": 1, "df/dy": -9}).cases[0]
    why = {r.key: "\n".join(r.explanation) for r in case.wrong}
    assert "split adds" in why["df/dx"] and "only the path through q" in why["df/dx"]
    assert "(-10) + (-12) = -22" in why["df/dx"]
    assert "max routes" in why["df/dw"] and "∂m/∂w = 1 if w > z, ½ if z = w, else 0 = 0" in why["df/dw"]
    assert "sum distributes" in why["df/dq"]
    assert "product switches" in why["df/dy"] and "the sign is flipped" in why["df/dy"]
    assert case.first_wrong_gradient.key == "df/dw"  # the max gate is processed before the product q


def test_a_formula_missing_a_factor_is_caught_and_the_upstream_error_is_found_first():
    sheet = load(SHEETS[0].with_name("three_layer_network.toml"))
    # The classic slip: dJ/dW(2) without σ'(z(3)); and dJ/da3 with the wrong weight.
    report = sheet.check({
        "dJ/dW3": "(a4 - y) * a3",
        "dJ/da3": "(a4 - y) * W2",
        "dJ/dW2": "(a4 - y) * W3 * a2",
        "dJ/dW1": "(a4 - y) * W3 * a3 * (1 - a3) * W2 * a2 * (1 - a2) * x",
    })
    case = report.cases[0]
    assert [r.key for r in case.wrong] == ["dJ/da3", "dJ/dW2"]
    assert case.first_wrong_gradient.key == "dJ/da3"
    assert case.wrong[1].yours.startswith("(a4 - y) * W3 * a2 = ")


def test_a_single_path_is_written_out_as_the_product_of_its_local_derivatives():
    sheet = load(SHEETS[0].with_name("three_layer_network.toml"))
    s = sheet.solutions[0]
    line = s.path("W1")
    assert line.startswith("along the path: dJ/dW1 = ∂J/∂a4 · da4/da3 · da3/dz3 · dz3/da2 · da2/dz2 · dz2/dW1 = ")
    assert math.prod(s.local[a][b] for a, b in [("J", "a4"), ("a4", "a3"), ("a3", "z3"), ("z3", "a2"), ("a2", "z2"),
                                                ("z2", "W1")]) == pytest.approx(s.grads["W1"], rel=1e-12)
    # Two paths (a_j feeds both outputs) have no single product; the chain's sum says it instead.
    assert load(SHEETS[0].with_name("generalized_delta_rule.toml")).solutions[0].path("Wkj") is None


def test_an_old_single_number_tolerance_is_absolute_below_one_and_relative_above():
    sheet = loads(RELU.replace("tolerance = 1e-4", "tolerance = 1e-3").replace("b = 1", "b = 998"))
    report = sheet.check({"y": 1000.5, "dy/dw": 2.0015, "dy/db": 1.0015})
    assert [r.key for r in report.cases[0].wrong] == ["dy/db"]
    assert loads(RELU).tolerance.legacy == 1e-4
    assert loads(RELU.replace("tolerance = 1e-4\n", "")).tolerance == exercise.DEFAULT_TOLERANCE


def test_partial_notation_and_input_values_are_accepted():
    case = loads(RELU).check({"∂y/∂w": 2, "x": 3}).cases[0]
    assert [r.key for r in case.rows if r.ok] == ["∂y/∂w"]
    assert case.wrong[0].explanation == ("x is an input; its value is given: 2",)


@pytest.mark.parametrize("key", ["dy/dz", "∂y/∂z", "dy / dz"])
def test_an_upstream_mistake_is_traced_whatever_the_notation(key):
    # dy/dw = 10 follows from the student's own dy/dz = 5 (times x = 2).
    case = loads(RELU).check({key: 5, "dy/dw": 10}).cases[0]
    assert [r.key for r in case.wrong] == [key, "dy/dw"]
    assert case.wrong[1].explanation[-1] == "your dy/dw follows correctly from your dy/dz, which is wrong: fix dy/dz first"
    assert case.first_wrong_gradient.key == key


def test_non_finite_answers_are_wrong_not_errors():
    report = loads(RELU).check({"y": math.nan, "dy/dw": math.inf})
    assert len(report.cases[0].wrong) == 2
    assert json.loads(report.to_json())["cases"][0]["answers"][0]["given"] == "nan"


# --- the report ------------------------------------------------------------------------------


def test_the_report_as_text_json_and_html():
    sheet = loads(RELU.replace("ReLU perceptron, part b", "<script>alert('x & y')</script>"))
    report = sheet.check({"y": 3, "dy/dw": 5})
    assert not report and "1 of 2 right" in repr(report)
    text = str(report)
    assert "dy/dw" in text and "WRONG" in text and "right" in text
    data = json.loads(report.to_json())
    assert data["ok"] is False and data["cases"][0]["first_wrong_gradient"] == "dy/dw"
    row = data["cases"][0]["answers"][1]
    assert (row["key"], row["given"], row["correct"], row["ok"]) == ("dy/dw", 5.0, 2.0, False)
    page = report._repr_html_()
    assert "<script>" not in page and "&lt;script&gt;" in page and "&amp;" in page
    assert page.count("<tr>") == 3
    assert report.cases[0]._html() in page and "✗ wrong" in report.cases[0]._repr_html_()
    assert str(report.cases[0]) in text


def test_several_cases_are_graded_each_with_their_own_inputs():
    sheet = load(SHEETS[0].with_name("relu_perceptron.toml"))
    assert [c.name for c in sheet.cases] == ["b", "c"]
    report = sheet.check({"b": {"dy/dw": 2}, "c": {"dy/dw": 2}})
    assert [c.ok for c in report.cases] == [True, False]
    with pytest.raises(SheetError, match="cases b, c"):
        sheet.check({"dy/dw": 2})


def test_check_accepts_a_path(tmp_path):
    assert check(write(tmp_path, RELU)).ok


# --- the command -----------------------------------------------------------------------------


def test_exit_status_is_0_when_right_and_1_when_wrong(tmp_path, capsys):
    assert run_cli(capsys, write(tmp_path, RELU))[0] == 0
    status, out, err = run_cli(capsys, write(tmp_path, RELU.replace('"dy/dw" = 2', '"dy/dw" = 3')))
    assert status == 1 and "first wrong gradient in backward order: dy/dw" in out and err == ""


def test_json_output_is_machine_readable(tmp_path, capsys):
    status, out, _ = run_cli(capsys, write(tmp_path, RELU.replace('"dy/db" = 1', '"dy/db" = 0')), "--json")
    data = json.loads(out)
    assert status == 1 and [a["key"] for a in data["cases"][0]["answers"] if not a["ok"]] == ["dy/db"]


def test_json_reports_an_invalid_sheet_too(tmp_path, capsys):
    status, out, err = run_cli(capsys, write(tmp_path, RELU.replace('"relu(z)"', '"relu(q)"')), "--json")
    assert status == 2 and "unknown name 'q'" in err
    data = json.loads(out)
    assert (data["ok"], data["key"], data["line"]) == (False, "graph.y", 11) and "unknown name 'q'" in data["error"]


def test_solve_prints_every_value_and_gradient(tmp_path, capsys):
    status, out, _ = run_cli(capsys, SHEETS[0].with_name("relu_perceptron.toml"), "--solve")
    assert status == 0
    for line in ("dy/dw = dy/dz · dz/dw = 1 · 2 = 2", "dy/dw = dy/dz · dz/dw = 0 · 2 = 0", "dy/dx = dy/dz · dz/dx = 0 · (-1) = 0"):
        assert line in out
    status, out, _ = run_cli(capsys, write(tmp_path, RELU), "--solve", "--json")
    data = json.loads(out)
    assert data["cases"][0]["gradients"] == {"dy/dx": 1.0, "dy/dw": 2.0, "dy/db": 1.0, "dy/dz": 1.0, "dy/dy": 1.0}


def test_svg_highlights_the_wrong_answers(tmp_path, capsys):
    sheet = write(tmp_path, RELU.replace('"dy/dw" = 2', '"dy/dw" = 3'))
    source = loads(sheet.read_text()).check().draw().source
    assert "dy/dw: you wrote 3, correct 2" in source
    if shutil.which("dot") is None:
        pytest.fail("Graphviz's dot is needed to draw (./run test installs it)")
    status, out, err = run_cli(capsys, sheet, "--svg", tmp_path / "out.svg")
    assert status == 1 and err == ""
    assert (tmp_path / "out.svg").read_text().lstrip().startswith(("<?xml", "<svg"))
    status, _, _ = run_cli(capsys, SHEETS[0].with_name("relu_perceptron.toml"), "--svg", tmp_path / "r.svg")
    assert status == 0 and (tmp_path / "r-1.svg").exists() and (tmp_path / "r-2.svg").exists()


def test_svg_never_writes_over_a_file_and_the_grade_stands(dot, tmp_path, capsys):
    sheet = write(tmp_path, RELU.replace('"dy/dw" = 2', '"dy/dw" = 3'))
    kept = tmp_path / "out.svg"
    kept.write_text("last week's drawing", encoding="utf-8")
    status, out, err = run_cli(capsys, sheet, "--svg", kept)
    assert status == 1 and "wrong" in out  # graded all the same
    assert kept.read_text(encoding="utf-8") == "last week's drawing"
    assert "did not save the drawing" in err and "already exists" in err
    several = SHEETS[0].with_name("relu_perceptron.toml")
    (tmp_path / "r-2.svg").write_text("mine", encoding="utf-8")
    status, _, err = run_cli(capsys, several, "--svg", tmp_path / "r.svg")
    assert "r-2.svg" in err and not (tmp_path / "r-1.svg").exists()  # all or nothing
    assert (tmp_path / "r-2.svg").read_text(encoding="utf-8") == "mine"


# --- bad sheets: exit status 2 and one clear line, never a traceback ----------------------------

BAD = {
    "invalid TOML": ("x = = 2\n", r"not valid TOML: .*line 1"),
    "empty": ("", r"the sheet is empty"),
    "only comments": ("# nothing here\n", r"the sheet is empty"),
    "unknown key": (RELU.replace("[graph]", "[grpah]"), r"line 9: grpah: unknown key 'grpah' \(did you mean 'graph'\?\)"),
    "unknown case key": ("[graph]\ny = \"x*2\"\n[[cases]]\ninput = {x = 1}\n",
                         r"line 4: cases\[1\]\.input: unknown key 'input'"),
    "undefined name in a step": (RELU.replace('"w*x + b"', '"w*x + q"'),
                                 r"line 10: graph\.z: column 7: unknown name 'q'"),
    "undefined name in an answer": (RELU.replace('"dy/db"', '"dy/dq"'),
                                    r"line 16: answers\.\"dy/dq\": 'q' is neither an input nor a step"),
    "undefined name in a formula answer": (RELU.replace('"dy/dz" = "1"', '"dy/dz" = "v"'),
                                           r"line 17: .*a formula here may use only .*; 'v' is not one of them"),
    "a local derivative of a step that does not use the name": (RELU.replace('"dy/db"', '"∂z/∂y"'),
                                                                 r"z does not use y directly"),
    "a cycle between steps": (RELU.replace('"w*x + b"', '"w*x + y"'), r"cycle between steps: z → y → z"),
    "a step using itself": (RELU.replace('"w*x + b"', '"w*z + b"'), r"cycle between steps: z → z"),
    "no graph": ("[inputs]\nx = 1\n", r"missing output"),
    "an empty graph": ("[inputs]\nx = 1\n[graph]\n", r"line 3: graph: missing output"),
    "an output that is not a step": (RELU.replace("tolerance", 'output = "q"\ntolerance'), r"output: missing output: 'q'"),
    "an output that is not a string": (RELU.replace("tolerance", 'output = ["y"]\ntolerance'),
                                       r"line 2: output: must be the name of a step in quotes, such as \"y\", got an array"),
    "log of a negative number": (RELU.replace('"relu(z)"', '"log(z - 5)"'),
                                 r"line 11: graph\.y: column 1: log\(z - 5\): log: the input must be > 0, got -2\.0; with z = 3"),
    "a formula answer outside its domain": (RELU.replace('"dy/dz" = "1"', '"dy/dz" = "log(-x)"'),
                                            r"answers\.\"dy/dz\": 'log\(-x\)' cannot be computed.*must be > 0"),
    "a value that overflows": (RELU.replace('"relu(z)"', '"exp(z * 200) * exp(z * 200)"'),
                                r"graph\.y: .*mul.* overflows a float.*; with z = 3"),  # the engine names the op (issue 13)
    "a huge integer input": (RELU.replace("x = 2", "x = " + "9" * 400), r"inputs\.x: .*finite"),
    "a huge integer answer": (RELU.replace("y = 3", "y = " + "9" * 400), r"answers\.y: the number .* too large"),
    "attribute access": (RELU.replace('"relu(z)"', '"z.real"'), r"graph\.y: column 2: attribute access"),
    "an import": (RELU.replace('"relu(z)"', "\"__import__('os')\""), r"graph\.y: column 12: strings are not allowed"),
    "an unknown function": (RELU.replace('"relu(z)"', '"sin(z)"'), r"unknown function 'sin'"),
    "a string input": (RELU.replace("x = 2", 'x = "2"'), r"inputs\.x: an input's value must be a number"),
    "a nan input": (RELU.replace("x = 2", "x = nan"), r"inputs\.x: .*finite"),
    "an unused input": (RELU.replace("b = 1", "b = 1\nq = 3"), r"inputs\.q: the input 'q' is not used"),
    "an input that is also a step": (RELU.replace("b = 1", "b = 1\nz = 3"), r"both an input and a step"),
    "a step named like a function": (RELU.replace("y = \"relu(z)\"", "exp = \"relu(z)\""), r"name of a function"),
    "a step that only renames": (RELU.replace('"relu(z)"', '"(z)"'), r"only repeats 'z'"),
    "the same answer twice": (RELU + '"dy/dz " = 1\n', r"the same answer as 'dy/dz'"),
    "a boolean answer": (RELU.replace("y = 3", "y = true"), r"answers\.y: an answer must be a number, or a formula in quotes, got a boolean"),
    "a bad tolerance": (RELU.replace("1e-4", "-1"), r"tolerance: must be a positive number"),
    "answers beside cases": (RELU + "[[cases]]\nname = 'b'\n", r"answers belong to each case"),
    "no answers": (RELU.split("[answers]")[0], r"no answers to check"),
    "an expression nested 10,000 deep": (RELU.replace('"relu(z)"', '"' + "(" * 10_000 + "z" + ")" * 10_000 + '"'),
                                         r"graph\.y: the expression is 20,001 characters long"),
    "an expression nested 1,000 deep": (RELU.replace('"relu(z)"', '"' + "exp(" * 1_000 + "z" + ")" * 1_000 + '"'),
                                        r"graph\.y: column 260: parentheses nest deeper than 64 levels"),
    "TOML nested 10,000 deep": ("title = " + "[" * 10_000 + "]" * 10_000 + "\n", r"nest too deeply|not valid TOML"),
}


@pytest.mark.parametrize("text, message", BAD.values(), ids=BAD.keys())
def test_a_bad_sheet_exits_2_with_one_clear_line(tmp_path, capsys, text, message):
    status, out, err = run_cli(capsys, write(tmp_path, text))
    assert status == 2 and out == ""
    assert err.startswith("gradflow check: ") and err.count("\n") == 1, err
    assert re.search(message, err), err
    assert "Traceback" not in err


def test_a_10_mb_file_is_refused_before_it_is_read(tmp_path, capsys):
    path = tmp_path / "huge.toml"
    with open(path, "w") as f:
        f.write("# padding\n" * 1_000_000)
    status, _, err = run_cli(capsys, path)
    assert status == 2 and "the file is 10.0 MB; a sheet may be at most 1 MB" in err
    with pytest.raises(SheetError, match="million characters"):
        loads("#" * 10_000_000)


def test_sheets_with_too_many_steps_or_cases_are_refused():
    many_steps = "[inputs]\nx = 1\n[graph]\n" + "".join(f's{i} = "x + {i}"\n' for i in range(exercise.MAX_STEPS + 1))
    with pytest.raises(SheetError, match="line 3: graph: has 1,001 steps; a sheet may have at most 1,000"):
        loads(many_steps)
    many_cases = '[graph]\ny = "x * 2"\n' + "[[cases]]\ninputs = { x = 1 }\n" * (exercise.MAX_CASES + 1)
    with pytest.raises(SheetError, match="line 3: cases: has 101 cases"):
        loads(many_cases)


def test_files_that_are_missing_binary_or_directories(tmp_path, capsys):
    (tmp_path / "bin.toml").write_bytes(b"\xff\xfe\x00title")
    for path, words in [(tmp_path / "nope.toml", "no such file"), (tmp_path / "bin.toml", "not UTF-8"),
                        (tmp_path, "is a directory")]:
        status, _, err = run_cli(capsys, path)
        assert status == 2 and words in err and "Traceback" not in err


def test_the_sheet_error_carries_the_key_and_line():
    with pytest.raises(SheetError) as info:
        loads(RELU.replace('"relu(z)"', '"relu(q)"'))
    assert (info.value.key, info.value.line) == ("graph.y", 11)


def test_the_installed_command_runs_the_checker(tmp_path):
    script = Path(sys.executable).with_name("gradflow")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "viz.cli"]
    bad = subprocess.run([*command, "check", str(write(tmp_path, "x = = 1"))], capture_output=True, text=True,
                         timeout=60)
    assert bad.returncode == 2 and "not valid TOML" in bad.stderr and "Traceback" not in bad.stderr
