"""The blank sheets handed to students (notebooks/sheets/blank/): none holds a correct value of its
key in any usual format, each key has its TOML and its printable Markdown copy, and each copy
states the notation and the starting state its items need.

The blanks are written by `gradflow handout` from the keys (tests/test_exercise_kinds.py checks
that they are in step), so a leak found here is fixed in the key's title or description.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from viz.exercise import load
from viz.cli import main
from viz.exercise.numbers import fmt

SHEETS = Path(__file__).resolve().parent.parent / "notebooks" / "sheets"
BLANK = SHEETS / "blank"
KEYS = sorted(SHEETS.glob("*.toml"))
FORMATS = (fmt, ".2g", ".3g", ".4g", ".2f", ".3f", ".4f")


def _shown(key) -> list[float]:
    """Numbers a blank may show: every case's inputs and the [update] table's constants."""
    shown = [v for case in key.cases for v in case.inputs.values()]
    if key.update:
        shown += [key.update.lr, key.update.momentum, *key.update.velocity.values()]
    return [abs(v) for v in shown]


def _trivial(x: float, shown: list[float]) -> bool:
    return any(math.isclose(x, v, rel_tol=1e-9, abs_tol=1e-12) for v in (0.0, 1.0, *shown))


def correct_values(key) -> dict[str, str]:
    """Each correct value as it could be written (without its sign) -> the item it answers."""
    shown = _shown(key)
    out = {}
    for i, case in enumerate(key.cases):
        for answer in case.answers:
            value = abs(key.solutions[i].correct(answer))
            if _trivial(value, shown):
                continue
            for f in FORMATS:
                text = f(value) if callable(f) else format(value, f)
                # 1.5297 written to 2 digits is 1.5, which is W3 itself: an input, not a leak.
                if not _trivial(float(text), shown):
                    out.setdefault(text, f"{case.name + ': ' if case.name else ''}{answer.key}")
    return out


def leaks(text: str, key) -> list[str]:
    """The correct values found in text as whole numbers: "0.0218" in "−0.0218" or "+0.0218", but
    not in "0.02185", "W3", "1e-09" or a fingerprint's hex digits."""
    found = []
    for number, item in correct_values(key).items():
        if re.search(r"(?<![\w.,])" + re.escape(number) + r"(?![\w]|[.,]\d)", text):
            found.append(f"{number} (the key's {item})")
    return found


def blanks():
    for key in KEYS:
        for suffix in (".toml", ".md"):
            path = BLANK / (key.stem + suffix)
            if path.exists():
                yield pytest.param(key, path, id=path.name)


@pytest.mark.parametrize("key_path, blank", list(blanks()))
def test_no_blank_holds_a_correct_value(key_path, blank):
    key = load(key_path)
    found = leaks(blank.read_text(encoding="utf-8"), key)
    assert not found, f"{blank.name} gives away {', '.join(found)}: reword {key_path.name}'s title or description"


def test_the_leak_check_finds_a_value_in_each_format():
    key = load(SHEETS / "generalized_delta_rule.toml")   # dE/din_j = -0.0218049
    for text in ("is −0.0218 here", "δ = +0.0218.", "(-0.022)", "0.02 exactly", "-0.0218049"):
        assert leaks(text, key), text
    for text in ("0.02185", "W3 = 1.5", "1e-09", "c0218", "x = 1, t2 = 0", "0.5"):
        assert not leaks(text, key), text


@pytest.mark.parametrize("key_path", KEYS, ids=lambda p: p.stem)
def test_each_key_has_its_blank_copies(key_path, tmp_path):
    # What `gradflow handout KEY -o DIR --format md` writes is what blank/ must hold.
    assert main(["handout", str(key_path), "-o", str(tmp_path), "--format", "md"]) == 0
    written = sorted(p.name for p in tmp_path.iterdir())
    for name in written:
        assert (BLANK / name).exists(), f"blank/{name} is missing: regenerate it with gradflow handout"
    if len(load(key_path).cases) == 1:
        assert (BLANK / f"{key_path.stem}.md").exists(), f"{key_path.stem} has no printable Markdown copy"


@pytest.mark.parametrize("key_path", KEYS, ids=lambda p: p.stem)
def test_each_blank_states_the_notation_and_the_starting_state(key_path):
    key = load(key_path)
    items = list(key.all_items.values())
    said = f"{key.title}\n{key.description}\n" + "\n".join(c.description or "" for c in key.cases)
    if any(k.startswith("delta(") for k in items):
        assert "delta(" in said, f"{key_path.stem} asks for delta(...) without saying what it means"
    if any("∂" in k for k in items):
        assert "∂" in said and "total" in said, f"{key_path.stem} asks for ∂A/∂B without saying how it differs from dA/dB"
    if key.update:
        # The Markdown page prints no [update] table: the description gives each starting velocity.
        for name, v in key.update.velocity.items():
            assert re.search(rf"{re.escape(name)}\W[^.]*{re.escape(fmt(v))}", key.description), (
                f"{key_path.stem}: the description does not give {name}'s starting velocity {fmt(v)}")
