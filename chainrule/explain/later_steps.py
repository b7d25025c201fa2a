"""Mistakes at a later step of a multi-step exercise.

The trace writes a later step's gradient ``g_p@k`` as one number the engine computes, with
no formula to follow, and the error ``E@k`` after step k likewise. A person works them as step
1 is worked: ``g_p@k`` is ``dE/dp`` of a forward and backward pass at the parameters after step
k - 1, ``E@k`` is ``E`` of a forward pass at the parameters after step k, and every mistake of
:mod:`~chainrule.explain.mistakes` can happen there again. :func:`diagnose` builds that pass as
a trace of its own (the spec, one step, started from those parameters: the correct ones, then
the person's own where their claims change them), tries every mistake family on its ``dE/dp``
(or ``E``) and reports a match as that family's mistake "at step k". Where none fits, the
arithmetic message says which pass the number comes from and the parameters it starts from.

In the pass of a gradient, ``p+`` stands for the parameter after step k (``p@k``), so that a
path sum through the updated weights is the one a person takes at step k; a step-k gradient
the person got right (``g_q@k``, the pass's ``dE/dq``) rules out a mistake that would move it
by more than its written precision, as in :mod:`~chainrule.explain.check`.
"""

from __future__ import annotations

import math
from dataclasses import replace

from .holding import fmt, resembles
from .mistakes import candidates
from .render import formula_text
from .trace import Trace

__all__ = ["diagnose"]

_STEP_KINDS = ("step_gradient", "step_error")


def diagnose(checker, symbol: str, claimed: float, unit: float, own: dict):
    """``(kind, explanation)`` for a wrong claim on a later step's ``g_p@k`` or ``E@k`` that
    no mistake of the whole trace explains, or ``None`` for any other quantity. ``checker``
    is check's (its trace, correct values, held claims, their units and digits); ``own``
    holds the values that follow from the person's own earlier numbers."""
    quantity = checker.trace[symbol]
    if quantity.kind not in _STEP_KINDS:
        return None
    bases = [(checker.correct, "")]
    if any(own[p] != checker.correct[p] for p in quantity.parents):
        bases.append((own, " (applied to your own earlier numbers)"))
    for values, suffix in bases:
        slack = checker.slack(symbol, values) if suffix else 0.0  # the rounding they carried
        found = _family(checker, quantity, values, claimed, unit + slack)
        if found:
            return found[0], "Most likely " + found[1] + suffix
    return "arithmetic", _slip(checker, quantity, own)


def _start(quantity) -> int:
    """The step whose parameters the pass starts from: k - 1 for ``g_p@k``, k for ``E@k``."""
    return quantity.meta["step"] - (quantity.kind == "step_gradient")


def _pass(trace: Trace, quantity, values: dict) -> Trace | None:
    """The spec worked for one step from the parameters ``quantity`` is computed at (its
    parents, one per parameter in the spec's order), with their ``values``; ``None`` where
    the person's numbers give no finite parameters."""
    spec = trace.spec
    start = [values[p] for p in quantity.parents]
    if not all(math.isfinite(v) for v in start):
        return None
    at = dict(zip(spec.parameters, start, strict=True))
    parameters = {n: replace(p, value=at[n]) for n, p in spec.parameters.items()}
    one = replace(spec.optimizer, steps=1)
    return Trace(replace(spec, parameters=parameters, optimizer=one, claims=[], arithmetic=[]))


def _reference(trace: Trace, worked: Trace, quantity, values: dict) -> dict:
    """The pass's values, with ``p+`` the parameter after step k for a step-k gradient (the
    parents of ``E@k``: the optimizer's own step, momentum's or Adam's included)."""
    reference = worked.values()
    if quantity.kind == "step_gradient":
        after = trace[f"E@{quantity.meta['step']}"].parents
        for name, symbol in zip(trace.spec.parameters, after, strict=True):
            if name + "+" in worked:
                reference[name + "+"] = values[symbol]
    return reference


def _confirmed(checker, step: int) -> dict[str, float]:
    """The pass's ``dE/dq`` for each gradient ``g_q@(step + 1)`` the person got right, with
    the precision they wrote it to."""
    trace = checker.trace
    return {
        f"dE/d{trace[s].meta['parameter']}": checker.units[s]
        for s in checker.held
        if trace[s].kind == "step_gradient" and trace[s].meta["step"] == step + 1
    }


def _family(checker, quantity, values: dict, claimed: float, unit: float):
    """The first mistake of the pass from ``values``' parameters that gives ``claimed``:
    ``(kind, description)``, or ``None``."""
    worked = _pass(checker.trace, quantity, values)
    if worked is None:
        return None
    target = "E" if quantity.kind == "step_error" else f"dE/d{quantity.meta['parameter']}"
    reference = _reference(checker.trace, worked, quantity, values)
    confirmed = _confirmed(checker, _start(quantity))
    step = quantity.meta["step"]
    where = f"at step {step} (the pass at the parameters after step {_start(quantity)}), "
    for kind, description, overrides in candidates(
        worked, target, reference, lambda s: formula_text(worked[s].formula)
    ):
        moved = worked.evaluate(overrides)
        if any(
            abs(moved[s] - reference[s]) > u + 1e-6 * abs(reference[s])
            for s, u in confirmed.items()
        ):
            continue
        if resembles(claimed, moved[target], unit):
            return kind, where + description
    return None


def _slip(checker, quantity, own: dict) -> str:
    """The arithmetic message of ``g_p@k`` or ``E@k``: the pass it comes from, the parameters
    that pass starts from (the person's own where their claims change them) and its value."""
    symbol, digits = quantity.symbol, checker.digits
    start = ", ".join(f"{p} = {fmt(own[p], digits)}" for p in quantity.parents)
    names = ", ".join(checker.trace.spec.parameters)
    backward = " and backward" if quantity.kind == "step_gradient" else ""
    yours = " (from your own earlier numbers)" if own[symbol] != checker.correct[symbol] else ""
    return (
        f"Most likely an arithmetic slip: {symbol} = {formula_text(quantity.formula)}: the "
        f"forward{backward} pass of step 1 with {start} in place of {names} gives "
        f"{fmt(own[symbol], digits)}{yours}"
    )
