"""Check a person's hand-computed numbers against the trace and say what went wrong.

A claim holds when the correct value, rounded or truncated to the claim's last written digit,
gives the claim, or when the value computed from the person's own earlier claims (where those
hold) does (rounding carried forward). A claim that does not hold gets the most
likely mistake, tried in this order:

1. ``inherited``: right given the person's own earlier wrong numbers;
2. ``dropped_path``: a hidden-layer sum that leaves out one or more paths to the outputs;
3. ``updated_weight``: an updated weight (``w+``) used where the old one belongs;
4. ``missing_derivative``: an activation derivative left out of the chain;
5. ``factor_two``: a missing 1/2 or an extra factor 2 (or the reverse);
6. ``sign``: the right size with the wrong sign;
7. ``arithmetic``: none of these; the numbers were combined wrongly.

A mistake is recognised when the claim lies within one part in 10^6 of the value that mistake
would give (looser than the holding test, since the person's rounding travels along).
"""

from __future__ import annotations

import ast
import difflib
import itertools
import math
import operator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from .spec import Claim, SpecError
from .trace import Trace


@dataclass(frozen=True)
class ClaimResult:
    """The verdict on one claim."""

    name: str
    claimed: str
    correct: float
    ok: bool
    kind: str  # ok, rounding, or one of the mistakes above
    diagnosis: str

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "claimed": self.claimed,
            "correct": self.correct,
            "ok": self.ok,
            "kind": self.kind,
            "diagnosis": self.diagnosis,
        }


def last_digit_unit(text: str) -> float:
    """The value of one unit in the last written digit: ``'0.4325'`` -> 1e-4,
    ``'6.9e-4'`` -> 1e-5, ``'12'`` -> 1."""
    try:
        exponent = Decimal(text.strip()).as_tuple().exponent
    except InvalidOperation:
        raise SpecError(f"claim {text!r} is not a number") from None
    return 10.0 ** int(exponent)


def _holds(claimed: float, value: float, unit: float) -> bool:
    """True when ``value`` written to the claim's last digit gives the claim: rounded to the
    nearest, or truncated toward zero (as many textbooks do)."""
    slack = 1e-9 * unit  # the decimal claim itself is stored in binary
    rounded = abs(claimed - value) <= unit / 2 + slack
    truncated = (claimed == 0 or (claimed > 0) == (value > 0)) and abs(claimed) - slack <= abs(
        value
    ) < abs(claimed) + unit + slack
    return rounded or truncated


def _resembles(claimed: float, value: float, unit: float) -> bool:
    return _holds(claimed, value, unit) or abs(claimed - value) <= 1e-6 * abs(value)


def _fmt(value: float, digits: int) -> str:
    return f"{value:.{digits}g}"


