"""``chainrule grade`` (issue 29): a class's answers marked as ``check`` marks a claim.

The end-to-end test draws a class of 30 with ``chainrule.teaching.exercise``, writes 30 answer
sheets with mistakes planted independently (tests/golden/class_answers.py: float64 by hand, no
chainrule code; each mistake carried forward to every later number the student writes), grades
them, and checks every verdict, every feedback file and the report's counts. The other tests
read answers as spreadsheets export them, and hostile ones.
"""

import codecs
import csv
import html
import re
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest
from golden import class_answers, planted
from golden.class_answers import MISTAKES

import chainrule as cr
from chainrule.cli import main
from chainrule.explain.mistakes import FAMILIES
from chainrule.explain.render import markdown_text
from chainrule.teaching.answers import MAX_BYTES, number_text
from chainrule.teaching.problems import SHOWN

TEMPLATE = """\
title = "One step of backpropagation"
loss = "squared_error"
learning_rate = 0.1

[inputs]
x1 = 0.05
x2 = 0.10

[[layers]]
name = "hidden"
activation = "sigmoid"
neurons = [{ name = "h1", net = "z1", out = "a1" }, { name = "h2", net = "z2", out = "a2" }]

[[layers]]
name = "output"
activation = "sigmoid"
neurons = [
  { name = "o1", net = "z3", out = "y1", target = "t1" },
  { name = "o2", net = "z4", out = "y2", target = "t2" },
]

[targets]
o1 = 0.01
o2 = 0.99

[weights]
w1 = { from = "x1", to = "h1", value = 0.15 }
w2 = { from = "x1", to = "h2", value = 0.20 }
w3 = { from = "x2", to = "h1", value = 0.25 }
w4 = { from = "x2", to = "h2", value = 0.30 }
w5 = { from = "h1", to = "o1", value = 0.40 }
w6 = { from = "h1", to = "o2", value = 0.45 }
w7 = { from = "h2", to = "o1", value = 0.50 }
w8 = { from = "h2", to = "o2", value = 0.55 }

[biases]
b1 = { to = "h1", value = 0.35 }
b2 = { to = "h2", value = 0.35 }
b3 = { to = "o1", value = 0.60 }
b4 = { to = "o2", value = 0.60 }

[exercise]
ask = ["z1", "a1", "y1", "E", "dE/dy1", "dE/dz3", "dE/da1", "dE/dw5", "dE/dw1", "w5+", "w1+"]
digits = 4
seed = 2029

[exercise.vary]
weights = { low = -1.0, high = 1.0, decimals = 2 }
biases = { low = -0.5, high = 0.5, decimals = 2 }
inputs = { low = -1.0, high = 1.0, decimals = 2 }
targets = { low = 0.05, high = 0.95, decimals = 2 }
"""
ASK = tomllib.loads(TEMPLATE)["exercise"]["ask"]
DIGITS = 4
STATUS = {"ok", "inherited", "wrong", "missing"}


# -- the class ----------------------------------------------------------------------------------


ROSTER_NAMES = {7: '<script>alert(1)</script> $x$ | `y` \\ "q" #set page(fill: red)'}
"""A name from a hostile roster: it goes into every file written."""


def draw_class(folder: Path, n: int) -> tuple[float, dict]:
    """A roster of ``n`` through ``exercise``: the seconds it took and the variants' TOML
    documents by id."""
    (folder / "template.toml").write_text(TEMPLATE)
    roster = folder / "roster.csv"
    with roster.open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["id", "name"])
        writer.writerows([str(k), ROSTER_NAMES.get(k, f"Student {k}")] for k in range(1, n + 1))
    start = time.perf_counter()
    cr.exercise(folder / "template.toml", roster=roster, out=folder / "class")
    seconds = time.perf_counter() - start
    documents = {
        path.stem: tomllib.loads(path.read_text()) for path in (folder / "class").glob("*.toml")
    }
    return seconds, documents


