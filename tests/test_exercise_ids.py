"""Student ids, their file names and the files a run writes; the draws a formula is checked at.

Pinned at each boundary, so that `./run mutants grader` finds every line held by a test.
"""

import hashlib
import os

import pytest

from viz.exercise import SheetError, loads
from viz.exercise.ids import MAX_ID, Writer, canonical, cell, file_names, problem, read_roster, same, shown
from viz.exercise.vary import branches, inputs_for, nearby


# --- ids -------------------------------------------------------------------------------------


def test_ids_compare_after_normalising():
    assert same("Ada", "ada\u200b") and not same("ada", "bob") and canonical(" ÅSA ") == "åsa"


def test_shown_escapes_and_bounds():
    assert shown("a\x1b[2J\u0007") == "a\\x1b[2J\\x07"
    assert shown("x" * (MAX_ID + 20)) == "x" * (MAX_ID + 20) and shown("x" * (MAX_ID + 21)) == "x" * (MAX_ID + 20) + "…"
    assert shown("abcdef", 3) == "abc…"


def test_an_id_problem_is_said():
    assert problem("") == problem(None) == "the id is empty"
    assert problem("x" * MAX_ID) == "" and "is 101 characters long; at most 100" in problem("x" * (MAX_ID + 1))


def _hex(student, n):
    return hashlib.sha256(canonical(student).encode()).hexdigest()[:n]


def test_file_names_are_readable_and_apart():
    names = file_names(["CON", "...", "com9", "com10", "lpt9", "lpt10", "x" * 100])
    assert names["CON"] == "student-" + _hex("CON", 6) and names["..."] == "student-" + _hex("...", 6)
    assert names["com9"] == "student-" + _hex("com9", 6) and names["lpt9"] == "student-" + _hex("lpt9", 6)
    assert names["com10"] == "com10" and names["lpt10"] == "lpt10" and names["x" * 100] == "x" * 60
    # "a b" would take "a_b-<6 hex>", which another id already is: it takes two more hex digits.
    clash = f"a_b-{_hex('a b', 6)}"
    assert file_names(["a b", "a_b", clash])["a b"] == f"a_b-{_hex('a b', 8)}"


def test_a_roster_csv_and_its_line_numbers(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("name,student\nAda,ada\nEve,\nBob,bob\nAda again,ADA\n", encoding="utf-8")
    ids, refused = read_roster(path)
    assert ids == ["ada", "bob"] and [n for n, _ in refused] == [3, 5]
    only_bad = tmp_path / "bad.txt"
    only_bad.write_text("x" * 101 + "\n", encoding="utf-8")
    assert read_roster(only_bad) == ([], [(1, read_roster(only_bad)[1][0][1])])
    empty = tmp_path / "empty.txt"
    empty.write_text("# nobody\n\n", encoding="utf-8")
    with pytest.raises(SheetError, match="no student ids found"):
        read_roster(empty)


def test_a_roster_of_ten_thousand_is_the_most(tmp_path):
    path = tmp_path / "r.txt"
    path.write_text("\n".join(f"s{i}" for i in range(10_000)) + "\n", encoding="utf-8")
    assert len(read_roster(path)[0]) == 10_000
    path.write_text("\n".join(f"s{i}" for i in range(10_001)) + "\n", encoding="utf-8")
    with pytest.raises(SheetError, match="10,001 students; at most 10,000"):
        read_roster(path)


def test_spreadsheet_formulas_are_quoted():
    assert [cell(x) for x in ("=1", "+1", "-1", "@A", "\tx", "\rx", "ok")] == ["'=1", "'+1", "'-1", "'@A", "'\tx", "'\rx", "ok"]


# --- writing only new files ------------------------------------------------------------------


def test_a_writer_makes_new_files_and_may_rewrite_its_own(tmp_path):
    w = Writer([tmp_path / "key.toml"])
    old = tmp_path / "old.txt"
    old.write_text("mine", encoding="utf-8")
    with pytest.raises(FileExistsError):
        w.write(old, "theirs")
    assert old.read_text(encoding="utf-8") == "mine"
    with pytest.raises(FileExistsError):
        w.write(tmp_path / "key.toml", "x")
    new = tmp_path / "new.txt"
    w.write(new, "one")
    w.write(new, "two")  # written in this run: may be written again
    assert new.read_text(encoding="utf-8") == "two" and sorted(p.name for p in tmp_path.iterdir()) == ["new.txt", "old.txt"]
    assert [why for _, why in w.taken([old, new, tmp_path / "key.toml", tmp_path / "free"])] == [
        "it exists already; this command writes only new files",
        "it is one of this run's inputs (the key, the roster or a submission)"]


def test_without_hard_links_a_file_is_still_created_only_once(tmp_path, monkeypatch):
    def no_links(src, dst):
        raise PermissionError("no hard links here")

    monkeypatch.setattr(os, "link", no_links)
    w = Writer()
    w.write(tmp_path / "a.txt", "one")
    assert (tmp_path / "a.txt").read_text(encoding="utf-8") == "one"
    with pytest.raises(FileExistsError):
        Writer().write(tmp_path / "a.txt", "two")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]



