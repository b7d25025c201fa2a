"""The matrix form (:mod:`~chainrule.explain.matrix`) as text, Markdown with LaTeX math, LaTeX
or JSON, each followed by the same step table and verdicts on the claims as the per-value form.
An entry that is zero within rounding is shown as 0 (:mod:`~chainrule.explain.rounding`). Names
from the spec file are escaped as :mod:`~chainrule.explain.render` escapes them."""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np

from ..core.terminal import CONTROLS, printable
from . import rounding
from .matrix import MatrixStep, matrix_steps, matrix_tolerances
from .render import (
    json_text,
    markdown_text,
    operator_latex,
    results_markdown,
    results_text,
    steps_latex,
    steps_markdown,
    steps_text,
    symbol_latex,
)

__all__ = [
    "LAYOUT",
    "MATRIX_RENDERERS",
    "formula_latex",
    "name_latex",
    "render_matrix_json",
    "render_matrix_latex",
    "render_matrix_markdown",
    "render_matrix_text",
    "shown_steps",
]

LAYOUT = "rows are samples; W[i, j] connects neuron i to neuron j"


def shown_steps(spec) -> list[MatrixStep]:
    """The matrix steps with each entry that is zero within rounding set to 0."""
    tolerance = matrix_tolerances(spec)
    return [
        replace(step, value=np.asarray(rounding.zeroed(step.value, tolerance[step.name])) + 0.0)
        for step in matrix_steps(spec)
    ]  # + 0.0: a zero is 0, never -0


def _notes(spec) -> list[str]:
    notes = []
    shared = [p.name for p in spec.parameters.values() if len(p.uses) > 1]
    if shared:
        notes.append(f"shared: {', '.join(shared)}; each one's gradient is the sum of its entries")
    fixed = [p.name for p in spec.parameters.values() if not p.trained]
    if fixed:
        notes.append(f"fixed: {', '.join(fixed)}; they do not train: W+ and b+ keep their values")
    if spec.optimizer.name != "sgd":
        notes.append(
            "the updates above are plain gradient descent; the per-value form writes out "
            f"{spec.optimizer.name}"
        )
    return notes


def _title(spec) -> str:
    return f"{spec.title}: matrix form"


# -- text ------------------------------------------------------------------------------------
def _shape(value: np.ndarray) -> str:
    if value.ndim == 0:
        return "scalar"
    return "(" + ", ".join(map(str, value.shape)) + ("," if value.ndim == 1 else "") + ")"


def _numbers(value: np.ndarray, digits: int) -> str:
    if value.ndim == 0:
        return f"{float(value):.{digits}g}"
    return "[" + ", ".join(_numbers(entry, digits) for entry in value) + "]"


def _names(names) -> str:
    if names and isinstance(names[0], list):
        return "[" + ", ".join(_names(row) for row in names) + "]"
    return "[" + ", ".join(name or "0" for name in names) + "]"


def render_matrix_text(trace, digits: int = 9, steps=None, results=None) -> str:
    """``name (shape) = expression = numbers``, one step a line."""
    spec = trace.spec
    title = printable(_title(spec))
    out = [title, "=" * len(title), LAYOUT, ""]
    for step in shown_steps(spec):
        parts = [f"{step.name} {_shape(step.value)}", step.expression]
        if step.names is not None:
            parts.append(_names(step.names))
        parts.append(_numbers(step.value, digits))
        out.append(" = ".join(parts))
    out += [f"({note})" for note in _notes(spec)]
    out += steps_text(steps, digits) + results_text(results)
    return "\n".join(map(printable, out)) + "\n"  # names from the file: each stays one line


# -- LaTeX pieces ----------------------------------------------------------------------------
_TOKEN = re.compile(r"dE/d[A-Z]\d+|Delta\d+|d[Wb]\d+|[A-Za-z]+\d*\+?|\^T|.")


def name_latex(name: str) -> str:
    """``Delta2`` -> ``\\Delta_{2}``, ``dW1`` -> ``\\mathrm{d}W_{1}``, ``W1+`` ->
    ``W_{1}^{+}``, ``dE/dA1`` -> ``\\frac{\\partial E}{\\partial A_{1}}``."""
    delta = re.fullmatch(r"Delta(\d+)", name)
    if delta:
        return rf"\Delta_{{{delta.group(1)}}}"
    gradient = re.fullmatch(r"d([Wb])(\d+)", name)
    if gradient:
        return rf"\mathrm{{d}}{gradient.group(1)}_{{{gradient.group(2)}}}"
    return symbol_latex(name)


