"""Subprocesses in tests: generous hang guards, and every process reaped.

A test's verdict never depends on how fast a subprocess runs: waits are for events (a line
printed, a file appearing, a signal handler installed) and end early when the process exits;
:data:`HANG_GUARD_S` only turns a real hang into a failure instead of a stuck suite. It is far
above any expected time even on 2 cores shared with a CPU hog.
"""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections.abc import Callable

#: The longest a test waits for a subprocess event before calling it a hang.
HANG_GUARD_S = 900.0


def reap(proc: subprocess.Popen) -> None:
    """Kill ``proc`` if it still runs and wait for it, so no process outlives its test."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.communicate(timeout=60)


def wait_until(
    condition: Callable[[], bool], proc: subprocess.Popen, timeout: float = HANG_GUARD_S
) -> bool:
    """Poll ``condition`` until it holds, ``proc`` exits, or the hang guard runs out; returns
    whether the condition held."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        if proc.poll() is not None:
            return condition()
        time.sleep(0.01)
    return condition()
