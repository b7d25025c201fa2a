"""The same worked example as matrix products with their shapes, the way a vectorised course
writes it (python-course.eu's ``e_hidden = W_ho^T e_out``), for any network a spec describes.

The layout is the engine's (``docs/architecture.md``): a batch is rows, ``X`` is
``(n, n_in)``; layer k holds ``W_k`` of shape ``(n_in, n_out)`` (entry ``[i, j]`` is the weight
from neuron i to neuron j, 0 where the spec has no connection) and ``b_k`` of shape ``(n_out,)``::

    Z_k = A_{k-1} @ W_k + b_k          A_k = f(Z_k)
    Delta_L = dE/dZ_L                  (the loss's gradient through f, or Y - T when fused)
    dW_k = A_{k-1}^T @ Delta_k         db_k = the column sums of Delta_k
    dE/dA_{k-1} = Delta_k @ W_k^T      Delta_{k-1} = dE/dA_{k-1} * f'(Z_{k-1})
    W_k+ = W_k - eta dW_k              (plain gradient descent; the per-value form: the others)

A mean reduction divides dE/dY by the number of samples n. A parameter shared by several
entries gets the sum of their gradients. The numbers come from the engine's activations and
losses in float64; the per-value form computes them one by one, and a test holds the two
equal. :mod:`~chainrule.explain.matrix_render` writes them in each format.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from ..core import activations, losses
from . import rounding
from .spec import Spec

__all__ = ["MatrixStep", "matrix_steps", "matrix_tolerances"]


@dataclass
class MatrixStep:
    """One line of the matrix form: ``name = formula`` (the module's ASCII notation; empty for
    a given matrix) with a ``note`` in words, its value and, for a parameter matrix, the spec's
    names of its entries (None where there is no connection)."""

    name: str
    formula: str
    note: str
    value: np.ndarray
    names: list | None = None

    @property
    def expression(self) -> str:
        """The formula, then the note in brackets; or the note alone."""
        if self.formula and self.note:
            return f"{self.formula} ({self.note})"
        return self.formula or self.note


@dataclass(frozen=True)
class _Givens:
    """The numbers a matrix form starts from: parameter values by name, X, T and the rate."""

    parameters: dict
    X: np.ndarray
    T: np.ndarray
    eta: float


def _spec_givens(spec: Spec) -> _Givens:
    return _Givens(
        {name: p.value for name, p in spec.parameters.items()},
        np.array([n.values for n in spec.inputs], dtype=float).T,
        np.array([n.target_values for n in spec.outputs], dtype=float).T,
        spec.learning_rate,
    )


def _parameter_matrices(spec: Spec, parameters: dict):
    """Per layer: W and b as arrays (from ``parameters``, by name), and the spec names of their
    entries (None where absent)."""
    columns = [spec.inputs] + [layer.neurons for layer in spec.layers]
    index = {n.name: (k, i) for k, column in enumerate(columns) for i, n in enumerate(column)}
    Ws = [np.zeros((len(a), len(b))) for a, b in pairwise(columns)]
    bs = [np.zeros(len(b)) for b in columns[1:]]
    W_names = [[[None] * len(b) for _ in a] for a, b in pairwise(columns)]
    b_names = [[None] * len(b) for b in columns[1:]]
    for parameter in spec.parameters.values():
        for source, target in parameter.uses:
            k, j = index[target]
            if source is None:
                bs[k - 1][j] = parameters[parameter.name]
                b_names[k - 1][j] = parameter.name
            else:
                i = index[source][1]
                Ws[k - 1][i, j] = parameters[parameter.name]
                W_names[k - 1][i][j] = parameter.name
    return Ws, bs, W_names, b_names


def matrix_steps(spec: Spec) -> list[MatrixStep]:
    """The forward pass, the error, the backward pass and the update as matrix products."""
    return _steps(spec, _spec_givens(spec))


def matrix_tolerances(spec: Spec) -> dict[str, np.ndarray]:
    """Per step, entry by entry, the largest value that is zero within rounding (the rule of
    :mod:`~chainrule.explain.rounding`, with the spec's numbers as the given ones)."""
    start = _spec_givens(spec)
    givens = {"parameters": np.array(list(start.parameters.values())), "X": start.X,
              "T": start.T, "eta": start.eta}  # fmt: skip

    def evaluate(moved):
        numbers = _Givens(
            dict(zip(start.parameters, moved["parameters"].tolist(), strict=True)),
            moved["X"],
            moved["T"],
            moved["eta"],
        )
        return {step.name: step.value for step in _steps(spec, numbers)}

    return rounding.tolerances(evaluate, givens)


def _steps(spec: Spec, given: _Givens) -> list[MatrixStep]:
    Ws, bs, W_names, b_names = _parameter_matrices(spec, given.parameters)
    X, T = given.X, given.T
    n = X.shape[0]
    functions = [activations.get({"name": ly.activation, **ly.params}) for ly in spec.layers]
    loss = losses.get(
        {"name": "huber", "delta": spec.huber_delta} if spec.loss == "huber" else spec.loss
    )
    steps = [
        MatrixStep("X", "", "the inputs, one sample a row", X),
        MatrixStep("T", "", "the targets", T),
    ]
    A, As, Zs = X, [X], []
    for k, (W, b, f) in enumerate(zip(Ws, bs, functions, strict=True), 1):
        previous = "X" if k == 1 else f"A{k - 1}"
        steps.append(MatrixStep(f"W{k}", "", "weights", W, W_names[k - 1]))
        steps.append(MatrixStep(f"b{k}", "", "biases", b, b_names[k - 1]))
        Z = A @ W + b
        A = f(Z)
        Zs.append(Z)
        As.append(A)
        steps.append(MatrixStep(f"Z{k}", f"{previous} @ W{k} + b{k}", "", Z))
        steps.append(MatrixStep(f"A{k}", f"{f.name}(Z{k})", "", A))
    L = len(Ws)
    per_sample = loss.value(A, T, Zs[-1])
    scale = 1.0 / n if spec.reduction == "mean" else 1.0
    total = np.array(per_sample.sum() * scale)
    note = f"the {spec.reduction} over the rows of the per-sample {spec.loss}"
    steps.append(MatrixStep("E", "", note, total))
    gradient = loss.gradient(A, T) * scale
    divided = f" / {n}" if spec.reduction == "mean" and n > 1 else ""
    if loss.fused:
        Delta = gradient
        steps.append(MatrixStep(f"Delta{L}", f"dE/dZ{L} = (A{L} - T){divided}", "", Delta))
    else:
        steps.append(MatrixStep(f"dE/dA{L}", "", f"the loss's gradient{divided}", gradient))
        Delta = functions[-1].backward(gradient, Zs[-1], As[-1])
        steps.append(MatrixStep(f"Delta{L}", *_through(functions[-1].name, L), Delta))
    gradients = [None] * L
    for k in range(L, 0, -1):
        previous = "X" if k == 1 else f"A{k - 1}"
        dW, db = As[k - 1].T @ Delta, Delta.sum(axis=0)
        gradients[k - 1] = (dW, db)
        steps.append(MatrixStep(f"dW{k}", f"{previous}^T @ Delta{k}", "", dW))
        steps.append(MatrixStep(f"db{k}", "", f"the column sums of Delta{k}", db))
        if k > 1:
            back = Delta @ Ws[k - 1].T
            steps.append(MatrixStep(f"dE/dA{k - 1}", f"Delta{k} @ W{k}^T", "", back))
            Delta = functions[k - 2].backward(back, Zs[k - 2], As[k - 1])
            steps.append(
                MatrixStep(f"Delta{k - 1}", *_through(functions[k - 2].name, k - 1), Delta)
            )
    updated = _updated_values(spec, given, gradients, W_names, b_names)
    for k, (W_row_names, b_row_names) in enumerate(zip(W_names, b_names, strict=True), 1):
        W_new = np.array([[updated.get(name, 0.0) for name in row] for row in W_row_names])
        b_new = np.array([updated.get(name, 0.0) for name in b_row_names])
        steps.append(MatrixStep(f"W{k}+", f"W{k} - eta * dW{k}", "", W_new))
        steps.append(MatrixStep(f"b{k}+", f"b{k} - eta * db{k}", "", b_new))
    return steps


def _updated_values(spec: Spec, given: _Givens, gradients, W_names, b_names) -> dict[str, float]:
    """Each parameter after plain gradient descent: a shared one moves by the sum of its
    entries' gradients, a fixed one does not move."""
    total = dict.fromkeys(spec.parameters, 0.0)
    for (dW, db), W_row_names, b_row_names in zip(gradients, W_names, b_names, strict=True):
        for i, row in enumerate(W_row_names):
            for j, name in enumerate(row):
                if name is not None:
                    total[name] += dW[i, j]
        for j, name in enumerate(b_row_names):
            if name is not None:
                total[name] += db[j]
    return {
        name: given.parameters[name] - given.eta * total[name]
        if p.trained
        else given.parameters[name]
        for name, p in spec.parameters.items()
    }


def _through(name: str, k: int) -> tuple[str, str]:
    """The formula and note of ``Delta_k`` from ``dE/dA_k``."""
    if name == "softmax":
        return (
            f"dE/dA{k} @ (diag(a) - a a^T)",
            "through the softmax Jacobian, row by row, a the row of A",
        )
    return f"dE/dA{k} * {name}'(Z{k})", "elementwise"
