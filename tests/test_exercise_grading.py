"""Grading you can trust: the strict tolerance, teacher keys and submissions, feedback modes, bulk grading."""

import csv
import json
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from viz.exercise import SheetError, Tolerance, loads
from viz.cli import main
from viz.exercise.numbers import fmt, significant

NEURON = """\
title = "sigmoid neuron"
[inputs]
x = 2
w = -3
b = 1
[graph]
z = "w*x + b"
y = "sigmoid(z)"
[answers]
{answers}
"""
KEY = NEURON.replace("{answers}", 'y = "sigmoid(z)"\n"dy/dz" = "y*(1-y)"\n"dy/dw" = "y*(1-y)*x"\n"dy/db" = "y*(1-y)"')

# Five sigmoid layers: the true gradient of a5 with respect to w1 is 4.7e-4, the vanishing gradient.
DEEP = """\
[inputs]
x = 1
w1 = 2
w2 = 2
w3 = 2
w4 = 2
w5 = 2
[graph]
a1 = "sigmoid(w1*x)"
a2 = "sigmoid(w2*a1)"
a3 = "sigmoid(w3*a2)"
a4 = "sigmoid(w4*a3)"
a5 = "sigmoid(w5*a4)"
[answers]
{answers}
"""


def verdict(template, line):
    return loads(template.replace("{answers}", line)).check().cases[0].rows[0].ok


# --- the strict tolerance --------------------------------------------------------------------


@pytest.mark.parametrize("line, right", [
    ('"dy/dz" = 0.0066', True),     # 0.00664806 to the two digits written
    ('"dy/dz" = 0.00665', True),
    ('y = 0.0067', True),
    ('y = 0.006', False),           # 0.00669: 10% off, one digit written
    ('"dy/dz" = 0.0057', False),    # 0.00665: 14% off
    ('"dy/dw" = 0.0123', False),    # 0.0133: 7.5% off
    ('"dy/dw" = 0.0133', True),
    ('"dy/dw" = "0.0133"', True),   # a number in quotes keeps its digits
    ('"dy/dw" = -0.0133', False),
])
def test_the_sigmoid_neuron_verdicts(line, right):
    assert verdict(NEURON, line) is right


@pytest.mark.parametrize("line, right", [('"da5/dw1" = 0', False), ('"da5/dw1" = 0.00', False),
                                         ('"da5/dw1" = 4.7e-4', True), ('"da5/dw1" = 0.00047', True)])
def test_a_vanishing_gradient_is_not_zero(line, right):
    assert verdict(DEEP, line) is right


@pytest.mark.parametrize("given, text, correct, right", [
    (0.0066, "0.0066", 0.00664806, True), (0.15, "0.15", 0.149467, True), (-0.2, "-0.20", -0.1966, True),
    (-22.0, "-22", -22.0, True), (0.006, "0.006", 0.00669, False), (0.0057, "0.0057", 0.00665, False),
    (0.0123, "0.0123", 0.0133, False), (0.0, "0", 4.9e-4, False), (0.0, "0.00", 4.9e-4, False),
    (-0.2, "-0.2", -0.1966, False),  # one digit written: only the 1% rule applies
    (1e-12, "1e-12", 0.0, True), (1e-6, "1e-6", 0.0, False),
])
def test_the_rule_on_the_issues_cases(given, text, correct, right):
    assert Tolerance().accepts(given, text, correct, 1.0) is right


def test_significant_digits_are_read_from_the_text():
    assert significant("0.0066") == (2, -4)
    assert significant("-0.20") == (2, -2)
    assert significant("100") == (1, 2)
    assert significant("1.50e2") == (3, 0)
    assert significant("x") is None


def test_the_written_digits_of_a_toml_number_are_kept():
    sheet = loads(NEURON.replace("{answers}", '"dy/dz" = -0.20'))
    assert sheet.cases[0].answers[0].text == "-0.20"


def test_a_sheet_sets_the_tolerance_globally_and_per_answer():
    loose = NEURON.replace("[inputs]", "tolerance = {rel = 0.2}\n[inputs]")
    assert verdict(loose, '"dy/dz" = 0.0057')
    per = NEURON.replace("[inputs]", '[tolerance]\n"dy/dw" = {rel = 0.1}\n[inputs]')
    sheet = loads(per.replace("{answers}", '"dy/dz" = 0.0057\n"dy/dw" = 0.0123'))
    assert [r.ok for r in sheet.check().cases[0].rows] == [False, True]
    with pytest.raises(SheetError, match="tolerance.rel: must be a number ≥ 0"):
        loads(NEURON.replace("[inputs]", "tolerance = {rel = -1}\n[inputs]").replace("{answers}", "y = 1"))


