"""Check a person's hand-computed numbers against the trace and say what went wrong, the way a
marker does.

A claim holds when the correct value, rounded or truncated to the claim's last written digit,
gives the claim, or when the value that follows from the person's own earlier claims (where
those hold) does: "correct up to the rounding of your earlier values". A claim that does not
hold gets the most likely mistake:

1. ``inherited``: right given the person's own earlier wrong numbers, within the precision
   they wrote them to (a gradient that follows from their wrong delta, an update from their
   wrong gradient);
2. one of the mistakes of :mod:`~chainrule.explain.mistakes` (dropped path, updated weight,
   softmax diagonal, derivative at the net input, inactive unit, missing derivative, learning rate
   forgotten, bias correction, momentum sign, momentum or Nesterov convention, fixed parameter
   updated, batch reduction, factor two, sign), tried first on the correct numbers and then on
   the person's own earlier ones; an update that applies torch's rule to the person's velocity
   written in another convention is named so (:func:`~chainrule.explain.conventions.refine`),
   and a velocity whose update goes with it says so;
3. ``given``: an input, target or starting parameter claimed with another value than the
   spec gives (there is nothing to compute);
4. ``arithmetic``: none of these; the formula is shown with the person's own numbers.

A later step's gradient ``g_p@k`` or error ``E@k`` that none of 1-2 explains is worked again
as its own forward and backward pass (:mod:`~chainrule.explain.later_steps`): a mistake made
in it is named "at step k", and a slip shows the parameters that pass starts from.

A claim written as a bare ``0`` means an exact zero (see
:func:`~chainrule.explain.holding.last_digit_unit`): it holds when the value is zero within
rounding (:mod:`~chainrule.explain.rounding`; ``0.1*3 - 0.3`` is 5.55e-17 in float64), and its
precision is that rounding. Messages show such a value as 0.

A mistake is recognised when the claim lies within its written precision, or one part in
10^6, of the value that mistake would give. A mistake that would move a number the person got
right by more than that number's written precision did not happen, and is not suggested. A
claim naming no quantity is reported (``unknown_name``, with suggestions) and the others are
checked all the same.
"""

from __future__ import annotations

import difflib
import re

from . import conventions, later_steps
from .arithmetic import check_arithmetic, evaluate_expression
from .formulas import O, S, joined
from .holding import ClaimResult, fmt, holds, last_digit_unit, resembles
from .mistakes import candidates
from .render import formula_text, substitution_text
from .spec import Claim
from .trace import Trace

__all__ = ["ClaimResult", "check_claims", "evaluate_expression", "last_digit_unit"]


