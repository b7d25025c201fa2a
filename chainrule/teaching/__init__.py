"""Teaching a class: an exercise for every student, an answer key, grading with feedback.

A *template* is a spec file with an ``[exercise]`` table (what the students compute, what
varies and how, the precision answers are expected to, a seed). :func:`exercise` draws one
variant per student, reproducibly from the template's seed and the student's id, and writes
the variants, their sheets, the answer key and optionally a Moodle quiz; :func:`grade` marks
what the students wrote, as ``check`` marks a claim. See ``docs/tutorials/teach.md``.
"""

from __future__ import annotations

from .exercise import exercise
from .gradebook import grade

__all__ = ["exercise", "grade"]
