"""``chainrule exercise``: a variant per student from a template, their sheets, the key, a quiz.

The class of 30 is made once (PDF, Markdown, LaTeX and Moodle): its files, the sheets' text
(extracted with pypdf), the key against an independent float64 computation
(tests/golden/exercise_key.py), and the drawing rules on every variant of every starter
template, checked on those independent numbers.
"""

from __future__ import annotations

import csv
import itertools
import math
import subprocess
import sys
import time
import tomllib
import xml.etree.ElementTree as ET
from importlib import resources

import pytest
from golden.exercise_key import key_row, net_of

import chainrule as cr
from chainrule.cli import main
from chainrule.explain import SpecError, parse_spec
from chainrule.teaching.roster import RosterError
from chainrule.teaching.template import parse_template

pypdf = pytest.importorskip("pypdf")
pytest.importorskip("typst")

KINDS = ("basic", "softmax", "bce", "batch", "momentum", "adam")
HOSTILE = [
    "<script>alert(1)</script>",
    '#read("/etc/passwd") #panic("typst")',
    "$x$ \\(y\\) back\\slash",
    "\"quoted\" and 'single' ]); #let a = [",
    "Zoë Ünal & <b>x</b> 50% ~x_1^2 {a}",
]


def starter(kind: str) -> str:
    return (resources.files("chainrule.explain") / "starters" / f"{kind}_exercise.toml").read_text()


def template_file(tmp_path, kind="basic", edit=lambda text: text):
    path = tmp_path / f"{kind}.toml"
    path.write_text(edit(starter(kind)), encoding="utf-8")
    return path


def roster_file(tmp_path, rows, name="roster.csv"):
    path = tmp_path / name
    with path.open("w", newline="", encoding="utf-8") as stream:
        csv.writer(stream).writerows(rows)
    return path


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """A roster of 30, every format and the quiz; how long it took."""
    folder = tmp_path_factory.mktemp("class")
    names = [f"Student {k}" for k in range(25)] + HOSTILE
    rows = [["id", "name", "email"]] + [[f"s{k:02d}", n, "x@y"] for k, n in enumerate(names)]
    roster = roster_file(folder, rows)
    started = time.perf_counter()
    result = cr.exercise(
        template_file(folder),
        roster=roster,
        out=folder / "out",
        formats=("pdf", "markdown", "latex"),
        moodle=folder / "quiz.xml",
    )
    seconds = time.perf_counter() - started
    print(f"\na class of 30, every format and the quiz: {seconds:.2f} s")
    return result, folder / "out", seconds


def pdf_text(path) -> str:
    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(path).pages)
    return text.replace("−", "-")


def given_numbers(document: dict) -> list[str]:
    """Every number a variant gives, as the sheet writes it."""
    numbers = []
    for table in ("inputs", "targets"):
        for value in document[table].values():
            numbers += [f"{v:.10g}" for v in (value if isinstance(value, list) else [value])]
    for table in ("weights", "biases"):
        numbers += [f"{entry['value']:.10g}" for entry in document[table].values()]
    return numbers


# -- the class of 30 ----------------------------------------------------------------------------


def test_a_roster_of_30_gets_30_variants_sheets_and_the_key_in_seconds(made):
    result, out, seconds = made
    assert len(result.variants) == 30 and seconds < 30
    for kind in ("toml", "pdf", "md", "tex"):
        assert len(list(out.glob(f"s*.{kind}"))) == 30, kind
    for name in ("key.csv", "key.pdf", "key.md", "key.tex"):
        assert (out / name).stat().st_size > 0
    assert result.variants[0].files[0] == out / "s00.toml"
    assert "| s00 | Student 0 |" in result._repr_markdown_()


