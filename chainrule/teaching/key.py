"""The answer key: ``key.csv`` (one row per student, each asked value to full precision) and
the worked solutions of every variant (``key.pdf``, ``key.md``, ``key.tex``), as ``explain``
writes them."""

from __future__ import annotations

import csv
import io

from ..core.terminal import printable
from ..explain.render import SECTIONS, markdown_code, markdown_text, render_latex, render_markdown
from ..explain.trace import Trace
from .plain import LATEX_PREAMBLE, latex_text
from .template import Template
from .typesetting import number_typst, symbol_typst, tokens_typst, typst_string, typst_text
from .variants import Variant

__all__ = [
    "key_csv",
    "key_latex",
    "key_markdown",
    "key_typst",
    "solution_typst",
    "spreadsheet_cell",
]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(text: str) -> str:
    """``text`` as a CSV cell that a spreadsheet shows and never evaluates: a cell starting with
    ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading apostrophe (OWASP's
    advice against formula injection). Ids and numbers never need it; a quantity's name might."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def key_csv(template: Template, variants: list[Variant]) -> str:
    """``id``, then one column per asked quantity, each value as ``repr(float)`` (it reads
    back as the same float)."""
    stream = io.StringIO(newline="")
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(["id", *(spreadsheet_cell(symbol) for symbol in template.ask)])
    for variant in variants:
        writer.writerow([variant.id, *(repr(variant.values[s]) for s in template.ask)])
    return stream.getvalue()


def _who(variant: Variant) -> str:
    return f"{variant.id} ({variant.name})" if variant.name else variant.id


SOLUTION_DIGITS = 3
"""The digits a worked solution shows beyond the ``digits`` the answers are expected to."""


def key_markdown(template: Template, variants: list[Variant]) -> str:
    """A table of every variant's asked values, then every variant's worked solution in
    Markdown (``explain --format markdown``), each under a heading naming the student."""
    digits = template.digits + SOLUTION_DIGITS
    out = [f"# Answer key: {markdown_text(printable(template.spec.title))}", ""]
    out += ["| id | " + " | ".join(markdown_code(s) for s in template.ask) + " |"]
    out += ["|---|" + "---:|" * len(template.ask)]
    out += [
        f"| {markdown_text(v.id)} | "
        + " | ".join(f"{v.values[s]:.{template.digits}g}" for s in template.ask)
        + " |"
        for v in variants
    ]
    for variant in variants:
        out += ["", f"# {markdown_text(printable(_who(variant)))}", ""]
        solution = render_markdown(variant.trace, digits)
        out += solution.splitlines()[1:]  # its own title is the exercise's
    return "\n".join(out) + "\n"


def key_latex(template: Template, variants: list[Variant]) -> str:
    """Every variant's worked solution as LaTeX fragments (``explain --format latex``), each
    under a ``\\section*`` naming the student, in a complete document."""
    out = [LATEX_PREAMBLE, rf"\section*{{Answer key: {latex_text(template.spec.title)}}}"]
    for variant in variants:
        out.append(rf"\section*{{{latex_text(_who(variant))}}}")
        out.append(render_latex(variant.trace, template.digits + SOLUTION_DIGITS))
    out.append(r"\end{document}")
    return "\n".join(out) + "\n"


def _equation_typst(quantity, values: dict, digits: int, tokens: list) -> str:
    parts = [
        symbol_typst(quantity.symbol),
        tokens_typst(tokens, None, digits),
        tokens_typst(tokens, values, digits),
        number_typst(values[quantity.symbol], digits),
    ]
    kept = [p for i, p in enumerate(parts) if p and (i == 0 or p != parts[i - 1])]
    return "$ " + " = ".join(kept) + " $"


def solution_typst(trace: Trace, digits: int) -> str:
    """A worked solution in Typst: a heading per section, an equation per quantity
    (``symbol = formula = numbers = value``), the shortcut and the note under it."""
    values = trace.shown_values()
    out = []
    for section, heading in SECTIONS:
        quantities = trace.section(section)
        if not quantities:
            continue
        out.append(f"=== {heading}")
        if section == "update":
            out.append(f"Learning rate $eta = {number_typst(values['eta'], digits)}$.")
        for quantity in quantities:
            out.append(_equation_typst(quantity, values, digits, quantity.formula))
            if quantity.simplified:
                out.append(_equation_typst(quantity, values, digits, quantity.simplified))
                out.append(f"#emph({typst_string(quantity.meta['simplified_note'])})")
            if quantity.note:
                out.append(f"#emph({typst_string(quantity.note)})")
    return "\n\n".join(out) + "\n"


def _summary_typst(template: Template, variant: Variant) -> str:
    cells = []
    for symbol in template.ask:
        value = variant.values[symbol]
        cells.append(
            f"[${symbol_typst(symbol)}$], [{typst_text(f'{value:.{template.digits}g}')}], "
            f"[{typst_text(repr(value))}]"
        )
    return (
        "#table(columns: 3, stroke: 0.4pt + luma(160), inset: 4pt,\n"
        f"  [*asked*], [*to {template.digits} digits*], [*full precision*],\n  "
        + ",\n  ".join(cells)
        + ")\n"
    )


def _overview_typst(template: Template, variants: list[Variant]) -> str:
    """One row per variant: its id, then each asked value to ``digits`` digits."""
    header = ["[*id*]", *(f"[${symbol_typst(s)}$]" for s in template.ask)]
    rows = [
        ", ".join(
            [f"[{typst_text(v.id)}]"]
            + [f"[{typst_text(f'{v.values[s]:.{template.digits}g}')}]" for s in template.ask]
        )
        for v in variants
    ]
    return (
        f"#text(size: 8pt, table(columns: {len(header)}, stroke: 0.4pt + luma(160), inset: 3pt,"
        "\n  " + ", ".join(header) + ",\n  " + ",\n  ".join(rows) + "))\n"
    )


def key_typst(template: Template, variants: list[Variant]) -> str:
    """The key as a Typst document body: a page per variant, its asked values, then its
    worked solution (explain's, in Typst math)."""
    digits = template.digits + SOLUTION_DIGITS
    out = [
        "#show math.equation.where(block: true): set text(size: 9pt)",
        f"= Answer key: {typst_text(template.spec.title)}",
        f"The asked values of every variant to {template.digits} significant digits; then, a "
        f"page each, every variant's worked solution ({digits} significant digits).",
        _overview_typst(template, variants),
    ]
    for variant in variants:
        out += [
            "#pagebreak(weak: true)",
            f"== {typst_text(_who(variant))}",
            _summary_typst(template, variant),
            solution_typst(variant.trace, digits),
        ]
    return "\n\n".join(out) + "\n"
