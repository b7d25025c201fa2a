"""Atomic file writes: a temporary file beside the target, then ``os.replace``.

A crash, an error (a full disk too: named as ``cannot write --out 'm.npz': no space left on
device``) or Ctrl-C half-way leaves an existing file as it was, and no temporary file behind:
every error path deletes it. A group of files (:func:`staged_writes`) is replaced whole: SIGINT
and SIGTERM arriving while its files are moved into place are acted on after the last one. A
process killed outright (``kill -9``) cannot clean up: it leaves a hidden ``.NAME.PID.*.tmp``
beside the target (never a damaged target), and the next successful write of the same target
deletes those whose process has ended. After the rename the folder is synced too, so the new
name survives a power cut.

Permissions are those a plain ``open(path, 'w')`` gives: a new file gets ``0o666`` less the
umask, a replaced file keeps its mode. A target that is a symbolic link is written through:
the file it points to is replaced and the link stays. A target that is a device or a pipe
(``/dev/null``, ``/dev/stdout``, a FIFO) is staged in the temporary folder and copied into on
success: it is never replaced (as root, replacing ``/dev/null`` put a regular file there).
"""

from __future__ import annotations

import contextlib
import errno
import glob
import os
import secrets
import shutil
import signal
import stat
import tempfile
import threading
from pathlib import Path

from ..core.validation import os_reason

__all__ = ["StagedWrites", "atomic_open", "check_writable", "is_special", "staged_writes"]

# errors of a write that ran out of room (a full disk, a quota, RLIMIT_FSIZE) or hit a broken
# device: the OS names no file in them, so the message names the output being written
_WRITE_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EROFS}


def check_writable(path, what: str) -> Path:
    """Return the file ``path`` will really be written to, after checking, before any work is
    done, that it can be: its folder exists and is writable, and it is not a folder.

    Parameters
    ----------
    path : str or os.PathLike
    what : str
        How the user named the output (``'--out'``, ``'checkpoint'``), for the message.

    Raises
    ------
    FileNotFoundError, NotADirectoryError, IsADirectoryError, PermissionError
        Naming ``what`` and ``path`` as the user gave it.
    """
    given = os.fspath(path)
    if not given:
        raise FileNotFoundError(f"cannot write {what} {given!r}: the file name is empty")
    target = Path(os.path.realpath(given))  # a symbolic link is written through
    if is_special(target):  # written into, not replaced: its folder's permissions do not matter
        if not os.access(target, os.W_OK):
            raise PermissionError(f"cannot write {what} {given!r}: no permission to write to it")
        return target
    folder = target.parent
    if not folder.exists():
        raise FileNotFoundError(
            f"cannot write {what} {given!r}: the folder {str(Path(given).parent)!r} does not exist"
        )
    if not folder.is_dir():
        raise NotADirectoryError(
            f"cannot write {what} {given!r}: {str(Path(given).parent)!r} is not a folder"
        )
    if target.is_dir():
        raise IsADirectoryError(f"cannot write {what} {given!r}: it is a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise PermissionError(
            f"cannot write {what} {given!r}: no permission to write in {str(Path(given).parent)!r}"
        )
    if target.exists() and not os.access(target, os.W_OK):
        raise PermissionError(f"cannot write {what} {given!r}: the file is read-only")
    return target


def is_special(target: Path) -> bool:
    """A device, pipe or socket (``/dev/null``, ``/dev/stdout``, a FIFO): a file that is
    written into, never replaced (replacing ``/dev/null`` would put a regular file there)."""
    try:
        mode = target.stat().st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def _sync_folder(folder: Path) -> None:
    """fsync a folder so that a rename in it is durable (a no-op where folders cannot be
    opened, as on Windows)."""
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