def test_each_variant_is_a_complete_spec_without_claims_or_ranges(made):
    result, out, _ = made
    for variant in result.variants:
        text = (out / f"{variant.id}.toml").read_text(encoding="utf-8")
        document = tomllib.loads(text)
        parse_spec(text)  # a complete spec
        assert "claims" not in document and "vary" not in document["exercise"]
        assert document["exercise"] == {
            "ask": result.ask,
            "digits": 3,
            "id": variant.id,
            "name": variant.name,
            "seed": 2024,
        }


def test_the_key_agrees_with_an_independent_float64_computation(made):
    result, out, _ = made
    with (out / "key.csv").open(newline="") as stream:
        rows = list(csv.reader(stream))
    assert rows[0] == ["id", *result.ask] and len(rows) == 31
    for row in rows[1:]:
        document = tomllib.loads((out / f"{row[0]}.toml").read_text(encoding="utf-8"))
        golden = key_row(document)
        for symbol, written in zip(result.ask, row[1:], strict=True):
            assert float(written) == pytest.approx(golden[symbol], rel=1e-12, abs=1e-15), symbol


def test_every_sheet_holds_its_variants_numbers_name_and_id(made):
    result, out, _ = made
    for variant in result.variants:
        text = pdf_text(out / f"{variant.id}.pdf")
        document = tomllib.loads((out / f"{variant.id}.toml").read_text(encoding="utf-8"))
        for number in given_numbers(document):
            assert number in text, (variant.id, number)
        assert variant.id in text and variant.name in text
        for symbol in result.ask:
            assert symbol in text  # the answer table names each asked quantity
        markdown = (out / f"{variant.id}.md").read_text(encoding="utf-8")
        latex = (out / f"{variant.id}.tex").read_text(encoding="utf-8")
        for number in given_numbers(document):
            assert f"| {number} |" in markdown and f"{number}" in latex, number
        assert latex.rstrip().endswith("\\end{document}") and latex.count("\\node") > 20


def test_the_key_pdf_holds_every_asked_value_of_every_variant(made):
    result, out, _ = made
    pages = pypdf.PdfReader(out / "key.pdf").pages
    assert len(pages) > 30  # the overview, then each variant's worked solution
    text = pages[0].extract_text().replace("−", "-") + pages[-1].extract_text()
    assert "s29" in text and "Forward pass" not in pages[0].extract_text()
    for variant in result.variants:
        assert variant.id in text
        for symbol in result.ask:
            assert f"{variant.values[symbol]:.3g}" in text, (variant.id, symbol)


# -- hostile names --------------------------------------------------------------------------------


def test_hostile_names_are_shown_as_written_in_every_format(made):
    result, out, _ = made
    hostile = [v for v in result.variants if v.name in HOSTILE]
    assert len(hostile) == len(HOSTILE)
    for variant in hostile:
        markdown = (out / f"{variant.id}.md").read_text(encoding="utf-8")
        latex = (out / f"{variant.id}.tex").read_text(encoding="utf-8")
        assert "<script>" not in markdown and "$x$" not in markdown
        assert "#read" not in latex or "\\#read" in latex
        assert "\\(y\\)" not in latex and "<script>" not in latex
        assert "<b>" not in markdown and "50%" not in latex
    text = pdf_text(out / "s25.pdf")
    assert "<script>alert(1)</script>" in text
    assert '#read("/etc/passwd") #panic("typst")' in pdf_text(out / "s26.pdf")
    assert "$x$ \\(y\\) back\\slash" in pdf_text(out / "s27.pdf")