def planted_sheets(documents: dict) -> tuple[list[dict], dict]:
    """Each student's answers (a row: id, then the asked numbers as written) with the mistake
    of :data:`MISTAKES` their number gives them, and the verdicts expected."""
    rows, expected = [], {}
    for key, document in sorted(documents.items(), key=lambda item: int(item[0])):
        assert document["exercise"]["ask"] == ASK and "claims" not in document
        ex = class_answers.exercise_of(document)
        mistake = MISTAKES[int(key) % len(MISTAKES)]
        rows.append({"id": key, **class_answers.sheet(ex, mistake, ASK, DIGITS)})
        expected[key] = (mistake, class_answers.expected(ex, mistake, ASK, DIGITS), ex)
    return rows, expected


def write_csv(path: Path, rows: list[dict], *, delimiter=",", comma=False, bom=False, crlf=False,
              encoding="utf-8") -> Path:  # fmt: skip
    """The rows as a spreadsheet exports them."""
    lines = []
    for row in [{k: k for k in rows[0]}, *rows]:
        cells = [v.replace(".", ",") if comma and k != "id" else v for k, v in row.items()]
        lines.append(delimiter.join(f'"{c}"' if delimiter in c else c for c in cells))
    text = ("\r\n" if crlf else "\n").join(lines) + "\n"
    data = text.encode(encoding)
    path.write_bytes((codecs.BOM_UTF8 if bom else b"") + data)
    return path


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    """A class of 30 drawn, answered with planted mistakes (as a ';' CSV with decimal commas,
    a byte-order mark and CRLF, as Excel writes it), graded by the command."""
    folder = tmp_path_factory.mktemp("class")
    drawn, documents = draw_class(folder, 30)
    rows, expected = planted_sheets(documents)
    answers = write_csv(folder / "answers.csv", rows, delimiter=";", comma=True, bom=True,
                        crlf=True)  # fmt: skip
    start = time.perf_counter()
    code = main(["grade", str(folder / "class"), str(answers), "--out", str(folder / "report")])
    seconds = time.perf_counter() - start
    print(f"\na class of 30: exercise {drawn:.2f} s, grade {seconds:.2f} s")
    assert code == 0
    return folder / "report", expected


def read_grades(path: Path) -> dict:
    with path.open(newline="", encoding="utf-8") as stream:
        return {row["id"]: row for row in csv.DictReader(stream)}


def test_every_planted_mistake_is_named_and_nothing_else_is_marked_wrong(graded_class):
    report, expected = graded_class
    grades = read_grades(report / "grades.csv")
    assert list(next(iter(grades.values()))) == ["id", "score", *ASK]
    assert set(grades) == set(expected)
    made = {m.label for m, v, _ in expected.values() if m.at and v[m.at] == ("wrong", m.kind)}
    assert made == {m.label for m in MISTAKES if m.at}  # every planted mistake is made
    blanks = [v for m, v, _ in expected.values() if m.blank]
    assert blanks and all(v[s] == "missing" for v in blanks for s in MISTAKES[-1].blank)
    for key, (mistake, verdicts, _) in expected.items():
        statuses = {s: (v[0] if isinstance(v, tuple) else v) for s, v in verdicts.items()}
        assert {s: grades[key][s] for s in ASK} == statuses, (key, mistake.label)
        if mistake.at is not None:
            assert verdicts[mistake.at] == ("wrong", mistake.kind), (key, mistake.label)
        credit = sum(s in ("ok", "inherited") for s in statuses.values())
        assert float(grades[key]["score"]) == pytest.approx(100 * credit / len(ASK), abs=0.05)


