"""Names and values read from a file reach the terminal shown, never acted on (issue 25).

A spec file's title and symbol names, a CSV file's column names and labels can hold escape
sequences, carriage returns, backspaces and bidi controls. Printed raw, a crafted symbol name
made a wrong claim display as "ok ... correct" and hid the summary line. Each test builds the
hostile file, runs the real command line and looks at the bytes it wrote."""

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from chainrule.cli import main
from chainrule.core.terminal import printable, printable_json, printable_lines

STARTER = (Path(__file__).parent.parent / "chainrule" / "explain" / "starter.toml").read_text()

BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
SEPARATORS = "\u2028\u2029\x85"


def raw_controls(text: str) -> list[str]:
    """The characters of ``text`` that a terminal acts on instead of showing (line feeds, which
    the program writes itself, aside)."""
    return sorted(
        {
            c
            for c in text
            if (ord(c) < 0x20 and c != "\n") or 0x7F <= ord(c) <= 0x9F or c in BIDI + SEPARATORS
        }
    )


# -- printable ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "raw,shown",
    [
        ("\x1b[2K", r"\x1b[2K"),
        ("\r", r"\r"),
        ("\n", r"\n"),
        ("\t", r"\t"),
        ("\x07", r"\x07"),
        ("\x08", r"\x08"),
        ("\x00", r"\x00"),
        ("\x7f", r"\x7f"),
        ("\x9b", r"\x9b"),
        ("\x85", r"\x85"),
        ("\u202e", r"\u202e"),
        ("\u202a", r"\u202a"),
        ("\u2066", r"\u2066"),
        ("\u2069", r"\u2069"),
        ("\u200e", r"\u200e"),
        ("\u200f", r"\u200f"),
        ("\u061c", r"\u061c"),
        ("\u2028", r"\u2028"),
        ("\u2029", r"\u2029"),
    ],
)
def test_printable_writes_each_control_as_a_visible_escape(raw, shown):
    assert printable(f"a{raw}b") == f"a{shown}b"


def test_printable_escapes_every_c0_c1_and_bidi_control_as_repr_does():
    controls = [chr(c) for c in [*range(0x20), *range(0x7F, 0xA0)]] + list(BIDI + SEPARATORS)
    for c in controls:
        assert printable(c) == repr(c)[1:-1] and raw_controls(printable(c)) == [], hex(ord(c))


@pytest.mark.parametrize(
    "text",
    [
        "café naïve Ελληνικά",
        "漢字 かな 한국어",
        "مرحبا עברית",  # right-to-left letters are text; the controls that reorder are not
        "🙂 👩\u200d💻 🇫🇷",  # a zero-width joiner holds an emoji sequence together
        r"dE/dw5 \alpha 'quoted' \x1b",  # a backslash written in the file stays as it is
        " \u00a0 ",
    ],
)
def test_printable_keeps_ordinary_text(text):
    assert printable(text) == text


def test_printable_lines_keeps_line_feeds_only():
    assert printable_lines("one\x1b[2K\ntwo\r\n") == "one\\x1b[2K\ntwo\\r\n"


def test_printable_json_is_the_same_value_with_nothing_raw():
    value = {"t\u202eitle": ["a\x1b[8m", "b\x9b\x7f", "c\u2028\x85", "café 🙂", 1.5]}
    document = json.dumps(value, indent=2, ensure_ascii=False)
    assert raw_controls(document) != []  # json.dumps alone leaves C1, DEL and bidi raw
    safe = printable_json(document)
    assert raw_controls(safe) == [] and json.loads(safe) == value
    assert "café 🙂" in safe and safe.count("\n") == document.count("\n")


