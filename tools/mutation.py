"""Plant plausible bugs in a copy of the repository and check that the tests catch each one.

Each mutant in ``tools/mutants.toml`` names a source file, a snippet that occurs in it exactly
once, the snippet's mutated form (a bug a person could write), and the tests that concern it.
For every mutant the script copies the tracked files into a temporary folder, applies that one
edit, and runs those tests there with ``pytest -x``: a failing run means the suite *caught* the
bug, a passing run means it *survived* (a hole in the safety net). The unmutated copy runs the
same tests first, so a failure that is already there is never counted as a catch; the bytecode
it compiles is copied with it, so each mutant's run compiles only its mutated file.

Usage::

    python tools/mutation.py               # every mutant
    python tools/mutation.py -k huber      # those whose name contains 'huber'
    python tools/mutation.py --check       # only check that every snippet is still unique

Exit status: 0 when every mutant was caught, 1 when one survived, 2 for a bad mutant list.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import importlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MUTANTS = ROOT / "tools" / "mutants.toml"
# imported once before the runs fork (see _preload)
PRELOADED = ("numpy", "scipy.optimize", "sklearn.neural_network", "torch", "pytest", "hypothesis")
# What a mutant's copy does not take from the template: pytest's rewritten test modules keep
# the template's path in their code (Python's own bytecode is given the copy's path as it loads,
# pytest's is not, so a test comparing a warning's file with __file__ would fail in every
# copy), numba's on-disk kernels, which the baseline's processes may have written at once
# (numba's index of them takes no lock), and the baseline's hypothesis examples (each run keeps
# its own: _own_examples)
NOT_COPIED = shutil.ignore_patterns("*-pytest-*.pyc", "*.nbi", "*.nbc", ".hypothesis")


@dataclass(frozen=True)
class Mutant:
    name: str
    file: str
    original: str
    mutated: str
    tests: tuple[str, ...]


def load(path: Path = MUTANTS) -> list[Mutant]:
    """The mutants of ``path``, each checked to name a unique snippet of an existing file."""
    entries = tomllib.loads(path.read_text())["mutant"]
    mutants = [Mutant(**{**entry, "tests": tuple(entry["tests"])}) for entry in entries]
    problems = [problem for mutant in mutants for problem in _problems(mutant)]
    names = [mutant.name for mutant in mutants]
    problems += [f"{name}: the name is used twice" for name in set(names) if names.count(name) > 1]
    if problems:
        raise ValueError("\n".join(sorted(problems)))
    return mutants


def _problems(mutant: Mutant) -> list[str]:
    source = ROOT / mutant.file
    if not source.is_file():
        return [f"{mutant.name}: {mutant.file} does not exist"]
    count = source.read_text().count(mutant.original)
    problems = [] if count == 1 else [f"{mutant.name}: the snippet occurs {count} times"]
    if mutant.original == mutant.mutated:
        problems.append(f"{mutant.name}: the mutated snippet is the original")
    missing = [t for t in mutant.tests if not (ROOT / t.split("::")[0]).exists()]
    return problems + [f"{mutant.name}: no test file {t}" for t in missing]


@functools.cache
def _repository_files() -> tuple[str, ...]:
    """The files git tracks or would (not ignored), asked once for every copy."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    names = filter(None, (entry.decode() for entry in listed))
    return tuple(name for name in names if (ROOT / name).is_file())


def _copy_repository(destination: Path) -> None:
    for name in _repository_files():
        (destination / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, destination / name)


def _stale_bytecode(source: Path) -> None:
    """Remove the bytecode cached for ``source``: Python checks a cached module against its
    source's size and whole seconds, which a mutant written within the second may keep."""
    for compiled in (source.parent / "__pycache__").glob(f"{source.stem}.*.pyc"):
        compiled.unlink()


def _environment(copy: Path) -> dict:
    """Import chainrule from ``copy``, ahead of any installed (or editable) chainrule."""
    return {**os.environ, "PYTHONPATH": str(copy), "PYTHONDONTWRITEBYTECODE": "1"}


def _preload() -> None:
    """Import the heavy test dependencies once, here: each forked run then starts in a
    fraction of a second instead of importing torch and scikit-learn again (chainrule itself
    is never imported here, so each run imports its own copy's)."""
    for name in PRELOADED:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    assert "chainrule" not in sys.modules


def _own_examples(copy: Path) -> None:
    """Keep hypothesis's example database in ``copy``: the parent imported hypothesis in the
    checkout, where every run would otherwise save its failing examples and replay the others'
    (and the ordinary suite would replay the mutants')."""
    with contextlib.suppress(ImportError):
        from hypothesis import configuration

        configuration.set_hypothesis_home_dir(copy / ".hypothesis")