def test_the_feedback_names_each_mistake_and_the_correct_value(graded_class):
    report, expected = graded_class
    for key, (mistake, verdicts, ex) in expected.items():
        text = (report / "feedback" / f"{key}.md").read_text(encoding="utf-8")
        name = markdown_text(ROSTER_NAMES.get(int(key), f"Student {key}"))
        assert f"For {name} (id {key})." in text
        correct = class_answers.correct_values(ex, ASK)
        for symbol, verdict in verdicts.items():
            shown = f"{correct[symbol]:.6g}"  # two digits beyond the 4 asked
            row = re.search(rf"^\| {re.escape(symbol)} \| .* \| (\S+) \| (.*) \|$",
                            text, flags=re.M)  # fmt: skip
            assert row and float(row[1]) == pytest.approx(float(shown), rel=1e-5), symbol
            if verdict == "missing":
                assert row[2] == "not answered"
            elif isinstance(verdict, tuple):
                assert row[2] == f"wrong: {FAMILIES[verdict[1]]}"
                assert f"**{symbol}** ({FAMILIES[verdict[1]]}): you wrote" in text
        if mistake.label == "none":
            assert "What went wrong" not in text and "Carried forward" not in text


def test_the_report_counts_match_the_planted_mistakes(graded_class):
    report, expected = graded_class
    page = (report / "report.html").read_text(encoding="utf-8")
    planted = {}
    for _, verdicts, _ in expected.values():
        for symbol, verdict in verdicts.items():
            if isinstance(verdict, tuple):
                key = (symbol, FAMILIES[verdict[1]])
                planted[key] = planted.get(key, 0) + 1
    table = re.search(r'<table id="mistakes">(.*?)</table>', page, flags=re.S)[1]
    rows = re.findall(r'<tr><td>(.*?)</td><td>(.*?)</td><td class="number">(\d+)</td>', table)
    assert {(html.unescape(s), w): int(n) for s, w, n in rows} == planted
    counts = [int(n) for _, _, n in rows]
    assert counts == sorted(counts, reverse=True)  # most frequent first
    questions = re.search(r'<table id="questions">(.*?)</table>', page, flags=re.S)[1]
    for symbol, *numbers in re.findall(r"<tr><td>(.*?)</td>" + r'<td class="number">(\d+)</td>' * 4,
                                       questions):  # fmt: skip
        statuses = [v[0] if isinstance(v, tuple) else v for _, vs, _ in expected.values()
                    for s, v in vs.items() if s == html.unescape(symbol)]  # fmt: skip
        assert [int(n) for n in numbers] == [statuses.count(s) for s in
                                             ("ok", "inherited", "wrong", "missing")]  # fmt: skip
    assert page.count("data:image/svg+xml;base64,") == 3  # the three figures, inline
    assert "<script" not in page and html.escape(ROSTER_NAMES[7]) in page
    assert not re.search(r"""(src|href)=["'](?!data:)""", page)  # nothing loaded from outside


# -- classes built by hand (no drawing): the reading of answers --------------------------------


def hand_variant(folder: Path, key: str, *, name: str = "", stem: str | None = None,
                 shift: float = 0.0, b1: float | None = None) -> dict:  # fmt: skip
    """A variant as ``exercise`` writes one (a spec without claims, its [exercise] table
    holding ask, digits, id, name and seed), the template's numbers moved by ``shift``."""
    body = TEMPLATE.split("[exercise]")[0]
    body = body.replace(
        'w5 = { from = "h1", to = "o1", value = 0.40 }',
        f'w5 = {{ from = "h1", to = "o1", value = {0.40 + shift:.2f} }}',
    )
    if b1 is not None:
        body = body.replace(
            'b1 = { to = "h1", value = 0.35 }', f'b1 = {{ to = "h1", value = {b1} }}'
        )
    table = (
        f"[exercise]\nask = {toml_list(ASK)}\ndigits = {DIGITS}\nid = {toml_string(key)}\n"
        f"name = {toml_string(name)}\nseed = 2029\n"
    )
    text = body + table
    (folder / f"{stem or key}.toml").write_text(text, encoding="utf-8")
    return tomllib.loads(text)


def toml_string(text: str) -> str:
    escaped = "".join(c if c.isprintable() and c not in '"\\' else f"\\u{ord(c):04x}" for c in text)
    return f'"{escaped}"'


