"""The rules that decide a verdict, each pinned at and just past its boundary.

Every test here is written to fail on one mutation of the grader (a dropped margin, a
flipped comparison, a rule skipped for one kind of answer) that its other tests let
through; `./run mutants grader` checks the lot.
"""

import math

import pytest

from viz.exercise import SheetError, Tolerance, loads
from viz.exercise.answers import Invalid, parse_key, read_given
from viz.exercise.grade import Grade
from viz.exercise.numbers import ZERO_FLOOR, is_number_text, significant

ONE = '[inputs]\nx = {x}\nw = 1\n[graph]\ny = "w*x"\n[answers]\ny = 0\n'
# y = sigmoid(w*x + b): dy/dz = 0.00664806
NEURON = '{head}\n[inputs]\nx = 2\nw = -3\nb = 1\n[graph]\nz = "w*x + b"\ny = "sigmoid(z)"\n[answers]\n"dy/dz" = 0\n'
UPDATE = '{head}\n[inputs]\nx = 1\nw = {w}\n[graph]\ny = "w*x"\n[update]\nlr = {lr}\n[answers]\n"w\'" = 0\n'


def status(key_text: str, answers: dict, item: int = 0) -> str:
    return loads(key_text).grade(answers).items[item].status


# --- the numbers as written ------------------------------------------------------------------


def test_a_number_in_quotes_keeps_its_digits():
    key = ONE.format(x=0.1966)
    assert status(key, {"y": "0.20"}) == "right"      # 1.7% off, but 0.1966 to two digits
    assert status(key, {"y": 0.2}) == "wrong"         # a bare 0.2 has one digit
    assert status(key, {"y": "0.21"}) == "wrong"
    assert read_given("0.20", None, None)[2] == "0.20"


def test_the_digits_rule_needs_two_digits_and_the_right_rounding():
    t = Tolerance()
    assert t.written(0.0066, "0.0066", 0.00664806) and not t.written(0.007, "0.007", 0.00664806)
    assert not t.written(0.0067, "0.0067", 0.00664806)  # 0.0066 to two digits, not 0.0067
    assert not t.written(0.0066, None, 0.00664806) and not t.written(0.0066, "", 0.00664806)
    assert significant("100") == (1, 2) and significant("1.00") == (3, -2) and significant("x") is None
    assert is_number_text(" -6.6e-3 ") and not is_number_text("e3") and not is_number_text(".")


# --- the sheet's tolerance -------------------------------------------------------------------


@pytest.mark.parametrize("given, right", [(0.0057, True), (0.00565, True), (0.0056, False), (0.0077, False)])
def test_an_abs_margin_is_honoured_to_its_edge(given, right):
    key = NEURON.format(head="tolerance = {abs = 0.001, digits = false}")
    assert (status(key, {"dy/dz": given}) == "right") is right  # |0.0057 − 0.00665| = 0.00095


@pytest.mark.parametrize("off, right", [(0.049, True), (0.0499, True), (0.051, False), (-0.051, False)])
def test_a_rel_margin_is_honoured_to_its_edge(off, right):
    key = NEURON.format(head="tolerance = {rel = 0.05, digits = false}")
    assert (status(key, {"dy/dz": 0.00664806 * (1 + off)}) == "right") is right


def test_digits_false_turns_the_digits_rule_off():
    key = ONE.format(x=0.1966)
    assert status(key, {"y": "0.20"}) == "right"
    assert status(key.replace("[inputs]", "tolerance = {digits = false}\n[inputs]"), {"y": "0.20"}) == "wrong"
    assert status(key.replace("[inputs]", "tolerance = {digits = false}\n[inputs]"), {"y": "0.1967"}) == "right"


def test_a_per_answer_tolerance_beats_the_sheets():
    key = NEURON.format(head='[tolerance]\n"dy/dz" = {rel = 0.2}')
    assert status(key, {"dy/dz": 0.0057}) == "right"   # 14% off
    assert status(NEURON.format(head=""), {"dy/dz": 0.0057}) == "wrong"


