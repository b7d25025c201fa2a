"""When a written number holds, and the verdict on one claim."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from .spec import SpecError

__all__ = ["ClaimResult", "fmt", "holds", "last_digit_unit", "resembles"]


@dataclass(frozen=True)
class ClaimResult:
    """The verdict on one claim."""

    name: str
    claimed: str
    correct: float
    ok: bool
    kind: str  # ok, rounding, unknown_name, or one of the mistakes in check's docstring
    diagnosis: str

    @property
    def mark(self) -> str:
        """``ok``, ``WRONG``, or ``NAME?`` for a claim naming no quantity (5 characters)."""
        return "ok   " if self.ok else "NAME?" if self.kind == "unknown_name" else "WRONG"

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "claimed": self.claimed,
            "correct": None if math.isnan(self.correct) else self.correct,
            "ok": self.ok,
            "kind": self.kind,
            "diagnosis": self.diagnosis,
        }


def last_digit_unit(text: str) -> float:
    """The value of one unit in the last written digit: ``'0.4325'`` -> 1e-4,
    ``'6.9e-4'`` -> 1e-5, ``'12'`` -> 1, ``'0.00'`` -> 0.01.

    A bare ``'0'`` (or ``'-0'``; no decimal point, no exponent) claims an exact zero, such as
    the derivative of an inactive ReLU unit or a gradient that vanishes: its unit is 0, and the
    checker accepts only a value that is zero within rounding (see
    :mod:`~chainrule.explain.rounding`). Nobody rounds 0.4 to ``0`` in a worked example; a
    rounded small number is written with its decimals (``'0.0'`` holds for anything below 0.05).
    """
    try:
        number = Decimal(text.strip())
    except InvalidOperation:
        raise SpecError(f"claim {text!r} is not a number") from None
    exponent = number.as_tuple().exponent
    if number.is_zero() and exponent == 0 and not any(c in text for c in ".eE"):
        return 0.0
    return 10.0 ** int(exponent)


def holds(claimed: float, value: float, unit: float) -> bool:
    """True when ``value`` written to the claim's last digit gives the claim: rounded to the
    nearest, or truncated toward zero (as many textbooks do)."""
    slack = 1e-9 * unit  # the decimal claim itself is stored in binary
    rounded = abs(claimed - value) <= unit / 2 + slack
    truncated = (claimed == 0 or (claimed > 0) == (value > 0)) and abs(claimed) - slack <= abs(
        value
    ) < abs(claimed) + unit + slack
    return rounded or truncated


def resembles(claimed: float, value: float, unit: float) -> bool:
    """``holds``, or within one part in 10^6 (a person's rounding travels along)."""
    return holds(claimed, value, unit) or abs(claimed - value) <= 1e-6 * abs(value)


def fmt(value: float, digits: int) -> str:
    return f"{value:.{digits}g}"
