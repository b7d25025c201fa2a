"""Commands for teaching a class: ``exercise`` and ``grade``."""

from __future__ import annotations

import sys

from .common import say, warning_line

__all__ = ["add_commands"]


def add_commands(commands) -> None:
    """Register the teaching commands."""
    _add_exercise(commands)
    _add_grade(commands)


def _exercise(args) -> int:
    """The ``exercise`` command: a variant, a sheet and a row of the key per student."""
    from ..teaching import exercise
    from .common import check_output

    if args.moodle is not None:
        inputs = {"the template": args.template, "the roster": args.roster}
        check_output(args.moodle, "--moodle", inputs)
    made = exercise(
        args.template,
        roster=args.roster,
        count=args.count,
        out=args.out,
        formats=args.format or ["pdf"],
        moodle=args.moodle,
    )
    formats = ", ".join(dict.fromkeys(args.format or ["pdf"]))
    quiz = f" and {args.moodle}" if args.moodle else ""
    say(
        f"drew {len(made.variants)} variants of {made.title!r}: wrote their spec files and "
        f"sheets ({formats}), key.csv and the key to {args.out}{quiz} ({made.seconds:.1f} s)"
    )
    return 0


def _add_exercise(commands) -> None:
    """Register ``exercise``."""
    from ..teaching.exercise import FORMATS
    from .common import positive_int

    exercise = commands.add_parser(
        "exercise",
        help="draw an exercise per student from a template: spec files, sheets, key, quiz",
        description="Draw one variant of TEMPLATE (a spec file with an [exercise] table) per "
        "student, reproducibly from the template's seed and the student's id, and write "
        "OUT/<id>.toml (the variant), OUT/<id>.pdf (the sheet), OUT/key.csv (every asked "
        "value to full precision) and OUT/key.pdf (every worked solution).",
    )
    exercise.add_argument("template", metavar="TEMPLATE", help="a spec file with [exercise]")
    who = exercise.add_mutually_exclusive_group(required=True)
    who.add_argument(
        "--roster", metavar="CSV", help="the class: a CSV with an id column and optionally name"
    )
    who.add_argument(
        "--count", type=positive_int, metavar="N", help="instead of a roster: students 1 to N"
    )
    exercise.add_argument(
        "--out", required=True, metavar="DIR", help="the folder to write (made if missing)"
    )
    exercise.add_argument(
        "--format",
        choices=FORMATS,
        action="extend",
        nargs="+",
        help="the sheets' and the key's formats, one or more (default pdf, which needs the "
        "teaching extra)",
    )
    exercise.add_argument(
        "--moodle", metavar="FILE", help="also write the variants as a Moodle XML quiz"
    )
    exercise.set_defaults(handler=_exercise)


def _grade(args) -> int:
    """The ``grade`` command: every problem in the inputs as a warning, then one line."""
    from ..teaching import grade

    grades = grade(args.variants, args.answers, out=args.out)
    for line in grades.problems:
        print(warning_line(line), file=sys.stderr)
    scores = [student.score for student in grades.students]
    mean = sum(scores) / len(scores)
    say(
        f"graded {len(scores)} students (mean score {mean:.1f}%): wrote "
        f"{args.out}/grades.csv, {args.out}/feedback/ and {args.out}/report.html"
    )
    return 0


def _add_grade(commands) -> None:
    """Register ``grade``."""
    grade = commands.add_parser(
        "grade",
        help="grade a class's answers: grades.csv, feedback per student, report.html",
        description="Grade each student's answers against their own variant as check judges "
        "a claim (its written precision; an error carried from their own earlier numbers is "
        "'inherited', not marked wrong twice), and write REPORT/grades.csv, "
        "REPORT/feedback/<id>.md and REPORT/report.html. Problems in the inputs (unknown ids, "
        "repeated rows, columns for quantities not asked, cells that are no number) are "
        "warnings naming the row and column; the rest is graded.",
    )
    grade.add_argument("variants", metavar="DIR", help="the folder 'chainrule exercise' wrote")
    grade.add_argument(
        "answers",
        metavar="ANSWERS",
        help="a CSV file (an id column, then one column per asked quantity, the answers as "
        "typed: 0.0436, -0,12, empty when unanswered; ',' ';' or tab separated) or a folder "
        "of the students' spec files (<id>.toml) with their [claims] filled in",
    )
    grade.add_argument(
        "--out", required=True, metavar="REPORT", help="the folder to write (made if missing)"
    )
    grade.set_defaults(handler=_grade)
