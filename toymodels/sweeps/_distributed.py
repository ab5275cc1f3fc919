"""One sweep, several processes: JAX's distributed runtime, agreement on the work, one writer.

A sweep started as P processes (``--coordinator HOST:PORT --num-processes P --process-id I``, or a
cluster launcher's environment) calls :func:`initialize` before JAX starts. From then on
``jax.devices()`` lists the devices of every process, and ``_devices.train_on_devices`` splits each
cell's rate axis over all of them: process I trains the slices of its own devices and
``multihost_utils.process_allgather`` gives every process the whole cell. A run's numbers depend on
its rate pair, its seed and the shape of the batch it is trained in, never on which process trains
it, so a P-process sweep equals a single-process sweep over as many devices bit for bit
(tests/test_sweeps_distributed.py).

Only process 0 touches the results file (:func:`is_writer`): it decides which cells are done and
:func:`agreed_cells` broadcasts its answer, or the fact that it failed, so every process trains the
same cells and none waits for a partner that has already given up. The other processes hold the
cells in memory only and return no dataset.

Which launches are distributed (:func:`requested`): any of the three flags, or the environment
variables that ``jax.distributed.initialize()`` reads when called with no arguments
(``JAX_COORDINATOR_ADDRESS``; SLURM's ``SLURM_NTASKS``/``SLURM_PROCID`` under ``srun``; Open MPI's
``OMPI_COMM_WORLD_SIZE``/``OMPI_COMM_WORLD_RANK`` under ``mpirun``) with more than one process.
Values JAX can detect may be left out of the flags; JAX fills them in.

>>> requested(Launch(None, None, None), environ={})
False
>>> requested(Launch(None, None, None), environ={"SLURM_NTASKS": "4", "SLURM_PROCID": "1"})
True
>>> check_launch(Launch("node1:1234", 2, 2))
Traceback (most recent call last):
...
toymodels.core._errors.UsageError: --process-id must lie in 0..1 (--num-processes 2), got 2
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import NamedTuple, NoReturn

import numpy as np

from toymodels.core import UsageError

#: Seconds a process waits for all others to connect and agree before it gives up with one line
#: and exit code 2 (``--connect-timeout``; JAX's own default is 300 and ends in an abort).
CONNECT_TIMEOUT_S = 180
#: Seconds without a heartbeat after which the coordinator declares a process dead and stops the
#: others (JAX's default is 100). Heartbeats come from a background thread, so a long compile or a
#: long cell does not miss them.
HEARTBEAT_TIMEOUT_S = 30
#: Seconds a finishing process waits for the others to finish too (JAX's default is 300).
SHUTDOWN_TIMEOUT_S = 60

#: (process count, process id) environment variables of the launchers JAX detects by itself.
LAUNCHER_VARIABLES = (
    ("SLURM_NTASKS", "SLURM_PROCID"),  # srun
    ("OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK"),  # Open MPI's mpirun
)


class Launch(NamedTuple):
    """The three flags; None: left to the environment (JAX's cluster detection)."""

    coordinator: str | None
    num_processes: int | None
    process_id: int | None


def requested(launch: Launch, environ: Mapping[str, str] = os.environ) -> bool:
    """Whether this process belongs to a multi-process sweep (a flag, or a launcher's variables)."""
    if any(value is not None for value in launch) or environ.get("JAX_COORDINATOR_ADDRESS"):
        return True
    for count, rank in LAUNCHER_VARIABLES:
        size = environ.get(count, "1").strip()
        if rank in environ and size.isdigit() and int(size) > 1:
            return True
    return False


def check_launch(launch: Launch) -> Launch:
    """``launch`` if its given values are consistent; a :class:`UsageError` naming the problem."""
    coordinator, count, index = launch
    if coordinator is not None and not re.fullmatch(r"\S+:\d{1,5}", coordinator):
        raise UsageError(f"--coordinator must be HOST:PORT, got {coordinator!r}")
    if count is not None and count < 1:
        raise UsageError(f"--num-processes must be at least 1, got {count}")
    if index is not None and index < 0:
        raise UsageError(f"--process-id must be non-negative, got {index}")
    if count is not None and index is not None and index >= count:
        raise UsageError(
            f"--process-id must lie in 0..{count - 1} (--num-processes {count}), got {index}"
        )
    return launch


@contextlib.contextmanager
def deadline(seconds: float, message: Callable[[], str]) -> Iterator[None]:
    """End the process with ``message()`` and exit code 2 if the block lasts ``seconds``.

    JAX's own time-outs while connecting end the process with a C++ abort and a stack trace (rc
    −6), and a peer that never starts leaves a process waiting silently; this watchdog thread
    acts first, with one line.
    """

    def give_up() -> None:
        abandon(2, message())

    timer = threading.Timer(seconds, give_up)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def initialize(launch: Launch, timeout_s: float = CONNECT_TIMEOUT_S) -> None:
    """Start JAX's distributed runtime (before anything starts JAX); CPU collectives by gloo.

    Every process must connect within ``timeout_s`` seconds, else one line and exit code 2.
    """
    check_launch(launch)
    if not 0 < timeout_s <= 86_400:
        raise UsageError(f"--connect-timeout must lie in (0, 86400] seconds, got {timeout_s}")
    if launch.process_id == 0 and launch.coordinator is not None:
        _check_port_free(launch.coordinator)
    import jax

    # The CPU backend has no cross-process collectives unless told which to use.
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    where = launch.coordinator or "the launcher's coordinator"
    message = (
        f"lora-sweep: error: process {launch.process_id if launch.process_id is not None else '?'}"
        f": not every process connected to {where} within {timeout_s:g} s (--connect-timeout); "
        "start all of them with the same --coordinator and --num-processes, each with its own "
        "--process-id; nothing was trained or written"
    )
    try:
        with deadline(timeout_s, lambda: message):
            jax.distributed.initialize(
                coordinator_address=launch.coordinator,
                num_processes=launch.num_processes,
                process_id=launch.process_id,
                # JAX's own limit comes after ours: it aborts instead of raising
                initialization_timeout=int(timeout_s) + 60,
                heartbeat_timeout_seconds=HEARTBEAT_TIMEOUT_S,
                shutdown_timeout_seconds=SHUTDOWN_TIMEOUT_S,
            )
    except (ValueError, TypeError) as error:  # a value neither given nor detectable
        raise UsageError(f"cannot start the distributed runtime: {error}") from None
    except Exception as error:  # the coordinator refused, a port already taken, ...
        reason = " ".join(str(error).split())[:200] or type(error).__name__
        abandon(2, f"lora-sweep: error: cannot start the distributed runtime at {where}: {reason}")


def _check_port_free(coordinator: str) -> None:
    """Process 0 serves the coordinator at HOST:PORT: a :class:`UsageError` if the port is taken
    here (another process 0, started with the same command, already serves it; JAX would end one
    of the two with an abort). Not a local address: nothing to check."""
    import errno
    import socket

    host, _, port = coordinator.rpartition(":")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host.strip("[]"), int(port)))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise UsageError(
                    f"--coordinator {coordinator}: the port is taken (another process with "
                    "--process-id 0, or another program); give each process its own --process-id"
                ) from None