def test_a_hostile_title_and_names_in_the_template_stay_text(tmp_path):
    def hostile(text):
        text = text.replace(
            'title = "One step of backpropagation"',
            'title = "<img src=x onerror=alert(1)> #panic(\\"t\\") $x$ /path"',
        )
        return text.replace('net = "z1"', 'net = "z<1>&#"').replace('"z1", "a1"', '"z<1>&#", "a1"')

    result = cr.exercise(
        template_file(tmp_path, edit=hostile),
        count=2,
        out=tmp_path / "out",
        formats=("pdf", "markdown", "latex"),
        moodle=tmp_path / "quiz.xml",
    )
    assert result.ask[0] == "z<1>&#"
    quiz = ET.parse(tmp_path / "quiz.xml").getroot()
    html = "".join(t.text or "" for t in quiz.iter("text"))
    assert "<img" not in html and "&lt;img src=x" in html
    category = quiz.find("question[@type='category']/category/text").text
    assert category.startswith("$course$/top/&lt;img") and "//path/z&lt;1&gt;&amp;#" in category
    assert "<img" in pdf_text(tmp_path / "out" / "1.pdf")
    assert "<img" not in (tmp_path / "out" / "1.md").read_text(encoding="utf-8")


# -- reproducibility and the drawing rules ------------------------------------------------------


def test_the_same_template_seed_and_id_give_the_same_variant(tmp_path):
    template = template_file(tmp_path)
    first = cr.exercise(template, roster=["a", "b", "c"], out=tmp_path / "1", formats=())
    cr.exercise(template, roster=["c", "a"], out=tmp_path / "2", formats=())
    for name in ("a.toml", "c.toml"):
        assert (tmp_path / "1" / name).read_bytes() == (tmp_path / "2" / name).read_bytes()
    values = {v.id: v.values for v in first.variants}
    assert values["a"] != values["b"] != values["c"]
    reseeded = template_file(tmp_path, edit=lambda t: t.replace("seed = 2024", "seed = 7"))
    other = cr.exercise(reseeded, roster=["a"], out=tmp_path / "3", formats=())
    assert other.variants[0].values != values["a"]


def _band_breaks(net, p, share) -> list:
    for (_, A), f in zip(net.forward(p), net.acts, strict=True):
        if f in ("sigmoid", "softmax") and not ((share <= A) & (1 - share >= A)).all():
            return [f, A]
        if f == "tanh" and not (abs(A) <= 1 - 2 * share).all():
            return [f, A]
    return []


def _relu_breaks(net, p, inactive, document) -> list:
    names = [[n["name"] for n in layer["neurons"]] for layer in document["layers"]]
    for (Z, _), f, layer in zip(net.forward(p), net.acts, names, strict=True):
        if f != "relu":
            continue
        for j, name in enumerate(layer):
            if (name in inactive) != bool((Z[:, j] < 0).all()) or (Z[:, j] == 0).any():
                return [name, Z[:, j]]
    return []


@pytest.mark.parametrize("kind", KINDS)
def test_every_variant_of_every_starter_keeps_the_drawing_rules(kind, tmp_path):
    template = tomllib.loads(starter(kind))["exercise"]
    result = cr.exercise(template_file(tmp_path, kind), count=30, out=tmp_path / "o", formats=())
    smallest = template.get("avoid", {}).get("smaller_than", 0.0005)
    for variant in result.variants:
        document = tomllib.loads((tmp_path / "o" / f"{variant.id}.toml").read_text())
        net, golden = net_of(document), key_row(document)
        assert not _band_breaks(net, net.start, 0.05), variant.id
        assert not _relu_breaks(net, net.start, template.get("inactive", []), document)
        assert all(abs(v) >= smallest for v in golden.values()), golden
        rounded = [float(f"{v:.3g}") for v in golden.values()]
        assert len(set(rounded)) == len(rounded), golden
    assert len({tuple(v.values.values()) for v in result.variants}) == 30


def test_a_template_the_rules_cannot_meet_is_refused_naming_the_rule(tmp_path):
    wide = template_file(
        tmp_path, edit=lambda t: t.replace("low = -0.9, high = 0.9", "low = 8, high = 9")
    )
    with pytest.raises(SpecError, match=r"no variant for student '1' .* had a saturated unit"):
        cr.exercise(wide, count=1, out=tmp_path / "o", formats=())
    assert not (tmp_path / "o").exists()  # nothing written, not even the folder
    relaxed = "[exercise.avoid]\nsaturation = 0\nsmaller_than = 0\nequal = false"
    wide.write_text(wide.read_text().replace("# [exercise.avoid]\n# saturation = 0.05", relaxed))
    assert cr.exercise(wide, count=1, out=tmp_path / "o", formats=()).variants


