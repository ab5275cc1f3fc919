"""Width sweeps: train every (init, width) cell over a learning-rate × seed grid, save as it goes.

A :class:`SweepConfig` is the whole description of a sweep (the results file stores it as its
``config`` attribute, and a rerun must match it to resume). :func:`run_sweep` trains the cells
that are not in the results file yet, one ``train_grid`` call per cell (all L × S runs at once,
sharded across devices when there are several), and saves the file atomically after each cell.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from toymodels.errors import UsageError

#: Dims the learning-rate coordinates may vary over, outermost first; ``lr`` is always present.
RATE_DIMS = ("init", "width", "lr")


def canonical_init(name: str) -> str:
    """``A``, ``B`` or ``AB`` for any accepted spelling (``Init[A]``, ``Init[1]``, ``1``, ...).

    >>> canonical_init("Init[2]")
    'B'
    """
    from toymodels._models import INITS
    from toymodels.train import INIT_ALIASES  # the trainer's spellings: one list of aliases

    init = INIT_ALIASES.get(name.strip(), name.strip())
    if init not in INITS:
        raise UsageError(
            f"unknown init {name!r}; expected A, B or AB (or Init[A], Init[1], 1, Init[B], ...)"
        )
    return init


@dataclasses.dataclass(frozen=True)
class SweepConfig:
    """Everything that determines a sweep's numbers.

    ``eta_A`` and ``eta_B`` are nested tuples over ``rate_dims`` (a suffix-closed subset of
    ``("init", "width", "lr")`` ending in ``lr``): a plain grid shared by every cell has
    ``rate_dims == ("lr",)``. ``train`` holds the remaining ``TrainConfig`` fields (``steps``,
    ``optimizer``, ``rank``, ...), the same for every cell.

    >>> config = SweepConfig.equal_rates(
    ...     experiment="run", model="teacher-student", inits=("A",), widths=(8, 16),
    ...     rates=(1e-3, 1e-2), seeds=(0,), train={"steps": 3, "rank": 2})
    >>> config.cell_rates("A", 16)
    (array([0.001, 0.01 ]), array([0.001, 0.01 ]))
    """

    experiment: str
    model: str
    inits: tuple[str, ...]
    widths: tuple[int, ...]
    seeds: tuple[int, ...]
    rate_dims: tuple[str, ...]
    eta_A: tuple
    eta_B: tuple
    train: Mapping[str, Any]
    preset: str | None = None

    @classmethod
    def equal_rates(cls, *, rates, **fields) -> SweepConfig:
        """A sweep with η_A = η_B over one grid ``rates``, shared by every cell."""
        rates = tuple(float(r) for r in rates)
        return cls(rate_dims=("lr",), eta_A=rates, eta_B=rates, **fields)

    @classmethod
    def scaled_rates(cls, *, rates, scaling: float, widths, **fields) -> SweepConfig:
        """η_A = η_B over the grid ``rates · (n/n₀)^scaling`` at width n (n₀ = the first width).

        >>> config = SweepConfig.scaled_rates(
        ...     experiment="run", model="teacher-student", inits=("A",), widths=(128, 512),
        ...     rates=(1e-2,), scaling=-0.5, seeds=(0,), train={"steps": 3})
        >>> config.cell_rates("A", 512)[0]
        array([0.005])
        """
        widths = tuple(widths)
        if not widths or any(not isinstance(w, int) or w <= 0 for w in widths):
            # validate() names the bad width; build nothing from it
            return cls.equal_rates(rates=rates, widths=widths, **fields)
        table = tuple(
            tuple(float(f"{r * (w / widths[0]) ** scaling:.6g}") for r in rates) for w in widths
        )
        return cls(rate_dims=("width", "lr"), eta_A=table, eta_B=table, widths=widths, **fields)

    def __post_init__(self):
        object.__setattr__(self, "inits", tuple(canonical_init(i) for i in self.inits))
        object.__setattr__(self, "train", dict(self.train))
        validate(self)

    @property
    def steps(self) -> int:
        return int(self.train["steps"])

    @property
    def n_rates(self) -> int:
        return int(np.shape(self.eta_A)[-1])

    def _full(self, rates) -> np.ndarray:
        """The rates broadcast to ``[init, width, lr]``."""
        array = np.asarray(rates, dtype=np.float64)
        for axis, dim in enumerate(RATE_DIMS[:-1]):
            if dim not in self.rate_dims:
                array = np.expand_dims(array, axis)
        shape = (len(self.inits), len(self.widths), array.shape[-1])
        return np.broadcast_to(array, shape)

    def cell_rates(self, init: str, width: int) -> tuple[np.ndarray, np.ndarray]:
        """``(eta_A, eta_B)``, each ``[L]``, of the cell ``(init, width)``."""
        i, w = self.inits.index(init), self.widths.index(width)
        return self._full(self.eta_A)[i, w].copy(), self._full(self.eta_B)[i, w].copy()

    def rate_coords(self):
        """``eta_A`` and ``eta_B`` as DataArrays over ``rate_dims`` (the store's coordinates)."""
        import xarray as xr

        coords = {"init": list(self.inits), "width": list(self.widths)}
        coords = {d: coords[d] for d in self.rate_dims if d != "lr"}
        return tuple(
            xr.DataArray(np.asarray(r, dtype=np.float64), dims=self.rate_dims, coords=coords)
            for r in (self.eta_A, self.eta_B)
        )

    def cells(self) -> list[tuple[str, int]]:
        """Every ``(init, width)`` cell, narrow widths first (results arrive soonest)."""
        return [(init, width) for width in self.widths for init in self.inits]

    def to_json(self) -> dict:
        """The configuration as plain JSON values (stored in the results file)."""
        return {
            "experiment": self.experiment,
            "preset": self.preset,
            "model": self.model,
            "inits": list(self.inits),
            "widths": list(self.widths),
            "seeds": list(self.seeds),
            "rate_dims": list(self.rate_dims),
            "eta_A": np.asarray(self.eta_A, dtype=float).tolist(),
            "eta_B": np.asarray(self.eta_B, dtype=float).tolist(),
            "train": dict(self.train),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SweepConfig:
        """Inverse of :meth:`to_json`."""
        return cls(
            experiment=data["experiment"],
            preset=data.get("preset"),
            model=data["model"],
            inits=tuple(data["inits"]),
            widths=tuple(int(w) for w in data["widths"]),
            seeds=tuple(int(s) for s in data["seeds"]),
            rate_dims=tuple(data["rate_dims"]),
            eta_A=_nested_tuple(data["eta_A"]),
            eta_B=_nested_tuple(data["eta_B"]),
            train=dict(data["train"]),
        )


def _nested_tuple(value):
    return tuple(_nested_tuple(v) for v in value) if isinstance(value, list | tuple) else value


def _duplicates(values) -> list:
    seen, repeated = set(), []
    for value in values:
        if value in seen and value not in repeated:
            repeated.append(value)
        seen.add(value)
    return repeated


def validate(config: SweepConfig) -> None:
    """Raise :class:`UsageError` for a sweep that cannot run, before anything trains."""
    if not config.inits:
        raise UsageError("no initialization given (--inits)")
    if not config.widths:
        raise UsageError("no width given (--widths)")
    for width in config.widths:
        if isinstance(width, bool) or not isinstance(width, int | np.integer) or width <= 0:
            raise UsageError(f"width must be a positive integer, got {width!r}")
    rank = config.train.get("rank")
    if rank is not None and (not isinstance(rank, int) or rank <= 0):
        raise UsageError(f"rank must be a positive integer, got {rank!r}")
    if rank is not None and rank > min(config.widths):
        raise UsageError(
            f"rank {rank} exceeds width {min(config.widths)}: LoRA needs rank <= width"
        )
    steps = config.train.get("steps")
    if not isinstance(steps, int) or isinstance(steps, bool) or steps <= 0:
        raise UsageError(f"steps must be a positive integer, got {steps!r}")
    if not config.seeds:
        raise UsageError("no seed given (--seeds)")
    for name, values in (("init", config.inits), ("width", config.widths)):
        if repeated := _duplicates(values):
            raise UsageError(f"{name} {repeated[0]} is given twice")
    if repeated := _duplicates(config.seeds):
        raise UsageError(f"seed {repeated[0]} is given twice")
    if config.rate_dims[-1:] != ("lr",) or not set(config.rate_dims) <= set(RATE_DIMS):
        raise ValueError(f"rate_dims must end in 'lr' and lie in {RATE_DIMS}: {config.rate_dims}")
    for name, rates in (("eta_A", config.eta_A), ("eta_B", config.eta_B)):
        array = np.asarray(rates, dtype=np.float64)
        if array.size == 0 or array.shape[-1] == 0:
            raise UsageError("the learning-rate grid is empty")
        if not np.all(np.isfinite(array) & (array > 0)):
            bad = array[~(np.isfinite(array) & (array > 0))].flat[0]
            raise UsageError(f"learning rates must be positive and finite, got {name} = {bad:g}")
        expected = tuple(
            {"init": len(config.inits), "width": len(config.widths)}.get(d, array.shape[-1])
            for d in config.rate_dims
        )
        if array.shape != expected:
            raise UsageError(f"{name} has shape {array.shape}; expected {expected}")
    if np.shape(config.eta_A) != np.shape(config.eta_B):
        raise UsageError("eta_A and eta_B grids differ in shape")


def empty_results(config: SweepConfig, metric_names):
    """The results dataset of ``config`` before any cell has run (see ``_store.new_dataset``)."""
    from toymodels import _store

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

    limit = (jax.devices()[0].memory_stats() or {}).get("bytes_limit")
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
    from toymodels.train import train_grid

    return train_grid


def make_train_config(config: SweepConfig, init: str, width: int):
    """The ``TrainConfig`` of one cell."""
    from toymodels.train import TrainConfig

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
    ``toymodels.train.train_grid``; ``on_cell(init, width)`` is called after each cell is saved.
    """
    from toymodels import _store
    from toymodels._devices import train_on_devices
    from toymodels._progress import progress_bar

    out = Path(out)
    # Every cell's TrainConfig validates its options: all of them before anything is touched.
    train_configs = {cell: make_train_config(config, *cell) for cell in config.cells()}
    existing = _store.open_for_resume(out, config.to_json(), overwrite=overwrite)
    _store.remove_stale_temporaries(out)
    done = _store.completed_cells(existing) if existing is not None else set()
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
            _store.save_atomically(ds, out)
            bar.advance(cost)
            if on_cell is not None:
                on_cell(init, width)
    return ds