def _digest(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:16]


def agree(fields: Mapping[str, object], timeout_s: float = CONNECT_TIMEOUT_S) -> None:
    """Stop every process, with one line naming the field and exit code 2, unless all of them
    were given the same ``fields`` (flag name → value), before anything trains.

    Each process publishes a digest per field in the coordinator's key-value store. Process 0
    (whose process count is the coordinator's) compares every other process's with its own and
    publishes its verdict; every other process compares process 0's with its own and reads the
    verdict. On a disagreement all of them stop, process 0 last (the coordinator lives in it).
    """
    index, count = process()
    if count == 1:
        return
    from jax._src import distributed

    client = distributed.global_state.client
    mine = {name: _digest(value) for name, value in fields.items()}
    limit_ms = int(timeout_s * 1000)
    lost = (
        f"lora-sweep: error: process {index} of {count}: the other processes did not show their "
        f"settings within {timeout_s:g} s (--connect-timeout); nothing was trained or written"
    )

    def differing_from(peer: int) -> list[str]:
        theirs = json.loads(client.blocking_key_value_get(f"lora-sweep/agree/{peer}", limit_ms))
        return [name for name in mine if theirs.get(name) != mine[name]]

    try:
        with deadline(timeout_s + 5, lambda: lost):
            client.key_value_set(f"lora-sweep/agree/{index}", json.dumps(mine))
            if index == 0:
                verdict: dict[str, list[int]] = {}
                for peer in range(1, count):
                    for name in differing_from(peer):
                        verdict.setdefault(name, []).append(peer)
                client.key_value_set("lora-sweep/verdict", json.dumps(verdict))
                own = list(verdict)
            else:
                own = differing_from(0)
                verdict = json.loads(client.blocking_key_value_get("lora-sweep/verdict", limit_ms))
    except Exception:  # the key-value store's own time-out, or a peer gone: one line all the same
        abandon(2, lost)
    if not verdict:
        return
    if index == 0:
        _wait_for_others_to_leave(client, count, limit_ms)
        name = own[0]
        who = f"process(es) {', '.join(map(str, verdict[name]))} (--process-id) were"
    else:
        client.key_value_set(f"lora-sweep/leaving/{index}", "1")
        name = own[0] if own else next(iter(verdict))
        who = "this process was" if own else f"process(es) {verdict[name]} were"
    abandon(
        2,
        f"lora-sweep: error: process {index} of {count}: {who} given a different {name} than "
        "process 0; give every process the same command (but --process-id); nothing was "
        "trained or written",
    )