class _Checker:
    def __init__(self, trace: Trace, digits: int):
        self.trace = trace
        self.digits = digits
        self.correct = trace.values()

    def _variants(self, symbol: str):
        """``(kind, description, overrides)`` for each recognised mistake upstream of
        ``symbol``."""
        trace, correct = self.trace, self.correct
        upstream = self.trace.ancestors(symbol) | {symbol}
        for name in [s for s in trace.quantities if s in upstream]:
            quantity = trace[name]
            if quantity.kind == "path_sum" and len(quantity.meta["terms"]) > 1:
                terms = quantity.meta["terms"]
                for size in range(1, len(terms)):
                    for kept in itertools.combinations(terms, size):
                        dropped = [t for t in terms if t not in kept]
                        value = sum(correct[d] * correct[w] for d, w, _ in kept)
                        left_out = ", ".join(f"via {target} ({w})" for _, w, target in dropped)
                        yield (
                            "dropped_path",
                            f"{name} leaves out the path(s) {left_out}: a hidden neuron "
                            f"feeds every output, so {name} = {self._formula(name)} sums "
                            "over every path",
                            {name: value},
                        )
            if quantity.kind == "path_sum" and quantity.meta["terms"]:
                terms = quantity.meta["terms"]
                if all(w + "+" in correct for _, w, _ in terms):
                    value = sum(correct[d] * correct[w + "+"] for d, w, _ in terms)
                    weights = ", ".join(w for _, w, _ in terms)
                    yield (
                        "updated_weight",
                        f"{name} uses the updated weights ({weights} after the step) where "
                        "the old ones belong: every gradient is computed before any update",
                        {name: value},
                    )
            if quantity.kind == "derivative" and correct[name] != 1.0:
                yield (
                    "missing_derivative",
                    f"the activation derivative {name} = {self._formula(name)} is left out "
                    "of the chain",
                    {name: 1.0},
                )
            if quantity.kind in ("gradient", "total", "error", "output_grad"):
                for factor, kind, words in (
                    (2.0, "factor_two", "twice"),
                    (0.5, "factor_two", "half"),
                ):
                    hint = (
                        (
                            "the 1/2 in E = 1/2 (t - y)^2 is missing"
                            if factor == 2
                            else "an extra 1/2 crept in"
                        )
                        if quantity.kind in ("total", "error")
                        else (
                            "an extra factor 2 (did (t - y)^2 lose its 1/2?)"
                            if factor == 2
                            else "a factor 2 is missing"
                        )
                    )
                    yield (
                        kind,
                        f"{name} is {words} its correct value: {hint}",
                        {name: factor * correct[name]},
                    )
                yield (
                    "sign",
                    f"{name} has the wrong sign (check y - t against t - y, and "
                    "the minus in w - eta * dE/dw)",
                    {name: -correct[name]},
                )
            if quantity.kind == "update":
                gradient = quantity.parents[2]
                yield (
                    "sign",
                    f"{name} moves with the gradient instead of against it "
                    f"(w + eta * dE/dw instead of w - eta * dE/dw)",
                    {name: correct[quantity.parents[0]] + correct["eta"] * correct[gradient]},
                )

    def _formula(self, symbol: str) -> str:
        from .render import formula_text

        return formula_text(self.trace[symbol].formula)

    def check(self, claims: list[Claim]) -> list[ClaimResult]:
        by_symbol = {}
        for claim in claims:
            if claim.name not in self.trace:
                close = difflib.get_close_matches(claim.name, self.trace.quantities, n=3)
                where = f", line {claim.line}" if claim.line else ""
                fix = " or ".join(map(repr, close)) if close else "a symbol explain shows"
                raise SpecError(
                    f"{self.trace.spec.source}{where}: claim {claim.name!r} names "
                    f"no quantity. Fix: use {fix}"
                )
            by_symbol[claim.name] = claim
        order = [s for s in self.trace.quantities if s in by_symbol]
        results: dict[str, ClaimResult] = {}
        held = self.held = {}
        everything = {s: by_symbol[s].value for s in order}
        for symbol in order:
            claim = by_symbol[symbol]
            unit = last_digit_unit(claim.text)
            correct = self.correct[symbol]
            right = self._fmt(correct)
            if _holds(claim.value, correct, unit):
                results[symbol] = ClaimResult(symbol, claim.text, correct, True, "ok", "correct")
                held[symbol] = claim.value
                continue
            ancestors = self.trace.ancestors(symbol)
            wrong = [s for s in order if s in ancestors and not results[s].ok]
            if not wrong:
                carried = self.trace.evaluate(held)[symbol]
                if _holds(claim.value, carried, unit):
                    results[symbol] = ClaimResult(
                        symbol,
                        claim.text,
                        correct,
                        True,
                        "rounding",
                        f"correct up to the rounding of your earlier values (exact: {right})",
                    )
                    held[symbol] = claim.value
                    continue
            results[symbol] = self._diagnose(symbol, claim, correct, unit, wrong, everything)
        return [results[s] for s in order]

    def _fmt(self, value: float) -> str:
        return _fmt(value, self.digits)

    def _diagnose(self, symbol, claim, correct, unit, wrong, everything) -> ClaimResult:
        head = f"you wrote {claim.text}, the correct value is {self._fmt(correct)}. "
        if wrong:
            mine = {s: v for s, v in everything.items() if s != symbol}
            if _resembles(claim.value, self.trace.evaluate(mine)[symbol], unit):
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
                    head + f"It follows correctly from your own "
                    f"{', '.join(nearest)}, which "
                    f"{'is' if len(nearest) == 1 else 'are'} wrong (an "
                    "inherited error)",
                )
        ancestors = self.trace.ancestors(symbol)
        confirmed = {s: v for s, v in self.held.items() if s in ancestors}
        for kind, description, overrides in self._variants(symbol):
            values = self.trace.evaluate(overrides)
            # a mistake that would change a number the person got right did not happen
            if any(not _resembles(v, values[s], 0.0) for s, v in confirmed.items()):
                continue
            if _resembles(claim.value, values[symbol], unit):
                return ClaimResult(
                    symbol, claim.text, correct, False, kind, head + "Most likely " + description
                )
        quantity = self.trace[symbol]
        from .render import substitution_text

        return ClaimResult(
            symbol,
            claim.text,
            correct,
            False,
            "arithmetic",
            head + f"Most likely an arithmetic slip: {symbol} = "
            f"{self._formula(symbol)} = "
            f"{substitution_text(quantity.formula, self.correct, self.digits)}"
            f" = {self._fmt(correct)}",
        )


