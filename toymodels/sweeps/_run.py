"""Width sweeps: train every (init, width) cell over a learning-rate × seed grid, save as it goes.

A :class:`SweepConfig` is the whole description of a sweep (the results file stores it as its
``config`` attribute, and a rerun must match it to resume). :func:`run_sweep` trains the cells
that are not in the results file yet, one ``train_grid`` call per cell (all L × S runs at once,
sharded across devices when there are several), and saves the file atomically after each cell.
In a multi-process sweep (``_distributed.py``) only process 0 reads and writes the file.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Callable
from functools import partial
from pathlib import Path

from toymodels.core import UsageError
from toymodels.sweeps import _lock
from toymodels.sweeps._config import SweepConfig


def empty_results(config: SweepConfig, metric_names):
    """The results dataset of ``config`` before any cell has run (see ``_store.new_dataset``)."""
    from toymodels.sweeps import _store

    eta_A, eta_B = config.rate_coords()
    ds = _store.new_dataset(
        config.to_json(),
        inits=config.inits,
        widths=config.widths,
        seeds=config.seeds,
        steps=config.steps,
        eta_A=eta_A,
        eta_B=eta_B,
        metric_names=metric_names,
    )
    stages = config.stages()
    return ds if stages is None else ds.assign_coords(stage=("lr", stages))


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


def memory_needed(config: SweepConfig, train_config=None) -> dict[str, int]:
    """Bytes a sweep needs at its peak, estimated from the shapes, by part.

    ``results``: the results dataset, float32 per metric × cell × run × step, twice (a cell is added
    to a copy); ``cell``: one cell's metrics, on the device and on the host; ``model``: one run at
    the widest width (:func:`runs_per_call`'s 16 arrays of [N, n]) and, for a model with a hidden
    layer, its frozen [n, n] matrix (one seed at a time), or with the Gram draw the features of
    every seed. With no ``train_config`` (the CLI's check before JAX
    starts), a lower bound: one metric and the model's default training set.

    >>> config = SweepConfig.equal_rates(
    ...     experiment="run", model="linear", inits=("A",), widths=(8,), rates=(0.1,),
    ...     seeds=(0,), train={"steps": 2**31})
    >>> from toymodels.core import TrainConfig
    >>> need = memory_needed(config, TrainConfig(model="linear", width=8, init="A", steps=2**31))
    >>> need["results"] // 2**30  # 7 metrics × 1 cell × 1 run × 2^31 steps × 4 bytes, twice
    112
    """
    if train_config is None:  # before JAX starts: a lower bound (the two losses, default data)
        default_n = 1 if config.model == "linear" else 1000
        n_metrics, n_train = 1, int(config.train.get("n_train") or default_n)
    else:
        n_metrics, n_train = len(train_config.metric_names), int(train_config.n_train)
    runs = config.n_rates * len(config.seeds)
    per_cell = 4 * n_metrics * runs * (config.steps + 1)
    width = max(config.widths)
    # The frozen n × n W_h of one seed at a time (``lax.map``); the Gram draw never forms it but
    # keeps the features of every seed of a chunk: z and H over the train and test points.
    n_points = n_train + int(config.train.get("n_test") or 100)
    if config.train.get("feature_draw") == "gram":
        hidden = 2 * 4 * n_points * width * len(config.seeds) + 3 * 4 * n_points * n_points
    else:
        hidden = 4 * width * width if config.model == "teacher-student" else 0
    return {
        "results": 2 * per_cell * len(config.cells()),
        "cell": 2 * per_cell,
        "model": 16 * 4 * n_train * width + hidden,
    }


def available_memory_bytes() -> int | None:
    """The memory the machine can give now (``MemAvailable``; None where it cannot be read)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_memory(config: SweepConfig, train_config=None) -> None:
    """A one-line :class:`UsageError` naming the GiB needed if the sweep cannot fit in memory."""
    need = memory_needed(config, train_config)
    total = sum(need.values())
    available = available_memory_bytes()
    if available is not None and total > available:
        biggest = max(need, key=need.get)
        hint = "--steps" if biggest in ("results", "cell") else "--widths"
        raise UsageError(
            f"this sweep needs about {total / 2**30:.1f} GiB of memory (mostly its {biggest}: "
            f"{need[biggest] / 2**30:.1f} GiB) but {available / 2**30:.1f} GiB is available; "
            f"reduce {hint}"
        )


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


class SweepStopped(Exception):
    """A sweep stopped on request (``should_stop``) between compiled calls; its saved cells stay."""

    def __init__(self, saved: int, total: int):
        super().__init__(f"stopped with {saved} of {total} cells saved")
        self.saved, self.total = saved, total


def run_sweep(
    config: SweepConfig,
    out,
    *,
    overwrite: bool = False,
    quiet: bool = False,
    trainer: Callable | None = None,
    on_cell: Callable[[str, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    saving: Callable | None = None,
):
    """Train every cell of ``config`` not yet in ``out``; return the complete results Dataset.

    Each finished cell is saved atomically before the next starts, so an interrupted sweep resumes
    where it stopped when rerun with the same configuration. ``trainer`` defaults to
    ``toymodels.train_grid``; ``on_cell(init, width)`` is called after each cell is saved.

    One sweep at a time writes ``out`` (``_lock.exclusive_writer``, held for the whole sweep, with
    ``overwrite`` too); the stored configuration is checked again before every save. A finished
    sweep is returned without writing anything (a read-only directory is fine).
    ``should_stop()`` is asked between compiled calls: when it says yes the cell in progress is
    abandoned and :class:`SweepStopped` is raised (the cells saved so far stay saved).
    ``saving()`` is a context manager held around each save and its ``on_cell`` (the CLI's: a
    signal that ends the process at once waits for it, so its message counts the cells right).

    In a multi-process sweep every process calls this; process 0 alone reads, writes and returns
    the results (the others train their share, show no progress and return None).
    """
    from toymodels.sweeps import _distributed, _store

    out = Path(out)
    # Every cell's TrainConfig validates its options: all of them before anything is touched.
    train_configs = {cell: make_train_config(config, *cell) for cell in config.cells()}
    check_memory(config, train_configs[config.inits[0], max(config.widths)])
    writer = _distributed.is_writer()
    single_process = _distributed.process()[1] == 1
    if single_process and not overwrite and out.is_file():
        finished = _store.open_for_resume(out, config.to_json(), overwrite=False)
        if _store.completed_cells(finished) >= set(config.cells()):
            return finished
    if not writer:
        return _train_missing(
            config, out, train_configs, overwrite, True, trainer, on_cell, should_stop, writer,
            saving,
        )  # fmt: skip
    with _store.writable_directory(out), _lock.exclusive_writer(out):
        return _train_missing(
            config, out, train_configs, overwrite, quiet, trainer, on_cell, should_stop, writer,
            saving,
        )  # fmt: skip


def _train_missing(
    config, out, train_configs, overwrite, quiet, trainer, on_cell, should_stop, writer, saving
):
    from toymodels.sweeps import _distributed, _store
    from toymodels.sweeps._devices import train_on_devices
    from toymodels.sweeps._progress import progress_bar

    stored = config.to_json()
    existing = None

    def finished_cells() -> set:
        nonlocal existing
        existing = _store.open_for_resume(out, stored, overwrite=overwrite)
        _store.remove_stale_temporaries(out)
        return _store.completed_cells(existing) if existing is not None else set()

    # Process 0 decides which cells are finished; every process trains the same remaining cells.
    done = _distributed.agreed_cells(finished_cells, config.cells())
    todo = [cell for cell in config.cells() if cell not in done]
    trainer = trainer or default_trainer()
    should_stop = should_stop or (lambda: False)
    saving = saving or contextlib.nullcontext
    ds = existing
    saved = len(done)
    costs = [cell_cost(config, width) for _, width in todo]
    with progress_bar(
        total=math.fsum(costs), cells=len(config.cells()), done=len(done), quiet=quiet
    ) as bar:
        for (init, width), cost in zip(todo, costs, strict=True):
            if should_stop():
                raise SweepStopped(saved, len(config.cells()))
            bar.describe(init, width)
            eta_A, eta_B = config.cell_rates(init, width)
            chunk = runs_per_call(config, width)
            cell_trainer = trainer if chunk is None else partial(trainer, chunk_size=chunk)
            train = partial(train_on_devices, cell_trainer, train_configs[init, width])
            if config.refinement is None:
                result = train(eta_A, eta_B, config.seeds)
                rates = None
            else:
                eta, result = _two_stage_cell(train, eta_A, config)
                rates = (eta, eta)
            if should_stop():  # the cell is abandoned: a stop means now, not after a save
                raise SweepStopped(saved, len(config.cells()))
            if ds is None:
                ds = empty_results(config, sorted(result.metrics))
            ds = _store.with_cell(
                ds, init, width, result.metrics, result.diverged_step, rates=rates
            )
            with saving():
                if writer:
                    if not overwrite or saved > len(done):
                        # the first save of --overwrite replaces the old file; every other checks
                        _store.check_file_config(out, stored)
                    _store.save_atomically(ds, out)
                saved += 1
                if on_cell is not None:
                    on_cell(init, width)
            bar.advance(cost)
    return ds if writer else None


def _two_stage_cell(train, coarse, config: SweepConfig):
    """``(rates [K + M], CellResult)`` of one cell trained on a two-stage grid (``_refine.py``)."""
    import numpy as np
    import xarray as xr

    from toymodels.sweeps._devices import CellResult
    from toymodels.sweeps._losses import loss_at
    from toymodels.sweeps._refine import refine

    refinement = config.refinement

    def losses(runs: CellResult) -> np.ndarray:
        # the summary's own loss (``loss_at``) on this batch of runs: [L, S], +inf if diverged
        values = runs.metrics[refinement.metric]
        batch = xr.Dataset(
            {
                refinement.metric: (("lr", "seed", "step"), values),
                "diverged_step": (("lr", "seed"), runs.diverged_step),
            },
            coords={"step": np.arange(values.shape[-1])},
        )
        return loss_at(batch, refinement.metric, window=refinement.window).values

    def concatenate(parts: list[CellResult]) -> CellResult:
        metrics = {
            name: np.concatenate([p.metrics[name] for p in parts]) for name in parts[0].metrics
        }
        return CellResult(metrics, np.concatenate([p.diverged_step for p in parts]))

    rates, result, _ = refine(
        lambda eta: train(eta, eta, config.seeds),
        coarse,
        refinement,
        losses,
        concatenate=concatenate,
    )
    return rates, result