def test_the_report_states_the_rule():
    text = loads(NEURON.replace("{answers}", "y = 0.006")).check().text()
    assert "rule: right when within 1% of the correct value or equal to it rounded to the significant digits written" in text
    old = loads(NEURON.replace("[inputs]", "tolerance = 1e-3\n[inputs]").replace("{answers}", "y = 0.006")).check()
    assert old.ok and "old single-number tolerance" in old.text()


# --- keys and submissions --------------------------------------------------------------------


def test_unanswered_items_are_counted():
    key = loads(KEY)
    g = key.grade({"y": 0.0067})
    assert (g.score, g.max_score) == (1, 4)
    assert [i.status for i in g.items] == ["right", "missing", "missing", "missing"]
    blank = loads(NEURON.replace("{answers}", "y = 0.0067").replace("[inputs]", 'items = ["y", "dy/dw"]\n[inputs]'))
    report = blank.check()
    assert not report.ok and "1 of 2 answers right (1 not answered)" in report.text()


def test_points_and_ignored_answers():
    key = loads(KEY + '[points]\n"dy/dw" = 3\n')
    g = key.grade({"dy/dw": "0.0133", "dy/dq": 1, "nonsense": 2}, student="ada")
    assert (g.score, g.max_score) == (3, 6)
    assert g.ignored == ["dy/dq", "nonsense"]
    assert "ignored (the key does not ask for them): dy/dq, nonsense" in g.feedback("exam")


def test_the_graph_always_comes_from_the_key(tmp_path):
    # A submission that rewrites w*x as 0.5*w*x to make a wrong dy/dw right is graded with the key's graph.
    (tmp_path / "key.toml").write_text(KEY, encoding="utf-8")
    (tmp_path / "s.toml").write_text('student = "eve"\n[graph]\nz = "0.5*w*x + b"\n[answers]\n"dy/dw" = 0.0066\n',
                                     encoding="utf-8")
    status = main(["grade", str(tmp_path / "key.toml"), str(tmp_path / "s.toml"), "--csv", str(tmp_path / "g.csv")])
    assert status == 0
    rows = list(csv.DictReader(open(tmp_path / "g.csv", encoding="utf-8")))
    assert rows[0]["score"] == "0" and "the file's [graph] differs from the key's; graded with the key's" in rows[0]["note"]


def test_the_api_refuses_bad_answers_clearly():
    key = loads(KEY)
    with pytest.raises(TypeError, match="an answer's key must be a str"):
        key.grade({None: 1})
    with pytest.raises(TypeError, match="answers must be a dict"):
        key.grade([1, 2])
    with pytest.raises(SheetError, match=r"answers given to check.*answer's key must be a string"):
        key.check({None: 1})


# --- feedback --------------------------------------------------------------------------------


def _secret_numbers(key, student=""):
    s = key.solution_for(student)
    secret = [v for n, v in s.values.items() if n in key.steps] + list(s.grads.values())
    secret += [s.correct(a) for a in s.case.answers]
    return [v for v in secret if v not in (0, 1, -1)]


def _formats(v):
    out = {fmt(v), repr(v), f"{v:.2g}", f"{v:.3g}", f"{v:.4g}", f"{v:.2e}", f"{v:.3e}", fmt(-v)}
    if abs(v) >= 0.01:
        out |= {f"{v:.2f}", f"{v:.3f}", f"{v:.4f}"}
    return {x.replace("-", "−") for x in out} | out


@pytest.mark.parametrize("answers", [
    {"y": 0.006, "dy/dz": 0.0057, "dy/dw": "y*(1-y)*w"},
    {"y": 0.0067, "dy/dz": -0.0066, "dy/dw": 0.0066, "dy/db": 0.0133},
    {"dy/dw": 1, "dy/db": -1},
])
def test_exam_feedback_never_shows_a_correct_or_intermediate_value(answers):
    key = loads(KEY)
    text = key.grade(answers, student="s1").feedback("exam")
    for v in _secret_numbers(key):
        for shown in _formats(v):
            assert shown not in text, (shown, text)
    assert "wrong" in text
    tutor = key.grade(answers, student="s1").feedback("tutor")
    assert "0.00664806" in tutor  # the tutor mode does show the chain with numbers


