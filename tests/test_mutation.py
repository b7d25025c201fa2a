"""The suite catches the bugs listed in tools/mutants.toml (see docs/testing.md)."""

import importlib.util
import py_compile
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MUTATION = ROOT / "tools" / "mutation.py"


def _mutation(*arguments):
    return subprocess.run(
        [sys.executable, str(MUTATION), *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def test_every_mutant_names_a_snippet_found_once_and_existing_tests():
    result = _mutation("--check")
    assert result.returncode == 0, result.stderr


def test_the_suite_catches_every_planted_bug():
    result = _mutation()
    survived = [line for line in result.stdout.splitlines() if line.startswith("SURVIVED")]
    assert result.returncode == 0 and not survived, result.stdout + result.stderr[-3000:]


def test_a_bug_the_tests_cannot_see_is_reported_as_survived(tmp_path):
    """The run can tell a caught bug from a missed one: a comment is a mutant no test sees."""
    mutants = tmp_path / "mutants.toml"
    mutants.write_text(
        "[[mutant]]\n"
        'name = "a-comment"\n'
        'file = "chainrule/core/losses.py"\n'
        'original = "def _softplus(Z: Array) -> Array:"\n'
        'mutated = "def _softplus(Z: Array) -> Array:  # changes nothing"\n'
        'tests = ["tests/test_losses.py"]\n'
    )
    result = _mutation("--mutants", str(mutants))
    assert result.returncode == 1, result.stdout + result.stderr
    *_, verdict, summary = result.stdout.splitlines()
    assert verdict.startswith("SURVIVED a-comment  (") and summary == "0 caught, 1 survived"


def test_a_mutant_that_changes_nothing_survives_a_test_that_reads_its_own_path(tmp_path):
    """Every copy runs its tests as fresh ones would: this test compares a warning's file
    with ``__file__``, which a test module cached in another folder would fail."""
    mutants = tmp_path / "mutants.toml"
    mutants.write_text(
        "[[mutant]]\n"
        'name = "a-comment-in-the-estimators"\n'
        'file = "chainrule/sklearn/estimators.py"\n'
        'original = "def __setstate__(self, state):"\n'
        'mutated = "def __setstate__(self, state):  # changes nothing"\n'
        'tests = ["tests/test_pickle_versions.py::'
        'test_a_pickle_from_another_version_warns_naming_both"]\n'
    )
    result = _mutation("--mutants", str(mutants))
    assert result.stdout.splitlines()[-1] == "0 caught, 1 survived", result.stdout + result.stderr


def test_a_mutant_whose_tests_fail_unmutated_is_refused_before_any_run(tmp_path):
    """A catch must be the mutant's: tests that fail without it stop the run with one line."""
    mutants = tmp_path / "mutants.toml"
    mutants.write_text(
        "[[mutant]]\n"
        'name = "tests-that-fail-anyway"\n'
        'file = "chainrule/core/losses.py"\n'
        'original = "def _softplus(Z: Array) -> Array:"\n'
        'mutated = "def _softplus(Z: Array) -> Array:  # changes nothing"\n'
        'tests = ["tests/test_losses.py::no_such_test"]\n'
    )
    result = _mutation("--mutants", str(mutants))
    assert result.returncode == 1 and "caught" not in result.stdout, result.stdout
    assert result.stderr.startswith("the unmutated tests fail; run them and fix them first")


def _mutation_module(monkeypatch):
    spec = importlib.util.spec_from_file_location("mutation_tool", MUTATION)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # its dataclass looks itself up there
    spec.loader.exec_module(module)
    return module


def test_a_planted_copy_keeps_the_templates_bytecode_except_the_mutated_files(
    tmp_path, monkeypatch
):
    """Python trusts a cached module whose source has the same size and second; a mutant of the
    same length written within that second would otherwise run the unmutated code."""
    tool = _mutation_module(monkeypatch)
    template = tmp_path / "template"
    (template / "package").mkdir(parents=True)
    for name in ("changed", "kept"):
        source = template / "package" / f"{name}.py"
        source.write_text("LIMIT = 1 < 2\n")
        py_compile.compile(str(source), cfile=importlib.util.cache_from_source(str(source)))
    mutant = tool.Mutant("same-length", "package/changed.py", "1 < 2", "1 > 2", ())
    copy = tool._planted(mutant, template, str(tmp_path / "run"))
    assert (copy / "package" / "changed.py").read_text() == "LIMIT = 1 > 2\n"
    cached = sorted(path.name.split(".")[0] for path in copy.rglob("*.pyc"))
    assert cached == ["kept"]


def _files(folder: Path) -> set[Path]:
    return {path for path in folder.rglob("*") if path.is_file()} if folder.exists() else set()


def test_a_runs_failing_examples_stay_in_its_copy(tmp_path):
    """hypothesis is imported before the runs fork, in the checkout; a run that fails a
    property test must save its examples in its own copy, not in the checkout's database
    (which later runs and the ordinary suite would replay)."""
    mutants = tmp_path / "mutants.toml"
    mutants.write_text(
        "[[mutant]]\n"
        'name = "a-property-test-that-fails"\n'
        'file = "tests/test_data.py"\n'
        # the first line of the body, which every example runs (a line that only some
        # examples reach let a run pass by chance, when none of its examples reached it)
        'original = "_error(tmp_path, header, rows):\\n"\n'
        "mutated = \"_error(tmp_path, header, rows):\\n    assert False, 'planted'\\n\"\n"
        'tests = ["tests/test_data.py::test_fuzzed_csv_is_read_or_refused_with_a_data_error"]\n'
    )
    before = _files(ROOT / ".hypothesis")
    result = _mutation("--mutants", str(mutants))
    assert result.stdout.splitlines()[-1] == "1 caught, 0 survived", result.stdout + result.stderr
    assert _files(ROOT / ".hypothesis") == before
