"""A class graded with no hole to fall through: answers are numbers, each judged on its own, the
handout is the submission, no file is overwritten, every id gets its own file, rosters, Gradescope.

Each test here failed on the grader before these rules (see the grading-integrity issue).
"""

import csv
import json
from pathlib import Path

import pytest

from viz.exercise import SheetError, load, loads
from viz.cli import main
from viz.exercise.ids import canonical, file_names, normal, read_roster
from viz.exercise.vary import inputs_for

SHEETS = Path(__file__).parent.parent / "notebooks" / "sheets"
GATES = (SHEETS / "gates.toml").read_text(encoding="utf-8")
# Gates' items with the numbers right: q, m, s, f, df/ds, df/dq, df/dm, df/dz, df/dw, df/dy, df/dx.
RIGHT = {"q": -12, "m": 2, "s": -10, "f": -30, "df/ds": 3, "df/dq": 3, "df/dm": 3, "df/dz": 3, "df/dw": 0,
         "df/dy": 9, "df/dx": -22}
VARY = """\
title = "vary"
description = "y = relu(w*x + b)"
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
y = "relu(z)"
"dy/dw" = "x"
"""


def _toml(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _gates(**changes) -> object:
    return loads(GATES, "gates.toml") if not changes else loads(
        GATES.replace("[inputs]", "\n".join(f"{k} = {v}" for k, v in changes.items()) + "\n[inputs]"))


# --- answers are numbers ---------------------------------------------------------------------


def test_naming_a_node_scores_nothing():
    cheat = {"q": "q", "m": "m", "s": "s", "f": "f", "df/dx": "y*x + s", "df/dy": "x*x", "df/ds": "x"}
    g = _gates().grade(cheat, student="eve")
    assert g.score == 0 and {i.status for i in g.items if i.key in cheat} == {"invalid"}
    assert "'q' is a name" in g.feedback("exam")
    assert _gates().grade({"f": "s * x"}).score == 0  # the key's own step, pasted


def test_arithmetic_of_numbers_is_an_answer():
    g = _gates().grade({"df/dx": "2*3*(-4) + 2", "df/dy": "3*3", "q": "-3*4", "m": "max(2, -1)", "s": "-10.0"})
    assert g.score == 5


def test_a_formula_item_takes_the_inputs_only_and_must_hold_near_them():
    key = _gates(formula="true")
    right = key.grade({"df/dx": "2*x*y + z", "df/dy": "x*x", "q": "x*y", "df/dz": "x", "df/dw": "0"})
    assert right.score == 5, right.feedback("tutor")
    steps = key.grade({"df/dx": "y*x + s", "f": "s*x"})
    assert [i.status for i in steps.items if i.key in ("df/dx", "f")] == ["invalid", "invalid"]
    assert "may use only x, y, z, w; 's' is not one of them" in steps.feedback("exam")
    # -y - 1 is 3 = x at these inputs only: right here, wrong everywhere near.
    lucky = key.grade({"df/dq": "-y - 1"})
    item = next(i for i in lucky.items if i.key == "df/dq")
    assert item.status == "wrong" and item.mistakes == ("formula",)
    assert "holds at one point only" in lucky.feedback("exam")
    own = loads(VARY.replace("[inputs]", "formula = true\n[inputs]") + '"x" = 0\n')
    assert own.grade({"x": "x"}).items[-1].status == "invalid"  # never the item itself


def test_a_formula_is_judged_on_the_students_side_of_a_kink():
    key = loads(VARY.replace("[inputs]", 'formula = ["dy/dw"]\n[inputs]'))
    for student in ("ada", "bob", "cy", "dee", "eve", "fay"):
        inputs = inputs_for(key, student)
        on = inputs["w"] * inputs["x"] + inputs["b"] > 0
        g = key.grade({"dy/dw": "x" if on else "0"}, student=student)
        assert g.items[1].status == "right", (student, inputs)
        assert key.grade({"dy/dw": "x + w" if on else "x"}, student=student).items[1].status == "wrong"
    assert key.grade({"y": "relu(w*x + b)"}, student="ada").items[0].status == "invalid"  # y takes a number


def test_formula_lists_name_items_of_the_key():
    with pytest.raises(SheetError, match=r"formula: 'dy/dz' is not one of the items"):
        loads(VARY.replace("[inputs]", 'formula = ["dy/dz"]\n[inputs]'))
    with pytest.raises(SheetError, match="formula: must be true, false or an array"):
        loads(VARY.replace("[inputs]", "formula = 3\n[inputs]"))


# --- one bad answer costs one item -----------------------------------------------------------


@pytest.mark.parametrize("bad", ['"lots"', "true", '"-22x"', '"1/0"', '"nan"', "[1, 2]", "{a = 1}", '"log(-1)"'])
def test_one_unreadable_answer_costs_its_item_only(bad, tmp_path):
    key = _toml(tmp_path / "key.toml", GATES)
    lines = "\n".join(f'"{k}" = {v}' for k, v in RIGHT.items() if k != "df/dx")
    sub = _toml(tmp_path / "s.toml", f'student = "ada"\n[answers]\n{lines}\n"df/dx" = {bad}\n')
    assert main(["grade", str(key), str(sub), "--csv", str(tmp_path / "g.csv")]) == 0
    row = next(csv.DictReader(open(tmp_path / "g.csv", encoding="utf-8")))
    assert (row["score"], row["df/dx"], row["student"]) == ("10", "0", "ada")
    g = load(key).grade({**RIGHT, "df/dx": bad.strip('"') if bad.startswith('"') else bad == "true"})
    assert g.score == 10 and g.items[-1].status == "invalid" and g.items[-1].problem


def test_a_decimal_comma_is_read_and_said_unless_the_key_refuses_it():
    g = _gates().grade({"df/dx": "-22,0", "df/dy": "9"})
    assert g.score == 2 and "read '-22,0' as -22.0 (a decimal comma)" in g.feedback("exam")
    strict = _gates(decimal_comma="false").grade({"df/dx": "-22,0", "df/dy": "9"})
    assert strict.score == 1 and "has a decimal comma; this sheet takes a decimal point" in strict.feedback("exam")
    assert _gates().grade({"df/dx": "-22,000,1"}).items[-1].status == "invalid"


def test_an_item_given_twice_is_invalid_and_the_rest_counts():
    g = _gates().grade({**RIGHT, "delta(s)": 3})
    assert g.score == 10 and next(i for i in g.items if i.key == "df/ds").status == "invalid"
    assert "given twice, as 'df/ds' and 'delta(s)'" in g.feedback("exam")


def test_extra_top_level_keys_and_answers_never_void_a_submission(tmp_path, capsys):
    key = _toml(tmp_path / "key.toml", GATES)
    lines = "\n".join(f'"{k}" = {v}' for k, v in RIGHT.items())
    sub = _toml(tmp_path / "s.toml", f'student = "ada"\nname = "Jane"\n[answers]\n{lines}\n"w\'" = 3\n"df/dq2" = 1\n')
    assert main(["grade", str(key), str(sub), "--json"]) == 0
    g = json.loads(capsys.readouterr().out)["grades"][0]
    assert g["score"] == 11 and g["error"] is None
    assert g["ignored"] == ["w'", "df/dq2"] and any("'name'" in n for n in g["notes"])


def test_a_huge_integer_costs_one_file_not_the_class(tmp_path, capsys):
    key = _toml(tmp_path / "key.toml", GATES)
    subs = tmp_path / "subs"
    subs.mkdir()
    _toml(subs / "a.toml", 'student = "ada"\n[answers]\nq = -12\n')
    _toml(subs / "b.toml", 'student = "bob"\n[answers]\nq = ' + "9" * 5000 + "\n")
    assert main(["grade", str(key), str(subs), "--csv", str(tmp_path / "g.csv")]) == 0
    rows = {r["student"]: r for r in csv.DictReader(open(tmp_path / "g.csv", encoding="utf-8"))}
    assert rows["ada"]["score"] == "1" and rows["bob"]["score"] == "0" and "not a number a sheet can hold" in rows["bob"]["note"]
    capsys.readouterr()
    huge = _toml(tmp_path / "huge.toml", GATES.replace("x = 3", "x = " + "9" * 5000))
    assert main(["check", str(huge)]) == 2
    assert main(["handout", str(huge), "-o", str(tmp_path / "h")]) == 2
    assert main(["grade", str(_toml(tmp_path / "k2.toml", GATES + "[points]\nq = " + "9" * 5000 + "\n")), str(subs)]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_an_unreadable_file_keeps_its_id(tmp_path):
    key = _toml(tmp_path / "key.toml", GATES)
    sub = _toml(tmp_path / "s.toml", 'student = "ada"\n[answers\nq = -12\n')
    assert main(["grade", str(key), str(sub), "--csv", str(tmp_path / "g.csv")]) == 0
    row = next(csv.DictReader(open(tmp_path / "g.csv", encoding="utf-8")))
    assert row["student"] == "ada" and "not valid TOML" in row["note"]


# --- the handout is the submission -----------------------------------------------------------


def _filled(path: Path, answers: dict) -> str:
    text = path.read_text(encoding="utf-8")
    for k, v in answers.items():
        quoted = f'"{k}"' if "/" in k or "'" in k else k
        text = text.replace(f"# {quoted} =\n", f"{quoted} = {v}\n")
    return text


def test_a_filled_in_handout_is_a_submission(tmp_path):
    key = _toml(tmp_path / "key.toml", VARY)
    roster = _toml(tmp_path / "class.txt", "ada\nbob\n")
    assert main(["handout", str(key), "--students", str(roster), "-o", str(tmp_path / "h")]) == 0
    sheet = load(key)
    for student in ("ada", "bob"):
        inputs = inputs_for(sheet, student)
        z = inputs["w"] * inputs["x"] + inputs["b"]
        path = tmp_path / "h" / f"{student}.toml"
        path.write_text(_filled(path, {"y": max(z, 0), "dy/dw": inputs["x"] if z > 0 else 0}), encoding="utf-8")
    assert main(["grade", str(key), str(tmp_path / "h"), "--csv", str(tmp_path / "g.csv")]) == 0
    rows = list(csv.DictReader(open(tmp_path / "g.csv", encoding="utf-8")))
    assert [(r["student"], r["score"], r["note"]) for r in rows] == [("ada", "2", ""), ("bob", "2", "")]


def test_inputs_edited_in_a_handout_are_never_used_and_the_row_says_so(tmp_path):
    key = _toml(tmp_path / "key.toml", VARY)
    roster = _toml(tmp_path / "class.txt", "ada\n")
    main(["handout", str(key), "--students", str(roster), "-o", str(tmp_path / "h")])
    path = tmp_path / "h" / "ada.toml"
    mine = inputs_for(load(key), "ada")
    text = path.read_text(encoding="utf-8").replace(f"x = {int(mine['x'])}\n", f"x = {int(mine['x']) + 7}\n", 1)
    path.write_text(text.replace('fingerprint = "', 'fingerprint = "0'), encoding="utf-8")
    g = json.loads(_json_grade(key, path))["grades"][0]
    assert any("inputs differ from the key's for this id (x)" in n for n in g["notes"])
    assert any("another version of the key" in n for n in g["notes"])


def _json_grade(key, *subs) -> str:
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(["grade", str(key), *map(str, subs), "--json"]) == 0
    return buf.getvalue()


# --- nothing is overwritten ------------------------------------------------------------------


def test_handout_never_writes_over_the_key(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    _toml(tmp_path / "key.toml", GATES)
    assert main(["handout", "key.toml", "-o", "."]) == 2
    assert (tmp_path / "key.toml").read_text(encoding="utf-8") == GATES
    assert "is one of this run's inputs" in capsys.readouterr().err
    _toml(tmp_path / "class.txt", "ada\nkey\n")
    assert main(["handout", "key.toml", "--students", "class.txt", "-o", "."]) == 2
    assert (tmp_path / "key.toml").read_text(encoding="utf-8") == GATES and not (tmp_path / "ada.toml").exists()


def test_no_command_writes_over_a_file_it_did_not_make(tmp_path, capsys):
    key = _toml(tmp_path / "key.toml", GATES)
    sub = _toml(tmp_path / "s.toml", 'student = "ada"\n[answers]\nq = -12\n')
    (tmp_path / "fb").mkdir()
    _toml(tmp_path / "fb" / "ada.txt", "the teacher's notes")
    _toml(tmp_path / "book.csv", "last term")
    assert main(["grade", str(key), str(sub), "--feedback-dir", str(tmp_path / "fb")]) == 2
    assert main(["grade", str(key), str(sub), "--csv", str(tmp_path / "book.csv")]) == 2
    assert main(["grade", str(key), str(sub), "--csv", str(sub)]) == 2
    assert (tmp_path / "fb" / "ada.txt").read_text() == "the teacher's notes" and (tmp_path / "book.csv").read_text() == "last term"
    assert sorted(p.name for p in (tmp_path / "fb").iterdir()) == ["ada.txt"]
    assert "nothing written" in capsys.readouterr().err
    (tmp_path / "h").mkdir()
    _toml(tmp_path / "h" / "key.html", "<p>mine</p>")
    assert main(["handout", str(key), "-o", str(tmp_path / "h")]) == 2
    assert sorted(p.name for p in (tmp_path / "h").iterdir()) == ["key.html"]


def test_every_id_gets_its_own_handout(tmp_path, capsys):
    key = _toml(tmp_path / "key.toml", VARY)
    ids = ["a b", "a_b", "a/b", ".", "..", "student", "zoë", "Łukasz", "李雷"]
    roster = _toml(tmp_path / "class.txt", "\n".join(ids) + "\n")
    assert main(["handout", str(key), "--students", str(roster), "-o", str(tmp_path / "h")]) == 0
    index = list(csv.DictReader(open(tmp_path / "h" / "index.csv", encoding="utf-8")))
    assert [r["student"] for r in index] == ids
    files = [r["file"] for r in index]
    assert len(set(files)) == len(ids) and all((tmp_path / "h" / f).exists() for f in files)
    assert {"zoë.toml", "Łukasz.toml", "李雷.toml"} <= set(files)
    for r in index:  # each file carries its own student's inputs
        sheet = loads((tmp_path / "h" / r["file"]).read_text(encoding="utf-8"))
        assert sheet.cases[0].inputs == inputs_for(load(key), r["student"])
    assert f"wrote {len(ids)} sheet(s)" in capsys.readouterr().out


def test_a_bad_roster_line_is_refused_alone(tmp_path, capsys):
    key = _toml(tmp_path / "key.toml", VARY)
    roster = _toml(tmp_path / "class.txt", "ada\n" + "x" * 101 + "\nbob\nAda\nada\u200b\n")
    assert main(["handout", str(key), "--students", str(roster), "-o", str(tmp_path / "h")]) == 1
    err = capsys.readouterr().err
    assert "line 2: refused: the id" in err and "101 characters long" in err
    assert "line 4: refused: 'Ada' is the same student as line 1" in err and "line 5: refused" in err
    assert sorted(p.name for p in (tmp_path / "h").iterdir()) == ["ada.html", "ada.toml", "bob.html", "bob.toml", "index.csv"]


def test_feedback_files_never_overwrite_each_other(tmp_path):
    key = _toml(tmp_path / "key.toml", GATES)
    subs = tmp_path / "subs"
    subs.mkdir()
    for i, sid in enumerate(["x", "x", "x-2", "a b", "a_b", "a_b-2", "X"]):
        _toml(subs / f"s{i}.toml", f'student = "{sid}"\n[answers]\nq = {i}\n')
    assert main(["grade", str(key), str(subs), "--feedback", "tutor", "--feedback-dir", str(tmp_path / "fb")]) == 0
    index = list(csv.DictReader(open(tmp_path / "fb" / "index.csv", encoding="utf-8")))
    assert len(index) == 7 and len({r["file"] for r in index}) == 7
    texts = {(tmp_path / "fb" / r["file"]).read_text(encoding="utf-8") for r in index}
    assert len(texts) == 7  # each submission's own feedback


def test_duplicate_ids_are_flagged_after_normalising(tmp_path, capsys):
    key = _toml(tmp_path / "key.toml", GATES)
    _toml(tmp_path / "a.toml", 'student = "alice"\n[answers]\nq = -12\n')
    _toml(tmp_path / "b.toml", 'student = "Alice\\u200b"\n[answers]\nq = -12\n')
    assert main(["grade", str(key), str(tmp_path / "a.toml"), str(tmp_path / "b.toml"), "--csv", str(tmp_path / "g.csv")]) == 0
    rows = list(csv.DictReader(open(tmp_path / "g.csv", encoding="utf-8")))
    assert all("duplicate id (2 submissions" in r["note"] for r in rows)
    assert "duplicate student id" in capsys.readouterr().err


def test_terminal_escapes_in_an_id_are_never_printed_raw(tmp_path, capsys):
    key = _toml(tmp_path / "key.toml", GATES)
    sub = _toml(tmp_path / "s.toml", 'student = "eve\\u001b[2J\\u001b]52;c;aGk=\\u0007"\n[answers]\nq = -12\n')
    assert main(["grade", str(key), str(sub), "--feedback", "exam", "--feedback-dir", str(tmp_path / "fb")]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "eve" in out
    for p in (tmp_path / "fb").iterdir():
        assert "\x1b" not in p.read_text(encoding="utf-8")
    assert normal("eve\x1b[2J") == "eve[2J"


# --- roster, Gradescope, item analysis -------------------------------------------------------


def test_a_roster_gives_every_student_a_row(tmp_path, capsys):
    key = _toml(tmp_path / "key.toml", GATES)
    roster = _toml(tmp_path / "roster.csv", "name,id\nAda L,ada\nBob M,bob\n")
    _toml(tmp_path / "a.toml", 'student = "ADA"\n[answers]\nq = -12\n')
    _toml(tmp_path / "z.toml", 'student = "zed"\n[answers]\nq = -12\n')
    assert main(["grade", str(key), str(tmp_path / "a.toml"), str(tmp_path / "z.toml"), "--roster", str(roster),
                 "--csv", str(tmp_path / "g.csv")]) == 0
    rows = {r["student"]: r for r in csv.DictReader(open(tmp_path / "g.csv", encoding="utf-8"))}
    assert set(rows) == {"ADA", "bob", "zed"}
    assert rows["bob"]["score"] == "0" and rows["bob"]["note"] == "no submission"
    assert rows["zed"]["note"] == "not on the roster" and rows["ADA"]["score"] == "1" and rows["ADA"]["note"] == ""
    out, err = capsys.readouterr()
    assert "1 on the roster without a submission" in out and "1 submission(s) not on the roster: zed" in err


def test_gradescope_results_match_the_gradebook(tmp_path, capsys):
    key = _toml(tmp_path / "key.toml", GATES + "[points]\n\"df/dx\" = 3\n")
    sub = _toml(tmp_path / "s.toml", 'student = "ada"\n[answers]\nq = -12\n"df/dx" = -12\n"df/dy" = "x"\n')
    results = tmp_path / "results.json"
    assert main(["grade", str(key), str(sub), "--gradescope", str(results), "--csv", str(tmp_path / "g.csv")]) == 0
    data = json.loads(results.read_text(encoding="utf-8"))
    row = next(csv.DictReader(open(tmp_path / "g.csv", encoding="utf-8")))
    assert data["score"] == float(row["score"]) == sum(t["score"] for t in data["tests"]) == 1
    tests = {t["name"]: t for t in data["tests"]}
    assert len(tests) == 11 and tests["df/dx"]["max_score"] == 3 and tests["df/dx"]["status"] == "failed"
    assert "one branch of a split" in tests["df/dx"]["output"] and "-22" not in json.dumps(data)
    assert tests["df/dy"]["output"].startswith("df/dy: invalid answer")
    two = _toml(tmp_path / "t.toml", 'student = "bob"\n[answers]\n')
    assert main(["grade", str(key), str(sub), str(two), "--gradescope", str(tmp_path / "r2.json")]) == 2


def test_the_item_analysis_is_written_and_in_the_json(tmp_path, capsys):
    key = _toml(tmp_path / "key.toml", GATES)
    for i, v in enumerate(["-12", "-12", "12", '"q"']):
        _toml(tmp_path / f"s{i}.toml", f'student = "s{i}"\n[answers]\nq = {v}\n')
    subs = [str(tmp_path / f"s{i}.toml") for i in range(4)]
    assert main(["grade", str(key), *subs, "--items", str(tmp_path / "items.csv")]) == 0
    rows = {r["item"]: r for r in csv.DictReader(open(tmp_path / "items.csv", encoding="utf-8"))}
    q = rows["q"]
    assert (q["right"], q["wrong"], q["invalid"], q["missing"], q["share_right"]) == ("2", "1", "1", "0", "0.500")
    assert q["common_wrong"] == "12 ×1 (sign)" and rows["df/dx"]["missing"] == "4"
    capsys.readouterr()
    data = json.loads(_json_grade(key, *subs))
    assert data["items"][0]["item"] == "q" and data["items"][0]["invalid"] == 1


# --- stable numbers, hidden answers, stated rules --------------------------------------------


def test_draws_depend_only_on_what_decides_the_numbers():
    key = loads(VARY)
    retitled = loads("# a comment\n" + VARY.replace('title = "vary"', 'title = "Vary, fixed typo"')
                     .replace("y = relu(w*x + b)", "y = ReLU(w·x + b)"))
    assert key.fingerprint == retitled.fingerprint
    assert all(inputs_for(key, s) == inputs_for(retitled, s) for s in map(str, range(30)))
    reseeded = loads(VARY.replace('title = "vary"', 'title = "vary"\nseed = 2'))
    assert reseeded.fingerprint != key.fingerprint
    assert any(inputs_for(key, s) != inputs_for(reseeded, s) for s in map(str, range(30)))
    assert inputs_for(key, "Ada") == inputs_for(key, "ada") == inputs_for(key, " ada\u200b")


def test_check_hides_the_values_of_unanswered_items(tmp_path, capsys):
    path = tmp_path / "blank.toml"
    path.write_text((SHEETS / "blank" / "gates.toml").read_text(encoding="utf-8").replace("# q =", "q = -12"),
                    encoding="utf-8")
    assert main(["check", str(path)]) == 1
    out = capsys.readouterr().out
    assert "df/dx: not answered" in out and "-22" not in out and "-30" not in out and "1 of 11 answers right" in out
    assert main(["check", str(path), "--json"]) == 1
    rows = json.loads(capsys.readouterr().out)["cases"][0]["answers"]
    assert [r["correct"] for r in rows if r["status"] == "missing"] == [None] * 10
    assert main(["check", str(path), "--solve"]) == 0 and "-22" in capsys.readouterr().out


def test_every_handout_states_the_rules_and_conventions(tmp_path):
    key = _toml(tmp_path / "key.toml", GATES.replace("[inputs]", 'conventions = {max_tie = "first"}\n'
                                                                 'tolerance = {rel = 0.05}\n[inputs]'))
    for fmt_name in ("html", "md"):
        out = tmp_path / fmt_name
        assert main(["handout", str(key), "-o", str(out), "--format", fmt_name]) == 0
        for path in out.iterdir():
            text = path.read_text(encoding="utf-8").replace("\n# ", " ")
            assert "within 5% of the correct value" in text, path
            assert "At a tie, max sends the whole gradient to its first input" in text, path
    assert 'conventions = {max_tie = "first"}' in (tmp_path / "md" / "key.toml").read_text(encoding="utf-8")


def test_a_max_tie_can_go_to_the_first_input():
    tie = '[inputs]\na = 2\nb = 2\n[graph]\ny = "max(a, b) * 3"\n[answers]\n"dy/da" = 3\n"dy/db" = 0\n'
    assert loads(tie.replace("[inputs]", 'conventions = {max_tie = "first"}\n[inputs]')).check().ok
    half = loads(tie).check()
    assert not half.ok and [r.correct for r in half.cases[0].rows] == [1.5, 1.5]
    assert "At a tie, max splits the gradient half and half" in half.text()
    with pytest.raises(SheetError, match=r'max_tie: must be one of "half", "first"'):
        loads(tie.replace("[inputs]", 'conventions = {max_tie = "last"}\n[inputs]'))


MOMENTUM = """\
[inputs]
x = 0.5
w = 1.5
[graph]
y = "0.5 * (w * x - 1)**2"
[update]
lr = 0.5
momentum = 0.9
velocity = {w = 0.1}
{form}
[answers]
"dy/dw" = 0
"v_w" = 0
"w'" = 0
"""


def test_the_momentum_form_is_the_keys_and_stated():
    g = -0.125  # dy/dw = (w·x − 1)·x
    torch = loads(MOMENTUM.replace("{form}", "")).solutions[0]
    lecture = loads(MOMENTUM.replace("{form}", 'form = "lecture"')).solutions[0]
    assert torch.velocity("w") == pytest.approx(0.9 * 0.1 + g) and torch.updated("w") == pytest.approx(1.5 - 0.5 * (0.09 + g))
    assert lecture.velocity("w") == pytest.approx(0.9 * 0.1 + 0.5 * g) and lecture.updated("w") == pytest.approx(1.5 - (0.09 + 0.5 * g))
    assert "V' = 0.9·V + 0.5·g, then w' = w − V'" in lecture.sheet.update.rule()
    report = loads(MOMENTUM.replace("{form}", "").replace('"v_w" = 0', f'"v_w" = {0.09 + 0.5 * g}')).check()
    row = next(r for r in report.cases[0].rows if r.key == "v_w")
    assert not row.ok and "that is the lecture's form" in row.explanation[-1]


# --- ids -------------------------------------------------------------------------------------


def test_ids_are_normalised_and_named_apart():
    assert normal("ｓｔｕ\u200b\u0007 ") == "stu" and canonical("ÅSA") == canonical("åsa")
    names = file_names(["a b", "a_b", "a/b", "A_B", ".", "..", "student", "con"])
    assert len({n.casefold() for n in names.values()}) == 8 and names["a_b"] == "a_b"
    assert all(not n.startswith(".") for n in names.values())


def test_a_roster_keeps_its_good_lines(tmp_path):
    path = _toml(tmp_path / "r.txt", "ada\n\n# note\n" + "y" * 101 + "\nbob\n")
    ids, refused = read_roster(path)
    assert ids == ["ada", "bob"] and refused[0][0] == 4
