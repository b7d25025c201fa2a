"""Worked examples: explain, check and draw backpropagation step by step.

>>> import chainrule as cr
>>> net = cr.MLP([2, 2, 1], activation="sigmoid", output_activation="sigmoid",
...              loss="squared_error", dtype="float64", seed=0)
>>> explanation = cr.explain.explain(net, x=[0.05, 0.10], t=[0.99], learning_rate=0.5)
>>> "dE/dw1 = dE/da1 * da1/dz1 * dz1/dw1" in explanation.render("text")
True
"""

from __future__ import annotations

import math
import sys
import types
from dataclasses import dataclass
from pathlib import Path

from ..core.deprecation import warn_renamed
from ..core.network import Network
from .bridge import StepTable, spec_from_network, spec_network, spec_to_toml, train_steps
from .check import ClaimResult, check_claims
from .matrix_render import MATRIX_RENDERERS
from .render import RENDERERS
from .spec import Spec, SpecError, load_spec, parse_spec
from .trace import Trace

__all__ = [
    "MAX_STEPS",
    "ClaimResult",
    "Explanation",
    "Spec",
    "SpecError",
    "StepTable",
    "Trace",
    "check",
    "explain",
    "load_spec",
    "parse_spec",
    "spec_from_network",
    "spec_network",
    "spec_to_toml",
]


FORMS = {"values": RENDERERS, "matrix": MATRIX_RENDERERS}
"""Per form, its renderer for each format: the per-value form writes one number at a time, the
matrix form the same pass as matrix products with their shapes."""

MAX_STEPS = 1_000_000
"""The most training steps ``explain`` tabulates: about a minute of training for a small worked
example (20 000 steps of seed 001's 2-2-2 network take about a second)."""


@dataclass
class Explanation:
    """A worked example computed in full: the trace, an optional step table, and the verdicts on
    the spec's claims. Renders as text, Markdown (also in Jupyter), LaTeX or JSON, value by value
    or as matrix products."""

    trace: Trace
    steps: StepTable | None = None
    results: list[ClaimResult] | None = None
    digits: int = 9

    @property
    def spec(self) -> Spec:
        return self.trace.spec

    def render(self, format: str = "text", *, form: str = "values") -> str:
        """The explanation in ``format`` ('text', 'markdown', 'latex' or 'json') and ``form``
        ('values', one number at a time, or 'matrix', the same pass as matrix products with
        their shapes); either form ends with the step table and the verdicts on the claims.
        ``format='matrix'`` is short for ``form='matrix'`` in text."""
        if format == "matrix":
            format, form = "text", "matrix"
        if form not in FORMS:
            raise ValueError(f"'form' must be one of {', '.join(FORMS)}, got {form!r}")
        if format not in RENDERERS:
            raise ValueError(
                f"'format' must be one of {', '.join(RENDERERS)} (or 'matrix', short for "
                f"form='matrix'), got {format!r}"
            )
        return FORMS[form][format](self.trace, self.digits, self.steps, self.results)

    def __str__(self) -> str:
        return self.render("text")

    def _repr_markdown_(self) -> str:
        return self.render("markdown")


def _as_spec(source, x, t, learning_rate) -> Spec:
    if isinstance(source, Spec):
        return source
    if isinstance(source, Network):
        if x is None or t is None:
            raise ValueError("explaining a Network needs a sample: pass x=... and t=...")
        return spec_from_network(source, x, t, 0.5 if learning_rate is None else learning_rate)
    if isinstance(source, (str, Path)):
        return load_spec(source)
    raise TypeError(
        f"'source' must be a spec file path, a Spec or a Network, got {type(source).__name__}"
    )


def explain(
    source, x=None, t=None, *, learning_rate: float | None = None, steps: int = 0, digits: int = 9
) -> Explanation:
    """Work a backpropagation example out in full.

    Parameters
    ----------
    source : str, path, Spec or Network
        A spec file (see ``docs/spec-format.md``), a parsed spec, or a network of Dense layers
        (then ``x`` and ``t`` give the one sample; names follow :func:`spec_from_network`).
    x, t : array-like, optional
        The sample for a network: one row of inputs and targets, or a batch of rows (its
        error is the mean over the rows, as ``loss_and_gradients`` computes it).
    learning_rate : float, optional
        For a network (default 0.5); a spec carries its own.
    steps : int, default=0
        When > 0, also train for this many gradient-descent steps and tabulate the error
        (at most :data:`MAX_STEPS`).
    digits : int, default=9
        Significant digits shown.

    Returns
    -------
    Explanation
    """
    spec = _as_spec(source, x, t, learning_rate)
    if isinstance(steps, bool) or not isinstance(steps, int) or not 0 <= steps <= MAX_STEPS:
        raise ValueError(f"'steps' must be an integer from 0 to {MAX_STEPS}, got {steps!r}")
    _check_digits(digits)
    trace = Trace(spec)
    _check_finite(trace)
    results = check_claims(trace, digits=digits) if spec.claims else None
    return Explanation(trace, train_steps(spec, steps) if steps else None, results, digits)


def _check_finite(trace: Trace) -> None:
    """Refuse a worked example whose arithmetic overflows (its given numbers are finite, but
    one it computes is not): nothing it would show could be checked."""
    for symbol, quantity in trace.quantities.items():
        if not math.isfinite(quantity.value):
            raise SpecError(
                f"{trace.spec.source}: the worked example overflows: {symbol} = "
                f"{quantity.value}, computed from the file's numbers. Fix: give numbers of a "
                "smaller magnitude"
            )


def _check_digits(digits) -> None:
    if isinstance(digits, bool) or not isinstance(digits, int) or digits < 1:
        raise ValueError(f"'digits' must be an integer >= 1 (significant digits), got {digits!r}")


def check(source, *, digits: int = 9) -> list[ClaimResult]:
    """Check the claims in a spec file (or Spec); see :mod:`chainrule.explain.check`."""
    _check_digits(digits)
    trace = Trace(_as_spec(source, None, None, None))
    _check_finite(trace)  # as explain: no claim can be checked against an overflow
    return check_claims(trace, digits=digits)


class _CallableModule(types.ModuleType):
    """``chainrule.explain(...)`` called the function before the subpackage could be imported
    as itself (0.1): it still does, for one release, with a FutureWarning."""

    def __call__(self, *args, **kwargs):
        warn_renamed("calling chainrule.explain(...)", "chainrule.explain.explain(...)")
        return explain(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
