"""The rules that decide a verdict, each pinned at and just past its boundary.

Every test here is written to fail on one mutation of the grader (a dropped margin, a
flipped comparison, a rule skipped for one kind of answer) that its other tests let
through; `./run mutants grader` checks the lot.
"""

import math
from pathlib import Path

import pytest

from viz.exercise import SheetError, Tolerance, loads
from viz.exercise.answers import Invalid, parse_key, read_given
from viz.exercise.grade import Grade
from viz.exercise.numbers import ZERO_FLOOR, is_number_text, significant

GATES_TEXT = (Path(__file__).parent.parent / "notebooks" / "sheets" / "gates.toml").read_text(encoding="utf-8")
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


# --- hints: each fires where it should and nowhere else --------------------------------------

STEP = """\
[inputs]
x = 0.5
w = 1.5
[graph]
y = "0.5 * (w * x - 1)**2"
[update]
lr = 0.5
momentum = {mu}
velocity = {{w = 0.1}}
{form}
[answers]
"w'" = 0
"v_w" = 0
"""
G = -0.125  # dy/dw = (w·x − 1)·x


def hint(text: str, answers: dict, key: str) -> tuple:
    row = next(r for r in loads(text).check(answers).cases[0].rows if r.key == key)
    return row.mistakes, (row.explanation[-1] if row.explanation else "")


@pytest.mark.parametrize("form, v, slips", [
    ("", 0.9 * 0.1 + G, {                       # PyTorch: v' = μv + g, w' = w − lr·v'
        1.5 + 0.5 * (0.09 + G): "went up the gradient: subtract lr times the velocity v'",
        1.5 - (0.09 + G): "the learning rate is missing: subtract lr times the velocity v'",
        1.5 - 0.5 * G: "momentum is missing: the step uses the velocity"}),
    ('form = "lecture"', 0.9 * 0.1 + 0.5 * G, {  # the lecture: V' = μV + lr·g, w' = w − V'
        1.5 + (0.09 + 0.5 * G): "went up the gradient: subtract the velocity V'",
        1.5 - (0.09 + G): "the learning rate is missing: subtract the velocity V'",
        1.5 - 0.5 * G: "momentum is missing: the step uses the velocity"}),
])
def test_update_slips_in_each_momentum_form(form, v, slips):
    text = STEP.format(mu=0.9, form=form)
    assert loads(text).solutions[0].velocity("w") == pytest.approx(v)
    for given, said in slips.items():
        mistakes, why = hint(text, {"w'": given}, "w'")
        assert mistakes == ("update",) and said in why, (given, why)


@pytest.mark.parametrize("form, slips", [
    ("", {G: "momentum is missing: v' = momentum·v + g", 0.09 + 0.5 * G: "that is the lecture's form",
          0.09 - 0.5 * G: "the other momentum convention"}),
    ('form = "lecture"', {0.5 * G: "momentum is missing: V' = momentum·V + lr·g", 0.09 + G: "that is PyTorch's form"}),
])
def test_velocity_slips_in_each_momentum_form(form, slips):
    for given, said in slips.items():
        mistakes, why = hint(STEP.format(mu=0.9, form=form), {"v_w": given}, "v_w")
        assert mistakes == ("update",) and said in why, (given, why)


def test_without_momentum_the_step_is_lr_times_the_gradient():
    text = STEP.format(mu=0, form="").replace("velocity = {w = 0.1}\n", "")
    mistakes, why = hint(text, {"w'": 1.5 + 0.5 * G}, "w'")
    assert "subtract lr times the gradient" in why
    assert hint(text, {"w'": 1.5 - G}, "w'")[1].startswith("the learning rate is missing")


def test_a_sign_flip_is_named_for_every_kind_with_a_nonzero_value():
    net = '[inputs]\nx = 3\nw = 2\n[graph]\nq = "x - w"\nf = "q * q"\n[answers]\n'
    assert hint(net, {"∂q/∂w": 1}, "∂q/∂w")[0] == ("sign",)      # correct −1
    assert hint(net, {"dq/dx": -1}, "dq/dx")[0] == ("sign",)      # correct 1
    assert hint(net, {"df/dw": 2}, "df/dw")[0][0] == "sign"        # correct −2 (also df/dq alone)
    assert hint(net.replace("x = 3", "x = 2.5").replace("w = 2", "w = 3"), {"df/dq": 1}, "df/dq")[0][0] == "sign"
    assert hint(net, {"df/df": 2}, "df/df")[0] == ()              # the output's own gradient has no slip to name