# -- a hostile spec file ------------------------------------------------------------------------
TITLE = "Title\x1b]0;pwned\x07\u202e\u2066 café 漢字 🙂"
# the claim on it is wrong; printed raw, the carriage return writes "ok ... correct" over
# "WRONG", and \x1b_ (an application program command, never ended) swallows everything after
# it, the summary line included. (A name may not hold / + @ [ ], so no \x1b[...: the
# sequences without them do as much.)
NAME = "y1\rok    y1 = 0.2: correct\x1b_\u202e\x9b\x7f\x08\x07\u2028\x85"
NAME_SHOWN = r"y1\rok    y1 = 0.2: correct\x1b_\u202e\x9b\x7f\x08\x07\u2028\x85"
GHOST = "\x1b[8mghost\r"  # a claim naming no quantity
SHARED = "b}\\input{x}%"  # a shared bias: its name is in the matrix form's note
DOLLARS = "a2$$%"
WEIGHT = "w6\x1bM\x1b7\u202e"  # a weight (the matrix form names it in W2): cursor up, save


def _toml_string(text: str) -> str:
    """``text`` as a TOML basic string, every control character (and quote, backslash) as a
    \\u escape: the file itself is clean TOML, the strings it holds are not."""
    escaped = (f"\\u{ord(c):04x}" if not c.isprintable() or c in '"\\' else c for c in text)
    return '"' + "".join(escaped) + '"'


@pytest.fixture
def hostile_spec(tmp_path):
    text = STARTER.replace('"My first backpropagation step"', _toml_string(TITLE))
    text = text.replace('out = "y1"', f"out = {_toml_string(NAME)}")
    text = text.replace('out = "a2"', f"out = {_toml_string(DOLLARS)}")
    text = text.replace("b1 = { to", f"{_toml_string(SHARED)} = {{ to")
    text = text.replace("w6 = {", f"{_toml_string(WEIGHT)} = {{")
    assert text.count(_toml_string(NAME)) == 1 and _toml_string(SHARED) in text
    text += f'{_toml_string(NAME)} = "0.2"\n{_toml_string(GHOST)} = "0.1"\n'
    path = tmp_path / "hostile.toml"
    path.write_text(text, encoding="utf-8")
    return path


def run(capsys, *argv):
    code = main(list(map(str, argv)))
    out, err = capsys.readouterr()
    return code, out, err


SUMMARY = "3 of 5 numbers hold; 2 wrong; 1 name unknown."


def _check_report(out: str) -> None:
    """check's text report on the hostile spec, as a terminal would show it."""
    assert raw_controls(out) == []
    lines = out.splitlines()
    assert lines[-1] == SUMMARY and lines[-2] == ""  # the summary is there, last
    assert len(lines) == 8  # five known claims, the unknown one, a blank line, the summary
    assert lines[4].startswith(f"WRONG {NAME_SHOWN} = 0.2: you wrote 0.2, the correct value")
    assert lines[5].startswith(r"NAME? \x1b[8mghost\r = 0.1: the claim '\x1b[8mghost\r'")
    assert sum(line.startswith("ok    ") for line in lines) == 3


def test_check_shows_a_hostile_name_and_its_wrong_claim_as_wrong(capsys, hostile_spec):
    code, out, err = run(capsys, "check", hostile_spec)
    assert code == 1 and err == ""
    _check_report(out)


def test_check_in_a_subprocess_writes_no_control_character(hostile_spec):
    done = subprocess.run(
        [sys.executable, "-m", "chainrule.cli", "check", str(hostile_spec)],
        capture_output=True,
        check=False,
    )
    assert done.returncode == 1 and done.stderr == b""
    for byte in (b"\x1b", b"\r", b"\x07", b"\x08", b"\x7f", "\u202e".encode(), "\x9b".encode()):
        assert byte not in done.stdout
    _check_report(done.stdout.decode("utf-8"))


def test_check_json_keeps_the_names_exactly_and_prints_none_raw(capsys, hostile_spec):
    code, out, _ = run(capsys, "check", hostile_spec, "--format", "json")
    assert code == 1 and raw_controls(out) == []
    verdicts = {v["name"]: v for v in json.loads(out)}
    assert verdicts[NAME]["ok"] is False and verdicts[NAME]["claimed"] == "0.2"
    assert GHOST in verdicts and verdicts[GHOST]["ok"] is False


