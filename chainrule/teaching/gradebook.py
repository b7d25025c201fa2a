"""``grade``: a class's answers marked, and the gradebook, the feedback and the report written."""

from __future__ import annotations

from pathlib import Path

from ..files.atomic import atomic_open, check_writable, staged_writes
from ..files.figures import pyplot
from .feedback import feedback_markdown, grades_csv
from .grading import grade_class
from .problems import Problems
from .report import report_html
from .verdicts import Grades

__all__ = ["grade", "write_report"]


def grade(variants_dir, answers, out=None) -> Grades:
    """Grade a class: each student's answers against their own variant.

    Parameters
    ----------
    variants_dir : str or path
        The folder :func:`chainrule.teaching.exercise` wrote: one variant per student,
        ``<id>.toml`` (a spec file whose ``[exercise]`` table holds ``ask``, ``digits``,
        ``id`` and ``name``).
    answers : str or path
        ``ANSWERS.csv`` (an ``id`` column, then one column per asked quantity holding the
        answer as typed: ``0.0436``, ``-0,12``, empty when unanswered; ``,``, ``;`` or tab
        separated), or a folder of the students' spec files with their ``[claims]`` filled in.
    out : str or path, optional
        A folder to write ``grades.csv``, ``feedback/<id>.md`` and ``report.html`` into
        (made if missing); nothing is written without it.

    Returns
    -------
    Grades
        Per student their verdicts and score, per question a summary (:meth:`Grades.table`,
        :meth:`Grades.questions`, :meth:`Grades.mistakes`), and the problems found in the
        inputs, one line each (unknown ids, repeated rows, columns for quantities not asked,
        cells that are no number: each by file, row and column; the rest is graded). Shown as
        tables in a notebook.

    Raises
    ------
    ValueError
        For a folder holding no variant, or an answers file that cannot be read at all (no
        ``id`` column; larger than :data:`~chainrule.teaching.answers.MAX_BYTES`).
    ImportError
        With ``out``, when matplotlib (the ``plot`` extra), which draws the report's figures,
        is missing: before any work.
    """
    if out is not None:
        pyplot()  # a missing matplotlib is reported before any work
        _check_out(Path(out))
    problems = Problems()
    students = grade_class(variants_dir, answers, problems)
    grades = Grades(students, problems.lines())
    if out is not None:
        write_report(grades, Path(out), str(answers))
        grades.out = Path(out)
    return grades


def _check_out(out: Path) -> None:
    """Make the output folder and check its files can be written, before any work."""
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"cannot write to {str(out)!r}: a file, not a folder")
    (out / "feedback").mkdir(parents=True, exist_ok=True)
    for name in ("grades.csv", "report.html"):
        check_writable(out / name, "--out")


def write_report(grades: Grades, out: Path, source: str = "") -> None:
    """Write ``out/feedback/<id>.md`` (``<id>`` the variant file's name), each replaced whole,
    then ``out/grades.csv`` and ``out/report.html`` together."""
    (out / "feedback").mkdir(parents=True, exist_ok=True)
    for student in grades.students:
        path = out / "feedback" / f"{student.variant.stem}.md"
        with atomic_open(path, "w", what="feedback", encoding="utf-8", newline="") as stream:
            stream.write(feedback_markdown(student))
    page = report_html(grades, source)
    with staged_writes() as group:
        group.open(out / "grades.csv", "w", what="--out", encoding="utf-8", newline="").write(
            grades_csv(grades)
        )
        group.open(out / "report.html", "w", what="--out", encoding="utf-8").write(page)
