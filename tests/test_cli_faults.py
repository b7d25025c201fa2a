"""The train command under faults: Ctrl-C (a real SIGINT), kill -9, divergence, outputs that
cannot be written, file modes, symbolic links, misleading CSV columns."""

import csv
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from test_cli_tabular import run

from chainrule.tables.model import TabularModel

ROOT = Path(__file__).resolve().parents[1]


def _write_csv(path, header, rows):
    with path.open("w", newline="") as stream:
        csv.writer(stream).writerows([header, *rows])
    return path


def _quick_train(capsys, data, out, *extra):
    """One epoch of `train` on ``data`` (target column 'target') into ``out``."""
    return run(
        capsys,
        "train",
        data,
        "--target",
        "target",
        "--epochs",
        "1",
        "--quiet",
        "--out",
        out,
        *extra,
    )


@pytest.fixture
def old_model(tmp_path, regression_csv, capsys):
    """An existing --out, trained once, with its bytes and mode."""
    path = tmp_path / "model.npz"
    assert _quick_train(capsys, regression_csv, path)[0] == 0
    os.chmod(path, 0o640)
    return path, path.read_bytes()


def _untouched(old_model):
    path, before = old_model
    assert path.read_bytes() == before and (path.stat().st_mode & 0o777) == 0o640
    assert not [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")]


def _spawn(*argv, cwd):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "chainrule.cli", *map(str, argv)],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _long_training(regression_csv, out, *extra):
    return (
        "train",
        regression_csv,
        "--target",
        "target",
        "--epochs",
        "300",
        "--batch-size",
        "1",
        "--validation-split",
        "0",
        "--out",
        out,
        *extra,
    )


@pytest.mark.parametrize("keep", [False, True])
def test_ctrl_c_leaves_out_as_it_was_and_exits_130(tmp_path, regression_csv, old_model, keep):
    kept = tmp_path / "interrupted.npz"
    extra = ("--save-interrupted", kept) if keep else ()
    process = _spawn(*_long_training(regression_csv, old_model[0], *extra), cwd=tmp_path)
    first = process.stderr.readline()  # a progress line: training is under way
    assert first.startswith("epoch "), first
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("chainrule: interrupted (Ctrl-C) in epoch ")
    assert f"{old_model[0]} was left as it was" in lines[0] and "Warning" not in err
    _untouched(old_model)
    assert kept.exists() == keep
    if keep:
        assert f"written to {kept}" in lines[0]
        history = TabularModel.load(kept).network.history
        assert history.stopped_by == "interrupted" and 0 < len(history.epoch) < 300


def test_sigterm_stops_as_ctrl_c_does_and_exits_143(tmp_path, regression_csv, old_model):
    kept = tmp_path / "interrupted.npz"
    argv = _long_training(regression_csv, old_model[0], "--save-interrupted", kept)
    process = _spawn(*argv, cwd=tmp_path)
    assert process.stderr.readline().startswith("epoch ")  # training is under way
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 143
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("chainrule: terminated (SIGTERM) in epoch ")
    assert f"{old_model[0]} was left as it was" in lines[0] and f"written to {kept}" in lines[0]
    _untouched(old_model)
    assert TabularModel.load(kept).network.history.stopped_by == "interrupted"