def test_a_blocked_local_derivative_is_named():
    text = '[inputs]\nw = 1\nx = 2\nb = -3\n[graph]\nz = "w*x + b"\nr = "relu(z)"\ny = "r * 3"\n[answers]\n'
    mistakes, why = hint(text, {"dy/dz": 3}, "dy/dz")
    assert mistakes == ("local",) and "multiply it by the local derivative dr/dz = 0" in why


def test_a_product_slip_is_named_at_the_output_gate():
    mistakes, why = hint('[inputs]\nx = 3\nw = 2\n[graph]\ny = "w*x"\n[answers]\n', {"dy/dw": 2}, "dy/dw")
    assert mistakes == ("product",) and "you multiplied by w itself" in why


@pytest.mark.parametrize("c, named", [(0, False), (1, False), (-1, False), (5, True)])
def test_a_wrong_variable_is_named_unless_its_value_says_nothing(c, named):
    text = f'[inputs]\nx = 3\nw = 2\nc = {c}\n[graph]\ny = "(w*x + c) * 2"\n[answers]\n'
    mistakes, _ = hint(text, {"dy/dw": 2 * c}, "dy/dw")     # 2·c: c where x belongs
    assert ("variable" in mistakes) is named, mistakes


def test_a_max_split_in_half_is_named_with_the_winner():
    text = ('tolerance = {rel = 1e-12, digits = false}\n[inputs]\nz = 2\nw = 5\n[graph]\n'
            'm = "max(z, w)"\ny = "m * 4"\n[answers]\n')
    mistakes, why = hint(text, {"dy/dz": 2}, "dy/dz")       # 4 · ½ exactly
    assert mistakes == ("max",) and "all of it goes to the larger input (w)" in why


def test_a_dropped_tanh_or_sigmoid_is_named_only_on_the_path():
    tanh = '[inputs]\nx = 0.5\nw = 2\n[graph]\nz = "w*x"\nt = "tanh(z)"\ny = "t * 3"\n[answers]\n'
    s = loads(tanh).solutions[0]
    mistakes, why = hint(tanh, {"dy/dw": s.grads["w"] / s.local["t"]["z"]}, "dy/dw")
    assert mistakes == ("sigmoid",) and "the tanh in t was skipped" in why and "tanh′ = 1 − tanh²" in why
    off = '[inputs]\na = 0.3\nb = 2\nc = 4\nd = 3\n[graph]\ns = "sigmoid(a)"\ny = "s*b + c*d"\n[answers]\n'
    sig = loads(off).solutions[0].local["s"]["a"]
    assert "sigmoid" not in hint(off, {"dy/dc": 3 / sig}, "dy/dc")[0]


def test_a_formula_that_fails_near_the_students_inputs_is_wrong():
    key = loads(GATES_TEXT.replace("[inputs]", "formula = true\n[inputs]"))
    assert key.grade({"df/dz": "x + 0*(x - 3)**0.5"}).items[7].status == "wrong"  # undefined for x < 3
    g = key.grade({"q": "x*y + (x - 3)"})                                          # right at x = 3 only
    assert g.report.rows[0].mistakes == ("formula", "step")


# --- what the reports show --------------------------------------------------------------------


def test_rows_say_what_was_given():
    g = loads(GATES_TEXT).grade({"q": -12, "m": "m"})
    rows = {r.key: r for r in g.report.rows}
    assert (rows["q"].yours, rows["m"].yours, rows["s"].yours) == ("-12", "(invalid)", "(none)")
    assert not rows["m"].ok and not g.report.ok and [r.key for r in g.report.rows][:3] == ["q", "m", "s"]
    reordered = loads(GATES_TEXT).grade({"df/dx": -22, "q": -12})
    assert [r.key for r in reordered.report.rows][:2] == ["q", "m"]    # the key's order, not the answers'
    tutor = g.feedback("tutor")
    assert tutor.startswith("Gates: sum, product, max and split: (no id)\nscore 1 of 11\nrule: right when within 1%")
    assert "m: invalid answer: an answer here is a number" in tutor and "s: not answered\n" in tutor
    html = g.report._repr_html_()
    assert "<code>m</code>: invalid answer: an answer here is a number" in html and "<code>s</code>: not answered</p>" in html
    assert "<code>q</code>: you wrote" not in html
    data = g.report.to_dict()["answers"]
    assert [(d["given"], d["correct"], d["formula"]) for d in data[:3]] == [(-12, -12, None), (None, 2, None), (None, None, None)]
    assert loads(GATES_TEXT).grade({"q": "-3*4"}).report.to_dict()["answers"][0]["formula"] == "-3*4"
    assert g.to_dict()["items"][1]["problem"].startswith("an answer here is a number") and g.to_dict()["items"][0]["problem"] is None
    assert not g.report.highlight() and loads(GATES_TEXT).grade({"q": 12}).report.highlight()