def toml_list(names) -> str:
    return "[" + ", ".join(toml_string(n) for n in names) + "]"


def hand_class(folder: Path, keys) -> dict:
    """Variants of ``keys`` (ids) in ``folder``/class; their documents by id."""
    (folder / "class").mkdir()
    return {k: hand_variant(folder / "class", k, shift=0.01 * i) for i, k in enumerate(keys)}


def mistakes_of(documents: dict) -> tuple[list[dict], dict]:
    """Rows of answers and the statuses expected, student i making MISTAKES[i]."""
    rows, statuses = [], {}
    for i, (key, document) in enumerate(documents.items()):
        ex, mistake = class_answers.exercise_of(document), MISTAKES[i % len(MISTAKES)]
        rows.append({"id": key, **class_answers.sheet(ex, mistake, ASK, DIGITS)})
        verdicts = class_answers.expected(ex, mistake, ASK, DIGITS)
        statuses[key] = {s: v[0] if isinstance(v, tuple) else v for s, v in verdicts.items()}
    return rows, statuses


def statuses_of(grades) -> dict:
    return {st.id: {v.symbol: v.status for v in st.verdicts} for st in grades.students}


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("0.0436", "0.0436"),
        ("-0,12", "-0.12"),
        (" 1 234,5 ", "1234.5"),
        ("1\u00a0234.50", "1234.50"),  # a no-break space between thousands
        ("\u22123e-2", "-3e-2"),  # the typographic minus
        ("4.36E-2", "4.36E-2"),
        ("+.5", "+.5"),
        ("0", "0"),
        ("", None),
        ("abc", None),
        ("1,234.5", None),
        ("1,2,3", None),
        ("1_000", None),
        ("0x10", None),
        ("nan", None),
        ("inf", None),
        ("1e400", None),
        ("1e-400", None),
        ("0e400", None),
        ("9" * 65, None),
        ("#VALUE!", None),
    ],
)
def test_an_answer_is_read_as_typed(typed, read):
    assert number_text(typed) == read


def test_spreadsheet_exports_of_the_same_answers_grade_alike(tmp_path):
    documents = hand_class(tmp_path, [str(k) for k in range(1, 9)])
    rows, statuses = mistakes_of(documents)
    dialects = {
        "plain.csv": {},
        "excel.csv": {"delimiter": ";", "comma": True, "bom": True, "crlf": True},
        "unicode.txt": {"delimiter": "\t", "encoding": "utf-16"},  # Excel's Unicode text
        "windows.csv": {"delimiter": ";", "comma": True, "encoding": "cp1252"},
    }
    for name, dialect in dialects.items():
        path = write_csv(tmp_path / name, rows, **dialect)
        grades = cr.grade(tmp_path / "class", path)
        assert statuses_of(grades) == statuses, name
        assert grades.problems == [], name


def test_a_folder_of_filled_in_spec_files_is_graded_as_the_table_is(tmp_path):
    documents = hand_class(tmp_path, [str(k) for k in range(1, 9)])
    rows, statuses = mistakes_of(documents)
    folder = tmp_path / "handed_in"
    folder.mkdir()
    for i, row in enumerate(rows):
        text = (tmp_path / "class" / f"{row['id']}.toml").read_text()
        claims = {s: v for s, v in row.items() if s != "id" and v}
        if i == 1:  # a decimal comma: no valid spec, its claims read alone
            claims = {s: v.replace(".", ",") for s, v in claims.items()}
        lines = [f"{toml_string(s)} = {v if i == 2 else toml_string(v)}" for s, v in claims.items()]
        name = f"submission_{i}.toml"  # a learning platform renames the files
        (folder / name).write_text(text + "\n[claims]\n" + "\n".join(lines) + "\n")
    grades = cr.grade(tmp_path / "class", folder)
    assert statuses_of(grades) == statuses
    assert len(grades.problems) == 1 and "submission_1.toml" in grades.problems[0]
    assert "its [claims] are read alone" in grades.problems[0]


