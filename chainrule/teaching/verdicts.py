"""What grading says: each student's verdicts, their score, and the class's grades.

An answer is ``ok``, ``inherited``, ``wrong`` or ``missing`` (see
:mod:`~chainrule.teaching.judging`). **The score** is the percentage of the asked quantities
that are ``ok`` or ``inherited``: a mistake costs its point once, where it is made, and a number
computed correctly from it earns its point (follow-through marking, as exam boards mark carried
errors: the student did that step right, and ``check`` has verified that they did).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..explain.mistakes import FAMILIES
from ..explain.trace import Trace

__all__ = ["CREDIT", "KINDS", "STATUSES", "Grades", "Student", "Variant", "Verdict"]

STATUSES = ("ok", "inherited", "wrong", "missing")
"""A verdict's status, as grades.csv writes it."""
CREDIT = {"ok": 1.0, "inherited": 1.0, "wrong": 0.0, "missing": 0.0}
"""The points a verdict earns (see the module docstring)."""
KINDS = {
    **FAMILIES,
    "ok": "correct",
    "rounding": "correct up to the rounding of earlier values",
    "precision": "too few significant digits",
    "missing": "not answered",
    "unreadable": "not a number",
}
"""Every kind of verdict in words: check's mistakes and grading's own."""


@dataclass(frozen=True)
class Variant:
    """One student's exercise: their id and name, the file's ``stem``, the worked example, the
    asked quantities and the significant ``digits`` expected (None: as written)."""

    id: str
    name: str
    stem: str
    trace: Trace
    ask: tuple[str, ...]
    digits: int | None

    @property
    def shown_digits(self) -> int:
        """The significant digits a correct value is shown with: two beyond those asked."""
        return (self.digits or 4) + 2


@dataclass(frozen=True)
class Verdict:
    """The verdict on one asked quantity: ``status`` (one of :data:`STATUSES`), the ``answer``
    as written (None: unanswered), the ``correct`` value, the ``kind`` of mistake (check's, or
    ``precision``, ``missing``, ``unreadable``) and the ``diagnosis`` in words."""

    symbol: str
    status: str
    answer: str | None
    correct: float
    kind: str
    diagnosis: str

    @property
    def words(self) -> str:
        """The kind in the words of docs/spec-format.md (``learning rate forgotten``)."""
        return KINDS.get(self.kind, self.kind.replace("_", " "))


@dataclass(frozen=True)
class Student:
    """One student's grade: the verdicts on their asked quantities, in the order asked."""

    variant: Variant
    verdicts: tuple[Verdict, ...]
    where: str | None  # the row or file their answers came from; None: no answers

    @property
    def id(self) -> str:
        return self.variant.id

    @property
    def name(self) -> str:
        return self.variant.name

    @property
    def points(self) -> float:
        return sum(CREDIT[v.status] for v in self.verdicts)

    @property
    def score(self) -> float:
        """The percentage of the asked quantities ok or inherited."""
        return 100.0 * self.points / len(self.verdicts) if self.verdicts else 0.0

    def count(self, status: str) -> int:
        return sum(v.status == status for v in self.verdicts)


@dataclass
class Grades:
    """A class's grades: each student (in the order of their ids), the problems found in the
    inputs (one line each), and the folder the report was written to (None: not written)."""

    students: list[Student]
    problems: list[str] = field(default_factory=list)
    out: Path | None = None

    @property
    def asked(self) -> list[str]:
        """Every asked quantity, in the order the variants ask them."""
        return list(dict.fromkeys(s for st in self.students for s in st.variant.ask))

    def table(self) -> list[dict]:
        """One row per student: ``id``, ``name``, ``score``, then each asked quantity's status
        (as grades.csv, with the name; ``pandas.DataFrame(grades.table())`` shows it)."""
        rows = []
        for student in self.students:
            statuses = {v.symbol: v.status for v in student.verdicts}
            row = {"id": student.id, "name": student.name, "score": round(student.score, 1)}
            rows.append(row | {s: statuses.get(s, "") for s in self.asked})
        return rows

    def questions(self) -> list[dict]:
        """Per asked quantity: how many students are ``ok``, ``inherited``, ``wrong`` and
        ``missing``, and the success rate (ok or inherited, over the students asked it)."""
        rows = []
        for symbol in self.asked:
            verdicts = [v for st in self.students for v in st.verdicts if v.symbol == symbol]
            counts = {status: sum(v.status == status for v in verdicts) for status in STATUSES}
            rate = (counts["ok"] + counts["inherited"]) / len(verdicts) if verdicts else 0.0
            rows.append({"symbol": symbol, **counts, "success": rate})
        return rows

    def mistakes(self) -> list[dict]:
        """The mistakes made (``wrong`` verdicts), by quantity and kind, most frequent first:
        ``symbol``, ``kind``, ``words`` and ``count``."""
        counts: dict[tuple[str, str], int] = {}
        for student in self.students:
            for v in student.verdicts:
                if v.status == "wrong":
                    counts[v.symbol, v.kind] = counts.get((v.symbol, v.kind), 0) + 1
        order = sorted(counts.items(), key=lambda item: -item[1])  # stable: in asked order
        return [
            {"symbol": s, "kind": k, "words": KINDS.get(k, k), "count": n} for (s, k), n in order
        ]

    def _repr_html_(self) -> str:
        from .report import summary_html

        return summary_html(self)
