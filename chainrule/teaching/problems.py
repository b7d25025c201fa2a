"""What grading found wrong with its inputs, one line each, bounded however large they are.

An answers file of 100 000 rows with unknown ids would otherwise make 100 000 warnings: each
kind of problem keeps its first :data:`SHOWN` lines and counts the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..core.terminal import printable

__all__ = ["SHOWN", "Problems", "quoted"]

SHOWN = 10
"""The lines kept of each kind of problem; the others are counted."""

QUOTED = 40
"""The characters of a value read from a file that a message quotes (then ``...``)."""


def quoted(text: str, limit: int = QUOTED) -> str:
    """``text`` as a message quotes it: in quotes, cut to ``limit`` characters, control and
    bidi characters as visible escapes (:func:`~chainrule.core.terminal.printable`)."""
    text = str(text)
    cut = text if len(text) <= limit else text[:limit] + "..."
    return repr(printable(cut))


@dataclass
class Problems:
    """The problems found, by kind (``unknown id``, ``unreadable number``...), in order."""

    kept: dict[str, list[str]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, message: str) -> None:
        """Record one problem; its line is kept while its kind has fewer than :data:`SHOWN`."""
        self.counts[kind] = self.counts.get(kind, 0) + 1
        lines = self.kept.setdefault(kind, [])
        if len(lines) < SHOWN:
            lines.append(printable(" ".join(str(message).split("\n"))))

    def listed(self, kind: str) -> bool:
        """Whether a problem of ``kind`` would still be listed (else a costly message, with
        suggestions, need not be made)."""
        return len(self.kept.get(kind, ())) < SHOWN

    def lines(self) -> list[str]:
        """Every kept line, each kind followed by how many more of it there were."""
        out = []
        for kind, lines in self.kept.items():
            out += lines
            more = self.counts[kind] - len(lines)
            if more:
                out.append(f"... and {more} more of the kind {kind!r} (not listed)")
        return out

    def __len__(self) -> int:
        return sum(self.counts.values())