def test_sigterm_still_ends_a_run_whose_ctrl_c_is_ignored(tmp_path, regression_csv, old_model):
    """A shell starts a background job with SIGINT ignored: SIGTERM, which would be turned
    into a Ctrl-C nothing hears, keeps its default and ends the process."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    argv = _long_training(regression_csv, old_model[0])
    process = subprocess.Popen(
        [sys.executable, "-m", "chainrule.cli", *map(str, argv)],
        cwd=tmp_path,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    assert process.stderr.readline().startswith("epoch ")
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    finally:
        process.kill()
        process.stderr.close()
    assert process.returncode == -signal.SIGTERM
    _untouched(old_model)


def _file_size_limit():
    import resource

    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))  # as a disk with 4 KiB left


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")
def test_a_full_disk_is_one_line_naming_the_output_and_leaves_no_temporary(
    tmp_path, regression_csv, old_model
):
    argv = ["train", regression_csv, "--target", "target", "--epochs", "1", "--quiet"]
    process = subprocess.run(
        [sys.executable, "-m", "chainrule.cli", *map(str, argv), "--out", old_model[0]],
        cwd=ROOT,
        capture_output=True,
        text=True,
        preexec_fn=_file_size_limit,
        timeout=120,
    )
    assert process.returncode == 2
    assert (
        process.stderr == f"chainrule: error: cannot write --out '{old_model[0]}': file too large\n"
    )
    _untouched(old_model)


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")
@pytest.mark.parametrize(
    "command, output, named",
    [
        (["evaluate", "{model}", "{csv}", "--plot"], "figure.png", "--plot"),
        (["export", "{model}"], "model.onnx", "output"),
    ],
)
def test_a_full_disk_names_the_option_of_evaluate_and_export_and_keeps_the_old_file(
    tmp_path, regression_csv, old_model, command, output, named
):
    if command[0] == "export":
        pytest.importorskip("onnx")
    target = tmp_path / output
    target.write_bytes(b"the old file")
    argv = [part.format(model=old_model[0], csv=regression_csv) for part in command]
    process = subprocess.run(
        [sys.executable, "-m", "chainrule.cli", *argv, str(target)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        preexec_fn=_file_size_limit,
        timeout=120,
    )
    assert process.returncode == 2, process.stderr
    assert process.stderr == f"chainrule: error: cannot write {named} '{target}': file too large\n"
    assert target.read_bytes() == b"the old file"
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def _address_space_limit():
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (8 << 30, 8 << 30))  # allocations past 8 GiB fail


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS as Linux applies it")
def test_running_out_of_memory_is_one_line_naming_the_allocation(tmp_path, regression_csv):
    argv = ["train", regression_csv, "--target", "target", "--hidden", "200000,200000"]
    process = subprocess.run(
        [sys.executable, "-m", "chainrule.cli", *map(str, argv), "--out", tmp_path / "m.npz"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        preexec_fn=_address_space_limit,
        timeout=120,
    )
    assert process.returncode == 2 and process.stderr.count("\n") == 1
    assert process.stderr.startswith("chainrule: error: not enough memory: Unable to allocate 149.")
    assert not (tmp_path / "m.npz").exists()


def test_ctrl_c_after_the_outputs_are_written_says_so(
    capsys, monkeypatch, regression_csv, old_model
):
    from chainrule.cli import tabular

    def ctrl_c(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(tabular, "_print_summary", ctrl_c)
    code, _, err = _quick_train(capsys, regression_csv, old_model[0])
    assert code == 130
    assert err == f"chainrule: interrupted after the run had finished: {old_model[0]} written\n"
    assert old_model[0].read_bytes() != old_model[1]
    TabularModel.load(old_model[0])


@pytest.mark.parametrize("lines", [1, 2, 3])
def test_kill_9_during_training_leaves_out_as_it_was(tmp_path, regression_csv, old_model, lines):
    """Killed after the 1st, 2nd or 3rd of the ten progress lines of 300 epochs (stderr is a
    pipe: one line every 30 epochs), so training is under way when the kill comes."""
    process = _spawn(*_long_training(regression_csv, old_model[0]), cwd=tmp_path)
    try:
        for number in range(1, lines + 1):
            line = process.stderr.readline()
            assert line.startswith(f"epoch {30 * number}/300 "), line
    finally:
        process.kill()
        process.wait(timeout=30)
        process.stdout.close()
        process.stderr.close()
    assert process.returncode == -signal.SIGKILL  # it was still training
    _untouched(old_model)
    TabularModel.load(old_model[0])


KILLED_WRITER = """
import sys, time
from chainrule.files.atomic import atomic_open
with atomic_open(sys.argv[1]) as stream:
    stream.write(b"half a new model")
    stream.flush()
    print("writing", flush=True)
    time.sleep(60)
