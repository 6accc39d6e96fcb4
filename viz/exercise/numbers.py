"""Numbers as people write them, and the rule that decides when an answer is right.

The default rule is strict: within 1% of the correct value, or the correct
value rounded to the significant digits the student wrote (at least two).

>>> Tolerance().accepts(-0.2, "-0.20", -0.1966, 1.0), Tolerance().accepts(0.006, "0.006", 0.00669, 1.0)
(True, False)
"""

from __future__ import annotations

import math
import re
from typing import NamedTuple

DEFAULT_REL = 0.01  # 1% relative: 0.006 for 0.00669 (10% off) is wrong
ZERO_FLOOR = 1e-9  # a correct 0 accepts |answer| ≤ this share of the sheet's largest value

_NUMBER = re.compile(r"[+-]?(?P<int>\d[\d_]*)?(?:\.(?P<frac>\d[\d_]*)?)?(?:[eE](?P<exp>[+-]?\d{1,4}))?")


def fmt(x: float) -> str:
    """A number as a person writes it: integers without '.0', six significant digits."""
    if x == 0:
        return "0"  # also for -0.0
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return format(x, ".6g")


def factor(x: float) -> str:
    # A factor in a product: negatives in parentheses, so "1 · (-2)" reads right.
    s = fmt(x)
    return f"({s})" if s.startswith("-") else s


def json_number(x: float):
    return x if math.isfinite(x) else str(x)


def is_number_text(text: str) -> bool:
    """True for a plain decimal literal such as '-0.20' or '6.6e-3' (no names, no operators)."""
    text = text.strip()
    m = _NUMBER.fullmatch(text)
    return bool(m and (m.group("int") or m.group("frac")))


def significant(text: str) -> tuple | None:
    """(digits, place) of a decimal literal: how many significant digits it has and the
    power of ten of its last one; None when the text is not a plain number.

    Trailing zeros count after a decimal point ("-0.20": 2 digits) but not in an
    integer ("100": 1 digit), where they may be padding.

    >>> significant("0.0066"), significant("-0.20"), significant("-22"), significant("0.00"), significant("6.6e-3")
    ((2, -4), (2, -2), (2, 0), (0, -2), (2, -4))
    """
    m = _NUMBER.fullmatch(text.strip())
    if not m or not (m.group("int") or m.group("frac")):
        return None
    whole = (m.group("int") or "").replace("_", "")
    frac = (m.group("frac") or "").replace("_", "")
    exp = int(m.group("exp") or 0)
    digits = (whole + frac).lstrip("0")
    if "." in text:
        return len(digits), exp - len(frac)
    kept = digits.rstrip("0")
    return len(kept), exp + len(digits) - len(kept)


class Tolerance(NamedTuple):
    """When an answer counts as right.

    ``rel``: the relative margin (default 1%); ``abs``: an absolute margin (default: none,
    except that a correct 0 accepts 1e-9 of the sheet's largest value); ``digits``: also
    accept the correct value rounded to the significant digits written, when there are at
    least two. ``legacy`` is an old sheet's single number t: |given − correct| ≤ t·max(1, |correct|).
    """

    rel: float = DEFAULT_REL
    abs: float = 0.0
    digits: bool = True
    legacy: float | None = None

    def accepts(self, given: float, text: str | None, correct: float, scale: float) -> bool:
        if math.isnan(given) or math.isnan(correct):
            return False
        if math.isinf(correct) or math.isinf(given):
            return given == correct
        gap = abs(given - correct)
        if self.legacy is not None:
            return gap <= self.legacy * max(1.0, abs(correct))
        if gap <= max(self.rel * abs(correct), self.abs):
            return True
        if correct == 0:
            return gap <= ZERO_FLOOR * scale
        return self.written(given, text, correct)

    def written(self, given: float, text: str | None, correct: float) -> bool:
        """The digits rule alone: the correct value rounded to as many significant digits as
        were written (at least 2). 989 to two digits is 990, so "1.0e3" is not it."""
        if not (self.digits and text and self.legacy is None and math.isfinite(correct)):
            return False
        sig = significant(text)
        if not sig or sig[0] < 2:
            return False
        rounded = float(format(correct, f".{sig[0] - 1}e"))
        return abs(given - rounded) <= 1e-9 * abs(rounded)

    def rule(self) -> str:
        """The rule in words, as the report states it."""
        if self.legacy is not None:
            return (f"right when within {fmt(self.legacy)} of the correct value, relatively above 1 "
                    "(the sheet's old single-number tolerance)")
        parts = [f"within {fmt(self.rel * 100)}% of the correct value"]
        if self.abs:
            parts.append(f"within {fmt(self.abs)} of it")
        if self.digits:
            parts.append("equal to it rounded to the significant digits written (2 or more)")
        return f"right when {' or '.join(parts)}; a correct 0 allows {fmt(ZERO_FLOOR)} × the largest value"