def _process_ended(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # alive, owned by someone else
        return False
    return False


def _sweep_orphans(target: Path) -> None:
    """Delete temporary files of ``target`` left by writers that were killed outright."""
    for leftover in target.parent.glob(f".{glob.escape(target.name)}.*.tmp"):
        pid = leftover.name[len(target.name) + 2 :].split(".")[0]
        if pid.isdigit() and _process_ended(int(pid)):
            with contextlib.suppress(OSError):
                leftover.unlink()


class _Staged:
    """One file being written: an open temporary beside ``target``."""

    def __init__(self, path, mode: str, options: dict, what: str):
        self.target = check_writable(path, what)
        self.given, self.what = os.fspath(path), what
        self.special = is_special(self.target)
        # a device or pipe is staged in the temporary folder, and copied into on success
        folder = Path(tempfile.gettempdir()) if self.special else self.target.parent
        self.named: str | None = str(
            folder / f".{self.target.name}.{os.getpid()}.{secrets.token_hex(6)}.tmp"
        )
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
        try:  # mode 0o666 less the umask, as open() gives
            handle = os.open(self.named, flags | getattr(os, "O_BINARY", 0), 0o666)
        except OSError as error:
            raise type(error)(
                f"cannot write {what} {self.given!r}: a temporary file cannot be created beside "
                f"it ({os_reason(error)})"
            ) from None
        try:
            if self.target.exists() and not self.special:  # keep the replaced file's permissions
                os.fchmod(handle, stat.S_IMODE(self.target.stat().st_mode))
            self.stream = os.fdopen(handle, mode, **options)
        except BaseException:
            os.close(handle)
            self.discard()
            raise

    def finish(self) -> None:
        """Flush the temporary file to disk (it is not in place yet)."""
        self.stream.flush()
        os.fsync(self.stream.fileno())
        self.stream.close()

    def replace(self) -> None:
        if self.special:
            with open(self.named, "rb") as staged, open(self.target, "wb") as special:
                shutil.copyfileobj(staged, special)
            self.discard()
            return
        os.replace(self.named, self.target)
        self.named = None
        _sync_folder(self.target.parent)
        _sweep_orphans(self.target)

    def discard(self) -> None:
        stream = getattr(self, "stream", None)
        if stream is not None and not stream.closed:
            with contextlib.suppress(OSError):  # closing flushes: on a full disk that fails again
                stream.close()
        if self.named is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.named)
            self.named = None

    def named_error(self, error: OSError) -> OSError:
        """``error`` (a write that failed, which names no file) as one naming this output."""
        named = type(error)(f"cannot write {self.what} {self.given!r}: {os_reason(error)}")
        named.errno = error.errno
        return named


@contextlib.contextmanager
def _signals_held():
    """SIGINT and SIGTERM held back while files are moved into place, then acted on as they
    would have been, so that a group is replaced whole, never some of its files. (Python runs
    handlers in the main thread only, so they are swapped there; a signal mask would not do,
    since another thread, such as a BLAS worker, may take the signal.)"""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = {}
    for number in (signal.SIGINT, signal.SIGTERM):
        if signal.getsignal(number) is not None:  # None: a handler Python did not install
            previous[number] = signal.signal(number, lambda signum, frame: received.append(signum))
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        for number in received:
            signal.raise_signal(number)


class StagedWrites:
    """Several files written together: nothing is replaced until every one is complete.

    Use through :func:`staged_writes`; :meth:`open` returns a stream to write one file into.
    """

    def __init__(self):
        self._files: list[_Staged] = []
        self.committed = False  # every file is in place

    def open(self, path, mode: str = "wb", *, what: str = "file", **options):
        """A writable stream whose content replaces ``path`` when the group succeeds."""
        staged = _Staged(path, mode, options, what)
        self._files.append(staged)
        return staged.stream

    def temporary(self, stream) -> str:
        """The temporary file that ``stream`` (from :meth:`open`) writes, to read back what was
        written before it replaces its target."""
        return next(staged.named for staged in self._files if staged.stream is stream)

    def _commit(self) -> None:
        for staged in self._files:
            try:
                staged.finish()
            except OSError as error:
                raise self._named(error, staged) from None
        with _signals_held():
            for staged in self._files:
                try:
                    staged.replace()
                except OSError as error:  # copying into a device: /dev/full
                    raise self._named(error, staged) from None
            self.committed = True

    def _named(self, error: OSError, staged: _Staged | None = None) -> OSError:
        """A failed write (no file named) as an error naming the output: ``staged``, or the
        file opened last (the one being written)."""
        staged = staged or (self._files[-1] if self._files else None)
        if staged is None or error.filename is not None or error.errno not in _WRITE_ERRORS:
            return error
        return staged.named_error(error)

    def _discard(self) -> None:
        for staged in self._files:
            staged.discard()


@contextlib.contextmanager
def staged_writes():
    """A group of atomic writes: on leaving the block without an error, every file opened
    with ``group.open(path)`` is synced and moved into place; on an error (Ctrl-C included)
    none is, and every temporary file is deleted."""
    group = StagedWrites()
    try:
        try:
            yield group
        except OSError as error:
            raise group._named(error) from None
        group._commit()
    finally:
        group._discard()


@contextlib.contextmanager
def atomic_open(path, mode: str = "wb", *, what: str = "file", **options):
    """Open a temporary file beside ``path``; on leaving the block without an error, flush it
    to disk and move it over ``path``; on an error, delete it."""
    with staged_writes() as group:
        yield group.open(path, mode, what=what, **options)