@pytest.mark.parametrize("form", ["values", "matrix"])
def test_explain_text_shows_the_title_and_names_escaped_one_line_each(capsys, hostile_spec, form):
    code, out, err = run(capsys, "explain", hostile_spec, "--form", form)
    assert code == 0 and err == "" and raw_controls(out) == []
    lines = out.splitlines()
    title = r"Title\x1b]0;pwned\x07\u202e\u2066 café 漢字 🙂"
    assert lines[0] == (title if form == "values" else f"{title}: matrix form")
    assert lines[1] == "=" * len(lines[0])
    assert f"ok    {NAME_SHOWN} = 0.2: correct" not in out
    assert any(line.startswith(f"WRONG {NAME_SHOWN} = 0.2: you wrote 0.2") for line in lines)
    if form == "values":
        assert f"{NAME_SHOWN} = sigmoid(z3) = sigmoid(1.10611759) = 0.751404601" in lines
    else:
        assert any(
            line.startswith(r"W2 (2, 1) = weights = [[w5], [w6\x1bM\x1b7\u202e]] = ")
            for line in lines
        )


@pytest.mark.parametrize("form", ["values", "matrix"])
def test_explain_json_keeps_the_names_exactly_and_prints_none_raw(capsys, hostile_spec, form):
    code, out, _ = run(capsys, "explain", hostile_spec, "--format", "json", "--form", form)
    assert code == 0 and raw_controls(out) == []
    document = json.loads(out)
    assert document["title"] == TITLE
    assert {c["name"] for c in document["claims"]} >= {NAME, GHOST}
    if form == "values":
        assert NAME in {q["symbol"] for q in document["quantities"]}


@pytest.mark.parametrize("form", ["values", "matrix"])
def test_explain_markdown_escapes_controls_and_keeps_each_formula_closed(
    capsys, hostile_spec, form
):
    code, out, _ = run(capsys, "explain", hostile_spec, "--format", "markdown", "--form", form)
    assert code == 0 and raw_controls(out) == []
    assert out.startswith(r"# Title\x1b\]0;pwned\x07\u202e\u2066 café 漢字 🙂")
    for line in out.splitlines():
        if "$$" in line:  # a name's $$ does not end the formula early
            assert line.startswith("$$") and line.endswith("$$") and line.count("$$") == 2, line
    if form == "values":
        assert r"\mathrm{a2\$\$\%}" in out
    assert r"\mathrm{b\}\backslash input\{x\}\%}" in out
    assert rf"| ✗ | `{NAME_SHOWN}` | 0.2 |" in out


@pytest.mark.parametrize("form", ["values", "matrix"])
def test_explain_latex_lets_no_name_or_title_inject_a_command(capsys, hostile_spec, form):
    code, out, _ = run(capsys, "explain", hostile_spec, "--format", "latex", "--form", form)
    assert code == 0 and raw_controls(out) == []
    lines = out.splitlines()
    assert lines[0].startswith(r"% Title\x1b]0;pwned\x07\u202e\u2066")  # the comment, one line
    assert "\\input{" not in out
    if form == "values":  # each row aligns once, at the = after its symbol
        assert r"\mathrm{b\}\backslash input\{x\}\%}" in out
        rows = [line for line in lines if "&=" in line]
        assert rows and all(line.count("&") == 1 for line in rows)
        assert any(
            line.startswith(r"\mathrm{y1\backslash rok\ \ \ \ y1\ =\ 0.2:\ ") for line in rows
        )
    else:  # the shared bias is named in a note, in text mode
        assert r"shared: b\}\textbackslash{}input\{x\}\%;" in out