_OPERATORS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
}
_FUNCTIONS = {
    "exp": math.exp,
    "log": math.log,
    "sqrt": math.sqrt,
    "tanh": math.tanh,
    "sigmoid": lambda z: 1.0 / (1.0 + math.exp(-z)),
}


def evaluate_expression(expression: str, values: dict[str, float]) -> float:
    """Evaluate arithmetic on numbers and quantity names (``0.08 * w11 / (w11 + w12)``), with
    ``exp``, ``log``, ``sqrt``, ``tanh`` and ``sigmoid``; nothing else is allowed."""

    def walk(node):
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return float(node.value)
        if isinstance(node, ast.Name) and node.id in values:
            return values[node.id]
        if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
            return _OPERATORS[type(node.op)](walk(node.left), walk(node.right))
        if isinstance(node, ast.UnaryOp) and type(node.op) in _OPERATORS:
            return _OPERATORS[type(node.op)](walk(node.operand))
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in _FUNCTIONS
            and len(node.args) == 1
        ):
            return _FUNCTIONS[node.func.id](walk(node.args[0]))
        raise SpecError(
            f"cannot evaluate {ast.unparse(node)!r} in {expression!r}: use numbers, "
            "+ - * / **, quantity names and exp, log, sqrt, tanh, sigmoid"
        )

    try:
        return walk(ast.parse(expression.replace("^", "**"), mode="eval"))
    except SyntaxError as error:
        raise SpecError(f"{expression!r} is not an arithmetic expression ({error.msg})") from None


def _check_arithmetic(item, values: dict[str, float], digits: int) -> ClaimResult:
    claim = item.claim
    value = evaluate_expression(item.expression, values)
    if _holds(claim.value, value, last_digit_unit(claim.text)):
        return ClaimResult(item.name, claim.text, value, True, "ok", "correct")
    return ClaimResult(
        item.name,
        claim.text,
        value,
        False,
        "arithmetic",
        f"you wrote {claim.text}, but {item.expression} = {_fmt(value, digits)}: "
        "an arithmetic slip",
    )


def check_claims(
    trace: Trace, claims: list[Claim] | None = None, digits: int = 9
) -> list[ClaimResult]:
    """Compare each claim (default: the spec's own, then its arithmetic claims) with the
    trace; see the module docstring."""
    results = _Checker(trace, digits).check(trace.spec.claims if claims is None else claims)
    if claims is None:
        values = trace.values()
        results += [_check_arithmetic(item, values, digits) for item in trace.spec.arithmetic]
    return results