def test_exam_feedback_names_the_kind_of_mistake():
    key = loads(KEY)
    text = key.grade({"dy/dw": 0.0066, "dy/db": -0.0066}).feedback("exam")
    assert "dy/dw: wrong (missing local derivative)" in text
    assert "dy/db: wrong (sign)" in text
    assert "dy/dz: missing" in text


def test_an_autograder_style_test_with_exam_feedback_only():
    # What an otter-grader or nbgrader test cell would hold: the assertion message is exam feedback.
    key = loads(KEY)
    student_answers = {"y": 0.0067, "dy/dz": 0.0066, "dy/dw": 0.0066, "dy/db": 0.0066}
    result = key.grade(student_answers, student="nb-user")
    with pytest.raises(AssertionError) as info:
        assert result.score == result.max_score, result.feedback("exam")
    message = str(info.value)
    assert "dy/dw: wrong (missing local derivative)" in message
    assert "0.0133" not in message and "0.0132961" not in message
    with pytest.raises(ValueError, match="mode must be 'tutor' or 'exam'"):
        result.feedback("teacher")


# --- gradflow grade --------------------------------------------------------------------------


def _class(tmp_path, n=6):
    (tmp_path / "key.toml").write_text(KEY, encoding="utf-8")
    subs = tmp_path / "subs"
    subs.mkdir()
    answers = ['y = 0.0067\n"dy/dz" = 0.0066\n"dy/dw" = 0.0133\n"dy/db" = 0.0066',
               'y = 0.0067\n"dy/dz" = 0.0066\n"dy/dw" = 0.0066',
               '"dy/dw" = 0.0066\n"dy/db" = "y*(1-y)"']
    for i in range(n):
        (subs / f"s{i}.toml").write_text(f'student = "s{i % 5}"\n[answers]\n{answers[i % 3]}\n', encoding="utf-8")
    (subs / "broken.toml").write_text("student = \n", encoding="utf-8")
    return tmp_path / "key.toml", subs


def test_grade_writes_the_gradebook_and_the_item_analysis(tmp_path, capsys):
    key, subs = _class(tmp_path)
    status = main(["grade", str(key), str(subs), "--csv", str(tmp_path / "book.csv"),
                   "--feedback-dir", str(tmp_path / "fb")])
    out, err = capsys.readouterr()
    assert status == 0
    rows = list(csv.reader(open(tmp_path / "book.csv", encoding="utf-8")))
    assert rows[0] == ["student", "score", "max_score", "y", "dy/dz", "dy/dw", "dy/db", "file", "note"]
    assert len(rows) == 1 + 7
    by_file = {r[7].rsplit("/", 1)[-1]: r for r in rows[1:]}
    assert by_file["s0.toml"][1:7] == ["4", "4", "1", "1", "1", "1"]
    assert by_file["s1.toml"][1:3] == ["2", "4"]
    assert by_file["broken.toml"][1] == "0" and "not valid TOML" in by_file["broken.toml"][8]
    assert "duplicate student id 's0'" in err and "duplicate id (2 submissions: " in by_file["s0.toml"][8]
    assert "7 submission(s), 6 graded, 1 invalid" in out
    assert re.search(r"dy/dw: 33% right; wrong: 0.0066 ×4 \(missing local derivative\)", out)
    feedback = sorted(p.name for p in (tmp_path / "fb").iterdir())
    assert "s0__s0.toml_.txt" in feedback and "s0__s5.toml_.txt" in feedback and "index.csv" in feedback
    assert "0.0132961" not in (tmp_path / "fb" / "s1.txt").read_text(encoding="utf-8")  # exam by default