def process() -> tuple[int, int]:
    """(this process's index, the process count); (0, 1) when the runtime is not started."""
    import jax

    if not jax.distributed.is_initialized():
        return 0, 1
    return jax.process_index(), jax.process_count()


def is_writer() -> bool:
    """Whether this process writes the results file: process 0, or the only process."""
    return process()[0] == 0


def agreed_cells(decide: Callable[[], set], cells: Sequence) -> set:
    """``decide()`` (the finished cells, a subset of ``cells``) run on process 0 and broadcast.

    If ``decide`` raises on process 0, process 0 re-raises it and every other process raises a
    :class:`UsageError` saying so: no process goes on to wait for a cell that process 0 will not
    train. With one process this is ``decide()``.
    """
    index, count = process()
    if count == 1:
        return decide()
    from jax.experimental import multihost_utils

    # One flag per cell, and a last one for "process 0 failed".
    flags = np.zeros(len(cells) + 1, dtype=np.int32)
    failure = None
    if index == 0:
        try:
            done = decide()
            flags[:-1] = [cell in done for cell in cells]
        except BaseException as error:  # re-raised below, after the others have heard of it
            failure = error
            flags[-1] = 1
    with stdout_to_stderr():
        flags = np.asarray(multihost_utils.broadcast_one_to_all(flags))
    if failure is not None:
        raise failure
    if flags[-1]:
        raise UsageError("process 0 could not open the results file (its own error says why)")
    return {cell for cell, flag in zip(cells, flags[:-1], strict=True) if flag}


def _wait_for_others_to_leave(client, count: int, limit_ms: int) -> None:
    """Until every other process has said it is leaving, and a moment more for it to be gone:
    the coordinator lives in process 0, and a process that loses it aborts with a stack trace."""
    import time

    with contextlib.suppress(Exception):  # a process already gone: nothing to wait for
        for peer in range(1, count):
            client.blocking_key_value_get(f"lora-sweep/leaving/{peer}", limit_ms)
    time.sleep(0.5)  # from its key to its os._exit: microseconds of Python


def abandon(code: int, message: str) -> NoReturn:
    """Print ``message`` and end this process now, skipping JAX's shutdown barrier.

    Its connections close, so every other process fails at its next exchange (within a cell's
    time) and abandons too, rather than waiting in the barrier for the coordinator's
    :data:`HEARTBEAT_TIMEOUT_S` or :data:`SHUTDOWN_TIMEOUT_S`. Process 0 saved every finished cell.
    """
    print(message, file=sys.stderr)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


@contextlib.contextmanager
def stdout_to_stderr() -> Iterator[None]:
    """File descriptor 1 pointed at 2 for a while: gloo prints "[Gloo] Rank 0 is connected ..." on
    stdout when the first collective connects the processes, which would corrupt ``--json``."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