def test_an_inactive_unit_is_drawn_inactive_and_others_active(tmp_path):
    result = cr.exercise(
        template_file(tmp_path, "softmax"), count=20, out=tmp_path / "o", formats=()
    )
    assert all(v.values["z2"] < 0 < v.values["z1"] for v in result.variants)


# -- problems, each one line naming the file, the row or line, and what was expected -------------


@pytest.mark.parametrize(
    "rows, message",
    [
        (
            [["id"], ["a"], ["b"], ["A"]],
            r"line 4, column 'id': the id 'A' is already line 2's \('a'\)",
        ),
        ([["id", "name"], ["a", "x"], ["", "y"]], r"line 3, column 'id': the id is empty"),
        ([["id", "name"], ["a", "x", "extra"]], r"line 2: the row has 3 fields, the header 2"),
        ([["id"], ["../etc"]], r"line 2, column 'id': the id '../etc' is not a plain file name"),
        ([["id"], ["key"]], r"line 2, column 'id': the id 'key' is reserved"),
        ([["name"], ["a"]], r"line 1: the header has no 'id' column \(it has 'name'\)"),
        ([["id", "name"], ["a", "line\nbreak"]], r"line 3, column 'name': .*control character"),
        ([["id", "name"], ["a", "\u202eevil"]], r"line 2, column 'name': .*control character"),
        ([["id"]], r"the roster lists no student"),
    ],
)
def test_a_bad_roster_is_refused_naming_the_row(tmp_path, rows, message):
    roster = roster_file(tmp_path, rows)
    with pytest.raises(RosterError, match=message):
        cr.exercise(template_file(tmp_path), roster=roster, out=tmp_path / "o", formats=())


@pytest.mark.parametrize(
    "old, new, message",
    [
        ('"dE/dw5"', '"dE/dW5"', r"line \d+: \[exercise\] ask names 'dE/dW5', .* 'dE/dw5'\?"),
        ('ask = ["z1",', 'ask = ["w1",', r"ask names 'w1', which the file gives \(parameter\)"),
        ("inputs = { low", "input = { low", r"names 'input', no parameter.* did you mean 'inputs'"),
        ("low = 0.1, high = 1.0", "low = 2, high = 1.0", r"'inputs' runs from 2 to 1.0"),
        ("decimals = 2 }\nweights", "decimals = 9 }\nweights", r"decimals from 0 to 6"),
        ("seed = 2024", 'seed = 2024\ninactive = ["h1"]', r"'h1', which is no relu"),
        ("\n[exercise]\n", "\n[exercise.avoid]\nsaturation = 0.7\n[exercise]\n", "saturation must"),
        ("digits = 3 ", 'digits = "3" ', r"'digits' of exercise must be an integer, got '3'"),
        ("digits = 3 ", "digits = 0 ", r"digits must be from 1 to 15"),
    ],
)
def test_a_bad_template_is_refused_naming_the_line(tmp_path, old, new, message):
    template = template_file(tmp_path, edit=lambda text: text.replace(old, new, 1))
    with pytest.raises(SpecError, match=message):
        cr.exercise(template, count=2, out=tmp_path / "o", formats=())


def test_a_spec_without_an_exercise_table_is_no_template():
    with pytest.raises(SpecError, match=r"has no \[exercise\] table"):
        parse_template(starter("basic").split("\n[exercise]")[0])
    with pytest.raises(SpecError, match="cross_entropy targets must sum to 1"):
        parse_template(starter("softmax") + "\n[exercise.vary.t1]\nlow = 0\nhigh = 1\n")


# -- the Moodle quiz ----------------------------------------------------------------------------


