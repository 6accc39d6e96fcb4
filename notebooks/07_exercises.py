# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 7. Exercises
#
# **What this notebook teaches.** The lectures end with exercises: compute a forward value, then a
# partial derivative, by hand. gradflow's exercise checker grades such answers. It builds the
# exercise's graph, runs the engine's backward pass, and for every wrong answer says what the
# right number is, the chain of local derivatives that produces it, which gate rule was
# involved (sum distributes, product switches, max routes, split adds), and which wrong answer to
# fix first. Here you will
#
# 1. read an exercise sheet, the TOML file an exercise is written in;
# 2. grade wrong and right answers to the lectures' exercises, as numbers and as formulas;
# 3. write answers of your own and a sheet of your own.
#
# The same checker runs from a terminal: `gradflow check notebooks/sheets/relu_perceptron.toml`
# (add `--solve` for the full solution, `--json` for graders).

# %%
from pathlib import Path

from IPython.display import display

from viz.exercise import load, loads

sheets = Path("sheets")   # notebooks/sheets, next to this notebook
for path in sorted(sheets.glob("*.toml")):
    print(f"{path.name:<40} {load(path).title}")

# %% [markdown]
# ## A sheet
#
# The lectures' ReLU perceptron problem: y = ReLU(w·x + b) on the input x = 2, with every
# trainable parameter set to 1 (part b), then to −1 (part c). A sheet lists the inputs, the graph
# as named steps written in a small formula language, and the answers. An answer named `y` is a
# forward value; `"dy/dw"` is the gradient of the output with respect to w. An answer may be a
# number or a formula over the sheet's names, such as `"x * 1"`.

# %%
print((sheets / "relu_perceptron.toml").read_text(encoding="utf-8"))

# %% [markdown]
# The shipped answers are right, so the report is all ticks (in Jupyter a report shows as a
# table):

# %%
relu = load(sheets / "relu_perceptron.toml")
report = relu.check()
print("all right:", report.ok)
display(report)

# %% [markdown]
# ## Answered wrongly
#
# Now the mistakes students make. In part b, forgetting that the product switches (writing
# dy/dw = 1 instead of 1 · x); in part c, not noticing that the ReLU is closed (z = −3 < 0) and
# carrying the gradient through anyway. A sheet with several cases takes one dict of answers per
# case. Change the answers and re-run.

# %%
answers = {
    "b": {"z": 3, "y": 3, "dy/dz": 1, "dy/dw": 1, "dy/db": 1},
    "c": {"z": -3, "y": 0, "dy/dz": 1, "dy/dw": "x", "dy/db": 1},
}
report = relu.check(answers)
print(report)

# %% [markdown]
# The drawing marks each wrong answer on its node, with what you wrote and the correct number.
# Part c (case index 1) has three wrong answers; all of them come from the ReLU's zero gradient.

# %%
report.draw(case=1)

# %% [markdown]
# The report gives the right chain with numbers (dy/dw = dy/dz · dz/dw = 1 · 2 = 2), the gate rule in
# words, and a hint when the mistake has a familiar shape ("that is dy/dz alone; multiply it by
# the local derivative"). In part c it names dy/dz as the *first wrong gradient in backward order*:
# the other two wrong answers follow from it, so that is the one to fix.
#
# ## The four gates
#
# f = (x·y + max(z, w)) · x uses every gate, and x twice. Three classic slips: taking only one of
# x's two paths, sharing the gradient half and half between the inputs of a max (right only at a
# tie), and giving y the gradient times y instead of times x.

# %%
gates = load(sheets / "gates.toml")
report = gates.check({"df/dq": 3, "df/dx": -12, "df/dz": 1.5, "df/dw": 1.5, "df/dy": "3 * y"})
print(report)

# %% [markdown]
# Each of the three slips gets its own hint under the chain: *only the path through q* for the
# split, *you split the gradient half and half at the max; with no tie, all of it goes to the
# larger input* for the max, and *you multiplied by y itself; a product sends each input the
# gradient times the other input* for the product. The checker finds them by recomputing the
# answer the slip would give on this graph and comparing it with yours.
#
# On the drawing, x's node shows its gradient as the sum of the two branches that meet at the
# split point, and each edge shows the local derivative and the gradient it carries.

# %%
report.draw()

# %% [markdown]
# ## The sigmoid perceptron's δ chain
#
# The lecture writes the sigmoid as a chain of primitive gates (negate, exp, add 1, reciprocal)
# and walks the δ sequence back through it. A dropped minus sign at the negation gate flips every
# gradient below it; the checker points at the first one.