"""


def test_kill_9_inside_a_write_keeps_the_file_and_the_next_write_sweeps_the_temporary(
    tmp_path,
):
    from chainrule.files.atomic import atomic_open

    target = tmp_path / "model.npz"
    target.write_bytes(b"the old model")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, str(target)],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout.readline() == "writing\n"
    process.kill()
    process.wait(timeout=30)
    assert target.read_bytes() == b"the old model"
    leftovers = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert len(leftovers) == 1 and leftovers[0].name.startswith(f".model.npz.{process.pid}.")
    with atomic_open(target) as stream:
        stream.write(b"the new model")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]
    assert target.read_bytes() == b"the new model"


def test_a_diverged_run_is_one_line_exit_1_and_out_untouched(capsys, regression_csv, old_model):
    code, out, err = _quick_train(
        capsys,
        regression_csv,
        old_model[0],
        "--optimizer",
        "sgd",
        "--learning-rate",
        "1e6",
        "--epochs",
        "50",
    )
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and err.startswith("chainrule: error: training diverged in epoch")
    assert "left as it was" in err
    _untouched(old_model)


@pytest.mark.parametrize(
    "options,message",
    [
        (
            ["--plot", "nodir/curves.png"],
            "cannot write --plot 'nodir/curves.png': the folder 'nodir'",
        ),
        (["--plot", "curves.xyz"], "--plot 'curves.xyz': unknown image format 'xyz'"),
        (["--boundary", "b.png"], "--boundary needs a classifier on exactly two feature columns"),
        (["--out", "nodir/m.npz"], "cannot write --out 'nodir/m.npz': the folder 'nodir' does"),
        (["--out", "."], "cannot write --out '.': it is a folder"),
        (["--plot", "same.png", "--boundary", "same.png"], "name the same file 'same.png'"),
    ],
)
def test_outputs_are_checked_before_training(
    capsys, monkeypatch, tmp_path, regression_csv, old_model, options, message
):
    monkeypatch.chdir(tmp_path)
    import chainrule.tables.model

    def no_training(*args, **kwargs):
        raise AssertionError("trained before checking the outputs")

    monkeypatch.setattr(chainrule.tables.model, "train_table", no_training)
    argv = [
        "train",
        regression_csv,
        "--target",
        "target",
        "--quiet",
        "--out",
        old_model[0],
        *options,
    ]
    code, out, err = run(capsys, *argv)
    assert code == 2 and err.count("\n") == 1 and message in err and ".tmp" not in err
    _untouched(old_model)


def test_a_failure_after_training_writes_no_output(capsys, monkeypatch, regression_csv, old_model):
    from chainrule.files import figures as plots

    def broken(*args, **kwargs):
        raise ValueError("the figure could not be drawn")

    monkeypatch.setattr(plots, "curves", broken)
    code, _, err = _quick_train(
        capsys, regression_csv, old_model[0], "--plot", old_model[0].parent / "c.png"
    )
    assert code == 2 and "could not be drawn" in err
    _untouched(old_model)
    assert not (old_model[0].parent / "c.png").exists()


def test_modes_follow_the_umask_or_the_replaced_file(capsys, tmp_path, regression_csv, old_model):
    previous = os.umask(0o027)
    try:
        fresh = tmp_path / "fresh.npz"
        assert _quick_train(capsys, regression_csv, fresh, "--plot", tmp_path / "c.svg")[0] == 0
        assert fresh.stat().st_mode & 0o777 == 0o640
        assert (tmp_path / "c.svg").stat().st_mode & 0o777 == 0o640
        os.umask(0o022)
        predictions = tmp_path / "p.csv"
        assert run(capsys, "predict", fresh, regression_csv, "-o", predictions)[0] == 0
        assert predictions.stat().st_mode & 0o777 == 0o644
        os.chmod(predictions, 0o604)
        assert run(capsys, "predict", fresh, regression_csv, "-o", predictions)[0] == 0
        assert predictions.stat().st_mode & 0o777 == 0o604
    finally:
        os.umask(previous)


def test_out_through_a_symbolic_link_replaces_the_file_it_points_to(
    capsys, tmp_path, regression_csv, old_model
):
    link = tmp_path / "latest.npz"
    link.symlink_to(old_model[0].name)
    assert _quick_train(capsys, regression_csv, link)[0] == 0
    assert link.is_symlink() and old_model[0].read_bytes() != old_model[1]
    assert old_model[0].stat().st_mode & 0o777 == 0o640
    TabularModel.load(link)


def test_a_typo_in_a_numeric_target_is_an_error_naming_row_and_value(capsys, tmp_path):
    rows = [[f"{i * 0.37:.3f}", f"{i * 1.5 + 0.25}"] for i in range(200)]
    rows[57][1] = "12.5x"
    path = _write_csv(tmp_path / "typo.csv", ["x", "y"], rows)
    out = tmp_path / "m.npz"
    code, _, err = run(capsys, "train", path, "--target", "y", "--quiet", "--out", out)
    assert code == 2 and err.count("\n") == 1
    assert "'y' holds numbers except '12.5x' in row 59" in err and "--task classification" in err
    assert not out.exists()
    code, _, _ = run(
        capsys,
        "train",
        path,
        "--target",
        "y",
        "--task",
        "classification",
        "--quiet",
        "--epochs",
        "1",
        "--validation-split",
        "0",
        "--out",
        out,
    )
    assert code == 0 and len(TabularModel.load(out).classes) == 200


def test_a_huge_finite_feature_value_is_clipped_not_refused(capsys, tmp_path):
    # The default robust scaling clips it smoothly (issue 28); with scaling='standard' it is
    # refused, naming file, column and row (tests/test_table_defaults.py).
    rows = [[f"{i}", f"{i * 0.5}", f"{i * 1.5 + 0.1}"] for i in range(40)]
    rows[3][1] = repr(2.0**1023)
    path = _write_csv(tmp_path / "huge.csv", ["a", "b", "y"], rows)
    # --features: column a (0..39, distinct integers) would be left out as an identifier
    code, _, err = run(
        capsys,
        *("train", path, "--target", "y", "--features", "a,b"),
        *("--quiet", "--out", tmp_path / "m.npz"),
    )
    assert code == 0 and "Warning" not in err and "error" not in err
    predictions = TabularModel.load(tmp_path / "m.npz").predict(path)["prediction"]
    assert all(abs(value) < 1e6 for value in predictions)


def test_a_warning_during_training_is_one_plain_line(capsys, monkeypatch, regression_csv, tmp_path):
    import warnings

    import chainrule.tables.model

    original = chainrule.tables.model.train_table

    def warning_table(*args, **kwargs):
        warnings.warn("something odd\nover two lines", UserWarning, stacklevel=1)
        return original(*args, **kwargs)

    monkeypatch.setattr(chainrule.tables.model, "train_table", warning_table)
    code, _, err = _quick_train(capsys, regression_csv, tmp_path / "m.npz")
    assert code == 0 and err == "chainrule: warning: something odd over two lines\n"


def test_predict_and_evaluate_check_their_outputs_before_reading(
    capsys, tmp_path, old_model, regression_csv
):
    code, _, err = run(capsys, "predict", old_model[0], regression_csv, "-o", tmp_path / "no/p.csv")
    assert code == 2 and f"cannot write --output '{tmp_path / 'no/p.csv'}'" in err
    code, _, err = run(capsys, "evaluate", old_model[0], regression_csv, "--plot", "c.nope")
    assert code == 2 and "unknown image format 'nope'" in err


@pytest.mark.parametrize(
    "value,val,message",
    [
        ("1.896149531604656e+154", "0", r"target column 'y' holds 1.89615e\+154 in row 3"),
        # which row is held out decides which value lies outside the other's range
        ("3.4028235677973366e+38", "0.5", r"column 'y' holds \S+ in row [23], far outside"),
    ],
)
def test_targets_too_large_for_the_metrics_or_the_network_are_named(
    capsys, monkeypatch, tmp_path, value, val, message
):
    """Hypothesis found these: a RuntimeWarning (overflow) instead of one line."""
    path = _write_csv(tmp_path / "t.csv", ["a", "b", "y"], [["0", "0", "1.5"], ["0", "0", value]])
    argv = (
        f"train {path} --target y --epochs 1 --validation-split {val} --batch-size 1 --quiet "
        "--out m.npz"
    )
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, *argv.split())
    assert code == 2 and err.count("\n") == 1 and re.search(message, err), err
