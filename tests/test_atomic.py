"""Atomic writes: permissions, symbolic links, folder sync, and no temporary file left on any
error path."""

import errno
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from chainrule.files import atomic as _atomic
from chainrule.files.atomic import atomic_open, staged_writes

ROOT = Path(__file__).resolve().parents[1]
CHILD_ENV = {**os.environ, "PYTHONPATH": str(ROOT)}  # children import this checkout


def _names(folder):
    return sorted(p.name for p in folder.iterdir())


def test_a_new_file_gets_the_umask_and_a_replaced_file_keeps_its_mode(tmp_path):
    previous = os.umask(0o077)
    try:
        with atomic_open(tmp_path / "new") as stream:
            stream.write(b"x")
        assert stat.S_IMODE((tmp_path / "new").stat().st_mode) == 0o600
        os.umask(0o002)
        with atomic_open(tmp_path / "other") as stream:
            stream.write(b"x")
        assert stat.S_IMODE((tmp_path / "other").stat().st_mode) == 0o664
        os.chmod(tmp_path / "new", 0o644)
        with atomic_open(tmp_path / "new") as stream:
            stream.write(b"y")
        assert stat.S_IMODE((tmp_path / "new").stat().st_mode) == 0o644
    finally:
        os.umask(previous)


def test_a_symbolic_link_is_written_through(tmp_path):
    (tmp_path / "real").write_bytes(b"old")
    (tmp_path / "link").symlink_to("real")
    with atomic_open(tmp_path / "link") as stream:
        stream.write(b"new")
    assert (tmp_path / "link").is_symlink() and (tmp_path / "real").read_bytes() == b"new"
    (tmp_path / "dangling").symlink_to("elsewhere")
    with atomic_open(tmp_path / "dangling") as stream:
        stream.write(b"made")
    assert (tmp_path / "elsewhere").read_bytes() == b"made"


def test_the_folder_is_synced_after_the_rename(tmp_path, monkeypatch):
    synced = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(handle):
        synced.append("folder" if stat.S_ISDIR(os.fstat(handle).st_mode) else "file")
        real_fsync(handle)

    def replace(*args):
        synced.append("replace")
        real_replace(*args)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    with atomic_open(tmp_path / "model.npz") as stream:
        stream.write(b"x")
    assert synced == ["file", "replace", "folder"]


class Boom(Exception):
    pass


@pytest.mark.parametrize("failure", ["in the block", "ctrl-c", "fsync", "replace"])
def test_every_error_path_removes_the_temporary(tmp_path, monkeypatch, failure):
    target = tmp_path / "model.npz"
    target.write_bytes(b"old")

    def fail(*args):
        raise OSError(f"{failure} failed")

    if failure in ("fsync", "replace"):
        monkeypatch.setattr(os, failure, fail)
    error = KeyboardInterrupt if failure == "ctrl-c" else (Boom, OSError)
    with pytest.raises(error), staged_writes() as group:
        group.open(target).write(b"new")
        group.open(tmp_path / "figure.png").write(b"png")
        if failure == "in the block":
            raise Boom
        if failure == "ctrl-c":
            raise KeyboardInterrupt
    assert _names(tmp_path) == ["model.npz"] and target.read_bytes() == b"old"


def test_a_group_replaces_nothing_until_every_file_is_complete(tmp_path):
    (tmp_path / "a").write_bytes(b"old a")
    with pytest.raises(OSError, match="cannot write file"), staged_writes() as group:
        group.open(tmp_path / "a").write(b"new a")
        group.open(tmp_path / "missing" / "b")
    assert _names(tmp_path) == ["a"] and (tmp_path / "a").read_bytes() == b"old a"


@pytest.mark.parametrize(
    "path,error,message",
    [
        (
            "nodir/model.npz",
            FileNotFoundError,
            "cannot write --out 'nodir/model.npz': the folder 'nodir'",
        ),
        (".", IsADirectoryError, "cannot write --out '.': it is a folder"),
        ("file/model.npz", NotADirectoryError, "'file' is not a folder"),
    ],
)
def test_unwritable_paths_name_what_the_user_gave(tmp_path, monkeypatch, path, error, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "file").write_text("")
    with pytest.raises(error, match=message):
        _atomic.check_writable(path, "--out")


CONCURRENT_WRITER = """
import sys
import chainrule as cr
net = cr.MLP([3, 64, 2], seed=int(sys.argv[2]))
for _ in range(40):
    cr.save(net, sys.argv[1])
"""


