"""One writer per results file: an advisory ``flock`` on a lock file beside it.

Two sweeps writing one results file would overwrite each other cell by cell, each believing the
file holds its results. :func:`exclusive_writer` takes an exclusive ``fcntl.flock`` on
``.NAME.lock`` beside the results file for the whole sweep; a second sweep on the same file fails at
once with a one-line :class:`UsageError` naming the holder's process id. The kernel releases a flock
when its holder dies, however it dies, so a lock left by a killed sweep never blocks: the file
itself may linger, but an unlocked lock file is free.

The lock file is removed on release. Removing a lock file races with a process that opened it just
before: that process then holds a lock on a file no longer in the directory. So a lock counts only
if, once held, the path still names the locked file; otherwise the taker tries again.

>>> import tempfile, pathlib
>>> out = pathlib.Path(tempfile.mkdtemp()) / "sweep.nc"
>>> with exclusive_writer(out):
...     with exclusive_writer(out):
...         pass
Traceback (most recent call last):
...
toymodels.core._errors.UsageError: ... is being written by another sweep (pid ...); ...
>>> sorted(p.name for p in out.parent.iterdir())
[]
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from toymodels.core import UsageError


def lock_path(path) -> Path:
    """The lock file of the results file ``path`` (beside the file a symlink points to)."""
    target = Path(os.path.realpath(path))
    return target.with_name(f".{target.name}.lock")


@contextlib.contextmanager
def exclusive_writer(path):
    """Hold the only write lock of the results file ``path`` for the ``with`` block.

    Raises :class:`UsageError` (one line, naming the holder's pid) if another process holds it.
    """
    lock = lock_path(path)
    fd = _acquire(lock, path)
    try:
        yield lock
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(lock)
        os.close(fd)  # closing the last descriptor releases the flock


def _acquire(lock: Path, path) -> int:
    for _ in range(100):  # a retry only follows a concurrent release; a few suffice
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as error:
            raise UsageError(f"cannot write results to {lock.parent}: {error.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
            raise UsageError(
                f"{path} is being written by another sweep (pid {holder}); wait for it to "
                "finish or choose another --out"
            ) from None
        try:
            same = os.fstat(fd).st_ino == os.stat(lock).st_ino
        except FileNotFoundError:
            same = False
        if same:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
            return fd
        os.close(fd)  # the holder removed it as we opened it: take the new one
    raise UsageError(f"cannot lock {lock}: it keeps being replaced")
