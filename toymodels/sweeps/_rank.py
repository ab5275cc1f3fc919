"""Rank sweeps: train every multiplier s × rank r × init × width cell over one equal-rate grid.

The rank r is a second scaling variable (docs/theory.md §12): the LoRA output carries α·r^(−s)
(``TrainConfig.multiplier``), and the calculator predicts how every quantity and every rate scales
with r = Θ(n^κ). A rank sweep trains, for each multiplier s, the ranks of a preset at one fixed
width n (at fixed n a quantity Θ(n^(a + bκ)) scales as r^b) and, for each κ of the preset, r = n^κ
jointly with n (a quantity scales as n^(a + bκ)).

The results file has dims ``multiplier × pair × init × lr × seed × step``, where ``pair`` indexes
the sweep's (rank, width) pairs (coordinates ``rank`` and ``width`` on ``pair``; a cell not run yet
is NaN with ``diverged_step`` −2). It keeps the width store's guarantees with the width store's
functions (``toymodels.sweeps._store``): the configuration is checked on resume and before every
save, every cell is saved atomically before the next one trains, and one writer holds the file's
lock (``_lock.exclusive_writer``). ``completed_cells`` lists ``[s, r, init, n]``.

>>> config = rank_config("linear", "quick")
>>> len(config.cells()), config.cells()[0]
(28, RankCell(multiplier='1/2', rank=1, init='A', width=256))
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable, Mapping
from fractions import Fraction
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

import theory
from toymodels.core import UsageError, canonical_init, multiplier_exponent
from toymodels.sweeps import _checksums, _presets

EXPERIMENT = "rank"


class RankCell(NamedTuple):
    """One cell of a rank sweep: all rates × seeds of one (s, r, init, n)."""

    multiplier: str
    rank: int
    init: str
    width: int


def joint_rank(width: int, kappa: str) -> int:
    """r = n^κ, which must be an integer; :class:`UsageError` otherwise.

    >>> joint_rank(256, "1/4"), joint_rank(1024, "1/2")
    (4, 32)
    """
    k = Fraction(kappa)
    if not 0 <= k < 1:
        raise UsageError(f"κ = {kappa} is outside [0, 1)")
    rank = round(width ** float(k))
    if Fraction(rank) ** k.denominator != Fraction(width) ** k.numerator:
        raise UsageError(f"width {width} has no integer rank n^κ at κ = {kappa}")
    return rank


@dataclasses.dataclass(frozen=True)
class RankSweep:
    """Everything that determines a rank sweep's numbers (stored in its results file)."""

    model: str
    multipliers: tuple[str, ...]
    inits: tuple[str, ...]
    pairs: tuple[tuple[int, int], ...]  # (rank, width), in training order
    rates: tuple[float, ...]
    seeds: tuple[int, ...]
    train: Mapping[str, Any]
    preset: str | None = None
    width: int | None = None  # the fixed width of the rank part
    kappas: Mapping[str, tuple[int, ...]] = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        object.__setattr__(self, "inits", tuple(canonical_init(i) for i in self.inits))
        multipliers = tuple(
            theory.format_exponent(multiplier_exponent(s)) for s in self.multipliers
        )
        object.__setattr__(self, "multipliers", multipliers)
        object.__setattr__(self, "train", dict(self.train))
        if not self.multipliers or not self.inits or not self.seeds:
            raise UsageError("a rank sweep needs multipliers, inits and seeds")
        if not self.pairs:
            raise UsageError("the rank list is empty")
        for what, values in (
            ("multiplier", self.multipliers), ("init", self.inits), ("seed", self.seeds),
            ("(rank, width) pair", self.pairs),
        ):  # fmt: skip
            repeated = next((v for i, v in enumerate(values) if v in values[:i]), None)
            if repeated is not None:
                raise UsageError(f"{what} {repeated} is given twice")
        if len(self.rates) < 3 or not all(0 < r < math.inf for r in self.rates):
            raise UsageError("a rank sweep needs at least 3 positive, finite learning rates")
        if list(self.rates) != sorted(set(self.rates)):
            raise UsageError("the learning rates must be strictly increasing")
        for rank, width in self.pairs:
            if isinstance(width, bool) or not isinstance(width, int) or width < 1:
                raise UsageError(f"width must be an integer >= 1, got {width!r}")
            if isinstance(rank, bool) or not isinstance(rank, int) or rank < 1:
                raise UsageError(f"rank must be an integer >= 1, got {rank!r}")
            if rank > width:
                raise UsageError(f"rank {rank} is larger than width {width}")

    @property
    def ranks(self) -> tuple[int, ...]:
        return tuple(sorted({r for r, _ in self.pairs}))

    @property
    def widths(self) -> tuple[int, ...]:
        return tuple(sorted({n for _, n in self.pairs}))

    @property
    def steps(self) -> int:
        return int(self.train["steps"])

    def cells(self) -> list[RankCell]:
        """Every cell, cheap ones first (small r·n), both inits of a pair together."""
        pairs = sorted(self.pairs, key=lambda p: (p[0] * p[1], p))
        return [
            RankCell(s, r, init, n)
            for s in self.multipliers
            for r, n in pairs
            for init in self.inits
        ]

    def train_config(self, cell: RankCell):
        from toymodels.core import TrainConfig

        return TrainConfig(
            model=self.model,
            width=cell.width,
            rank=cell.rank,
            init=cell.init,
            multiplier=cell.multiplier,
            **self.train,
        )

    def to_json(self) -> dict:
        return json.loads(json.dumps({"experiment": EXPERIMENT, **dataclasses.asdict(self)}))