def test_the_quiz_is_moodle_xml_with_a_numerical_question_per_quantity_and_student(made):
    result, out, _ = made
    quiz = ET.parse(out.parent / "quiz.xml").getroot()
    assert quiz.tag == "quiz"
    questions = list(quiz)
    categories = [q for q in questions if q.get("type") == "category"]
    numerical = [q for q in questions if q.get("type") == "numerical"]
    assert len(categories) == len(result.ask) and len(numerical) == 30 * len(result.ask)
    assert categories[4].find("category/text").text.endswith("/dE//dw5")
    by_name = {q.find("name/text").text: q for q in numerical}
    for variant, symbol in itertools.product(result.variants, result.ask):
        question = by_name[f"{symbol} ({variant.id})"]
        assert question.find("questiontext").get("format") == "html"
        assert "significant digits" in question.find("questiontext/text").text
        answer = question.find("answer")
        assert answer.get("fraction") == "100"
        correct, tolerance = float(answer.find("text").text), float(answer.find("tolerance").text)
        assert correct == variant.values[symbol]
        # one unit of the third significant digit
        assert tolerance == pytest.approx(10.0 ** (math.floor(math.log10(abs(correct))) - 2))
        for tag in ("generalfeedback/text", "defaultgrade", "idnumber", "answer/feedback/text"):
            assert question.find(tag) is not None, tag


# -- the command line, the extra, the starters --------------------------------------------------


def test_the_command_writes_the_class_and_says_so(tmp_path, capsys):
    template = template_file(tmp_path)
    code = main(
        ["exercise", str(template), "--count", "3", "--out", str(tmp_path / "o"),
         "--format", "markdown", "latex", "--moodle", str(tmp_path / "q.xml")]
    )  # fmt: skip
    assert code == 0
    assert "drew 3 variants of 'One step of backpropagation'" in capsys.readouterr().out
    assert {p.name for p in (tmp_path / "o").iterdir()} == {
        *(f"{k}.{s}" for k in (1, 2, 3) for s in ("toml", "md", "tex")),
        "key.csv",
        "key.md",
        "key.tex",
    }


def test_a_problem_is_one_line_and_exit_2(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    roster = roster_file(tmp_path, [["id"], ["a"], ["a"]])
    code = main(["exercise", str(template_file(tmp_path)), "--roster", str(roster), "--out", "o"])
    error = capsys.readouterr().err
    assert code == 2 and error.count("\n") == 1
    assert error.startswith("chainrule: error: ") and "line 3, column 'id'" in error


def test_the_quiz_may_not_replace_a_file_of_the_class(tmp_path):
    with pytest.raises(ValueError, match=r"the Moodle quiz .*key.csv' would replace a file"):
        cr.exercise(
            template_file(tmp_path), count=2, out=tmp_path, formats=(), moodle=tmp_path / "key.csv"
        )


def test_pdf_without_typst_says_how_to_install_it(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, "typst", None)
    code = main(["exercise", str(template_file(tmp_path)), "--count", "2", "--out", "o"])
    error = capsys.readouterr().err
    assert code == 2 and 'pip install "chainrule[teaching]"' in error and error.count("\n") == 1
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("kind", KINDS)
def test_init_example_writes_each_kinds_exercise_template(kind, tmp_path):
    path = tmp_path / f"{kind}.toml"
    assert main(["init-example", str(path), "--kind", kind, "--exercise"]) == 0
    template = parse_template(path.read_text(), str(path))
    assert template.ask and template.vary and template.seed == 2024


def test_importing_chainrule_imports_neither_typst_nor_matplotlib():
    code = (
        "import sys, chainrule; print('typst' in sys.modules, 'matplotlib' in sys.modules, "
        "chainrule.exercise.__module__, 'typst' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    # and the teaching subpackage itself imports typst only to write a PDF
    assert done.stdout.split() == ["False", "False", "chainrule.teaching.exercise", "False"]
