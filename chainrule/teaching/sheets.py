"""The students' sheets and the key in each format: PDF (Typst), Markdown, LaTeX.

A Typst sheet: the title with the student's name and id, the task in words, the network drawn
with Typst's own shapes (:mod:`~chainrule.teaching.figure`), the given numbers, and a table of
the asked quantities with an empty cell each. Every name is a Typst string literal
(:mod:`~chainrule.teaching.typesetting`).
"""

from __future__ import annotations

from .figure import RADIUS, Figure, Label
from .key import key_latex, key_markdown, key_typst
from .plain import sheet_latex, sheet_markdown
from .task import Sheet, sheet_of
from .typesetting import compile_pdf, symbol_typst, typst_string, typst_text

__all__ = ["PAGE", "render_key", "render_sheets", "sheet_typst"]

PAGE = '#set page(paper: "a4", margin: (x: 1.8cm, y: 1.6cm))\n#set text(size: 10pt)\n'
"""The page of every Typst document here."""


def _cm(value: float) -> str:
    return f"{value:.3f}cm"


def _label_typst(label: Label, figure: Figure) -> str:
    size = "6.5pt" if label.size == "tiny" else "8pt"
    dy = _cm(label.y - figure.height / 2)
    if label.align == "center":
        where, dx = "center + horizon", _cm(label.x - figure.width / 2)
    elif label.align == "left":
        where, dx = "left + horizon", _cm(label.x)
    else:
        where, dx = "right + horizon", _cm(label.x - figure.width)
    body = f"text(size: {size}, {typst_string(label.text)})"
    return f"#place({where}, dx: {dx}, dy: {dy}, box(fill: white, inset: 1.2pt, {body}))"


def figure_typst(figure: Figure) -> str:
    """The drawing: edges, neurons, then every label over them."""
    out = [f"#box(width: {_cm(figure.width)}, height: {_cm(figure.height)})["]
    for a, b, _ in figure.edges:
        out.append(
            f"#place(top + left, line(start: ({_cm(a.x)}, {_cm(a.y)}), "
            f"end: ({_cm(b.x)}, {_cm(b.y)}), stroke: 0.6pt + luma(90)))"
        )
    for node in figure.nodes.values():
        r = RADIUS
        out.append(
            f"#place(top + left, dx: {_cm(node.x - r)}, dy: {_cm(node.y - r)}, "
            f'circle(radius: {_cm(r)}, stroke: 0.8pt, fill: rgb("#eef3fb"), '
            f"align(center + horizon, text(size: 9pt, {typst_string(node.name)}))))"
        )
    out += [_label_typst(label, figure) for _, _, label in figure.edges]
    out += [_label_typst(label, figure) for label in figure.labels]
    return "\n".join(out) + "\n]"


def _header_typst(sheet: Sheet) -> str:
    name = typst_text(sheet.student.name) if sheet.student.name else "#box(width: 5cm, repeat[.])"
    return (
        f"#grid(columns: (1fr, auto), gutter: 1em,\n"
        f'  text(size: 15pt, weight: "bold", {typst_string(sheet.title)}),\n'
        f"  [Name: {name} \\ ID: {typst_text(sheet.student.id)}])\n"
        "#line(length: 100%, stroke: 0.5pt)\n"
    )


def _cells(*cells: str) -> str:
    return ", ".join(f"[{cell}]" for cell in cells)


_TABLE = "stroke: 0.4pt + luma(160), inset: 4pt"


def _given_table(rows: list[tuple[str, str, str]]) -> str:
    cells = [
        _cells(f"${symbol_typst(symbol)}$", typst_text(where), typst_text(value))
        for symbol, where, value in rows
    ]
    return (
        f"table(columns: 3, {_TABLE},\n  [*name*], [*where*], [*value*],\n  "
        + ",\n  ".join(cells)
        + ")"
    )


def _givens_typst(sheet: Sheet) -> str:
    """The given numbers: one table, or two side by side when they are many; a batch's
    samples in a table of their own."""
    half = (len(sheet.givens) + 1) // 2 if len(sheet.givens) > 8 else len(sheet.givens)
    parts = [_given_table(sheet.givens[:half])]
    parts += [_given_table(sheet.givens[half:])] if half < len(sheet.givens) else []
    if sheet.samples:
        header, *samples = sheet.samples
        parts.append(
            f"table(columns: {len(header)}, {_TABLE},\n  "
            + _cells(*(f"*{typst_text(h)}*" for h in header))
            + ",\n  "
            + ",\n  ".join(_cells(*(typst_text(c) for c in row)) for row in samples)
            + ")"
        )
    columns = ", ".join(["auto"] * len(parts))
    return (
        f"== Given\n#grid(columns: ({columns},), column-gutter: 1.2em,\n"
        + ",\n".join(parts)
        + ")\n"
    )


def _answers_typst(sheet: Sheet) -> str:
    rows = [
        _cells(f"${symbol_typst(symbol)}$ #h(0.6em) #text(size: 7pt, fill: luma(90), "
               f"raw({typst_string(symbol)}))", "")
        for symbol in sheet.ask
    ]  # fmt: skip
    return (
        f"== Your answers ({sheet.digits} significant digits)\n"
        "#table(columns: (5.5cm, 1fr), rows: (auto, 0.9cm), stroke: 0.5pt, inset: 5pt,\n"
        "  [*quantity*], [*your answer*],\n  " + ",\n  ".join(rows) + ")\n"
    )


def sheet_typst(sheet: Sheet) -> str:
    """A student's sheet as a Typst document."""
    task = "\n\n".join(typst_text(sentence) for sentence in sheet.task)
    return (
        PAGE
        + _header_typst(sheet)
        + f"\n{task}\n\n#align(center, {figure_typst(sheet.figure).removeprefix('#')})\n\n"
        + _givens_typst(sheet)
        + "\n"
        + _answers_typst(sheet)
    )


def render_sheets(format: str, template, variants) -> list[bytes]:
    """Every variant's sheet in ``format`` ('pdf', 'markdown' or 'latex'), in order."""
    sheets = [sheet_of(template, variant) for variant in variants]
    if format == "pdf":
        return [compile_pdf(sheet_typst(sheet)) for sheet in sheets]
    render = sheet_markdown if format == "markdown" else sheet_latex
    return [render(sheet).encode("utf-8") for sheet in sheets]


def render_key(format: str, template, variants) -> bytes:
    """The key (every variant's worked solution) in ``format``."""
    if format == "pdf":
        return compile_pdf(PAGE + key_typst(template, variants))
    render = key_markdown if format == "markdown" else key_latex
    return render(template, variants).encode("utf-8")