def test_grade_json_and_exit_codes(tmp_path, capsys):
    key, subs = _class(tmp_path, 3)
    assert main(["grade", str(key), str(subs / "s1.toml"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)["grades"]
    assert data[0]["student"] == "s1" and data[0]["score"] == 2 and data[0]["items"][3]["status"] == "missing"
    bad = tmp_path / "bad.toml"
    bad.write_text("[inputs]\nx = 1\n", encoding="utf-8")
    assert main(["grade", str(bad), str(subs)]) == 2
    assert "the key is invalid" in capsys.readouterr().err
    assert main(["grade", str(key), str(tmp_path / "nothing-here.toml")]) == 0
    assert "no such file" in capsys.readouterr().out


def test_a_gradebook_cell_is_never_a_spreadsheet_formula(tmp_path):
    (tmp_path / "key.toml").write_text(KEY, encoding="utf-8")
    (tmp_path / "s.toml").write_text('student = "=HYPERLINK(1)"\n[answers]\ny = 0.0067\n', encoding="utf-8")
    main(["grade", str(tmp_path / "key.toml"), str(tmp_path / "s.toml"), "--csv", str(tmp_path / "b.csv")])
    assert list(csv.reader(open(tmp_path / "b.csv", encoding="utf-8")))[1][0] == "'=HYPERLINK(1)"


# --- the README shows real output ------------------------------------------------------------

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def _shown(command):
    block = README.split(f"$ {command}\n", 1)[1]
    return block.split("\n$ ", 1)[0].split("\n```", 1)[0]


def test_the_readmes_check_and_grade_output_is_real(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    section = README.split("## Checking a hand-derived exercise", 1)[1]
    (tmp_path / "sheet.toml").write_text(section.split("```toml\n", 1)[1].split("```", 1)[0], encoding="utf-8")
    assert main(["check", "sheet.toml", "--svg", "wrong.svg"]) == 1
    assert capsys.readouterr().out.rstrip("\n") == _shown("gradflow check sheet.toml --svg wrong.svg")

    (tmp_path / "key.toml").write_text(KEY.replace('"y*(1-y)', '"y * (1 - y)').replace("*x", " * x"), encoding="utf-8")
    subs = tmp_path / "submissions"
    subs.mkdir()
    for name, answers in (("ada", 'y = 0.0067\n"dy/dz" = 0.0066\n"dy/dw" = 0.013\n"dy/db" = 0.0066'),
                          ("bob", 'y = 0.0067\n"dy/dz" = 0.0066\n"dy/dw" = 0.0066'),
                          ("cy", 'y = 0.0067\n"dy/dz" = -0.0066\n"dy/dw" = -0.0133\n"dy/db" = 0.0066')):
        (subs / f"{name}.toml").write_text(f'student = "{name}"\n[answers]\n{answers}\n', encoding="utf-8")
    command = "gradflow grade key.toml submissions/ --csv gradebook.csv --feedback-dir feedback/"
    assert main(command.split()[1:]) == 0
    assert capsys.readouterr().out.rstrip("\n") == _shown(command)
    assert (tmp_path / "feedback" / "bob.txt").read_text(encoding="utf-8").rstrip("\n") == _shown("cat feedback/bob.txt")


@given(st.floats(1e-6, 1e6) | st.floats(-1e6, -1e-6), st.integers(2, 6))
def test_the_correct_value_rounded_to_any_digits_is_right_and_two_units_off_is_wrong(correct, digits):
    text = f"{correct:.{digits - 1}e}"
    assert Tolerance().accepts(float(text), text, correct, 1.0)
    unit = 10.0 ** (int(text.split("e")[1]) - (digits - 1))
    off_text = f"{float(text) + 2 * unit * (1 if correct > 0 else -1):.{digits - 1}e}"
    off = float(off_text)
    assert Tolerance().accepts(off, off_text, correct, 1.0) == (abs(off - correct) <= 0.01 * abs(correct))


def test_rounding_is_to_the_digits_written_not_to_the_place():
    assert not Tolerance().accepts(1000.0, "1.0e3", 989.0, 1.0)  # 989 to two digits is 990
    assert Tolerance().accepts(990.0, "9.9e2", 989.0, 1.0)


def test_a_submission_given_to_check_says_how_to_grade_it(tmp_path, capsys):
    path = tmp_path / "ada.toml"
    path.write_text('student = "ada"\n[answers]\ny = 1\n', encoding="utf-8")
    assert main(["check", str(path)]) == 2
    assert "this is a submission" in capsys.readouterr().err


def test_tutor_feedback_on_stdout_and_the_entry_point_hands_other_commands_on(tmp_path, capsys):
    key, subs = _class(tmp_path, 2)
    assert main(["grade", str(key), str(subs / "s1.toml"), "--feedback", "tutor"]) == 0
    out = capsys.readouterr().out
    assert "dy/dw: you wrote 0.0066; the correct value is 0.0132961" in out and "1 submission(s), 1 graded" in out
    assert main(["draw", "x*y", "--set", "x=2", "--set", "y=3"]) == 0
    assert "x×y" in capsys.readouterr().out
    with pytest.raises(SystemExit) as info:
        main(["grade", str(key)])
    assert info.value.code == 2 and "SUBMISSION" in capsys.readouterr().err