def test_a_roster_row_without_a_submission_says_so():
    assert Grade(loads(GATES_TEXT), "ada", None, notes=["no submission"], absent=True).feedback("exam") == \
        "Gates: sum, product, max and split: ada\nnot graded: no submission"


def test_the_report_states_its_rule_and_serialises_it():
    text = STEP.format(mu=0.9, form="")
    report = loads(text).check({"w'": 1.5})
    assert "; for a parameter after a step, the 1% is of the step" in report.text()
    legacy = loads(ONE.format(x=2).replace("[inputs]", "tolerance = 1e-3\n[inputs]")).check()
    assert legacy.to_dict()["tolerance"] == 0.001
    assert loads(ONE.format(x=2)).check().to_dict()["tolerance"] == {"rel": 0.01, "abs": 0.0, "digits": True}
    assert '\n  "title": ' in report.to_json() and "’" not in report.to_json()
    assert "∂" in loads(ONE.format(x=2) + '"∂y/∂w" = 2\n').check().to_json()


def test_fmt_switches_to_an_exponent_at_1e15():
    from viz.exercise.numbers import fmt

    assert fmt(999999999999999.0) == "999999999999999" and fmt(1e15) == "1e+15" and fmt(-0.0) == "0"


# --- reading keys and answers ----------------------------------------------------------------


def test_key_shapes_that_are_not_what_they_look_like():
    steps = loads(ONE.format(x=2)).steps
    names = ["x", "w", "y"]
    assert parse_key("w" * 100, "y", steps, names) == "" and "at most 100" in parse_key("w" * 101, "y", steps, names)
    for key in ("q)", "delta(x", "wx", "q'", "v_q", "xv_w"):
        assert parse_key(key, "y", steps, names) == "", key
    assert parse_key("w'", "y", steps, names) == ("update", "", "w") and parse_key("v_w", "y", steps, names) == ("velocity", "", "w")


def test_a_key_problem_lists_what_may_be_asked():
    with pytest.raises(SheetError, match=r"NAME' or v_NAME \(after the \[update\] step\), for names among w, x, y"):
        loads(STEP.format(mu=0.9, form="").replace('"v_w" = 0', '"v_q" = 0'))
    with pytest.raises(SheetError, match=r"a local derivative\), for names among w, x, y"):
        loads(ONE.format(x=2) + '"v_q" = 0\n')
    with pytest.raises(SheetError, match="after an update step, but the sheet has no \\[update\\] table"):
        loads(ONE.format(x=2) + '"v_w" = 0\n')


def test_answer_lengths_at_their_limits():
    at_limit = " " + "1+" * 4999 + "1"        # 10,000 characters
    assert len(at_limit) == 10_000 and read_given(at_limit, None, None)[0] == 5000
    with pytest.raises(Invalid, match="at most 10,000"):
        read_given(at_limit + " ", None, None)
    assert read_given(10 ** 308, None, None)[0] == 1e308
    with pytest.raises(Invalid, match="too large for a float"):
        read_given(10 ** 309, None, None)
    answers = "\n".join(f"x{i} = {i}" for i in range(2000))
    inputs = "\n".join(f"x{i} = {i}" for i in range(2000))
    steps = "\n".join(f's{k} = "{"+".join(f"x{i}" for i in range(500 * k, 500 * k + 500))}"' for k in range(4))
    sheet = loads(f'[inputs]\n{inputs}\n[graph]\n{steps}\ny = "s0 + s1 + s2 + s3"\n[answers]\n{answers}\n')
    assert sheet.check().ok and len(sheet.cases[0].answers) == 2000