def _start_pytest(copy: Path, tests, *, compile_into_copy: bool = False) -> int:
    """Fork a process that runs ``tests`` in ``copy`` with the copy's chainrule; its pid.
    With ``compile_into_copy`` the run leaves the bytecode of what it imported in the copy."""
    pid = os.fork()
    if pid:
        return pid
    code = 3
    try:
        os.chdir(copy)
        os.environ.update(_environment(copy))  # for the tests' own subprocesses
        sys.path.insert(0, str(copy))
        sys.dont_write_bytecode = not compile_into_copy
        _own_examples(copy)
        quiet = os.open(os.devnull, os.O_WRONLY)
        os.dup2(quiet, 1)
        os.dup2(quiet, 2)
        import pytest

        code = int(pytest.main(["-x", "-q", "-p", "no:cacheprovider", *tests]))
    finally:
        os._exit(code)


def _outcome(pid: int, deadline: float) -> bool | None:
    """True when the run ``pid`` passed, False when it failed, None while it runs; a run past
    ``deadline`` (a mutant that makes training loop forever) is killed and counts as failed."""
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        return os.waitstatus_to_exitcode(status) == 0
    if time.monotonic() < deadline:
        return None
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return False


def _wait(pid: int, deadline: float) -> bool:
    """True when the run ``pid`` passed (see :func:`_outcome`)."""
    while (passed := _outcome(pid, deadline)) is None:
        time.sleep(0.05)
    return passed


def _planted(mutant: Mutant, template: Path, folder: str) -> Path:
    """A copy of ``template`` (the repository and its bytecode) in ``folder`` with ``mutant``
    applied."""
    copy = Path(folder) / "repository"
    shutil.copytree(template, copy, ignore=NOT_COPIED)  # copy2 keeps the bytecode's times
    source = copy / mutant.file
    source.write_text(source.read_text().replace(mutant.original, mutant.mutated))
    _stale_bytecode(source)
    return copy


def _run_all(mutants: list[Mutant], template: Path, jobs: int, timeout: float):
    """Yield ``(mutant, caught, seconds)`` for each mutant, ``jobs`` runs at a time, each in a
    copy of ``template``."""
    waiting, running = list(mutants), []
    while waiting or running:
        while waiting and len(running) < jobs:
            mutant = waiting.pop(0)
            folder = tempfile.TemporaryDirectory(prefix="chainrule-mutant-")
            pid = _start_pytest(_planted(mutant, template, folder.name), mutant.tests)
            running.append((mutant, folder, pid, time.monotonic()))
        time.sleep(0.05)
        for entry in list(running):  # whichever run ends first frees its slot
            mutant, folder, pid, started = entry
            passed = _outcome(pid, started + timeout)
            if passed is not None:
                running.remove(entry)
                folder.cleanup()
                yield mutant, not passed, time.monotonic() - started


def _baseline(mutants: list[Mutant], copy: Path, jobs: int, timeout: float) -> None:
    """Copy the repository into ``copy``, the template of every mutant's copy, and run the
    mutants' tests there unmutated, in ``jobs`` runs at once, leaving their bytecode (each
    mutant's run then compiles only its mutated file). Fail loudly when the copy's tests would
    not import the copy's chainrule, or when they do not pass unmutated: a catch must be the
    mutant's."""
    tests = sorted({test for mutant in mutants for test in mutant.tests})
    _copy_repository(copy)
    imported = subprocess.run(
        [sys.executable, "-c", "import chainrule; print(chainrule.__file__)"],
        cwd=copy,
        env=_environment(copy),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if not Path(imported).is_relative_to(copy):
        sys.exit(f"the copy's tests would import {imported}, not the mutated copy")
    shares = [tests[start::jobs] for start in range(min(jobs, len(tests)))]
    pids = [_start_pytest(copy, share, compile_into_copy=True) for share in shares]
    deadline = time.monotonic() + timeout * 4
    if not all([_wait(pid, deadline) for pid in pids]):  # a list: wait for every run
        sys.exit(f"the unmutated tests fail; run them and fix them first: {' '.join(tests)}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-k", dest="pattern", default="", help="only mutants whose name has this")
    parser.add_argument("--check", action="store_true", help="only check the mutant list")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--timeout", type=float, default=300, help="seconds per mutant")
    parser.add_argument("--mutants", type=Path, default=MUTANTS, help="the list of mutants")
    options = parser.parse_args(argv)
    try:
        mutants = [m for m in load(options.mutants) if options.pattern in m.name]
    except (ValueError, KeyError, TypeError) as error:
        print(f"{options.mutants}: {error}", file=sys.stderr)
        return 2
    if options.check:
        print(f"{len(mutants)} mutants, every snippet found once")
        return 0
    _preload()
    survived = []
    with tempfile.TemporaryDirectory(prefix="chainrule-template-") as template:
        _baseline(mutants, Path(template), max(1, options.jobs), options.timeout)
        runs = _run_all(mutants, Path(template), max(1, options.jobs), options.timeout)
        for mutant, caught, seconds in runs:
            verdict = "caught  " if caught else "SURVIVED"
            print(f"{verdict} {mutant.name}  ({seconds:.1f} s)", flush=True)
            if not caught:
                survived.append(mutant.name)
    print(f"{len(mutants) - len(survived)} caught, {len(survived)} survived")
    return 1 if survived else 0


if __name__ == "__main__":
    sys.exit(main())
