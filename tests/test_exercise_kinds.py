"""Answer kinds, the common slips' hints, conventions, per-student numbers and handouts."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from viz.exercise import SheetError, load, loads
from viz.cli import main
from viz.exercise.handout import blank_toml, read_students
from viz.exercise.vary import inputs_for

SHEETS = Path(__file__).parent.parent / "notebooks" / "sheets"
GATES = SHEETS / "gates.toml"

NET = """\
[inputs]
x = 0.5
W1 = 0.8
W2 = -0.4
[graph]
z2 = "x * W1"
a2 = "sigmoid(z2)"
z3 = "a2 * W2"
a3 = "sigmoid(z3)"
J = "0.5 * (a3 - 1)**2"
[update]
lr = 0.5
momentum = 0.9
velocity = { W2 = 0.1 }
[answers]
"""


# --- answer kinds ----------------------------------------------------------------------------


def test_each_answer_kind_is_computed_and_graded():
    sheet = loads(NET)
    s = sheet.solutions[0]
    a2, a3, g_w2 = s.values["a2"], s.values["a3"], s.grads["W2"]
    rows = {r.key: r for r in sheet.check({
        "∂z3/∂W2": a2,                                  # local: the other input of the product
        "da3/dz2": a3 * (1 - a3) * -0.4 * a2 * (1 - a2),   # total, between two inner nodes
        "delta(z3)": (a3 - 1) * a3 * (1 - a3),          # the output's gradient at z3
        "v_W2": 0.9 * 0.1 + g_w2,
        "W2'": -0.4 - 0.5 * (0.9 * 0.1 + g_w2),
        "W1'": 0.8 - 0.5 * s.grads["W1"],               # no initial velocity: v' = g
    }).cases[0].rows}
    assert all(r.ok for r in rows.values()), {k: (r.given, r.correct) for k, r in rows.items()}
    assert [r.kind for r in rows.values()] == ["local", "total", "gradient", "velocity", "update", "update"]


def test_a_local_and_a_total_derivative_differ_where_a_name_is_used_twice():
    sheet = loads('[inputs]\nx = 3\n[graph]\nq = "x * x"\nf = "q * x"\n[answers]\n')
    rows = {r.key: r for r in sheet.check({"∂f/∂x": 9, "df/dx": 27, "∂q/∂x": 6, "dq/dx": 6}).cases[0].rows}
    assert all(r.ok for r in rows.values())
    assert rows["∂f/∂x"].kind == "local" and rows["df/dx"].kind == "gradient"


def test_kind_errors_say_what_is_allowed():
    with pytest.raises(SheetError, match="z2 does not use W2 directly; write dz2/dW2"):
        loads(NET + '"∂z2/∂W2" = 1\n')
    with pytest.raises(SheetError, match=r"no \[update\] table"):
        loads(NET.replace("[update]\nlr = 0.5\nmomentum = 0.9\nvelocity = { W2 = 0.1 }\n", "") + "\"W1'\" = 1\n")
    with pytest.raises(SheetError, match="update.momentum: must be in"):
        loads(NET.replace("momentum = 0.9", "momentum = 1.5"))


def test_solve_shows_every_kind():
    text = load(SHEETS / "three_layer_network.toml").solve().text()
    for piece in ("∂a4/∂W3 = 0.440416", "da4/dz2 = ", "v_W3 = momentum · v + g", "W3' = W3 − lr · v'"):
        assert piece in text


# --- hints for the common slips --------------------------------------------------------------


def hint(sheet, answers, key):
    row = next(r for r in sheet.check(answers).cases[0].rows if r.key == key)
    assert not row.ok
    return row.mistakes, " ".join(row.explanation)


def test_hint_max_split_half_and_half_without_a_tie():
    mistakes, text = hint(load(GATES), {"df/dz": 1.5}, "df/dz")
    assert mistakes == ("max",) and "with no tie, all of it goes to the larger input (z)" in text


def test_hint_the_wrong_input_of_a_product():
    mistakes, text = hint(load(GATES), {"df/dy": "3 * y"}, "df/dy")
    assert "product" in mistakes and "you multiplied by y itself" in text and "(here x = 3)" in text


def test_hint_sigma_prime_dropped():
    sheet = load(SHEETS / "three_layer_network.toml")
    mistakes, text = hint(sheet, {"dJ/dW2": "(a4 - y) * W3 * a2"}, "dJ/dW2")
    assert mistakes == ("sigmoid",) and "the σ in a3 was skipped" in text


def test_hint_a_wrong_variable():
    sheet = loads('[inputs]\nx1 = 2\nx2 = 3\nw1 = -1.5\nw2 = 0.5\n[graph]\nz = "w1*x1 + w2*x2"\ny = "tanh(z)"\n[answers]\n')
    mistakes, text = hint(sheet, {"dy/dw2": "(1 - y**2) * w1"}, "dy/dw2")
    assert mistakes == ("variable",) and "you used w1 where x2 belongs" in text


def test_hint_the_sign():
    mistakes, _ = hint(load(GATES), {"df/dx": 22}, "df/dx")
    assert "sign" in mistakes


def test_hint_a_missing_local_derivative():
    sheet = load(SHEETS / "relu_perceptron.toml")
    row = next(r for r in sheet.check({"b": {"dy/dw": 1}, "c": {}}).cases[0].rows if r.key == "dy/dw")
    assert row.mistakes == ("local",) and "multiply it by the local derivative dz/dw = 2" in row.explanation[-1]


def test_hint_one_branch_of_a_split():
    mistakes, text = hint(load(GATES), {"df/dx": -12}, "df/dx")
    assert mistakes == ("split",) and "only the path through" in text


def test_hint_an_upstream_error():
    mistakes, text = hint(load(GATES), {"df/ds": 2, "df/dq": 2}, "df/dq")
    assert mistakes == ("upstream",) and "follows correctly from your df/ds" in text


def test_exam_words_for_each_hint_carry_no_number():
    key = load(GATES)
    exam = key.grade({"df/dz": 1.5, "df/dy": "3 * -4", "df/dx": -12}).feedback("exam")
    assert "max routed wrongly" in exam and "wrong input of a product" in exam and "one branch of a split" in exam
    assert "(here x)" in exam and "x = 3" not in exam


# --- conventions -----------------------------------------------------------------------------


def test_relu_at_0_convention_changes_the_gradient_and_the_report_names_it():
    text = (SHEETS / "relu_at_zero.toml").read_text(encoding="utf-8")
    ones = loads(text)
    assert ones.check().ok and ones.solutions[0].grads["w"] == 2
    assert "convention: ReLU′(0) = 1" in ones.check().text()
    engine = loads(text.replace("conventions = { relu_at_0 = 1 }\n", ""))
    assert engine.solutions[0].grads["w"] == 0
    report = engine.check()
    assert not report.ok and "convention: ReLU′(0) = 0 (gradflow's; a sheet may say conventions = {relu_at_0 = 1})" in report.text()
    with pytest.raises(SheetError, match="conventions.relu_at_0: must be one of 0, 1"):
        loads(text.replace("relu_at_0 = 1", "relu_at_0 = 2"))


def test_no_convention_note_away_from_the_kink():
    assert "convention" not in load(SHEETS / "relu_perceptron.toml").check().text()


# --- per-student numbers ---------------------------------------------------------------------

VARY = """\
title = "vary"
[inputs]
x = 2
w = 1
b = 1
[vary]
x = {min = -3, max = 3, step = 1}
w = [-2, -1, 1, 2]
b = [-1, 0, 1]
[graph]
z = "w*x + b"
y = "relu(z)"
[answers]
y = 3
"dy/dw" = 2
"""


def test_draws_are_deterministic_and_avoid_the_kink():
    key = loads(VARY)
    seen = set()
    for i in range(200):
        inputs = inputs_for(key, f"student-{i}")
        assert inputs == inputs_for(loads(VARY), f"student-{i}")
        assert inputs["w"] * inputs["x"] + inputs["b"] != 0
        seen.add(tuple(inputs.values()))
    assert len(seen) > 20


def test_draws_do_not_depend_on_the_process():
    # A fresh interpreter with another hash seed draws the same numbers.
    code = ("from viz.exercise import loads; from viz.exercise.vary import inputs_for; import sys; "
            "print(inputs_for(loads(sys.stdin.read()), 'ada'))")
    outs = {subprocess.run([sys.executable, "-c", code], input=VARY, capture_output=True, text=True,
                           env={"PYTHONHASHSEED": seed, "PATH": "/usr/bin"}).stdout for seed in ("1", "2")}
    assert len(outs) == 1 and str(inputs_for(loads(VARY), "ada")) + "\n" in outs


def test_draws_avoid_zero_divisors_logs_and_max_ties():
    key = loads('[inputs]\nx = 1\nu = 1\n[vary]\nx = [-1, 0, 1]\nu = [1, 2]\n[graph]\n'
                'a = "log(x + 1)"\nm = "max(x, u)"\ny = "a / x + m"\n[answers]\ny = 1\n')
    for i in range(50):
        inputs = inputs_for(key, str(i))
        assert inputs["x"] == 1 and inputs["u"] == 2


def test_grading_uses_the_students_own_inputs():
    key = loads(VARY)
    inputs = inputs_for(key, "ada")
    z = inputs["w"] * inputs["x"] + inputs["b"]
    right = inputs["x"] if z > 0 else 0
    g = key.grade({"dy/dw": right, "y": max(z, 0)}, student="ada")
    assert g.score == 2, g.feedback("tutor")


def test_handout_writes_one_sheet_per_student(tmp_path, capsys):
    key = tmp_path / "key.toml"
    key.write_text(VARY.replace('title = "vary"', 'title = "<b>vary</b> & \\"co\\""'), encoding="utf-8")
    students = tmp_path / "class.csv"
    students.write_text('name,id\nAda,ada\nEve,"<script>x</script>"\n', encoding="utf-8")
    assert main(["handout", str(key), "--students", str(students), "-o", str(tmp_path / "out")]) == 0
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["_script_x__script_.html", "_script_x__script_.toml", "ada.html", "ada.toml", "index.csv"]
    ada = loads((tmp_path / "out" / "ada.toml").read_text(encoding="utf-8"))
    assert ada.cases[0].inputs == inputs_for(loads(key.read_text(encoding="utf-8")), "ada")
    assert not ada.cases[0].answers and list(ada.all_items.values()) == ["y", "dy/dw"]
    page = (tmp_path / "out" / "_script_x__script_.html").read_text(encoding="utf-8")
    assert "<script>" not in page and "&lt;script&gt;" in page and "&lt;b&gt;vary&lt;/b&gt;" in page
    drawn = page.split("<h2>The graph")[1].split("<h2>How answers are judged")[0]
    assert "<svg" in drawn and not re.search(r">\s*[-−]?\d+(\.\d+)?\s*<", drawn)  # no value is drawn
    md = main(["handout", str(key), "-o", str(tmp_path / "md"), "--format", "md"])
    assert md == 0 and "\\<b\\>vary\\</b\\>" in (tmp_path / "md" / "key.md").read_text(encoding="utf-8")


def test_student_lists(tmp_path):
    plain = tmp_path / "ids.txt"
    plain.write_text("# class A\nada\n\nbob\n", encoding="utf-8")
    assert read_students(plain) == ["ada", "bob"]
    dup = tmp_path / "dup.txt"
    dup.write_text("ada\nada\n", encoding="utf-8")
    with pytest.raises(SheetError, match="line 2: 'ada' is the same student as line 1"):
        read_students(dup)
    nocol = tmp_path / "x.csv"
    nocol.write_text("name,mail\nA,a@x\n", encoding="utf-8")
    with pytest.raises(SheetError, match="needs an 'id' or 'student' column"):
        read_students(nocol)


# --- the student copies shipped beside the keys ----------------------------------------------


@pytest.mark.parametrize("path", sorted(SHEETS.glob("*.toml")), ids=lambda p: p.stem)
def test_each_sheet_has_a_blank_copy_in_step_with_its_key(path):
    key = load(path)
    blank_path = SHEETS / "blank" / path.name
    assert blank_path.exists(), f"regenerate: gradflow handout {path} -o notebooks/sheets/blank"
    text = blank_path.read_text(encoding="utf-8")
    assert text == blank_toml(key), f"{blank_path} is out of step with its key: regenerate it"
    blank = loads(text)
    assert blank.all_items == key.all_items and all(not c.answers for c in blank.cases)
    assert [c.inputs for c in blank.cases] == [c.inputs for c in key.cases]


def test_hints_for_local_total_and_update_answers():
    sheet = loads(NET)
    s = sheet.solutions[0]
    rows = {r.key: r for r in sheet.check({
        "∂a3/∂z2": 1,                                   # refused below: a3 does not use z2 directly
    } if False else {
        "∂z3/∂a2": s.total("z3", "a2") if s.total("z3", "a2") != s.local["z3"]["a2"] else 0,
        "dJ/dz3": s.grads["z3"],
        "W2'": -0.4 + 0.5 * s.velocity("W2"),           # went up the gradient
        "W1'": 0.8 - s.grads["W1"],                     # lr forgotten
        "v_W2": s.grads["W2"],                          # momentum forgotten
    }).cases[0].rows}
    assert rows["W2'"].mistakes == ("update",) and "went up the gradient" in rows["W2'"].explanation[-1]
    assert rows["W1'"].mistakes == ("update",) and "learning rate is missing" in rows["W1'"].explanation[-1]
    assert rows["v_W2"].mistakes == ("update",) and "momentum is missing" in rows["v_W2"].explanation[-1]
    twice = loads('[inputs]\nx = 3\n[graph]\nq = "x * x"\nf = "q * x"\n[answers]\n')
    rows = {r.key: r for r in twice.check({"∂f/∂x": 27, "dq/dx": 6, "df/dq": 3}).cases[0].rows}
    assert rows["∂f/∂x"].mistakes == ("partial",) and "that is the total derivative df/dx" in rows["∂f/∂x"].explanation[-1]
    other = loads('[inputs]\nx = 3\n[graph]\nq = "x * x"\nf = "q * x"\ng = "f + q"\n[answers]\n')
    row = other.check({"df/dx": 9}).cases[0].rows[0]
    assert row.kind == "total" and row.mistakes == ("partial",) and "only the direct use of x in f" in row.explanation[-1]


def test_a_total_derivative_needs_a_path():
    with pytest.raises(SheetError, match="z2 does not depend on a3 \\(no path leads from a3 to z2\\)"):
        loads(NET + '"dz2/da3" = 0\n')
