"""When a computed number of a worked example is zero within rounding.

Every given number (input, target, parameter, rate) is stored in binary with a relative error
of up to eps/2 (0.1 is not exact in float64; eps = 2^-52), and each operation on it rounds
again. A sum whose terms cancel in exact arithmetic keeps only that noise:
``z1 = 0.1*3 + 1*(-0.3)`` is 0 written in decimals and 5.55e-17 in float64.

The size of the noise is measured, not guessed. The whole example is recomputed with each given
number g moved to ``g * (1 + u*h)`` and to ``g * (1 - u*h)`` (u uniform in [-1, 1] from a fixed
seed, h = 1e-8; two such draws); a quantity's *sensitivity* S is the largest central difference
``|v(+) - v(-)| / 2h``: the change of its value per unit of relative error in the givens. For a
sum of products S is of the size of the terms, not of their sum, so a cancellation is a value
far below S (a central difference, so that E = (t - y)^2/2 near its minimum is not mistaken for
noise by its curvature). The rule:

    a value v is zero within rounding when  |v| <= 16 * eps * S

(16 allows for the rounding of a dozen operations along the way). A value that is zero for
*every* choice of the givens (the gradient of a bias shared by all the outputs of a softmax
with cross-entropy: the sum of y_j - t_j, and the y_j sum to 1) has no such S: moving the
givens leaves it 0, and its noise with it. So S is also at least the value's own *scale* A,
measured step by step through the trace: each quantity's parents moved one at a time,
``A(v) = sum over parents p of |dv/dp| * (|p| + A(p))`` (A of a given number is its size), the
size of the terms it is made of and of the noise they carry in. Such a value is shown as 0,
and a claim written ``0`` (an exact zero) holds for it. A value that is small but no
cancellation keeps its digits: 1e-20 = 1e-10 * 1e-10 has S of 2e-20 or less and is shown as it
is. A value that is exactly 0 stays 0.

The same rule zeroes the entries of the matrix form (:func:`~chainrule.explain.matrix.
matrix_tolerances`, the spec's numbers moved) and judges an ``[arithmetic]`` claim written 0
(the expression's numbers and names moved). A net input shown as 0 that is not 0 in float64
still decides a relu, leaky_relu or elu derivative by its sign, as the engine computes it;
the explanation says so beside that derivative.
"""

from __future__ import annotations

import math
from collections import ChainMap

import numpy as np

__all__ = ["DRAWS", "FACTOR", "STEP", "rounding_tolerances", "shown_values", "tolerances", "zeroed"]

STEP = 1e-8
"""The relative move of each given number when the sensitivity is measured."""

FACTOR = 16
"""Rounding errors allowed, in units of eps times the sensitivity."""

DRAWS = 2
"""How many random directions the given numbers are moved in."""

_EPS = float(np.finfo(np.float64).eps)


def tolerances(evaluate, givens: dict) -> dict:
    """``16 * eps * S`` for every result of ``evaluate``: S is the largest central difference
    ``|v(+) - v(-)| / 2h`` over the draws, with each given number (a float or an array, moved
    element by element) multiplied by ``1 +- u*h``. ``evaluate`` maps a dict like ``givens`` to
    a dict of floats or arrays. A result that leaves a formula's domain when moved gets 0: then
    only an exact zero is zero."""
    rng = np.random.default_rng(0)
    sensitivity: dict = {}
    for _ in range(DRAWS):
        draw = {g: rng.uniform(-1.0, 1.0, size=np.shape(v)) for g, v in givens.items()}
        up, down = (
            evaluate({g: _moved(v, sign * draw[g]) for g, v in givens.items()})
            for sign in (1.0, -1.0)
        )
        for key, value in up.items():
            change = np.abs(np.asarray(value) - np.asarray(down[key])) / (2 * STEP)
            sensitivity[key] = np.maximum(sensitivity.get(key, 0.0), change)  # nan stays nan
    return {key: FACTOR * _EPS * np.nan_to_num(s, nan=0.0) for key, s in sensitivity.items()}


def _moved(value, u):
    moved = np.asarray(value) * (1.0 + u * STEP)
    return float(moved) if moved.ndim == 0 else moved


def rounding_tolerances(trace) -> dict[str, float]:
    """For every quantity of ``trace``, the largest value that is zero within rounding, its
    given numbers (inputs, targets, parameters, rates) moved."""
    values = trace.values()
    givens = {q.symbol: values[q.symbol] for q in trace.quantities.values() if q.section == "given"}
    scale = _scales(trace, values)
    return {
        s: max(float(t), FACTOR * _EPS * scale[s])
        for s, t in tolerances(trace.evaluate, givens).items()
    }


def _scales(trace, values: dict) -> dict[str, float]:
    """Per quantity, ``A(v) = sum over parents p of |dv/dp| * (|p| + A(p))``, each ``dv/dp`` a
    forward difference with ``p`` moved by ``STEP`` times its own scale (see the module
    docstring); a given number's scale is its size."""
    scale: dict[str, float] = {}
    for symbol, quantity in trace.quantities.items():
        value = values[symbol]
        if not quantity.parents or not math.isfinite(value):
            scale[symbol] = abs(value) if math.isfinite(value) else 0.0
            continue
        total = 0.0
        for parent in quantity.parents:
            size = abs(values[parent]) + scale[parent]
            if not math.isfinite(size) or size == 0:
                continue
            move = STEP * size
            if move == 0:  # a subnormal size: no step that small exists
                continue
            try:
                moved = quantity.compute(ChainMap({parent: values[parent] + move}, values))
            except (ValueError, ZeroDivisionError, OverflowError):
                continue
            slope = abs(moved - value) / move
            if math.isfinite(slope):
                total += slope * size
        scale[symbol] = total
    return scale


def zeroed(value, tolerance):
    """``value`` (a float or an array) with each entry that is zero within ``tolerance`` set to
    0."""
    if np.ndim(value) == 0:
        return 0.0 if abs(value) <= tolerance else value
    return np.where(np.abs(value) <= tolerance, 0.0, value)


def shown_values(trace) -> dict[str, float]:
    """The values of ``trace`` as a worked example shows them: each zero within rounding (see
    the module docstring) is 0, every other value is unchanged."""
    tolerance = trace.rounding_tolerances
    return {symbol: zeroed(value, tolerance[symbol]) for symbol, value in trace.values().items()}