def test_a_title_with_a_line_break_stays_in_the_latex_comment(capsys, tmp_path):
    path = tmp_path / "title.toml"
    title = "Title\n\\immediate\\write18{touch pwned}\r\\input{/etc/passwd}"
    path.write_text(STARTER.replace('"My first backpropagation step"', _toml_string(title)))
    for form in ("values", "matrix"):
        code, out, _ = run(capsys, "explain", path, "--format", "latex", "--form", form)
        first = out.splitlines()[0]
        assert code == 0 and first.startswith(r"% Title\n\immediate\write18{touch pwned}\r\input")
        assert sum("write18" in line for line in out.splitlines()) == 1


# -- a hostile CSV file -----------------------------------------------------------------------
EVIL = "\x1b[2K\r\u202e\x07\x08\x9b"  # no \x85 or \u2028: a CSV reader splits lines there
EVIL_SHOWN = r"\x1b[2K\r\u202e\x07\x08\x9b"
TARGET = "label" + EVIL


def _write_csv(path, rows):
    with path.open("w", newline="", encoding="utf-8") as stream:
        csv.writer(stream).writerows(rows)
    return path


@pytest.fixture(scope="module")
def hostile_model(tmp_path_factory):
    """A model trained from a CSV whose column names, categories and classes hold controls,
    and a second CSV with a category that model never saw."""
    folder = tmp_path_factory.mktemp("hostile")
    header = ["x\x1b[31m", "col\u202eumn", "kind" + EVIL, TARGET]
    rows = [
        [f"{(i * 37 % 11) / 5 - 1:.2f}", f"{(i * 53 % 7) / 3 - 1:.2f}"]
        + [["red\x1b[8m", "blue\u2066"][i % 2], ["cat\x1b[2J", "dog\u202e"][i * 37 % 11 > 5]]
        for i in range(40)
    ]
    data = _write_csv(folder / "hostile.csv", [header, *rows])
    unseen = [[*row[:2], "green\x1b]0;x\x07", row[3]] for row in rows[:5]]
    other = _write_csv(folder / "unseen.csv", [header, *unseen])
    model = folder / "m.npz"
    argv = ["train", data, "--target", TARGET, "--epochs", "2", "--quiet", "--out", model]
    assert main(list(map(str, argv))) == 0
    return model, data, other


def test_info_shows_column_names_categories_and_classes_escaped(capsys, hostile_model):
    capsys.readouterr()
    code, out, err = run(capsys, "info", hostile_model[0])
    assert code == 0 and err == "" and raw_controls(out) == []
    assert f"task: classification of 'label{EVIL_SHOWN}' from 4 features" in out
    assert r"(x\x1b[31m, col\u202eumn, " in out
    assert r"one-hot over blue\u2066, red\x1b[8m" in out
    assert r"classes: cat\x1b[2J, dog\u202e" in out.splitlines()


def test_an_error_naming_the_columns_is_one_line_with_them_escaped(capsys, hostile_model):
    code, _, err = run(capsys, "train", hostile_model[1], "--target", "nope")
    assert code == 2 and raw_controls(err) == [] and err.count("\n") == 1
    assert err.startswith("chainrule: error: ")
    assert rf"the columns are x\x1b[31m, col\u202eumn, kind{EVIL_SHOWN}, label{EVIL_SHOWN}" in err