def test_concurrent_writers_never_break_the_file_or_each_other(tmp_path):
    """Three processes save to one path at once: every save succeeds (no writer deletes
    another's temporary), the file is one of theirs, and nothing else is left."""
    import numpy as np

    import chainrule as cr

    target = tmp_path / "model.npz"
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", CONCURRENT_WRITER, str(target), str(seed)],
            env=CHILD_ENV,
            stderr=subprocess.PIPE,
            text=True,
        )
        for seed in range(3)
    ]
    for writer in writers:
        assert writer.wait(timeout=120) == 0, writer.stderr.read()
    loaded = cr.load(target).parameters
    assert any(np.array_equal(loaded, cr.MLP([3, 64, 2], seed=s).parameters) for s in range(3))
    assert _names(tmp_path) == ["model.npz"]


_WRITE_PAST_THE_ROOM_LEFT = """
import sys
from chainrule.files.atomic import staged_writes
try:
    with staged_writes() as group:
        group.open(sys.argv[1], what="--out").write(b"x" * 100_000)
except OSError as error:
    print(error)
"""


def _file_size_limit():
    import resource

    resource.setrlimit(resource.RLIMIT_FSIZE, (1024, 1024))


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")
def test_a_write_past_the_room_left_names_the_output_and_leaves_no_temporary(tmp_path):
    """Writes beyond 1 KiB fail with EFBIG, as a full disk fails them with ENOSPC (Python
    ignores SIGXFSZ, so the write returns the error). The limit is set in a child process:
    in this one it would also stop pytest writing its report to a file."""
    target = tmp_path / "model.npz"
    target.write_bytes(b"old")
    process = subprocess.run(
        [sys.executable, "-c", _WRITE_PAST_THE_ROOM_LEFT, str(target)],
        capture_output=True,
        text=True,
        preexec_fn=_file_size_limit,
        env=CHILD_ENV,
        timeout=120,
    )
    assert process.returncode == 0, process.stderr
    assert process.stdout == f"cannot write --out '{target}': file too large\n"
    assert _names(tmp_path) == ["model.npz"] and target.read_bytes() == b"old"


def test_a_signal_while_a_group_is_moved_into_place_comes_after_the_whole_group(
    tmp_path, monkeypatch
):
    import signal

    replace = os.replace
    moved = []

    def replace_then_ctrl_c(source, target):
        replace(source, target)
        moved.append(os.path.basename(target))
        if len(moved) == 1:
            os.kill(os.getpid(), signal.SIGINT)  # held until every file is in place

    monkeypatch.setattr(os, "replace", replace_then_ctrl_c)
    # Python's own Ctrl-C handler, also where this process started with SIGINT ignored
    inherited = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt), staged_writes() as group:
            group.open(tmp_path / "a").write(b"new a")
            group.open(tmp_path / "b").write(b"new b")
    finally:
        signal.signal(signal.SIGINT, inherited)
    assert moved == ["a", "b"] and group.committed
    assert (tmp_path / "a").read_bytes() == b"new a" and (tmp_path / "b").read_bytes() == b"new b"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX pipes")
def test_a_pipe_or_device_is_written_into_never_replaced(tmp_path):
    """Replacing /dev/null (as root) or a FIFO would put a regular file in its place: such a
    target is staged in the temporary folder and copied into when the write succeeds."""
    import threading

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    with atomic_open(fifo, what="--out") as stream:
        stream.write(b"the model")
    reader.join(timeout=30)
    assert received == [b"the model"] and stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert _names(tmp_path) == ["pipe"]


def test_an_empty_file_name_is_named_as_such(tmp_path):
    with pytest.raises(FileNotFoundError, match="cannot write --out '': the file name is empty"):
        _atomic.check_writable("", "--out")


@pytest.mark.parametrize("command", ["train", "predict"])
def test_a_cli_run_failing_after_it_wrote_its_output_leaves_the_old_file(
    capsys, monkeypatch, tmp_path, regression_csv, command
):
    """The disk fills up at the very end: the model (trained) or the predictions (computed)
    are already written into the open output when its fsync fails. The run exits 2 with one
    line naming the output, and the old file is as it was, with no temporary left."""
    from test_cli_tabular import run

    model = tmp_path / "model.npz"
    train = ("train", regression_csv, "--target", "target", "--epochs", "2", "--quiet")
    assert run(capsys, *train, "--out", model)[0] == 0
    if command == "train":
        output, option, argv = model, "--out", (*train, "--out", model)
    else:
        output, option = tmp_path / "predictions.csv", "--output"
        output.write_text("the old predictions")
        argv = ("predict", model, regression_csv, "-o", output)
    before = output.read_bytes()
    synced = []

    def full_disk(handle):
        synced.append(os.fstat(handle).st_size)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full_disk)
    code, out, err = run(capsys, *argv)
    assert code == 2, err
    assert err == f"chainrule: error: cannot write {option} '{output}': no space left on device\n"
    assert len(synced) == 1 and synced[0] > 1000  # the whole new file had been written
    assert output.read_bytes() == before
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