def rank_config(
    model: str = "teacher-student",
    preset: str = "quick",
    *,
    multipliers=None,
    inits=None,
    ranks=None,
    width: int | None = None,
    seeds=None,
    steps: int | None = None,
) -> RankSweep:
    """The :class:`RankSweep` of a preset (``sweeps._presets.RANK``) with fields overridden.

    ``ranks`` and ``width`` replace the fixed-width part (the joint part r = n^κ is kept unless
    ``ranks`` is given: a custom rank list is a fixed-width sweep).
    """
    p = _presets.get_rank_preset(model, preset)
    width = p.width if width is None else width
    train = dict(p.train)
    if steps is not None:
        train["steps"] = steps
    pairs = [(int(r), width) for r in (p.ranks if ranks is None else ranks)]
    if ranks is not None and not pairs:
        raise UsageError("the rank list is empty")
    # the fit of η against r needs two ranks (a rank below 1: RankSweep names it)
    if ranks is not None and all(int(r) >= 1 for r in ranks) and len(set(ranks)) < 2:
        raise UsageError(f"a rank sweep needs at least 2 different ranks, got {list(ranks)}")
    kappas = {} if ranks is not None else {k: p.joint_widths[k] for k in p.kappas}
    for kappa, widths in kappas.items():
        pairs += [(joint_rank(n, kappa), n) for n in widths]
    return RankSweep(
        model=model,
        multipliers=tuple(multipliers or p.multipliers),
        inits=tuple(inits or p.inits),
        pairs=tuple(dict.fromkeys(pairs)),
        rates=p.rates,
        seeds=tuple(seeds or p.seeds),
        train=train,
        preset=preset,
        width=width,
        kappas=kappas,
    )


# --- The results file ----------------------------------------------------------------------------


def _empty(config: RankSweep, metrics) -> Any:
    import xarray as xr

    from toymodels.sweeps import _store

    coords = {
        "multiplier": np.asarray(config.multipliers, dtype=str),
        "pair": np.arange(len(config.pairs), dtype=np.int32),
        "init": np.asarray(config.inits, dtype=str),
        "lr": np.arange(len(config.rates), dtype=np.int32),
        "seed": np.asarray(config.seeds, dtype=np.int32),
        "step": np.arange(config.steps + 1, dtype=np.int32),
    }
    shape = tuple(len(v) for v in coords.values())
    dims = tuple(coords)
    data = {m: (dims, np.full(shape, np.nan, np.float32)) for m in metrics}
    data["diverged_step"] = (dims[:-1], np.full(shape[:-1], _store.NOT_RUN, np.int32))
    ds = xr.Dataset(data, coords=coords)
    rates = np.asarray(config.rates, dtype=np.float64)
    ranks, widths = (np.asarray(v, dtype=np.int32) for v in zip(*config.pairs, strict=True))
    ds = ds.assign_coords(
        eta_A=("lr", rates), eta_B=("lr", rates), rank=("pair", ranks), width=("pair", widths)
    )
    ds.attrs = {
        "config": json.dumps(config.to_json(), sort_keys=True),
        "versions": json.dumps(_store.package_versions(), sort_keys=True),
        "completed_cells": "[]",
        _checksums.ATTR: "[]",
    }
    return ds