class _Checker:
    def __init__(self, trace: Trace, digits: int):
        self.trace = trace
        self.digits = digits
        self.correct = trace.values()
        self.shown = trace.shown_values()

    def check(self, claims: list[Claim]) -> list[ClaimResult]:
        by_symbol, unknown = {}, {}
        for claim in claims:
            if claim.name in self.trace:
                by_symbol[claim.name] = claim
            else:
                unknown[claim.name] = self._unknown(claim)
        order = [s for s in self.trace.quantities if s in by_symbol]
        results: dict[str, ClaimResult] = {}
        self.held, self.units = {}, {}
        self.mine = {s: by_symbol[s].value for s in order}
        for symbol in order:
            claim = by_symbol[symbol]
            unit = last_digit_unit(claim.text) or self.trace.rounding_tolerances[symbol]
            self.units[symbol] = unit
            correct = self.shown[symbol]
            if holds(claim.value, self.correct[symbol], unit):
                results[symbol] = ClaimResult(symbol, claim.text, correct, True, "ok", "correct")
                self.held[symbol] = claim.value
                continue
            ancestors = self.trace.ancestors(symbol)
            wrong = [s for s in order if s in ancestors and not results[s].ok]
            if not wrong:
                carried = self._own_values(symbol, self.held)
                if any(holds(claim.value, value, unit) for value in carried):
                    results[symbol] = ClaimResult(
                        symbol,
                        claim.text,
                        correct,
                        True,
                        "rounding",
                        "correct up to the rounding of your earlier values "
                        f"(exact: {self._fmt(correct)})",
                    )
                    self.held[symbol] = claim.value
                    continue
            results[symbol] = self._diagnose(symbol, claim, correct, unit, wrong)
        results = conventions.refine(self.trace, results)  # each update beside its velocity
        return [results.get(c.name) or unknown[c.name] for c in claims]

    def _unknown(self, claim: Claim) -> ClaimResult:
        close = difflib.get_close_matches(claim.name, self.trace.quantities, n=3)
        where = f" (line {claim.line})" if claim.line else ""
        fix = " or ".join(map(repr, close)) if close else "a name that explain shows"
        frozen = _frozen_state(self.trace, claim.name)
        because = (
            f"{frozen} is fixed (it does not train), so it has no optimizer state or later "
            f"gradient: {frozen}+ = {frozen}"
            if frozen
            else f"did you mean {fix}?"
        )
        return ClaimResult(
            claim.name,
            claim.text,
            float("nan"),
            False,
            "unknown_name",
            f"the claim {claim.name!r}{where} names no quantity; {because} "
            "(the other claims are checked without it)",
        )

    def _fmt(self, value: float) -> str:
        return fmt(value, self.digits)

    def _describe(self, symbol: str) -> str:
        return formula_text(self.trace[symbol].formula)

    def _upstream_claims(self, symbol: str) -> dict[str, float]:
        ancestors = self.trace.ancestors(symbol)
        return {s: v for s, v in self.mine.items() if s in ancestors}

    def _own_values(self, symbol: str, claimed: dict) -> list[float]:
        """``symbol`` recomputed from the person's own numbers in ``claimed`` (without the claim
        itself): by its formula and, where a textbook shortcut exists, by the shortcut."""
        others = {s: v for s, v in claimed.items() if s != symbol}
        values = self.trace.evaluate(others)
        shortcut = self.trace[symbol].meta.get("shortcut")
        return [values[symbol]] + ([shortcut(values)] if shortcut else [])

    def _follows_from_own(self, symbol: str, claim: Claim, unit: float) -> bool:
        """Whether ``claim`` follows from the person's own earlier numbers, within the precision
        they wrote them to: each earlier claim stands for any number its written digits round or
        truncate to (up to one unit of its last digit either way), and that slack travels along
        the formulas (a person who writes -0.2151 but carries -0.21506 into the next line)."""
        if any(resembles(claim.value, v, unit) for v in self._own_values(symbol, self.mine)):
            return True
        own = {s: v for s, v in self.mine.items() if s != symbol}
        value = self.trace.evaluate(own)[symbol]
        return abs(claim.value - value) <= unit + self._slack(symbol, own, value)

    def _slack(self, symbol: str, own: dict, value: float) -> float:
        """How far ``symbol`` (``value`` from the person's numbers ``own``) moves when each of
        their earlier numbers moves by one unit of its last written digit: the sum of those
        moves, a first-order bound of the rounding they carried."""
        ancestors = self.trace.ancestors(symbol)
        moved = (
            self.trace.evaluate({**own, s: own[s] + self.units[s]})[symbol]
            for s in own
            if s in ancestors
        )
        return sum(abs(v - value) for v in moved)

    def _diagnose(self, symbol, claim, correct, unit, wrong) -> ClaimResult:
        head = f"you wrote {claim.text}, the correct value is {self._fmt(correct)}. "
        theirs = self._upstream_claims(symbol)
        own = self.trace.evaluate(theirs)
        if wrong and self._follows_from_own(symbol, claim, unit):
            # name the nearest wrong numbers, not everything they came from
            nearest = [
                s for s in wrong if not any(s in self.trace.ancestors(other) for other in wrong)
            ]
            return ClaimResult(
                symbol,
                claim.text,
                correct,
                False,
                "inherited",
                head + f"It follows correctly from your own {', '.join(nearest)}, which "
                f"{'is' if len(nearest) == 1 else 'are'} wrong (an inherited error)",
            )
        bases = [({}, self.correct, "")]
        if theirs and any(own[s] != self.correct[s] for s in theirs):
            bases.append((theirs, own, " (applied to your own earlier numbers)"))
        # every number got right so far, not only those on the way to this one: a right
        # dE/dw1 shows that the dE/dz1 it shares with dE/dw3 was right
        confirmed = set(self.held)
        for base, reference, suffix in bases:
            # on the person's own numbers, the rounding they carried: that of the right formula
            # (a mistake's formula moves with its inputs as much, mu*v - g as mu*v + g)
            slack = self._slack(symbol, base, reference[symbol]) if base else 0.0
            for kind, description, overrides in candidates(
                self.trace, symbol, reference, self._describe
            ):
                values = self.trace.evaluate({**base, **overrides})
                if self._contradicts(symbol, values, reference, confirmed):
                    continue
                if resembles(claim.value, values[symbol], unit + slack):
                    return ClaimResult(
                        symbol,
                        claim.text,
                        correct,
                        False,
                        kind,
                        head + "Most likely " + description + suffix,
                    )
        later = later_steps.diagnose(self, symbol, claim.value, unit, own)  # g_p@k, E@k
        if later:
            return ClaimResult(symbol, claim.text, correct, False, later[0], head + later[1])
        return self._arithmetic(symbol, claim, correct, head, theirs, own)

    def slack(self, symbol: str, own: dict) -> float:
        """:meth:`_slack` of ``symbol`` from the person's numbers among ``own`` (values that
        follow from them): how far their written rounding can move it."""
        written = {s: own[s] for s in self.units if s in own and s != symbol}
        return self._slack(symbol, written, own[symbol])

    def _contradicts(self, symbol: str, values: dict, reference: dict, confirmed) -> bool:
        """Whether a candidate mistake (giving ``values``) disagrees with a number the person
        wrote before ``symbol``: it moves a number they got right by more than its written
        precision, or moves a wrong one that ``symbol`` is built on to a value they did not
        write, or ``symbol`` is an update of a parameter whose earlier value they wrote
        otherwise (an update of the right value is not what a person who started from their
        own did)."""
        old = self.trace[symbol].meta.get("old")  # an update's parameter before the step
        ancestors = self.trace.ancestors(symbol)
        for s, unit in self.units.items():  # the numbers judged so far: those before this one
            moved = abs(values[s] - reference[s]) > unit + 1e-6 * abs(reference[s])
            if moved and s in confirmed and s != symbol:
                return True
            mine = (moved and s in ancestors) or s == old  # what this claim is built on
            if mine and not resembles(self.mine[s], values[s], unit):
                return True
        return False

    def _arithmetic(self, symbol, claim, correct, head, theirs, own) -> ClaimResult:
        quantity = self.trace[symbol]
        tokens = quantity.formula
        if not tokens:  # an input, target or starting parameter: given, not computed
            return ClaimResult(
                symbol,
                claim.text,
                correct,
                False,
                "given",
                head + f"{symbol} is given in the spec as {self._fmt(correct)}, not computed: "
                "copy it from there",
            )
        chains = quantity.meta.get("chains", ())
        if any(delta in theirs for delta, _ in chains):  # the person wrote the delta itself
            tokens = joined([[S(delta), O("*"), S(local)] for delta, local in chains])
        yours = " (from your own earlier numbers)" if own[symbol] != self.correct[symbol] else ""
        return ClaimResult(
            symbol,
            claim.text,
            correct,
            False,
            "arithmetic",
            head + f"Most likely an arithmetic slip: {symbol} = {formula_text(tokens)} = "
            f"{substitution_text(tokens, own, self.digits)} = {self._fmt(own[symbol])}{yours}",
        )


_STATE = re.compile(r"(?:v|m|mhat|vhat|g)_(?P<parameter>.+?)(?:@\d+)?")


def _frozen_state(trace: Trace, name: str) -> str | None:
    """The fixed parameter whose optimizer state or later gradient ``name`` would be
    (``v_w2``, ``m_w2@2``, ``g_w2@3``), or None."""
    match = _STATE.fullmatch(name)
    parameter = match and trace.spec.parameters.get(match["parameter"])
    return parameter.name if parameter and not parameter.trained else None


def check_claims(
    trace: Trace, claims: list[Claim] | None = None, digits: int = 9
) -> list[ClaimResult]:
    """Compare each claim (default: the spec's own, then its arithmetic claims) with the
    trace; see the module docstring."""
    results = _Checker(trace, digits).check(trace.spec.claims if claims is None else claims)
    if claims is None:
        values = trace.values()
        results += [check_arithmetic(item, values, digits) for item in trace.spec.arithmetic]
    return results
