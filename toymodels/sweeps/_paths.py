"""Results paths that are what they seem: a regular file (or nothing yet) in a writable folder.

A sweep writes its results by renaming a temporary file over the path the user gave, through any
symlinks (``_store.save_atomically``). Renamed over a device node, a FIFO or a symlink loop, that
would replace something that was never a results file. :func:`check_results_path` refuses such a
path with one line before any work (``--overwrite`` included), using the standard library only,
so the CLI calls it before JAX starts; the store checks the target again before every save.

>>> check_results_path("/dev/null")
Traceback (most recent call last):
...
toymodels.core._errors.UsageError: --out /dev/null is a character device, not a results file
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from toymodels.core import UsageError

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
)


def kind_of(mode: int) -> str:
    """What a non-regular file is, in words."""
    return next((word for test, word in _KINDS if test(mode)), "not a regular file")


def check_name(path, flag: str) -> str:
    """``str(path)``, or a one-line :class:`UsageError` if it is empty or holds a control character
    (a newline would split every message that names the file; a NUL cannot name a file at all)."""
    text = str(path)
    if not text or any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise UsageError(f"{flag} {text!r} must be a file name without control characters")
    return text


def check_results_path(path, flag: str = "--out") -> Path:
    """``path`` if it is a regular file, or names none yet, in a folder that exists (or can be
    created) and is writable; else a one-line :class:`UsageError`. Returns the resolved path."""
    text = check_name(path, flag)
    try:
        resolved = Path(os.path.realpath(path, strict=True))
    except FileNotFoundError:
        if os.path.islink(path):  # a symlink (or a chain) that ends nowhere
            raise UsageError(
                f"{flag} {text} is a symlink to {os.path.realpath(path)}, which does not exist; "
                "give the file name itself"
            ) from None
        resolved = Path(os.path.realpath(path))
    except OSError as error:
        why = "a symlink loop" if error.errno == errno.ELOOP else error.strerror
        raise UsageError(f"{flag} {text}: {why}") from None
    try:
        mode = os.stat(resolved).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as error:
        raise UsageError(f"{flag} {text}: {error.strerror}") from None
    if mode is not None and not stat.S_ISREG(mode):
        hint = f"; give a file name such as {text}/sweep.nc" if stat.S_ISDIR(mode) else ""
        target = "" if str(resolved) == os.path.abspath(text) else f" (a link to {resolved})"
        raise UsageError(f"{flag} {text}{target} is {kind_of(mode)}, not a results file{hint}")
    _check_folder(resolved.parent, flag, text)
    return resolved


def _check_folder(folder: Path, flag: str, text: str) -> None:
    existing = folder
    while not os.path.lexists(existing) and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise UsageError(f"{flag} {text}: {existing} is not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UsageError(f"cannot write results to {existing}: permission denied")
