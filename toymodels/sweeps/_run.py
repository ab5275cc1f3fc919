"""Width sweeps: train every (init, width) cell over a learning-rate × seed grid, save as it goes.

A :class:`SweepConfig` is the whole description of a sweep (the results file stores it as its
``config`` attribute, and a rerun must match it to resume). :func:`run_sweep` trains the cells
that are not in the results file yet, one ``train_grid`` call per cell (all L × S runs at once,
sharded across devices when there are several), and saves the file atomically after each cell.
In a multi-process sweep (``_distributed.py``) only process 0 reads and writes the file.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial
from pathlib import Path

from toymodels.core import UsageError
from toymodels.sweeps._config import SweepConfig


def empty_results(config: SweepConfig, metric_names):
    """The results dataset of ``config`` before any cell has run (see ``_store.new_dataset``)."""
    from toymodels.sweeps import _store

    eta_A, eta_B = config.rate_coords()
    return _store.new_dataset(
        config.to_json(),
        inits=config.inits,
        widths=config.widths,
        seeds=config.seeds,
        steps=config.steps,
        eta_A=eta_A,
        eta_B=eta_B,
        metric_names=metric_names,
    )


def cell_cost(config: SweepConfig, width: int) -> float:
    """A relative cost of one cell, for the progress bar's ETA: a step costs O(N·n·r) per run."""
    return float(width + 64) * config.n_rates * len(config.seeds) * config.steps


#: Memory one compiled call may use for its runs' [N, n] activations; wider cells train in chunks.
MEMORY_BUDGET_BYTES = 4 * 2**30
#: On a device that reports its memory (GPU, TPU), the budget is this fraction of it if larger.
DEVICE_MEMORY_FRACTION = 0.5


def memory_budget_bytes() -> int:
    """:data:`MEMORY_BUDGET_BYTES`, or :data:`DEVICE_MEMORY_FRACTION` of the default device's memory
    where JAX reports it (``memory_stats()`` is None on CPU)."""
    import jax

    limit = (jax.local_devices()[0].memory_stats() or {}).get("bytes_limit")
    if not limit:
        return MEMORY_BUDGET_BYTES
    return max(MEMORY_BUDGET_BYTES, int(DEVICE_MEMORY_FRACTION * limit))


def runs_per_call(config: SweepConfig, width: int) -> int | None:
    """How many runs ``train_grid`` may batch at ``width`` (None: all of them).

    A run of a LoRA-layer model holds about 16 float32 arrays of shape [N, n] at once (features,
    activations, gradients, Adam's moments are only [r, n]); the numbers do not depend on it.
    """
    n_train = int(config.train.get("n_train") or 1000)
    per_run = 16 * 4 * n_train * width
    runs = len(config.seeds) * config.n_rates
    fits = max(1, memory_budget_bytes() // per_run)
    return None if fits >= runs else int(fits)


def default_trainer() -> Callable:
    """The project's ``train_grid`` (imported lazily: JAX starts only when a sweep trains)."""
    from toymodels.core import train_grid

    return train_grid


def make_train_config(config: SweepConfig, init: str, width: int):
    """The ``TrainConfig`` of one cell."""
    from toymodels.core import TrainConfig

    try:
        return TrainConfig(model=config.model, width=width, init=init, **config.train)
    except TypeError as error:  # an unknown option name
        raise UsageError(f"invalid training option: {error}") from None


def run_sweep(
    config: SweepConfig,
    out,
    *,
    overwrite: bool = False,
    quiet: bool = False,
    trainer: Callable | None = None,
    on_cell: Callable[[str, int], None] | None = None,
):
    """Train every cell of ``config`` not yet in ``out``; return the complete results Dataset.

    Each finished cell is saved atomically before the next starts, so an interrupted sweep resumes
    where it stopped when rerun with the same configuration. ``trainer`` defaults to
    ``toymodels.train_grid``; ``on_cell(init, width)`` is called after each cell is saved.

    In a multi-process sweep every process calls this; process 0 alone reads, writes and returns
    the results (the others train their share, show no progress and return None).
    """
    from toymodels.sweeps import _distributed, _store
    from toymodels.sweeps._devices import train_on_devices
    from toymodels.sweeps._progress import progress_bar

    out = Path(out)
    # Every cell's TrainConfig validates its options: all of them before anything is touched.
    train_configs = {cell: make_train_config(config, *cell) for cell in config.cells()}
    writer = _distributed.is_writer()
    existing = None

    def finished_cells() -> set:
        nonlocal existing
        existing = _store.open_for_resume(out, config.to_json(), overwrite=overwrite)
        _store.remove_stale_temporaries(out)
        return _store.completed_cells(existing) if existing is not None else set()

    done = _distributed.agreed_cells(finished_cells, config.cells())
    quiet = quiet or not writer
    todo = [cell for cell in config.cells() if cell not in done]
    trainer = trainer or default_trainer()
    ds = existing
    costs = [cell_cost(config, width) for _, width in todo]
    with progress_bar(
        total=math.fsum(costs), cells=len(config.cells()), done=len(done), quiet=quiet
    ) as bar:
        for (init, width), cost in zip(todo, costs, strict=True):
            bar.describe(init, width)
            eta_A, eta_B = config.cell_rates(init, width)
            chunk = runs_per_call(config, width)
            cell_trainer = trainer if chunk is None else partial(trainer, chunk_size=chunk)
            result = train_on_devices(
                cell_trainer, train_configs[init, width], eta_A, eta_B, config.seeds
            )
            if ds is None:
                ds = empty_results(config, sorted(result.metrics))
            ds = _store.with_cell(ds, init, width, result.metrics, result.diverged_step)
            if writer:
                _store.save_atomically(ds, out)
            bar.advance(cost)
            if on_cell is not None:
                on_cell(init, width)
    return ds if writer else None