# %%
sigmoid_sheet = load(sheets / "sigmoid_perceptron.toml")
report = sigmoid_sheet.check({
    "dy/dg3": "-1 / g3**2",
    "dy/dg2": "-1 / g3**2",
    "dy/dg1": "-1 / g3**2 * exp(g1)",
    "dy/dz": "-1 / g3**2 * exp(g1)",          # the slip: the negation gate's −1 is missing
    "dy/dw1": "-1 / g3**2 * exp(g1) * x1",    # ... and it propagates
})
print(report)
report.draw()

# %% [markdown]
# ## The three-layer network's formulas
#
# Notebook 4 derived dJ/dW(3), dJ/dW(2), dJ/dW(1) for the lecture's three-layer sigmoid network.
# The checker does not compare formulas symbol by symbol: it evaluates each one on the sheet's
# inputs and compares the number with the engine's gradient. A common slip is to
# forget the σ'(z(3)) factor in dJ/dW(2):

# %%
network = load(sheets / "three_layer_network.toml")
report = network.check({
    "dJ/dW3": "(a4 - y) * a3",
    "dJ/dW2": "(a4 - y) * W3 * a2",                                          # σ'(z3) is missing
    "dJ/dW1": "(a4 - y) * W3 * a3 * (1 - a3) * W2 * a2 * (1 - a2) * x",
})
print(report)

# %% [markdown]
# The hint at the end of dJ/dW2 names the slip: *the σ in a3 was skipped*, with the factor that is
# missing, σ′ = σ·(1 − σ).
#
# ## One momentum step, written two ways
#
# The sheet ends with one step of SGD with momentum: W3's velocity after the step (`v_W3`) and the
# weights after it (`W3'`, `W1'`). Momentum is written in two ways, and a sheet must say which:
#
# * **the lecture's form.** Deck 004 (004_e41f9ac31c75eef9.txt, "Other modifications to GD")
#   keeps a velocity that already includes the learning rate: V′ = γ·V + α·g, then W′ = W − V′.
#   This is the form the lecture teaches, and `three_layer_network_lecture.toml` asks for it
#   (`form = "lecture"` in its `[update]` table).
# * **PyTorch's form.** `torch.optim.SGD`, and gradflow's `nn.SGD`, keep v′ = μ·v + g and step
#   W′ = W − η·v′. `three_layer_network.toml` asks for this one.
#
# With a fixed rate the two are the same method, with V = η·v. The two sheets start W3 in the same
# state (V = 0.05 on the lecture's sheet is 0.5 × v = 0.1 on PyTorch's), so their keys agree on
# W3′ and W1′ and differ only in the velocity. Each blank copy (`sheets/blank/`) states its form
# and W3's starting velocity. Below, both forms are applied to both sheets, each taking the
# starting velocity as the sheet gives it, and the answers are graded.

# %%
lecture_network = load(sheets / "three_layer_network_lecture.toml")
g = network.solutions[0].grads["W3"]          # dJ/dW3, the same on both sheets
W3 = network.cases[0].inputs["W3"]


def one_step(form, sheet):
    """v_W3 and W3' after one step in the given form, from the velocity the sheet starts W3 with."""
    u = sheet.update
    v = u.momentum * u.velocity["W3"] + (u.lr * g if form == "lecture" else g)
    return {"v_W3": v, "W3'": W3 - (v if form == "lecture" else u.lr * v)}


print(f"g = dJ/dW3 = {g:.4f}, W3 = {W3}")
for sheet in (lecture_network, network):
    print(f"\n{Path(sheet.source).name}: {sheet.update.rule()}; W3 starts with velocity {sheet.update.velocity['W3']}")
    for form, said in (("lecture", "deck 004's form:"), ("pytorch", "PyTorch's form:")):
        answers = {k: round(v, 4) for k, v in one_step(form, sheet).items()}
        rows = [r for r in sheet.check(answers).cases[0].rows if r.key in answers]
        print(f"  worked in {said:<17} " + ",  ".join(
            f"{r.key} = {r.given:+.4f} {'right' if r.ok else f'WRONG (key {r.correct:+.4f})'}" for r in rows))

