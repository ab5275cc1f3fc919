"""Ctrl-C, SIGTERM and SIGHUP without tracebacks: a stop flag, asked between compiled calls.

Python's default SIGINT handler raises KeyboardInterrupt wherever the main thread happens to be: in
an import, inside a callback JAX runs during garbage collection (where it is swallowed and the
sweep runs on), or while XLA holds state that interpreter shutdown then trips over (a segfault).
So no handler here raises. The Python-level handlers do nothing; the C-level handler writes each
signal's number to a pipe (``signal.set_wakeup_fd``) that a watcher thread reads at once, whatever
the main thread is doing:

- inside a sweep (:func:`deferring`), the first signal sets :data:`STOP` and says so; the sweep
  asks ``STOP.is_set()`` between compiled calls, abandons the cell in progress and ends with exit
  code 130. A compiled call can last minutes (a first compilation, a huge grid), so if the sweep
  has not stopped :data:`GRACE_S` seconds later the process ends at once, as below;
- a second signal, or any signal outside a sweep (start-up, compilation of another command),
  prints one line and ends the process at once with ``os._exit(130)``: no Python code runs after
  it, so there is nothing to raise or crash. Results files are safe: every save is an atomic rename,
  and :func:`saving` holds the exit back while a save and its bookkeeping are under way, so the
  line printed (``message()``, which says what is saved) is true.

SIGINT, SIGTERM and SIGHUP all end in exit code 130 (one code for "stopped by the user or the
system"; docs/sweeps.md). The handlers are installed by ``toymodels/__init__.py`` as the first thing
the ``lora-sweep`` entry point runs, before anything slow is imported.

>>> with guarded():
...     STOP.is_set()
False
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading

#: Set by the first SIGINT/SIGTERM inside a sweep; the sweep stops at its next check.
STOP = threading.Event()
_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
#: Seconds a sweep has, after the first signal, to reach its next check before the process ends.
GRACE_S = 3.0
#: Held while a cell is saved and counted: an immediate exit waits for it (:func:`saving`).
_SAVING = threading.Lock()
_SENTINEL = 0  # no signal has number 0: the byte that tells the watcher to end
_state = {
    "deferring": False,
    "count": 0,
    "message": lambda: "lora-sweep: interrupted during start-up; nothing was written",
}


def _say(line: str) -> None:
    with contextlib.suppress(OSError):
        os.write(2, (line + "\n").encode())


def _watch(read_fd: int) -> None:
    while True:
        try:
            data = os.read(read_fd, 64)
        except OSError:
            return
        for number in data:
            if number == _SENTINEL:
                os.close(read_fd)
                return
            if number not in _SIGNALS:
                continue
            _state["count"] += 1
            if _state.get("settled"):
                _end_now()
            if _state["deferring"] and _state["count"] == 1:
                STOP.set()
                _say(
                    "lora-sweep: stopping: the cell in progress is abandoned at the next check "
                    "(Ctrl-C again to stop at once)"
                )
                timer = threading.Timer(GRACE_S, _end_now)
                timer.daemon = True
                _state["timer"] = timer
                timer.start()
            else:
                _end_now()


def _end_now() -> None:
    """Print the message of the moment and end the process (after a save under way); silently once
    the command has said its last word (:func:`say_last`)."""
    with _SAVING:  # never released: the process ends here
        if not _state.get("settled"):
            _say(_state["message"]())
        os._exit(130)


def say_last(line: str) -> None:
    """Print the command's last line on stderr. A signal after it (the process is only ending)
    ends it at once without a second line: everything true was said."""
    with _SAVING:
        _state["settled"] = True
        print(line, file=sys.stderr, flush=True)


def _nothing(signum, frame) -> None:
    """The Python-level handler: the watcher thread acts; raising here is what broke Ctrl-C."""


def install() -> bool:
    """Handle SIGINT and SIGTERM as the module says; False if already done or not possible (only
    the main thread may set signal handlers)."""
    if _state.get("installed") or threading.current_thread() is not threading.main_thread():
        return False
    read_fd, write_fd = os.pipe()
    os.set_blocking(write_fd, False)
    previous_fd = signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
    previous = {sig: signal.signal(sig, _nothing) for sig in _SIGNALS}
    STOP.clear()
    watcher = threading.Thread(target=_watch, args=(read_fd,), daemon=True, name="lora-sweep-stop")
    watcher.start()
    _state.update(installed=(write_fd, previous_fd, previous, watcher), deferring=False, count=0)
    _state["settled"] = False
    return True


def uninstall() -> None:
    """Restore the handlers :func:`install` replaced and end the watcher."""
    write_fd, previous_fd, previous, watcher = _state.pop("installed")
    for sig, handler in previous.items():
        signal.signal(sig, handler)
    signal.set_wakeup_fd(previous_fd)
    os.write(write_fd, bytes([_SENTINEL]))
    watcher.join(timeout=5)
    os.close(write_fd)


@contextlib.contextmanager
def guarded(message=None):
    """:func:`install` for the ``with`` block (kept if it was installed before). ``message()`` is
    the line printed when the process ends at once."""
    installed_here = install()
    if message is not None:
        _state["message"] = message
    try:
        yield
    finally:
        if installed_here:
            uninstall()


@contextlib.contextmanager
def deferring(message, after=None):
    """Inside :func:`guarded`: the first signal only sets :data:`STOP` (a second, or the end of
    :data:`GRACE_S`, still ends the process at once, printing ``message()``). On leaving the block
    the message becomes ``after`` (what is true once the sweep is over), else the one before."""
    before = dict(_state)
    _state.update(deferring=True, message=message)
    try:
        yield
    finally:
        with _SAVING:
            timer = _state.pop("timer", None)
            if timer is not None:
                timer.cancel()
            _state.update(deferring=False, message=after or before["message"])


def set_message(message) -> None:
    """``message()`` is the line printed if a signal ends the process from now on."""
    _state["message"] = message


@contextlib.contextmanager
def saving():
    """A save and its bookkeeping (the count the message reports): an immediate exit waits."""
    with _SAVING:
        yield


def interrupted() -> bool:
    """Whether a signal came inside :func:`guarded` (the command must then not exit 0)."""
    return _state["count"] > 0
