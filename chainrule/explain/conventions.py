"""Momentum and Nesterov momentum written in another convention than the spec's, as candidate
mistakes for :mod:`~chainrule.explain.check`, and whether a learner's update goes with their
velocity.

The spec's convention is torch.optim.SGD's (``g`` the gradient, ``t`` the step)::

    momentum   v = g (t = 1), v = mu v + g     w+ = w - eta v
    nesterov   v as for momentum                w+ = w - eta (g + mu v)

The other conventions recognised, for the same method::

    classic              v = mu v - g                    w+ = w + eta v
    classic, eta inside  v = mu v - eta g                w+ = w + v
    Keras (Nesterov)     v = mu v - eta g                w+ = w + mu v - eta g
    look-ahead           v = mu v - eta grad(w + mu v)   w+ = w + v   (Sutskever et al., 2013)
    plain momentum where Nesterov is asked               w+ = w - eta v

Their velocities start at 0, so the first is ``-g`` or ``-eta g``. With a constant rate the
classic and Keras velocities are torch's times -1 or -eta and their updates give torch's
parameters: a learner who keeps to one of them gets the spec's ``w+``, and only the velocities
differ. The look-ahead form is torch's Nesterov with the parameters moved: its look-ahead point
``w + mu v`` is torch's parameter, so its gradients are the trace's, its velocities are Keras's
and its parameters are torch's plus ``eta mu v`` (``v`` torch's velocity); its first step is the
plain step ``w - eta g``. Every convention is thus computed from the trace's own numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .holding import ClaimResult

__all__ = ["momentum_conventions", "nesterov_conventions", "refine"]


@dataclass(frozen=True)
class Convention:
    """A way of writing momentum: its name, velocity and update rules, and whether the learning
    rate sits inside the velocity."""

    name: str
    velocity: str
    update: str
    rate_inside: bool


CLASSIC = Convention("the classic convention", "v = mu*v - g", "w+ = w + eta*v", False)
CLASSIC_RATE = Convention(
    "the classic convention with eta inside the velocity", "v = mu*v - eta*g", "w+ = w + v", True
)
KERAS = Convention("Keras's convention", "v = mu*v - eta*g", "w+ = w + mu*v - eta*g", True)
LOOKAHEAD = Convention(
    "the look-ahead form of Sutskever et al.",
    "v = mu*v - eta*(the gradient at w + mu*v)",
    "w+ = w + v",
    True,
)
# the conventions of each optimizer's velocities (the look-ahead form's are Keras's)
_VELOCITIES = {"momentum": (CLASSIC, CLASSIC_RATE), "nesterov": (KERAS,)}
_SHARED = {KERAS: f"; {LOOKAHEAD.name} has the same velocities, then {LOOKAHEAD.update}"}
_TORCH = {
    "momentum": "v = mu*v + g, w+ = w - eta*v",
    "nesterov": "v = mu*v + g, w+ = w - eta*(g + mu*v)",
}
_KINDS = ("momentum_convention", "nesterov_convention")
_SPEC_ASKS = "; the spec asks for torch's "


def _optimizer(trace) -> str:
    return trace.spec.optimizer.name


def _velocities(trace, quantity, values):
    """``(convention, formula, value)`` for a velocity written in each other convention: at step
    1 ``-g`` (or ``-eta g``); later ``mu v - g`` (or ``mu v - eta g``) with the previous
    velocity as ``values`` have it (a learner's own, in their convention), and with torch's
    previous one in that convention (torch's velocity times -1 or -eta)."""
    name, meta = quantity.symbol, quantity.meta
    g, eta, mu = meta["gradient"], values["eta"], values["mu"]
    for convention in _VELOCITIES[_optimizer(trace)]:
        rate = "eta*" if convention.rate_inside else ""
        scale = -eta if convention.rate_inside else -1.0
        if meta["step"] == 1:
            yield convention, f"-{rate}{g}", scale * values[g]
        else:
            formula = f"mu*{meta['previous']} - {rate}{g}"
            yield convention, formula, mu * values[meta["previous"]] + scale * values[g]
            yield convention, formula, scale * values[name]


def _velocity_candidates(trace, quantity, values):
    """``(words, overrides)`` for a velocity written in another convention than torch's. What
    is computed from it (the update of the same step, the next velocity) keeps the base's
    value: a learner keeps to one convention, whose own update gives the spec's parameters, so
    the candidate explains the velocity itself and nothing after it."""
    name, opt = quantity.symbol, _optimizer(trace)
    kept = {q.symbol: values[q.symbol] for q in trace.quantities.values() if name in q.parents}
    for convention, formula, value in _velocities(trace, quantity, values):
        yield (
            f"{name} = {formula}: {convention.name}, {convention.velocity} (then "
            f"{convention.update}{_SHARED.get(convention, '')}){_SPEC_ASKS}{_TORCH[opt]}",
            {**kept, name: value},
        )


def _nesterov_update_candidates(quantity, values):
    """``(words, overrides)`` for a Nesterov update written as plain momentum's ``w - eta v``,
    or by the look-ahead form: torch's ``w+`` plus ``eta mu v`` (the whole sheet in that form),
    or ``w + v`` with the person's own look-ahead velocity. At step 1 both are the plain step
    ``w - eta g``."""
    name, meta = quantity.symbol, quantity.meta
    old, velocity, eta = meta["old"], meta["velocity"], values["eta"]
    asks = f"{_SPEC_ASKS}Nesterov {_TORCH['nesterov']}"
    lookahead = f"{LOOKAHEAD.name}, {LOOKAHEAD.velocity}, {LOOKAHEAD.update}"
    plain = {name: values[old] - eta * values[velocity]}
    if meta["step"] == 1:
        yield (
            f"{name} = {old} - eta*{velocity} is the plain step w - eta*g: plain momentum's "
            f"update, and the first step of {lookahead}{asks}",
            plain,
        )
        return
    yield f"{name} = {old} - eta*{velocity} is plain momentum's update{asks}", plain
    for value in (
        values[name] + eta * values["mu"] * values[velocity],
        values[old] + values[velocity],
    ):
        yield f"{name} follows {lookahead}{asks}", {name: value}


def momentum_conventions(trace, quantity, values, describe):
    """A momentum velocity in the classic convention (see the module docstring)."""
    if _optimizer(trace) == "momentum":
        for words, overrides in _velocity_candidates(trace, quantity, values):
            yield "momentum_convention", words, overrides


def nesterov_conventions(trace, quantity, values, describe):
    """A Nesterov velocity in Keras's convention (the look-ahead form's), or a Nesterov update
    as plain momentum's or by the look-ahead form (see the module docstring)."""
    if _optimizer(trace) != "nesterov":
        return
    if quantity.kind == "velocity":
        found = _velocity_candidates(trace, quantity, values)
    else:
        found = _nesterov_update_candidates(quantity, values)
    for words, overrides in found:
        yield "nesterov_convention", words, overrides


# -- the learner's update beside their velocity ------------------------------------------------


def refine(trace, results: dict) -> dict:
    """The verdicts ``results`` (by symbol, every claim judged) told with each update beside its
    velocity where that velocity is written in another convention: an update that holds (or
    follows the look-ahead form) makes the velocity's verdict "consistent with your update";
    an update that follows from the velocity by torch's rule (``inherited``) subtracts a
    velocity written in the other convention, and is named so."""
    refined = dict(results)
    for symbol, result in results.items():
        velocity = trace[symbol].meta.get("velocity") if trace[symbol].kind == "update" else None
        if velocity not in results or results[velocity].kind not in _KINDS:
            continue
        if result.kind == "inherited":
            refined[symbol] = _mixed_update(trace, result, results[velocity])
        elif result.ok or result.kind in _KINDS:
            refined[velocity] = _consistent(results[velocity], result)
    return refined


def _consistent(velocity: ClaimResult, update: ClaimResult) -> ClaimResult:
    """The velocity's verdict saying that the learner's update goes with it: it holds (each
    convention's own update gives the spec's parameters) or it follows the look-ahead form."""
    how = ""
    if not update.ok:
        if LOOKAHEAD.name not in update.diagnosis:
            return velocity
        how = f" by {LOOKAHEAD.name} ({LOOKAHEAD.update})"
    words = f": consistent with your update {update.name}{how}, but the spec asks for torch's "
    return replace(velocity, diagnosis=velocity.diagnosis.replace(_SPEC_ASKS, words, 1))


def _mixed_update(trace, update: ClaimResult, velocity: ClaimResult) -> ClaimResult:
    """An update with torch's rule on a velocity written in another convention (the one its
    verdict names)."""
    opt = _optimizer(trace)
    convention = next(c for c in _VELOCITIES[opt] if f": {c.name}, " in velocity.diagnosis)
    head = update.diagnosis.split(". ", 1)[0]
    return replace(
        update,
        kind=velocity.kind,
        diagnosis=f"{head}. Most likely {update.name} subtracts a velocity written in the other "
        f"convention: your {velocity.name} follows {convention.name} ({convention.velocity}), "
        f"whose update is {convention.update}, and {update.name} applies torch's update to it "
        f"(torch's {_TORCH[opt]}): a velocity and its update go together",
    )
