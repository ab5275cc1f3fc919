"""Spread a cell's L × S runs over every device JAX sees.

``train_grid`` trains the L learning-rate pairs × S seeds of a cell in compiled calls on one device.
With D devices, :func:`train_on_devices` splits the rate axis into D equal slices (padding it to a
multiple of D by repeating the last pair, a run that is trained anyway and then dropped) and trains
slice d on device d: a :class:`jax.sharding.Mesh` over the devices fixes the order, each slice's
inputs are committed to its device, and one host thread per device drives it so the devices run at
the same time (XLA releases the GIL while it computes). Runs are independent, so there is no
communication, and every run computes what it computes on one device: equal slices have one shape
and compile once per device.

Why slices through ``train_grid`` rather than one sharded array program: ``train_grid`` takes host
arrays and chunks the work to bound memory; slicing above it keeps that contract and works for every
model it supports.

Several processes (``_distributed.py``, docs/sweeps.md): after ``jax.distributed.initialize()``
the mesh spans the devices of all processes; each process trains the slices of its own devices and
the slices are exchanged with ``multihost_utils.process_allgather``, so every process ends with the
whole cell (tested with two CPU processes in tests/test_sweeps_distributed.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import numpy as np

RUN_AXIS = "runs"


class CellResult(NamedTuple):
    """A cell's runs on the host: ``metrics`` name → ``[L, S, T + 1]``, ``diverged_step`` [L, S]."""

    metrics: dict[str, np.ndarray]
    diverged_step: np.ndarray


def run_mesh(devices=None):
    """The one-axis mesh (axis ``"runs"``) that a cell's rate slices are laid out on."""
    import jax
    from jax.sharding import Mesh

    devices = jax.devices() if devices is None else devices
    # Grouped by process, so that gathering the processes' slices in order restores the rate order.
    ordered = sorted(devices, key=lambda device: (device.process_index, device.id))
    return Mesh(np.asarray(ordered), (RUN_AXIS,))


def _padded(values: np.ndarray, multiple: int) -> np.ndarray:
    pad = (-len(values)) % multiple
    return np.concatenate([values, np.repeat(values[-1:], pad)]) if pad else values


def _host(result) -> CellResult:
    metrics = {name: np.asarray(values) for name, values in result.metrics.items()}
    return CellResult(metrics, np.asarray(result.diverged_step))


def train_on_devices(
    trainer: Callable,
    config,
    eta_A: Sequence[float],
    eta_B: Sequence[float],
    seeds: Sequence[int],
    *,
    devices=None,
) -> CellResult:
    """``trainer(config, eta_A, eta_B, seeds)`` with the rate axis split across ``devices``.

    ``devices`` defaults to ``jax.devices()``; with one device this is a plain call.
    """
    import jax

    eta_A = np.asarray(eta_A, dtype=np.float64)
    eta_B = np.asarray(eta_B, dtype=np.float64)
    seeds = np.asarray(seeds, dtype=np.int32)
    mesh = run_mesh(devices)
    n_devices = mesh.devices.size
    if n_devices == 1:
        return _host(trainer(config, eta_A, eta_B, seeds))

    n_rates = len(eta_A)
    slices_A = np.split(_padded(eta_A, n_devices), n_devices)
    slices_B = np.split(_padded(eta_B, n_devices), n_devices)
    mine = [
        i
        for i, device in enumerate(mesh.devices.flat)
        if device.process_index == jax.process_index()
    ]

    def train_slice(index: int) -> CellResult:
        with jax.default_device(mesh.devices.flat[index]):
            return _host(trainer(config, slices_A[index], slices_B[index], seeds))

    with ThreadPoolExecutor(max_workers=len(mine)) as pool:
        local = list(pool.map(train_slice, mine))
    if jax.process_count() > 1:
        local = _exchange(local)
    metrics = {
        name: np.concatenate([part.metrics[name] for part in local])[:n_rates]
        for name in local[0].metrics
    }
    diverged = np.concatenate([part.diverged_step for part in local])[:n_rates]
    return CellResult(metrics, diverged)


def _exchange(local: list[CellResult]) -> list[CellResult]:
    """Every process's slices, in device order (all processes hold equally many devices)."""
    from jax.experimental import multihost_utils

    from toymodels.sweeps._distributed import stdout_to_stderr

    stacked = CellResult(
        {name: np.stack([p.metrics[name] for p in local]) for name in local[0].metrics},
        np.stack([p.diverged_step for p in local]),
    )
    with stdout_to_stderr():  # gloo's connection messages stay off stdout
        gathered = multihost_utils.process_allgather(stacked, tiled=True)
    n = gathered.diverged_step.shape[0]
    return [
        CellResult(
            {k: np.asarray(v[i]) for k, v in gathered.metrics.items()}, gathered.diverged_step[i]
        )
        for i in range(n)
    ]
