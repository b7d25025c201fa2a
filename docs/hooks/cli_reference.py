"""MkDocs hook: the command-line reference, generated from chainrule's argparse definitions.

A page holding the line ``<!-- cli-reference -->`` gets it replaced by one section for the
``chainrule`` program (its global options) and one per subcommand, in the order
``chainrule.cli.build_parser()`` lists them: a ``## chainrule NAME`` heading, the command's
one-line description, and its ``--help`` text (usage line included) in a ``text`` block. So
the reference is never written twice: a new option appears in it at the next build.
mkdocs.yml names this file under ``hooks:``; tests/test_docs.py calls :func:`on_page_markdown`
on a page string and builds the whole site.
"""

from __future__ import annotations

import argparse
import functools

MARKER = "<!-- cli-reference -->"
WIDTH = 88  # the help text's line width, whatever the terminal that runs mkdocs


def subcommands(parser: argparse.ArgumentParser) -> list[tuple[str, str, argparse.ArgumentParser]]:
    """``(name, one-line summary, parser)`` for each subcommand, in the parser's order."""
    (action,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    summaries = {choice.dest: choice.help or "" for choice in action._choices_actions}
    return [(name, summaries.get(name, ""), sub) for name, sub in action.choices.items()]


def help_text(parser: argparse.ArgumentParser) -> str:
    """``parser``'s ``--help`` output at :data:`WIDTH` columns."""
    parser.formatter_class = functools.partial(parser.formatter_class, width=WIDTH)
    return parser.format_help().rstrip()


def section(title: str, summary: str, parser: argparse.ArgumentParser) -> str:
    """One command's section: heading, one-line description (as a sentence), help text."""
    lines = [f"## {title}", ""]
    if summary:
        lines += [summary[0].upper() + summary[1:].rstrip(".") + ".", ""]
    return "\n".join([*lines, "```text", help_text(parser), "```", ""])


def reference() -> str:
    """The whole reference: the program's section, then each subcommand's."""
    from chainrule.cli import build_parser

    parser = build_parser()
    program = "the program: its options come before the command (`chainrule --debug train ...`)"
    sections = [section("chainrule", program, parser)]
    sections += [
        section(f"chainrule {name}", summary, sub) for name, summary, sub in subcommands(parser)
    ]
    return "\n".join(sections)


def marker_lines(lines: list[str]) -> list[int]:
    """The indices of the lines that are the marker, outside fenced code blocks (a page may
    show the marker in a code block, as docs/testing.md does)."""
    found, fenced = [], False
    for index, line in enumerate(lines):
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced and line.strip() == MARKER:
            found.append(index)
    return found


def on_page_markdown(markdown: str, page=None, config=None, files=None) -> str:
    """MkDocs' event: a page holding the marker line gets the reference in its place."""
    lines = markdown.splitlines(keepends=True)
    for index in marker_lines(lines):
        lines[index] = reference() + "\n"
    return "".join(lines)
