"""What grading writes for the gradebook and for each student: ``grades.csv`` and
``feedback/<id>.md``.

Everything read from a file (ids, names, answers, the quantities' names) is escaped for where
it goes: Markdown punctuation backslash-escaped and ``<``, ``>``, ``&`` as entities
(:func:`~chainrule.explain.render.markdown_text`), control characters as visible escapes, and
in the CSV a cell a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@`` first)
prefixed with ``'``.
"""

from __future__ import annotations

import csv
import io
import re

from ..core.terminal import printable
from ..explain.holding import fmt
from ..explain.render import markdown_text
from .verdicts import Grades, Student, Verdict

__all__ = ["feedback_markdown", "grades_csv"]

_FORMULA = re.compile(r"[=+\-@\t\r]")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
SHOWN = 60
"""The characters of an answer that the feedback shows (then ``...``)."""


def cell(text) -> str:
    """A CSV cell that a spreadsheet shows as text, never runs: one that starts like a
    formula (and is no number) gets a leading ``'``."""
    text = str(text)
    if _FORMULA.match(text) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def grades_csv(grades: Grades) -> str:
    """``id``, ``score`` (see :mod:`~chainrule.teaching.grading`), then each asked quantity's
    status: ``ok``, ``inherited``, ``wrong`` or ``missing`` (empty: not asked of that
    student)."""
    stream = io.StringIO()
    writer = csv.writer(stream, lineterminator="\n")
    asked = grades.asked
    writer.writerow(["id", "score", *map(cell, asked)])
    for row in grades.table():
        writer.writerow([cell(row["id"]), f"{row['score']:.1f}", *(row[s] for s in asked)])
    return stream.getvalue()


def md(text, limit: int | None = None) -> str:
    """``text`` from a file as Markdown shows it as written: one line, control characters as
    escapes, punctuation escaped, cut to ``limit`` characters."""
    text = printable(str(text))
    if limit is not None and len(text) > limit:
        text = text[:limit] + "..."
    return markdown_text(text)


def feedback_markdown(student: Student) -> str:
    """One student's feedback: their score, a table of their answers, then each answer that
    is not right with the correct value and the most likely mistake."""
    variant = student.variant
    title = variant.trace.spec.title
    who = f"id {md(student.id, 200)}"
    if student.name:
        who = f"{md(student.name, 200)} ({who})"
    lines = [f"# Feedback: {md(title, 200)}", "", f"For {who}.", "", _score_line(student), ""]
    lines += ["| quantity | you wrote | correct | verdict |", "| --- | --- | --- | --- |"]
    for v in student.verdicts:
        wrote = md(v.answer, SHOWN) if v.answer is not None else "(blank)"
        correct = md(fmt(v.correct, variant.shown_digits))
        lines.append(f"| {md(v.symbol)} | {wrote} | {correct} | {_status_words(v)} |")
    lines += _notes(student)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).rstrip("\n") + "\n"


def _notes(student: Student) -> list[str]:
    """Each answer wrong or missing with its diagnosis, then those carried forward."""
    lines = []
    wrong = [v for v in student.verdicts if v.status in ("wrong", "missing")]
    if wrong:
        lines += ["", "## What went wrong", ""]
        for v in wrong:
            lines += [f"**{md(v.symbol)}** ({md(v.words)}): {md(_sentence(v.diagnosis))}", ""]
    carried = [v for v in student.verdicts if v.status == "inherited"]
    if carried:
        names = ", ".join(md(v.symbol) for v in carried)
        lines += [
            "",
            "## Carried forward",
            "",
            f"{names}: computed correctly from your own earlier wrong numbers, so they earn "
            "their points; their values change once the earlier mistake is put right.",
            "",
        ]
        lines += [f"- **{md(v.symbol)}**: {md(_sentence(v.diagnosis))}" for v in carried]
    return lines


def _sentence(text: str) -> str:
    """``text`` ending with a full stop."""
    return text if text.endswith(".") else text + "."


def _score_line(student: Student) -> str:
    counts = {status: student.count(status) for status in ("ok", "inherited", "wrong", "missing")}
    parts = [f"{counts['ok']} right"]
    if counts["inherited"]:
        parts.append(f"{counts['inherited']} right from your own earlier numbers (full marks)")
    parts += [f"{counts['wrong']} wrong", f"{counts['missing']} not answered"]
    total = len(student.verdicts)
    return (
        f"**Score: {student.score:.0f}%** ({student.points:g} of {total} points): "
        + ", ".join(parts)
        + "."
    )


def _status_words(v: Verdict) -> str:
    return {
        "ok": "right",
        "inherited": "right from your earlier numbers",
        "wrong": f"wrong: {md(v.words)}",
        "missing": "not answered" if v.answer is None else "not a number",
    }[v.status]