# %% [markdown]
# Each sheet marks right only the form it states. The last line is the trap the sheets used to
# set: a student who follows the lecture on PyTorch's sheet, reading its v = 0.1 as the lecture's
# V, gets V′ = +0.0153 and W3′ = 1.4847. That step lowers W3, where the gradient (negative) says
# W3 should grow. To grade a class taught from deck 004, hand out `three_layer_network_lecture`.
#
# ## The generalized delta rule
#
# A hidden unit j feeds two output units. Its Δ must collect the Δs of *both* outputs, each
# weighted by its connection (split adds, product switches). Forgetting the second output is
# the slip here.

# %%
delta = load(sheets / "generalized_delta_rule.toml")
report = delta.check({
    "dE/din_1": "-(t1 - o1) * o1 * (1 - o1)",
    "dE/da_j": "-Wj1 * (t1 - o1) * o1 * (1 - o1)",    # only the path through output 1
})
print(report)

# %% [markdown]
# > **Errata: deck 001's δ has the wrong sign.** The deck (001_ae477276b4929235.txt) defines
# > δ_j = ∂E/∂net_j = (t − o)·o·(1 − o). The derivative of E = ½(t − o)² is
# > ∂E/∂net = −(t − o)·o·(1 − o): the slide's δ is the *negative* gradient. With its hidden
# > δ_j = o(1 − o)·Σ(−δ_k·w_jk) and the update Δw = η·δ·x, it gives −0.0218 on this sheet's
# > numbers where +0.0218 is needed, so the update climbs the error. The checker shows it: the
# > slide's output δ, entered as ∂E/∂net, is marked wrong with the hint *the sign is flipped*.

# %%
slide = delta.check({"dE/din_1": "(t1 - o1) * o1 * (1 - o1)"})    # deck 001's δ for output unit 1
row = slide.cases[0].rows[0]
print(f"{row.key}: the slide gives {row.given:.4f}, the derivative is {row.correct:.4f}; mistakes found: {row.mistakes}")

# %% [markdown]
# ## Conventions: ReLU′(0)
#
# At z = 0 exactly, the ReLU has a kink and its derivative is a matter of convention. gradflow's
# engine takes ReLU′(0) = 0 (deck 002 agrees); deck 001 takes 1. A sheet that follows deck 001
# says `conventions = { relu_at_0 = 1 }`, and whenever an answer sits on the kink the report
# names the convention it used.

# %%
kink = load(sheets / "relu_at_zero.toml")
print(kink.check())

# %% [markdown]
# The same answers against the engine's convention: the cell below takes the sheet's text, removes
# its `conventions` line and rewrites its title and description to match, so the report now
# grades with ReLU′(0) = 0. dy/dz, dy/dw and dy/db become 0 and are marked wrong, and the report
# says why.

# %%
deck_001_text = (sheets / "relu_at_zero.toml").read_text(encoding="utf-8")
engine_text = (deck_001_text
               .replace("conventions = { relu_at_0 = 1 }", "")
               .replace("with deck 001's convention ReLU'(0) = 1", "with gradflow's convention ReLU'(0) = 0")
               .replace("under ReLU'(0) = 1 the gradient passes as if the unit were active",
                        "under ReLU'(0) = 0 the gradient stops as if the unit were off"))
engine_rule = loads(engine_text)
assert "= 1" not in engine_rule.title + engine_rule.description and not engine_rule.conventions
print(engine_rule.check())

# %% [markdown]
# ## Grading a class: a key, submissions, exam feedback
#
# A teacher writes a *key*: a sheet whose answers list what must be answered (formulas of the
# graph's names are fine there: the checker computes the right numbers itself). Students hand
# in only their answers, and each is a number or arithmetic of numbers such as `"-3*0.0066"`:
# a name is not an answer (otherwise `"y"` would be a free point for the item `y`). The graph
# and the inputs always come from the key. `key.grade(answers, student=...)` gives the score,
# each item's status (right, wrong, missing, or invalid when it cannot be read; that costs the
# item, never the rest) and feedback in two modes: `tutor` for self-study (the correct values
# and the chain), `exam` for assessment (which items are wrong or missing and the kind of
# mistake, never a number the answer could be read from).