def formula_latex(formula: str) -> str:
    """The module's ASCII notation as LaTeX: ``@`` is a matrix product, ``^T`` a transpose,
    ``*`` an elementwise product (eta's product with a matrix is a plain one)."""
    pieces = []
    for token in _TOKEN.findall(formula.replace("eta * ", "eta ")):
        if token == "@":
            pieces.append(r"\,")
        elif token == "^T":
            pieces.append(r"^{\top}")
        elif token == "*":
            pieces.append(r"\odot")
        elif re.fullmatch(r"[A-Za-z].*", token):
            latex = operator_latex(token)
            pieces.append(latex if latex != token else name_latex(token))
        else:
            pieces.append(token)
    return "".join(pieces)


def _matrix_latex(value: np.ndarray, digits: int) -> str:
    if value.ndim == 0:
        return f"{float(value):.{digits}g}"
    rows = value[None] if value.ndim == 1 else value
    body = r" \\ ".join(" & ".join(f"{v:.{digits}g}" for v in row) for row in rows)
    return rf"\begin{{bmatrix}} {body} \end{{bmatrix}}"


def _names_latex(names) -> str:
    rows = names if names and isinstance(names[0], list) else [names]
    body = r" \\ ".join(" & ".join(symbol_latex(n) if n else "0" for n in row) for row in rows)
    return rf"\begin{{bmatrix}} {body} \end{{bmatrix}}"


def _equation(step: MatrixStep, digits: int) -> str:
    parts = [name_latex(step.name)]
    if step.formula:
        parts.append(formula_latex(step.formula))
    if step.names is not None:
        parts.append(_names_latex(step.names))
    parts.append(_matrix_latex(step.value, digits))
    return " = ".join(parts)


_LATEX_TEXT = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "_": r"\_",
    "$": r"\$",
    "%": r"\%",
    "#": r"\#",
    "&": r"\&",
    "^": r"\textasciicircum{}",
    "~": r"\textasciitilde{}",
}
_LATEX_TEXT_SPECIAL = re.compile(rf"[{re.escape(''.join(_LATEX_TEXT))}]|{CONTROLS.pattern}")


def _escaped(text: str) -> str:
    """Words for LaTeX's text mode (``cross_entropy`` has an underscore, a shared parameter's
    name may hold anything): special characters escaped, a control character written as its
    visible escape (``\\textbackslash{}x1b``)."""
    return _LATEX_TEXT_SPECIAL.sub(
        lambda m: _LATEX_TEXT.get(m.group()) or r"\textbackslash{}" + printable(m.group())[1:],
        text,
    )


def _aside(step: MatrixStep) -> str:
    """The shape and the note: ``(2, 2): elementwise``."""
    return f"{_shape(step.value)}: {step.note}" if step.note else _shape(step.value)


# -- Markdown, LaTeX, JSON -------------------------------------------------------------------
def render_matrix_markdown(trace, digits: int = 9, steps=None, results=None) -> str:
    """Each step as ``$$ ... $$`` LaTeX math with bmatrix matrices, its shape and note below."""
    spec = trace.spec
    out = [f"# {markdown_text(_title(spec))}", "", f"*{LAYOUT}*", ""]
    for step in shown_steps(spec):
        out += [f"$${_equation(step, digits)}$$", "", f"*{step.name} {_aside(step)}*", ""]
    out += [f"*{note}*" for note in _notes(spec)]
    out += steps_markdown(steps, digits) + results_markdown(results, digits)
    return "\n".join(map(printable, out)) + "\n"


def render_matrix_latex(trace, digits: int = 9, steps=None, results=None) -> str:
    """A LaTeX fragment: one ``align*`` environment (amsmath's bmatrix for the matrices)."""
    spec = trace.spec
    out = [
        f"% {printable(_title(spec))}",
        f"% {LAYOUT}",
        r"\paragraph{Matrix form}",
        r"\begin{align*}",
    ]
    rows = [
        _equation(step, digits).replace(" = ", " &= ", 1)
        + rf" && \text{{{_escaped(_aside(step))}}}"
        for step in shown_steps(spec)
    ]
    out += [" \\\\\n".join(rows), r"\end{align*}"]
    out += [f"{_escaped(note)}." for note in _notes(spec)]
    return "\n".join(out + steps_latex(steps, digits)) + "\n"


def render_matrix_json(trace, digits: int = 9, steps=None, results=None) -> str:
    """``matrices``: each step's name, shape, formula, note, entry names and value (nested
    lists, rows are samples); ``notes``; the step table and claims as in the per-value JSON."""
    spec = trace.spec
    document = {
        "title": spec.title,
        "form": "matrix",
        "layout": LAYOUT,
        "matrices": [
            {
                "name": step.name,
                "shape": list(step.value.shape),
                "formula": step.formula or None,
                "note": step.note or None,
                "names": step.names,
                "value": step.value.tolist(),
            }
            for step in shown_steps(spec)
        ],
        "notes": _notes(spec),
    }
    return json_text(document, steps, results)


MATRIX_RENDERERS = {
    "text": render_matrix_text,
    "markdown": render_matrix_markdown,
    "latex": render_matrix_latex,
    "json": render_matrix_json,
}
