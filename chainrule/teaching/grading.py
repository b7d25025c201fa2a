"""Grade a class: each student's answers against their own variant.

The variants (``DIR/<id>.toml``, as :func:`chainrule.teaching.exercise` writes them) are read
and worked out by :func:`chainrule.explain.explain`, the answers matched to them by id (an id
with no variant, two rows of one id, a student without answers: each reported), and each
student judged (:mod:`~chainrule.teaching.judging`).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from ..explain import explain
from ..explain.spec import SpecError, parse_spec
from ..explain.trace import Trace
from .answers import MAX_FILE_BYTES, MAX_FILES, Sheet, read_answers, read_bounded
from .judging import judge
from .problems import Problems, quoted
from .verdicts import Student, Variant

__all__ = ["grade_class", "load_variants"]


# -- the variants -------------------------------------------------------------------------------


def load_variants(folder, problems: Problems) -> dict[str, Variant]:
    """The variants of ``folder`` by id; files that are no variant are reported and skipped."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(
            f"{folder}: not a folder; expected the folder 'chainrule exercise' wrote the "
            "variants (<id>.toml) to"
        )
    paths = sorted(p for p in folder.iterdir() if p.suffix == ".toml" and p.is_file())
    if len(paths) > MAX_FILES:
        raise ValueError(f"{folder}: {len(paths)} spec files, more than the {MAX_FILES} read")
    variants: dict[str, Variant] = {}
    for path in paths:
        variant = _variant(path, problems)
        if variant is None:
            continue
        if variant.id in variants:
            problems.add(
                "repeated id",
                f"{path}: the id {quoted(variant.id)} of {variants[variant.id].stem}.toml "
                "again; not graded",
            )
            continue
        variants[variant.id] = variant
    if not variants:
        raise ValueError(
            f"{folder}: no variant (<id>.toml with an [exercise] table that asks something); "
            "make them with: chainrule exercise TEMPLATE --out " + str(folder)
        )
    return variants


def _variant(path: Path, problems: Problems) -> Variant | None:
    """The variant in ``path``, or None (reported) for a file that is none."""
    try:
        text = read_bounded(path, MAX_FILE_BYTES, "a variant").decode("utf-8")
        spec = parse_spec(text, str(path))  # checks the [exercise] table's types too
        exercise = tomllib.loads(text).get("exercise")
        trace = explain(spec).trace if isinstance(exercise, dict) else None
    except (SpecError, ValueError) as error:  # UnicodeDecodeError too
        problems.add("unreadable variant", f"{error}; not graded")
        return None
    if exercise is None or "vary" in exercise or not exercise.get("ask"):
        what = "a template ([exercise.vary])" if exercise and "vary" in exercise else "no variant"
        problems.add("not a variant", f"{path}: {what}; skipped")
        return None
    ask = _asked(path, exercise["ask"], trace, problems)
    name = exercise.get("name", "")
    given = exercise.get("id", "").strip() or path.stem
    return Variant(given, name, path.stem, trace, ask, exercise.get("digits"))


def _asked(path: Path, ask: list[str], trace: Trace, problems: Problems) -> tuple[str, ...]:
    """The asked names that are quantities of the worked example (the others reported)."""
    for name in ask:
        if name not in trace:
            problems.add(
                "unknown quantity",
                f"{path}: [exercise] ask names {quoted(name)}, no quantity of the worked "
                "example; not graded",
            )
    return tuple(dict.fromkeys(name for name in ask if name in trace))


# -- the class ----------------------------------------------------------------------------------


def grade_class(variants_dir, answers, problems: Problems) -> list[Student]:
    """Each variant's student graded on their sheet in ``answers`` (a table or a folder)."""
    variants = load_variants(variants_dir, problems)
    symbols = {symbol for variant in variants.values() for symbol in variant.ask}
    sheets = _matched(read_answers(answers, symbols, problems), variants, problems)
    students, absent = [], []
    for key in sorted(variants, key=_natural):
        sheet = sheets.get(key)
        if sheet is None:
            absent.append(key)
        students.append(Student(variants[key], judge(variants[key], sheet), sheet and sheet.where))
    for key in absent:
        problems.add("no answers", f"{answers}: no answers for the id {quoted(key)}; graded 0")
    return students


def _matched(sheets: list[Sheet], variants: dict, problems: Problems) -> dict[str, Sheet]:
    """The sheets by id: an id without a variant is reported, and of two sheets of one id the
    later is graded (a resubmission)."""
    by_id: dict[str, Sheet] = {}
    for sheet in sheets:
        key = sheet.id.strip()
        if key not in variants:
            said = _unknown_id(key, variants) if problems.listed("unknown id") else ""
            problems.add("unknown id", f"{sheet.where}: {said}; not graded")
        elif key in by_id:
            problems.add(
                "repeated id",
                f"{sheet.where}: the id {quoted(key)} again (first at {by_id[key].where}); "
                "the later answers are graded",
            )
            by_id[key] = sheet
        else:
            by_id[key] = sheet
    return by_id


def _unknown_id(key: str, variants: dict) -> str:
    """``the id '7' has no variant; did you mean '007'?`` (a spreadsheet drops leading
    zeros)."""
    said = f"the id {quoted(key)} has no variant"
    if _plain_digits(key):
        padded = [v for v in variants if _plain_digits(v) and int(v) == int(key)]
        if padded:
            return f"{said}; did you mean {quoted(padded[0])} (a spreadsheet drops leading zeros)?"
    from difflib import get_close_matches

    close = get_close_matches(key, list(variants), n=1) if len(key) <= 100 else []
    return f"{said}; did you mean {quoted(close[0])}?" if close else said


def _plain_digits(key: str) -> bool:
    return key.isascii() and key.isdigit() and len(key) <= 20


def _natural(key: str) -> list:
    """Ids in the order a person counts them: 2 before 10 (a run of digits by its length
    without leading zeros, then its digits)."""
    parts = re.split(r"(\d+)", key)
    return [(len(p.lstrip("0")), p.lstrip("0")) if i % 2 else (0, p) for i, p in enumerate(parts)]
