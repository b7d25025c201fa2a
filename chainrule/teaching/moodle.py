"""The variants as a Moodle quiz: Moodle XML numerical questions, one per asked quantity and
student variant (https://docs.moodle.org/en/Moodle_XML_format).

The file is a ``<quiz>`` of ``<question>`` elements. Before the questions of each asked
quantity comes a ``<question type="category">`` whose ``<category><text>`` is
``$course$/top/<title>/<quantity>`` (a ``/`` within a name doubled, as Moodle reads a literal
slash), so that a quiz can take one random question from each category: every student then
gets their own numbers for each quantity, each question holding its whole network. A
question (``type="numerical"``) has a ``<name>``, its ``<questiontext format="html">`` (the
task, the given numbers, and what to compute, the quantity in MathJax's ``\\( ... \\)``), a
``<generalfeedback>``, ``<defaultgrade>``, ``<penalty>``, ``<hidden>``, an ``<idnumber>``
(``<id>-<k>``), one ``<answer fraction="100">`` with the correct value's ``<text>``, its
``<feedback>`` and its ``<tolerance>`` (absolute: one unit of the ``digits``-th significant
digit, so that an answer rounded or cut to ``digits`` digits is accepted), and no units
(``<unitgradingtype>``, ``<unitpenalty>``, ``<showunits>`` 3, ``<unitsleft>``), as Moodle
itself exports a numerical question. Every text from a file is HTML-escaped, then XML-escaped
by the writer.
"""

from __future__ import annotations

import html
import math
import xml.etree.ElementTree as ET

from ..core.terminal import printable
from ..explain.render import symbol_latex
from .task import sheet_of
from .template import Template
from .variants import Variant

__all__ = ["moodle_quiz", "tolerance"]


def tolerance(value: float, digits: int) -> float:
    """One unit of the ``digits``-th significant digit of ``value``."""
    if value == 0:
        return 10.0**-digits
    return 10.0 ** (math.floor(math.log10(abs(value))) - digits + 1)


def _safe(text: str) -> str:
    """Text from a file as HTML that shows it as written (no tag, no control character)."""
    return html.escape(printable(str(text)), quote=True)


def _text(parent: ET.Element, tag: str, text: str, format: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, tag, {"format": format} if format else {})
    ET.SubElement(element, "text").text = text
    return element


def _category(quiz: ET.Element, title: str, symbol: str) -> None:
    question = ET.SubElement(quiz, "question", {"type": "category"})
    path = "/".join(_safe(part).replace("/", "//") for part in (title, symbol))
    _text(question, "category", f"$course$/top/{path}")


def _question_html(sheet, symbol: str) -> str:
    rows = "".join(
        f"<tr><td><code>{_safe(s)}</code></td><td>{_safe(w)}</td><td>{_safe(v)}</td></tr>"
        for s, w, v in sheet.givens
    )
    samples = ""
    if sheet.samples:
        header, *lines = sheet.samples
        cells = ["".join(f"<th>{_safe(h)}</th>" for h in header)]
        cells += ["".join(f"<td>{_safe(c)}</td>" for c in line) for line in lines]
        samples = '<table border="1">' + "".join(f"<tr>{c}</tr>" for c in cells) + "</table>"
    task = "".join(f"<p>{_safe(sentence)}</p>" for sentence in sheet.task[:-1])
    return (
        f"<p><strong>{_safe(sheet.title)}</strong></p>{task}"
        f'<table border="1"><tr><th>name</th><th>where</th><th>value</th></tr>{rows}</table>'
        f"{samples}<p>Compute <code>{_safe(symbol)}</code> \\({_safe(symbol_latex(symbol))}\\) "
        f"to {sheet.digits} significant digits.</p>"
    )


def _question(quiz, template: Template, variant: Variant, sheet, symbol: str, index: int):
    value = variant.values[symbol]
    question = ET.SubElement(quiz, "question", {"type": "numerical"})
    _text(question, "name", _safe(f"{symbol} ({variant.id})"))
    _text(question, "questiontext", _question_html(sheet, symbol), "html")
    said = f"{_safe(symbol)} = {value:.{template.digits}g}"
    _text(question, "generalfeedback", f"<p>{said}</p>", "html")
    for tag, text in (("defaultgrade", "1"), ("penalty", "0"), ("hidden", "0")):
        ET.SubElement(question, tag).text = text
    ET.SubElement(question, "idnumber").text = f"{variant.id}-{index}"
    answer = ET.SubElement(question, "answer", {"fraction": "100", "format": "moodle_auto_format"})
    ET.SubElement(answer, "text").text = repr(value)
    _text(answer, "feedback", f"<p>Correct: {said}</p>", "html")
    ET.SubElement(answer, "tolerance").text = repr(tolerance(value, template.digits))
    for tag, text in (("unitgradingtype", "0"), ("unitpenalty", "0.1"), ("showunits", "3")):
        ET.SubElement(question, tag).text = text
    ET.SubElement(question, "unitsleft").text = "0"


def moodle_quiz(template: Template, variants: list[Variant]) -> bytes:
    """The quiz as UTF-8 Moodle XML: per asked quantity a category, then its question for
    every variant."""
    quiz = ET.Element("quiz")
    sheets = [sheet_of(template, variant) for variant in variants]
    for index, symbol in enumerate(template.ask, 1):
        _category(quiz, template.spec.title, symbol)
        for variant, sheet in zip(variants, sheets, strict=True):
            _question(quiz, template, variant, sheet, symbol, index)
    ET.indent(quiz)
    body = ET.tostring(quiz, encoding="unicode")
    document = ('<?xml version="1.0" encoding="UTF-8"?>\n' + body).encode("utf-8")
    ET.fromstring(document)  # well-formed, as Moodle's parser assumes without checking
    return document + b"\n"