@pytest.mark.parametrize("given, right", [(3.0015, True), (2.9985, True), (3.0035, False)])
def test_the_legacy_tolerance_is_relative_above_one(given, right):
    key = ONE.format(x=3).replace("[inputs]", "tolerance = 1e-3\n[inputs]")
    assert (status(key, {"y": given}) == "right") is right
    small = ONE.format(x=0.001).replace("[inputs]", "tolerance = 1e-3\n[inputs]")
    assert status(small, {"y": 0.0019}) == "right" and status(small, {"y": 0.0021}) == "wrong"  # absolute below 1
    assert status(small, {"y": "0.0010"}) == "right" and not Tolerance(legacy=1e-3).written(0.001, "0.0010", 0.001)


def test_updated_weights_follow_the_digits_rule_and_the_step_margin():
    key = UPDATE.format(head="", w=0.8, lr=0.00331)   # w' = 0.8 − 0.00331 = 0.79669
    assert status(key, {"w'": "0.797"}) == "right"    # 0.79669 to three digits
    assert status(key, {"w'": "0.7967"}) == "right"
    assert status(key, {"w'": 0.7968}) == "wrong"     # 3% of the step off, 4 digits that are not it
    assert status(key, {"w'": 0.79672}) == "right"    # 1% of the step (0.0000331) is the margin
    assert status(key, {"w'": 0.79674}) == "wrong"


def test_an_update_under_the_legacy_tolerance_is_judged_on_the_weight():
    key = UPDATE.format(head="tolerance = 1e-3", w=3, lr=0.001)   # w' = 2.999
    assert status(key, {"w'": 2.999 * 1.0005}) == "right"    # 0.05% of w' off: within 1e-3 × 3
    assert status(key, {"w'": 2.999 * 1.0012}) == "wrong"


def test_the_zero_floor_scales_with_the_sheet():
    big = '[inputs]\nx = 5000\nw = 0\n[graph]\ny = "w*x"\n[answers]\n"dy/dx" = 0\n'   # largest value 5000
    assert status(big, {"dy/dx": 1e-7}) == "right"      # ≤ 1e-9 × 5000
    assert status(big, {"dy/dx": 1e-5}) == "wrong"
    small = big.replace("x = 5000", "x = 1")
    assert status(small, {"dy/dx": 1e-7}) == "wrong" and status(small, {"dy/dx": 5e-10}) == "right"
    assert Tolerance().accepts(ZERO_FLOOR * 2, None, 0.0, 2.0) and not Tolerance().accepts(ZERO_FLOOR * 2.1, None, 0.0, 2.0)


def test_non_finite_numbers_are_never_right():
    t = Tolerance(rel=1e9)
    assert not t.accepts(math.nan, None, 1.0, 1.0) and not t.accepts(1.0, None, math.nan, 1.0)
    assert not t.accepts(math.inf, None, 1.0, 1.0) and t.accepts(math.inf, None, math.inf, 1.0)


# --- what a submission is -------------------------------------------------------------------


def test_extra_answers_never_void_a_submission():
    key = ONE.format(x=2)
    g = loads(key).grade({"y": 2, "w'": 5, "dy/dq": 1, "nonsense": "?"})
    assert g.score == g.max_score == 1 and g.ignored == ["w'", "dy/dq", "nonsense"] and g.ok


def test_grade_ok_needs_every_item_right_and_no_error():
    key = loads(ONE.format(x=2) + '"dy/dw" = 2\n')
    assert key.grade({"y": 2, "dy/dw": 2}).ok
    assert not key.grade({"y": 2}).ok and not key.grade({"y": 3, "dy/dw": 2}).ok and not key.grade({}).ok
    assert not key.grade({"y": 2, "dy/dw": "two"}).ok
    assert not Grade(key, "x", None, error="unreadable").ok


