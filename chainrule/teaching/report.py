"""The class report, ``report.html``: one self-contained page for the teacher.

The score distribution, each question's success rate and the most frequent mistakes with their
counts, each as a figure (matplotlib SVG, embedded as a ``data:`` image) and as a table; then
every student's verdicts and the problems found in the inputs. The page loads nothing (its
Content-Security-Policy allows no script and no request), and every text read from a file is
HTML-escaped (and ``$`` escaped for matplotlib, which would read it as mathematics).
"""

from __future__ import annotations

import base64
import html
import io
import statistics

from ..core.terminal import printable
from ..files.figures import pyplot
from .verdicts import STATUSES, Grades

__all__ = ["report_html", "summary_html"]

COLOURS = {"ok": "#1a9850", "inherited": "#91cf60", "wrong": "#d73027", "missing": "#bdbdbd"}
TOP = 10
"""The most frequent mistakes drawn (the table lists them all)."""
LABEL = 40
"""The characters of a label drawn (then ``...``)."""

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem;
       color: #222; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { border: 1px solid #ccc; padding: 0.2rem 0.5rem; text-align: left; }
td.number { text-align: right; }
td.ok { background: #e5f5e0; } td.inherited { background: #f7fcb9; }
td.wrong { background: #fcbba1; } td.missing { background: #f0f0f0; }
img { max-width: 100%; }
"""


def h(text) -> str:
    """A text read from a file as HTML shows it: control characters as visible escapes,
    ``<``, ``>``, ``&`` and quotes as entities."""
    return html.escape(printable(str(text)), quote=True)


def report_html(grades: Grades, source: str = "") -> str:
    """The whole page (see the module docstring)."""
    titles = sorted({st.variant.trace.spec.title for st in grades.students})
    title = "; ".join(titles[:3]) + (" ..." if len(titles) > 3 else "")
    head = (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "img-src data:; style-src 'unsafe-inline'\">\n"
        f"<title>Grades: {h(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
    )
    figures = _figures(grades)
    body = [f"<h1>Grades: {h(title)}</h1>", _overview(grades, source)]
    body += ["<h2>Score distribution</h2>", figures[0]]
    body += ["<h2>Each question</h2>", figures[1], _questions_table(grades)]
    body += ["<h2>The most frequent mistakes</h2>", figures[2], _mistakes_table(grades)]
    body += ["<h2>Students</h2>", _students_table(grades), _problems(grades)]
    return head + "\n".join(body) + "\n</body>\n</html>\n"


def summary_html(grades: Grades) -> str:
    """The report's tables without its figures (what a notebook shows of :class:`Grades`)."""
    parts = [_overview(grades, ""), _questions_table(grades), _mistakes_table(grades)]
    return "\n".join(parts + [_students_table(grades), _problems(grades)])


def _overview(grades: Grades, source: str) -> str:
    scores = [st.score for st in grades.students]
    answered = sum(st.where is not None for st in grades.students)
    read = f" from {h(source)}" if source else ""
    return (
        f"<p>{len(scores)} students, {answered} with answers{read}. Mean score "
        f"{statistics.fmean(scores):.1f}%, median {statistics.median(scores):.1f}%. A score is "
        "the percentage of the asked quantities answered right (<em>ok</em>) or computed "
        "right from the student's own earlier wrong numbers (<em>inherited</em>): a mistake "
        "costs its point once, where it is made.</p>"
    )


def _questions_table(grades: Grades) -> str:
    rows = [
        f"<tr><td>{h(q['symbol'])}</td>"
        + "".join(f'<td class="number">{q[s]}</td>' for s in STATUSES)
        + f'<td class="number">{100 * q["success"]:.0f}%</td></tr>'
        for q in grades.questions()
    ]
    header = "".join(f"<th>{s}</th>" for s in ("quantity", *STATUSES, "success"))
    return f'<table id="questions">\n<tr>{header}</tr>\n' + "\n".join(rows) + "\n</table>"


def _mistakes_table(grades: Grades) -> str:
    mistakes = grades.mistakes()
    if not mistakes:
        return '<p id="mistakes">No answer is wrong.</p>'
    rows = [
        f"<tr><td>{h(m['symbol'])}</td><td>{h(m['words'])}</td>"
        f'<td class="number">{m["count"]}</td></tr>'
        for m in mistakes
    ]
    header = "<tr><th>quantity</th><th>mistake</th><th>students</th></tr>"
    return f'<table id="mistakes">\n{header}\n' + "\n".join(rows) + "\n</table>"


def _students_table(grades: Grades) -> str:
    asked = grades.asked
    header = "".join(f"<th>{h(s)}</th>" for s in ("id", "name", "score", *asked))
    rows = []
    for st in grades.students:
        verdicts = {v.symbol: v for v in st.verdicts}
        cells = [
            f'<td class="{verdicts[s].status}" title="{h(verdicts[s].words)}">'
            f"{verdicts[s].status}</td>"
            if s in verdicts
            else "<td></td>"
            for s in asked
        ]
        rows.append(
            f"<tr><td>{h(st.id)}</td><td>{h(st.name)}</td>"
            f'<td class="number">{st.score:.1f}</td>' + "".join(cells) + "</tr>"
        )
    return f'<table id="students">\n<tr>{header}</tr>\n' + "\n".join(rows) + "\n</table>"


def _problems(grades: Grades) -> str:
    if not grades.problems:
        return '<p id="problems">The inputs held no problem.</p>'
    items = "\n".join(f"<li>{h(line)}</li>" for line in grades.problems)
    return f'<h2>Problems in the inputs</h2>\n<ul id="problems">\n{items}\n</ul>'


# -- figures ------------------------------------------------------------------------------------


def label(text: str) -> str:
    """A text read from a file as matplotlib draws it as written: one line, cut to
    :data:`LABEL` characters, ``$`` escaped (an even number of them would start mathtext)."""
    text = printable(str(text))
    text = text if len(text) <= LABEL else text[:LABEL] + "..."
    return text.replace("$", r"\$")


def _figures(grades: Grades) -> list[str]:
    """The three figures as ``<img>`` elements holding their SVG."""
    plt = pyplot()
    style = {"svg.hashsalt": "chainrule", "svg.fonttype": "path", "font.size": 10}
    with plt.rc_context(style):
        drawn = [_distribution(plt, grades), _per_question(plt, grades), _frequent(plt, grades)]
    alts = ["score distribution", "each question's verdicts", "the most frequent mistakes"]
    return [_embedded(plt, figure, alt) for figure, alt in zip(drawn, alts, strict=True)]


def _embedded(plt, figure, alt: str) -> str:
    stream = io.BytesIO()
    try:
        figure.savefig(stream, format="svg", metadata={"Date": None}, bbox_inches="tight")
    finally:
        plt.close(figure)
    data = base64.b64encode(stream.getvalue()).decode("ascii")
    return f'<img alt="{alt}" src="data:image/svg+xml;base64,{data}">'


def _distribution(plt, grades: Grades):
    scores = [st.score for st in grades.students]
    figure, axes = plt.subplots(figsize=(6, 2.8))
    edges = [10 * k for k in range(11)]
    axes.hist(scores, bins=edges, color=COLOURS["ok"], edgecolor="white")
    axes.set_xlim(0, 100)
    axes.set_xticks(edges)
    axes.set_xlabel("score (%)")
    axes.set_ylabel("students")
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.set_title(f"{len(scores)} students, mean {statistics.fmean(scores):.1f}%")
    return figure


def _per_question(plt, grades: Grades):
    questions = grades.questions()
    figure, axes = plt.subplots(figsize=(6, 0.9 + 0.32 * len(questions)))
    rows = range(len(questions))  # positions: two labels cut alike stay two bars
    left = [0] * len(questions)
    for status in STATUSES:
        counts = [q[status] for q in questions][::-1]
        axes.barh(rows, counts, left=left, color=COLOURS[status], label=status)
        left = [a + b for a, b in zip(left, counts, strict=True)]
    for y, q in enumerate(questions[::-1]):
        axes.text(max(left) * 1.01, y, f"{100 * q['success']:.0f}%", va="center")
    axes.set_yticks(rows, [label(q["symbol"]) for q in questions][::-1])
    axes.xaxis.get_major_locator().set_params(integer=True)
    axes.set_xlabel("students (the success rate: ok or inherited)")
    axes.legend(ncols=4, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    return figure


def _frequent(plt, grades: Grades):
    mistakes = grades.mistakes()[:TOP]
    figure, axes = plt.subplots(figsize=(6, 0.9 + 0.32 * max(1, len(mistakes))))
    if not mistakes:
        axes.text(0.5, 0.5, "no answer is wrong", ha="center", va="center")
        axes.set_axis_off()
        return figure
    names = [label(f"{m['symbol']}: {m['words']}") for m in mistakes][::-1]
    counts = [m["count"] for m in mistakes][::-1]
    axes.barh(range(len(counts)), counts, color=COLOURS["wrong"])
    axes.set_yticks(range(len(counts)), names)
    for y, count in enumerate(counts):
        axes.text(count, y, f" {count}", va="center")
    axes.xaxis.get_major_locator().set_params(integer=True)
    axes.set_xlabel("students")
    axes.set_title("the most frequent mistakes")
    return figure
