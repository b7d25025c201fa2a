"""The suite catches the bugs listed in tools/mutants.toml (see docs/testing.md)."""

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