# %%
key_text = '''
title = "Sigmoid neuron"
[inputs]
x = 2
w = -3
b = 1
[graph]
z = "w*x + b"
y = "sigmoid(z)"
[answers]
y = "sigmoid(z)"
"dy/dz" = "y * (1 - y)"
"dy/dw" = "y * (1 - y) * x"
"dy/db" = "y * (1 - y)"
[points]
"dy/dw" = 2
'''
key = loads(key_text)
submissions = {
    "ada": {"y": 0.0067, "dy/dz": 0.0066, "dy/dw": 0.0133, "dy/db": 0.0066},
    "bob": {"y": 0.0067, "dy/dz": 0.0066, "dy/dw": 0.0066},          # x forgotten, dy/db left out
    "cy": {"y": 0.006, "dy/dz": -0.0066, "dy/dw": "0.0066 * -3", "dy/db": "0,0066"},  # w for x; a decimal comma
    "dee": {"y": "y", "dy/dz": 0.0066, "dy/dw": 0.0133, "dy/db": 0.0066},  # naming the node is no answer
}
grades = {name: key.grade(answers, student=name) for name, answers in submissions.items()}
for g in grades.values():
    print(g, [i.status for i in g.items])

# %%
print(grades["cy"].feedback("exam"))
print()
print(grades["dee"].feedback("exam"))

# %%
print(grades["cy"].feedback("tutor"))

# %% [markdown]
# From a terminal the whole class is graded in one process:
# `gradflow grade key.toml submissions/ --roster class.csv --csv gradebook.csv --feedback-dir feedback/`.
# Each submission is a TOML file with `student = "ID"` and `[answers]` (a filled-in handout is
# one as it is). The summary says, per item, how much of the class got it right and which wrong
# values were most common, with the mistake they point to; `--items` writes that as a CSV, and
# `--gradescope results.json` writes one submission's result in Gradescope's format. No file
# that already exists is written over. Here it is on the students above, in a temporary folder.

# %%
import contextlib
import tempfile

from viz.cli import main as gradflow

with tempfile.TemporaryDirectory() as folder, contextlib.chdir(folder):   # paths below are relative to it
    Path("key.toml").write_text(key_text, encoding="utf-8")   # the same key as above
    for name, answers in submissions.items():
        lines = [f'"{k}" = {v!r}'.replace("'", '"') for k, v in answers.items()]
        Path(f"{name}.toml").write_text(f'student = "{name}"\n[answers]\n' + "\n".join(lines) + "\n", encoding="utf-8")
    gradflow(["grade", "key.toml", *(f"{n}.toml" for n in submissions), "--csv", "gradebook.csv"])
    print(Path("gradebook.csv").read_text(encoding="utf-8"))

# %% [markdown]
# A key may also give each student their own numbers: a `[vary]` table such as
# `x = {min = -3, max = 3, step = 1}` draws each input from the student's id (the same id always
# gets the same numbers, on any machine), skipping draws where a ReLU sits on its kink or a max
# ties. `gradflow handout key.toml --students class.csv -o handouts/` writes each student's sheet
# and a printable page, each stating how answers are judged; the blank copies of this folder's
# sheets are in `sheets/blank/`. A key that wants formulas says so: `formula = true` (or a list
# of items) lets a submission answer with a formula of the inputs, which must then hold at
# other inputs near the student's too.
#
# ## Your turn
#
# The sigmoid neuron with half squared error, from the last lecture: net = w0·x0 + w1·x1,
# out = σ(net), E = ½(out − label)². Fill in your answers (numbers or formulas) and run the cell.
# The starting answers below have one mistake left in them.

# %%
neuron = load(sheets / "sigmoid_neuron_half_squared_error.toml")
my_answers = {                         # change these
    "net": -0.08,
    "dE/dout": "out - label",
    "dE/dnet": "(out - label) * out * (1 - out)",
    "dE/dw1": "(out - label) * out * (1 - out)",
}
report = neuron.check(my_answers)
print(report)
report.draw()

# %% [markdown]
# Stuck? `solve()` prints every value and gradient with the chain that produces it — the
# teacher's copy.

# %%
print(neuron.solve())

# %% [markdown]
# ## A sheet of your own
#
# Any small formula can become an exercise. Here is a tanh neuron with two inputs; the `params`
# line marks which inputs are trainable parameters (they are drawn differently). Add steps,
# change the inputs, and write your answers. The last answer has the slip of the gates section
# (the gradient times the input itself instead of times the *other* input); fix it.

# %%
my_sheet = loads('''
title = "A tanh neuron"
params = ["w1", "w2", "b"]

[inputs]
x1 = 0.5
x2 = -1.0
w1 = 2.0
w2 = 0.5
b = 0.25

[graph]
z = "w1*x1 + w2*x2 + b"
h = "tanh(z)"

[answers]
z = 0.75
"dh/dz" = "1 - h**2"
"dh/dw1" = "(1 - h**2) * x1"
"dh/dx2" = "(1 - h**2) * x2"
''')
print(my_sheet.check())
