"""``chainrule exercise``: a variant, a sheet and a line of the key for every student.

:func:`exercise` draws every variant first, then renders every file in memory, then writes
each atomically (:func:`~chainrule.files.atomic.atomic_open`): a template too tight for one
student, or a missing extra, leaves the folder as it was.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..files.atomic import atomic_open, check_writable
from .key import key_csv
from .moodle import moodle_quiz
from .roster import count_roster, given_roster, read_roster
from .sheets import render_key, render_sheets
from .template import Template, load_template
from .typesetting import require_typst
from .variants import draw_variant

__all__ = ["FORMATS", "Exercise", "ExerciseVariant", "exercise"]

FORMATS = ("pdf", "markdown", "latex")
"""The formats of the sheets and the key: PDF (Typst), Markdown, LaTeX."""

_SUFFIX = {"pdf": ".pdf", "markdown": ".md", "latex": ".tex"}


@dataclass
class ExerciseVariant:
    """One student's variant: their id and name, the correct value of each asked quantity,
    and the files written for them (``<id>.toml`` first)."""

    id: str
    name: str
    values: dict[str, float]
    files: list[Path] = field(default_factory=list)


@dataclass
class Exercise:
    """What :func:`exercise` made: the template's settings, every variant, every file."""

    template: str
    title: str
    ask: list[str]
    digits: int
    seed: int
    variants: list[ExerciseVariant]
    files: list[Path]
    seconds: float = 0.0

    def _repr_markdown_(self) -> str:
        """The key as a Markdown table (a notebook shows it)."""
        from ..explain.render import markdown_code, markdown_text

        head = "| id | name | " + " | ".join(markdown_code(s) for s in self.ask) + " |"
        rule = "|---|---|" + "---:|" * len(self.ask)
        rows = [
            f"| {markdown_text(v.id)} | {markdown_text(v.name)} | "
            + " | ".join(f"{v.values[s]:.{self.digits}g}" for s in self.ask)
            + " |"
            for v in self.variants
        ]
        said = f"{len(self.variants)} variants of {markdown_text(self.title)}"
        return "\n".join([said, "", head, rule, *rows]) + "\n"


def _students(roster, count):
    if (roster is None) == (count is None):
        raise ValueError("give either a roster or a count of students, not both or neither")
    if count is not None:
        return count_roster(count)
    if isinstance(roster, (str, os.PathLike)):
        return read_roster(roster)
    return given_roster(roster)


def _formats(formats) -> list[str]:
    chosen = [formats] if isinstance(formats, str) else list(formats)
    for name in chosen:
        if name not in FORMATS:
            raise ValueError(f"unknown format {name!r}: choose from {', '.join(FORMATS)}")
    return list(dict.fromkeys(chosen))


def _folder(out) -> Path:
    """The output folder, checked before any work: a folder, or missing in a folder that
    exists (it is made once every file is ready)."""
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(f"cannot write into {os.fspath(out)!r}: it is not a folder")
    if not folder.exists() and not folder.parent.is_dir():
        raise FileNotFoundError(
            f"cannot make the folder {os.fspath(out)!r}: {str(folder.parent)!r} does not exist"
        )
    return folder


def exercise(template, roster=None, count=None, *, out, formats=("pdf",), moodle=None) -> Exercise:
    """Draw one variant of ``template`` per student and write the class's files into ``out``.

    Parameters
    ----------
    template : str, path or Template
        A spec file with an ``[exercise]`` table (see ``docs/tutorials/teach.md``).
    roster : str, path or iterable, optional
        A roster CSV (an ``id`` column, optionally ``name``), or ids, ``(id, name)`` pairs or
        :class:`~chainrule.teaching.roster.Student` objects.
    count : int, optional
        Instead of a roster: students ``1`` to ``count``.
    out : str or path
        The folder written (made if missing): ``<id>.toml`` per student (the variant, a spec
        without claims), a sheet per student and format, ``key.csv``, the key per format.
    formats : str or sequence of str, default ('pdf',)
        Any of 'pdf' (Typst, the ``teaching`` extra), 'markdown', 'latex'.
    moodle : str or path, optional
        Also write the variants as Moodle XML numerical questions to this file.

    Returns
    -------
    Exercise
        The variants (ids, names, asked values, files) and every file written.
    """
    started = time.perf_counter()
    chosen = _formats(formats)
    if "pdf" in chosen:
        require_typst()
    template = template if isinstance(template, Template) else load_template(template)
    students = _students(roster, count)
    folder = _folder(out)
    if moodle is not None:
        check_writable(moodle, "the Moodle quiz")
    variants = [draw_variant(template, student) for student in students]
    files = _files(template, variants, folder, chosen, moodle)
    folder.mkdir(exist_ok=True)  # only now: a template too tight leaves no folder behind
    for path, content in files.items():
        with atomic_open(path, "wb", what="file") as stream:
            stream.write(content)
    return _made(template, variants, folder, chosen, list(files), time.perf_counter() - started)


def _made(template, variants, folder: Path, formats: list[str], files, seconds) -> Exercise:
    """What :func:`exercise` returns."""
    made = [
        ExerciseVariant(
            v.id,
            v.name,
            dict(v.values),
            [folder / f"{v.id}.toml"] + [folder / f"{v.id}{_SUFFIX[f]}" for f in formats],
        )
        for v in variants
    ]
    return Exercise(
        str(template.source),
        template.spec.title,
        list(template.ask),
        template.digits,
        template.seed,
        made,
        files,
        seconds,
    )


def _files(template, variants, folder: Path, formats: list[str], moodle) -> dict[Path, bytes]:
    """Every file's content, by path: the variants, the sheets, the key, the quiz."""
    files = {folder / f"{v.id}.toml": v.text.encode("utf-8") for v in variants}
    files[folder / "key.csv"] = key_csv(template, variants).encode("utf-8")
    for name in formats:
        for variant, content in zip(variants, render_sheets(name, template, variants), strict=True):
            files[folder / f"{variant.id}{_SUFFIX[name]}"] = content
        files[folder / f"key{_SUFFIX[name]}"] = render_key(name, template, variants)
    if moodle is not None:
        quiz = Path(os.path.realpath(moodle))
        if any(quiz == Path(os.path.realpath(path)) for path in files):
            raise ValueError(
                f"the Moodle quiz {os.fspath(moodle)!r} would replace a file of {folder}"
            )
        files[Path(moodle)] = moodle_quiz(template, variants)
    return files
