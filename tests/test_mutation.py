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