def test_a_usage_error_shows_the_argument_escaped(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["check", "a.toml", "--bogus\x1b[2J\r\u202e"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and raw_controls(err) == [] and err.count("\n") == 1
    assert r"unrecognized arguments: --bogus\x1b[2J\r\u202e (see chainrule check --help)" in err


def test_a_warning_naming_categories_is_one_line_with_them_escaped(capsys, hostile_model):
    model, _, unseen = hostile_model
    capsys.readouterr()
    code, _, err = run(capsys, "evaluate", model, unseen)  # a category unseen in training
    assert code == 0 and raw_controls(err) == [] and err.count("\n") == 1
    assert err.startswith(f"chainrule: warning: {unseen}: column 'kind{EVIL_SHOWN}' holds")
    assert r"(it knows blue\u2066, red\x1b[8m)" in err


def test_a_warning_outside_the_training_commands_is_one_line_too(hostile_model):
    """gradcheck shows its warnings the plain way too, though nothing there asks for it (a
    subprocess: in-process, pytest records the warning before anything prints it)."""
    model, _, unseen = hostile_model
    argv = [sys.executable, "-m", "chainrule.cli", "gradcheck", str(model), str(unseen)]
    done = subprocess.run([*argv, "--rows", "4"], capture_output=True, check=False)
    err = done.stderr.decode("utf-8")
    assert done.returncode == 0 and done.stdout.startswith(b"ok: ")
    assert raw_controls(err) == [] and err.count("\n") == 1, err
    assert err.startswith("chainrule: warning: ") and r"holds 'green\x1b]0;x\x07'" in err


def test_the_playgrounds_chain_rule_lists_a_symbol_whose_name_is_escaped_in_the_text():
    """The playground matches explain's text lines to the trace: a name shown escaped there is
    still found (it dropped out of the list while the match used the raw name)."""
    from importlib.resources import files

    from chainrule.explain import explain, parse_spec
    from chainrule.playground.chain import explanation_rows

    text = (files("chainrule.explain") / "starter.toml").read_text()
    spec = parse_spec(text.replace('out = "a1"', 'out = "a1\\u0007"'))
    symbols = [row["symbol"] for row in explanation_rows(explain(spec))]
    assert "a1\x07" in symbols and "a2" in symbols


def test_evaluate_shows_the_classes_of_its_confusion_matrix_escaped(capsys, hostile_model):
    model, data, _ = hostile_model
    capsys.readouterr()
    code, out, err = run(capsys, "evaluate", model, data)
    assert code == 0 and raw_controls(out) == []
    assert r"cat\x1b[2J" in out and r"dog\u202e" in out
    matrix = out[out.index("confusion matrix") :].splitlines()[1:]
    assert len(matrix) == 3 and len({len(line) for line in matrix}) == 1  # the columns line up


def test_the_train_summary_shows_a_target_holding_rich_markup_as_written(capsys, tmp_path):
    rows = [["x", "[bold red]y[/]"]] + [[f"{i / 10}", f"{i % 2}"] for i in range(20)]
    data = _write_csv(tmp_path / "markup.csv", rows)
    argv = ["train", data, "--target", "[bold red]y[/]", "--epochs", "1", "--out"]
    code, out, err = run(capsys, *argv, tmp_path / "m.npz")
    assert code == 0 and "of '[bold red]y[/]'" in " ".join(out.split())  # the title may wrap


def test_markdown_titles_names_and_claims_start_no_markup_and_no_html(capsys, tmp_path):
    """A title with an HTML tag, a table bar and backticks; a claim with a bar and a tag: in
    Markdown each shows as written (a notebook renders Markdown with its HTML)."""
    title = "T <img src=x onerror=alert(1)> | `code` *bold* <!--"
    path = tmp_path / "html.toml"
    text = STARTER.replace('"My first backpropagation step"', _toml_string(title))
    path.write_text(text.replace("[claims]\n", '[claims]\n"y1 <b>|</b>" = "0.2"\n'))
    for form in ("values", "matrix"):
        code, out, _ = run(capsys, "explain", path, "--format", "markdown", "--form", form)
        assert code == 0, out  # explain shows the verdicts; check exits 1 on a wrong claim
        assert "<img" not in out and "<!--" not in out
        first = out.splitlines()[0]
        assert first.startswith(r"# T &lt;img src=x onerror=alert(1)&gt; \| \`code\` \*bold\*")
        rows = [line for line in out.splitlines() if line.startswith("| ✗ | `y1 ")]
        assert len(rows) == 1 and rows[0].count(" | ") == 4, rows  # five cells: \| is no bar
        # the name a code span (no markup, no HTML inside); quoted in the diagnosis, escaped
        assert rows[0].startswith(r"| ✗ | `y1 <b>\|</b>` | 0.2 |")
        assert r"the claim 'y1 &lt;b&gt;\|&lt;/b&gt;'" in rows[0]
        assert rows[0].count("<b>") == 1
