"""The sheets as Markdown and as LaTeX (``--format markdown``, ``--format latex``).

Markdown: the task, the given numbers and an empty answer table; every name a code span or
escaped text (:func:`~chainrule.explain.render.markdown_text`: no markup, no HTML). LaTeX: a
complete document with the network drawn in TikZ; every text escaped by :func:`latex_text`
(no ``\\``, ``{``, ``$``, ``%``, ``#`` ... acts), a name in math by
:func:`~chainrule.explain.render.symbol_latex`. It compiles with pdflatex, xelatex or lualatex;
a name with characters beyond those of the sheet's own words needs a Unicode engine.
"""

from __future__ import annotations

import re

from ..core.terminal import CONTROLS, printable
from ..explain.render import markdown_code, markdown_text, symbol_latex
from .figure import RADIUS, Figure, Label
from .task import Sheet

__all__ = ["LATEX_PREAMBLE", "latex_text", "sheet_latex", "sheet_markdown"]


def _md(text: str) -> str:
    return markdown_text(printable(text))


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return out + ["| " + " | ".join(row) + " |" for row in rows]


def sheet_markdown(sheet: Sheet) -> str:
    """A student's sheet in Markdown."""
    name = _md(sheet.student.name) if sheet.student.name else "…"
    out = [f"# {_md(sheet.title)}", "", f"**Name:** {name} · **ID:** {_md(sheet.student.id)}", ""]
    for sentence in sheet.task:
        out += [_md(sentence), ""]
    out += ["## Given", ""]
    rows = [[markdown_code(s), _md(w), _md(v)] for s, w, v in sheet.givens]
    out += _md_table(["name", "where", "value"], rows) + [""]
    if sheet.samples:
        header, *samples = sheet.samples
        out += _md_table([_md(h) for h in header], [[_md(c) for c in r] for r in samples]) + [""]
    out += [f"## Your answers ({sheet.digits} significant digits)", ""]
    out += _md_table(["quantity", "your answer"], [[markdown_code(s), " "] for s in sheet.ask])
    return "\n".join(out) + "\n"


_LATEX_TEXT = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "$": r"\$",
    "&": r"\&",
    "#": r"\#",
    "^": r"\textasciicircum{}",
    "_": r"\_",
    "%": r"\%",
    "~": r"\textasciitilde{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
    '"': r"\textquotedbl{}",
    "→": r"\ensuremath{\rightarrow}",
    "½": r"\ensuremath{\tfrac{1}{2}}",
    "Σ": r"\ensuremath{\Sigma}",
    "−": r"\ensuremath{-}",
    "²": r"\ensuremath{^2}",
    "·": r"\ensuremath{\cdot}",
    "√": r"\ensuremath{\sqrt{}}",
    "η": r"\ensuremath{\eta}",
    "μ": r"\ensuremath{\mu}",
    "β": r"\ensuremath{\beta}",
    "ε": r"\ensuremath{\epsilon}",
    "δ": r"\ensuremath{\delta}",
    "≤": r"\ensuremath{\le}",
    "…": r"\ldots{}",
}
_LATEX_SPECIAL = re.compile("[" + re.escape("".join(_LATEX_TEXT)) + "]")


def latex_text(text: str) -> str:
    """``text`` as LaTeX text that shows as written: every special character escaped, the
    sheet's own symbols (→, Σ, η, ...) as math, a control character as its visible escape."""
    shown = CONTROLS.sub(lambda m: printable(m.group()), str(text))
    return _LATEX_SPECIAL.sub(lambda m: _LATEX_TEXT[m.group()], shown)


LATEX_PREAMBLE = r"""\documentclass[10pt]{article}
\usepackage{iftex}
\ifPDFTeX
  \usepackage[utf8]{inputenc}
  \usepackage[T1]{fontenc}
\else
  \usepackage{fontspec}
\fi
\usepackage{amsmath}
\usepackage{tikz}
\usepackage[a4paper, margin=1.8cm]{geometry}
\setlength{\parindent}{0pt}
\setlength{\parskip}{0.5em}
\begin{document}
"""
"""The start of every LaTeX document here, to ``\\begin{document}``: pdflatex reads the
sheet's UTF-8 text, xelatex and lualatex load fontspec."""


def _label_latex(label: Label) -> str:
    anchor = {"center": "center", "left": "west", "right": "east"}[label.align]
    size = r"\tiny" if label.size == "tiny" else r"\scriptsize"
    return (
        f"\\node[fill=white, inner sep=1pt, anchor={anchor}, font={size}] at "
        f"({label.x:.3f},{label.y:.3f}) {{{latex_text(label.text)}}};"
    )


def figure_latex(figure: Figure) -> str:
    """The drawing in TikZ (y downwards, as the figure's coordinates are)."""
    out = [r"\begin{tikzpicture}[x=1cm, y=-1cm]"]
    out += [
        f"\\draw[gray] ({a.x:.3f},{a.y:.3f}) -- ({b.x:.3f},{b.y:.3f});" for a, b, _ in figure.edges
    ]
    for node in figure.nodes.values():
        out.append(f"\\draw[fill=blue!5] ({node.x:.3f},{node.y:.3f}) circle ({RADIUS});")
        name = latex_text(node.name)
        out.append(f"\\node[font=\\footnotesize] at ({node.x:.3f},{node.y:.3f}) {{{name}}};")
    out += [_label_latex(label) for _, _, label in figure.edges]
    out += [_label_latex(label) for label in figure.labels]
    return "\n".join(out + [r"\end{tikzpicture}"])


def _latex_rows(rows: list[list[str]]) -> str:
    return "\n".join(" & ".join(row) + r" \\" for row in rows)


def sheet_latex(sheet: Sheet) -> str:
    """A student's sheet as a complete LaTeX document."""
    name = latex_text(sheet.student.name) if sheet.student.name else r"\rule{5cm}{0.4pt}"
    out = [
        LATEX_PREAMBLE,
        f"{{\\Large\\bfseries {latex_text(sheet.title)}}}\\hfill "
        f"\\begin{{tabular}}[b]{{l}}Name: {name}\\\\ ID: {latex_text(sheet.student.id)}"
        "\\end{tabular}\n\n\\hrule\n",
        *(latex_text(sentence) + "\n" for sentence in sheet.task),
        "\\begin{center}\n" + figure_latex(sheet.figure) + "\n\\end{center}\n",
        "\\subsection*{Given}\n\\begin{tabular}{lll}\nname & where & value \\\\ \\hline",
        _latex_rows(
            [[f"${symbol_latex(s)}$", latex_text(w), latex_text(v)] for s, w, v in sheet.givens]
        ),
        "\\end{tabular}\n",
    ]
    if sheet.samples:
        header, *samples = sheet.samples
        out += [
            f"\\begin{{tabular}}{{{'l' * len(header)}}}",
            _latex_rows([[latex_text(h) for h in header]]) + " \\hline",
            _latex_rows([[latex_text(c) for c in row] for row in samples]),
            "\\end{tabular}\n",
        ]
    answers = [
        [
            f"${symbol_latex(s)}$ \\quad \\texttt{{\\footnotesize {latex_text(s)}}}",
            r"\rule{0pt}{0.8cm}",
        ]
        for s in sheet.ask
    ]
    out += [
        f"\\subsection*{{Your answers ({sheet.digits} significant digits)}}",
        "\\begin{tabular}{|p{6cm}|p{9cm}|}\n\\hline\nquantity & your answer \\\\ \\hline",
        _latex_rows(answers).replace(r" \\", r" \\ \hline"),
        "\\end{tabular}\n\n\\end{document}",
    ]
    return "\n".join(out) + "\n"