def test_unknown_names_in_delta_and_mixed_notation_are_refused():
    steps = {"y": loads(ONE.format(x=2)).steps["y"]}
    assert isinstance(parse_key("delta(q)", "y", steps, ["x", "w", "y"]), str)
    assert "'q' is neither an input nor a step" in parse_key("delta(q)", "y", steps, ["x", "w", "y"])
    assert parse_key("delta(w)", "y", steps, ["x", "w", "y"]) == ("gradient", "y", "w")
    for mixed in ("dy/∂w", "∂y/dw"):
        assert "written dA/dB (total) or ∂A/∂B (local)" in parse_key(mixed, "y", steps, ["x", "w", "y"])
    with pytest.raises(SheetError, match="neither an input nor a step"):
        loads(ONE.format(x=2) + '"delta(q)" = 1\n')
    with pytest.raises(SheetError, match="written dA/dB"):
        loads(ONE.format(x=2) + '"dy/∂w" = 1\n')


@pytest.mark.parametrize("given, why", [
    ("y", "'y' is a name"), (True, "got a boolean"), ([1], "got an array"), ("1/0", "cannot be computed"),
    ("-22x", "neither a number nor arithmetic"), ("nan", "'nan' is a name"), (math.nan, "not a finite number"),
    (math.inf, "not a finite number"), ("1e999", "not a finite number"),
    (10 ** 400, "too large for a float"), ("1" * 10_001, "at most 10,000"), ("1,5", "decimal comma"),
])
def test_each_unreadable_answer_says_why(given, why):
    with pytest.raises(Invalid, match=why):
        read_given(given, None, None, comma=False)


def test_a_decimal_comma_is_one_comma_between_digits():
    assert read_given("0,607", None, None)[0::3] == (0.607, "read '0,607' as 0.607 (a decimal comma)")
    assert read_given("-12,5", None, None)[0] == -12.5
    assert read_given("max(1,2)", None, None)[0::3] == (2.0, "")  # a comma between arguments
    for bad in ("1,000,5", ",5", "5,"):
        with pytest.raises(Invalid):
            read_given(bad, None, None)


def test_a_formula_may_use_only_the_names_given():
    assert read_given("2*x", None, {"x": 3.0})[:2] == (6.0, "2*x")
    with pytest.raises(Invalid, match="may use only x; 'w' is not one of them"):
        read_given("w*x", None, {"x": 3.0})
    assert read_given("2*3", None, None)[:2] == (6.0, "2*3")


# --- conventions, each choice ----------------------------------------------------------------

KINK = '[inputs]\nw = 1\nx = 2\nb = -2\n[graph]\nz = "w*x + b"\ny = "relu(z) * 3"\n[answers]\n"dy/dw" = 0\n"dy/db" = 0\n'
TIE = '[inputs]\na = 2\nb = 2\n[graph]\ny = "max(a, b) * 4"\n[answers]\n"dy/da" = 0\n"dy/db" = 0\n'


@pytest.mark.parametrize("choice, dw", [("", 0.0), ("relu_at_0 = 0", 0.0), ("relu_at_0 = 1", 6.0)])
def test_each_relu_at_0_choice(choice, dw):
    rows = loads(KINK.replace("[inputs]", f"conventions = {{{choice}}}\n[inputs]")).check().cases[0].rows
    assert [r.correct for r in rows] == [dw, dw / 2]


@pytest.mark.parametrize("choice, da, db", [("", 2.0, 2.0), ('max_tie = "half"', 2.0, 2.0), ('max_tie = "first"', 4.0, 0.0)])
def test_each_max_tie_choice(choice, da, db):
    rows = loads(TIE.replace("[inputs]", f"conventions = {{{choice}}}\n[inputs]")).check().cases[0].rows
    assert [r.correct for r in rows] == [da, db]
