"""Judge one student's answers against their variant, as ``check`` judges a claim.

Each answer becomes a claim, its text as written, and
:func:`chainrule.explain.check.check_claims` judges the student's claims together: an answer is

- ``ok`` when it holds at its written precision, or follows from the student's own rounded
  earlier numbers, and is written to the ``digits`` significant digits the exercise asks for
  (``0.436`` for 0.43598 at 4 digits is the rounded ``0.4360`` whose zero a spreadsheet drops,
  and holds); an answer written to fewer digits is ``wrong`` (its kind: ``precision``);
- ``inherited`` when it follows correctly from the student's own earlier wrong numbers;
- ``wrong`` otherwise, with the most likely mistake named (``check``'s kinds);
- ``missing`` when there is no answer, or none that is a number.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal

import numpy as np

from ..explain.check import check_claims
from ..explain.holding import fmt, last_digit_unit
from ..explain.spec import Claim
from .answers import Sheet
from .verdicts import Variant, Verdict

__all__ = ["judge"]


def judge(variant: Variant, sheet: Sheet | None) -> tuple[Verdict, ...]:
    """The verdict on each asked quantity of ``variant`` for the answers of ``sheet``."""
    answers = sheet.answers if sheet is not None else {}
    claims = [
        Claim(symbol, answer.number, float(answer.number), None)
        for symbol, answer in answers.items()
        if symbol in variant.ask and answer.number is not None
    ]
    together = [c for c in claims if _precise(c.text, variant.digits)]
    with np.errstate(all="ignore"):  # a claim of 1e300 overflows what follows from it
        results = check_claims(variant.trace, together, digits=variant.shown_digits)
        for claim in (c for c in claims if c not in together):
            results += check_claims(variant.trace, [claim], digits=variant.shown_digits)
    by_symbol = {result.name: result for result in results}
    return tuple(_verdict(variant, s, answers.get(s), by_symbol.get(s)) for s in variant.ask)


def _precise(number: str, digits: int | None) -> bool:
    """Whether an answer is written to at least ``digits - 1`` significant digits (one fewer
    than asked: a trailing zero a spreadsheet dropped), or is a zero written to as many
    decimals (``0.000``), or a bare ``0`` (an exact zero). Only such answers are judged
    together: a coarse wrong number (``1e3``) would let any number near what follows from it
    pass as inherited, since ``check`` lets every earlier number be off by one unit of its last
    written digit; it is judged alone."""
    if digits is None or last_digit_unit(number) == 0:
        return True
    written = Decimal(number).as_tuple()
    if Decimal(number).is_zero():
        return written.exponent <= 1 - digits
    return len(written.digits) >= digits - 1


def _verdict(variant: Variant, symbol: str, answer, result) -> Verdict:
    correct = variant.trace.shown_values()[symbol]
    shown = fmt(correct, variant.shown_digits)
    if answer is None:
        said = f"not answered; the correct value is {shown}"
        return Verdict(symbol, "missing", None, correct, "missing", said)
    if result is None:
        said = f"the answer is no number, so it could not be marked; the correct value is {shown}"
        return Verdict(symbol, "missing", answer.text, correct, "unreadable", said)
    status = "inherited" if result.kind == "inherited" else "ok" if result.ok else "wrong"
    coarse = _coarse(variant, answer, correct, status)
    if coarse is not None:
        return Verdict(symbol, "wrong", answer.text, correct, "precision", coarse)
    return Verdict(symbol, status, answer.text, correct, result.kind, result.diagnosis)


def _coarse(variant: Variant, answer, correct: float, status: str) -> str | None:
    """Why an answer that holds is written to too few significant digits, or None."""
    digits = variant.digits
    if status != "ok" or not _too_coarse(answer.number, correct, digits):
        return None
    written = len(Decimal(answer.number).as_tuple().digits)
    return (
        f"you wrote {answer.text}, {written} significant digit{'s' * (written > 1)}, where the "
        f"exercise asks for {digits}; the correct value is "
        f"{_rounded(correct, digits, ROUND_HALF_EVEN)}"
    )


def _rounded(value: float, digits: int, rounding: str) -> Decimal:
    """``value`` to ``digits`` significant digits (``0.43598``, 4 -> ``0.4360``)."""
    exact = Decimal(repr(value))
    unit = Decimal(1).scaleb(exact.adjusted() - digits + 1)
    return exact.quantize(unit, rounding=rounding)


def _too_coarse(number: str, correct: float, digits: int | None) -> bool:
    """Whether an answer that holds is written to fewer than ``digits`` significant digits of
    ``correct``, and is not its rounded or truncated value with trailing zeros dropped (a
    spreadsheet writes 0.4360 as 0.436). A bare ``0`` claims an exact zero: never."""
    if digits is None or correct == 0 or last_digit_unit(number) == 0:
        return False
    written = Decimal(number)
    fine = [_rounded(correct, digits, r) for r in (ROUND_HALF_EVEN, ROUND_DOWN)]
    if any(written == value for value in fine):  # Decimal's == ignores trailing zeros
        return False
    return written.as_tuple().exponent > fine[0].as_tuple().exponent