def test_a_bare_number_keeps_the_digits_written(tmp_path):
    (tmp_path / "class").mkdir()
    hand_variant(tmp_path / "class", "1", b1=0.3575)  # z1 = 0.39 exactly
    folder = tmp_path / "handed_in"
    folder.mkdir()
    text = (tmp_path / "class" / "1.toml").read_text()
    (folder / "1.toml").write_text(text + '\n[claims]\nz1 = 0.3900\na1 = "0.6"\n')
    grades = cr.grade(tmp_path / "class", folder)
    verdicts = {v.symbol: v for v in grades.students[0].verdicts}
    assert verdicts["z1"].status == "ok" and verdicts["z1"].answer == "0.3900"
    assert (verdicts["a1"].status, verdicts["a1"].kind) == ("wrong", "precision")


def test_an_answer_holds_only_to_the_digits_asked(tmp_path):
    (tmp_path / "class").mkdir()
    hand_variant(tmp_path / "class", "1", b1=0.3575)  # z1 = 0.39: at 4 digits 0.3900
    answers = tmp_path / "answers.csv"
    a1 = cr.explain.explain(tmp_path / "class" / "1.toml").trace.values()["a1"]
    for z1, a1_text, z1_status, a1_status in [
        ("0.3900", f"{a1:.4g}", "ok", "ok"),
        ("0.39", f"{a1:.3g}", "ok", "wrong"),  # a spreadsheet drops 0.3900's zeros; 3 digits
        ("0.4", f"{a1:.8g}", "wrong", "ok"),  # 0.4 holds for 0.39 at one decimal; 8 digits
    ]:
        answers.write_text(f"id,z1,a1\n1,{z1},{a1_text}\n")
        verdicts = {v.symbol: v for v in cr.grade(tmp_path / "class", answers).students[0].verdicts}
        assert (verdicts["z1"].status, verdicts["a1"].status) == (z1_status, a1_status), z1
        for v in (verdicts["z1"], verdicts["a1"]):
            if v.status == "wrong":
                assert v.kind == "precision" and "where the exercise asks for 4;" in v.diagnosis


def test_a_coarse_wrong_number_lends_nothing_to_what_follows(tmp_path):
    """``check`` lets an earlier number be off by one unit of its last digit: ``1e3`` would
    make anything near what follows from it inherited. It is judged alone."""
    (tmp_path / "class").mkdir()
    document = hand_variant(tmp_path / "class", "1")
    right = planted.worked(class_answers.exercise_of(document))
    answers = tmp_path / "answers.csv"
    for dy, dz, status in [
        ("1e3", f"{1e3 * right['dy1/dz3'] + 7:.3g}", "wrong"),  # within 1e3's slack
        ("1.000e3", f"{1e3 * right['dy1/dz3']:.4g}", "inherited"),  # four digits: together
    ]:
        answers.write_text(f"id,dE/dy1,dE/dz3\n1,{dy},{dz}\n")
        verdicts = cr.grade(tmp_path / "class", answers).students[0].verdicts
        status_of = {v.symbol: v.status for v in verdicts}
        assert (status_of["dE/dy1"], status_of["dE/dz3"]) == ("wrong", status), dy