@pytest.mark.parametrize("existing, lines, more", [(0, 0, None), (5, 5, ""), (6, 5, " (and 1 more)"), (7, 5, " (and 2 more)")])
def test_a_refusal_names_the_first_five_taken_paths_and_counts_the_rest(tmp_path, capsys, existing, lines, more):
    paths = [tmp_path / f"out{i}.csv" for i in range(8)]
    for p in paths[:existing]:
        p.write_text("mine", encoding="utf-8")
    assert Writer().refuse("grade", paths, "choose other names") == bool(existing)
    err = capsys.readouterr().err.splitlines()
    assert len([e for e in err if "will not write" in e]) == lines
    if more is None:
        assert err == []
    else:
        assert err[-1] == f"gradflow grade: nothing written{more}; choose other names"

# --- the draws ------------------------------------------------------------------------------


SMOOTH = '[inputs]\nx = 2\nw = 0.1\nb = -30\n[graph]\ny = "sigmoid(w*x + b/100)"\n[answers]\ny = 0\n'


def test_nearby_draws_move_every_input_by_5_to_20_percent_both_ways():
    s = loads(SMOOTH).solutions[0]
    draws = nearby(s, "ada")
    assert len(draws) == 4
    moves = []
    for d in draws:
        for n, x in s.case.inputs.items():
            size = max(abs(x), 0.5)
            step = d.case.inputs[n] - x
            assert 0.05 * size <= abs(step) <= 0.2 * size + 1e-12, (n, x, step)
            moves.append(step / size)
    assert min(moves) < 0 < max(moves) and max(map(abs, moves)) > 1.5 * min(map(abs, moves))
    assert nearby(s, "ada")[0].case.inputs == draws[0].case.inputs != nearby(s, "bob")[0].case.inputs


@pytest.mark.parametrize("graph, inputs, item, formula", [
    ('y = "relu(w*x + b)"', "w = 1\nx = 2\nb = -1.8", "dy/dw", "x"),
    ('y = "leaky_relu(w*x + b, 0.1)"', "w = 1\nx = 2\nb = -1.8", "dy/dw", "x"),
    ('y = "leaky_relu(w*x + b, 0.1)"', "w = 1\nx = 2\nb = -2.2", "dy/dw", "0.1*x"),
    ('y = "elu(w*x + b)"', "w = 1\nx = 2\nb = -1.8", "dy/dw", "x"),
    ('y = "elu(w*x + b)"', "w = 1\nx = 2\nb = -2.05", "dy/dw", "x*exp(w*x + b)"),
    ('y = "max(a*x, b)"', "a = 1\nx = 2\nb = 1.9", "dy/da", "x"),
    ('y = "max(b, a*x)"', "a = 1\nx = 2\nb = 1.9", "dy/da", "x"),
    ('y = "max(a*x, b)"', "a = 1\nx = 2\nb = 2.1", "dy/db", "1"),
])
def test_a_formula_near_a_kink_is_checked_on_its_own_side(graph, inputs, item, formula):
    key = loads(f'formula = true\n[inputs]\n{inputs}\n[graph]\n{graph}\n[answers]\n"{item}" = 0\n')
    s = key.solutions[0]
    assert all(branches(d) == branches(s) for d in nearby(s, "ada")) and nearby(s, "ada")
    assert key.grade({item: formula}, student="ada").items[0].status == "right"


def test_a_leaky_relu_kink_is_never_drawn():
    key = loads('[inputs]\nx = 1\nw = 1\n[vary]\nx = [-1, 0, 1]\n[graph]\ny = "leaky_relu(w*x, 0.1)"\n[answers]\ny = 0\n')
    assert all(inputs_for(key, str(i))["x"] != 0 for i in range(40))


def test_a_key_whose_every_draw_is_degenerate_says_so():
    key = loads('[inputs]\nx = 0\n[vary]\nx = [0]\n[graph]\ny = "relu(x) * 2"\n[answers]\ny = 0\n')
    with pytest.raises(SheetError, match="no draw of 200 avoids a degenerate point \\(a ReLU sits on its kink\\)"):
        inputs_for(key, "ada")