def test_a_bare_number_in_a_submission_keeps_its_written_digits(tmp_path):
    from viz.cli import main

    (tmp_path / "key.toml").write_text(ONE.format(x=0.1966), encoding="utf-8")
    (tmp_path / "s.toml").write_text('student = "ada"\n[answers]\ny = 0.20\n', encoding="utf-8")
    assert main(["grade", str(tmp_path / "key.toml"), str(tmp_path / "s.toml"), "--csv", str(tmp_path / "g.csv")]) == 0
    assert (tmp_path / "g.csv").read_text(encoding="utf-8").splitlines()[1].startswith("ada,1,1,")


def test_exact_boundaries_of_each_margin():
    assert Tolerance(rel=0.5, digits=False).accepts(1.5, None, 1.0, 1.0)
    assert Tolerance(rel=0.0, abs=0.5, digits=False).accepts(1.5, None, 1.0, 1.0)
    assert Tolerance(legacy=0.5).accepts(1.5, None, 1.0, 1.0)
    assert not Tolerance(rel=0.5, digits=False).accepts(1.5000001, None, 1.0, 1.0)


def test_one_slip_named_hides_the_gate_guesses():
    assert hint('[inputs]\nw = 2\nx = -2\n[graph]\ny = "w*x"\n[answers]\n', {"dy/dw": 2}, "dy/dw")[0] == ("sign",)
    split = '[inputs]\nx = 1\na = 3\nb = 2\n[graph]\np = "x*a"\nr = "x*b"\nf = "p + r"\n[answers]\n'
    assert hint(split, {"df/dx": 3}, "df/dx")[0] == ("split",)   # 3 is also b + x, a product slip


def test_the_outputs_own_gradient_names_no_dropped_sigmoid():
    text = '[inputs]\nz = 0.5\nw = 1\n[graph]\ny = "sigmoid(z*w)"\n[answers]\n'
    assert hint(text, {"dy/dy": 1 / loads(text).solutions[0].local["y"]["z"]}, "dy/dy")[0] == ()
    deeper = '[inputs]\nz = 0.5\nw = 2\n[graph]\nu = "z*w"\ny = "sigmoid(u) * 3"\n[answers]\n'
    mistakes, why = hint(deeper, {"dy/dz": 6}, "dy/dz")          # 3 · w, σ′ left out
    assert mistakes == ("sigmoid",) and "the σ in y was skipped" in why and "σ′ = σ·(1 − σ)" in why


def test_velocity_slips_need_momentum_and_read_a_missing_velocity_as_0():
    plain = STEP.format(mu=0, form='form = "lecture"').replace("velocity = {w = 0.1}\n", "")
    assert hint(plain, {"v_w": G}, "v_w")[0] == ()               # no momentum: no velocity slips
    two = STEP.format(mu=0.9, form="").replace("(w * x - 1)", "(w * x + b - 1)").replace("w = 1.5", "w = 1.5\nb = 0")
    g_b = loads(two).solutions[0].grads["b"]
    mistakes, why = hint(two.replace('"v_w" = 0', '"v_b" = 0'), {"v_b": 0.5 * g_b}, "v_b")
    assert mistakes == ("update",) and "that is the lecture's form" in why


def test_the_html_report_shows_a_wrong_answer_with_its_value():
    html = loads(GATES_TEXT).grade({"q": 12}).report._repr_html_()
    assert "<code>q</code>: you wrote 12; the correct value is -12</p>" in html


def test_a_wrong_variable_is_looked_for_among_the_first_60_names():
    # Names in graph order: w, x, c0 … c57 are the first 60; k, the 61st, is not tried.
    terms = " + ".join(f"c{i}" for i in range(58))
    inputs = "\n".join(f"c{i} = {i + 10}" for i in range(58))
    for last, named in (("k", False), ("c57", True)):
        text = f'[inputs]\nw = 2\nx = 3\n{inputs}\nk = 99\n[graph]\ny = "(w*x + {terms} + k) * 2"\n[answers]\n'
        value = 99 if last == "k" else 67
        assert ("variable" in hint(text, {"dy/dw": 2 * value}, "dy/dw")[0]) is named, last