def completed(ds) -> set[RankCell]:
    """The cells whose runs are all in ``ds``."""
    return {RankCell(str(s), int(r), str(i), int(n)) for s, r, i, n in json.loads(
        ds.attrs["completed_cells"]
    )}  # fmt: skip


def _with_cell(ds, cell: RankCell, metrics: Mapping[str, np.ndarray], diverged: np.ndarray):
    ds = ds.copy(deep=True)
    where = {"multiplier": cell.multiplier, "pair": pair_index(ds, cell.rank, cell.width),
             "init": cell.init}  # fmt: skip
    for name in ds.data_vars:
        target = diverged if name == "diverged_step" else metrics[name]
        ds[name].loc[where] = np.asarray(target, dtype=ds[name].dtype)
    done = sorted(list(c) for c in completed(ds) | {cell})
    ds.attrs["completed_cells"] = json.dumps(done)
    return _checksums.seal_cell(ds, where)


def pair_index(ds, rank: int, width: int) -> int:
    """The ``pair`` index of (rank, width) in a rank sweep's dataset."""
    hits = np.flatnonzero((ds["rank"].values == rank) & (ds["width"].values == width))
    if hits.size != 1:
        raise KeyError(f"no cell rank {rank}, width {width} in this rank sweep")
    return int(hits[0])


def cell_cost(cell: RankCell) -> float:
    """A relative cost for the progress bar: a step costs O(N·n·r) per run."""
    return float(cell.width * cell.rank + 64)


def run_rank_sweep(
    config: RankSweep,
    out,
    *,
    overwrite: bool = False,
    quiet: bool = False,
    metrics=None,
    trainer: Callable | None = None,
    should_stop: Callable[[], bool] | None = None,
    on_cell: Callable[[RankCell], None] | None = None,
    saving: Callable | None = None,
):
    """Train every cell of ``config`` not yet in ``out``; return the complete results Dataset.

    ``metrics``: the recorded metrics to keep (default: the train loss and the edge metric of the
    model, Z_B or f); everything else a run records is dropped, so the file stays small.
    ``should_stop()`` is asked before and after each cell's training, as in ``run_sweep``: a yes
    abandons the cell in progress and raises ``SweepStopped`` (the cells saved so far stay saved);
    ``on_cell(cell)`` is called after each cell is saved; ``saving()`` is held around both (as in
    ``run_sweep``).
    """
    import contextlib

    from toymodels.sweeps import _lock, _store
    from toymodels.sweeps._progress import progress_bar
    from toymodels.sweeps._run import SweepStopped

    should_stop = should_stop or (lambda: False)
    saving = saving or contextlib.nullcontext

    out = Path(out)
    train_configs = {cell: config.train_config(cell) for cell in config.cells()}  # validates all
    if metrics is None:
        metrics = ("train_loss", "f" if config.model == "linear" else "Z_B", "dZ_B")
    metrics = tuple(m for m in metrics if m in next(iter(train_configs.values())).metric_names)
    stored = config.to_json()
    with _store.writable_directory(out), _lock.exclusive_writer(out):
        ds = _store.open_for_resume(out, stored, overwrite=overwrite)
        _store.remove_stale_temporaries(out)
        done = completed(ds) if ds is not None else set()
        todo = [cell for cell in config.cells() if cell not in done]
        if ds is None:
            ds = _empty(config, metrics)
        trainer = trainer or _default_trainer()
        saved = 0
        with progress_bar(
            total=math.fsum(cell_cost(c) for c in todo),
            cells=len(config.cells()),
            done=len(done),
            quiet=quiet,
        ) as bar:
            for cell in todo:
                if should_stop():
                    raise SweepStopped(len(done) + saved, len(config.cells()))
                bar.describe(f"{cell.init}, s = {cell.multiplier}, r = {cell.rank}", cell.width)
                rates = np.asarray(config.rates)
                result = trainer(train_configs[cell], rates, rates, np.asarray(config.seeds))
                if should_stop():  # a stop means now, not after a save
                    raise SweepStopped(len(done) + saved, len(config.cells()))
                ds = _with_cell(ds, cell, result.metrics, result.diverged_step)
                with saving():
                    if not overwrite or saved:
                        _store.check_file_config(out, stored)
                    _store.save_atomically(ds, out)
                    saved += 1
                    if on_cell is not None:
                        on_cell(cell)
                bar.advance(cell_cost(cell))
    return ds


def _default_trainer() -> Callable:
    from toymodels.core import train_grid

    return train_grid