def test_problems_are_reported_by_row_and_column_and_the_rest_is_graded(tmp_path, capsys):
    documents = hand_class(tmp_path, ["01", "02", "03", "04"])
    rows, statuses = mistakes_of(documents)
    header = ["id", "name", *ASK, "z9"]
    lines = [",".join(header)]
    lines.append(",".join(["1", "Ann", *(rows[0][s] for s in ASK), "5"]))  # '01' typed as 1
    lines.append(",".join(["02", "Bo", *(rows[1][s] for s in ASK), ""]))
    cells = [rows[1][s] for s in ASK]
    cells[ASK.index("dE/dw5")] = "abc"
    lines.append(",".join(["02", "Bo again", *cells, ""]))  # a resubmission, one cell unreadable
    lines.append(",".join(["", "nobody", *(rows[2][s] for s in ASK), ""]))
    lines.append(",".join(["04", "Di", *(rows[3][s] for s in ASK), ""]))
    answers = tmp_path / "answers.csv"
    answers.write_text("\n".join(lines) + "\n")
    code = main(["grade", str(tmp_path / "class"), str(answers), "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err.splitlines()
    assert code == 0
    assert all(line.startswith("chainrule: warning: ") for line in err), err
    said = "\n".join(err)
    assert f"{answers} row 1, column {len(header)} ('z9'): no asked quantity" in said
    assert f"{answers} row 2: the id '1' has no variant; did you mean '01'" in said
    assert f"{answers} row 4: the id '02' again (first at {answers} row 3)" in said
    assert f"{answers} row 4, column 'dE/dw5': 'abc' is not a number" in said
    assert f"{answers} row 5: no id" in said
    assert "no answers for the id '01'" in said and "no answers for the id '03'" in said
    assert len(err) == 7
    grades = read_grades(tmp_path / "r" / "grades.csv")
    assert set(grades) == {"01", "02", "03", "04"}
    assert {s: grades["04"][s] for s in ASK} == statuses["04"]
    assert grades["02"]["dE/dw5"] == "missing"  # the later row is graded; 'abc' is no number
    assert all(grades["03"][s] == "missing" for s in ASK) and grades["03"]["score"] == "0.0"
    page = (tmp_path / "r" / "report.html").read_text()
    assert "row 4, column &#x27;dE/dw5&#x27;: &#x27;abc&#x27; is not a number" in page
    feedback = (tmp_path / "r" / "feedback" / "02.md").read_text()
    assert "| dE/dw5 | abc |" in feedback and "not a number" in feedback


HOSTILE = "\x1b[31m<script>alert(1)</script> #set page(fill: red) $x^2$ | `rm` \\ \"q\" 'r'"


def test_hostile_ids_names_and_answers_are_escaped_everywhere(tmp_path, capsys):
    (tmp_path / "class").mkdir()
    key = '=HYPERLINK("http://x")<b>'
    hand_variant(tmp_path / "class", key, name=HOSTILE, stem="s1")
    hand_variant(tmp_path / "class", "2", name="Eve", stem="s2")
    answers = tmp_path / "answers.csv"
    with answers.open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["id", "z1", "a1", "E", HOSTILE])
        writer.writerow([key, "<script>x</script>", "$1$|`2`", "0.1\\", "1"])
        writer.writerow([HOSTILE, "1", "", "", ""])
        writer.writerow(["2", "=1+1", "@SUM(A1)", "-0,5", ""])
    code = main(["grade", str(tmp_path / "class"), str(answers), "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 0 and "\x1b" not in err and "\\x1b" in err
    page = (tmp_path / "r" / "report.html").read_text()
    assert "<script" not in page.lower() and "<b>" not in page and "\x1b" not in page
    assert html.escape("<script>alert(1)</script>") in page
    assert "Content-Security-Policy" in page
    for stem in ("s1", "s2"):
        text = (tmp_path / "r" / "feedback" / f"{stem}.md").read_text()
        assert "<script" not in text and "<b>" not in text and "\x1b" not in text
        bare = re.sub(r"\\.", "", text).replace("**", "")  # escaped characters and bold gone
        assert not re.search(r"[`$<>*_\[\]~]", bare)  # no code, math, tag or emphasis starts
        for line in bare.splitlines():  # a table row keeps its four cells
            assert not line.startswith("|") or line.count("|") == 5, line
    feedback = (tmp_path / "r" / "feedback" / "s1.md").read_text()
    assert r"\<script\>" not in feedback and "&lt;script&gt;" in feedback
    assert r"\$x^2\$ \| \`rm\` \\" in feedback
    with (tmp_path / "r" / "grades.csv").open(newline="") as stream:
        cells = [row[0] for row in csv.reader(stream)]
    assert cells[1:] == ["2", "'" + key]  # no formula a spreadsheet would run


def test_large_and_hostile_files_are_bounded(tmp_path, capsys):
    hand_class(tmp_path, ["1", "2"])
    big = tmp_path / "many.csv"
    rows = "".join(f"x{k},0.1\n" for k in range(100_000))
    big.write_text("id,z1\n" + rows + "1,0.1\n")
    start = time.perf_counter()
    grades = cr.grade(tmp_path / "class", big)
    assert time.perf_counter() - start < 10
    unknown = [line for line in grades.problems if "has no variant" in line]
    assert len(unknown) == SHOWN
    assert (
        f"... and {100_000 - SHOWN} more of the kind 'unknown id' (not listed)" in grades.problems
    )
    one_cell = tmp_path / "cell.csv"
    one_cell.write_text("id,z1\n1," + "9" * 10 * 2**20 + "\n")  # 10 MB in one cell
    grades = cr.grade(tmp_path / "class", one_cell)
    assert grades.students[0].verdicts[0].status == "missing"
    assert len(grades.problems[0]) < 400 and "'9999999999" in grades.problems[0]
    huge = tmp_path / "huge.csv"
    huge.write_bytes(b"id,z1\n" + b"1,0.1\n" * (MAX_BYTES // 6 + 1))
    assert main(["grade", str(tmp_path / "class"), str(huge), "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "larger than 16 MB" in err
    folder = tmp_path / "handed_in"
    folder.mkdir()
    (folder / "1.toml").write_text('[claims]\nz1 = "' + "1" * 2**21 + '"\n')
    (folder / "2.toml").write_text("a = " + "[" * 100_000 + "]" * 100_000 + "\n")
    grades = cr.grade(tmp_path / "class", folder)
    assert sum("not a readable spec file" in line for line in grades.problems) == 2


def test_grade_from_python_returns_what_a_notebook_shows(tmp_path):
    documents = hand_class(tmp_path, ["1", "2", "3"])
    rows, statuses = mistakes_of(documents)
    grades = cr.grade(tmp_path / "class", write_csv(tmp_path / "a.csv", rows))
    assert grades.out is None and not (tmp_path / "grades.csv").exists()
    assert [row["id"] for row in grades.table()] == ["1", "2", "3"]
    assert [q["symbol"] for q in grades.questions()] == ASK
    assert {(m["symbol"], m["kind"]) for m in grades.mistakes()} == {
        ("dE/da1", "dropped_path"),
        ("w5+", "rate_forgotten"),
    }
    shown = grades._repr_html_()
    assert '<table id="students">' in shown and "dropped path" in shown


def test_importing_chainrule_imports_neither_matplotlib_nor_typst():
    code = (
        "import sys, chainrule as cr; cr.grade; "
        "print(sorted(m for m in ('matplotlib', 'typst') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_a_missing_matplotlib_is_one_line_before_any_work(tmp_path, monkeypatch, capsys):
    hand_class(tmp_path, ["1"])
    (tmp_path / "a.csv").write_text("id,z1\n1,0.1\n")
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    code = main(["grade", str(tmp_path / "class"), str(tmp_path / "a.csv"), "--out",
                 str(tmp_path / "r")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and 'pip install "chainrule[plot]"' in err
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize(
    ("make", "said"),
    [
        (lambda p: p.mkdir(), "no variant"),
        (lambda p: p.write_text("x"), "not a folder"),
    ],
)
def test_a_folder_without_variants_is_one_line(tmp_path, capsys, make, said):
    make(tmp_path / "class")
    (tmp_path / "a.csv").write_text("id,z1\n1,0.1\n")
    code = main(["grade", str(tmp_path / "class"), str(tmp_path / "a.csv"), "--out",
                 str(tmp_path / "r")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and said in err
